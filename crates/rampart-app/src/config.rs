//! The services' settings (read by the server's one config struct): how
//! sessions and tokens last, and how failed logins are throttled.

/// How failed logins are slowed down and then refused.
#[derive(Clone, Debug)]
pub struct LoginPolicy {
    /// Failures are counted over this window.
    pub window_secs: i64,
    /// Failures for one account within the window before it is refused...
    pub account_lock_after: i64,
    /// ...and for one client IP (higher: many users may share an address).
    pub ip_lock_after: i64,
    /// How long a refusal lasts.
    pub lock_secs: i64,
    /// Failures after which each further attempt is delayed...
    pub slowdown_after: i64,
    /// ...by this much per failure beyond it...
    pub slowdown_step_ms: u64,
    /// ...up to this much.
    pub slowdown_max_ms: u64,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            window_secs: 900,
            account_lock_after: 10,
            ip_lock_after: 50,
            lock_secs: 900,
            slowdown_after: 3,
            slowdown_step_ms: 250,
            slowdown_max_ms: 2000,
        }
    }
}

/// How long tokens and sessions last, and the login throttling policy.
#[derive(Clone, Debug)]
pub struct SessionPolicy {
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub session_max_age_secs: i64,
    pub login: LoginPolicy,
}
