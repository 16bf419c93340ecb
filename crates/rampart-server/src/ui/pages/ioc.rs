//! Indicators: paste a threat report, an e-mail or log lines and read the
//! indicators it holds (defanged ones refanged), each with its words as
//! written and its confidence. Nothing is stored.

use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use rampart_app::ioc::{IocReply, IocRequest};
use rampart_core::Permission;
use serde::Deserialize;

use super::super::layout::{self, Section};
use super::super::session::Session;

fn page(session: &Session, text: &str, reply: Option<&IocReply>) -> Response {
    let body = html! {
        h1 { "Indicators" }
        p.note { "Paste a threat report, an e-mail or log lines. Defanged forms (hxxp, [.], [at], …) are recognised; domains are checked against the Public Suffix List. Nothing is stored." }
        form.editor method="post" action="/ioc" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="text" { "Text" }
            textarea #text name="text" rows="10" required { (text) }
            div.actions { button type="submit" { "Extract" } }
        }
        @if let Some(reply) = reply {
            (results(reply))
        }
    };
    Html(layout::page("Indicators", Some(session), Section::Indicators, body).into_string())
        .into_response()
}

fn results(reply: &IocReply) -> Markup {
    html! {
        h2 { (reply.summary.len()) " distinct indicators" }
        @if reply.indicators.is_empty() {
            p.empty { "None found." }
        } @else {
            table #indicators {
                thead { tr { th { "Kind" } th { "Value" } th { "Confidence" } th { "As written" } } }
                tbody {
                    @for found in &reply.indicators {
                        tr {
                            td { (found.kind.as_str()) }
                            td { code { (found.value) } }
                            td { (found.confidence.as_str()) }
                            td { code { (found.original) } }
                        }
                    }
                }
            }
        }
    }
}

pub async fn form(Extension(session): Extension<Session>) -> Response {
    page(&session, "", None)
}

#[derive(Deserialize)]
pub struct ExtractForm {
    csrf: String,
    text: String,
}

pub async fn extract(
    Extension(session): Extension<Session>,
    headers: HeaderMap,
    Form(form): Form<ExtractForm>,
) -> Response {
    if let Some(page) = super::refusal(&session, &headers, &form.csrf, Permission::Read) {
        return page;
    }
    let request = IocRequest {
        text: form.text.clone(),
    };
    match rampart_app::ioc::extract_indicators(&session.principal, request).await {
        Ok(reply) => page(&session, &form.text, Some(&reply)),
        Err(error) => super::error_page(&session, error),
    }
}
