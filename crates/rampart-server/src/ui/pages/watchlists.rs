//! Watchlists: the organisation's watched indicators with their hits,
//! filters, adding one, pasting a feed (CSV or a STIX bundle), hunting an
//! entry back in time, deleting one, and the whole list as a file.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::watchlists::{
    FeedFormat, HuntRequest, WatchlistEntryInput, WatchlistImportReply, WatchlistImportRequest,
};
use rampart_app::paging::PageParams;
use rampart_app::watchlists::EntryFilter;
use rampart_core::watchlist::{IndicatorType, WatchlistEntry};
use rampart_core::{Permission, Timestamp, WatchlistEntryId};
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::{ApiQuery, PathId};
use crate::state::AppState;

/// The list's filters, as the page's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    include_expired: Option<String>,
    cursor: Option<String>,
    /// What the last form did (shown once).
    done: Option<String>,
}

fn filled(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

impl ListQuery {
    fn filter(&self) -> EntryFilter {
        EntryFilter {
            kind: IndicatorType::parse(&self.kind),
            source: filled(&self.source),
            tag: filled(&self.tag),
            text: filled(&self.q),
            include_expired: self.include_expired.is_some(),
        }
    }
}

/// A form's refusal shown on the page.
struct Outcome(StatusCode, String);

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    uri: axum::http::Uri,
    query: Result<ApiQuery<ListQuery>, ApiError>,
) -> Response {
    match query {
        Ok(ApiQuery(query)) => render(&state, &session, &uri, &query, None).await,
        Err(error) => super::error_page(&session, error),
    }
}

async fn render(
    state: &AppState,
    session: &Session,
    uri: &axum::http::Uri,
    query: &ListQuery,
    outcome: Option<Outcome>,
) -> Response {
    let page = PageParams {
        limit: Some(100),
        cursor: query.cursor.clone(),
    };
    let entries = match state
        .watchlists
        .list(&session.principal, &query.filter(), &page)
        .await
    {
        Ok(entries) => entries,
        Err(error) => return super::error_page(session, error),
    };
    let may_change = session.principal.may(Permission::Analyse);
    let now = state.clock.now();
    let body = html! {
        h1 { "Watchlists" }
        p.note { "Indicators watched for in every event as it arrives: addresses and networks in source.ip, destination.ip and the message; domains, URLs, e-mail addresses and hashes wherever they appear (dns.question.name, url.full, file.hash.*, email.from.address, …). Values are compared parsed: example.com does not match example.commercial. A hit raises an alert that joins the entry's open incident. "
            a href="/watchlists/export/csv" { "Export CSV" } " · " a href="/watchlists/export/stix" { "Export STIX 2.1" } }
        @if let Some(done) = &query.done { p.ok role="status" { (done) } }
        @if let Some(Outcome(_, detail)) = &outcome { (layout::problem(detail)) }
        form.filters method="get" action="/watchlists" {
            label for="f-type" { "Type" }
            select #f-type name="type" {
                option value="" { "any" }
                @for t in IndicatorType::ALL {
                    option value=(t.as_str()) selected[query.kind == t.as_str()] { (t.as_str()) }
                }
            }
            label for="f-q" { "Value contains" }
            input #f-q name="q" value=(query.q);
            label for="f-source" { "Source" }
            input #f-source name="source" value=(query.source);
            label for="f-tag" { "Tag" }
            input #f-tag name="tag" value=(query.tag);
            label { input type="checkbox" name="include_expired" value="1" checked[query.include_expired.is_some()]; " expired too" }
            button type="submit" { "Filter" }
        }
        @if entries.items.is_empty() {
            p.empty { "No entries. Add one below, paste a feed, or send the indicators of a report from the " a href="/ioc" { "Indicators" } " page." }
        } @else {
            table #watchlist {
                thead { tr { th { "Type" } th { "Value" } th { "Source" } th { "Tags" } th { "Severity" } th { "Expires" } th { "Hits" } th { "Last hit" }
                    @if may_change { th { "" } } } }
                tbody {
                    @for e in &entries.items {
                        (row(session, e, now, may_change))
                    }
                }
            }
            @if let Some(cursor) = &entries.next_cursor {
                p.paging { a rel="next" href=(super::link_with(uri, "cursor", cursor)) { "More →" } }
            }
        }
        @if may_change {
            h2 { "Add an entry" }
            (add_form(session))
            h2 { "Paste a feed" }
            form.editor method="post" action="/watchlists/import" {
                input type="hidden" name="csrf" value=(session.csrf);
                label for="feed" { "CSV (a header naming value, type, tags, severity, expires_at, …, or one value per line) or a STIX 2.1 bundle. Larger files: POST /api/v1/watchlists/import." }
                textarea #feed name="feed" rows="6" required {}
                label for="feed-source" { "Source" }
                input #feed-source name="source" maxlength="200" placeholder="import";
                label for="feed-days" { "Expire after (days; empty: as the feed says)" }
                input #feed-days name="expires_in_days" type="number" min="1" max="3650";
                div.actions { button type="submit" { "Import" } }
            }
        }
    };
    let status = outcome.map_or(StatusCode::OK, |Outcome(status, _)| status);
    (
        status,
        Html(layout::page("Watchlists", Some(session), Section::Watchlists, body).into_string()),
    )
        .into_response()
}

