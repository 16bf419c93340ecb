//! A raw message (RFC 5322, MIME) read into the facts the analysis judges:
//! addresses, the headers it trusts or checks, the text a reader sees, every
//! link with the text shown for it, and each attachment with its hashes.
//! Parsing is `mail-parser`'s (never panics, best effort on broken MIME);
//! the limits on parts, text and links are this module's.

use mail_parser::{Address, Message, MessageParser, MimeHeaders, PartType};
use md5::Md5;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::attachment::{self, Risk};
use super::html;

/// Most parts read from one message.
const MAX_PARTS: usize = 1_000;
/// Most text judged from one message.
const MAX_TEXT: usize = 2 << 20;
/// Most links and attachments kept.
const MAX_LINKS: usize = 2_000;
const MAX_ATTACHMENTS: usize = 200;
/// Most headers kept for the checks that read them.
const MAX_HEADERS: usize = 500;

/// A mailbox of a header: display name and address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    /// The domain of the address, lower case.
    pub fn domain(&self) -> String {
        domain_of(&self.address)
    }
}

/// The domain of an address (`a@B.test` → `b.test`).
pub fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// A link: the text a reader sees and where it goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Link {
    pub text: String,
    pub url: String,
}

/// An attachment with its hashes and risk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub size: usize,
    pub sha256: String,
    pub md5: String,
    /// Why it is risky, when it is.
    pub risk: Option<String>,
    #[serde(skip)]
    pub risk_kind: Option<Risk>,
}

/// What the analysis reads from a message.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub return_path: Option<String>,
    pub to: Vec<String>,
    pub subject: String,
    pub date: Option<String>,
    pub message_id: Option<String>,
    /// Every header as (name, unfolded raw value), in order, bounded.
    pub headers: Vec<(String, String)>,
    /// The text a reader sees: plain bodies, or HTML read as text.
    pub text: String,
    pub links: Vec<Link>,
    /// An HTML body asks for input (a form or a password field).
    pub has_form: bool,
    pub attachments: Vec<Attachment>,
    /// The message was forwarded as an attachment and this is the inner one.
    pub forwarded: bool,
}

/// Why a message could not be read at all.
#[derive(Debug, PartialEq, Eq)]
pub struct Unreadable(pub &'static str);

/// Reads `raw`. With `unwrap_forwarded`, a message whose only job is to
/// carry another (a report forwarded as an attachment) is read for the one
/// it carries.
pub fn read(raw: &[u8], unwrap_forwarded: bool) -> Result<Facts, Unreadable> {
    if raw.iter().take(4096).all(u8::is_ascii_whitespace) {
        return Err(Unreadable("the message is empty"));
    }
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(Unreadable("no message headers were found"))?;
    if message.from().is_none() && message.subject().is_none() && message.headers().len() < 2 {
        return Err(Unreadable("no message headers were found"));
    }
    if unwrap_forwarded {
        if let Some(inner) = forwarded(&message) {
            let mut facts = facts(inner);
            facts.forwarded = true;
            return Ok(facts);
        }
    }
    Ok(facts(&message))
}

/// The one message attached to `outer`, when it carries exactly one.
fn forwarded<'a>(outer: &'a Message<'a>) -> Option<&'a Message<'a>> {
    let mut inner = outer.parts.iter().filter_map(|part| match &part.body {
        PartType::Message(message) => Some(message),
        _ => None,
    });
    let first = inner.next()?;
    inner.next().is_none().then_some(first)
}

fn facts(message: &Message<'_>) -> Facts {
    let mut facts = Facts {
        from: first_mailbox(message.from()).or_else(|| raw_mailbox(message.header_raw("From"))),
        reply_to: first_mailbox(message.reply_to()),
        return_path: message
            .return_address()
            .map(|a| a.trim_matches(['<', '>']).to_owned()),
        to: message
            .to()
            .map(|to| {
                to.iter()
                    .filter_map(|a| a.address())
                    .map(str::to_owned)
                    .take(50)
                    .collect()
            })
            .unwrap_or_default(),
        subject: message.subject().unwrap_or("").to_owned(),
        date: message.date().map(|d| d.to_rfc3339()),
        message_id: message.message_id().map(str::to_owned),
        headers: message
            .headers_raw()
            .take(MAX_HEADERS)
            .map(|(name, value)| (name.to_owned(), unfold(value)))
            .collect(),
        ..Facts::default()
    };
    read_bodies(message, &mut facts);
    facts
}

