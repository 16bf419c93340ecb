//! The retention job: removes events older than the retention period of
//! each organisation (its own setting, or `ingest.retention_days`) and lets the backend drop whole expired partitions.

use std::collections::HashMap;
use std::time::Duration;

use rampart_core::{OrgId, Timestamp};

use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;
/// How often the job runs.
pub const INTERVAL: Duration = Duration::from_secs(3600);

/// What one run removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RetentionRun {
    pub organisations: usize,
    pub events_removed: u64,
}

/// Runs the job once at the state's clock time (tests call this directly).
pub async fn run_once(state: &AppState) -> Result<RetentionRun, rampart_store::StoreError> {
    let now = state.clock.now();
    let default_days = state.config.ingest.retention_days;
    let overrides: HashMap<OrgId, i64> = state
        .store
        .retention_overrides()
        .await?
        .into_iter()
        .collect();
    let cutoff_for = |days: i64| Timestamp(now.0.saturating_sub(days.saturating_mul(DAY_MS)));
    // Whole partitions may go once they are past everyone's retention.
    let longest = overrides.values().copied().fold(default_days, i64::max);
    let mut run = RetentionRun::default();
    let mut after: Option<OrgId> = None;
    loop {
        let orgs = state.store.list_orgs(after, 1000).await?;
        let Some(last) = orgs.last() else { break };
        after = Some(last.id);
        for org in &orgs {
            let days = overrides.get(&org.id).copied().unwrap_or(default_days);
            run.events_removed += state
                .store
                .delete_events_before(org.id, cutoff_for(days))
                .await?;
            run.organisations += 1;
        }
    }
    state
        .store
        .maintain_event_storage(now, cutoff_for(longest))
        .await?;
    if run.events_removed > 0 {
        tracing::info!(removed = run.events_removed, "expired events removed");
    }
    Ok(run)
}

/// Runs the job now and then every [`INTERVAL`], forever.
pub async fn run_forever(state: AppState) {
    loop {
        if let Err(error) = run_once(&state).await {
            tracing::error!(%error, "retention run failed");
        }
        tokio::time::sleep(INTERVAL).await;
    }
}
