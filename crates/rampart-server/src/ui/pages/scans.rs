//! Scans: the organisation's scope (admins authorise targets), starting a
//! scan, following its progress (the page refreshes itself while it
//! runs), its per-target grades and refusals, and cancelling it.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::html;
use rampart_app::paging::PageParams;
use rampart_app::scans::{grades, ScanRequest, ScheduleInput, ScopeInput};
use rampart_core::scan::{Scan, ScanKind, ScopeEntry};
use rampart_core::{Permission, ScanId, ScanScheduleId, ScopeEntryId};
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::{ApiQuery, PathId};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ScanForm {
    csrf: String,
    kind: String,
    /// One per line.
    targets: String,
    #[serde(default)]
    ports: String,
    #[serde(default)]
    asset: String,
}

#[derive(Deserialize)]
pub struct ScopeForm {
    csrf: String,
    target: String,
    /// Separated by commas; empty: any.
    #[serde(default)]
    ports: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

fn status_text(scan: &Scan) -> String {
    if scan.status.is_finished() {
        scan.status.as_str().to_owned()
    } else if scan.cancel_requested {
        "cancelling".to_owned()
    } else {
        format!("{} {}%", scan.status.as_str(), scan.progress)
    }
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
    let scans = match state.scans.list(&session.principal, None, page).await {
        Ok(scans) => scans,
        Err(error) => return super::error_page(session, error),
    };
    let schedules = state
        .scans
        .schedules(&session.principal)
        .await
        .unwrap_or_default();
    let body = html! {
        h1 { "Scans" }
        p.note { "Rampart's own scans of the targets your organisation has authorised ("
            a href="/scope" { "scope" } "). Their findings join the asset's findings like an imported report." }
        @if scans.items.is_empty() {
            p.empty { "No scans yet." }
        } @else {
            table {
                thead { tr { th { "Requested" } th { "Kind" } th { "Targets" } th { "Status" } th { "Findings" } } }
                tbody {
                    @for s in &scans.items {
                        tr {
                            td { a href={ "/scans/" (s.id) } { (layout::time(s.created_at)) } }
                            td { (s.kind.as_str()) }
                            td { (s.targets.first().map_or("", String::as_str)) @if s.targets.len() > 1 { " and " (s.targets.len() - 1) " more" } }
                            td { (status_text(s)) }
                            td { @if let Some(c) = &s.counts { (c.findings) " (" (c.new) " new)" } }
                        }
                    }
                }
            }
            @if let Some(cursor) = &scans.next_cursor {
                p.paging { a rel="next" href=(super::link_with(uri, "cursor", cursor)) { "More →" } }
            }
        }
        h2 { "Schedules" }
        @if schedules.is_empty() {
            p.empty { "No recurring scans." }
        } @else {
            table #schedules {
                thead { tr { th { "Name" } th { "When (cron, UTC)" } th { "Kind" } th { "Targets" } th { "Next run" } th { "Last run" } @if session.principal.may(Permission::Analyse) { th {} } } }
                tbody {
                    @for sc in &schedules {
                        tr {
                            td { (sc.name) }
                            td { code { (sc.cron) } }
                            td { (sc.request.kind.as_str()) }
                            td { (sc.request.targets.join(", ")) }
                            td { (layout::time(sc.next_run_at)) }
                            td {
                                @if let Some(id) = sc.last_scan_id { a href={ "/scans/" (id) } { "scan" } }
                                @if let Some(error) = &sc.last_error { span.overdue { (error) } }
                            }
                            @if session.principal.may(Permission::Analyse) {
                                td { form.inline method="post" action={ "/scans/schedules/" (sc.id) "/delete" } {
                                    input type="hidden" name="csrf" value=(session.csrf);
                                    button.danger type="submit" { "Remove" }
                                } }
                            }
                        }
                    }
                }
            }
        }
        @if session.principal.may(Permission::Analyse) {
            h2 { "Start a scan" }
            @if let Some((_, detail)) = &problem { (layout::problem(detail)) }
            form.editor method="post" action="/scans" {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="kind" { "Kind" }
                select #kind name="kind" {
                    @for k in ScanKind::ALL { option value=(k.as_str()) { (k.as_str()) } }
                }
                label for="targets" { "Targets, one per line (URLs for web scans, hosts or addresses for port scans, host:port for TLS)" }
                textarea #targets name="targets" rows="3" required {}
                label for="ports" { "Ports of a port scan (e.g. 22,80,443,8000-8100; Nmap's top 100 when empty)" }
                input #ports name="ports";
                label for="asset" { "Asset (created when missing; the first target's host when empty)" }
                input #asset name="asset" maxlength="200";
                div.actions { button type="submit" { "Start" } }
            }
            h2 { "Schedule a scan" }
            form.editor method="post" action="/scans/schedules" {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="schedule-name" { "Name" }
                input #schedule-name name="name" required maxlength="100";
                label for="schedule-cron" { "When: a cron expression, UTC (0 3 * * 1 is Mondays at 03:00)" }
                input #schedule-cron name="cron" required;
                label for="schedule-kind" { "Kind" }
                select #schedule-kind name="kind" {
                    @for k in ScanKind::ALL { option value=(k.as_str()) { (k.as_str()) } }
                }
                label for="schedule-targets" { "Targets, one per line" }
                textarea #schedule-targets name="targets" rows="3" required {}
                label for="schedule-ports" { "Ports of a port scan" }
                input #schedule-ports name="ports";
                label for="schedule-asset" { "Asset" }
                input #schedule-asset name="asset" maxlength="200";
                div.actions { button type="submit" { "Schedule" } }
            }
        }
    };
    let status = problem.map_or(StatusCode::OK, |(status, _)| status);
    (
        status,
        Html(layout::page("Scans", Some(session), Section::Scans, body).into_string()),
    )
        .into_response()
}