/// Folded header lines joined, surrounding space trimmed.
fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn first_mailbox(address: Option<&Address<'_>>) -> Option<Mailbox> {
    let first = address?.first()?;
    let address = first.address()?.trim().to_owned();
    Some(Mailbox {
        name: first
            .name()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        address,
    })
}

/// A mailbox dug out of a header too broken to parse (`Team ,_<a@b.test>`):
/// the last `<…@…>`, or else the last word with an `@`.
fn raw_mailbox(raw: Option<&str>) -> Option<Mailbox> {
    let raw = unfold(raw?);
    let (name, address) = match raw.rfind('<') {
        Some(open) => {
            let inner = raw[open + 1..].split('>').next().unwrap_or("");
            (
                raw[..open].trim().trim_matches([',', '_', '"', ' ']),
                inner.trim(),
            )
        }
        None => (
            "",
            raw.split_whitespace()
                .rev()
                .find(|w| w.contains('@'))
                .unwrap_or(""),
        ),
    };
    let address = address.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
    let (local, domain) = address.split_once('@')?;
    if local.is_empty() || domain.is_empty() || address.contains(char::is_whitespace) {
        return None;
    }
    Some(Mailbox {
        name: (!name.is_empty()).then(|| name.to_owned()),
        address: address.to_owned(),
    })
}

fn read_bodies(message: &Message<'_>, facts: &mut Facts) {
    let mut saw_plain = false;
    for id in message.text_body.iter().take(MAX_PARTS) {
        let Some(part) = message.parts.get(*id as usize) else {
            continue;
        };
        if let PartType::Text(text) = &part.body {
            saw_plain = true;
            push_bounded(&mut facts.text, text);
        }
    }
    for id in message.html_body.iter().take(MAX_PARTS) {
        let Some(part) = message.parts.get(*id as usize) else {
            continue;
        };
        if let PartType::Html(markup) = &part.body {
            let read = html::read(markup);
            facts.has_form |= read.has_form;
            // Plain and HTML alternatives say the same; keep one text.
            if !saw_plain {
                push_bounded(&mut facts.text, &read.text);
            }
            for anchor in read.anchors {
                if facts.links.len() >= MAX_LINKS {
                    break;
                }
                if !anchor.href.is_empty() {
                    facts.links.push(Link {
                        text: anchor.text,
                        url: anchor.href,
                    });
                }
            }
        }
    }
    for id in message.attachments.iter().take(MAX_ATTACHMENTS) {
        let Some(part) = message.parts.get(*id as usize) else {
            continue;
        };
        let data: &[u8] = match &part.body {
            PartType::Binary(data) | PartType::InlineBinary(data) => data,
            PartType::Text(text) | PartType::Html(text) => text.as_bytes(),
            PartType::Message(inner) => inner.raw_message(),
            PartType::Multipart(_) => continue,
        };
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_default()
            .to_ascii_lowercase();
        // Inline pictures of a newsletter are not attachments a reader opens.
        let name = part.attachment_name().unwrap_or("").to_owned();
        if name.is_empty() && content_type.starts_with("image/") && content_type != "image/svg+xml"
        {
            continue;
        }
        let risk_kind = attachment::risk(&name, &content_type, data);
        facts.attachments.push(Attachment {
            name,
            content_type,
            size: data.len(),
            sha256: format!("{:x}", Sha256::digest(data)),
            md5: format!("{:x}", Md5::digest(data)),
            risk: risk_kind.map(|r| r.as_str().to_owned()),
            risk_kind,
        });
    }
}

fn push_bounded(out: &mut String, text: &str) {
    if out.len() >= MAX_TEXT {
        return;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(prefix(text, MAX_TEXT - out.len()));
}

/// The longest start of `text` of at most `max` bytes that ends on a
/// character boundary.
pub(super) fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
