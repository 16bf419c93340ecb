//! Rate limits by route class and key: sign-in attempts per client
//! address, API reads and writes per user or API key, ingested events per
//! second per organisation. GCRA ([`rampart_core::rate_limit`]) kept
//! in-process, or in Redis (one Lua script per check) so that every node
//! shares the count; if Redis cannot be reached a node falls back to its
//! own count rather than refusing or waving everything through.

pub mod memory;
pub mod metrics;
pub mod redis_store;

use std::sync::Arc;

use rampart_core::rate_limit::{gcra, Decision, Mode, Quota};
use rampart_core::Clock;
use serde::Deserialize;

use memory::MemoryLimits;
use metrics::LimitMetrics;
use redis_store::RedisLimits;

/// A class of requests with its own quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Sign-in, token refresh, one-time codes: per client address.
    Login,
    /// API reads: per user or API key.
    Read,
    /// API writes (not ingest): per user or API key.
    Write,
    /// Events ingested: per organisation, counted in events.
    Ingest,
}

impl Policy {
    pub const ALL: [Policy; 4] = [Policy::Login, Policy::Read, Policy::Write, Policy::Ingest];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Login => "login",
            Policy::Read => "read",
            Policy::Write => "write",
            Policy::Ingest => "ingest",
        }
    }
}

/// `[rate_limits]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitsConfig {
    pub enabled: bool,
    /// Where the counts live in Redis (nodes sharing one Redis for
    /// different installations give each its own).
    pub redis_key_prefix: String,
    pub login: Quota,
    pub read: Quota,
    pub write: Quota,
    pub ingest: Quota,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        RateLimitsConfig {
            enabled: true,
            redis_key_prefix: "rampart:rl".into(),
            login: Quota {
                limit: 60,
                period_secs: 60,
                burst: 30,
            },
            read: Quota {
                limit: 100,
                period_secs: 1,
                burst: 1000,
            },
            write: Quota {
                limit: 20,
                period_secs: 1,
                burst: 200,
            },
            ingest: Quota {
                limit: 1_000_000,
                period_secs: 1,
                burst: 2_000_000,
            },
        }
    }
}

impl RateLimitsConfig {
    pub fn quota(&self, policy: Policy) -> &Quota {
        match policy {
            Policy::Login => &self.login,
            Policy::Read => &self.read,
            Policy::Write => &self.write,
            Policy::Ingest => &self.ingest,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        for policy in Policy::ALL {
            if let Some(problem) = self.quota(policy).problem() {
                return Err(format!("rate_limits.{}: {problem}", policy.name()));
            }
        }
        Ok(())
    }
}

/// A checked request: its policy's quota and what was decided.
#[derive(Clone, Copy, Debug)]
pub struct Checked {
    pub policy: Policy,
    pub quota: Quota,
    pub decision: Decision,
}

/// The node's rate limiter.
pub struct RateLimiter {
    config: RateLimitsConfig,
    clock: Arc<dyn Clock>,
    memory: MemoryLimits,
    redis: Option<RedisLimits>,
    metrics: Option<LimitMetrics>,
}

impl RateLimiter {
    /// A limiter counting in-process, or in Redis when `redis` is given.
    pub fn new(
        config: RateLimitsConfig,
        clock: Arc<dyn Clock>,
        redis: Option<RedisLimits>,
        metrics: Option<LimitMetrics>,
    ) -> Self {
        RateLimiter {
            config,
            clock,
            memory: MemoryLimits::default(),
            redis,
            metrics,
        }
    }

    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// Spends `cost` of `key`'s quota if it allows; `None` when limits are
    /// off.
    pub async fn check(&self, policy: Policy, key: &str, cost: u64) -> Option<Checked> {
        self.apply(policy, key, cost, Mode::Check).await
    }

    /// Spends `cost` whatever the quota says (work already done): later
    /// checks wait for the debt.
    pub async fn charge(&self, policy: Policy, key: &str, cost: u64) -> Option<Checked> {
        self.apply(policy, key, cost, Mode::Charge).await
    }

    async fn apply(&self, policy: Policy, key: &str, cost: u64, mode: Mode) -> Option<Checked> {
        if !self.config.enabled {
            return None;
        }
        let quota = *self.config.quota(policy);
        let decision = match &self.redis {
            Some(redis) => match redis.apply(policy, key, &quota, cost, mode).await {
                Ok(decision) => decision,
                Err(error) => {
                    if let Some(m) = &self.metrics {
                        m.backend_error();
                    }
                    tracing::warn!(%error, "rate limit store unreachable; counting on this node");
                    self.local(policy, key, &quota, cost, mode)
                }
            },
            None => self.local(policy, key, &quota, cost, mode),
        };
        if let Some(m) = &self.metrics {
            m.decided(policy, decision.allowed);
        }
        Some(Checked {
            policy,
            quota,
            decision,
        })
    }

    fn local(&self, policy: Policy, key: &str, quota: &Quota, cost: u64, mode: Mode) -> Decision {
        let now_ns = self.clock.now().0.saturating_mul(1_000_000);
        self.memory.update(policy, key, now_ns, |tat| {
            gcra(tat, now_ns, quota, cost, mode)
        })
    }
}
