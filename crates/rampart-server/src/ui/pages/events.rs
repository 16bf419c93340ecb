//! Events: the search of `GET /api/v1/events` as a form, a results table
//! with keyset paging, and one event with all its fields.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use maud::{html, Markup};
use rampart_app::api::events::{EventPage, EventStatsView};
use rampart_app::events::{chart_bucket_secs, StatsQuery};
use rampart_core::{Error, EventFilter, EventId, OrgId, Permission, Timestamp};
use serde::Deserialize;
use serde_json::Value;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::{ApiQuery, PathId};
use crate::routes::events::{FilterParams, SearchParams};
use crate::state::AppState;

/// The filter form's fields as sent, to show them again.
#[derive(Deserialize, Default)]
struct Chosen {
    q: Option<String>,
    source_ip: Option<String>,
    destination_ip: Option<String>,
    host: Option<String>,
    user: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// A preset range ending now, used when `from` is not given.
    range: Option<String>,
    /// Refresh the newest results every few seconds (the live tail).
    live: Option<String>,
    cursor: Option<String>,
    /// The field whose top values the facet panel shows.
    facet: Option<String>,
    /// Set when the facet panel is asked for: it scans the whole range, so
    /// the page first renders without it and then loads it (htmx).
    panel: Option<String>,
}

/// The preset ranges: their query value, label and length.
const RANGES: [(&str, &str, i64); 4] = [
    ("15m", "Last 15 minutes", 15 * 60_000),
    ("1h", "Last hour", 3_600_000),
    ("24h", "Last 24 hours", 86_400_000),
    ("7d", "Last 7 days", 7 * 86_400_000),
];

pub async fn search(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    uri: axum::http::Uri,
    filter: Result<ApiQuery<FilterParams>, ApiError>,
    params: Result<ApiQuery<SearchParams>, ApiError>,
) -> Response {
    let chosen: Chosen = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let mut facets = None;
    let page = match (filter, params) {
        (Ok(ApiQuery(filter)), Ok(ApiQuery(params))) => {
            match session.principal.require(Permission::Read) {
                Ok(()) => {
                    let limit = params.limit.map_or(100, |l| l.0);
                    let mut filter = filter.to_filter();
                    if filter.from.is_none() {
                        let preset = RANGES
                            .iter()
                            .find(|(value, _, _)| chosen.range.as_deref() == Some(*value));
                        if let Some((_, _, length)) = preset {
                            let now = state.clock.now();
                            filter.from = Some(rampart_core::Timestamp(now.0 - length));
                        }
                    }
                    let org = session.principal.org_id;
                    let field = chosen.facet.as_deref().unwrap_or(DEFAULT_FACET);
                    let now = state.clock.now();
                    if chosen.panel.is_some() {
                        facets = Some(facet(&state, org, &filter, field, now).await);
                    }
                    state
                        .events
                        .search(org, &filter, limit, params.cursor.as_deref())
                        .await
                }
                Err(error) => Err(error),
            }
        }
        (Err(error), _) | (_, Err(error)) => Err(error.error),
    };
    // The live tail reloads the first page of results in place (htmx).
    let tail = (chosen.live.is_some() && chosen.cursor.is_none()).then(|| {
        uri.path_and_query()
            .map_or("/events".to_owned(), |p| p.as_str().to_owned())
    });
    let body = html! {
        h1 { "Events" }
        (form(&chosen))
        div #results hx-get=[tail.as_deref()] hx-trigger=[tail.as_ref().map(|_| "every 5s")]
            hx-select=[tail.as_ref().map(|_| "#results")] hx-swap=[tail.as_ref().map(|_| "outerHTML")] {
            @match &page {
                Ok(page) => (event_table(page, &uri)),
                Err(error) => (layout::problem(&super::detail(error))),
            }
        }
        @match &facets {
            Some(facets) => (facet_panel(facets, &uri)),
            None => {
                @let panel = super::link_with(&uri, "panel", "1");
                section #facets.facets hx-get=(panel) hx-trigger="load" hx-select="#facets" hx-swap="outerHTML" {
                    p { a href=(panel) { "Counts over time and by field" } }
                }
            }
        }
    };
    Html(layout::page("Events", Some(&session), Section::Events, body).into_string())
        .into_response()
}

