//! Findings: the list by priority with filters, one finding with every
//! reason behind its priority, and analysts' decisions (false positive,
//! accepted risk until a date, open again) by form.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::vulns::{FindingFilter, FindingPatch};
use rampart_app::paging::{Page, PageParams};
use rampart_app::vulns::ReportFormat;
use rampart_core::finding::{
    Asset, Band, Finding, FindingPolicy, FindingSeverity, FindingStatus, Phrase, Priority, SlaDays,
};
use rampart_core::intel::{IntelSource, IntelSourceName};
use rampart_core::{AssetId, FindingId, ImportId, Permission, Timestamp};
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::{ApiQuery, PathId};
use crate::state::AppState;

/// What the filter form shows as chosen, from the query string as sent.
#[derive(Deserialize, Default)]
struct Chosen {
    status: Option<String>,
    severity: Option<String>,
    band: Option<String>,
    asset_id: Option<String>,
    q: Option<String>,
    cve: Option<String>,
}

/// A priority as a badge coloured by its band.
pub fn priority_badge(priority: &Priority) -> Markup {
    html! {
        span class={ "sev sev-" (priority.band.as_str()) } title={ "priority " (priority.score) " of 100, " (priority.band.as_str()) } {
            (priority.score) " " (priority.band.as_str())
        }
    }
}

pub fn severity_badge(severity: FindingSeverity) -> Markup {
    html! { span class={ "sev sev-" (severity.as_str()) } { (severity.as_str()) } }
}

fn status_label(status: FindingStatus) -> Markup {
    html! { span class={ "status status-" (status.as_str()) } { (status.as_str().replace('_', " ")) } }
}

/// Where a finding is: component and version, file and line, or endpoint.
fn location(finding: &Finding) -> String {
    let report = &finding.report;
    if let Some(component) = &report.component {
        let version = report.component_version.as_deref().unwrap_or("");
        return format!("{component} {version}").trim_end().to_owned();
    }
    if let Some(path) = &report.file_path {
        return match report.line {
            Some(line) => format!("{path}:{line}"),
            None => path.clone(),
        };
    }
    report.endpoints.first().cloned().unwrap_or_default()
}

/// The organisation's assets by id (for names in lists and the filter).
pub(super) async fn asset_names(state: &AppState, session: &Session) -> HashMap<AssetId, Asset> {
    let page = PageParams {
        limit: Some(1000),
        cursor: None,
    };
    state
        .vulnerabilities
        .assets(&session.principal, &page)
        .await
        .map(|p| p.items.into_iter().map(|a| (a.id, a)).collect())
        .unwrap_or_default()
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    uri: axum::http::Uri,
    filter: Result<ApiQuery<FindingFilter>, ApiError>,
) -> Response {
    let mut chosen: Chosen = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let page = match filter {
        Ok(ApiQuery(mut filter)) => {
            // Unless asked otherwise, what still needs work.
            if filter.status.is_none() {
                filter.status = Some("active".to_owned());
                chosen.status = Some("active".to_owned());
            }
            state
                .vulnerabilities
                .findings(&session.principal, filter)
                .await
        }
        Err(error) => Err(error.error),
    };
    let assets = asset_names(&state, &session).await;
    let intel = state
        .vulnerabilities
        .intel_sources(&session.principal)
        .await
        .unwrap_or_default();
    let body = html! {
        h1 { "Findings" }
        p.note { "Highest priority first. A priority (0–100) weighs severity and CVSS, known exploitation, the asset's criticality and exposure, and the report's wording; open a finding to see each reason. Deadlines and phrases: "
            a href="/findings/policy" { "findings policy" } "." }
        (intel_note(&intel))
        (filters(&chosen, &assets))
        p.note #downloads {
            "Download these findings (every page): "
            @for (n, (format, label)) in [("csv", "CSV"), ("sarif", "SARIF"), ("html", "HTML report"), ("json", "JSON")].iter().enumerate() {
                @if n > 0 { " · " }
                a href=(export_link(&chosen, format)) download { (label) }
            }
        }
        @match &page {
            Ok(page) => (finding_table(page, &uri, &assets, state.clock.now())),
            Err(error) => (layout::problem(&super::detail(error))),
        }
    };
    Html(layout::page("Findings", Some(&session), Section::Findings, body).into_string())
        .into_response()
}

