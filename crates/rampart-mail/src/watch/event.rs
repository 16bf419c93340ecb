//! Where in an event watchlist entries are looked for: the addresses
//! (`source.ip`, `destination.ip`), `host.name`, `user.name`, `url.full`,
//! the message, and every other field the event carries (ECS fields such
//! as `dns.question.name`, `file.hash.sha256`, `email.from.address`,
//! `destination.domain`, `related.ip`). Other fields are read as their
//! JSON text first; only when something matches there is the object
//! parsed, to name the field.

use rampart_core::Event;
use serde_json::Value;

use super::matcher::{Sightings, WatchMatcher};

/// Deepest nesting walked when naming a matched field.
const MAX_DEPTH: usize = 32;

/// The watchlist entries `event` shows, each once, into `out` (cleared).
pub fn event_sightings(matcher: &WatchMatcher, event: &Event, out: &mut Sightings) {
    out.clear();
    if matcher.is_empty() {
        return;
    }
    if let Some(ip) = event.source_ip {
        matcher.match_ip(ip, "source.ip", out);
    }
    if let Some(ip) = event.destination_ip {
        matcher.match_ip(ip, "destination.ip", out);
    }
    if let Some(host) = &event.host {
        matcher.match_host(host, "host.name", out);
    }
    if let Some(user) = &event.user {
        matcher.match_text(user, "user.name", out);
    }
    if let Some(url) = &event.url {
        matcher.match_url(url, "url.full", out);
        matcher.match_text(url, "url.full", out);
    }
    if let Some(message) = &event.message {
        matcher.match_text(message, "message", out);
    }
    if event.fields.len() > 2 {
        let before = out.found.len();
        matcher.match_text(&event.fields, "fields", out);
        if out.found.len() > before {
            out.found.truncate(before);
            match serde_json::from_str::<Value>(&event.fields) {
                Ok(value) => walk(matcher, &value, &mut String::new(), 0, out),
                Err(_) => matcher.match_text(&event.fields, "fields", out),
            }
        }
    }
}

fn walk(
    matcher: &WatchMatcher,
    value: &Value,
    path: &mut String,
    depth: usize,
    out: &mut Sightings,
) {
    match value {
        Value::String(text) => matcher.match_text(text, path, out),
        Value::Array(items) if depth < MAX_DEPTH => {
            for item in items {
                walk(matcher, item, path, depth + 1, out);
            }
        }
        Value::Object(fields) if depth < MAX_DEPTH => {
            for (key, item) in fields {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(matcher, item, path, depth + 1, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::canonical::canonical;
    use rampart_core::watchlist::{IndicatorType, WatchedIndicator};
    use rampart_core::{Timestamp, WatchlistEntryId};

    fn matcher(entries: &[(IndicatorType, &str)]) -> WatchMatcher {
        WatchMatcher::new(
            entries
                .iter()
                .map(|(kind, value)| WatchedIndicator {
                    id: WatchlistEntryId::new(),
                    kind: *kind,
                    value: canonical(*kind, value).unwrap_or_default(),
                    include_subdomains: true,
                    severity: 4,
                })
                .collect(),
        )
    }

    fn event(fields: &str) -> Event {
        Event {
            timestamp: Timestamp(0),
            received: Timestamp(0),
            source: "http".into(),
            severity: None,
            category: None,
            action: None,
            outcome: None,
            source_ip: "192.0.2.1".parse().ok(),
            source_port: None,
            destination_ip: "198.51.100.7".parse().ok(),
            destination_port: None,
            host: Some("web-1".into()),
            user: None,
            process: None,
            url: None,
            message: Some("query done".into()),
            tags: Vec::new(),
            fields: fields.into(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn fields_are_named_where_the_entry_was_seen() {
        let m = matcher(&[
            (IndicatorType::Ip, "198.51.100.7"),
            (IndicatorType::Domain, "evil.example"),
            (IndicatorType::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
        ]);
        let mut out = Sightings::default();
        event_sightings(
            &m,
            &event(
                r#"{"dns":{"question":{"name":"cdn.evil.example"}},"file":{"hash":{"md5":"D41D8CD98F00B204E9800998ECF8427E"}}}"#,
            ),
            &mut out,
        );
        let fields: Vec<&str> = out.found.iter().map(|s| s.field.as_str()).collect();
        assert_eq!(
            fields,
            ["destination.ip", "dns.question.name", "file.hash.md5"]
        );
    }

    #[test]
    fn keys_and_unrelated_fields_do_not_match() {
        let m = matcher(&[(IndicatorType::Domain, "evil.example")]);
        let mut out = Sightings::default();
        event_sightings(&m, &event(r#"{"note":"evil.examples.org"}"#), &mut out);
        assert!(out.found.is_empty());
    }
}
