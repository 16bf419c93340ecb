//! The JSON shape of a stored event in API answers: the well-known fields
//! under their ECS dotted names, the rest under `fields` as received.

use std::borrow::Cow;
use std::net::IpAddr;

use serde_json::{json, Map, Value};

use super::{Event, EventId, Json};

/// Renders one stored event for the API.
pub fn event_view(id: EventId, event: &Event) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(id.to_string()));
    out.insert("@timestamp".into(), json!(event.timestamp.to_rfc3339()));
    out.insert("received".into(), json!(event.received.to_rfc3339()));
    out.insert("source".into(), json!(event.source));
    for_each_well_known(event, |name, value| {
        out.insert(name.to_owned(), value);
    });
    if !event.warnings.is_empty() {
        out.insert("warnings".into(), json!(event.warnings));
    }
    let fields = serde_json::from_str(&event.fields).unwrap_or_else(|_| json!({}));
    out.insert("fields".into(), fields);
    Value::Object(out)
}

/// Calls `put` with each well-known field the event has, under its ECS
/// dotted name (`@timestamp` excluded).
pub fn for_each_well_known(event: &Event, mut put: impl FnMut(&'static str, Value)) {
    for_each_well_known_json(event, |name, value| put(name, Value::from(value)));
}

/// [`for_each_well_known`] with the values borrowing the event's text.
pub fn for_each_well_known_json<'e>(event: &'e Event, mut put: impl FnMut(&'static str, Json<'e>)) {
    let text = |s: &'e Option<String>| s.as_deref().map(|s| Json::String(Cow::Borrowed(s)));
    let number = |n: Option<u16>| n.map(|n| Json::Number(n.into()));
    let ip = |ip: Option<IpAddr>| ip.map(|ip| Json::String(Cow::Owned(super::ip_string(ip))));
    let fields = [
        (
            "event.severity",
            event.severity.map(|n| Json::Number(n.into())),
        ),
        ("event.category", text(&event.category)),
        ("event.action", text(&event.action)),
        ("event.outcome", text(&event.outcome)),
        ("source.ip", ip(event.source_ip)),
        ("source.port", number(event.source_port)),
        ("destination.ip", ip(event.destination_ip)),
        ("destination.port", number(event.destination_port)),
        ("host.name", text(&event.host)),
        ("user.name", text(&event.user)),
        ("process.name", text(&event.process)),
        ("url.full", text(&event.url)),
        ("message", text(&event.message)),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            put(name, value);
        }
    }
    if !event.tags.is_empty() {
        let tags = event
            .tags
            .iter()
            .map(|t| Json::String(Cow::Borrowed(t.as_str())));
        put("tags", Json::Array(tags.collect()));
    }
}