/// The link that downloads the chosen findings as `format`.
fn export_link(chosen: &Chosen, format: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("status", &chosen.status),
        ("severity", &chosen.severity),
        ("band", &chosen.band),
        ("asset_id", &chosen.asset_id),
        ("q", &chosen.q),
        ("cve", &chosen.cve),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            query.append_pair(name, value);
        }
    }
    format!("/findings/export/{format}?{}", query.finish())
}

/// `/findings/export/{format}`: the chosen findings as a file.
pub async fn export(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    axum::extract::Path(format): axum::extract::Path<String>,
    filter: Result<ApiQuery<FindingFilter>, ApiError>,
) -> Response {
    let format = match serde_json::from_value::<ReportFormat>(serde_json::Value::String(format)) {
        Ok(format) => format,
        Err(_) => {
            return super::error_page(
                &session,
                rampart_core::Error::invalid_field("format", "one of: json, csv, sarif, html"),
            )
        }
    };
    let filter = match filter {
        Ok(ApiQuery(filter)) => filter,
        Err(error) => return super::error_page(&session, error.error),
    };
    match state
        .vulnerabilities
        .report(&session.principal, format, filter)
        .await
    {
        Ok(report) => crate::routes::vulns::file_response(report),
        Err(error) => super::error_page(&session, error),
    }
}

/// `/imports/{id}`: what one import or scan changed.
pub async fn import_diff(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    id: Result<PathId<ImportId>, ApiError>,
) -> Response {
    let diff = match id {
        Ok(PathId(id)) => {
            state
                .vulnerabilities
                .import_diff(&session.principal, id)
                .await
        }
        Err(error) => Err(error.error),
    };
    let diff = match diff {
        Ok(diff) => diff,
        Err(error) => return super::error_page(&session, error),
    };
    let assets = asset_names(&state, &session).await;
    let i = &diff.import;
    let list = |findings: &[Finding]| {
        html! {
            @if findings.is_empty() { p.empty { "None." } } @else {
                table {
                    thead { tr { th { "Priority" } th { "Title" } th { "Location" } th { "Status" } } }
                    tbody { @for f in findings { tr {
                        td { (priority_badge(&f.priority)) }
                        td { a href={ "/findings/" (f.id) } { (f.report.title) } }
                        td { (location(f)) }
                        td { (status_label(f.status)) }
                    } } }
                }
            }
        }
    };
    let body = html! {
        p.crumbs { a href="/imports" { "← Imports" } }
        h1 { "What changed: " (i.tool) " on " (assets.get(&i.asset_id).map_or("an asset", |a| a.name.as_str())) }
        p.note { (layout::time(i.created_at)) ", scan type " code { (i.scan_type) } ": "
            (i.counts.findings) " findings — " (i.counts.new) " new, " (i.counts.unchanged) " unchanged, "
            (i.counts.reopened) " reopened, " (i.counts.closed) " closed." }
        h2 { "New (" (diff.new.len()) ")" }
        (list(&diff.new))
        h2 { "Fixed (" (diff.fixed.len()) ")" }
        (list(&diff.fixed))
    };
    Html(layout::page("What changed", Some(&session), Section::Assets, body).into_string())
        .into_response()
}

/// Which threat-intelligence releases priorities are computed with.
fn intel_note(sources: &[IntelSource]) -> Markup {
    html! {
        p.note #intel {
            @if sources.is_empty() {
                "No threat intelligence is loaded: known exploitation (CISA KEV) and EPSS count only where reports carry them. The operator loads them with "
                code { "rampart intel load kev|epss FILE" } "."
            } @else {
                "Threat intelligence: "
                @for (n, source) in sources.iter().enumerate() {
                    @if n > 0 { " · " }
                    @match source.source {
                        IntelSourceName::Kev => { "CISA KEV catalogue " (source.version) " (" (source.rows) " CVEs)" }
                        IntelSourceName::Epss => { "EPSS " (source.version) " (" (source.rows) " CVEs" @if let Some(date) = &source.released { ", scored " (date.get(..10).unwrap_or(date)) } ")" }
                    }
                    ", loaded " (layout::time(source.loaded_at))
                }
                "."
            }
        }
    }
}

