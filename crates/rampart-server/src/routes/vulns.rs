//! `/api/v1/assets`, `/api/v1/imports` and `/api/v1/findings`: assets,
//! scanner report imports, and findings with their priorities and
//! decisions.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::Json;
use rampart_app::api::vulns::{
    AssetInput, AssetPatch, FindingFilter, FindingPatch, ImportReply, ImportRequest,
};
use rampart_app::vulns::{CveReport, ImportDiff, RenderedReport, ReportFormat, UploadStatus};
use rampart_core::finding::{Asset, Finding, FindingPolicy, ImportRecord};
use rampart_core::intel::IntelSource;
use rampart_core::{AssetId, FindingId, ImportId, UploadId};
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery, PathId, Principal};
use crate::routes::{Page, PageParams};
use crate::state::AppState;
use rampart_app::paging::TextPageParams;

/// Create an asset (analysts).
#[utoipa::path(post, path = "/api/v1/assets", tag = "vulnerabilities", security(("bearer" = [])), request_body = AssetInput,
    responses((status = 201, body = Asset), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn create_asset(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<AssetInput>,
) -> Result<(StatusCode, Json<Asset>), ApiError> {
    let asset = state
        .vulnerabilities
        .create_asset(&principal, input)
        .await?;
    Ok((StatusCode::CREATED, Json(asset)))
}

/// The organisation's assets by name.
#[utoipa::path(get, path = "/api/v1/assets", tag = "vulnerabilities", security(("bearer" = [])), params(TextPageParams),
    responses((status = 200, body = Page<Asset>), (status = 400, body = Problem)))]
pub async fn assets(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(page): ApiQuery<TextPageParams>,
) -> Result<Json<Page<Asset>>, ApiError> {
    Ok(Json(
        state
            .vulnerabilities
            .assets(&principal, &page.into())
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "vulnerabilities", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Asset), (status = 404, body = Problem)))]
pub async fn asset(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<AssetId>,
) -> Result<Json<Asset>, ApiError> {
    Ok(Json(state.vulnerabilities.asset(&principal, id).await?))
}

/// Change an asset (analysts; audited).
#[utoipa::path(patch, path = "/api/v1/assets/{id}", tag = "vulnerabilities", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = AssetPatch,
    responses((status = 200, body = Asset), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update_asset(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<AssetId>,
    ApiJson(patch): ApiJson<AssetPatch>,
) -> Result<Json<Asset>, ApiError> {
    Ok(Json(
        state
            .vulnerabilities
            .update_asset(&principal, id, patch)
            .await?,
    ))
}

/// Delete an asset with its findings and imports (analysts; audited).
#[utoipa::path(delete, path = "/api/v1/assets/{id}", tag = "vulnerabilities", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_asset(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<AssetId>,
) -> Result<StatusCode, ApiError> {
    state.vulnerabilities.delete_asset(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// The asset's name (created when the organisation has none of it).
    #[param(min_length = 1, max_length = 200)]
    pub asset: String,
    /// sarif, nuclei, trivy, grype, semgrep, gitleaks, bandit, checkov, zap,
    /// dependency-check, nmap, burp, openvas or nessus;
    /// detected from the content when absent.
    pub format: Option<String>,
    /// The format's name when absent.
    #[param(max_length = 100)]
    pub scan_type: Option<String>,
    #[param(max_length = 300)]
    pub file_name: Option<String>,
    /// `false` for a partial report: nothing missing from it is closed.
    pub full: Option<bool>,
    /// `true`: import by a job (answer 202 at once, poll the upload);
    /// `false`: import now, whatever the size. By default reports over
    /// 16 MiB are imported by a job.
    #[serde(rename = "async")]
    #[param(rename = "async")]
    pub in_background: Option<bool>,
}

/// Import a scanner report (the file as the body, up to 256 MiB): its
/// findings are de-duplicated against the asset's earlier ones of the same
/// scan type, prioritised, and those missing from a full report closed.
/// Reports over 16 MiB (or any, with `async=true`) are imported by a job:
/// the answer is then 202 with the upload, to poll at its `Location`.
/// Analysts, or API keys with the ingest scope (CI pipelines).
#[utoipa::path(post, path = "/api/v1/imports", tag = "vulnerabilities", security(("bearer" = [])), params(ImportParams),
    request_body(content = String, content_type = "application/octet-stream", description = "the report file"),
    responses((status = 201, body = ImportReply), (status = 202, body = UploadStatus, description = "imported by a job; poll the upload"),
        (status = 400, body = Problem, description = "the report could not be read: `line` and `column` say where"),
        (status = 403, body = Problem), (status = 413, body = Problem)))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ImportParams>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = ImportRequest {
        asset: params.asset,
        format: params.format,
        scan_type: params.scan_type,
        file_name: params.file_name,
        full_report: params.full.unwrap_or(true),
    };
    let in_background = params
        .in_background
        .unwrap_or(body.len() > rampart_app::vulns::ASYNC_IMPORT_BYTES);
    if in_background {
        let upload = state
            .vulnerabilities
            .queue_import(&principal, request, body.to_vec())
            .await?;
        let location = format!("/api/v1/imports/uploads/{}", upload.id);
        return Ok((
            StatusCode::ACCEPTED,
            [(axum::http::header::LOCATION, location)],
            Json(upload),
        )
            .into_response());
    }
    let reply = state
        .vulnerabilities
        .import(&principal, request, body.to_vec())
        .await?;
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

