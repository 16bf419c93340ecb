//! Syslog lines (RFC 5424 and RFC 3164, with or without the `<PRI>` part
//! that files written by syslog daemons lack) into structured messages.

use serde_json::{json, Map, Value};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::sshd::enrich_sshd;
use crate::event::{without_nul, Event};
use crate::Timestamp;

/// A parsed syslog message.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SyslogMessage {
    pub facility: Option<u8>,
    /// Syslog severity, 0 (emergency) … 7 (debug).
    pub severity: Option<u8>,
    pub timestamp: Option<Timestamp>,
    pub hostname: Option<String>,
    pub app_name: Option<String>,
    pub proc_id: Option<String>,
    pub msg_id: Option<String>,
    /// RFC 5424 structured data: element id → parameters.
    pub structured_data: Vec<(String, Vec<(String, String)>)>,
    pub message: String,
}

/// Why a line is not syslog.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SyslogError(pub String);

fn err<T>(detail: impl Into<String>) -> Result<T, SyslogError> {
    Err(SyslogError(detail.into()))
}

/// Parses one line. RFC 3164 carries no year: it is taken from `now`, or
/// the year before when that would put the message more than a day ahead.
pub fn parse_syslog(line: &str, now: Timestamp) -> Result<SyslogMessage, SyslogError> {
    let line = line.trim_end_matches(['\r', '\n', '\0']);
    if line.trim().is_empty() {
        return err("empty line");
    }
    let (pri, rest) = match line.strip_prefix('<') {
        Some(after) => {
            let Some((digits, rest)) = after.split_once('>') else {
                return err("'<' without a closing '>' in the priority");
            };
            let pri: u8 = digits
                .parse()
                .ok()
                .filter(|p| *p <= 191 && !digits.is_empty() && digits.len() <= 3)
                .ok_or_else(|| SyslogError(format!("bad priority <{digits}>: must be 0–191")))?;
            (Some(pri), rest)
        }
        None => (None, line),
    };
    let mut message = match rest.strip_prefix("1 ") {
        Some(body) if pri.is_some() => parse_5424(body)?,
        _ => parse_3164(rest, pri.is_some(), now)?,
    };
    if let Some(pri) = pri {
        message.facility = Some(pri >> 3);
        message.severity = Some(pri & 7);
    }
    Ok(message)
}

fn nil(token: &str) -> Option<String> {
    (token != "-" && !token.is_empty()).then(|| token.to_owned())
}

fn parse_5424(body: &str) -> Result<SyslogMessage, SyslogError> {
    let mut parts = body.splitn(6, ' ');
    let mut next = |what: &str| {
        parts
            .next()
            .ok_or_else(|| SyslogError(format!("RFC 5424 header ends before the {what}")))
    };
    let timestamp = next("timestamp")?;
    let hostname = nil(next("hostname")?);
    let app_name = nil(next("app-name")?);
    let proc_id = nil(next("procid")?);
    let msg_id = nil(next("msgid")?);
    let rest = parts.next().unwrap_or("");
    let timestamp = match timestamp {
        "-" => None,
        t => Some(
            crate::event::parse_timestamp_text(t)
                .ok_or_else(|| SyslogError(format!("bad RFC 5424 timestamp {t:?}")))?,
        ),
    };
    let (structured_data, msg) = parse_structured_data(rest)?;
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    Ok(SyslogMessage {
        timestamp,
        hostname,
        app_name,
        proc_id,
        msg_id,
        structured_data,
        message: msg.to_owned(),
        ..SyslogMessage::default()
    })
}

type StructuredData = Vec<(String, Vec<(String, String)>)>;

fn parse_structured_data(rest: &str) -> Result<(StructuredData, &str), SyslogError> {
    if let Some(msg) = rest.strip_prefix('-') {
        return Ok((Vec::new(), msg.strip_prefix(' ').unwrap_or(msg)));
    }
    let mut elements = Vec::new();
    let mut rest = rest;
    while let Some(after) = rest.strip_prefix('[') {
        let (element, remaining) = parse_sd_element(after)?;
        elements.push(element);
        rest = remaining;
    }
    if elements.is_empty() {
        return err("RFC 5424 structured data must be '-' or start with '['");
    }
    match rest.strip_prefix(' ') {
        Some(msg) => Ok((elements, msg)),
        None if rest.is_empty() => Ok((elements, "")),
        None => err("structured data must be followed by a space and the message"),
    }
}

type SdElement = (String, Vec<(String, String)>);

