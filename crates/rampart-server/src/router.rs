//! The whole application: the API and the web UI under one set of
//! middleware (request ids, tracing, panics caught, header bounds, metrics,
//! bare errors turned into problem documents, body limit).

use axum::http::HeaderName;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::{problem_for_bare_errors, ApiError};
use crate::serve::{MAX_HEADERS, MAX_HEADER_BYTES};
use crate::state::AppState;
use crate::{routes, ui};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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

/// The whole application router.
pub fn router(state: AppState) -> Router {
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
        .merge(routes::api())
        .merge(ui::router(state.clone()))
        .fallback(|| async { ApiError::from_status(axum::http::StatusCode::NOT_FOUND) })
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.max_body_bytes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::limits::enforce,
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
