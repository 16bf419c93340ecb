//! Turns one received JSON object into an [`Event`]: the well-known ECS
//! fields, nested (`{"source": {"ip": …}}`) or dotted (`"source.ip"`), are
//! taken out and checked; everything else stays as it came.

use std::borrow::Cow;
use std::net::IpAddr;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::json::{Json, Object};
use super::{parse_severity, Event};
use crate::Timestamp;

/// The ECS fields Rampart types and indexes.
pub const WELL_KNOWN_FIELDS: &[&str] = &[
    "@timestamp",
    "event.severity",
    "event.category",
    "event.action",
    "event.outcome",
    "source.ip",
    "source.port",
    "destination.ip",
    "destination.port",
    "host.name",
    "user.name",
    "process.name",
    "url.full",
    "message",
    "tags",
];

/// Longest text Rampart keeps in one well-known string field.
const MAX_TEXT_FIELD: usize = 64 * 1024;

/// Why one event was refused: the field and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct FieldError {
    /// The offending field (`$` for the event as a whole).
    pub field: String,
    /// A stable machine-readable code.
    pub code: &'static str,
    pub detail: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            detail: detail.into(),
        }
    }
}

/// Normalises one received value into an event.
pub fn normalise(value: Value, received: Timestamp, source: &str) -> Result<Event, FieldError> {
    normalise_json(Json::from(value), received, source)
}

/// Normalises one received value, read borrowing from the body (see
/// [`Json`]), into an event.
pub fn normalise_json(
    value: Json<'_>,
    received: Timestamp,
    source: &str,
) -> Result<Event, FieldError> {
    let Json::Object(object) = value else {
        return Err(FieldError::new(
            "$",
            "not_an_object",
            format!("an event must be a JSON object, not {}", value.kind()),
        ));
    };
    let mut object = Received::new(object);
    let timestamp = match object.take("@timestamp") {
        None | Some(Json::Null) => received,
        Some(v) => parse_timestamp(&v)
            .ok_or_else(|| invalid("@timestamp", "an RFC 3339 time or epoch milliseconds", &v))?,
    };
    let severity = match object.take("event.severity") {
        None | Some(Json::Null) => None,
        Some(Json::Number(n)) => Some(
            n.as_u64()
                .and_then(|n| u8::try_from(n).ok())
                .ok_or_else(|| {
                    FieldError::new("event.severity", "invalid_field", "must be 0–255 or a name")
                })?,
        ),
        Some(Json::String(s)) => Some(parse_severity(&s).ok_or_else(|| {
            FieldError::new(
                "event.severity",
                "invalid_field",
                format!("unknown severity {s:?}: use 0–255 or informational, low, medium, high, critical"),
            )
        })?),
        Some(v) => return Err(invalid("event.severity", "a number or a name", &v)),
    };
    let event = Event {
        timestamp,
        received,
        source: source.to_owned(),
        severity,
        category: text_or_first(&mut object, "event.category")?,
        action: text(&mut object, "event.action")?,
        outcome: text(&mut object, "event.outcome")?,
        source_ip: ip(&mut object, "source.ip")?,
        source_port: port(&mut object, "source.port")?,
        destination_ip: ip(&mut object, "destination.ip")?,
        destination_port: port(&mut object, "destination.port")?,
        host: text(&mut object, "host.name")?,
        user: text(&mut object, "user.name")?,
        process: text(&mut object, "process.name")?,
        url: text(&mut object, "url.full")?,
        message: text(&mut object, "message")?,
        tags: tags(&mut object)?,
        fields: if object.object.is_empty() {
            "{}".to_owned()
        } else {
            serde_json::to_string(&Json::Object(object.object)).unwrap_or_else(|_| "{}".to_owned())
        },
        warnings: Vec::new(),
    };
    Ok(event)
}

/// The received object while its well-known fields are taken out. One
/// pass over its keys tells which of them it may hold, so looking for the
/// others (most events have only some) costs nothing.
struct Received<'a> {
    object: Object<'a>,
    may_hold: u32,
}

