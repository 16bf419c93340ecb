//! Notifications. Admins: the organisation's channels (add, test, delete),
//! rules (add, delete) and the delivery log. Everyone: their own e-mail
//! preferences.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::notifications::{ChannelInput, NotificationRuleInput};
use rampart_app::paging::PageParams;
use rampart_core::notification::{ChannelTarget, NoticeKind, NotificationPrefs};
use rampart_core::{ChannelId, Error, NotificationRuleId, Permission};

use super::super::layout::{self, Section};
use super::super::session::Session;
use super::CsrfForm;
use crate::state::AppState;

/// A submitted form's fields, repeated names kept (checkbox lists).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(body: &[u8]) -> Fields {
        Fields(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn one(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn events(&self) -> Vec<NoticeKind> {
        self.all("events")
            .iter()
            .filter_map(|e| NoticeKind::parse(e))
            .collect()
    }

    fn severity(&self) -> u8 {
        self.one("min_severity").parse().unwrap_or(1)
    }
}

fn event_boxes(chosen: &[NoticeKind]) -> Markup {
    html! {
        fieldset {
            legend { "Events" }
            @for kind in NoticeKind::ROUTABLE {
                label { input type="checkbox" name="events" value=(kind.as_str()) checked[chosen.contains(&kind)]; " " (kind.as_str()) }
            }
        }
    }
}

fn severity_select(chosen: u8) -> Markup {
    html! {
        label for="min_severity" { "From severity" }
        select #min_severity name="min_severity" {
            @for s in 1..=5u8 { option value=(s) selected[s == chosen] { (s) } }
        }
    }
}

