//! The sealing job: every few minutes, asks the store to index what has
//! finished (on PostgreSQL, the source-address b-tree of each hour partition
//! past its end), off the ingest path.

use std::time::Duration;

use crate::state::AppState;

/// How often the job runs.
pub const INTERVAL: Duration = Duration::from_secs(300);

/// Runs the job once at the state's clock time (tests call this directly);
/// returns how many partitions were indexed.
pub async fn run_once(state: &AppState) -> Result<usize, rampart_store::StoreError> {
    state.store.seal_event_storage(state.clock.now()).await
}

/// Runs the job now and then every [`INTERVAL`], forever.
pub async fn run_forever(state: AppState) {
    loop {
        if let Err(error) = run_once(&state).await {
            tracing::error!(%error, "sealing run failed");
        }
        tokio::time::sleep(INTERVAL).await;
    }
}
