//! Assets: the organisation's assets with their criticality and exposure
//! (which weigh on every finding's priority), adding and changing one,
//! its imports, and uploading a scanner report to it.

use std::collections::HashMap;

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::vulns::{AssetInput, AssetPatch, ImportRequest};
use rampart_app::paging::PageParams;
use rampart_core::finding::{Asset, AssetKind, Exposure, ImportRecord};
use rampart_core::{AssetId, Permission};
use rampart_scan::formats::Format;
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::{ApiQuery, PathId};
use crate::state::AppState;

/// The asset form's fields, for adding and for changing an asset.
#[derive(Deserialize)]
pub struct AssetForm {
    csrf: String,
    name: String,
    kind: String,
    /// One per line.
    #[serde(default)]
    identifiers: String,
    criticality: String,
    exposure: String,
    #[serde(default)]
    owner: String,
    /// Separated by commas.
    #[serde(default)]
    tags: String,
}

/// The form's values checked, as the API takes them.
struct Checked {
    name: String,
    kind: AssetKind,
    identifiers: Vec<String>,
    criticality: i64,
    exposure: Exposure,
    owner: String,
    tags: Vec<String>,
}

impl AssetForm {
    fn check(self) -> Result<Checked, rampart_core::Error> {
        let kind = AssetKind::parse(&self.kind)
            .ok_or_else(|| rampart_core::Error::invalid_field("kind", "not a kind of asset"))?;
        let exposure = Exposure::parse(&self.exposure).ok_or_else(|| {
            rampart_core::Error::invalid_field("exposure", "internet or internal")
        })?;
        let criticality = self
            .criticality
            .trim()
            .parse()
            .map_err(|_| rampart_core::Error::invalid_field("criticality", "1 to 5"))?;
        Ok(Checked {
            name: self.name,
            kind,
            identifiers: split(&self.identifiers, '\n'),
            criticality,
            exposure,
            owner: self.owner.trim().to_owned(),
            tags: split(&self.tags, ','),
        })
    }
}

fn split(text: &str, separator: char) -> Vec<String> {
    text.split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    uri: axum::http::Uri,
    page: Result<ApiQuery<PageParams>, ApiError>,
) -> Response {
    match page {
        Ok(ApiQuery(page)) => render_list(&state, &session, &uri, &page, None).await,
        Err(error) => super::error_page(&session, error),
    }
}

async fn render_list(
    state: &AppState,
    session: &Session,
    uri: &axum::http::Uri,
    page: &PageParams,
    problem: Option<(StatusCode, String)>,
) -> Response {
    let assets = match state.vulnerabilities.assets(&session.principal, page).await {
        Ok(assets) => assets,
        Err(error) => return super::error_page(session, error),
    };
    let body = html! {
        h1 { "Assets" }
        p.note { "What you scan and import reports for. Criticality (1 minor … 5 crown jewels) and exposure weigh on the priority of every finding on the asset. "
            a href="/imports" { "All imports" } }
        @if assets.items.is_empty() {
            p.empty { "No assets yet. Add one below, or import a report: the asset it names is created." }
        } @else {
            table {
                thead { tr { th { "Name" } th { "Kind" } th { "Criticality" } th { "Exposure" } th { "Owner" } th { "Tags" } } }
                tbody {
                    @for a in &assets.items {
                        tr {
                            td { a href={ "/assets/" (a.id) } { (a.name) } }
                            td { (a.kind.as_str().replace('_', " ")) }
                            td { (a.criticality) }
                            td { (a.exposure.as_str()) }
                            td { (a.owner.as_deref().unwrap_or("")) }
                            td { (a.tags.join(", ")) }
                        }
                    }
                }
            }
            @if let Some(cursor) = &assets.next_cursor {
                p.paging { a rel="next" href=(super::link_with(uri, "cursor", cursor)) { "More →" } }
            }
        }
        @if session.principal.may(Permission::Analyse) {
            h2 { "Add an asset" }
            @if let Some((_, detail)) = &problem { (layout::problem(detail)) }
            (asset_form(session, None, "/assets", "Add"))
        }
    };
    let status = problem.map_or(StatusCode::OK, |(status, _)| status);
    (
        status,
        Html(layout::page("Assets", Some(session), Section::Assets, body).into_string()),
    )
        .into_response()
}

