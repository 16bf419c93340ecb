//! The sealing job: every few minutes, asks the store to index what has
//! finished (on PostgreSQL, the source-address b-tree of each hour partition
//! past its end), off the ingest path.

use std::sync::Arc;
use std::time::Duration;

use rampart_core::Clock;
use rampart_store::Store;

/// How often the job runs.
pub const INTERVAL: Duration = Duration::from_secs(300);

/// Runs the job now and then every [`INTERVAL`], forever.
pub async fn run_forever(store: Arc<dyn Store>, clock: Arc<dyn Clock>) {
    loop {
        if let Err(error) = store.seal_event_storage(clock.now()).await {
            tracing::error!(%error, "sealing run failed");
        }
        tokio::time::sleep(INTERVAL).await;
    }
}