impl ScanForm {
    fn request(&self) -> Result<ScanRequest, rampart_core::Error> {
        let kind = ScanKind::parse(self.kind.trim())
            .ok_or_else(|| rampart_core::Error::invalid_field("kind", "not a kind of scan"))?;
        Ok(ScanRequest {
            kind,
            targets: self
                .targets
                .lines()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            ports: Some(self.ports.trim().to_owned()).filter(|p| !p.is_empty()),
            asset: Some(self.asset.trim().to_owned()).filter(|a| !a.is_empty()),
        })
    }
}

#[derive(Deserialize)]
pub struct ScheduleForm {
    name: String,
    cron: String,
    #[serde(flatten)]
    scan: ScanForm,
}

pub async fn create_schedule(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Form(form): Form<ScheduleForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.scan.csrf, Permission::Analyse) {
        return page;
    }
    let created = match form.scan.request() {
        Ok(scan) => {
            let input = ScheduleInput {
                name: form.name,
                cron: form.cron,
                scan,
            };
            state.scans.create_schedule(&session.principal, input).await
        }
        Err(error) => Err(error),
    };
    match created {
        Ok(_) => Redirect::to("/scans#schedules").into_response(),
        Err(error) => {
            render_list(
                &state,
                &session,
                &uri,
                &PageParams::default(),
                Some(super::problem_of(&error)),
            )
            .await
        }
    }
}

