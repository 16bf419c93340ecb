//! Event retention: removes events older than the retention period of
//! each organisation (its own setting, or `ingest.retention_days`) and lets
//! the backend drop whole expired partitions. The job queue runs it on a
//! schedule (`events.retention`, `[jobs] retention_cron`), once across nodes.

use std::collections::HashMap;

use rampart_core::{OrgId, Timestamp};

use rampart_store::Store;

const DAY_MS: i64 = 86_400_000;

/// What one run removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RetentionRun {
    pub organisations: usize,
    pub events_removed: u64,
}

/// Runs the job once at `now`; `default_days` applies to organisations
/// without their own setting.
pub async fn run_once(
    store: &dyn Store,
    now: Timestamp,
    default_days: i64,
) -> Result<RetentionRun, rampart_store::StoreError> {
    let overrides: HashMap<OrgId, i64> = store.retention_overrides().await?.into_iter().collect();
    let cutoff_for = |days: i64| Timestamp(now.0.saturating_sub(days.saturating_mul(DAY_MS)));
    // Whole partitions may go once they are past everyone's retention.
    let longest = overrides.values().copied().fold(default_days, i64::max);
    let mut run = RetentionRun::default();
    let mut after: Option<OrgId> = None;
    loop {
        let orgs = store.list_orgs(after, 1000).await?;
        let Some(last) = orgs.last() else { break };
        after = Some(last.id);
        for org in &orgs {
            let days = overrides.get(&org.id).copied().unwrap_or(default_days);
            run.events_removed += store.delete_events_before(org.id, cutoff_for(days)).await?;
            run.organisations += 1;
        }
    }
    store
        .maintain_event_storage(now, cutoff_for(longest))
        .await?;
    if run.events_removed > 0 {
        tracing::info!(removed = run.events_removed, "expired events removed");
    }
    Ok(run)
}
