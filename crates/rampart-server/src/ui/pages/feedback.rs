//! Feedback: every user sends a bug, an idea or a question (from the page
//! they were on) and reads the answers to their own; admins answer and
//! close their organisation's at `/admin/feedback`.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::api::feedback::{FeedbackChange, FeedbackView, NewFeedback};
use rampart_app::paging::PageParams;
use rampart_core::feedback::{FeedbackKind, FeedbackStatus};
use rampart_core::{FeedbackId, Permission};
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::{self, Session};
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct Params {
    /// The page the user came from.
    from: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
}

fn item(f: &FeedbackView) -> Markup {
    html! {
        article.comment {
            header {
                strong { (f.kind.as_str()) } " · " (f.status.as_str()) " · " (layout::time(f.created_at))
                @if let Some(page) = &f.page { " · from " code { (page) } }
            }
            p { (f.message) }
            @if let Some(answer) = &f.answer {
                p { strong { "Answer: " } (answer) }
            }
        }
    }
}

pub async fn mine(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(params): Query<Params>,
) -> Response {
    let page = PageParams {
        limit: Some(50),
        cursor: params.cursor.clone(),
    };
    let mine = match state.feedback.mine(&session.principal, &page).await {
        Ok(mine) => mine,
        Err(error) => return super::error_page(&session, error),
    };
    let from = session::safe_next(params.from.as_deref());
    let body = html! {
        h1 { "Feedback" }
        p.note { "Found a bug, have an idea or a question? Your organisation's admins read and answer it here." }
        @if session.principal.may(Permission::Admin) {
            p { a href="/admin/feedback" { "Answer your organisation's feedback →" } }
        }
        form.editor method="post" action="/feedback" {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="page" value=(from);
            label for="kind" { "Kind" }
            select #kind name="kind" {
                @for kind in FeedbackKind::ALL { option value=(kind.as_str()) { (kind.as_str()) } }
            }
            label for="message" { "Message" }
            textarea #message name="message" rows="5" required maxlength="5000" {}
            div.actions { button type="submit" { "Send" } }
        }
        h2 { "What you sent" }
        @if mine.items.is_empty() { p.empty { "Nothing yet." } }
        @for f in &mine.items { (item(f)) }
    };
    Html(layout::page("Feedback", Some(&session), Section::None, body).into_string())
        .into_response()
}

#[derive(Deserialize)]
pub struct SendForm {
    csrf: String,
    kind: String,
    message: String,
    page: Option<String>,
}

pub async fn send(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<SendForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Read) {
        return page;
    }
    let Some(kind) = FeedbackKind::parse(&form.kind) else {
        return super::error_page(
            &session,
            rampart_core::Error::invalid_field("kind", "bug, idea or question"),
        );
    };
    let input = NewFeedback {
        kind,
        message: form.message,
        page: form.page,
    };
    match state.feedback.submit(&session.principal, input).await {
        Ok(_) => Redirect::to("/feedback").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}

pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    uri: axum::http::Uri,
    Query(params): Query<Params>,
) -> Response {
    let status = params.status.as_deref().and_then(FeedbackStatus::parse);
    let page = PageParams {
        limit: Some(50),
        cursor: params.cursor.clone(),
    };
    let all = match state.feedback.list(&session.principal, status, &page).await {
        Ok(all) => all,
        Err(error) => return super::error_page(&session, error),
    };
    let body = html! {
        h1 { "Your organisation's feedback" }
        nav.ranges aria-label="Status" {
            a href="/admin/feedback" aria-current=[status.is_none().then_some("page")] { "All" }
            @for s in FeedbackStatus::ALL {
                a href={ "/admin/feedback?status=" (s.as_str()) } aria-current=[(status == Some(s)).then_some("page")] { (s.as_str()) }
            }
        }
        @if all.items.is_empty() { p.empty { "No feedback here." } }
        @for f in &all.items {
            (item(f))
            form.inline method="post" action={ "/admin/feedback/" (f.id) } {
                input type="hidden" name="csrf" value=(session.csrf);
                label for={ "answer-" (f.id) } { "Answer" }
                textarea id={ "answer-" (f.id) } name="answer" rows="2" maxlength="5000" {}
                button type="submit" name="action" value="answer" { "Answer" }
                @if f.status != FeedbackStatus::Closed {
                    button type="submit" name="action" value="close" { "Close" }
                }
            }
        }
        @if let Some(cursor) = &all.next_cursor {
            p.paging { a rel="next" href=(super::link_with(&uri, "cursor", cursor)) { "Older →" } }
        }
    };
    Html(layout::page("Feedback", Some(&session), Section::None, body).into_string())
        .into_response()
}

#[derive(Deserialize)]
pub struct AnswerForm {
    csrf: String,
    action: String,
    answer: Option<String>,
}

pub async fn answer(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Admin) {
        return page;
    }
    let Ok(id) = id.parse::<FeedbackId>() else {
        return super::error_page(&session, rampart_core::Error::not_found("feedback"));
    };
    let change = match form.action.as_str() {
        "close" => FeedbackChange {
            answer: None,
            status: Some(FeedbackStatus::Closed),
        },
        _ => FeedbackChange {
            answer: Some(form.answer.unwrap_or_default()),
            status: None,
        },
    };
    match state.feedback.change(&session.principal, id, change).await {
        Ok(_) => Redirect::to("/admin/feedback").into_response(),
        Err(error) => super::error_page(&session, error),
    }
}