fn row(session: &Session, e: &WatchlistEntry, now: Timestamp, may_change: bool) -> Markup {
    html! {
        tr {
            td { (e.kind.as_str()) }
            td { code { (e.value) } @if e.include_subdomains { " and subdomains" }
                @if let Some(d) = &e.description { br; span.note { (d) } } }
            td { (e.source) }
            td { (e.tags.join(", ")) }
            td { (layout::severity(e.severity)) }
            td { @match e.expires_at {
                Some(at) if at <= now => { "expired " (layout::time(at)) }
                Some(at) => (layout::time(at)),
                None => "never",
            } }
            td { (e.hits) }
            td { @if let Some(at) = e.last_hit_at { (layout::time(at)) } }
            @if may_change {
                td.actions {
                    form method="post" action={ "/watchlists/" (e.id) "/hunt" } {
                        input type="hidden" name="csrf" value=(session.csrf);
                        input type="number" name="days" min="1" max="90" value="7" aria-label="days back" size="3";
                        button type="submit" { "Hunt back" }
                    }
                    form method="post" action={ "/watchlists/" (e.id) "/delete" } {
                        input type="hidden" name="csrf" value=(session.csrf);
                        button.danger type="submit" { "Delete" }
                    }
                }
            }
        }
    }
}

fn add_form(session: &Session) -> Markup {
    html! {
        form.editor method="post" action="/watchlists" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="type" { "Type" }
            select #type name="type" {
                @for t in IndicatorType::ALL { option value=(t.as_str()) { (t.as_str()) } }
            }
            label for="value" { "Value (defanged forms are read; *.example.com watches its subdomains too)" }
            input #value name="value" required maxlength="2048";
            label { input type="checkbox" name="include_subdomains" value="1"; " include subdomains (domains)" }
            label for="severity" { "Severity of its alerts" }
            select #severity name="severity" {
                @for (level, name) in [(1, "info"), (2, "low"), (3, "medium"), (4, "high"), (5, "critical")] {
                    option value=(level) selected[level == 4] { (name) }
                }
            }
            label for="tags" { "Tags (separated by commas)" }
            input #tags name="tags";
            label for="expires" { "Expires (date, UTC; empty: never)" }
            input #expires name="expires" type="date";
            label for="description" { "Description" }
            input #description name="description" maxlength="1000";
            div.actions { button type="submit" { "Add" } }
        }
    }
}

/// What an import did, in a sentence, with its first refusals.
fn import_summary(reply: &WatchlistImportReply) -> String {
    let mut text = format!(
        "Read {} indicators ({}): {} added, {} refreshed, {} refused.",
        reply.read,
        reply.format.as_str(),
        reply.created,
        reply.updated,
        reply.refused
    );
    for e in reply.errors.iter().take(3) {
        text.push_str(&format!(" Item {}", e.index));
        if let Some(field) = &e.field {
            text.push_str(&format!(" ({field})"));
        }
        text.push_str(&format!(": {}.", e.detail));
    }
    text
}

/// The add form's fields.
#[derive(Deserialize)]
pub struct AddForm {
    csrf: String,
    #[serde(rename = "type")]
    kind: String,
    value: String,
    include_subdomains: Option<String>,
    severity: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    expires: String,
    #[serde(default)]
    description: String,
}

