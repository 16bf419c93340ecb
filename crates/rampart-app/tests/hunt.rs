//! Hunts give the same rows on SQLite and PostgreSQL as the reference
//! evaluator over the same events held in memory: random queries (terms
//! of every kind, AND/OR/NOT, parentheses) over random events, each run
//! through the store (pushdown, block summaries, then the evaluator) and
//! in memory, must match the same events in the same order. Another
//! organisation's events never appear.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use rampart_app::api::hunt::{HuntReply, HuntRequest};
use rampart_app::hunt::Hunts;
use rampart_core::clock::ManualClock;
use rampart_core::event::normalise;
use rampart_core::hunt::{matches, parse, EventFields};
use rampart_core::{Event, EventId, Timestamp};
use rampart_store::Store;
use serde_json::json;

rampart_store::conformance_suite!(random_hunts_agree_with_the_reference_evaluator);

const START: i64 = 1_780_000_000_000;

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const USERS: &[&str] = &["root", "Admin", "alice", "bob", "svc-backup"];
const HOSTS: &[&str] = &["bastion-1", "web-1", "web-2", "DB-1"];
const WORDS: &[&str] = &[
    "failed", "accepted", "password", "invalid", "Kelvin", "session", "opened",
];
/// One per batch of events (so per stored block): words that only some
/// blocks' messages hold, for their trigram filters to rule out.
const ZONES: &[&str] = &[
    "alpha-zone",
    "bravo-zone",
    "Charlie-Zone",
    "delta-zone",
    "echo-zone",
    "foxtrot-zone",
];
/// Events appended at once.
const BATCH: i64 = 500;
const IPS: &[&str] = &[
    "10.1.2.3",
    "10.200.0.9",
    "192.168.1.20",
    "203.0.113.7",
    "2001:db8::7",
    "2001:db9::1",
];

fn random_event(rng: &mut Rng, i: i64) -> serde_json::Value {
    let mut event = json!({
        "@timestamp": START + i * 1000,
        "message": format!(
            "{} {} for {} from {} in {}",
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(USERS),
            rng.pick(IPS),
            ZONES[(i / BATCH) as usize % ZONES.len()]
        ),
        "host": {"name": rng.pick(HOSTS)},
    });
    if !rng.next().is_multiple_of(4) {
        event["source"] = json!({"ip": rng.pick(IPS), "port": 1000 + rng.next() % 60000});
    }
    if rng.next().is_multiple_of(2) {
        event["destination"] = {
            let port = [22, 80, 443, 3389][(rng.next() % 4) as usize];
            json!({"ip": rng.pick(IPS), "port": port})
        };
    }
    if !rng.next().is_multiple_of(3) {
        event["user"] = json!({"name": rng.pick(USERS)});
    }
    if rng.next().is_multiple_of(3) {
        event["event"] =
            json!({"severity": rng.next() % 6, "outcome": rng.pick(&["success", "failure"])});
    }
    if rng.next().is_multiple_of(5) {
        event["dns"] = json!({"question": {"name": rng.pick(&["evil.example", "cdn.evil.example", "ok.example"])}});
    }
    event
}

fn random_term(rng: &mut Rng) -> String {
    match rng.next() % 16 {
        0 => format!("user.name:{}", rng.pick(USERS).to_uppercase()),
        1 => format!("host.name:{}*", &rng.pick(HOSTS)[..2]),
        2 => format!(
            "source.ip:{}",
            rng.pick(&[
                "10.0.0.0/8",
                "10.1.2.3",
                "2001:db8::/32",
                "203.0.113.0/24",
                "172.16.0.0/12"
            ])
        ),
        3 => format!("destination.ip:{}", rng.pick(IPS)),
        4 => format!("event.severity >= {}", rng.next() % 6),
        5 => format!("destination.port < {}", rng.pick(&["100", "443", "1024"])),
        6 => rng.pick(WORDS).to_lowercase(),
        7 => format!("\"{} {}\"", rng.pick(WORDS), rng.pick(WORDS)),
        8 => format!(
            "_exists_:{}",
            rng.pick(&[
                "dns.question.name",
                "user.name",
                "event.outcome",
                "file.hash"
            ])
        ),
        9 => format!(
            "dns.question.name:{}",
            rng.pick(&["*evil.example", "ok.example"])
        ),
        10 => format!(
            "message:/{}/",
            rng.pick(&["^fail", "for (root|bob)", "\\d+\\.\\d+"])
        ),
        11 => format!("event.outcome:{}", rng.pick(&["failure", "success"])),
        12 => format!("source.port:>{}", rng.next() % 60000),
        13 => rng
            .pick(&[
                "charlie-zone",
                "ECHO-ZONE",
                "\"in alpha-zone\"",
                "zulu-zone",
            ])
            .to_owned(),
        14 => format!(
            "message:/{}/",
            rng.pick(&[
                "(bravo|zulu)-zone$",
                "in [a-z]+-zone",
                "delta-zone|Kelvin s",
                "zulu"
            ])
        ),
        _ => "*".to_owned(),
    }
}

