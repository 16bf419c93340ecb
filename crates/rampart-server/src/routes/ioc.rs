//! `/api/v1/ioc`: indicators of compromise in pasted text.

use axum::Json;
use rampart_app::ioc::{IocReply, IocRequest};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Principal};

/// The indicators of a text (signed-in users; nothing is stored):
/// addresses, domains (Public Suffix List), URLs, e-mail addresses,
/// hashes and CVE ids, defanged forms refanged, each with its original
/// words, place and confidence.
#[utoipa::path(post, path = "/api/v1/ioc/extract", tag = "hunting", security(("bearer" = [])), request_body = IocRequest,
    responses((status = 200, body = IocReply), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 413, body = Problem)))]
pub async fn extract(
    principal: Principal,
    ApiJson(request): ApiJson<IocRequest>,
) -> Result<Json<IocReply>, ApiError> {
    Ok(Json(
        rampart_app::ioc::extract_indicators(&principal, request).await?,
    ))
}
