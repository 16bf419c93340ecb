//! `/api/v1/phishing`: raw e-mail sent in for phishing analysis, the
//! analyses, the organisation's phishing settings, and the one step from a
//! message's indicators to the watchlist.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rampart_app::api::phishing::{
    PhishingMessageView, PhishingReport, PhishingSettings, PhishingSubmitted,
};
use rampart_app::api::watchlists::WatchlistImportReply;
use rampart_app::phishing::PhishingFilter;
use rampart_core::phishing::{PhishSource, PhishStatus};
use rampart_core::PhishingMessageId;
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, PathId, Principal};
use crate::routes::{Page, PageParams};
use crate::state::AppState;

/// How a message is sent in.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubmitParams {
    /// `reported` (a user's report: analysed first; the default) or `bulk`
    /// (analysts: analysed after reports).
    pub source: Option<PhishSource>,
}

/// Send a raw message (RFC 5322, `.eml`, up to 25 MiB) in for analysis.
/// The same message (by SHA-256) is analysed once: sending it again
/// answers 200 with the first one.
#[utoipa::path(post, path = "/api/v1/phishing/messages", tag = "phishing", security(("bearer" = [])), params(SubmitParams),
    request_body(content = String, content_type = "message/rfc822", description = "the raw message"),
    responses((status = 202, body = PhishingSubmitted, description = "queued for analysis"),
        (status = 200, body = PhishingSubmitted, description = "sent in before"),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem)))]
pub async fn submit(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<SubmitParams>,
    body: Bytes,
) -> Result<(StatusCode, Json<PhishingSubmitted>), ApiError> {
    let source = params.source.unwrap_or(PhishSource::Reported);
    let submitted = state.phishing.submit(&principal, &body, source).await?;
    let status = if submitted.duplicate {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(submitted)))
}

/// Which messages a listing selects.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `clean`, `suspicious`, `phishing` or `simulation`.
    pub verdict: Option<String>,
    pub status: Option<PhishStatus>,
    /// At most this many items (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(format = Uuid)]
    pub cursor: Option<String>,
}

/// Messages sent in, newest first.
#[utoipa::path(get, path = "/api/v1/phishing/messages", tag = "phishing", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Page<PhishingMessageView>), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Page<PhishingMessageView>>, ApiError> {
    let filter = PhishingFilter {
        verdict: params.verdict,
        status: params.status,
    };
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    Ok(Json(state.phishing.list(&principal, &filter, &page).await?))
}

/// A message and its analysis: score, verdict, weighted reasons with
/// evidence, indicators, and the message's text and links as text.
#[utoipa::path(get, path = "/api/v1/phishing/messages/{id}", tag = "phishing", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = PhishingReport), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<PhishingMessageId>,
) -> Result<Json<PhishingReport>, ApiError> {
    Ok(Json(state.phishing.get(&principal, id).await?))
}

/// The message as sent in, to download (analysts).
#[utoipa::path(get, path = "/api/v1/phishing/messages/{id}/raw", tag = "phishing", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "message/rfc822", body = String), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn raw(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<PhishingMessageId>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let raw = state.phishing.raw(&principal, id).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "message/rfc822".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.eml\""),
            ),
        ],
        raw,
    )
        .into_response())
}

/// Add the message's indicators to the watchlist (analysts): sender and
/// Reply-To addresses, links, addresses and attachment hashes, tagged
/// `phishing`, expiring in 90 days.
#[utoipa::path(post, path = "/api/v1/phishing/messages/{id}/watchlist", tag = "phishing", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = WatchlistImportReply), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "not analysed yet")))]
pub async fn add_to_watchlist(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<PhishingMessageId>,
) -> Result<Json<WatchlistImportReply>, ApiError> {
    Ok(Json(state.phishing.add_to_watchlist(&principal, id).await?))
}

#[utoipa::path(get, path = "/api/v1/phishing/settings", tag = "phishing", security(("bearer" = [])),
    responses((status = 200, body = PhishingSettings)))]
pub async fn settings(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<PhishingSettings>, ApiError> {
    Ok(Json(state.phishing.settings(&principal).await?))
}

/// Replace the organisation's phishing settings (admins; audited).
#[utoipa::path(put, path = "/api/v1/phishing/settings", tag = "phishing", security(("bearer" = [])),
    request_body = PhishingSettings,
    responses((status = 200, body = PhishingSettings), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn set_settings(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(settings): ApiJson<PhishingSettings>,
) -> Result<Json<PhishingSettings>, ApiError> {
    Ok(Json(
        state.phishing.set_settings(&principal, settings).await?,
    ))
}