/// One `id name="value" …]` element (the opening '[' already consumed).
fn parse_sd_element(text: &str) -> Result<(SdElement, &str), SyslogError> {
    let unterminated = || SyslogError("unterminated structured data element".into());
    let id_end = text.find([' ', ']']).ok_or_else(unterminated)?;
    let (id, mut rest) = text.split_at(id_end);
    if id.is_empty() {
        return err("structured data element without an id");
    }
    let mut params = Vec::new();
    loop {
        if let Some(after) = rest.strip_prefix(']') {
            return Ok(((id.to_owned(), params), after));
        }
        rest = rest.strip_prefix(' ').ok_or_else(unterminated)?;
        let (name, after) = rest.split_once("=\"").ok_or_else(|| {
            SyslogError(format!(
                "structured data element {id:?}: expected name=\"value\""
            ))
        })?;
        if name.is_empty() || name.contains([' ', ']', '"']) {
            return err(format!(
                "structured data element {id:?}: bad parameter name {name:?}"
            ));
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let close = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, c @ ('"' | '\\' | ']'))) => value.push(c),
                    Some((_, c)) => {
                        value.push('\\');
                        value.push(c);
                    }
                    None => return Err(unterminated()),
                },
                Some((at, '"')) => break at,
                Some((_, c)) => value.push(c),
                None => return Err(unterminated()),
            }
        };
        params.push((name.to_owned(), value));
        rest = after.get(close + 1..).unwrap_or("");
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn parse_3164(rest: &str, had_pri: bool, now: Timestamp) -> Result<SyslogMessage, SyslogError> {
    let (timestamp, rest) = match bsd_timestamp(rest, now) {
        Some(found) => (Some(found.0), found.1),
        None => match rest.split_once(' ') {
            Some((first, after)) if first.contains('T') && first.contains(':') => {
                match crate::event::parse_timestamp_text(first) {
                    Some(t) => (Some(t), after),
                    None => return err(format!("bad timestamp {first:?}")),
                }
            }
            _ if had_pri => (None, rest),
            _ => return err("not a syslog line: no <priority> and no timestamp"),
        },
    };
    let rest = rest.trim_start();
    // HOSTNAME is absent when the first word is already the tag.
    let (hostname, rest) = match rest.split_once(' ') {
        Some((word, after)) if timestamp.is_some() && !is_tag(word) => {
            (Some(word.to_owned()), after)
        }
        _ => (None, rest),
    };
    let (app_name, proc_id, message) = split_tag(rest);
    Ok(SyslogMessage {
        timestamp,
        hostname,
        app_name,
        proc_id,
        message: message.to_owned(),
        ..SyslogMessage::default()
    })
}

fn is_tag(word: &str) -> bool {
    word.ends_with(':') || word.contains('[')
}

/// `app[pid]: message` or `app: message`; no tag when the line has none.
fn split_tag(rest: &str) -> (Option<String>, Option<String>, &str) {
    let Some((tag, message)) = rest.split_once(": ") else {
        if let Some(tag) = rest.strip_suffix(':').filter(|t| valid_tag(t)) {
            return (Some(tag.to_owned()), None, "");
        }
        return (None, None, rest);
    };
    if !valid_tag(tag) {
        return (None, None, rest);
    }
    match tag.split_once('[') {
        Some((app, pid)) => (
            Some(app.to_owned()),
            pid.strip_suffix(']').map(str::to_owned),
            message,
        ),
        None => (Some(tag.to_owned()), None, message),
    }
}

fn valid_tag(tag: &str) -> bool {
    !tag.is_empty() && tag.len() <= 64 && !tag.contains(' ')
}