fn asset_form(session: &Session, asset: Option<&Asset>, action: &str, button: &str) -> Markup {
    let kind = asset.map_or(AssetKind::Host, |a| a.kind);
    let criticality = asset.map_or(3, |a| a.criticality);
    let exposure = asset.map_or(Exposure::Internal, |a| a.exposure);
    html! {
        form.editor method="post" action=(action) {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="name" { "Name" }
            input #name name="name" required maxlength="200" value=[asset.map(|a| a.name.as_str())];
            label for="kind" { "Kind" }
            select #kind name="kind" {
                @for k in AssetKind::ALL {
                    option value=(k.as_str()) selected[k == kind] { (k.as_str().replace('_', " ")) }
                }
            }
            label for="identifiers" { "Addresses, host names, URLs, repository or image (one per line)" }
            textarea #identifiers name="identifiers" rows="3" {
                @if let Some(a) = asset { (a.identifiers.join("\n")) }
            }
            label for="criticality" { "Criticality" }
            select #criticality name="criticality" {
                @for c in 1u8..=5 {
                    option value=(c) selected[c == criticality] {
                        (c) @match c { 1 => " minor", 5 => " crown jewels", _ => "" }
                    }
                }
            }
            label for="exposure" { "Exposure" }
            select #exposure name="exposure" {
                @for e in [Exposure::Internal, Exposure::Internet] {
                    option value=(e.as_str()) selected[e == exposure] { (e.as_str()) }
                }
            }
            label for="owner" { "Owner" }
            input #owner name="owner" maxlength="200" value=[asset.and_then(|a| a.owner.as_deref())];
            label for="tags" { "Tags (separated by commas)" }
            input #tags name="tags" value=[asset.map(|a| a.tags.join(", "))];
            div.actions { button type="submit" { (button) } }
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Form(form): Form<AssetForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let created = match form.check() {
        Ok(c) => {
            let input = AssetInput {
                name: c.name,
                kind: c.kind,
                identifiers: c.identifiers,
                criticality: Some(c.criticality),
                exposure: Some(c.exposure),
                owner: Some(c.owner).filter(|o| !o.is_empty()),
                tags: c.tags,
            };
            state
                .vulnerabilities
                .create_asset(&session.principal, input)
                .await
        }
        Err(error) => Err(error),
    };
    match created {
        Ok(asset) => Redirect::to(&format!("/assets/{}", asset.id)).into_response(),
        Err(error) => {
            let status = ApiError::from(error.clone()).status;
            let problem = Some((status, super::detail(&error)));
            render_list(&state, &session, &uri, &PageParams::default(), problem).await
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    id: Result<PathId<AssetId>, ApiError>,
) -> Response {
    match id {
        Ok(PathId(id)) => render_asset(&state, &session, id, None).await,
        Err(error) => super::error_page(&session, error),
    }
}

/// What the last form sent to an asset's page did.
enum Outcome {
    Problem(StatusCode, String),
    Imported(String),
}

impl Outcome {
    fn problem(error: &rampart_core::Error) -> Self {
        Outcome::Problem(ApiError::from(error.clone()).status, super::detail(error))
    }
}

async fn render_asset(
    state: &AppState,
    session: &Session,
    id: AssetId,
    outcome: Option<Outcome>,
) -> Response {
    let asset = match state.vulnerabilities.asset(&session.principal, id).await {
        Ok(asset) => asset,
        Err(error) => return super::error_page(session, error),
    };
    let page = PageParams {
        limit: Some(20),
        cursor: None,
    };
    let imports = state
        .vulnerabilities
        .imports(&session.principal, Some(id), &page)
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let body = html! {
        p.crumbs { a href="/assets" { "← Assets" } }
        h1 { (asset.name) }
        @match &outcome {
            Some(Outcome::Problem(_, detail)) => (layout::problem(detail)),
            Some(Outcome::Imported(summary)) => p.result role="status" { (summary) },
            None => {},
        }
        dl.facts {
            dt { "Kind" } dd { (asset.kind.as_str().replace('_', " ")) }
            dt { "Criticality" } dd { (asset.criticality) " of 5" }
            dt { "Exposure" } dd { (asset.exposure.as_str()) }
            @if !asset.identifiers.is_empty() {
                dt { "Identifiers" } dd { @for i in &asset.identifiers { code { (i) } " " } }
            }
            @if let Some(owner) = &asset.owner { dt { "Owner" } dd { (owner) } }
            @if !asset.tags.is_empty() { dt { "Tags" } dd { (asset.tags.join(", ")) } }
            dt { "Added" } dd { (layout::time(asset.created_at)) }
        }
        p { a href={ "/findings?asset_id=" (asset.id) } { "Open findings on this asset →" } }
        h2 { "Imports" }
        (import_table(&imports, None))
        @if session.principal.may(Permission::Analyse) {
            h2 { "Import a report" }
            (upload_form(session, &asset))
            h2 { "Change" }
            (asset_form(session, Some(&asset), &format!("/assets/{}", asset.id), "Save"))
            form.inline method="post" action={ "/assets/" (asset.id) "/delete" } {
                input type="hidden" name="csrf" value=(session.csrf);
                button.danger type="submit" { "Delete this asset and its findings" }
            }
        }
    };
    let status = match outcome {
        Some(Outcome::Problem(status, _)) => status,
        _ => StatusCode::OK,
    };
    (
        status,
        Html(layout::page(&asset.name, Some(session), Section::Assets, body).into_string()),
    )
        .into_response()
}

fn upload_form(session: &Session, asset: &Asset) -> Markup {
    html! {
        // The CSRF token comes first so that it is checked before the file
        // is read.
        form.editor method="post" action="/imports/upload" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="asset" value=(asset.name);
            label for="report" { "Report file (JSON or XML; at most 256 MiB)" }
            input #report type="file" name="report" required;
            label for="format" { "Format" }
            select #format name="format" {
                option value="" { "Detect from the content" }
                @for f in Format::ALL { option value=(f.as_str()) { (f.as_str()) } }
            }
            label for="scan_type" { "Scan type (reports of one scan type replace each other's findings; the format when empty)" }
            input #scan_type name="scan_type" maxlength="100";
            label.check {
                input type="checkbox" name="partial" value="true";
                " Partial report: do not close findings it does not mention"
            }
            div.actions { button type="submit" { "Import" } }
        }
    }
}

