//! Records the store takes and returns beyond the core domain types.

use rampart_core::{OrgId, Role, SessionId, Timestamp, User, UserId};

/// A user to create; `password_hash` is already an argon2id PHC string.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub platform_admin: bool,
    pub password_hash: String,
    pub created_at: Timestamp,
}

/// Fields of a user to change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

/// A user with the password hash, for checking a login.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// A login session: the family of refresh tokens issued from one login.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub id: SessionId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub created_at: Timestamp,
    /// The session ends here however often it is refreshed.
    pub expires_at: Timestamp,
}

/// A refresh token to store, by hash.
#[derive(Clone, Debug)]
pub struct NewRefreshToken {
    pub token_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What presenting a refresh token led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The token was current: it is now used and its successor stored.
    Rotated { session: SessionId, user: User },
    /// The token had been used before: its whole session is now revoked.
    Reused { session: SessionId },
    /// Unknown, expired, revoked, or its user is disabled.
    Invalid,
}

/// Failed-login bookkeeping for one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginThrottle {
    pub failures: i64,
    pub window_start: Timestamp,
    pub locked_until: Option<Timestamp>,
}

impl LoginThrottle {
    /// Failures that still count at `now` (zero once the window has passed).
    pub fn recent_failures(&self, now: Timestamp, policy: &ThrottlePolicy) -> i64 {
        if self.window_start.plus_secs(policy.window_secs) <= now {
            0
        } else {
            self.failures
        }
    }

    /// When the lock ends, if it is locked at `now`.
    pub fn locked_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.locked_until.filter(|until| *until > now)
    }
}

/// When failures lead to a lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures are counted over this many seconds.
    pub window_secs: i64,
    /// This many failures within the window lock the key...
    pub lock_after: i64,
    /// ...for this many seconds.
    pub lock_secs: i64,
}

/// Connections of the pool, for metrics.
#[derive(Clone, Copy, Debug, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}