fn filters(chosen: &Chosen, assets: &HashMap<AssetId, Asset>) -> Markup {
    let status = chosen.status.as_deref().unwrap_or("");
    let severity = chosen.severity.as_deref().unwrap_or("");
    let band = chosen.band.as_deref().unwrap_or("");
    let asset = chosen.asset_id.as_deref().unwrap_or("");
    let mut assets: Vec<&Asset> = assets.values().collect();
    assets.sort_by(|a, b| a.name.cmp(&b.name));
    html! {
        form.filters method="get" action="/findings" role="search" {
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="active" selected[status == "active"] { "Open or reopened" }
                    option value="open,reopened,mitigated,false_positive,risk_accepted" selected[status.contains(',') && status != "active"] { "Any" }
                    @for s in FindingStatus::ALL {
                        option value=(s.as_str()) selected[status == s.as_str()] { (s.as_str().replace('_', " ")) }
                    }
                }
            }
            div.field {
                label for="band" { "Priority" }
                select #band name="band" {
                    option value="" selected[band.is_empty()] { "Any" }
                    @for b in Band::ALL.into_iter().rev() {
                        option value=(b.as_str()) selected[band == b.as_str()] { (b.as_str()) }
                    }
                }
            }
            div.field {
                label for="severity" { "Severity" }
                select #severity name="severity" {
                    option value="" selected[severity.is_empty()] { "Any" }
                    @for s in FindingSeverity::ALL.into_iter().rev() {
                        option value=(s.as_str()) selected[severity == s.as_str()] { (s.as_str()) }
                    }
                }
            }
            div.field {
                label for="asset_id" { "Asset" }
                select #asset_id name="asset_id" {
                    option value="" selected[asset.is_empty()] { "Any" }
                    @for a in &assets {
                        option value=(a.id) selected[asset == a.id.to_string()] { (a.name) }
                    }
                }
            }
            div.field {
                label for="q" { "Title or component" }
                input #q type="search" name="q" maxlength="200" value=[chosen.q.as_deref()];
            }
            div.field {
                label for="cve" { "CVE or advisory" }
                input #cve type="search" name="cve" maxlength="100" value=[chosen.cve.as_deref()];
            }
            button type="submit" { "Filter" }
        }
    }
}

/// When a finding is due, marked when an open one is past it.
fn due(finding: &Finding, now: Timestamp) -> Markup {
    html! {
        @if let Some(at) = finding.due_at {
            @if finding.status.is_active() && at.0 < now.0 {
                span.overdue title="past its deadline" { "overdue since " (layout::time(at)) }
            } @else {
                (layout::time(at))
            }
        }
    }
}