/// A report imported by a job: queued, running, done (with what the
/// import did) or failed (with why).
#[utoipa::path(get, path = "/api/v1/imports/uploads/{id}", tag = "vulnerabilities", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = UploadStatus), (status = 404, body = Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<UploadId>,
) -> Result<Json<UploadStatus>, ApiError> {
    Ok(Json(state.vulnerabilities.upload(&principal, id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportListParams {
    pub asset_id: Option<AssetId>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
}

/// The organisation's imports, newest first.
#[utoipa::path(get, path = "/api/v1/imports", tag = "vulnerabilities", security(("bearer" = [])), params(ImportListParams),
    responses((status = 200, body = Page<ImportRecord>), (status = 400, body = Problem)))]
pub async fn imports(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ImportListParams>,
) -> Result<Json<Page<ImportRecord>>, ApiError> {
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    Ok(Json(
        state
            .vulnerabilities
            .imports(&principal, params.asset_id, &page)
            .await?,
    ))
}

/// Findings, highest priority first, with filters.
#[utoipa::path(get, path = "/api/v1/findings", tag = "vulnerabilities", security(("bearer" = [])), params(FindingFilter),
    responses((status = 200, body = Page<Finding>), (status = 400, body = Problem)))]
pub async fn findings(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(filter): ApiQuery<FindingFilter>,
) -> Result<Json<Page<Finding>>, ApiError> {
    Ok(Json(
        state.vulnerabilities.findings(&principal, filter).await?,
    ))
}

/// A finding with its priority's reasons.
#[utoipa::path(get, path = "/api/v1/findings/{id}", tag = "vulnerabilities", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Finding), (status = 404, body = Problem)))]
pub async fn finding(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<FindingId>,
) -> Result<Json<Finding>, ApiError> {
    Ok(Json(state.vulnerabilities.finding(&principal, id).await?))
}

/// Decide on a finding: false positive, accepted risk (with a review
/// date), or open again (analysts; audited).
#[utoipa::path(patch, path = "/api/v1/findings/{id}", tag = "vulnerabilities", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = FindingPatch,
    responses((status = 200, body = Finding), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn decide(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<FindingId>,
    ApiJson(patch): ApiJson<FindingPatch>,
) -> Result<Json<Finding>, ApiError> {
    Ok(Json(
        state.vulnerabilities.decide(&principal, id, patch).await?,
    ))
}

/// The threat-intelligence releases loaded (KEV catalogue, EPSS scores):
/// loaded by the operator with `rampart intel load`, shared by every
/// organisation.
#[utoipa::path(get, path = "/api/v1/intel", tag = "vulnerabilities", security(("bearer" = [])),
    responses((status = 200, body = Vec<IntelSource>), (status = 403, body = Problem)))]
