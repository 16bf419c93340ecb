//! Rampart's persistence: one [`Store`] interface, implemented for SQLite
//! (the embedded default) and PostgreSQL (scale-out), with their migrations.
//!
//! Every method that reads or changes an organisation's data takes its
//! [`OrgId`]; the few that do not are authentication look-ups, where the
//! credential itself (e-mail, key hash, refresh-token hash) names the tenant.

mod audit_sql;
mod error;
pub mod events;
mod incidents_sql;
mod migrations;
mod model;
mod postgres;
mod rules_sql;
mod settings_sql;
mod shared_sql;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod validation_sql;

use async_trait::async_trait;
use rampart_core::{ApiKey, ApiKeyId, OrgId, Organisation, SessionId, Timestamp, User, UserId};

pub use audit_sql::{AuditQuery, AuditStore};
pub use error::StoreError;
pub use events::{EventCursor, EventStats, EventStore, PreparedEvents, StatsRequest, STATS_FIELDS};
pub use incidents_sql::{
    ApplyChange, AuditChange, Change, IncidentQuery, IncidentSort, IncidentStore, NewAlert,
    RecordedAlert,
};
pub use model::{
    Credentials, LoginThrottle, NewRefreshToken, NewSession, NewUser, PoolStats, RotateOutcome,
    ThrottlePolicy, UserUpdate,
};
pub use postgres::PostgresStore;
pub use rules_sql::{RuleHits, RuleStore, RulesVersion, StoredFieldMapping};
pub use settings_sql::SettingsStore;
pub use sqlite::SqliteStore;
pub use validation_sql::{CountDelta, ValidationStore};

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
    EventStore
    + ValidationStore
    + SettingsStore
    + RuleStore
    + IncidentStore
    + AuditStore
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

    // ---- organisations (platform level) ---------------------------------
    /// Creates an organisation together with its first admin, atomically.
    async fn create_org_with_admin(&self, org: &Organisation, admin: &NewUser) -> Result<()>;
    async fn count_orgs(&self) -> Result<i64>;
    async fn list_orgs(&self, after: Option<OrgId>, limit: u32) -> Result<Vec<Organisation>>;
    async fn get_org(&self, org: OrgId) -> Result<Option<Organisation>>;

    // ---- users -----------------------------------------------------------
    async fn create_user(&self, org: OrgId, user: &NewUser) -> Result<()>;
    async fn get_user(&self, org: OrgId, id: UserId) -> Result<Option<User>>;
    async fn get_user_by_email(&self, org: OrgId, email: &str) -> Result<Option<User>>;
    async fn list_users(&self, org: OrgId, after: Option<UserId>, limit: u32) -> Result<Vec<User>>;
    async fn update_user(
        &self,
        org: OrgId,
        id: UserId,
        update: &UserUpdate,
        now: Timestamp,
    ) -> Result<Option<User>>;
    /// Deletes the user; the API keys it made stop working (creator deleted).
    async fn delete_user(&self, org: OrgId, id: UserId, now: Timestamp) -> Result<bool>;
    /// Active (not disabled) admins of the organisation.
    async fn count_active_admins(&self, org: OrgId) -> Result<i64>;
    /// Authentication look-up by e-mail (e-mail addresses are unique platform-wide).
    async fn find_credentials(&self, email: &str) -> Result<Option<Credentials>>;

    // ---- login sessions and refresh tokens --------------------------------
    async fn create_session(&self, session: &NewSession, token: &NewRefreshToken) -> Result<()>;
    /// Exchanges a refresh token for its successor. A token presented twice
    /// revokes its whole session (family).
    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: &NewRefreshToken,
        now: Timestamp,
    ) -> Result<RotateOutcome>;
    async fn revoke_session(&self, org: OrgId, session: SessionId, now: Timestamp) -> Result<bool>;
    async fn revoke_user_sessions(&self, org: OrgId, user: UserId, now: Timestamp) -> Result<u64>;
    /// The user behind a live session, if the session is neither revoked nor
    /// expired and the user is enabled.
    async fn session_user(
        &self,
        org: OrgId,
        session: SessionId,
        user: UserId,
        now: Timestamp,
    ) -> Result<Option<User>>;

    // ---- API keys ----------------------------------------------------------
    async fn create_api_key(&self, org: OrgId, key: &ApiKey, key_hash: &str) -> Result<()>;
    async fn list_api_keys(
        &self,
        org: OrgId,
        after: Option<ApiKeyId>,
        limit: u32,
    ) -> Result<Vec<ApiKey>>;
    async fn get_api_key(&self, org: OrgId, id: ApiKeyId) -> Result<Option<ApiKey>>;
    async fn revoke_api_key(
        &self,
        org: OrgId,
        id: ApiKeyId,
        now: Timestamp,
    ) -> Result<Option<ApiKey>>;
    /// Authentication look-up by the key's hash.
    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKey>>;
    /// Records use of a key; writes at most once per `granularity_secs`.
    async fn touch_api_key(
        &self,
        org: OrgId,
        id: ApiKeyId,
        now: Timestamp,
        granularity_secs: i64,
    ) -> Result<()>;

    // ---- login throttling (keys like "account:…" and "ip:…") ---------------
    async fn login_throttle(&self, key: &str) -> Result<Option<LoginThrottle>>;
    async fn record_login_failure(
        &self,
        key: &str,
        now: Timestamp,
        policy: &ThrottlePolicy,
    ) -> Result<LoginThrottle>;
    async fn clear_login_failures(&self, key: &str) -> Result<()>;
}
