//! The JSON shape of a stored event in API answers: the well-known fields
//! under their ECS dotted names, the rest under `fields` as received.

use serde_json::{json, Map, Value};

use super::{Event, EventId};

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
    let mut some = |name: &'static str, value: Value| {
        if !value.is_null() {
            put(name, value);
        }
    };
    some("event.severity", json!(event.severity));
    some("event.category", json!(event.category));
    some("event.action", json!(event.action));
    some("event.outcome", json!(event.outcome));
    some("source.ip", json!(event.source_ip));
    some("source.port", json!(event.source_port));
    some("destination.ip", json!(event.destination_ip));
    some("destination.port", json!(event.destination_port));
    some("host.name", json!(event.host));
    some("user.name", json!(event.user));
    some("process.name", json!(event.process));
    some("url.full", json!(event.url));
    some("message", json!(event.message));
    if !event.tags.is_empty() {
        some("tags", json!(event.tags));
    }
}
