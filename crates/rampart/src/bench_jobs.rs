//! `rampart bench jobs`: the job queue's throughput with no-op handlers
//! (enqueue rate, then jobs completed per second by the real workers) and
//! the latency of one claim, on a fresh SQLite database or a PostgreSQL
//! schema the caller provides.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rampart_app::jobs::handler::{Handlers, Noop};
use rampart_app::jobs::{JobsConfig, WorkerPool};
use rampart_core::{Clock, JobState, NewJob, SystemClock, Timestamp};
use rampart_store::{JobQuery, JobScope, Store};
use serde_json::json;

use crate::percentile::percentile;

const QUEUE: &str = "bench";
const ENQUEUE_BATCH: usize = 1000;

pub struct JobsBench {
    pub jobs: usize,
    pub concurrency: usize,
    pub nodes: usize,
    pub database_url: Option<String>,
}

pub async fn run(bench: JobsBench) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("rampart-bench-jobs-{}", std::process::id()));
    let url = match &bench.database_url {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&dir)?;
            format!("sqlite://{}", dir.join("rampart.db").display())
        }
    };
    let store = rampart_store::connect(&url)
        .await
        .context("opening the store")?;
    store.migrate().await.context("migrating")?;
    println!(
        "{} no-op jobs on {}, {} node(s) × {} at once",
        bench.jobs,
        store.backend().as_str(),
        bench.nodes,
        bench.concurrency
    );
    let result = measure(&store, &bench).await;
    store.close().await;
    if bench.database_url.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn measure(store: &Arc<dyn Store>, bench: &JobsBench) -> anyhow::Result<()> {
    let clock = SystemClock;
    let started = Instant::now();
    let mut left = bench.jobs;
    while left > 0 {
        let n = left.min(ENQUEUE_BATCH);
        let now = clock.now();
        let jobs: Vec<NewJob> = (0..n)
            .map(|i| NewJob {
                priority: (i % 3) as i32,
                ..NewJob::new(None, QUEUE, "noop", json!({}), now)
            })
            .collect();
        store.enqueue_jobs(&jobs, now).await?;
        left -= n;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "enqueued in {secs:.2} s: {:.0} jobs/s (batches of {ENQUEUE_BATCH}, one transaction each)",
        bench.jobs as f64 / secs
    );

    // Claim latency over a full table: one job per claim, 200 claims.
    let mut claims = Vec::new();
    for _ in 0..200 {
        let now = clock.now();
        let at = Instant::now();
        let got = store
            .claim_jobs(QUEUE, "probe", now, Timestamp(now.0 + 60_000), 1)
            .await?;
        claims.push(at.elapsed().as_secs_f64() * 1000.0);
        let ids: Vec<_> = got.iter().map(|j| j.id).collect();
        store.complete_jobs("probe", &ids, clock.now()).await?;
    }
    claims.sort_by(f64::total_cmp);
    println!(
        "claim of one job with {} ready: p50 {:.2} ms, p99 {:.2} ms",
        bench.jobs,
        percentile(&claims, 0.5),
        percentile(&claims, 0.99)
    );

    let config = JobsConfig {
        queues: BTreeMap::from([(QUEUE.to_owned(), bench.concurrency)]),
        poll_ms: 5,
        ..JobsConfig::default()
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let mut nodes = Vec::new();
    for _ in 0..bench.nodes.max(1) {
        let pool = WorkerPool::new(
            store.clone(),
            Arc::new(SystemClock),
            Handlers::default().with("noop", Noop),
            vec![],
            config.clone(),
            None,
        );
        nodes.push(tokio::spawn(pool.run(stopped.clone())));
    }
    let pending = JobQuery {
        states: vec![JobState::Available, JobState::Running, JobState::Retryable],
        queue: Some(QUEUE.into()),
        limit: 1,
        ..JobQuery::default()
    };
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if store
            .list_jobs(JobScope::Platform, &pending)
            .await?
            .is_empty()
        {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    for node in nodes {
        let _ = node.await;
    }
    let done = bench.jobs.saturating_sub(200);
    println!(
        "completed {done} jobs in {secs:.2} s: {:.0} jobs/s",
        done as f64 / secs
    );
    Ok(())
}
