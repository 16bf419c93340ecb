//! Logging in, refreshing, logging out, and authenticating requests; failed
//! logins are slowed down and then refused per account and per client IP.

use std::net::IpAddr;
use std::time::Duration;

use rampart_core::{SessionId, Timestamp, User};
use rampart_store::{NewRefreshToken, NewSession, RotateOutcome, ThrottlePolicy};
use secrecy::SecretString;
use serde::Serialize;

use crate::auth::{password, tokens};
use crate::error::ApiError;
use crate::extract::{Actor, Principal};
use crate::state::AppState;

/// The tokens a login or refresh hands out.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// How often an API key's last-used time is written.
const API_KEY_TOUCH_SECS: i64 = 60;

const INVALID_LOGIN: &str = "invalid e-mail or password";

pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn account_key(email: &str) -> String {
    format!("account:{email}")
}

fn ip_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

/// Checks e-mail and password and opens a session. The answer never tells
/// whether the account exists.
pub async fn login(
    state: &AppState,
    email: &str,
    password: SecretString,
    client: IpAddr,
) -> Result<TokenPair, ApiError> {
    let email = normalise_email(email);
    let policy = &state.config.login;
    let keys = [
        (account_key(&email), policy.account_lock_after),
        (ip_key(client), policy.ip_lock_after),
    ];
    let now = state.clock.now();

    let mut recent_failures = 0;
    for (key, lock_after) in &keys {
        if let Some(throttle) = state.store.login_throttle(key).await? {
            if let Some(until) = throttle.locked_at(now) {
                return Err(ApiError::too_many_requests(
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

    let credentials = state.store.find_credentials(&email).await?;
    let (hash, user) = match credentials {
        Some(c) => (c.password_hash, Some(c.user)),
        None => (state.dummy_password_hash.clone(), None),
    };
    let password_ok = password::verify(password, hash).await?;
    let user = match user {
        Some(user) if password_ok && !user.disabled => user,
        _ => {
            for (key, lock_after) in &keys {
                state
                    .store
                    .record_login_failure(key, now, &store_policy(policy, *lock_after))
                    .await?;
            }
            tracing::info!(%client, "failed login");
            return Err(ApiError::unauthorized("invalid_credentials", INVALID_LOGIN));
        }
    };
    state.store.clear_login_failures(&keys[0].0).await?;
    let tokens = open_session(state, &user, now).await?;
    tracing::info!(user_id = %user.id, org_id = %user.org_id, "login");
    Ok(tokens)
}

fn store_policy(policy: &crate::config::LoginPolicy, lock_after: i64) -> ThrottlePolicy {
    ThrottlePolicy {
        window_secs: policy.window_secs,
        lock_after,
        lock_secs: policy.lock_secs,
    }
}

async fn open_session(
    state: &AppState,
    user: &User,
    now: Timestamp,
) -> Result<TokenPair, ApiError> {
    let session = NewSession {
        id: SessionId::new(),
        org_id: user.org_id,
        user_id: user.id,
        created_at: now,
        expires_at: now.plus_secs(state.config.session_max_age_secs),
    };
    let refresh = tokens::generate(tokens::REFRESH_TOKEN_PREFIX);
    state
        .store
        .create_session(&session, &refresh_record(state, &refresh, now))
        .await?;
    token_pair(state, user, session.id, refresh, now)
}

fn refresh_record(state: &AppState, refresh: &str, now: Timestamp) -> NewRefreshToken {
    NewRefreshToken {
        token_hash: tokens::digest(refresh),
        created_at: now,
        expires_at: now.plus_secs(state.config.refresh_token_ttl_secs),
    }
}

fn token_pair(
    state: &AppState,
    user: &User,
    session: SessionId,
    refresh_token: String,
    now: Timestamp,
) -> Result<TokenPair, ApiError> {
    let ttl = state.config.access_token_ttl_secs;
    let access_token = state
        .jwt
        .issue(user.id, user.org_id, session, now, ttl)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ttl,
    })
}

/// Exchanges a refresh token for a new pair. Presenting a token that was
/// already exchanged revokes the whole session: someone else has a copy.
pub async fn refresh(state: &AppState, refresh_token: &str) -> Result<TokenPair, ApiError> {
    let now = state.clock.now();
    let next = tokens::generate(tokens::REFRESH_TOKEN_PREFIX);
    let outcome = state
        .store
        .rotate_refresh_token(
            &tokens::digest(refresh_token),
            &refresh_record(state, &next, now),
            now,
        )
        .await?;
    match outcome {
        RotateOutcome::Rotated { session, user } => token_pair(state, &user, session, next, now),
        RotateOutcome::Reused { session } => {
            tracing::warn!(session_id = %session, "refresh token reused; session revoked");
            Err(ApiError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; the session has been revoked, log in again",
            ))
        }
        RotateOutcome::Invalid => Err(ApiError::unauthorized(
            "invalid_refresh_token",
            "the refresh token is unknown, expired or revoked",
        )),
    }
}

/// Ends the caller's session: its refresh tokens and access tokens stop working.
pub async fn logout(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    match &principal.actor {
        Actor::User { session, .. } => {
            state
                .store
                .revoke_session(principal.org_id, *session, state.clock.now())
                .await?;
            Ok(())
        }
        Actor::ApiKey { .. } => Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "not_a_session",
            "API keys have no session; revoke the key instead",
        )),
    }
}

/// Resolves a bearer credential (API key or access token) to a principal.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let now = state.clock.now();
    let invalid = || {
        ApiError::unauthorized(
            "invalid_credentials",
            "the token or API key is invalid, expired or revoked",
        )
    };
    if token.starts_with(tokens::API_KEY_PREFIX) {
        let key = state
            .store
            .find_api_key(&tokens::digest(token))
            .await?
            .filter(|k| k.is_active())
            .ok_or_else(invalid)?;
        // The row we just read says whether the last-used time is stale, so
        // most requests skip the write (on SQLite a write takes the one lock).
        let stale = key
            .last_used_at
            .is_none_or(|t| t.plus_secs(API_KEY_TOUCH_SECS) <= now);
        if stale {
            state
                .store
                .touch_api_key(key.org_id, key.id, now, API_KEY_TOUCH_SECS)
                .await?;
        }
        return Ok(Principal {
            org_id: key.org_id,
            actor: Actor::ApiKey { key },
        });
    }
    let claims = state.jwt.verify(token, now).ok_or_else(invalid)?;
    let user = state
        .store
        .session_user(claims.org, claims.sid, claims.sub, now)
        .await?
        .ok_or_else(invalid)?;
    Ok(Principal {
        org_id: user.org_id,
        actor: Actor::User {
            user,
            session: claims.sid,
        },
    })
}