pub async fn delete_schedule(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<ScanScheduleId>, ApiError>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    match state.scans.delete_schedule(&session.principal, id).await {
        Ok(()) => Redirect::to("/scans").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}

pub async fn start(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Form(form): Form<ScanForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let started = match form.request() {
        Ok(request) => state.scans.start(&session.principal, request).await,
        Err(error) => Err(error),
    };
    match started {
        Ok(scan) => Redirect::to(&format!("/scans/{}", scan.id)).into_response(),
        Err(error) => {
            render_list(
                &state,
                &session,
                &uri,
                &PageParams::default(),
                Some(super::problem_of(&error)),
            )
            .await
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    id: Result<PathId<ScanId>, ApiError>,
) -> Response {
    let scan = match id {
        Ok(PathId(id)) => state.scans.get(&session.principal, id).await,
        Err(error) => return super::error_page(&session, error),
    };
    let scan = match scan {
        Ok(scan) => scan,
        Err(error) => return super::error_page(&session, error),
    };
    let grades = grades(&scan);
    let failures = scan
        .summary
        .get("failures")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let tls: Vec<serde_json::Value> = scan
        .summary
        .get("targets")
        .and_then(serde_json::Value::as_array)
        .map(|targets| {
            targets
                .iter()
                .filter(|t| t.get("versions").is_some())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let running = !scan.status.is_finished();
    let body = html! {
        p.crumbs { a href="/scans" { "← Scans" } }
        h1 { "Scan " (scan.kind.as_str()) }
        div #scan hx-get=[running.then(|| format!("/scans/{}", scan.id))] hx-trigger=[running.then_some("every 2s")] hx-select="#scan" hx-swap="outerHTML" {
            dl.facts {
                dt { "Status" } dd #scan-status { (status_text(&scan)) }
                dt { "Progress" } dd { progress max="100" value=(scan.progress) { (scan.progress) "%" } " " (scan.checks_done) " of " (scan.checks_total) " checks" }
                dt { "Targets" } dd { @for t in &scan.targets { code { (t) } " " } }
                @if !scan.ports.is_empty() { dt { "Ports" } dd { (scan.ports.len()) } }
                dt { "Requested" } dd { (layout::time(scan.created_at)) " by " (scan.requested_by) }
                @if let Some(at) = scan.finished_at { dt { "Finished" } dd { (layout::time(at)) } }
                @if let Some(c) = &scan.counts {
                    dt { "Findings" } dd { (c.findings) " — " (c.new) " new, " (c.unchanged) " unchanged, " (c.reopened) " reopened, " (c.closed) " closed" }
                }
                @if let Some(error) = &scan.error { dt { "Error" } dd { (error) } }
            }
            @if scan.counts.is_some() {
                p {
                    a href={ "/findings?asset_id=" (scan.asset_id) "&scan_type=" (scan.kind.as_str()) } { "Its findings →" }
                    @if let Some(import) = scan.summary.get("import_id").and_then(|i| i.as_str()) {
                        " · " a href={ "/imports/" (import) } { "What changed since the last scan →" }
                    }
                }
            }
            @if !grades.is_empty() {
                h2 { "Grades" }
                table {
                    thead { tr { th { "Target" } th { "Grade" } th { "Score" } } }
                    tbody { @for g in &grades { tr { td { code { (g.target) } } td.grade { (g.grade) } td { (g.score) } } } }
                }
            }
            @if !tls.is_empty() {
                h2 { "TLS" }
                table {
                    thead { tr { th { "Endpoint" } th { "Protocols accepted" } th { "Certificate" } th { "Expires" } th { "Key" } } }
                    tbody {
                        @for t in &tls {
                            tr {
                                td { code { (t["target"].as_str().unwrap_or("")) } }
                                td { (accepted_versions(t)) }
                                td { (t["certificate"]["subject"].as_str().unwrap_or("unreadable")) }
                                td { (t["certificate"]["not_after"].as_str().map(|d| d.get(..10).unwrap_or(d)).unwrap_or("")) }
                                td { (t["certificate"]["key"].as_str().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            @if !failures.is_empty() {
                h2 { "Checks that could not run" }
                ul.reasons {
                    @for f in &failures {
                        li {
                            code { (f.get("target").and_then(|t| t.as_str()).unwrap_or("")) } " — "
                            (f.get("error").and_then(|t| t.as_str()).unwrap_or(""))
                        }
                    }
                }
            }
            @if running && session.principal.may(Permission::Analyse) && !scan.cancel_requested {
                form.inline method="post" action={ "/scans/" (scan.id) "/cancel" } {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button.danger type="submit" { "Cancel the scan" }
                }
            }
        }
    };
    Html(layout::page("Scan", Some(&session), Section::Scans, body).into_string()).into_response()
}

/// The protocol versions a TLS target accepted, newest first.
fn accepted_versions(target: &serde_json::Value) -> String {
    let accepted: Vec<&str> = target["versions"]
        .as_array()
        .map(|versions| {
            versions
                .iter()
                .filter(|v| v["accepted"].as_bool() == Some(true))
                .filter_map(|v| v["version"].as_str())
                .collect()
        })
        .unwrap_or_default();
    if accepted.is_empty() {
        "none".to_owned()
    } else {
        accepted.join(", ")
    }
}

pub async fn cancel(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<ScanId>, ApiError>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    match state.scans.cancel(&session.principal, id).await {
        Ok(scan) => Redirect::to(&format!("/scans/{}", scan.id)).into_response(),
        Err(error) => super::error_page(&session, error),
    }
}

pub async fn scope(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    render_scope(&state, &session, None).await
}

async fn render_scope(
    state: &AppState,
    session: &Session,
    problem: Option<(StatusCode, String)>,
) -> Response {
    let entries: Vec<ScopeEntry> = match state.scans.scope(&session.principal).await {
        Ok(entries) => entries,
        Err(error) => return super::error_page(session, error),
    };
    let admin = session.principal.may(Permission::Admin);
    let body = html! {
        p.crumbs { a href="/scans" { "← Scans" } }
        h1 { "Scope" }
        p.note { "What this organisation may scan: networks (10.0.0.0/24), host names (shop.example.com, *.example.com for subdomains) and URL prefixes (https://shop.example.com/app/). Host names are resolved and every address checked again when connected to. Loopback, private, link-local and cloud-metadata addresses are scanned only when an entry names them at least as narrowly as their block." }
        @if entries.is_empty() {
            p.empty { "The scope names nothing yet: no scan can run." }
        } @else {
            table {
                thead { tr { th { "Target" } th { "Ports" } th { "Note" } th { "Added" } @if admin { th {} } } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { code { (e.target) } }
                            td { @if e.ports.is_empty() { "any" } @else { (e.ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")) } }
                            td { (e.note.as_deref().unwrap_or("")) }
                            td { (layout::time(e.created_at)) " by " (e.created_by) }
                            @if admin {
                                td {
                                    form.inline method="post" action={ "/scope/" (e.id) "/delete" } {
                                        input type="hidden" name="csrf" value=(session.csrf);
                                        button.danger type="submit" { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            h2 { "Authorise a target" }
            @if let Some((_, detail)) = &problem { (layout::problem(detail)) }
            form.editor method="post" action="/scope" {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="target" { "Network, host name or URL prefix" }
                input #target name="target" required maxlength="500";
                label for="ports" { "Ports (separated by commas; any when empty)" }
                input #ports name="ports";
                label for="note" { "Note (who authorised it, until when)" }
                input #note name="note" maxlength="500";
                div.actions { button type="submit" { "Add" } }
            }
        }
    };
    let status = problem.map_or(StatusCode::OK, |(status, _)| status);
    (
        status,
        Html(layout::page("Scope", Some(session), Section::Scans, body).into_string()),
    )
        .into_response()
}

pub async fn add_scope(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<ScopeForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let ports: Result<Vec<u16>, _> = form
        .ports
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::parse::<u16>)
        .collect();
    let added = match ports {
        Ok(ports) => {
            let input = ScopeInput {
                target: form.target,
                ports,
                note: Some(form.note),
            };
            state.scans.add_scope(&session.principal, input).await
        }
        Err(_) => Err(rampart_core::Error::invalid_field(
            "ports",
            "port numbers 1–65535 separated by commas",
        )),
    };
    match added {
        Ok(_) => Redirect::to("/scope").into_response(),
        Err(error) => render_scope(&state, &session, Some(super::problem_of(&error))).await,
    }
}

pub async fn remove_scope(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<ScopeEntryId>, ApiError>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    match state.scans.remove_scope(&session.principal, id).await {
        Ok(()) => Redirect::to("/scope").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}
