//! Property tests of the ingest path's pure parts: the field mapping never
//! panics, treats nested and dotted spellings alike, keeps what it does not
//! know; the syslog and sshd parsers never panic on any line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rampart_core::event::{normalise, normalise_json, Json};
use rampart_core::ingest::{parse_syslog, syslog_event, SshdEvent};
use rampart_core::Timestamp;
use serde_json::{json, Map, Value};

const NOW: Timestamp = Timestamp(1_795_348_800_000);

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,20}".prop_map(Value::String),
        // Keys and values that look like the well-known fields.
        prop_oneof![
            Just(json!("203.0.113.9")),
            Just(json!("2001:db8::1")),
            Just(json!("2026-11-22T10:00:00Z")),
            Just(json!("high")),
            Just(json!(65535))
        ],
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            Just("source".to_string()),
            Just("ip".to_string()),
            Just("port".to_string()),
            Just("event".to_string()),
            Just("severity".to_string()),
            Just("source.ip".to_string()),
            Just("event.severity".to_string()),
            Just("@timestamp".to_string()),
            Just("tags".to_string()),
            Just("message".to_string()),
            "[a-z.@]{1,12}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// One object's text holding the members of both objects: keys of `b`
/// that `a` has too appear twice (JSON leaves duplicates to the reader).
fn merged_text(a: &Map<String, Value>, b: &Map<String, Value>) -> String {
    let members: Vec<String> = a
        .iter()
        .chain(b.iter())
        .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
        .collect();
    format!("{{{}}}", members.join(","))
}

proptest! {
    #[test]
    fn the_borrowing_reader_normalises_as_serde_json_values_do(
        a in any_json(),
        b in any_json(),
    ) {
        let text = match (&a, &b) {
            (Value::Object(a), Value::Object(b)) => merged_text(a, b),
            _ => a.to_string(),
        };
        let reference: Value = serde_json::from_str(&text).unwrap();
        let borrowed: Json<'_> = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(
            normalise(reference, NOW, "prop"),
            normalise_json(borrowed, NOW, "prop")
        );
    }

    #[test]
    fn normalise_never_panics_and_keeps_the_rest_as_an_object(value in any_json()) {
        if let Ok(event) = normalise(value, NOW, "prop") {
            let rest: Value = serde_json::from_str(&event.fields).unwrap();
            prop_assert!(rest.is_object());
        }
    }

    #[test]
    fn nested_and_dotted_spellings_are_the_same_event(
        ip in prop_oneof![Just("203.0.113.9"), Just("10.1.2.3"), Just("::1")],
        port in any::<u16>(),
        user in "[a-z]{1,10}",
        severity in 0u8..=255,
        extra in "[a-z]{1,8}",
    ) {
        let nested = json!({
            "source": {"ip": ip, "port": port},
            "user": {"name": user},
            "event": {"severity": severity},
            "custom": {"x": extra}
        });
        let dotted = json!({
            "source.ip": ip, "source.port": port, "user.name": user,
            "event.severity": severity, "custom": {"x": extra}
        });
        let a = normalise(nested, NOW, "p").unwrap();
        let b = normalise(dotted, NOW, "p").unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.source_port, Some(port));
        prop_assert_eq!(a.severity, Some(severity));
        let rest: Value = serde_json::from_str(&a.fields).unwrap();
        prop_assert_eq!(rest, json!({"custom": {"x": extra}}));
    }

    #[test]
    fn syslog_and_sshd_parsers_never_panic(line in "\\PC{0,200}") {
        if let Ok(message) = parse_syslog(&line, NOW) {
            let _ = syslog_event(message, NOW, "p");
        }
        let _ = SshdEvent::parse(&line);
    }

    #[test]
    fn syslog_headers_survive_arbitrary_messages(
        pri in 0u8..=191,
        host in "[a-z][a-z0-9.-]{0,20}",
        app in "[a-z]{1,10}",
        pid in 1u32..99999,
        msg in "[ -~]{0,80}",
    ) {
        let line = format!("<{pri}>Nov 22 10:00:00 {host} {app}[{pid}]: {msg}");
        let parsed = parse_syslog(&line, NOW).unwrap();
        prop_assert_eq!(parsed.facility, Some(pri >> 3));
        prop_assert_eq!(parsed.hostname.as_deref(), Some(host.as_str()));
        prop_assert_eq!(parsed.app_name.as_deref(), Some(app.as_str()));
        let pid_text = pid.to_string();
        prop_assert_eq!(parsed.proc_id.as_deref(), Some(pid_text.as_str()));
        prop_assert_eq!(parsed.message, msg);
    }
}
