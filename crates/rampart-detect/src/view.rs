//! The event as detection rules see it: the well-known fields under their
//! ECS dotted names (`source.ip`, `event.action`, …) with every other field
//! of the event merged in at the top level, as it was received. The view
//! borrows the event's text rather than copying it, and the prescan walks
//! the same values without building it.

use std::borrow::Cow;

use rampart_core::event::{for_each_well_known_json, Json, Object};
use rampart_core::Event;

use crate::prescan::Walk;

/// Set on an event that continues a login attempt already counted (see
/// [`crate::sshd::SshAttempts`]); rules counting attempts exclude it.
pub const CONTINUED_ATTEMPT: &str = "rampart.continued_attempt";

/// Builds the JSON document rules are matched against. A well-known field
/// wins over a free-form field of the same name.
pub fn detection_view(event: &Event, continued_attempt: bool) -> Json<'_> {
    let mut out = if event.fields.len() > 2 {
        match serde_json::from_str::<Json<'_>>(&event.fields) {
            Ok(Json::Object(map)) => map,
            _ => Object::default(),
        }
    } else {
        Object::default()
    };
    // Pushed after the free-form fields, so they win (see `Object::push`).
    out.push(
        Cow::Borrowed("@timestamp"),
        Json::String(Cow::Owned(event.timestamp.to_rfc3339())),
    );
    for_each_well_known_json(event, |name, value| {
        out.push(Cow::Borrowed(name), value);
    });
    if continued_attempt {
        out.push(Cow::Borrowed(CONTINUED_ATTEMPT), Json::Bool(true));
    }
    Json::Object(out)
}

/// Walks the values of [`detection_view`] for the prescan, without
/// building it.
pub fn prescan_event(walk: &mut Walk<'_>, event: &Event, continued_attempt: bool) {
    if event.fields.len() > 2 {
        // The view leaves out free-form fields it cannot read; what the
        // walk read of them only adds candidates, and the walk leaves the
        // logsource to the view.
        let _ = walk.json_text(&event.fields);
    }
    if walk.reads_member("@timestamp") {
        let timestamp = Json::String(Cow::Owned(event.timestamp.to_rfc3339()));
        walk.member("@timestamp", &timestamp);
    }
    for_each_well_known_json(event, |name, value| walk.member(name, &value));
    if continued_attempt {
        walk.member(CONTINUED_ATTEMPT, &Json::Bool(true));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::Timestamp;
    use serde_json::Value;

    #[test]
    fn well_known_fields_are_dotted_and_extras_merged() {
        let event = Event {
            timestamp: Timestamp(0),
            source_ip: "203.0.113.9".parse().ok(),
            action: Some("ssh_login".into()),
            fields: r#"{"Image":"C:\\x.exe","source.ip":"spoofed","process":{"pid":"9"}}"#.into(),
            ..Event::default()
        };
        let view = Value::from(detection_view(&event, true));
        assert_eq!(view["source.ip"], "203.0.113.9");
        assert_eq!(view["event.action"], "ssh_login");
        assert_eq!(view["Image"], "C:\\x.exe");
        assert_eq!(view["process"]["pid"], "9");
        assert_eq!(view["@timestamp"], "1970-01-01T00:00:00Z");
        assert_eq!(view[CONTINUED_ATTEMPT], true);
    }
}
