//! The frame of every page: head, navigation, who is signed in, and the
//! shared pieces pages are made of (time, severity, status). Every value
//! goes through maud, which escapes it.

use maud::{html, Markup, DOCTYPE};
use rampart_app::api::events::Bucket;
use rampart_core::{IncidentStatus, Permission, Timestamp};

use super::assets;
use super::session::{Session, Theme};

/// Which section of the navigation a page belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Incidents,
    Events,
    Hunt,
    Findings,
    Assets,
    Scans,
    Rules,
    Indicators,
    Watchlists,
    Phishing,
    Validation,
    Users,
    ApiKeys,
    Audit,
    Jobs,
    Notifications,
    Flags,
    Settings,
    Organisations,
    None,
}

pub fn page(title: &str, session: Option<&Session>, section: Section, body: Markup) -> Markup {
    let nav = [
        (Section::Overview, "/", "Overview"),
        (Section::Incidents, "/incidents", "Incidents"),
        (Section::Events, "/events", "Events"),
        (Section::Hunt, "/hunt", "Hunt"),
        (Section::Findings, "/findings", "Findings"),
        (Section::Assets, "/assets", "Assets"),
        (Section::Scans, "/scans", "Scans"),
        (Section::Rules, "/rules", "Rules"),
        (Section::Indicators, "/ioc", "Indicators"),
        (Section::Watchlists, "/watchlists", "Watchlists"),
        (Section::Phishing, "/phishing", "Phishing"),
        (Section::Validation, "/validation", "Validation"),
    ];
    html! {
        (DOCTYPE)
        html lang="en" data-theme=[session.map(|s| s.theme).filter(|t| *t != Theme::System).map(Theme::as_str)] {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Rampart" }
                link rel="stylesheet" href={ "/static/" (assets::css_name()) };
                // htmx without inline styles or eval, so the CSP holds.
                meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}"#;
                script src={ "/static/" (assets::htmx_name()) } defer {}
                script src={ "/static/" (assets::script_name()) } defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "Rampart" }
                    @if let Some(session) = session {
                        nav aria-label="Sections" {
                            @for (s, href, label) in nav {
                                a href=(href) aria-current=[(s == section).then_some("page")] { (label) }
                            }
                            @if session.principal.may(Permission::Admin) {
                                a href="/admin/users" aria-current=[(section == Section::Users).then_some("page")] { "Users" }
                                a href="/admin/api-keys" aria-current=[(section == Section::ApiKeys).then_some("page")] { "API keys" }
                                a href="/admin/audit" aria-current=[(section == Section::Audit).then_some("page")] { "Audit" }
                                a href="/admin/jobs" aria-current=[(section == Section::Jobs).then_some("page")] { "Jobs" }
                                a href="/admin/notifications" aria-current=[(section == Section::Notifications).then_some("page")] { "Notifications" }
                                a href="/admin/flags" aria-current=[(section == Section::Flags).then_some("page")] { "Flags" }
                                a href="/admin/settings" aria-current=[(section == Section::Settings).then_some("page")] { "Settings" }
                            }
                            @if session.principal.require_platform_admin().is_ok() {
                                a href="/platform/organisations" aria-current=[(section == Section::Organisations).then_some("page")] { "Organisations" }
                            }
                        }
                        form.signout method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(session.csrf);
                            a href={ "/feedback?from=" (form_urlencoded::byte_serialize(session.path.as_bytes()).collect::<String>()) } { "Feedback" }
                            a href="/notifications" { "My notifications" }
                            a href="/security" { "Security" }
                            span.who { (session.who()) }
                            button type="submit" { "Sign out" }
                        }
                        form.theme method="post" action="/theme" aria-label="Colour theme" {
                            input type="hidden" name="csrf" value=(session.csrf);
                            input type="hidden" name="next" value=(session.path);
                            @for theme in Theme::ALL {
                                button type="submit" name="theme" value=(theme.as_str()) aria-pressed=(if theme == session.theme { "true" } else { "false" }) { (theme.as_str()) }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A time as UTC text, with the machine-readable value.
pub fn time(ts: Timestamp) -> Markup {
    let text = ts.to_string();
    html! { time datetime=(text) { (text.replace('T', " ").trim_end_matches('Z')) } }
}

/// A severity (1 informational … 5 critical) as a labelled badge.
pub fn severity(level: u8) -> Markup {
    let name = match level {
        0 | 1 => "info",
        2 => "low",
        3 => "medium",
        4 => "high",
        _ => "critical",
    };
    html! { span class={ "sev sev-" (name) } title={ "severity " (level) } { (name) } }
}

pub fn status(status: IncidentStatus) -> Markup {
    html! { span class={ "status status-" (status.as_str()) } { (status.as_str().replace('_', " ")) } }
}

/// A problem shown on a page (the API's detail text).
pub fn problem(detail: &str) -> Markup {
    html! { p.problem role="alert" { (detail) } }
}

/// Event counts per bucket from `start_ms` to `end_ms` as inline SVG bars
/// (empty buckets are gaps).
pub fn event_chart(buckets: &[Bucket], start_ms: i64, end_ms: i64, bucket_ms: i64) -> Markup {
    let bucket_ms = bucket_ms.max(1);
    let slots = usize::try_from(((end_ms - start_ms) / bucket_ms).max(1)).unwrap_or(1);
    let peak = buckets.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    let (width, height) = (600.0, 120.0);
    let bar = width / slots as f64;
    html! {
        svg.chart viewBox={ "0 0 " (width) " " (height) } preserveAspectRatio="none" role="img"
            aria-label={ "Events per " (bucket_ms / 1000) " seconds; the highest bar is " (peak) } {
            @for b in buckets {
                @let slot = (b.start.0 - start_ms).div_euclid(bucket_ms);
                @if slot >= 0 && (slot as usize) < slots {
                    @let h = (b.count as f64 / peak as f64 * (height - 4.0)).max(1.0);
                    rect x=(format!("{:.2}", slot as f64 * bar)) y=(format!("{:.2}", height - h))
                        width=(format!("{:.2}", (bar - 1.0).max(1.0))) height=(format!("{h:.2}")) {
                        title { (b.count) " events from " (b.start) }
                    }
                }
            }
        }
    }
}
