//! The HTTP routes and the middleware around them.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod events;
pub mod health;
pub mod incidents;
pub mod openapi;
pub mod orgs;
pub mod overview;
pub mod params;
pub mod rules;
pub mod users;
pub mod validation;

use axum::http::HeaderName;
use axum::routing::{get, post};
use axum::Router;

use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::{problem_for_bare_errors, ApiError};
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub use crate::serve::{MAX_HEADERS, MAX_HEADER_BYTES};

/// Refuses requests with too many or too large headers, as a problem
/// document (hyper's own 431, past twice the count, has no body).
async fn bounded_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return axum::response::IntoResponse::into_response(ApiError::new(
            axum::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "send at most {MAX_HEADERS} request headers of at most {MAX_HEADER_BYTES} bytes in all"
            ),
        ));
    }
    next.run(request).await
}

pub use rampart_app::paging::{Page, PageParams, TextCursor};

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(users::me))
        .route("/org", get(orgs::current))
        .route(
            "/org/settings",
            get(orgs::settings).put(orgs::update_settings),
        )
        .route("/orgs", get(orgs::list).post(orgs::create))
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::get).patch(users::update).delete(users::delete),
        )
        .route("/api-keys", get(api_keys::list).post(api_keys::create))
        .route(
            "/api-keys/{id}",
            get(api_keys::get).delete(api_keys::revoke),
        )
        .route("/events", get(events::search).post(events::ingest))
        .route("/events/raw", post(events::ingest_raw))
        .route("/events/stats", get(events::stats))
        .route("/events/{id}", get(events::get))
        .route(
            "/validation-rules",
            get(validation::list).post(validation::create),
        )
        .route(
            "/validation-rules/{id}",
            get(validation::get)
                .put(validation::replace)
                .delete(validation::delete),
        )
        .route("/validation-rules/{id}/counts", get(validation::counts))
        .route("/rules", get(rules::list).post(rules::create))
        .route("/rules/validate", post(rules::validate))
        .route("/rules/test", post(rules::test))
        .route(
            "/rules/{id}",
            get(rules::get).put(rules::replace).delete(rules::delete),
        )
        .route("/rules/{id}/enable", post(rules::enable))
        .route("/rules/{id}/disable", post(rules::disable))
        .route(
            "/detection/field-mapping",
            get(rules::field_mapping).put(rules::replace_field_mapping),
        )
        .route("/incidents", get(incidents::list).post(incidents::create))
        .route(
            "/incidents/{id}",
            get(incidents::get).patch(incidents::update),
        )
        .route("/incidents/{id}/comments", post(incidents::comment))
        .route("/alerts", get(incidents::alerts))
        .route("/audit", get(audit::list))
        .route("/overview", get(overview::get))
        .route("/openapi.json", get(openapi::serve));

    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &axum::http::Request<_>| {
            let request_id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", request_id, method = %request.method(), path = %request.uri().path())
        })
        .on_response(|response: &axum::http::Response<_>, latency: std::time::Duration, _span: &tracing::Span| {
            tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_millis() as u64, "request done");
        });

    Router::new()
        .nest("/api/v1", api)
        .merge(crate::ui::router(state.clone()))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .fallback(|| async { ApiError::from_status(axum::http::StatusCode::NOT_FOUND) })
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.max_body_bytes,
        ))
        .layer(axum::middleware::map_response(problem_for_bare_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            crate::metrics::track,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            axum::response::IntoResponse::into_response(ApiError::from_status(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            ))
        }))
        .layer(axum::middleware::from_fn(bounded_headers))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