impl<'a> Received<'a> {
    fn new(object: Object<'a>) -> Received<'a> {
        let may_hold = object
            .members()
            .fold(0, |bits, (key, _)| bits | well_known_bits(key));
        Received { object, may_hold }
    }

    /// [`take`], for a path of [`WELL_KNOWN_FIELDS`].
    fn take(&mut self, path: &str) -> Option<Json<'a>> {
        if self.may_hold & well_known_bits(path) == 0 {
            return None;
        }
        take(&mut self.object, path)
    }
}

/// The well-known fields a top-level key may hold: its own (a dotted name),
/// or those under it (the first segment of their path).
fn well_known_bits(key: &str) -> u32 {
    const fn bit(field: usize) -> u32 {
        1 << field
    }
    match key {
        "@timestamp" => bit(0),
        "event.severity" => bit(1),
        "event.category" => bit(2),
        "event.action" => bit(3),
        "event.outcome" => bit(4),
        "event" => bit(1) | bit(2) | bit(3) | bit(4),
        "source.ip" => bit(5),
        "source.port" => bit(6),
        "source" => bit(5) | bit(6),
        "destination.ip" => bit(7),
        "destination.port" => bit(8),
        "destination" => bit(7) | bit(8),
        "host.name" | "host" => bit(9),
        "user.name" | "user" => bit(10),
        "process.name" | "process" => bit(11),
        "url.full" | "url" => bit(12),
        "message" => bit(13),
        "tags" => bit(14),
        _ => 0,
    }
}

/// Removes a field given by its dotted path, whether it was sent dotted at
/// some level or nested; emptied parent objects are removed too.
fn take<'a>(object: &mut Object<'a>, path: &str) -> Option<Json<'a>> {
    if let Some(v) = object.remove(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    let Some(Json::Object(child)) = object.get_mut(head) else {
        return None;
    };
    let found = take(child, rest);
    if found.is_some() && child.is_empty() {
        object.remove(head);
    }
    found
}

fn text(object: &mut Received<'_>, field: &str) -> Result<Option<String>, FieldError> {
    match object.take(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => bounded(field, s.into_owned()).map(Some),
        Some(Json::Number(n)) => Ok(Some(n.to_string())),
        Some(Json::Bool(b)) => Ok(Some(b.to_string())),
        Some(v) => Err(invalid(field, "a string", &v)),
    }
}

/// `event.category` is a list in ECS; Rampart keeps its first value.
fn text_or_first(object: &mut Received<'_>, field: &str) -> Result<Option<String>, FieldError> {
    match object.take(field) {
        Some(Json::Array(items)) => match items.into_iter().next() {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => bounded(field, s.into_owned()).map(Some),
            Some(v) => Err(invalid(field, "a string or a list of strings", &v)),
        },
        other => {
            if let Some(v) = other {
                object.object.insert(Cow::Owned(field.to_owned()), v);
            }
            text(object, field)
        }
    }
}

/// Text with every NUL character replaced by U+FFFD. PostgreSQL text
/// cannot hold NUL, so both backends store this same form.
pub fn without_nul(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{fffd}")
    } else {
        s
    }
}

fn bounded(field: &str, s: String) -> Result<String, FieldError> {
    let s = without_nul(s);
    if s.len() > MAX_TEXT_FIELD {
        return Err(FieldError::new(
            field,
            "field_too_long",
            format!("longer than {MAX_TEXT_FIELD} bytes"),
        ));
    }
    Ok(s)
}

fn ip(object: &mut Received<'_>, field: &str) -> Result<Option<IpAddr>, FieldError> {
    match object.take(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => s.trim().parse().map(Some).map_err(|_| {
            FieldError::new(
                field,
                "invalid_field",
                format!("{s:?} is not an IP address"),
            )
        }),
        Some(v) => Err(invalid(field, "an IP address string", &v)),
    }
}

fn port(object: &mut Received<'_>, field: &str) -> Result<Option<u16>, FieldError> {
    let bad = || FieldError::new(field, "invalid_field", "must be a port number 0–65535");
    match object.take(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) => n
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .map(Some)
            .ok_or_else(bad),
        Some(Json::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

fn tags(object: &mut Received<'_>) -> Result<Vec<String>, FieldError> {
    match object.take("tags") {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::String(s)) => Ok(vec![bounded("tags", s.into_owned())?]),
        Some(Json::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Json::String(s) => bounded("tags", s.into_owned()),
                v => Err(invalid("tags", "a list of strings", &v)),
            })
            .collect(),
        Some(v) => Err(invalid("tags", "a list of strings", &v)),
    }
}

