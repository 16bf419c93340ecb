//! Rate limits at the edge. A middleware checks sign-in routes per client
//! address and leaves a slot in the request that the `Principal` extractor
//! fills (API reads and writes per user or API key, ingest per
//! organisation); on the way out the slot's decision becomes the
//! `RateLimit-Policy` and `RateLimit` headers (IETF httpapi draft). A
//! refused request is a 429 problem document with `Retry-After`.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rampart_app::limits::{Checked, Policy};
use rampart_app::Principal;
use rampart_core::Error;

use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::state::AppState;

/// The decision of this request, for its response headers.
#[derive(Clone, Default)]
pub struct LimitSlot(Arc<Mutex<Option<Checked>>>);

impl LimitSlot {
    pub fn set(&self, checked: Checked) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(checked);
    }

    fn take(&self) -> Option<Checked> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// Routes that try credentials: limited per client address.
fn is_sign_in(method: &Method, path: &str) -> bool {
    method == Method::POST
        && matches!(
            path,
            "/login"
                | "/login/code"
                | "/login/mfa"
                | "/login/enroll"
                | "/forgot-password"
                | "/reset-password"
                | "/api/v1/auth/login"
                | "/api/v1/auth/refresh"
                | "/api/v1/auth/otp/request"
                | "/api/v1/auth/otp/verify"
                | "/api/v1/auth/mfa"
                | "/api/v1/auth/mfa/enroll"
                | "/api/v1/auth/mfa/enroll/confirm"
                | "/api/v1/auth/password/forgot"
                | "/api/v1/auth/password/reset"
        )
}

/// An address as a key: IPv6 clients by their /64 (one subscriber's
/// network), so that rotating addresses within it gains nothing.
fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The refusal of a request over its limit.
fn refused(checked: &Checked) -> ApiError {
    let secs = i64::try_from(checked.decision.retry_after_secs).unwrap_or(i64::MAX);
    ApiError::from(Error::too_many_requests(
        format!(
            "over the {} rate limit; retry in {secs} s",
            checked.policy.name()
        ),
        secs,
    ))
}

fn write_headers(headers: &mut HeaderMap, checked: &Checked) {
    let quota = &checked.quota;
    // The burst, refilled over this many seconds.
    let window = (u128::from(quota.burst) * u128::from(quota.period_secs))
        .div_ceil(u128::from(quota.limit.max(1)))
        .max(1);
    let name = checked.policy.name();
    let policy = format!("\"{name}\";q={};w={window}", quota.burst);
    let state = format!(
        "\"{name}\";r={};t={}",
        checked.decision.remaining, checked.decision.reset_secs
    );
    for (header, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header, value);
        }
    }
}

/// The middleware: checks sign-in attempts, leaves the slot, writes the
/// headers.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.limits.enabled() {
        return next.run(request).await;
    }
    let slot = LimitSlot::default();
    let (mut parts, body) = request.into_parts();
    if is_sign_in(&parts.method, parts.uri.path()) {
        let ip = match ClientIp::from_request_parts(&mut parts, &state).await {
            Ok(ClientIp(ip)) => ip,
            Err(error) => return error.into_response(),
        };
        if let Some(checked) = state.limits.check(Policy::Login, &address_key(ip), 1).await {
            if !checked.decision.allowed {
                let mut response = refused(&checked).into_response();
                write_headers(response.headers_mut(), &checked);
                return response;
            }
            slot.set(checked);
        }
    }
    parts.extensions.insert(slot.clone());
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(checked) = slot.take() {
        write_headers(response.headers_mut(), &checked);
    }
    response
}

/// Whether a request stores events (limited per organisation by events).
fn is_ingest(method: &Method, path: &str) -> bool {
    method == Method::POST && matches!(path, "/api/v1/events" | "/api/v1/events/raw")
}

/// The key of a caller's own limits.
fn caller_key(principal: &Principal) -> String {
    match &principal.actor {
        rampart_app::Actor::User { user, .. } => format!("user:{}", user.id),
        rampart_app::Actor::ApiKey { key } => format!("key:{}", key.id),
    }
}

/// Checks an authenticated API request: reads and writes per caller;
/// ingest per organisation (its events are charged once counted, see
/// [`charge_ingest`]; here the organisation must not be in debt).
pub async fn check_caller(
    parts: &axum::http::request::Parts,
    state: &AppState,
    principal: &Principal,
) -> Result<(), ApiError> {
    let Some(slot) = parts.extensions.get::<LimitSlot>() else {
        return Ok(());
    };
    // Inside the nested API router the path has lost its prefix.
    let path = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| parts.uri.path(), |uri| uri.0.path());
    let (policy, key, cost) = if is_ingest(&parts.method, path) {
        (Policy::Ingest, principal.org_id.to_string(), 0)
    } else if parts.method == Method::GET || parts.method == Method::HEAD {
        (Policy::Read, caller_key(principal), 1)
    } else {
        (Policy::Write, caller_key(principal), 1)
    };
    let Some(checked) = state.limits.check(policy, &key, cost).await else {
        return Ok(());
    };
    slot.set(checked);
    if checked.decision.allowed {
        Ok(())
    } else {
        Err(refused(&checked))
    }
}

/// Charges an organisation's ingest quota with the events just accepted;
/// its next request waits if this ran it into debt.
pub async fn charge_ingest(
    state: &AppState,
    slot: Option<&LimitSlot>,
    principal: &Principal,
    events: u64,
) {
    if let Some(checked) = state
        .limits
        .charge(Policy::Ingest, &principal.org_id.to_string(), events)
        .await
    {
        if let Some(slot) = slot {
            slot.set(checked);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_key_by_host_or_ipv6_network() {
        let key = |s: &str| address_key(s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])));
        assert_eq!(key("198.51.100.7"), "198.51.100.7");
        assert_eq!(key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64");
        assert_eq!(key("::ffff:198.51.100.7"), "198.51.100.7");
    }
}
