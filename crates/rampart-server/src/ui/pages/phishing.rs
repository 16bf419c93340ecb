//! Phishing: report a suspicious message (upload the .eml or paste its
//! source), the organisation's reports with their verdicts, one report's
//! analysis (reasons with evidence, the text and links shown as text, never
//! the HTML), its indicators to the watchlist in one click, and the
//! organisation's phishing settings (admins).

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::phishing::{PhishingReport, PhishingSettings};
use rampart_app::paging::PageParams;
use rampart_app::phishing::PhishingFilter;
use rampart_core::phishing::PhishSource;
use rampart_core::{Permission, PhishingMessageId};
use serde::Deserialize;
use serde_json::Value;

use super::super::layout::{self, Section};
use super::super::session::Session;
use super::CsrfForm;
use crate::error::ApiError;
use crate::extract::{ApiQuery, PathId};
use crate::state::AppState;

/// The list's filters and the last form's outcome.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    verdict: String,
    cursor: Option<String>,
    done: Option<String>,
}

const VERDICTS: [&str; 4] = ["clean", "suspicious", "phishing", "simulation"];

fn done(path: &str, message: &str) -> Response {
    let query = serde_urlencoded::to_string([("done", message)]).unwrap_or_default();
    Redirect::to(&format!("{path}?{query}")).into_response()
}

fn verdict_badge(verdict: Option<&str>) -> Markup {
    html! {
        @match verdict {
            Some(v) => span class={ "verdict verdict-" (v) } { (v) },
            None => span.verdict { "queued" },
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    uri: axum::http::Uri,
    query: Result<ApiQuery<ListQuery>, ApiError>,
) -> Response {
    let query = match query {
        Ok(ApiQuery(query)) => query,
        Err(error) => return super::error_page(&session, error),
    };
    let filter = PhishingFilter {
        verdict: Some(query.verdict.clone()).filter(|v| !v.is_empty()),
        status: None,
    };
    let page = PageParams {
        limit: Some(100),
        cursor: query.cursor.clone(),
    };
    let messages = match state
        .phishing
        .list(&session.principal, &filter, &page)
        .await
    {
        Ok(messages) => messages,
        Err(error) => return super::error_page(&session, error),
    };
    let settings = if session.principal.may(Permission::Admin) {
        state.phishing.settings(&session.principal).await.ok()
    } else {
        None
    };
    let body = html! {
        h1 { "Phishing" }
        p.note { "Report a suspicious e-mail: upload it as a file (.eml, \"Save as\" or \"Download message\" in most mail programs) or paste its source. Each message is analysed once; a score at or above the organisation's threshold opens an incident." }
        @if let Some(done) = &query.done { p.ok role="status" { (done) } }
        form.editor method="post" action="/phishing" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="message-file" { "Message file (.eml)" }
            input #message-file type="file" name="message" accept=".eml,message/rfc822";
            label for="message-source" { "…or its source" }
            textarea #message-source name="source" rows="6" {}
            @if session.principal.may(Permission::Analyse) {
                label { input type="checkbox" name="bulk" value="1"; " bulk (analysed after users' reports)" }
            }
            div.actions { button type="submit" { "Report" } }
        }
        form.filters method="get" action="/phishing" {
            label for="f-verdict" { "Verdict" }
            select #f-verdict name="verdict" {
                option value="" { "any" }
                @for v in VERDICTS { option value=(v) selected[query.verdict == v] { (v) } }
            }
            button type="submit" { "Filter" }
        }
        @if messages.items.is_empty() {
            p.empty { "No reports yet." }
        } @else {
            table #phishing {
                thead { tr { th { "Received" } th { "From" } th { "Subject" } th { "Score" } th { "Verdict" } th { "Reported by" } } }
                tbody {
                    @for m in &messages.items {
                        tr {
                            td { a href={ "/phishing/" (m.id) } { (layout::time(m.received_at)) } }
                            td { (m.sender.as_deref().unwrap_or("")) }
                            td { a href={ "/phishing/" (m.id) } { (m.subject.as_deref().unwrap_or("(no subject)")) } }
                            td { @if let Some(score) = m.score { (score) } }
                            td { @if m.error.is_some() { "unreadable" } @else { (verdict_badge(m.verdict.as_deref())) } }
                            td { (m.reporter) " (" (m.source.as_str()) ")" }
                        }
                    }
                }
            }
            @if let Some(cursor) = &messages.next_cursor {
                p.paging { a rel="next" href=(super::link_with(&uri, "cursor", cursor)) { "More →" } }
            }
        }
        @if let Some(settings) = settings { (settings_form(&session, &settings)) }
    };
    Html(layout::page("Phishing", Some(&session), Section::Phishing, body).into_string())
        .into_response()
}

