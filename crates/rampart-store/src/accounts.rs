//! The accounts capability: organisations, users, sessions and refresh
//! tokens, API keys and login throttling. Implemented for both backends
//! by the shared SQL (`shared_sql.rs`).

use async_trait::async_trait;
use rampart_core::{ApiKey, ApiKeyId, OrgId, Organisation, SessionId, Timestamp, User, UserId};

use crate::{
    Credentials, LoginThrottle, NewRefreshToken, NewSession, NewUser, Result, RotateOutcome,
    ThrottlePolicy, UserUpdate,
};

#[async_trait]
pub trait AccountStore: Send + Sync {
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