/// The facet panel's field when none is chosen.
const DEFAULT_FACET: &str = "source.ip";
/// The facet panel covers the last day when the search names no start.
const FACET_DEFAULT_MS: i64 = 86_400_000;

/// The top values of `field` and the counts over time, for the search's
/// filter (over its range, or the last day).
struct Facets {
    field: String,
    start: Timestamp,
    end: Timestamp,
    stats: Result<EventStatsView, Error>,
}

async fn facet(
    state: &AppState,
    org: OrgId,
    filter: &EventFilter,
    field: &str,
    now: Timestamp,
) -> Facets {
    let end = filter.to.unwrap_or(now);
    let start = filter.from.unwrap_or(Timestamp(end.0 - FACET_DEFAULT_MS));
    let mut ranged = filter.clone();
    ranged.from = Some(start);
    let query = StatsQuery {
        filter: &ranged,
        bucket_secs: chart_bucket_secs((end.0 - start.0) / 1000),
        top: Some(field.to_owned()),
        top_limit: 10,
        approximate_top: true,
    };
    Facets {
        field: field.to_owned(),
        start,
        end,
        stats: state.events.stats(org, query).await,
    }
}

fn facet_panel(facets: &Facets, uri: &axum::http::Uri) -> Markup {
    let filter_param = FACET_FIELDS
        .iter()
        .find(|(field, _)| *field == facets.field)
        .map(|(_, param)| *param);
    html! {
        section #facets.facets aria-label="Facets" {
            h2 { "Over time and by " (facets.field) }
            nav.ranges aria-label="Facet field" {
                @for (field, _) in FACET_FIELDS {
                    a href=(super::link_with(uri, "facet", field)) aria-current=[(*field == facets.field).then_some("page")] { (field) }
                }
            }
            @match &facets.stats {
                Ok(stats) => {
                    p.note { (stats.total) " matching events from " (layout::time(facets.start)) " to " (layout::time(facets.end)) " UTC" }
                    @if stats.top_approximate {
                        p.note { "Top values are approximate (added up from each stored block's most frequent values); narrow the search for exact counts." }
                    }
                    (layout::event_chart(&stats.buckets, facets.start.0, facets.end.0, stats.bucket_secs * 1000))
                    table {
                        tbody {
                            @for top in &stats.top {
                                tr {
                                    td {
                                        @match (filter_param, top.value.is_empty()) {
                                            (Some(param), false) => a href=(super::link_with(uri, param, &top.value)) { (top.value) },
                                            _ => (top.value),
                                        }
                                    }
                                    td.num { (top.count) }
                                }
                            }
                        }
                    }
                }
                Err(error) => (layout::problem(&error.detail)),
            }
        }
    }
}

/// Fields the panel offers, with the search parameter that filters by one
/// of their values.
const FACET_FIELDS: [(&str, &str); 6] = [
    ("source.ip", "source_ip"),
    ("destination.ip", "destination_ip"),
    ("user.name", "user"),
    ("host.name", "host"),
    ("event.outcome", "outcome"),
    ("event.action", "action"),
];

