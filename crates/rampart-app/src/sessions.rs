//! Logging in, refreshing, logging out, and authenticating requests; failed
//! logins are slowed down and then refused per account and per client IP.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use rampart_core::{ApiKey, Clock, Error, ErrorKind, SessionId, Timestamp, User};

use crate::cache::{Cache, CacheMetrics, Invalidator};
use rampart_store::{NewRefreshToken, NewSession, RotateOutcome, Store, ThrottlePolicy};
use secrecy::SecretString;

use crate::accounts::normalise_email;
use crate::api::accounts::{LoginReply, MfaEnrollmentRequired, MfaRequired, TokenPair};
use crate::auth::jwt::JwtKeys;
use crate::auth::{password, tokens};
use crate::config::{LoginPolicy, SessionPolicy};
use crate::principal::{Actor, Principal};

/// How often an API key's last-used time is written.
const API_KEY_TOUCH_SECS: i64 = 60;

const INVALID_LOGIN: &str = "invalid e-mail or password";
const MFA_TOKEN_PREFIX: &str = "mfa_";
/// How long and how many codes the second step of a login allows.
const MFA_TTL_SECS: i64 = 300;
const MFA_TRIES: i32 = 5;
/// Setting up an authenticator while signing in takes longer than typing
/// a code.
const ENROLL_TTL_SECS: i64 = 900;

fn account_key(email: &str) -> String {
    format!("account:{email}")
}

fn ip_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

pub use crate::cache::{API_KEY_CACHE, SESSION_CACHE};

/// What authentication caches: API keys by digest, and the user of each
/// live session.
pub struct AuthCaches {
    pub api_keys: Arc<Cache<String, ApiKey>>,
    pub sessions: Arc<Cache<String, User>>,
}

impl AuthCaches {
    /// Caches for `ttl` (zero: none), registered with the invalidator.
    pub fn new(ttl: Duration, metrics: Option<CacheMetrics>, invalidator: &Invalidator) -> Self {
        let caches = AuthCaches {
            api_keys: Arc::new(Cache::new(API_KEY_CACHE, ttl, 100_000, metrics.clone())),
            sessions: Arc::new(Cache::new(SESSION_CACHE, ttl, 100_000, metrics)),
        };
        invalidator.register(caches.api_keys.clone());
        invalidator.register(caches.sessions.clone());
        caches
    }
}

/// Sessions and credentials: what logging in and authenticating need.
pub struct Sessions {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    jwt: JwtKeys,
    policy: SessionPolicy,
    caches: AuthCaches,
    invalidator: Invalidator,
    /// An argon2id hash of a random password, verified against when the
    /// account does not exist so both cases take the same time.
    dummy_password_hash: String,
}

