//! The dashboard: incidents by status, severity and age, and the events of
//! the chosen range (a chart of their rate, the top sources, users and
//! hosts), each number a link to the list behind it.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use maud::{html, Markup};
use rampart_app::api::events::TopValue;
use rampart_app::api::overview::OverviewView;
use rampart_app::overview::parse_range;
use rampart_core::Permission;
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;
use crate::state::AppState;

const RANGES: [(&str, &str); 4] = [
    ("15m", "15 minutes"),
    ("1h", "hour"),
    ("24h", "24 hours"),
    ("7d", "7 days"),
];

#[derive(Deserialize)]
pub struct Params {
    range: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Query<Params>,
) -> Response {
    let range = params.range.unwrap_or_else(|| "1h".into());
    let overview = match session.principal.require(Permission::Read) {
        Ok(()) => match parse_range(&range) {
            Ok(secs) => state.overview.get(session.principal.org_id, secs).await,
            Err(error) => Err(error),
        },
        Err(error) => Err(error),
    };
    let overview = match overview {
        Ok(overview) => overview,
        Err(error) => return super::error_page(&session, error),
    };
    let refresh = format!("/?range={}", encode(&range));
    let body = html! {
        h1 { "Overview" }
        nav.ranges aria-label="Range" {
            "Last "
            @for (value, label) in RANGES {
                a href={ "/?range=" (value) } aria-current=[(value == range).then_some("page")] { (label) }
            }
        }
        // Refreshed in place every 10 seconds (htmx), from this same page.
        div #overview hx-get=(refresh) hx-trigger="every 10s" hx-select="#overview" hx-swap="outerHTML" {
            (incidents(&overview))
            (events(&overview, &range))
            (detection(&overview))
            p.note { "Updated " (layout::time(overview.at)) " UTC; refreshes every 10 seconds." }
        }
    };
    Html(layout::page("Overview", Some(&session), Section::Overview, body).into_string())
        .into_response()
}

fn detection(overview: &OverviewView) -> Markup {
    html! {
        div.columns {
            section {
                h2 { "Rules with the most hits" }
                @if overview.top_rules.is_empty() { p.note { "No rule has matched yet." } } @else {
                    table {
                        tbody {
                            @for rule in &overview.top_rules {
                                tr {
                                    td { a href={ "/rules/" (encode(&rule.rule_id)) } { (rule.title) } }
                                    td.num { (rule.hits) }
                                }
                            }
                        }
                    }
                }
            }
            section {
                h2 { "Validation" }
                p {
                    a href="/validation" { (overview.validation_passed) " passed, " (overview.validation_failed) " failed" }
                    " in this range"
                }
                @if !overview.validation.is_empty() {
                    table {
                        thead { tr { th { "Rule" } th { "Source" } th.num { "Passed" } th.num { "Failed" } } }
                        tbody {
                            @for rule in &overview.validation {
                                tr {
                                    td { a href="/validation" { (rule.name) } }
                                    td { (rule.source.as_deref().unwrap_or("all")) }
                                    td.num { (rule.passed) }
                                    td.num { (rule.failed) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A mean response time for people: seconds, minutes, hours or days.
fn duration(secs: Option<i64>) -> String {
    match secs {
        None => "–".into(),
        Some(s) if s < 120 => format!("{s} s"),
        Some(s) if s < 2 * 3_600 => format!("{} min", s / 60),
        Some(s) if s < 2 * 86_400 => format!("{:.1} h", s as f64 / 3_600.0),
        Some(s) => format!("{:.1} d", s as f64 / 86_400.0),
    }
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn incidents(overview: &OverviewView) -> Markup {
    let ages = [
        ("under_1h", "under an hour"),
        ("under_24h", "under a day"),
        ("under_7d", "under a week"),
        ("older", "older"),
    ];
    html! {
        section.cards aria-label="Incidents by status" {
            @for count in &overview.incidents_by_status {
                a.card href={ "/incidents?status=" (count.status.as_str()) } {
                    span.count { (count.count) }
                    span.label { (count.status.as_str().replace('_', " ")) }
                }
            }
        }
        section.cards aria-label="Response times" {
            div.card {
                span.count { (duration(overview.mean_time_to_acknowledge_secs)) }
                span.label { "mean time to acknowledge (" (overview.acknowledged) " in range)" }
            }
            div.card {
                span.count { (duration(overview.mean_time_to_close_secs)) }
                span.label { "mean time to resolve (" (overview.closed) " closed in range)" }
            }
        }
        div.columns {
            section {
                h2 { "Open incidents by severity" }
                table {
                    tbody {
                        @for count in overview.open_by_severity.iter().rev() {
                            tr {
                                td { (layout::severity(count.severity)) }
                                td.num {
                                    a href={ "/incidents?status=open,acknowledged,investigating&min_severity=" (count.severity) } { (count.count) }
                                }
                            }
                        }
                    }
                }
            }
            section {
                h2 { "Open incidents by age" }
                table {
                    tbody {
                        @for (key, label) in ages {
                            tr {
                                td { (label) }
                                td.num { (overview.open_by_age.iter().find(|a| a.age == key).map_or(0, |a| a.count)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn events(overview: &OverviewView, range: &str) -> Markup {
    let per_minute = overview.events_total as f64 * 60.0 / overview.range_secs.max(1) as f64;
    html! {
        section {
            h2 { "Events" }
            @if overview.events_total == 0 {
                div.empty {
                    p { "No events in this range. Send your first events:" }
                    pre { "curl -H 'Authorization: Bearer rk_…' -H 'Content-Type: application/x-ndjson' \\\n  --data-binary @events.ndjson http://127.0.0.1:8080/api/v1/events" }
                }
            } @else {
                p {
                    a href={ "/events?range=" (range) } {
                        (overview.events_total) @if overview.events_total == 1 { " event" } @else { " events" }
                    }
                    ", " (format!("{per_minute:.1}")) " a minute on average, "
                    (overview.events_last_minute) " in the last minute"
                }
                (layout::event_chart(
                    &overview.events,
                    overview.at.0 - overview.range_secs * 1000,
                    overview.at.0,
                    overview.events_bucket_secs * 1000,
                ))
                div.columns {
                    (top("Top source addresses", "source_ip", &overview.top_sources, range))
                    (top("Top users", "user", &overview.top_users, range))
                    (top("Top hosts", "host", &overview.top_hosts, range))
                }
                @if overview.top_approximate {
                    p.note { "Top values are approximate: many distinct values, added up from each stored block's most frequent ones." }
                }
            }
        }
    }
}

fn top(title: &str, param: &str, values: &[TopValue], range: &str) -> Markup {
    html! {
        section {
            h2 { (title) }
            @if values.is_empty() { p.note { "None in this range." } } @else {
                table {
                    tbody {
                        @for value in values {
                            tr {
                                td {
                                    a href={ "/events?range=" (range) "&" (param) "=" (form_urlencoded::byte_serialize(value.value.as_bytes()).collect::<String>()) } { (value.value) }
                                }
                                td.num { (value.count) }
                            }
                        }
                    }
                }
            }
        }
    }
}