fn form(chosen: &Chosen) -> Markup {
    let text = |value: &Option<String>| value.clone();
    html! {
        form.filters method="get" action="/events" role="search" {
            div.field { label for="q" { "Text" } input #q type="search" name="q" value=[text(&chosen.q)]; }
            div.field { label for="source_ip" { "Source address or CIDR" } input #source_ip name="source_ip" placeholder="10.0.0.0/8" value=[text(&chosen.source_ip)]; }
            div.field { label for="destination_ip" { "Destination address or CIDR" } input #destination_ip name="destination_ip" value=[text(&chosen.destination_ip)]; }
            div.field { label for="host" { "Host" } input #host name="host" value=[text(&chosen.host)]; }
            div.field { label for="user" { "User" } input #user name="user" value=[text(&chosen.user)]; }
            div.field { label for="outcome" { "Outcome" } input #outcome name="outcome" placeholder="failure" value=[text(&chosen.outcome)]; }
            div.field {
                label for="range" { "Time" }
                select #range name="range" {
                    option value="" selected[chosen.range.is_none()] { "Any time" }
                    @for (value, label, _) in RANGES {
                        option value=(value) selected[chosen.range.as_deref() == Some(value)] { (label) }
                    }
                }
            }
            div.field { label for="from" { "From (custom)" } input #from name="from" placeholder="2026-12-01T00:00:00Z" value=[text(&chosen.from)]; }
            div.field { label for="to" { "To" } input #to name="to" value=[text(&chosen.to)]; }
            div.field.check {
                label { input type="checkbox" name="live" value="on" checked[chosen.live.is_some()]; " Live (newest first, every 5 s)" }
            }
            button type="submit" { "Search" }
        }
    }
}

/// A well-known field of an event view as text.
fn field<'v>(event: &'v Value, name: &str) -> &'v str {
    event.get(name).and_then(Value::as_str).unwrap_or("")
}

fn event_table(page: &EventPage, uri: &axum::http::Uri) -> Markup {
    html! {
        @if page.items.is_empty() {
            div.empty {
                p { "No events match." }
                p { "Send events with the API, for example:" }
                pre { "curl -H 'Authorization: Bearer rk_…' -H 'Content-Type: application/json' \\\n  -d '{\"message\":\"hello\"}' http://127.0.0.1:8080/api/v1/events" }
            }
        } @else {
            table {
                thead { tr { th { "Time" } th { "Severity" } th { "Category / action / outcome" } th { "Source" } th { "Host" } th { "User" } th { "Message" } } }
                tbody {
                    @for event in &page.items {
                        tr {
                            td { a href={ "/events/" (field(event, "id")) } { (field(event, "@timestamp").replace('T', " ").trim_end_matches('Z')) } }
                            td { @if let Some(level) = event.get("event.severity").and_then(Value::as_u64) { (layout::severity(u8::try_from(level).unwrap_or(u8::MAX))) } }
                            td { (field(event, "event.category")) " / " (field(event, "event.action")) " / " (field(event, "event.outcome")) }
                            td { (filter_link("source_ip", field(event, "source.ip"))) }
                            td { (filter_link("host", field(event, "host.name"))) }
                            td { (filter_link("user", field(event, "user.name"))) }
                            td.message { (field(event, "message")) }
                        }
                    }
                }
            }
            @if let Some(cursor) = &page.next_cursor {
                p.paging { a rel="next" href=(super::link_with(uri, "cursor", cursor)) { "Older events →" } }
            }
        }
    }
}

/// A value that filters the search by itself when clicked.
fn filter_link(name: &str, value: &str) -> Markup {
    html! {
        @if !value.is_empty() {
            a href={ "/events?" (name) "=" (form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()) } { (value) }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    id: Result<PathId<EventId>, ApiError>,
) -> Response {
    let event = match id {
        Ok(PathId(id)) => match session.principal.require(Permission::Read) {
            Ok(()) => state.events.get(session.principal.org_id, id).await,
            Err(error) => Err(error),
        },
        Err(error) => Err(error.error),
    };
    match event {
        Ok(event) => {
            let body = html! {
                p.crumbs { a href="/events" { "← Events" } }
                h1 { "Event " (field(&event, "id")) }
                @if session.principal.may(Permission::Analyse) {
                    p { a href={ "/incidents/new?event=" (field(&event, "id")) } { "Open an incident about this event" } }
                }
                (fields_table(&event))
            };
            Html(layout::page("Event", Some(&session), Section::Events, body).into_string())
                .into_response()
        }
        Err(error) => super::error_page(&session, error),
    }
}

/// An event's fields as `(dotted name, text)`, nested objects flattened.
pub(super) fn dotted_fields(event: &Value) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    flatten("", event, &mut rows);
    rows
}

/// Every field of an event, nested objects flattened to dotted names.
fn fields_table(event: &Value) -> Markup {
    let rows = dotted_fields(event);
    html! {
        table.fields {
            thead { tr { th { "Field" } th { "Value" } } }
            tbody {
                @for (name, value) in &rows {
                    tr { th scope="row" { (name) } td { (value)
                        @if let Some(kind) = super::entity_kind_of(name) {
                            " " a.timeline href=(super::entity_link(kind, value)) { "timeline" }
                        } } }
                }
            }
        }
    }
}

fn flatten(prefix: &str, value: &Value, rows: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let name = match prefix {
                    "" => key.clone(),
                    // The stored remainder is shown under its own names.
                    "fields" => key.clone(),
                    _ => format!("{prefix}.{key}"),
                };
                flatten(&name, value, rows);
            }
        }
        Value::String(text) => rows.push((prefix.to_owned(), text.clone())),
        other => rows.push((prefix.to_owned(), other.to_string())),
    }
}
