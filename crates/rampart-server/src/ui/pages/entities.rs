//! An entity's timeline: everything known about an address, a user or a
//! host (events, alerts, incidents, open findings, watchlist entries),
//! newest first; reached from any such value on the event and incident
//! pages.

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use maud::html;
use rampart_app::api::entities::{EntityKind, ItemKind, TimelineItem};
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineQuery {
    value: String,
    days: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(kind): Path<String>,
    query: Result<ApiQuery<TimelineQuery>, ApiError>,
) -> Response {
    let query = match query {
        Ok(ApiQuery(query)) => query,
        Err(error) => return super::error_page(&session, error),
    };
    let Some(kind) = EntityKind::parse(&kind) else {
        return super::error_page(
            &session,
            rampart_core::Error::invalid_field("kind", "ip, user or host"),
        );
    };
    let days = query.days.unwrap_or(7);
    let timeline = match state
        .entities
        .timeline(&session.principal, kind, &query.value, days)
        .await
    {
        Ok(timeline) => timeline,
        Err(error) => return super::error_page(&session, error),
    };
    let events_link = match kind {
        EntityKind::Ip => format!("/events?source_ip={}", encode(&timeline.value)),
        EntityKind::User => format!("/events?user={}", encode(&timeline.value)),
        EntityKind::Host => format!("/events?host={}", encode(&timeline.value)),
    };
    let body = html! {
        h1 { (kind.as_str()) " " code { (timeline.value) } }
        p.note { "Events of the last " (days) " days ("
            @for d in [1, 7, 30, 90] {
                a href=(format!("{}&days={d}", super::entity_link(kind.as_str(), &timeline.value))) { (d) " d" } " "
            }
            "), with every alert, incident and open finding that names it. "
            a href=(events_link) { "Search its events" } }
        @if !timeline.watchlist.is_empty() {
            div.problem role="alert" {
                "On the watchlist: "
                @for e in &timeline.watchlist {
                    (e.kind.as_str()) " " code { (e.value) } " (" (e.source) @if !e.tags.is_empty() { ", " (e.tags.join(", ")) } ") "
                }
            }
        }
        @if !timeline.assets.is_empty() {
            p { "Asset: " @for a in &timeline.assets { a href={ "/assets/" (a.id) } { (a.name) } " (criticality " (a.criticality) ", " (a.exposure.as_str()) ") " } }
        }
        @if timeline.items.is_empty() {
            p.empty { "Nothing known about it in this range." }
        } @else {
            table #timeline {
                thead { tr { th { "When" } th { "What" } th { "Severity" } th { "" } th { "Detail" } } }
                tbody {
                    @for item in &timeline.items {
                        tr class={ "item-" (kind_name(item.kind)) } {
                            td { (layout::time(item.at)) }
                            td { (kind_name(item.kind)) }
                            td { @if let Some(s) = item.severity { (layout::severity(s)) } }
                            td { a href=(link(item)) { (item.title) } }
                            td { (item.detail.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    };
    Html(layout::page("Timeline", Some(&session), Section::Events, body).into_string())
        .into_response()
}

fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Event => "event",
        ItemKind::Alert => "alert",
        ItemKind::Incident => "incident",
        ItemKind::Finding => "finding",
        ItemKind::Phishing => "phishing report",
    }
}

fn link(item: &TimelineItem) -> String {
    let id = &item.id;
    match item.kind {
        ItemKind::Event => format!("/events/{id}"),
        // An alert is shown on its incident's page.
        ItemKind::Alert => format!(
            "/incidents/{}",
            item.incident.as_deref().unwrap_or_default()
        ),
        ItemKind::Incident => format!("/incidents/{id}"),
        ItemKind::Finding => format!("/findings/{id}"),
        ItemKind::Phishing => format!("/phishing/{id}"),
    }
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
