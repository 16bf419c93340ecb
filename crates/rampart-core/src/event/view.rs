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
    let mut put = |name: &str, value: Value| {
        if !value.is_null() {
            out.insert(name.to_owned(), value);
        }
    };
    put("event.severity", json!(event.severity));
    put("event.category", json!(event.category));
    put("event.action", json!(event.action));
    put("event.outcome", json!(event.outcome));
    put("source.ip", json!(event.source_ip));
    put("source.port", json!(event.source_port));
    put("destination.ip", json!(event.destination_ip));
    put("destination.port", json!(event.destination_port));
    put("host.name", json!(event.host));
    put("user.name", json!(event.user));
    put("process.name", json!(event.process));
    put("url.full", json!(event.url));
    put("message", json!(event.message));
    if !event.tags.is_empty() {
        put("tags", json!(event.tags));
    }
    if !event.warnings.is_empty() {
        put("warnings", json!(event.warnings));
    }
    let fields = serde_json::from_str(&event.fields).unwrap_or_else(|_| json!({}));
    out.insert("fields".into(), fields);
    Value::Object(out)
}