/// `Mmm dd hh:mm:ss ` (day space-padded), with the year inferred.
fn bsd_timestamp(text: &str, now: Timestamp) -> Option<(Timestamp, &str)> {
    let head = text.get(..15)?;
    let rest = text.get(15..)?;
    let month = MONTHS.iter().position(|m| head.starts_with(m))?;
    let day: u8 = head.get(4..6)?.trim().parse().ok()?;
    let mut hms = head.get(7..15)?.split(':').map(|p| p.parse::<u8>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    let now_year = OffsetDateTime::from_unix_timestamp(now.0.div_euclid(1000))
        .ok()?
        .year();
    let month = Month::try_from(u8::try_from(month + 1).ok()?).ok()?;
    let time = Time::from_hms(h, m, s).ok()?;
    let at = |year: i32| -> Option<Timestamp> {
        let date = Date::from_calendar_date(year, month, day).ok()?;
        let secs = PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp();
        Some(Timestamp(secs * 1000))
    };
    let this_year = at(now_year);
    let stamp = match this_year {
        Some(t) if t.0 <= now.0 + 86_400_000 => t,
        _ => at(now_year - 1)?,
    };
    Some((stamp, rest))
}

/// Syslog severity (0 emergency … 7 debug) on Rampart's scale.
fn rampart_severity(syslog: u8) -> u8 {
    match syslog {
        0..=2 => 5,
        3 => 4,
        4 => 3,
        5 => 2,
        6 => 1,
        _ => 0,
    }
}

/// The event for one syslog message; sshd messages get structured fields.
pub fn syslog_event(message: SyslogMessage, received: Timestamp, source: &str) -> Event {
    let mut fields = Map::new();
    let mut log = Map::new();
    if let Some(f) = message.facility {
        log.insert("facility".into(), json!({"code": f}));
    }
    if let Some(s) = message.severity {
        log.insert("severity".into(), json!({"code": s}));
    }
    if let Some(id) = &message.msg_id {
        log.insert("msgid".into(), json!(id));
    }
    if !log.is_empty() {
        fields.insert("log".into(), json!({ "syslog": log }));
    }
    if let Some(pid) = &message.proc_id {
        fields.insert("process".into(), json!({ "pid": pid }));
    }
    if !message.structured_data.is_empty() {
        let sd: Map<String, Value> = message
            .structured_data
            .iter()
            .map(|(id, params)| {
                let params: Map<String, Value> =
                    params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                (id.clone(), Value::Object(params))
            })
            .collect();
        fields.insert("syslog".into(), json!({ "structured_data": sd }));
    }
    let mut event = Event {
        timestamp: message.timestamp.unwrap_or(received),
        received,
        source: source.to_owned(),
        severity: message.severity.map(rampart_severity),
        host: message.hostname.map(without_nul),
        process: message.app_name.map(without_nul),
        message: Some(without_nul(message.message)),
        fields: "{}".to_owned(),
        ..Event::default()
    };
    if event.process.as_deref() == Some("sshd") {
        if let Some(method) = enrich_sshd(&mut event) {
            fields.insert("ssh".into(), json!({ "method": method }));
        }
    }
    if !fields.is_empty() {
        event.fields = Value::Object(fields).to_string();
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-22T12:00:00Z
    const NOW: Timestamp = Timestamp(1_795_348_800_000);

    #[test]
    fn rfc3164_with_and_without_priority() {
        let m = parse_syslog(
            "<38>Nov 22 10:15:03 web1 sshd[4242]: Accepted password for alice from 198.51.100.7 port 50022 ssh2",
            NOW,
        )
        .unwrap();
        assert_eq!((m.facility, m.severity), (Some(4), Some(6)));
        assert_eq!(m.hostname.as_deref(), Some("web1"));
        assert_eq!(m.app_name.as_deref(), Some("sshd"));
        assert_eq!(m.proc_id.as_deref(), Some("4242"));
        assert_eq!(m.timestamp.unwrap().to_rfc3339(), "2026-11-22T10:15:03Z");
        assert!(m.message.starts_with("Accepted password"));

        let m = parse_syslog("Dec  3 23:59:59 host cron[1]: job", NOW).unwrap();
        // December is in the future: last year.
        assert_eq!(m.timestamp.unwrap().to_rfc3339(), "2025-12-03T23:59:59Z");
        assert_eq!(m.facility, None);

        let m = parse_syslog("<13>Nov 22 10:00:00 sshd[1]: no host here", NOW).unwrap();
        assert_eq!(m.hostname, None);
        assert_eq!(m.app_name.as_deref(), Some("sshd"));
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let m = parse_syslog(
            r#"<165>1 2026-11-22T10:00:00.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application \"x\""][other a="b"] BOMAn application event"#,
            NOW,
        )
        .unwrap();
        assert_eq!((m.facility, m.severity), (Some(20), Some(5)));
        assert_eq!(m.hostname.as_deref(), Some("mymachine.example.com"));
        assert_eq!(m.app_name.as_deref(), Some("evntslog"));
        assert_eq!(m.proc_id, None);
        assert_eq!(m.msg_id.as_deref(), Some("ID47"));
        assert_eq!(m.structured_data.len(), 2);
        assert_eq!(m.structured_data[0].1[1].1, "Application \"x\"");
        assert_eq!(m.message, "BOMAn application event");

        let m = parse_syslog("<34>1 - - - - - -", NOW).unwrap();
        assert_eq!(m.timestamp, None);
        assert_eq!(m.message, "");
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert!(parse_syslog("", NOW).is_err());
        assert!(parse_syslog("hello world", NOW).is_err());
        assert!(parse_syslog("<999>x", NOW).is_err());
        assert!(parse_syslog("<12", NOW).is_err());
        assert!(parse_syslog("<34>1 2026-11-22T10:00:00Z h a p m [unterminated", NOW).is_err());
    }

    #[test]
    fn syslog_events_carry_host_process_and_severity() {
        let m = parse_syslog("<35>Nov 22 10:00:00 bastion sshd[9]: Failed password for invalid user admin from 203.0.113.9 port 52144 ssh2", NOW).unwrap();
        let e = syslog_event(m, NOW, "syslog");
        assert_eq!(e.host.as_deref(), Some("bastion"));
        assert_eq!(e.severity, Some(4)); // <35>: auth.err
        assert_eq!(e.outcome.as_deref(), Some("failure"));
        let fields: Value = serde_json::from_str(&e.fields).unwrap();
        assert_eq!(fields["process"]["pid"], "9");
        assert_eq!(fields["log"]["syslog"]["facility"]["code"], 4);
    }
}
