//! Hunt: a query in the hunting language over a time range, its rows
//! (events with links to them and to their entities' timelines, or
//! counts), what it read and how long it took; syntax errors point at
//! their column. Read-only, so the query lives in the address to share;
//! analysts can save it (`saved_hunts`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use maud::{html, Markup};
use rampart_app::api::hunt::{HuntReply, HuntRequest, RowKind};
use rampart_core::Permission;
use serde::Deserialize;
use serde_json::Value;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The ranges offered, in hours.
const RANGES: [(&str, i64); 5] = [
    ("1h", 1),
    ("24h", 24),
    ("7d", 168),
    ("30d", 720),
    ("90d", 2160),
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuntQuery {
    #[serde(default)]
    query: String,
    range: Option<String>,
    cursor: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    uri: axum::http::Uri,
    params: Result<ApiQuery<HuntQuery>, ApiError>,
) -> Response {
    let params = match params {
        Ok(ApiQuery(params)) => params,
        Err(error) => return super::error_page(&session, error),
    };
    let range = params.range.clone().unwrap_or_else(|| "24h".into());
    let hours = RANGES
        .iter()
        .find(|(name, _)| *name == range)
        .map_or(24, |(_, h)| *h);
    let mut status = StatusCode::OK;
    let outcome = if params.query.trim().is_empty() {
        None
    } else {
        let to = state.clock.now();
        let request = HuntRequest {
            query: params.query.clone(),
            from: Some(to.plus_secs(-hours * 3600)),
            to: Some(to),
            limit: Some(200),
            cursor: params.cursor.clone(),
        };
        match state.hunts.hunt(&session.principal, request).await {
            Ok(reply) => Some(Ok(reply)),
            Err(error) => {
                status = ApiError::from(error.clone()).status;
                Some(Err(error))
            }
        }
    };
    let body = html! {
        h1 { "Hunt" }
        p.note { a href="/hunt/saved" { "Saved hunts" } }
        form.editor method="get" action="/hunt" {
            label for="query" { "Query (e.g. " code { "source.ip:10.0.0.0/8 AND event.outcome:failure | stats count() by user.name | sort -count" } ")" }
            textarea #query name="query" rows="3" { (params.query) }
            label for="range" { "Range" }
            select #range name="range" {
                @for (name, _) in RANGES { option value=(name) selected[name == range] { "last " (name) } }
            }
            div.actions { button type="submit" { "Hunt" } }
        }
        p.note { "field:value (any case), \"phrases\", wild*cards, /regex/, AND / OR / NOT, ( ), event.severity >= 3, source.ip:10.0.0.0/8, _exists_:field, free text on the message; pipes: stats count() by a, b · sort -count · head N · fields a, b · timechart 5m by f." }
        @match &outcome {
            None => {}
            Some(Err(error)) => {
                (layout::problem(&super::detail(error)))
                @if let Some(column) = error.column { p.note #error-column { "At column " (column) "." } }
            }
            Some(Ok(reply)) => (results(&uri, reply)),
        }
        @if !params.query.trim().is_empty() && session.principal.may(Permission::Analyse) {
            details #save-hunt {
                summary { "Save this hunt" }
                form.editor method="post" action="/hunt/saved" {
                    (super::saved_hunts::fields(&session, None, &params.query))
                    div.actions { button type="submit" { "Save" } }
                }
            }
        }
    };
    (
        status,
        Html(layout::page("Hunt", Some(&session), Section::Hunt, body).into_string()),
    )
        .into_response()
}

fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

pub fn results(uri: &axum::http::Uri, reply: &HuntReply) -> Markup {
    html! {
        p #hunt-summary { (reply.matched) " matched of " (reply.scanned) " events read in " (reply.took_ms) " ms"
            @if reply.truncated { " (stopped early: counts are partial)" } }
        @if reply.rows.is_empty() {
            p.empty { "Nothing matched." }
        } @else if reply.kind == RowKind::Aggregates {
            @let columns: Vec<&String> = reply.rows[0].keys().filter(|k| *k != "count").collect();
            table #hunt-rows {
                thead { tr { @for c in &columns { th { (c) } } th { "count" } } }
                tbody { @for row in &reply.rows { tr {
                    @for c in &columns { td { (text(row.get(*c))) } }
                    td { (text(row.get("count"))) }
                } } }
            }
        } @else {
            table #hunt-rows {
                thead { tr { th { "Time" } th { "Source" } th { "Destination" } th { "Host" } th { "User" } th { "Message" } } }
                tbody { @for row in &reply.rows { tr {
                    td { a href={ "/events/" (text(row.get("id"))) } { (text(row.get("@timestamp"))) } }
                    @for (field, kind) in [("source.ip", "ip"), ("destination.ip", "ip"), ("host.name", "host"), ("user.name", "user")] {
                        td { @let value = text(row.get(field));
                            @if !value.is_empty() { a href=(super::entity_link(kind, &value)) { (value) } } }
                    }
                    td { (text(row.get("message"))) }
                } } }
            }
            @if let Some(cursor) = &reply.next_cursor {
                p.paging { a rel="next" href=(super::link_with(uri, "cursor", cursor)) { "More →" } }
            }
        }
    }
}