impl Sessions {
    /// The service; hashes a random password once (for unknown accounts).
    pub async fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        jwt: JwtKeys,
        policy: SessionPolicy,
        caches: AuthCaches,
        invalidator: Invalidator,
    ) -> Result<Self, Error> {
        let dummy = SecretString::from(tokens::generate_password());
        Ok(Self {
            dummy_password_hash: password::hash(dummy).await?,
            store,
            clock,
            jwt,
            policy,
            caches,
            invalidator,
        })
    }

    /// Checks e-mail and password and opens a session. The answer never tells
    /// whether the account exists.
    pub async fn login(
        &self,
        email: &str,
        password: SecretString,
        client: IpAddr,
    ) -> Result<LoginReply, Error> {
        let email = normalise_email(email);
        let policy = &self.policy.login;
        let keys = [
            (account_key(&email), policy.account_lock_after),
            (ip_key(client), policy.ip_lock_after),
        ];
        let now = self.clock.now();

        let mut recent_failures = 0;
        for (key, lock_after) in &keys {
            if let Some(throttle) = self.store.login_throttle(key).await? {
                if let Some(until) = throttle.locked_at(now) {
                    return Err(Error::too_many_requests(
                        "too many failed logins; try again later",
                        now.secs_until(until),
                    ));
                }
                recent_failures = recent_failures
                    .max(throttle.recent_failures(now, &store_policy(policy, *lock_after)));
            }
        }
        if recent_failures >= policy.slowdown_after {
            let steps = u64::try_from(recent_failures - policy.slowdown_after + 1).unwrap_or(0);
            let delay = (policy.slowdown_step_ms.saturating_mul(steps)).min(policy.slowdown_max_ms);
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }

        let credentials = self.store.find_credentials(&email).await?;
        let (hash, user) = match credentials {
            Some(c) => (c.password_hash, Some(c.user)),
            None => (self.dummy_password_hash.clone(), None),
        };
        let password_ok = password::verify(password, hash).await?;
        let user = match user {
            Some(user) if password_ok && !user.disabled => user,
            _ => {
                for (key, lock_after) in &keys {
                    self.store
                        .record_login_failure(key, now, &store_policy(policy, *lock_after))
                        .await?;
                }
                tracing::info!(%client, "failed login");
                return Err(Error::unauthorized("invalid_credentials", INVALID_LOGIN));
            }
        };
        self.store.clear_login_failures(&keys[0].0).await?;
        tracing::info!(user_id = %user.id, org_id = %user.org_id, "login");
        self.after_first_factor(&user, now).await
    }

    /// After a first factor (a password, an e-mailed code): a session, the
    /// second step when the user has an authenticator, or setting one up
    /// when the organisation requires two factors and the user has none.
    pub async fn after_first_factor(
        &self,
        user: &User,
        now: Timestamp,
    ) -> Result<LoginReply, Error> {
        let has_authenticator = self
            .store
            .get_totp(user.org_id, user.id)
            .await?
            .is_some_and(|r| r.enabled);
        if has_authenticator {
            let mfa_token = self.second_step(user, now, MFA_TTL_SECS).await?;
            return Ok(LoginReply::MfaRequired(MfaRequired {
                mfa_required: true,
                mfa_token,
                expires_in: MFA_TTL_SECS,
            }));
        }
        if self.store.requires_mfa(user.org_id).await? {
            let mfa_token = self.second_step(user, now, ENROLL_TTL_SECS).await?;
            tracing::info!(user_id = %user.id, "sign-in waits for a second factor to be set up");
            return Ok(LoginReply::MfaEnrollmentRequired(MfaEnrollmentRequired {
                mfa_enrollment_required: true,
                mfa_token,
                expires_in: ENROLL_TTL_SECS,
            }));
        }
        Ok(LoginReply::Tokens(self.issue(user, now).await?))
    }

    /// A token for the second step of a sign-in (stored as a digest).
    async fn second_step(&self, user: &User, now: Timestamp, ttl: i64) -> Result<String, Error> {
        let token = tokens::generate(MFA_TOKEN_PREFIX);
        let challenge = rampart_store::Challenge {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: user.org_id,
            user_id: user.id,
            kind: rampart_store::ChallengeKind::Mfa,
            secret_hash: tokens::digest(&token),
            attempts: 0,
            max_attempts: MFA_TRIES,
            expires_at: now.plus_secs(ttl),
            used_at: None,
            created_at: now,
        };
        self.store.create_challenge(&challenge).await?;
        Ok(token)
    }

    /// Opens a session for a user whose factors were all checked.
    pub async fn issue(&self, user: &User, now: Timestamp) -> Result<TokenPair, Error> {
        self.open_session(user, now).await
    }

    async fn open_session(&self, user: &User, now: Timestamp) -> Result<TokenPair, Error> {
        let session = NewSession {
            id: SessionId::new(),
            org_id: user.org_id,
            user_id: user.id,
            created_at: now,
            expires_at: now.plus_secs(self.policy.session_max_age_secs),
        };
        let refresh = tokens::generate(tokens::REFRESH_TOKEN_PREFIX);
        self.store
            .create_session(&session, &self.refresh_record(&refresh, now))
            .await?;
        self.token_pair(user, session.id, refresh, now)
    }

    fn refresh_record(&self, refresh: &str, now: Timestamp) -> NewRefreshToken {
        NewRefreshToken {
            token_hash: tokens::digest(refresh),
            created_at: now,
            expires_at: now.plus_secs(self.policy.refresh_token_ttl_secs),
        }
    }

    fn token_pair(
        &self,
        user: &User,
        session: SessionId,
        refresh_token: String,
        now: Timestamp,
    ) -> Result<TokenPair, Error> {
        let ttl = self.policy.access_token_ttl_secs;
        let access_token = self
            .jwt
            .issue(user.id, user.org_id, session, now, ttl)
            .map_err(|e| Error::internal(&e))?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            token_type: "Bearer",
            expires_in: ttl,
        })
    }

    /// Exchanges a refresh token for a new pair. Presenting a token that was
    /// already exchanged revokes the whole session: someone else has a copy.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, Error> {
        let now = self.clock.now();
        let next = tokens::generate(tokens::REFRESH_TOKEN_PREFIX);
        let outcome = self
            .store
            .rotate_refresh_token(
                &tokens::digest(refresh_token),
                &self.refresh_record(&next, now),
                now,
            )
            .await?;
        match outcome {
            RotateOutcome::Rotated { session, user } => self.token_pair(&user, session, next, now),
            RotateOutcome::Reused { session } => {
                tracing::warn!(session_id = %session, "refresh token reused; session revoked");
                self.invalidator
                    .invalidate(SESSION_CACHE, Some(&session.to_string()));
                Err(Error::unauthorized(
                    "refresh_token_reused",
                    "this refresh token was already used; the session has been revoked, log in again",
                ))
            }
            RotateOutcome::Invalid => Err(Error::unauthorized(
                "invalid_refresh_token",
                "the refresh token is unknown, expired or revoked",
            )),
        }
    }

    /// Ends the caller's session: its refresh tokens and access tokens stop working.
    pub async fn logout(&self, principal: &Principal) -> Result<(), Error> {
        match &principal.actor {
            Actor::User { session, .. } => {
                self.store
                    .revoke_session(principal.org_id, *session, self.clock.now())
                    .await?;
                self.invalidator
                    .invalidate(SESSION_CACHE, Some(&session.to_string()));
                Ok(())
            }
            Actor::ApiKey { .. } => Err(Error::new(
                ErrorKind::Forbidden,
                "not_a_session",
                "API keys have no session; revoke the key instead",
            )),
        }
    }

    /// Resolves a bearer credential (API key or access token) to a principal.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, Error> {
        let now = self.clock.now();
        let invalid = || {
            Error::unauthorized(
                "invalid_credentials",
                "the token or API key is invalid, expired or revoked",
            )
        };
        if token.starts_with(tokens::API_KEY_PREFIX) {
            let digest = tokens::digest(token);
            let key = match self.caches.api_keys.get(&digest) {
                Some(key) => key,
                None => {
                    let key = self
                        .store
                        .find_api_key(&digest)
                        .await?
                        .filter(|k| k.is_active())
                        .ok_or_else(invalid)?;
                    self.caches.api_keys.put(digest.clone(), key.clone());
                    key
                }
            };
            // The row we just read says whether the last-used time is stale, so
            // most requests skip the write (on SQLite a write takes the one lock).
            let stale = key
                .last_used_at
                .is_none_or(|t| t.plus_secs(API_KEY_TOUCH_SECS) <= now);
            if stale {
                self.store
                    .touch_api_key(key.org_id, key.id, now, API_KEY_TOUCH_SECS)
                    .await?;
                let touched = ApiKey {
                    last_used_at: Some(now),
                    ..key.clone()
                };
                self.caches.api_keys.put(digest, touched);
            }
            return Ok(Principal {
                org_id: key.org_id,
                actor: Actor::ApiKey { key },
            });
        }
        let claims = self.jwt.verify(token, now).ok_or_else(invalid)?;
        let session_key = claims.sid.to_string();
        let cached = self
            .caches
            .sessions
            .get(&session_key)
            .filter(|u| u.id == claims.sub && u.org_id == claims.org);
        let user = match cached {
            Some(user) => user,
            None => {
                let user = self
                    .store
                    .session_user(claims.org, claims.sid, claims.sub, now)
                    .await?
                    .ok_or_else(invalid)?;
                self.caches.sessions.put(session_key, user.clone());
                user
            }
        };
        Ok(Principal {
            org_id: user.org_id,
            actor: Actor::User {
                user,
                session: claims.sid,
            },
        })
    }
}

fn store_policy(policy: &LoginPolicy, lock_after: i64) -> ThrottlePolicy {
    ThrottlePolicy {
        window_secs: policy.window_secs,
        lock_after,
        lock_secs: policy.lock_secs,
    }
}
