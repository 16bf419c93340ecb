//! Rampart's persistence: one [`Store`] interface, implemented for SQLite
//! (the embedded default) and PostgreSQL (scale-out), with their migrations.
//!
//! Every method that reads or changes an organisation's data takes its
//! [`rampart_core::OrgId`]; the few that do not are authentication look-ups, where the
//! credential itself (e-mail, key hash, refresh-token hash) names the tenant.

mod accounts;
mod accounts_sql;
mod audit_sql;
mod auth_factors_sql;
mod error;
pub mod events;
mod feedback_sql;
mod finding_policy_sql;
mod findings_sql;
mod flags_sql;
mod incidents_sql;
mod intel_sql;
mod jobs_sql;
mod migrations;
mod model;
mod notifications_sql;
mod phishing_sql;
mod postgres;
mod rules_sql;
mod saved_hunts_sql;
mod scan_schedules_sql;
mod scans_sql;
mod settings_sql;
mod shared_sql;
mod sql_backend;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod uploads_sql;
mod validation_sql;
mod watchlists_sql;

use async_trait::async_trait;

pub use accounts::AccountStore;
pub use audit_sql::{AuditQuery, AuditStore};
pub use auth_factors_sql::{AuthFactorStore, Challenge, ChallengeKind, TotpRecord};
pub use error::StoreError;
pub use events::{
    Counted, EventCursor, EventStats, EventStore, PreparedEvents, StatsRequest, ROLLUP_MINUTE_MS,
    ROLLUP_TOP_KEPT, STATS_FIELDS,
};
pub use feedback_sql::{FeedbackQuery, FeedbackStore};
pub use finding_policy_sql::FindingPolicyStore;
pub use findings_sql::{
    AssetQuery, FindingImport, FindingQuery, FindingStore, ImportedFinding, StatusChange,
};
pub use flags_sql::{FlagScope, FlagStore, FlagWrite};
pub use incidents_sql::{
    ApplyChange, AuditChange, Change, IncidentCount, IncidentQuery, IncidentSort, IncidentStore,
    NewAlert, RecordedAlert, ResponseTimes,
};
pub use intel_sql::IntelStore;
pub use jobs_sql::{Enqueued, JobChange, JobQuery, JobScope, JobStore, JobTransition, QueueDepth};
pub use model::{
    Credentials, LoginThrottle, NewRefreshToken, NewSession, NewUser, PoolStats, RotateOutcome,
    ThrottlePolicy, UserUpdate,
};
pub use notifications_sql::{DeliveryAttempt, DeliveryQuery, NotificationStore};
pub use phishing_sql::{PhishingQuery, PhishingStore, Submitted};
pub use postgres::PostgresStore;
pub use rules_sql::{RuleHits, RuleStore, RulesVersion, StoredFieldMapping};
pub use saved_hunts_sql::{HuntRun, SavedHuntStore};
pub use scan_schedules_sql::ScanScheduleStore;
pub use scans_sql::{ScanOutcome, ScanStore};
pub use settings_sql::SettingsStore;
pub use sqlite::SqliteStore;
pub use uploads_sql::UploadStore;
pub use validation_sql::{CountDelta, ValidationStore};
pub use watchlists_sql::{LiveWatchlist, WatchlistImport, WatchlistQuery, WatchlistStore};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Opens the store a database URL names: `postgres://…` or `sqlite://PATH`.
/// Migrations are not run; call [`Store::migrate`].
pub async fn connect(database_url: &str) -> Result<std::sync::Arc<dyn Store>> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(
            PostgresStore::connect(database_url).await?,
        ))
    } else if let Some(path) = database_url.strip_prefix("sqlite://") {
        Ok(std::sync::Arc::new(
            SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    } else {
        Err(StoreError::InvalidUrl(database_url_scheme(database_url)))
    }
}

fn database_url_scheme(url: &str) -> String {
    // Never echo a whole URL: it may carry a password.
    url.split("://")
        .next()
        .unwrap_or_default()
        .chars()
        .take(20)
        .collect()
}

/// The persistence interface the server is written against.
#[async_trait]
pub trait Store:
    AccountStore
    + EventStore
    + ValidationStore
    + SettingsStore
    + RuleStore
    + IncidentStore
    + AuditStore
    + JobStore
    + FlagStore
    + FeedbackStore
    + NotificationStore
    + AuthFactorStore
    + FindingStore
    + IntelStore
    + FindingPolicyStore
    + ScanStore
    + ScanScheduleStore
    + SavedHuntStore
    + UploadStore
    + WatchlistStore
    + PhishingStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;

    // ---- lifecycle -------------------------------------------------------
    /// Applies every migration not yet applied.
    async fn migrate(&self) -> Result<()>;
    /// True when every migration this build knows has been applied.
    async fn migrations_current(&self) -> Result<bool>;
    /// Round-trips a trivial query.
    async fn ping(&self) -> Result<()>;
    fn pool_stats(&self) -> PoolStats;
    /// Waits for connections in use to be returned, then closes them all.
    async fn close(&self);
}