pub async fn intel_sources(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<IntelSource>>, ApiError> {
    Ok(Json(state.vulnerabilities.intel_sources(&principal).await?))
}

/// What the loaded intelligence says about a CVE (its KEV entry and
/// EPSS score; both null when nothing is known).
#[utoipa::path(get, path = "/api/v1/intel/cves/{cve}", tag = "vulnerabilities", security(("bearer" = [])),
    params(("cve" = String, Path, example = "CVE-2021-44228")),
    responses((status = 200, body = CveReport), (status = 400, body = Problem)))]
pub async fn cve_intel(
    State(state): State<AppState>,
    principal: Principal,
    Path(cve): Path<String>,
) -> Result<Json<CveReport>, ApiError> {
    Ok(Json(
        state.vulnerabilities.cve_intel(&principal, &cve).await?,
    ))
}

/// A report of the findings a filter selects (the findings list's
/// parameters without `limit` and `cursor`; every status when `status` is
/// absent): `json`, `csv` (formula-safe), `sarif` (2.1.0, with
/// `baselineState` and decisions as suppressions) or `html` (one
/// self-contained page with charts). At most 100,000 findings.
#[utoipa::path(get, path = "/api/v1/reports/{format}", tag = "vulnerabilities", security(("bearer" = [])),
    params(("format" = ReportFormat, Path), FindingFilter),
    responses((status = 200, description = "the report file (application/json, text/csv, application/sarif+json or text/html)", body = String),
        (status = 400, body = Problem)))]
pub async fn report(
    State(state): State<AppState>,
    principal: Principal,
    Path(format): Path<String>,
    ApiQuery(filter): ApiQuery<FindingFilter>,
) -> Result<axum::response::Response, ApiError> {
    let format: ReportFormat =
        serde_json::from_value(serde_json::Value::String(format)).map_err(|_| {
            rampart_core::Error::invalid_field("format", "one of: json, csv, sarif, html")
        })?;
    let report = state
        .vulnerabilities
        .report(&principal, format, filter)
        .await?;
    Ok(file_response(report))
}

/// A report sent as a file to save.
pub fn file_response(report: RenderedReport) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                report.content_type.to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", report.file_name),
            ),
        ],
        report.body,
    )
        .into_response()
}

/// What an import (or a scan's import) changed: the findings it saw first
/// and those it closed, with its counts.
#[utoipa::path(get, path = "/api/v1/imports/{id}/diff", tag = "vulnerabilities", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ImportDiff), (status = 404, body = Problem)))]
pub async fn import_diff(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<ImportId>,
) -> Result<Json<ImportDiff>, ApiError> {
    Ok(Json(
        state.vulnerabilities.import_diff(&principal, id).await?,
    ))
}

/// The organisation's findings policy: deadlines per severity (SLA days;
/// each finding's `due_at` follows from them), how many days before an
/// accepted risk's review date to warn, and the phrases that raise
/// priorities.
#[utoipa::path(get, path = "/api/v1/findings/policy", tag = "vulnerabilities", security(("bearer" = [])),
    responses((status = 200, body = FindingPolicy)))]
pub async fn policy(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<FindingPolicy>, ApiError> {
    Ok(Json(state.vulnerabilities.policy(&principal).await?))
}

/// Change the findings policy (admins; audited). Changed phrases score
/// every finding again; `phrases: null` restores the built-in list.
#[utoipa::path(put, path = "/api/v1/findings/policy", tag = "vulnerabilities", security(("bearer" = [])),
    request_body = FindingPolicy,
    responses((status = 200, body = FindingPolicy), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn set_policy(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(policy): ApiJson<FindingPolicy>,
) -> Result<Json<FindingPolicy>, ApiError> {
    Ok(Json(
        state.vulnerabilities.set_policy(&principal, policy).await?,
    ))
}