/// The admin page, with a problem from the last form when there was one.
async fn admin_page(state: &AppState, session: &Session, problem: Option<String>) -> Response {
    let principal = &session.principal;
    let channels = match state.notifications.channels(principal).await {
        Ok(c) => c,
        Err(error) => return super::error_page(session, error),
    };
    let rules = match state.notifications.rules(principal).await {
        Ok(r) => r,
        Err(error) => return super::error_page(session, error),
    };
    let page = PageParams {
        limit: Some(50),
        cursor: None,
    };
    let deliveries = match state
        .notifications
        .deliveries(principal, None, None, &page)
        .await
    {
        Ok(d) => d.items,
        Err(error) => return super::error_page(session, error),
    };
    let channel_name = |id: &ChannelId| {
        channels
            .iter()
            .find(|c| c.id == *id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    };
    let csrf = &session.csrf;
    let body = html! {
        h1 { "Notifications" }
        p.note { "Rules send incident notices to channels; every delivery is retried for about a day and logged below. Webhooks are signed (X-Rampart-Signature)." }
        @if let Some(problem) = &problem { (layout::problem(problem)) }
        h2 { "Channels" }
        @if channels.is_empty() { p.empty { "No channels yet." } } @else {
            table #channels {
                thead { tr { th { "Name" } th { "Kind" } th { "Target" } th { "State" } th { "" } } }
                tbody {
                    @for c in &channels {
                        tr {
                            td { (c.name) }
                            td { (c.kind) }
                            td {
                                @if let Some(url) = c.target.get("url").and_then(|u| u.as_str()) { code { (url) } }
                                @if let Some(to) = c.target.get("recipients").and_then(|r| r.as_array()) {
                                    (to.iter().filter_map(|t| t.as_str()).collect::<Vec<_>>().join(", "))
                                }
                            }
                            td { @if c.enabled { "on" } @else { strong { "off" } } }
                            td {
                                form.inline method="post" action={ "/admin/notifications/channels/" (c.id) "/test" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button type="submit" { "Send test" }
                                }
                                form.inline method="post" action={ "/admin/notifications/channels/" (c.id) "/delete" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.danger type="submit" { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h3 { "New channel" }
        form.editor #new-channel method="post" action="/admin/notifications/channels" {
            input type="hidden" name="csrf" value=(csrf);
            label for="channel-name" { "Name" }
            input #channel-name name="name" required maxlength="100";
            label for="kind" { "Kind" }
            select #kind name="kind" {
                option value="webhook" { "Webhook (signed JSON)" }
                option value="slack" { "Slack incoming webhook" }
                option value="email" { "E-mail" }
            }
            label for="url" { "URL (webhook, Slack)" }
            input #url name="url" type="url" placeholder="https://siem.example.com/rampart";
            label for="secret" { "Signing secret (webhook, 16+ characters)" }
            input #secret name="secret" type="password" autocomplete="new-password";
            label for="recipients" { "Recipients (e-mail, comma-separated)" }
            input #recipients name="recipients" placeholder="soc@example.com";
            div.actions { button type="submit" { "Add channel" } }
        }
        h2 { "Rules" }
        @if rules.is_empty() { p.empty { "No rules yet: nothing is sent to channels." } } @else {
            table #rules {
                thead { tr { th { "Name" } th { "Events" } th.num { "From severity" } th { "Channels" } th { "" } } }
                tbody {
                    @for r in &rules {
                        tr {
                            td { (r.name) @if !r.enabled { " (off)" } }
                            td { (r.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")) }
                            td.num { (r.min_severity) }
                            td { (r.channels.iter().map(&channel_name).collect::<Vec<_>>().join(", ")) }
                            td {
                                form.inline method="post" action={ "/admin/notifications/rules/" (r.id) "/delete" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.danger type="submit" { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !channels.is_empty() {
            h3 { "New rule" }
            form.editor #new-rule method="post" action="/admin/notifications/rules" {
                input type="hidden" name="csrf" value=(csrf);
                label for="rule-name" { "Name" }
                input #rule-name name="name" required maxlength="100";
                (event_boxes(&[NoticeKind::IncidentCreated]))
                (severity_select(3))
                fieldset {
                    legend { "Channels" }
                    @for c in &channels {
                        label { input type="checkbox" name="channels" value=(c.id); " " (c.name) }
                    }
                }
                div.actions { button type="submit" { "Add rule" } }
            }
        }
        h2 { "Recent deliveries" }
        @if deliveries.is_empty() { p.empty { "Nothing sent yet." } } @else {
            table #deliveries {
                thead { tr { th { "When" } th { "Notice" } th { "To" } th { "Subject" } th { "Status" } th.num { "Attempts" } th { "Last error" } } }
                tbody {
                    @for d in &deliveries {
                        tr {
                            td { (layout::time(d.created_at)) }
                            td { (d.notice.as_str()) }
                            td {
                                @if let Some(id) = &d.channel_id { (channel_name(id)) }
                                @if let Some(to) = &d.recipient { (to) }
                            }
                            td { (d.subject) }
                            td { (serde_json::to_value(d.status).ok().and_then(|s| s.as_str().map(str::to_owned)).unwrap_or_default()) }
                            td.num { (d.attempts) }
                            td { (d.last_error.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    };
    Html(layout::page("Notifications", Some(session), Section::Notifications, body).into_string())
        .into_response()
}

pub async fn admin(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    if let Err(error) = session.principal.require(Permission::Admin) {
        return super::error_page(&session, error);
    }
    admin_page(&state, &session, None).await
}

/// Back to the page, or the page again with what went wrong.
async fn after(state: &AppState, session: &Session, outcome: Result<(), Error>) -> Response {
    match outcome {
        Ok(()) => Redirect::to("/admin/notifications").into_response(),
        Err(error) => {
            let status = crate::error::ApiError::from(error.clone()).status;
            let mut page = admin_page(state, session, Some(super::detail(&error))).await;
            *page.status_mut() = status;
            page
        }
    }
}

pub async fn create_channel(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(page) = super::refusal(&session, &headers, &fields.one("csrf"), Permission::Admin) {
        return page;
    }
    let target = match fields.one("kind").as_str() {
        "email" => ChannelTarget::Email {
            recipients: fields
                .one("recipients")
                .split(',')
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect(),
            smtp: None,
        },
        "slack" => ChannelTarget::Slack {
            url: fields.one("url"),
        },
        _ => ChannelTarget::Webhook {
            url: fields.one("url"),
            secret: fields.one("secret"),
        },
    };
    let input = ChannelInput {
        name: fields.one("name"),
        enabled: Some(true),
        target,
    };
    let outcome = state
        .notifications
        .create_channel(&session.principal, input)
        .await
        .map(|_| ());
    after(&state, &session, outcome).await
}

pub async fn channel_action(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let Ok(id) = id.parse::<ChannelId>() else {
        return super::error_page(&session, Error::not_found("notification channel"));
    };
    let outcome = match action.as_str() {
        "test" => state
            .notifications
            .test_channel(&session.principal, id)
            .await
            .map(|_| ()),
        "delete" => {
            state
                .notifications
                .delete_channel(&session.principal, id)
                .await
        }
        _ => Err(Error::not_found("action")),
    };
    after(&state, &session, outcome).await
}

pub async fn create_rule(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(page) = super::refusal(&session, &headers, &fields.one("csrf"), Permission::Admin) {
        return page;
    }
    let input = NotificationRuleInput {
        name: fields.one("name"),
        events: fields.events(),
        min_severity: Some(fields.severity()),
        channels: fields
            .all("channels")
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect(),
        enabled: Some(true),
    };
    let outcome = state
        .notifications
        .create_rule(&session.principal, input)
        .await
        .map(|_| ());
    after(&state, &session, outcome).await
}

pub async fn delete_rule(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let Ok(id) = id.parse::<NotificationRuleId>() else {
        return super::error_page(&session, Error::not_found("notification rule"));
    };
    let outcome = state
        .notifications
        .delete_rule(&session.principal, id)
        .await;
    after(&state, &session, outcome).await
}

fn prefs_page(session: &Session, prefs: &NotificationPrefs, saved: bool) -> Response {
    let body = html! {
        h1 { "My notifications" }
        p.note { "What you are e-mailed about yourself, besides what your organisation's rules send to its channels." }
        @if saved { p.result role="status" { "Saved." } }
        form.editor #prefs method="post" action="/notifications" {
            input type="hidden" name="csrf" value=(session.csrf);
            label { input type="checkbox" name="assigned_to_me" value="true" checked[prefs.assigned_to_me]; " When an incident is assigned to me" }
            label { input type="checkbox" name="weekly_digest" value="true" checked[prefs.weekly_digest]; " A weekly digest (Mondays)" }
            (event_boxes(&prefs.events))
            (severity_select(prefs.min_severity))
            div.actions { button type="submit" { "Save" } }
        }
    };
    Html(layout::page("My notifications", Some(session), Section::None, body).into_string())
        .into_response()
}

pub async fn mine(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    match state.notifications.my_prefs(&session.principal).await {
        Ok(prefs) => prefs_page(&session, &prefs, false),
        Err(error) => super::error_page(&session, error),
    }
}

pub async fn save_mine(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(page) = super::refusal(&session, &headers, &fields.one("csrf"), Permission::Read) {
        return page;
    }
    let prefs = NotificationPrefs {
        assigned_to_me: fields.one("assigned_to_me") == "true",
        events: fields.events(),
        min_severity: fields.severity(),
        weekly_digest: fields.one("weekly_digest") == "true",
    };
    match state
        .notifications
        .set_my_prefs(&session.principal, prefs)
        .await
    {
        Ok(saved) => prefs_page(&session, &saved, true),
        Err(error) => super::error_page(&session, error),
    }
}
