//! Background jobs as the API shows them.

use rampart_core::{Job, JobId, JobState, OrgId, Timestamp};
use serde::Serialize;
use serde_json::Value;

/// One job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobView {
    pub id: JobId,
    /// The organisation it works for; absent for the platform's own jobs.
    pub org_id: Option<OrgId>,
    pub queue: String,
    pub kind: String,
    /// Higher runs first.
    pub priority: i32,
    /// When it is due (for a retryable job: its next attempt).
    pub run_at: Timestamp,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub state: JobState,
    pub unique_key: Option<String>,
    /// The worker holding it, while it runs, and until when.
    pub locked_by: Option<String>,
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        JobView {
            id: j.id,
            org_id: j.org_id,
            queue: j.queue,
            kind: j.kind,
            priority: j.priority,
            run_at: j.run_at,
            payload: j.payload,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error,
            state: j.state,
            unique_key: j.unique_key,
            locked_by: j.locked_by,
            locked_until: j.locked_until,
            created_at: j.created_at,
            updated_at: j.updated_at,
            finished_at: j.finished_at,
        }
    }
}
