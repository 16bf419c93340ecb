//! What every handler and service shares.

use std::sync::Arc;

use rampart_core::Clock;
use rampart_store::Store;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::ingest::writer::{EventWriter, WriterHandle};
use crate::ingest::Admission;
use crate::metrics::Metrics;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    /// Accounts, sessions and keys (the store and clock below).
    pub accounts: crate::service::accounts::Accounts,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub jwt: JwtKeys,
    pub config: Config,
    pub metrics: Metrics,
    /// An argon2id hash of a random password, verified against when the
    /// account does not exist so both cases take the same time.
    pub dummy_password_hash: String,
    /// The group-commit event writer.
    pub events: EventWriter,
    /// Bounds the ingest requests in progress.
    pub admission: Admission,
    /// Validation rule sets and their tallies.
    pub validation: crate::service::validation::Validation,
    /// Compiled detection rules and correlation state per organisation.
    pub detection: crate::service::detection::Detection,
    /// Stops the writer at shutdown (taken once).
    pub writer_handle: std::sync::Mutex<Option<WriterHandle>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