fn settings_form(session: &Session, settings: &PhishingSettings) -> Markup {
    let lines = |list: &[String]| list.join("\n");
    html! {
        h2 { "Settings" }
        form.editor method="post" action="/phishing/settings" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="own_domains" { "The organisation's own domains (one a line): mail imitating them is suspect" }
            textarea #own_domains name="own_domains" rows="3" { (lines(&settings.own_domains)) }
            label for="trusted" { "Receiving servers whose Authentication-Results count (authserv-ids, one a line; outlook.com for Microsoft 365)" }
            textarea #trusted name="trusted_authserv_ids" rows="3" { (lines(&settings.trusted_authserv_ids)) }
            label for="sim_senders" { "Phishing-simulation sender domains (one a line)" }
            textarea #sim_senders name="simulation_senders" rows="2" { (lines(&settings.simulation_senders)) }
            label for="sim_headers" { "Phishing-simulation headers (Name: value, one a line)" }
            textarea #sim_headers name="simulation_headers" rows="2" { (lines(&settings.simulation_headers)) }
            label for="threshold" { "Open an incident at a score of" }
            input #threshold name="incident_threshold" type="number" min="1" max="100" value=(settings.incident_threshold);
            div.actions { button type="submit" { "Save settings" } }
        }
    }
}

/// The settings form's fields.
#[derive(Deserialize)]
pub struct SettingsForm {
    csrf: String,
    #[serde(default)]
    own_domains: String,
    #[serde(default)]
    trusted_authserv_ids: String,
    #[serde(default)]
    simulation_senders: String,
    #[serde(default)]
    simulation_headers: String,
    incident_threshold: String,
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

pub async fn save_settings(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let Ok(incident_threshold) = form.incident_threshold.trim().parse() else {
        return super::error_page(
            &session,
            rampart_core::Error::invalid_field("incident_threshold", "a number from 1 to 100"),
        );
    };
    let settings = PhishingSettings {
        own_domains: lines(&form.own_domains),
        trusted_authserv_ids: lines(&form.trusted_authserv_ids),
        simulation_senders: lines(&form.simulation_senders),
        simulation_headers: lines(&form.simulation_headers),
        incident_threshold,
    };
    match state
        .phishing
        .set_settings(&session.principal, settings)
        .await
    {
        Ok(_) => done("/phishing", "Settings saved."),
        Err(error) => super::error_page(&session, error),
    }
}

/// Reads the report form (CSRF first) and sends the message in.
pub async fn report(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let bad = |detail: String| {
        super::error_page(
            &session,
            rampart_core::Error::bad_request("invalid_upload", detail),
        )
    };
    let mut multipart = match multipart {
        Ok(multipart) => multipart,
        Err(rejection) => return bad(format!("not a form upload: {rejection}")),
    };
    let (mut csrf_checked, mut raw, mut bulk) = (false, Vec::new(), false);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return bad(format!("the form could not be read: {error}")),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if !csrf_checked {
            let token = if name == "csrf" {
                field.text().await.unwrap_or_default()
            } else {
                String::new()
            };
            if let Some(page) = super::refusal(&session, &headers, &token, Permission::Read) {
                return page;
            }
            csrf_checked = true;
            continue;
        }
        match field.bytes().await {
            Ok(bytes) => match name.as_str() {
                "message" if !bytes.is_empty() => raw = bytes.to_vec(),
                "source" if raw.is_empty() && !bytes.iter().all(u8::is_ascii_whitespace) => {
                    raw = bytes.to_vec()
                }
                "bulk" => bulk = true,
                _ => {}
            },
            Err(error) => return bad(format!("field {name} could not be read: {error}")),
        }
    }
    if !csrf_checked {
        return super::csrf_refused(&session);
    }
    let source = if bulk {
        PhishSource::Bulk
    } else {
        PhishSource::Reported
    };
    match state
        .phishing
        .submit(&session.principal, &raw, source)
        .await
    {
        Ok(submitted) => {
            let note = if submitted.duplicate {
                "This message was reported before; here is its analysis."
            } else {
                "Reported: the analysis is queued."
            };
            done(&format!("/phishing/{}", submitted.id), note)
        }
        Err(error) => super::error_page(&session, error),
    }
}

