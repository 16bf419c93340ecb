//! Background jobs: what is queued, the states a job passes through, and
//! how long a failed job waits before its next attempt (exponential backoff
//! with full jitter).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{JobId, OrgId, Timestamp};

/// Attempts a job gets unless it asks for another number.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;
/// Most attempts a job may ask for.
pub const MAX_ATTEMPTS_LIMIT: i32 = 100;
/// Longest queue name, kind and unique key.
pub const MAX_NAME_LEN: usize = 200;
/// Most a stored error message keeps (longer ones are cut).
pub const MAX_ERROR_LEN: usize = 2000;

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its `run_at`, or to be claimed.
    Available,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Failed; runs again at `run_at`.
    Retryable,
    Completed,
    /// Failed its last attempt (the dead-letter queue).
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 6] = [
        JobState::Available,
        JobState::Running,
        JobState::Retryable,
        JobState::Completed,
        JobState::Dead,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Available => "available",
            JobState::Running => "running",
            JobState::Retryable => "retryable",
            JobState::Completed => "completed",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<JobState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Still to run (or running): the states a unique key guards.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            JobState::Available | JobState::Running | JobState::Retryable
        )
    }
}

/// A job to enqueue.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    /// The organisation it works for; none for platform work.
    pub org_id: Option<OrgId>,
    pub queue: String,
    /// Which handler runs it.
    pub kind: String,
    /// Higher runs first.
    pub priority: i32,
    pub run_at: Timestamp,
    pub payload: serde_json::Value,
    pub max_attempts: i32,
    /// While a job with this key is pending, another is not enqueued.
    pub unique_key: Option<String>,
}

impl NewJob {
    /// A job of `kind` on `queue`, to run at `now`, with default priority
    /// and attempts.
    pub fn new(
        org_id: Option<OrgId>,
        queue: &str,
        kind: &str,
        payload: serde_json::Value,
        now: Timestamp,
    ) -> NewJob {
        NewJob {
            org_id,
            queue: queue.to_owned(),
            kind: kind.to_owned(),
            priority: 0,
            run_at: now,
            payload,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            unique_key: None,
        }
    }

    /// What is wrong with it, if anything: `(field, reason)`.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let name_ok = |text: &str| !text.trim().is_empty() && text.len() <= MAX_NAME_LEN;
        if !name_ok(&self.queue) {
            return Some(("queue", format!("must be 1 to {MAX_NAME_LEN} bytes")));
        }
        if !name_ok(&self.kind) {
            return Some(("kind", format!("must be 1 to {MAX_NAME_LEN} bytes")));
        }
        if self.unique_key.as_deref().is_some_and(|k| !name_ok(k)) {
            return Some(("unique_key", format!("must be 1 to {MAX_NAME_LEN} bytes")));
        }
        if !(1..=MAX_ATTEMPTS_LIMIT).contains(&self.max_attempts) {
            return Some((
                "max_attempts",
                format!("must be between 1 and {MAX_ATTEMPTS_LIMIT}"),
            ));
        }
        None
    }
}

/// A stored job.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub org_id: Option<OrgId>,
    pub queue: String,
    pub kind: String,
    pub priority: i32,
    pub run_at: Timestamp,
    pub payload: serde_json::Value,
    /// Attempts begun (a claim counts one).
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub state: JobState,
    pub unique_key: Option<String>,
    /// The worker holding it, and until when, while running.
    pub locked_by: Option<String>,
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// How long a job waits after failing attempt `attempt` (1 for the first):
/// "full jitter" exponential backoff, a random share (`jitter`, in [0, 1))
/// of `base · 2^(attempt-1)`, capped at `cap`. With a base of 30 s and a cap
/// of 6 h, 8 attempts spread over about a day at most.
pub fn backoff(attempt: i32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(0);
    let ceiling = base.saturating_mul(1u32 << exponent).min(cap);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0))
}

/// Cuts an error message to what is stored.
pub fn stored_error(message: &str) -> String {
    if message.len() <= MAX_ERROR_LEN {
        return message.to_owned();
    }
    let mut end = MAX_ERROR_LEN;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_its_cap_and_jitters() {
        let (base, cap) = (Duration::from_secs(30), Duration::from_secs(6 * 3600));
        assert_eq!(backoff(1, base, cap, 1.0), Duration::from_secs(30));
        assert_eq!(backoff(2, base, cap, 1.0), Duration::from_secs(60));
        assert_eq!(backoff(5, base, cap, 1.0), Duration::from_secs(480));
        assert_eq!(backoff(20, base, cap, 1.0), cap);
        assert_eq!(backoff(1000, base, cap, 0.5), cap / 2);
        assert_eq!(backoff(3, base, cap, 0.0), Duration::ZERO);
        assert_eq!(backoff(0, base, cap, 1.0), base);
        // Eight attempts at the ceiling add up to about a day at most.
        let most: Duration = (1..8).map(|a| backoff(a, base, cap, 1.0)).sum();
        assert!(most < Duration::from_secs(30 * 3600), "{most:?}");
    }

    #[test]
    fn states_read_back_and_new_jobs_are_checked() {
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
        }
        let now = Timestamp(0);
        let ok = NewJob::new(None, "default", "noop", serde_json::json!({}), now);
        assert_eq!(ok.problem(), None);
        let bad = NewJob {
            max_attempts: 0,
            ..ok.clone()
        };
        assert_eq!(bad.problem().map(|p| p.0), Some("max_attempts"));
        let bad = NewJob {
            queue: " ".into(),
            ..ok
        };
        assert_eq!(bad.problem().map(|p| p.0), Some("queue"));
        assert_eq!(
            stored_error(&"é".repeat(MAX_ERROR_LEN)).len(),
            MAX_ERROR_LEN + 3
        );
    }
}
