//! What runs a job: a [`JobHandler`] per job kind, and how an attempt can
//! fail (to be retried, or for good).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use rampart_core::Job;

/// Why an attempt failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobFailure {
    /// Worth another attempt (after a backoff), while attempts remain.
    Retry(String),
    /// No attempt can succeed (a malformed payload, say): dead at once.
    Permanent(String),
}

impl JobFailure {
    /// A failure worth retrying, from any error (a store call, a connection).
    pub fn retry(error: impl std::fmt::Display) -> JobFailure {
        JobFailure::Retry(error.to_string())
    }

    pub fn message(&self) -> &str {
        match self {
            JobFailure::Retry(m) | JobFailure::Permanent(m) => m,
        }
    }
}

/// Runs attempts of one kind of job. Jobs run at least once: a worker that
/// dies mid-attempt leaves the job to run again after its lease, so a
/// handler must be idempotent.
#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn run(&self, job: &Job) -> Result<(), JobFailure>;
}

/// The handlers of a node, by job kind.
#[derive(Clone, Default)]
pub struct Handlers(HashMap<String, Arc<dyn JobHandler>>);

impl Handlers {
    pub fn with(mut self, kind: &str, handler: impl JobHandler + 'static) -> Self {
        self.0.insert(kind.to_owned(), Arc::new(handler));
        self
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.0.get(kind).cloned()
    }
}

/// `noop`: does nothing (benchmarks, and checks that workers run), or
/// sleeps `{"sleep_ms": n}` first (tests that stop a worker mid-job).
pub struct Noop;

#[async_trait]
impl JobHandler for Noop {
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        if let Some(ms) = job.payload.get("sleep_ms").and_then(|v| v.as_u64()) {
            tokio::time::sleep(std::time::Duration::from_millis(ms.min(600_000))).await;
        }
        Ok(())
    }
}