/// The last form's outcome on a report's page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    id: Result<PathId<PhishingMessageId>, ApiError>,
    query: Result<ApiQuery<ShowQuery>, ApiError>,
) -> Response {
    let (PathId(id), ApiQuery(query)) = match (id, query) {
        (Ok(id), Ok(query)) => (id, query),
        (Err(error), _) | (_, Err(error)) => return super::error_page(&session, error),
    };
    let report = match state.phishing.get(&session.principal, id).await {
        Ok(report) => report,
        Err(error) => return super::error_page(&session, error),
    };
    let title = report
        .message
        .subject
        .clone()
        .unwrap_or_else(|| "(no subject)".into());
    let body = report_body(&session, &report, query.done.as_deref());
    Html(layout::page(&title, Some(&session), Section::Phishing, body).into_string())
        .into_response()
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

fn report_body(session: &Session, report: &PhishingReport, done: Option<&str>) -> Markup {
    let m = &report.message;
    let analysis = report.analysis.as_ref();
    let summary = analysis.map(|a| &a["summary"]);
    let may_analyse = session.principal.may(Permission::Analyse);
    html! {
        p { a href="/phishing" { "← Phishing" } }
        h1 { (m.subject.as_deref().unwrap_or("(no subject)")) }
        @if let Some(done) = done { p.ok role="status" { (done) } }
        dl.facts {
            dt { "Verdict" } dd #verdict { @if m.error.is_some() { "unreadable" } @else { (verdict_badge(m.verdict.as_deref())) } }
            dt { "Score" } dd #score { @if let Some(score) = m.score { (score) " / 100" } @else { "—" } }
            @if let Some(error) = &m.error { dt { "Error" } dd { (error) } }
            dt { "Reported by" } dd { (m.reporter) " (" (m.source.as_str()) "), " (layout::time(m.received_at)) }
            dt { "SHA-256" } dd { code { (m.sha256) } }
            @if let Some(incident) = m.incident_id { dt { "Incident" } dd { a href={ "/incidents/" (incident) } { "open the incident" } } }
        }
        @if may_analyse {
            p { a href={ "/phishing/" (m.id) "/raw" } { "Download the message (.eml)" } }
        }
        @if let (Some(analysis), Some(summary)) = (analysis, summary) {
            h2 { "Reasons" }
            @if analysis["reasons"].as_array().is_none_or(|r| r.is_empty()) {
                p.empty { "Nothing suspicious was found." }
            } @else {
                table #reasons {
                    thead { tr { th { "Weight" } th { "Reason" } th { "Evidence" } } }
                    tbody { @for r in analysis["reasons"].as_array().into_iter().flatten() {
                        tr { td { "+" (r["weight"]) } td { code { (text(&r["code"])) } } td { (text(&r["evidence"])) } }
                    } }
                }
            }
            h2 { "Headers" }
            dl.facts {
                dt { "From" } dd { (text(&summary["from"]["name"])) " <" (text(&summary["from"]["address"])) ">" }
                @if !summary["reply_to"].is_null() { dt { "Reply-To" } dd { (text(&summary["reply_to"]["address"])) } }
                @if !summary["return_path"].is_null() { dt { "Return-Path" } dd { (text(&summary["return_path"])) } }
                dt { "Date" } dd { (text(&summary["date"])) }
                @let auth = &summary["authentication"];
                dt { "Authentication" } dd {
                    @if auth.is_null() { "no results from a trusted receiving server" }
                    @else { "spf=" (text(&auth["spf"])) " · dmarc=" (text(&auth["dmarc"])) " · dkim=" (auth["dkim"]) }
                }
                @if summary["forwarded"] == true { dt { "Forwarded" } dd { "analysed the message attached to the report" } }
            }
            h2 { "Links" }
            @if summary["links"].as_array().is_none_or(|l| l.is_empty()) { p.empty { "No links." } }
            @else {
                table #links {
                    thead { tr { th { "Shown as" } th { "Goes to" } } }
                    tbody { @for l in summary["links"].as_array().into_iter().flatten().take(200) {
                        tr { td { (text(&l["text"])) } td { code { (text(&l["url"])) } } }
                    } }
                }
            }
            h2 { "Attachments" }
            @if summary["attachments"].as_array().is_none_or(|a| a.is_empty()) { p.empty { "No attachments." } }
            @else {
                table #attachments {
                    thead { tr { th { "Name" } th { "Type" } th { "Size" } th { "SHA-256" } th { "Risk" } } }
                    tbody { @for a in summary["attachments"].as_array().into_iter().flatten() {
                        tr { td { (text(&a["name"])) } td { (text(&a["content_type"])) } td { (a["size"]) } td { code { (text(&a["sha256"])) } } td { (text(&a["risk"])) } }
                    } }
                }
            }
            h2 { "Indicators" }
            ul #iocs {
                @for (kind, values) in analysis["iocs"].as_object().into_iter().flatten() {
                    @for v in values.as_array().into_iter().flatten().take(100) {
                        li { (kind) " " code { (text(v)) } }
                    }
                }
            }
            @if may_analyse {
                form method="post" action={ "/phishing/" (m.id) "/watchlist" } {
                    input type="hidden" name="csrf" value=(session.csrf);
                    button type="submit" { "Add these to the watchlist" }
                }
            }
            h2 { "Text (as sent; never rendered)" }
            pre #message-text { (text(&summary["text"])) }
        } @else if m.error.is_none() {
            p.note { "The analysis is queued; reload in a moment." }
        }
    }
}

pub async fn to_watchlist(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<PhishingMessageId>, ApiError>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let PathId(id) = match id {
        Ok(id) => id,
        Err(error) => return super::error_page(&session, error),
    };
    match state
        .phishing
        .add_to_watchlist(&session.principal, id)
        .await
    {
        Ok(reply) => done(
            &format!("/phishing/{id}"),
            &format!(
                "Watchlist: {} added, {} refreshed.",
                reply.created, reply.updated
            ),
        ),
        Err(error) => super::error_page(&session, error),
    }
}

pub async fn raw(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    id: Result<PathId<PhishingMessageId>, ApiError>,
) -> Response {
    let PathId(id) = match id {
        Ok(id) => id,
        Err(error) => return super::error_page(&session, error),
    };
    match state.phishing.raw(&session.principal, id).await {
        Ok(raw) => (
            StatusCode::OK,
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
            .into_response(),
        Err(error) => super::error_page(&session, error),
    }
}