/// RFC 3339 text, or epoch milliseconds as a number or digits.
fn parse_timestamp(value: &Json<'_>) -> Option<Timestamp> {
    match value {
        Json::Number(n) => n.as_i64().map(Timestamp),
        Json::String(s) => parse_timestamp_text(s),
        _ => None,
    }
}

/// RFC 3339 text or epoch milliseconds given as digits.
pub fn parse_timestamp_text(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Some(Timestamp(ms));
    }
    let parsed = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000)
        .ok()
        .map(Timestamp)
}

fn invalid(field: &str, expected: &str, got: &Json<'_>) -> FieldError {
    FieldError::new(
        field,
        "invalid_field",
        format!("expected {expected}, got {}", got.kind()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_well_known_field_has_its_own_bit_under_its_key_and_its_parent() {
        let mut all = 0;
        for field in WELL_KNOWN_FIELDS {
            let bits = well_known_bits(field);
            assert_eq!(bits.count_ones(), 1, "{field}");
            assert_eq!(all & bits, 0, "{field} shares a bit");
            all |= bits;
            if let Some((parent, _)) = field.split_once('.') {
                assert_ne!(
                    well_known_bits(parent) & bits,
                    0,
                    "{parent} may hold {field}"
                );
            }
        }
        assert_eq!(well_known_bits("fields"), 0);
    }

    const NOW: Timestamp = Timestamp(1_700_000_000_000);

    #[test]
    fn nested_and_dotted_fields_are_typed_and_the_rest_kept() {
        let event = normalise(
            json!({
                "@timestamp": "2023-11-14T22:13:20.5Z",
                "event": {"severity": "high", "action": "ssh_login", "outcome": "failure", "kind": "event"},
                "source.ip": "203.0.113.9",
                "source": {"port": 52144, "geo": {"country": "NL"}},
                "destination": {"ip": "2001:db8::1", "port": "22"},
                "user.name": "admin",
                "tags": ["ssh", "auth"],
                "custom": [1, 2]
            }),
            NOW,
            "http",
        )
        .unwrap();
        assert_eq!(event.timestamp, Timestamp(1_700_000_000_500));
        assert_eq!(event.received, NOW);
        assert_eq!(event.severity, Some(4));
        assert_eq!(event.action.as_deref(), Some("ssh_login"));
        assert_eq!(event.source_ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(event.source_port, Some(52144));
        assert_eq!(event.destination_ip, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(event.destination_port, Some(22));
        assert_eq!(event.user.as_deref(), Some("admin"));
        assert_eq!(event.tags, ["ssh", "auth"]);
        let rest: Value = serde_json::from_str(&event.fields).unwrap();
        assert_eq!(
            rest,
            json!({"event": {"kind": "event"}, "source": {"geo": {"country": "NL"}}, "custom": [1, 2]})
        );
    }

    #[test]
    fn bad_well_known_fields_name_the_field() {
        let cases = [
            (json!({"source.ip": "999.1.1.1"}), "source.ip"),
            (json!({"source": {"port": 70000}}), "source.port"),
            (json!({"@timestamp": "yesterday"}), "@timestamp"),
            (json!({"event.severity": "loud"}), "event.severity"),
            (json!({"tags": [1]}), "tags"),
            (json!({"message": {"a": 1}}), "message"),
            (json!([1]), "$"),
        ];
        for (value, field) in cases {
            let err = normalise(value, NOW, "http").unwrap_err();
            assert_eq!(err.field, field, "{err}");
        }
    }

    #[test]
    fn missing_time_means_received_and_epoch_millis_are_accepted() {
        let e = normalise(json!({"message": "hi"}), NOW, "http").unwrap();
        assert_eq!(e.timestamp, NOW);
        assert_eq!(e.fields, "{}");
        let e = normalise(json!({"@timestamp": 1234}), NOW, "http").unwrap();
        assert_eq!(e.timestamp, Timestamp(1234));
        let e = normalise(
            json!({"event.category": ["authentication", "network"]}),
            NOW,
            "x",
        )
        .unwrap();
        assert_eq!(e.category.as_deref(), Some("authentication"));
    }
}