fn random_query(rng: &mut Rng, depth: u32) -> String {
    let roll = rng.next() % 10;
    if depth > 2 || roll < 4 {
        return random_term(rng);
    }
    let (a, b) = (random_query(rng, depth + 1), random_query(rng, depth + 1));
    match roll {
        4 | 5 => format!("{a} AND {b}"),
        6 => format!("{a} {b}"),
        7 => format!("({a} OR {b})"),
        8 => format!("NOT ({a})"),
        _ => format!("({a}) OR NOT {b}"),
    }
}

/// The hunts below all cover the events' whole range.
const RANGE: (Timestamp, Timestamp) = (Timestamp(START), Timestamp(START + 3_000_000));

/// A hunt over [`RANGE`].
fn over(query: impl Into<String>, limit: Option<i64>) -> HuntRequest {
    HuntRequest {
        query: query.into(),
        from: Some(RANGE.0),
        to: Some(RANGE.1),
        limit,
        cursor: None,
    }
}

/// The ids of a reply's event rows, in order.
fn ids_of(reply: &HuntReply) -> Vec<String> {
    reply
        .rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A reply's count rows by the text of `key`.
fn counts_by(reply: &HuntReply, key: &str) -> std::collections::BTreeMap<String, u64> {
    reply
        .rows
        .iter()
        .map(|r| {
            (
                r[key].as_str().unwrap().to_owned(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn random_hunts_agree_with_the_reference_evaluator(store: Arc<dyn Store>) {
    let org = rampart_store::testing::org_with_admin(&store, "hunters")
        .await
        .unwrap();
    let other = rampart_store::testing::org_with_admin(&store, "others")
        .await
        .unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let events: Vec<Event> = (0..3000)
        .map(|i| normalise(random_event(&mut rng, i), Timestamp(START), "http").unwrap())
        .collect();
    let mut ids = Vec::new();
    for batch in events.chunks(BATCH as usize) {
        ids.extend(
            store
                .append_events(&[store.prepare_events(org, batch.to_vec())])
                .await
                .unwrap()
                .remove(0),
        );
    }
    // The same events elsewhere: never seen by the hunts below.
    store
        .append_events(&[store.prepare_events(other, events.clone())])
        .await
        .unwrap();
    // Newest first, as hunts answer.
    let mut stored: Vec<(EventId, &Event)> = ids.iter().copied().zip(events.iter()).collect();
    stored.sort_by_key(|(id, e)| std::cmp::Reverse((e.timestamp, *id)));
    let hunts = Hunts::new(
        store.clone(),
        Arc::new(ManualClock::new(Timestamp(START + 10_000_000))),
    );
    // Text only some blocks hold, severities none has: the others are
    // not read.
    for (query, most_read) in [
        ("zulu-zone", 0),
        ("message:/zulu/", 0),
        ("ECHO-ZONE", BATCH),
        ("message:/(bravo|zulu)-zone$/", BATCH),
        ("\"in alpha-zone\" OR delta-zone", 2 * BATCH),
        // No event is that severe: blocks' severities rule them all out.
        ("event.severity >= 6", 0),
        ("source.ip:10.0.0.0/8 AND event.severity > 5", 0),
    ] {
        let reply = hunts.hunt_in(org, over(query, Some(10_000))).await.unwrap();
        assert!(
            reply.scanned <= most_read as u64,
            "{query}: read {} events",
            reply.scanned
        );
    }
    // Counts of one field's values, or by one field, come from the
    // blocks' pre-aggregates where the store keeps them: no event is read.
    if store.backend() == rampart_store::Backend::Sqlite {
        for query in [
            "user.name:ROOT | stats count()",
            "event.severity >= 3 | stats count() by event.severity",
            "host.name:we* | stats count() by host.name",
            "* | stats count() by destination.port",
            "source.ip:10.0.0.0/8 | stats count()",
        ] {
            let reply = hunts.hunt_in(org, over(query, None)).await.unwrap();
            assert_eq!(reply.scanned, 0, "{query}");
        }
    }
    for n in 0..300 {
        let query = random_query(&mut rng, 0);
        let parsed = parse(&query).unwrap_or_else(|e| panic!("{query}: {e}"));
        let expected: Vec<String> = stored
            .iter()
            .filter(|(_, e)| {
                parsed
                    .filter
                    .as_ref()
                    .is_none_or(|f| matches(f, &EventFields::new(e)))
            })
            .map(|(id, _)| id.to_string())
            .collect();
        let reply = hunts
            .hunt_in(org, over(query.as_str(), Some(10_000)))
            .await
            .unwrap_or_else(|e| panic!("{query}: {}", e.detail));
        assert_eq!(ids_of(&reply), expected, "query {n}: {query}");
        assert!(!reply.truncated);
        // Counts agree too.
        let stats = hunts
            .hunt_in(org, over(format!("{query} | stats count()"), None))
            .await
            .unwrap();
        let counted = stats
            .rows
            .first()
            .and_then(|r| r["count"].as_u64())
            .unwrap_or(0);
        assert_eq!(counted, expected.len() as u64, "count {n}: {query}");
        // And per value of a field (counted in place where the store can).
        let mut by_user: std::collections::BTreeMap<String, u64> = Default::default();
        for (_, event) in stored
            .iter()
            .filter(|(id, _)| expected.contains(&id.to_string()))
        {
            *by_user
                .entry(event.user.clone().unwrap_or_default())
                .or_default() += 1;
        }
        let grouped = hunts
            .hunt_in(
                org,
                over(format!("{query} | stats count() by user.name"), None),
            )
            .await
            .unwrap();
        assert_eq!(
            counts_by(&grouped, "user.name"),
            by_user,
            "by user {n}: {query}"
        );
    }
    // Charts over everything (pre-aggregates where they answer) and over
    // a condition agree with minute counts made here.
    for query in ["* | timechart 1m", "failed | timechart 5m"] {
        let parsed = parse(query).unwrap();
        let bucket = if query.ends_with("1m") {
            60_000
        } else {
            300_000
        };
        let mut expected: std::collections::BTreeMap<String, u64> = Default::default();
        for (_, event) in &stored {
            let inside = event.timestamp >= RANGE.0 && event.timestamp < RANGE.1;
            if inside
                && parsed
                    .filter
                    .as_ref()
                    .is_none_or(|f| matches(f, &EventFields::new(event)))
            {
                let ts = event.timestamp.0;
                *expected
                    .entry(Timestamp(ts - ts.rem_euclid(bucket)).to_rfc3339())
                    .or_default() += 1;
            }
        }
        let chart = hunts.hunt_in(org, over(query, Some(10_000))).await.unwrap();
        assert_eq!(counts_by(&chart, "time"), expected, "{query}");
    }
    // Paging by cursor walks the same events.
    let mut walked = Vec::new();
    let mut cursor = None;
    loop {
        let page = hunts
            .hunt_in(
                org,
                HuntRequest {
                    cursor,
                    ..over("user.name:root", Some(50))
                },
            )
            .await
            .unwrap();
        walked.extend(ids_of(&page));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let all = hunts
        .hunt_in(org, over("user.name:root", Some(10_000)))
        .await
        .unwrap();
    let all = ids_of(&all);
    assert!(all.len() > 50);
    assert_eq!(walked, all);
}
