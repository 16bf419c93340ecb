//! The language by example: what parses, what matches, what errors say.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::event::{normalise, Event, EventId};
use crate::Timestamp;

fn event(value: serde_json::Value) -> Event {
    normalise(value, Timestamp(1_700_000_000_000), "http")
        .unwrap_or_else(|e| panic!("{}", e.detail))
}

fn hits(query: &str, event: &Event) -> bool {
    let q = parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    q.filter
        .as_ref()
        .is_none_or(|f| matches(f, &EventFields::new(event)))
}

fn sshd() -> Event {
    event(json!({
        "@timestamp": "2026-12-04T10:00:00Z",
        "event": {"category": "authentication", "action": "ssh_login", "outcome": "failure", "severity": 3},
        "source": {"ip": "10.1.2.3", "port": 51000},
        "destination": {"ip": "2001:db8::7", "port": 22},
        "host": {"name": "bastion-1"},
        "user": {"name": "Root"},
        "message": "Failed password for root from 10.1.2.3 port 51000 ssh2",
        "dns": {"question": {"name": "evil.example"}},
        "labels": ["a", "b"]
    }))
}

#[test]
fn terms_compare_as_analysts_expect() {
    let e = sshd();
    for (query, want) in [
        ("user.name:root", true),
        ("user.name:ROOT", true),
        ("user.name:adm*", false),
        ("host.name:bastion-?", true),
        ("host.name:*tion*", true),
        ("source.ip:10.0.0.0/8", true),
        ("source.ip:10.1.2.3", true),
        ("source.ip:11.0.0.0/8", false),
        ("destination.ip:2001:db8::/32", true),
        ("destination.ip:2001:db8:0::7", true),
        ("event.severity >= 3", true),
        ("event.severity:>3", false),
        ("destination.port < 1024", true),
        ("source.port<=50999", false),
        ("_exists_:dns.question.name", true),
        ("_exists_:file.hash.sha256", false),
        ("dns.question.name:evil.example", true),
        ("labels:b", true),
        ("failed", true),
        ("\"password for root\"", true),
        ("\"password for admin\"", false),
        ("/port \\d+ ssh2$/", true),
        ("message:/^Failed/", true),
        ("fail*", true),
        ("NOT user.name:root", false),
        ("user.name:root AND host.name:web*", false),
        ("user.name:root OR host.name:web*", true),
        ("user.name:root host.name:web*", false),
        (
            "(user.name:admin OR user.name:root) AND event.outcome:failure",
            true,
        ),
        ("not (event.action:ssh_login)", false),
        (
            "message:\"Failed password for root from 10.1.2.3 port 51000 ssh2\"",
            true,
        ),
        ("@timestamp >= 2026-12-04T00:00:00Z", true),
    ] {
        assert_eq!(hits(query, &e), want, "{query}");
    }
}

#[test]
fn errors_name_their_position() {
    for (query, position) in [
        ("user.name:", 10),
        ("(a OR b", 0),
        ("\"open", 0),
        ("message:/(/", 8),
        ("a | stats sum(x)", 10),
        ("a | head 0", 9),
        ("a | nope", 4),
        ("event.severity >=", 0),
        ("a )", 2),
        ("| timechart 7x", 12),
        ("_exists_:", 9),
    ] {
        match parse(query) {
            Ok(_) => panic!("{query} parsed"),
            Err(e) => assert_eq!(e.position, position, "{query}: {e}"),
        }
    }
    let deep = format!("{}x{}", "(".repeat(40), ")".repeat(40));
    assert!(parse(&deep).unwrap_err().message.contains("deeper"));
    let long = "a ".repeat(300);
    assert!(parse(&long).unwrap_err().message.contains("terms"));
}

#[test]
fn pipes_count_sort_cut_and_project() {
    let q = parse("* | stats count() by user.name, host.name | sort -count | head 2").unwrap();
    assert_eq!(
        q.pipes,
        [
            Pipe::Stats {
                by: vec!["user.name".into(), "host.name".into()]
            },
            Pipe::Sort {
                column: "count".into(),
                descending: true
            },
            Pipe::Head(2),
        ]
    );
    let events: Vec<Event> = (0..10)
        .map(|i| {
            event(json!({"@timestamp": 1_700_000_000_000i64 + i * 60_000, "user": {"name": format!("u{}", i % 3)},
                "message": "x", "port": i}))
        })
        .collect();
    let ids: Vec<(EventId, &Event)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (EventId(i as u64), e))
        .collect();
    let rows = run_pipes(
        &parse("| stats count() by user.name").unwrap().pipes,
        100,
        ids.clone(),
    );
    assert_eq!(rows[0]["user.name"], "u0");
    assert_eq!(rows[0]["count"], 4);
    assert_eq!(rows.len(), 3);
    let rows = run_pipes(&parse("| timechart 5m").unwrap().pipes, 100, ids.clone());
    let counts: Vec<u64> = rows.iter().map(|r| r["count"].as_u64().unwrap()).collect();
    assert_eq!(counts.iter().sum::<u64>(), 10);
    assert!(rows
        .windows(2)
        .all(|w| w[0]["time"].as_str() < w[1]["time"].as_str()));
    let rows = run_pipes(
        &parse("| fields user.name, port | head 3").unwrap().pipes,
        100,
        ids.clone(),
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].keys().collect::<Vec<_>>(), ["port", "user.name"]);
    let rows = run_pipes(&parse("| sort -port | head 1").unwrap().pipes, 100, ids);
    assert_eq!(rows[0]["fields"]["port"], 9);
}