fn finding_table(
    page: &Page<Finding>,
    uri: &axum::http::Uri,
    assets: &HashMap<AssetId, Asset>,
    now: Timestamp,
) -> Markup {
    html! {
        @if page.items.is_empty() {
            div.empty {
                p { "No findings match. Findings come from scanner reports: import one on an asset's page, or from a pipeline:" }
                pre { "curl -H 'Authorization: Bearer rk_…' --data-binary @grype.json \\\n  'http://127.0.0.1:8080/api/v1/imports?asset=registry.example/shop:1.4'" }
                p { "or on the server: " code { "rampart import grype.json --asset registry.example/shop:1.4" } }
            }
        } @else {
            table {
                thead { tr { th { "Priority" } th { "Severity" } th { "Finding" } th { "Where" } th { "Asset" } th { "Status" } th { "Due" } th { "Last seen" } } }
                tbody {
                    @for f in &page.items {
                        tr {
                            td { (priority_badge(&f.priority)) }
                            td { (severity_badge(f.severity)) }
                            td {
                                a href={ "/findings/" (f.id) } { (f.report.title) }
                                @if !f.report.vulnerability_ids.is_empty() {
                                    br; small { (f.report.vulnerability_ids.join(", ")) }
                                }
                            }
                            td { code { (location(f)) } }
                            td {
                                @match assets.get(&f.asset_id) {
                                    Some(a) => a href={ "/assets/" (a.id) } { (a.name) },
                                    None => (f.asset_id),
                                }
                            }
                            td { (status_label(f.status)) }
                            td { (due(f, now)) }
                            td { (layout::time(f.last_seen)) }
                        }
                    }
                }
            }
            @if let Some(cursor) = &page.next_cursor {
                p.paging { a rel="next" href=(super::link_with(uri, "cursor", cursor)) { "Lower priorities →" } }
            }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    id: Result<PathId<FindingId>, ApiError>,
) -> Response {
    let finding = match id {
        Ok(PathId(id)) => state.vulnerabilities.finding(&session.principal, id).await,
        Err(error) => Err(error.error),
    };
    let finding = match finding {
        Ok(finding) => finding,
        Err(error) => return super::error_page(&session, error),
    };
    let asset = state
        .vulnerabilities
        .asset(&session.principal, finding.asset_id)
        .await
        .ok();
    let title = finding.report.title.clone();
    let body = finding_page(&finding, asset.as_ref(), &session, state.clock.now());
    Html(layout::page(&title, Some(&session), Section::Findings, body).into_string())
        .into_response()
}

fn finding_page(
    finding: &Finding,
    asset: Option<&Asset>,
    session: &Session,
    now: Timestamp,
) -> Markup {
    let report = &finding.report;
    html! {
        p.crumbs { a href="/findings" { "← Findings" } }
        h1 { (report.title) }
        dl.facts {
            dt { "Priority" } dd { (priority_badge(&finding.priority)) }
            dt { "Severity" } dd { (severity_badge(finding.severity)) }
            dt { "Status" } dd {
                (status_label(finding.status))
                @if let Some(reason) = &finding.status_reason { " — " (reason) }
                @if let Some(until) = finding.risk_accepted_until { " (review by " (layout::time(until)) ")" }
            }
            dt { "Asset" } dd {
                @match asset {
                    Some(a) => a href={ "/assets/" (a.id) } { (a.name) },
                    None => (finding.asset_id),
                }
                " · scan type " code { (finding.scan_type) }
            }
            @if !report.vulnerability_ids.is_empty() {
                dt { "Advisories" } dd { (report.vulnerability_ids.join(", ")) }
            }
            @if let Some(rule) = &report.rule_id { dt { "Rule" } dd { code { (rule) } } }
            @if let Some(component) = &report.component {
                dt { "Component" } dd {
                    code { (component) " " (report.component_version.as_deref().unwrap_or("")) }
                    @if let Some(fixed) = &report.fixed_version { " — fixed in " code { (fixed) } }
                }
            }
            @if let Some(path) = &report.file_path {
                dt { "File" } dd { code { (path) @if let Some(line) = report.line { ":" (line) } } }
            }
            @if !report.endpoints.is_empty() {
                dt { "Seen at" } dd { @for e in &report.endpoints { code { (e) } " " } }
            }
            @if !report.cwes.is_empty() {
                dt { "Weaknesses" } dd { @for c in &report.cwes { "CWE-" (c) " " } }
            }
            @if let Some(vector) = report.cvss_v3_vector.as_ref().or(report.cvss_v4_vector.as_ref()) {
                dt { "CVSS vector" } dd { code { (vector) } }
            }
            @if let Some(score) = report.cvss_score { dt { "CVSS score" } dd { (score) } }
            @if let Some(epss) = report.epss { dt { "EPSS" } dd { (format!("{epss:.3}")) } }
            @if report.occurrences > 1 { dt { "Occurrences" } dd { (report.occurrences) } }
            dt { "First seen" } dd { (layout::time(finding.first_seen)) }
            @if finding.due_at.is_some() { dt { "Due" } dd { (due(finding, now)) } }
            dt { "Last seen" } dd { (layout::time(finding.last_seen)) }
            @if let Some(closed) = finding.closed_at { dt { "Closed" } dd { (layout::time(closed)) } }
            dt { "Fingerprint" } dd { code { (report.fingerprint) } }
        }
        h2 { "Why priority " (finding.priority.score) }
        ul.reasons {
            @for c in &finding.priority.contributions {
                li { strong { (c.effect) } " " (c.reason) }
            }
        }
        @if !report.description.is_empty() {
            h2 { "Description" }
            p.description { (report.description) }
        }
        @if let Some(mitigation) = &report.mitigation {
            h2 { "Mitigation" }
            p.description { (mitigation) }
        }
        @if !report.references.is_empty() {
            h2 { "References" }
            ul { @for r in &report.references { li { code { (r) } } } }
        }
        @if session.principal.may(Permission::Analyse) {
            h2 { "Decision" }
            form.editor method="post" action={ "/findings/" (finding.id) "/status" } {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="decision" { "Status" }
                select #decision name="status" {
                    @for s in [FindingStatus::FalsePositive, FindingStatus::RiskAccepted, FindingStatus::Open] {
                        option value=(s.as_str()) selected[s == finding.status] { (s.as_str().replace('_', " ")) }
                    }
                }
                label for="reason" { "Reason (required for a false positive or an accepted risk)" }
                textarea #reason name="reason" rows="2" maxlength="2000" {}
                label for="until" { "Accepted until (for an accepted risk)" }
                input #until type="date" name="risk_accepted_until";
                div.actions { button type="submit" { "Decide" } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    csrf: String,
    status: String,
    reason: Option<String>,
    risk_accepted_until: Option<String>,
}

/// `2027-03-01` as midnight UTC of that day.
fn date(text: &str) -> Result<Timestamp, rampart_core::Error> {
    Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z"))
        .ok_or_else(|| rampart_core::Error::invalid_field("risk_accepted_until", "not a date"))
}

pub async fn decide(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<FindingId>, ApiError>,
    Form(form): Form<DecisionForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    let Some(status) = FindingStatus::parse(&form.status) else {
        return super::error_page(
            &session,
            rampart_core::Error::invalid_field("status", "false_positive, risk_accepted or open"),
        );
    };
    let until = match form.risk_accepted_until.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() && status == FindingStatus::RiskAccepted => match date(text)
        {
            Ok(t) => Some(t),
            Err(error) => return super::error_page(&session, error),
        },
        _ => None,
    };
    let patch = FindingPatch {
        status,
        reason: form.reason,
        risk_accepted_until: until,
    };
    match state
        .vulnerabilities
        .decide(&session.principal, id, patch)
        .await
    {
        Ok(_) => Redirect::to(&format!("/findings/{id}")).into_response(),
        Err(error) => super::error_page(&session, error),
    }
}

#[derive(Deserialize, Default)]
pub struct ImportListParams {
    cursor: Option<String>,
}

/// The organisation's imports, newest first (`/imports`).
pub async fn imports(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    uri: axum::http::Uri,
    Query(params): Query<ImportListParams>,
) -> Response {
    let page = PageParams {
        limit: Some(50),
        cursor: params.cursor,
    };
    let imports = match state
        .vulnerabilities
        .imports(&session.principal, None, &page)
        .await
    {
        Ok(imports) => imports,
        Err(error) => return super::error_page(&session, error),
    };
    let assets = asset_names(&state, &session).await;
    let body = html! {
        p.crumbs { a href="/assets" { "← Assets" } }
        h1 { "Imports" }
        (super::assets::import_table(&imports.items, Some(&assets)))
        @if let Some(cursor) = &imports.next_cursor {
            p.paging { a rel="next" href=(super::link_with(&uri, "cursor", cursor)) { "Older →" } }
        }
    };
    Html(layout::page("Imports", Some(&session), Section::Assets, body).into_string())
        .into_response()
}

/// The findings policy form's fields.
#[derive(Deserialize)]
pub struct PolicyForm {
    csrf: String,
    critical: String,
    high: String,
    medium: String,
    low: String,
    info: String,
    expiry_warning_days: String,
    /// One per line: points, then the phrase.
    phrases: String,
}

impl PolicyForm {
    fn check(&self) -> Result<FindingPolicy, rampart_core::Error> {
        let days = |field: &str, text: &str| -> Result<Option<u32>, rampart_core::Error> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse().map(Some).map_err(|_| {
                rampart_core::Error::invalid_field(
                    &format!("sla_days.{field}"),
                    "a number of days, or empty for none",
                )
            })
        };
        let mut phrases = Vec::new();
        for (n, line) in self.phrases.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (points, phrase) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let points = points.parse().map_err(|_| {
                rampart_core::Error::invalid_field(
                    &format!("phrases[{n}]"),
                    "each line: points, then the phrase (e.g. 8 remote code execution)",
                )
            })?;
            phrases.push(Phrase {
                phrase: phrase.trim().to_owned(),
                points,
            });
        }
        Ok(FindingPolicy {
            sla_days: SlaDays {
                critical: days("critical", &self.critical)?,
                high: days("high", &self.high)?,
                medium: days("medium", &self.medium)?,
                low: days("low", &self.low)?,
                info: days("info", &self.info)?,
            },
            expiry_warning_days: self.expiry_warning_days.trim().parse().map_err(|_| {
                rampart_core::Error::invalid_field("expiry_warning_days", "a number of days")
            })?,
            phrases: (!phrases.is_empty()).then_some(phrases),
        })
    }
}

pub async fn policy(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    render_policy(&state, &session, None).await
}

async fn render_policy(
    state: &AppState,
    session: &Session,
    outcome: Option<(StatusCode, String)>,
) -> Response {
    let policy = match state.vulnerabilities.policy(&session.principal).await {
        Ok(policy) => policy,
        Err(error) => return super::error_page(session, error),
    };
    let admin = session.principal.may(Permission::Admin);
    let value = |d: Option<u32>| d.map(|d| d.to_string()).unwrap_or_default();
    let phrases: String = policy
        .phrases
        .iter()
        .flatten()
        .map(|p| format!("{} {}\n", p.points, p.phrase))
        .collect();
    let body = html! {
        p.crumbs { a href="/findings" { "← Findings" } }
        h1 { "Findings policy" }
        p.note { "Deadlines per severity (days from first seen; empty: none): findings past theirs are announced once through the notification rules (finding.sla_breached), and accepted risks are announced before their review date and reopened after it (finding.risk_expiring). Phrases in a finding's title or description add points to its priority (15 at most); changing them scores every finding again." }
        @match &outcome {
            Some((StatusCode::OK, text)) => p.result role="status" { (text) },
            Some((_, detail)) => (layout::problem(detail)),
            None => {},
        }
        form.editor method="post" action="/findings/policy" {
            input type="hidden" name="csrf" value=(session.csrf);
            @for (name, days) in [("critical", policy.sla_days.critical), ("high", policy.sla_days.high), ("medium", policy.sla_days.medium), ("low", policy.sla_days.low), ("info", policy.sla_days.info)] {
                label for=(name) { "Days to fix a " (name) " finding" }
                input id=(name) name=(name) inputmode="numeric" value=(value(days)) disabled[!admin];
            }
            label for="expiry_warning_days" { "Warn this many days before an accepted risk's review date" }
            input #expiry_warning_days name="expiry_warning_days" inputmode="numeric" value=(policy.expiry_warning_days) disabled[!admin];
            label for="phrases" { "Phrases, one per line: points, then the phrase (empty: the built-in list)" }
            textarea #phrases name="phrases" rows="12" disabled[!admin] { (phrases) }
            @if admin { div.actions { button type="submit" { "Save" } } }
        }
    };
    let status = match &outcome {
        Some((status, _)) => *status,
        None => StatusCode::OK,
    };
    (
        status,
        Html(layout::page("Findings policy", Some(session), Section::Findings, body).into_string()),
    )
        .into_response()
}

pub async fn set_policy(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<PolicyForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let saved = match form.check() {
        Ok(policy) => {
            state
                .vulnerabilities
                .set_policy(&session.principal, policy)
                .await
        }
        Err(error) => Err(error),
    };
    let outcome = match saved {
        Ok(_) => (StatusCode::OK, "Saved.".to_owned()),
        Err(error) => super::problem_of(&error),
    };
    render_policy(&state, &session, Some(outcome)).await
}
