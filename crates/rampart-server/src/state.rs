//! What the handlers share: the services (each owning what it needs), the
//! ingest pipeline, and the edge's own settings and metrics. Handlers call
//! one service; nothing below the edge sees this struct.

use std::sync::Arc;

use rampart_app::Services;
use rampart_ingest::Ingest;
use rampart_store::Store;

use crate::config::Config;
use crate::metrics::Metrics;

/// Shared state of the HTTP edge; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub services: Services,
    /// The ingest pipeline every source feeds.
    pub ingest: Ingest,
    /// For health checks, pool statistics and event searches.
    pub store: Arc<dyn Store>,
    pub config: Config,
    pub metrics: Metrics,
    /// Rate limits of every route class (in Redis when configured).
    pub limits: Arc<rampart_app::limits::RateLimiter>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::ops::Deref for Inner {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.services
    }
}
