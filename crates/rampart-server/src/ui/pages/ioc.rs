//! Indicators: paste a threat report, an e-mail or log lines and read the
//! indicators it holds (defanged ones refanged), each with its words as
//! written and its confidence. Nothing is stored unless an analyst adds
//! them to the watchlist (one button).

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
            @if session.principal.may(Permission::Analyse) && !watchable(reply).is_empty() {
                form.editor method="post" action="/watchlists/import" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="feed" value=(watchable(reply));
                    input type="hidden" name="source" value="indicators page";
                    div.actions { button #to-watchlist type="submit" { "Add these to the watchlist" } }
                }
            }
        }
    };
    Html(layout::page("Indicators", Some(session), Section::Indicators, body).into_string())
        .into_response()
}

/// The indicators a watchlist can hold (not CVE ids), as the CSV the
/// watchlist import reads.
fn watchable(reply: &IocReply) -> String {
    let set = &reply.summary;
    let rows = [
        ("ip", &set.ipv4),
        ("ip", &set.ipv6),
        ("domain", &set.domain),
        ("url", &set.url),
        ("email", &set.email),
        ("md5", &set.md5),
        ("sha1", &set.sha1),
        ("sha256", &set.sha256),
    ];
    let mut csv = String::new();
    for (kind, values) in rows {
        for value in values {
            csv.push_str(kind);
            csv.push(',');
            csv.push_str(&rampart_core::csv_text::cell(value));
            csv.push('\n');
        }
    }
    if csv.is_empty() {
        csv
    } else {
        format!("type,value\n{csv}")
    }
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
