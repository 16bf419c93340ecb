//! `rampart bench limits`: the cost of one rate limit check, in-process
//! (the default) and in Redis (`--redis-url`): each check timed alone,
//! from `--tasks` concurrent tasks over `--keys` keys, with a quota no
//! check exceeds (the common case) and one that refuses most (a flood).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use rampart_app::limits::redis_store::RedisLimits;
use rampart_app::limits::{Policy, RateLimiter, RateLimitsConfig};
use rampart_core::rate_limit::Quota;
use rampart_core::SystemClock;

use crate::percentile::percentile;

pub async fn run(
    checks: usize,
    keys: usize,
    tasks: usize,
    redis_url: Option<String>,
) -> anyhow::Result<()> {
    let generous = Quota {
        limit: 1_000_000_000,
        period_secs: 1,
        burst: 1_000_000_000,
    };
    let flood = Quota {
        limit: 10,
        period_secs: 1,
        burst: 10,
    };
    for (shape, quota) in [("allowed", generous), ("flood", flood)] {
        let config = RateLimitsConfig {
            read: quota,
            redis_key_prefix: format!("rampart-bench:{}", std::process::id()),
            ..RateLimitsConfig::default()
        };
        let redis = match &redis_url {
            Some(url) => Some(
                RedisLimits::connect(url, &config.redis_key_prefix)
                    .await
                    .context("connecting to Redis")?,
            ),
            None => None,
        };
        let backend = if redis.is_some() {
            "redis"
        } else {
            "in-process"
        };
        let limiter = Arc::new(RateLimiter::new(config, Arc::new(SystemClock), redis, None));
        let per_task = checks.div_ceil(tasks.max(1));
        let started = Instant::now();
        let mut handles = Vec::new();
        for task in 0..tasks.max(1) {
            let limiter = limiter.clone();
            handles.push(tokio::spawn(async move {
                let mut timings = Vec::with_capacity(per_task);
                let mut limited = 0usize;
                for n in 0..per_task {
                    let key = format!("user:{}", (task * per_task + n) % keys.max(1));
                    let t = Instant::now();
                    let checked = limiter.check(Policy::Read, &key, 1).await;
                    timings.push(t.elapsed().as_nanos() as f64 / 1000.0);
                    limited += usize::from(checked.is_some_and(|c| !c.decision.allowed));
                }
                (timings, limited)
            }));
        }
        let mut timings = Vec::with_capacity(checks);
        let mut limited = 0;
        for handle in handles {
            let (t, l) = handle.await?;
            timings.extend(t);
            limited += l;
        }
        let elapsed = started.elapsed().as_secs_f64();
        timings.sort_by(f64::total_cmp);
        println!(
            "{backend:>10} {shape:>7}: {} checks over {keys} keys from {tasks} tasks in {elapsed:.2} s ({:.0} checks/s), {limited} limited; per check p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
            timings.len(),
            timings.len() as f64 / elapsed,
            percentile(&timings, 0.50),
            percentile(&timings, 0.99),
            percentile(&timings, 0.999),
            timings.last().copied().unwrap_or(0.0),
        );
    }
    Ok(())
}