/// What imports did: when, which tool, and the counts.
pub fn import_table(items: &[ImportRecord], assets: Option<&HashMap<AssetId, Asset>>) -> Markup {
    html! {
        @if items.is_empty() {
            p.empty { "No imports yet." }
        } @else {
            table {
                thead { tr {
                    th { "When" }
                    @if assets.is_some() { th { "Asset" } }
                    th { "Tool" } th { "Scan type" } th { "File" } th { "By" }
                    th { "Findings" } th { "New" } th { "Unchanged" } th { "Reopened" } th { "Closed" }
                } }
                tbody {
                    @for i in items {
                        tr {
                            td { a href={ "/imports/" (i.id) } title="What this import changed" { (layout::time(i.created_at)) } }
                            @if let Some(assets) = assets {
                                td { @match assets.get(&i.asset_id) {
                                    Some(a) => a href={ "/assets/" (a.id) } { (a.name) },
                                    None => (i.asset_id),
                                } }
                            }
                            td { (i.tool) " (" (i.format) ")" }
                            td { code { (i.scan_type) } }
                            td { (i.file_name.as_deref().unwrap_or("")) }
                            td { code { (i.actor) } }
                            td { (i.counts.findings) }
                            td { (i.counts.new) }
                            td { (i.counts.unchanged) }
                            td { (i.counts.reopened) }
                            td { (i.counts.closed) }
                        }
                    }
                }
            }
        }
    }
}

