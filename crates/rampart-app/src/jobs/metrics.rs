//! The job queue's metrics, in the node's Prometheus registry: attempts
//! finished per queue and outcome (counted by this node's workers), and
//! the depth of every queue per state with the age of its oldest ready job
//! (read from the store, so every node reports the whole queue).

use prometheus::{GaugeVec, IntCounterVec, IntGaugeVec, Opts, Registry};
use rampart_core::{JobState, Timestamp};
use rampart_store::QueueDepth;

#[derive(Clone)]
pub struct JobMetrics {
    attempts: IntCounterVec,
    depth: IntGaugeVec,
    oldest_ready: GaugeVec,
}

impl JobMetrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let attempts = IntCounterVec::new(
            Opts::new(
                "job_attempts_total",
                "Job attempts finished by this node, by queue and outcome (completed, retry, dead)",
            ),
            &["queue", "outcome"],
        )?;
        let depth = IntGaugeVec::new(
            Opts::new("jobs", "Jobs by queue and state (all nodes)"),
            &["queue", "state"],
        )?;
        let oldest_ready = GaugeVec::new(
            Opts::new(
                "job_oldest_ready_seconds",
                "How long the oldest ready job of each queue has waited",
            ),
            &["queue"],
        )?;
        registry.register(Box::new(attempts.clone()))?;
        registry.register(Box::new(depth.clone()))?;
        registry.register(Box::new(oldest_ready.clone()))?;
        Ok(Self {
            attempts,
            depth,
            oldest_ready,
        })
    }

    pub fn attempt(&self, queue: &str, outcome: &str) {
        self.attempts.with_label_values(&[queue, outcome]).inc();
    }

    /// Sets the depth gauges from a reading of the store at `now`.
    pub fn record_depths(&self, depths: &[QueueDepth], now: Timestamp) {
        self.depth.reset();
        self.oldest_ready.reset();
        for depth in depths {
            self.depth
                .with_label_values(&[depth.queue.as_str(), depth.state.as_str()])
                .set(depth.count);
        }
        let mut oldest: std::collections::HashMap<&str, i64> = Default::default();
        for depth in depths {
            if matches!(depth.state, JobState::Available | JobState::Retryable) {
                if let Some(at) = depth.oldest_run_at {
                    let waited = (now.0 - at.0).max(0);
                    let slot = oldest.entry(depth.queue.as_str()).or_default();
                    *slot = (*slot).max(waited);
                }
            }
        }
        for (queue, waited_ms) in oldest {
            self.oldest_ready
                .with_label_values(&[queue])
                .set(waited_ms as f64 / 1000.0);
        }
    }
}