proptest! {
    /// Any text: a query or an error with a position inside the text.
    #[test]
    fn any_text_parses_or_says_where(text in "\\PC{0,60}|[a-z.:*?()|\" /<>=0-9-]{0,60}") {
        match parse(&text) {
            Ok(q) => { let _ = q.filter.map(|f| matches(&f, &EventFields::new(&sshd()))); }
            Err(e) => prop_assert!(e.position <= text.len(), "{e}"),
        }
    }
}

/// What a store checks on an event read in place never rules out a match,
/// and does rule out what its well-known fields decide.
#[test]
fn the_in_place_check_never_drops_a_match() {
    let e = sshd();
    for query in [
        "user.name:root",
        "user.name:admin",
        "NOT user.name:admin",
        "labels:b",
        "NOT labels:b",
        "labels:zz OR user.name:root",
        "labels:zz AND user.name:admin",
        "dns.question.name:evil* AND source.ip:10.0.0.0/8",
        "dns.question.name:evil* AND source.ip:11.0.0.0/8",
        "message:/port 5[0-9]{4}/",
        "message:/port 4[0-9]{4}/",
        "_exists_:tags",
        "NOT _exists_:labels",
        "event.severity >= 3 AND destination.port < 1024",
        "\"password for admin\"",
        "@timestamp >= 2026-12-04T00:00:00Z",
    ] {
        let q = parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
        let f = q.filter.as_ref().unwrap();
        let hit = matches(f, &EventFields::new(&e));
        let may = may_match(f, &e);
        assert!(!hit || may, "{query}: a match ruled out");
        let decided =
            !query.contains("labels") && !query.contains("dns.") && !query.contains("tags");
        if decided {
            assert_eq!(hit, may, "{query}: well-known fields decide it");
        }
    }
    // Fields only the whole event has leave it to the full check.
    let q = parse("labels:zz").unwrap();
    assert!(may_match(q.filter.as_ref().unwrap(), &e));
    let q = parse("labels:zz AND user.name:admin").unwrap();
    assert!(!may_match(q.filter.as_ref().unwrap(), &e));
}

/// Count keys made on events read in place: the bucket first, then each
/// field's first value (empty when absent), the buffer's strings reused.
#[test]
fn count_keys_in_place_put_the_bucket_first() {
    let e = sshd();
    let mut key = vec!["stale".to_owned(); 5];
    let chart = CountBy {
        bucket_ms: Some(3_600_000),
        fields: vec!["user.name".into(), "process.name".into()],
    };
    chart.fill_key_in_place(&e, &mut key);
    let hour = e.timestamp.0 - e.timestamp.0.rem_euclid(3_600_000);
    assert_eq!(key, vec![hour.to_string(), "Root".into(), String::new()]);
    let stats = CountBy {
        bucket_ms: None,
        fields: vec!["source.ip".into()],
    };
    stats.fill_key_in_place(&e, &mut key);
    assert_eq!(key, vec!["10.1.2.3".to_owned()]);
}

/// A condition on one well-known field says so, and its value test
/// decides every event as the evaluator does: on the field's first value
/// read in place, never on an event without one.
#[test]
fn single_field_conditions_decide_on_the_value_alone() {
    use crate::event::EventCondition;
    let mut bare = sshd();
    bare.user = None;
    bare.severity = None;
    bare.source_ip = None;
    bare.source_port = None;
    let events = [sshd(), bare];
    let queries = [
        ("user.name:root", Some("user.name")),
        ("user.name:ro*", Some("user.name")),
        ("user.name:/r.{2}t/", Some("user.name")),
        ("user.name:\"root\"", Some("user.name")),
        ("event.severity >= 3", Some("event.severity")),
        ("event.severity:3.0", Some("event.severity")),
        ("event.severity < 3", Some("event.severity")),
        ("source.ip:10.0.0.0/8", Some("source.ip")),
        ("source.ip:10.1.2.3", Some("source.ip")),
        ("source.port > 50000", Some("source.port")),
        ("event.outcome:FAILURE", Some("event.outcome")),
        ("host.name:bastion-?", Some("host.name")),
        ("source:http", Some("source")),
        ("labels:a", None),
        ("NOT user.name:root", None),
        ("user.name:root AND event.severity >= 3", None),
        ("_exists_:user.name", None),
        ("root", None),
    ];
    for (query, field) in queries {
        let q = parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
        let f = q.filter.as_ref().unwrap();
        assert_eq!(f.single_field(), field, "{query}");
        let Some(field) = field else { continue };
        for e in &events {
            let by = CountBy {
                bucket_ms: None,
                fields: vec![field.to_owned()],
            };
            let mut key = Vec::new();
            by.fill_key_in_place(e, &mut key);
            let present = hits(&format!("_exists_:{field}"), e);
            let decided = present && f.value_matches(&key[0]);
            assert_eq!(decided, hits(query, e), "{query} on {:?}", key[0]);
        }
    }
}