pub async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<AssetId>, ApiError>,
    Form(form): Form<AssetForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    let updated = match form.check() {
        Ok(c) => {
            let patch = AssetPatch {
                name: Some(c.name),
                kind: Some(c.kind),
                identifiers: Some(c.identifiers),
                criticality: Some(c.criticality),
                exposure: Some(c.exposure),
                owner: Some(c.owner),
                tags: Some(c.tags),
            };
            state
                .vulnerabilities
                .update_asset(&session.principal, id, patch)
                .await
        }
        Err(error) => Err(error),
    };
    match updated {
        Ok(_) => Redirect::to(&format!("/assets/{id}")).into_response(),
        Err(error) => render_asset(&state, &session, id, Some(Outcome::problem(&error))).await,
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<AssetId>, ApiError>,
    Form(form): Form<super::CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let deleted = match id {
        Ok(PathId(id)) => {
            state
                .vulnerabilities
                .delete_asset(&session.principal, id)
                .await
        }
        Err(error) => Err(error.error),
    };
    match deleted {
        Ok(()) => Redirect::to("/assets").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}

/// The upload's parts, read in order; the CSRF token must come first.
#[derive(Default)]
struct Upload {
    request: ImportRequest,
    report: Option<Vec<u8>>,
}

async fn read_upload(
    session: &Session,
    headers: &HeaderMap,
    mut multipart: Multipart,
) -> Result<Upload, Response> {
    let bad = |detail: String| {
        super::error_page(
            session,
            rampart_core::Error::bad_request("invalid_upload", detail),
        )
    };
    let mut upload = Upload {
        request: ImportRequest {
            full_report: true,
            ..ImportRequest::default()
        },
        report: None,
    };
    let mut csrf_checked = false;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(bad(format!("the upload could not be read: {error}"))),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if !csrf_checked {
            let token = if name == "csrf" {
                field.text().await.unwrap_or_default()
            } else {
                String::new()
            };
            if let Some(page) = super::refusal(session, headers, &token, Permission::Read) {
                return Err(page);
            }
            csrf_checked = true;
            continue;
        }
        if name == "report" {
            upload.request.file_name = field
                .file_name()
                .map(|n| n.chars().take(255).collect::<String>())
                .filter(|n| !n.is_empty());
            match field.bytes().await {
                Ok(bytes) => upload.report = Some(bytes.to_vec()),
                Err(error) => {
                    return Err(bad(format!("the report could not be read: {error}")));
                }
            }
            continue;
        }
        let value = match field.text().await {
            Ok(value) => value.trim().to_owned(),
            Err(error) => return Err(bad(format!("field {name} could not be read: {error}"))),
        };
        match name.as_str() {
            "asset" => upload.request.asset = value,
            "format" => upload.request.format = Some(value).filter(|v| !v.is_empty()),
            "scan_type" => upload.request.scan_type = Some(value).filter(|v| !v.is_empty()),
            "partial" => upload.request.full_report = value != "true",
            _ => {}
        }
    }
    if !csrf_checked {
        return Err(super::csrf_refused(session));
    }
    Ok(upload)
}

/// Imports an uploaded report into the asset it names, then shows the
/// asset with what the import did.
pub async fn upload(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let multipart = match multipart {
        Ok(multipart) => multipart,
        Err(rejection) => {
            return super::error_page(
                &session,
                rampart_core::Error::bad_request(
                    "invalid_upload",
                    format!("not a form upload: {rejection}"),
                ),
            )
        }
    };
    let upload = match read_upload(&session, &headers, multipart).await {
        Ok(upload) => upload,
        Err(page) => return page,
    };
    let Some(report) = upload.report.filter(|r| !r.is_empty()) else {
        return super::error_page(
            &session,
            rampart_core::Error::invalid_field("report", "choose a report file"),
        );
    };
    let asset_name = upload.request.asset.clone();
    match state
        .vulnerabilities
        .import(&session.principal, upload.request, report)
        .await
    {
        Ok(reply) => {
            let c = reply.counts;
            let summary = format!(
                "Imported {} findings from {} ({}): {} new, {} unchanged, {} reopened, {} closed.",
                c.findings, reply.tool, reply.format, c.new, c.unchanged, c.reopened, c.closed
            );
            render_asset(
                &state,
                &session,
                reply.asset.id,
                Some(Outcome::Imported(summary)),
            )
            .await
        }
        Err(error) => {
            // Back to the asset with the problem, when there is one.
            let status = ApiError::from(error.clone()).status;
            let assets = super::findings::asset_names(&state, &session).await;
            match assets.values().find(|a| a.name == asset_name) {
                Some(asset) if !status.is_server_error() => {
                    render_asset(&state, &session, asset.id, Some(Outcome::problem(&error))).await
                }
                _ => super::error_page(&session, error),
            }
        }
    }
}