impl AddForm {
    fn input(self) -> Result<WatchlistEntryInput, rampart_core::Error> {
        let kind = IndicatorType::parse(&self.kind)
            .ok_or_else(|| rampart_core::Error::invalid_field("type", "not a watchlist type"))?;
        let expires_at = match self.expires.trim() {
            "" => None,
            date => Some(
                Timestamp::parse_rfc3339(&format!("{date}T00:00:00Z")).ok_or_else(|| {
                    rampart_core::Error::invalid_field("expires", "a date such as 2027-01-31")
                })?,
            ),
        };
        Ok(WatchlistEntryInput {
            kind,
            value: self.value,
            include_subdomains: self.include_subdomains.is_some(),
            source: None,
            tags: self
                .tags
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            description: Some(self.description).filter(|d| !d.trim().is_empty()),
            severity: self.severity.trim().parse().ok(),
            expires_at,
        })
    }
}

fn problem(error: &rampart_core::Error) -> Outcome {
    Outcome(ApiError::from(error.clone()).status, super::detail(error))
}

fn done(message: &str) -> Response {
    let query = serde_urlencoded::to_string([("done", message)]).unwrap_or_default();
    Redirect::to(&format!("/watchlists?{query}")).into_response()
}

pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Form(form): Form<AddForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let created = match form.input() {
        Ok(input) => state.watchlists.create(&session.principal, input).await,
        Err(error) => Err(error),
    };
    match created {
        Ok(entry) => done(&format!("Added {} {}.", entry.kind.as_str(), entry.value)),
        Err(error) => {
            render(
                &state,
                &session,
                &uri,
                &ListQuery::default(),
                Some(problem(&error)),
            )
            .await
        }
    }
}

/// The paste form's fields (also what the Indicators page sends).
#[derive(Deserialize)]
pub struct ImportForm {
    csrf: String,
    feed: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    expires_in_days: String,
}

pub async fn import(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Form(form): Form<ImportForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let expires_in_days = match form.expires_in_days.trim() {
        "" => Ok(None),
        days => days
            .parse()
            .map(Some)
            .map_err(|_| rampart_core::Error::invalid_field("expires_in_days", "a number of days")),
    };
    let imported = match expires_in_days {
        Ok(expires_in_days) => {
            let request = WatchlistImportRequest {
                format: None,
                source: filled(&form.source),
                expires_in_days,
                severity: None,
            };
            state
                .watchlists
                .import(&session.principal, form.feed.as_bytes(), request)
                .await
        }
        Err(error) => Err(error),
    };
    match imported {
        Ok(reply) => done(&import_summary(&reply)),
        Err(error) => {
            render(
                &state,
                &session,
                &uri,
                &ListQuery::default(),
                Some(problem(&error)),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct HuntForm {
    csrf: String,
    days: String,
}

pub async fn hunt(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    id: Result<PathId<WatchlistEntryId>, ApiError>,
    Form(form): Form<HuntForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    let days = form.days.trim().parse().unwrap_or(0);
    match state
        .watchlists
        .hunt(&session.principal, id, HuntRequest { days })
        .await
    {
        Ok(_) => done(&format!(
            "Hunting back {days} days: matches raise alerts (see Incidents)."
        )),
        Err(error) => {
            render(
                &state,
                &session,
                &uri,
                &ListQuery::default(),
                Some(problem(&error)),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    id: Result<PathId<WatchlistEntryId>, ApiError>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Analyse) {
        return page;
    }
    let id = match id {
        Ok(PathId(id)) => id,
        Err(error) => return super::error_page(&session, error),
    };
    match state.watchlists.delete(&session.principal, id).await {
        Ok(()) => done("Deleted."),
        Err(error) => super::error_page(&session, error),
    }
}

pub async fn export(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(format): Path<String>,
) -> Response {
    let format = match format.as_str() {
        "csv" => FeedFormat::Csv,
        "stix" => FeedFormat::Stix,
        _ => {
            return super::error_page(
                &session,
                rampart_core::Error::invalid_field("format", "csv or stix"),
            )
        }
    };
    match state
        .watchlists
        .export(&session.principal, &EntryFilter::default(), format)
        .await
    {
        Ok(file) => crate::routes::vulns::file_response(file),
        Err(error) => super::error_page(&session, error),
    }
}
