//! Correlation rules in the stream: the built-in pack on realistic sshd and
//! firewall events, windows, grouping, chaining, `generate`, bounded state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rampart_core::ingest::{parse_syslog, syslog_event};
use rampart_core::{Event, EventId, Timestamp};
use rampart_detect::pack::builtin_documents;
use rampart_detect::tester::{test_events, TestOutcome};
use rampart_detect::{
    parse_documents, Correlator, Detector, DetectorBuilder, FieldMapping, Limits, Placeholders,
};

const T0: i64 = 1_795_348_800_000; // 2026-11-23T00:00:00Z

fn pack() -> Detector {
    let mut builder = DetectorBuilder::new(FieldMapping::default(), Placeholders::new());
    for (id, doc) in builtin_documents().unwrap() {
        builder.add(id, &doc).unwrap();
    }
    builder.build().unwrap()
}

fn detector(yaml: &str) -> Result<Detector, (String, String)> {
    let mut builder = DetectorBuilder::new(FieldMapping::default(), Placeholders::new());
    for (n, doc) in parse_documents(yaml).into_iter().enumerate() {
        builder.add(&format!("r{n}"), &doc.unwrap()).unwrap();
    }
    builder.build()
}

/// An sshd syslog line at `T0 + secs` seconds, as the ingest path parses it.
fn sshd(secs: i64, text: &str) -> Event {
    let at = Timestamp(T0 + secs * 1000);
    let line = format!("<38>1 {} bastion sshd 4242 - - {text}", at.to_rfc3339());
    syslog_event(parse_syslog(&line, at).unwrap(), at, "syslog")
}

fn failed(secs: i64, ip: &str, port: u16) -> Event {
    sshd(
        secs,
        &format!("Failed password for root from {ip} port {port} ssh2"),
    )
}

fn titles(detector: &Detector, outcome: &TestOutcome) -> Vec<String> {
    outcome
        .alerts
        .iter()
        .map(|a| detector.rule(a.rule).title.clone())
        .collect()
}

#[test]
fn five_failures_from_one_source_within_five_minutes_are_brute_force() {
    let d = pack();
    let mut events: Vec<Event> = (0..4)
        .map(|i| failed(i * 10, "203.0.113.9", 40000 + i as u16))
        .collect();
    // Another source with four failures stays below the threshold.
    events.extend((0..4).map(|i| failed(i * 10, "198.51.100.7", 41000 + i as u16)));
    let outcome = test_events(&d, &events);
    assert!(outcome.alerts.is_empty(), "{:?}", titles(&d, &outcome));
    assert_eq!(outcome.matches.len(), 8, "failures match the base rule");

    events.push(failed(200, "203.0.113.9", 40010));
    let outcome = test_events(&d, &events);
    assert_eq!(titles(&d, &outcome), ["SSH brute force"]);
    let alert = &outcome.alerts[0];
    assert_eq!(
        alert.group,
        [("source.ip".to_string(), "203.0.113.9".to_string())]
    );
    let expected: Vec<EventId> = [0, 1, 2, 3, 8].into_iter().map(EventId).collect();
    assert_eq!(alert.events, expected);
    assert_eq!(alert.trigger, EventId(8));
}

#[test]
fn failures_spread_wider_than_the_window_are_not_brute_force() {
    let d = pack();
    let events: Vec<Event> = (0..8)
        .map(|i| failed(i * 76, "203.0.113.9", 40000))
        .collect();
    assert!(test_events(&d, &events).alerts.is_empty());
    // Every fifth attempt inside a window raises a new alert, not one per line.
    let events: Vec<Event> = (0..10).map(|i| failed(i, "203.0.113.9", 40000)).collect();
    assert_eq!(test_events(&d, &events).alerts.len(), 2);
}

#[test]
fn invalid_user_and_its_failed_password_are_one_attempt() {
    let d = pack();
    let mut events = Vec::new();
    for (i, user) in ["admin", "oracle"].into_iter().enumerate() {
        let port = 50000 + i as u16;
        let secs = i as i64 * 3;
        events.push(sshd(
            secs,
            &format!("Invalid user {user} from 203.0.113.9 port {port}"),
        ));
        events.push(sshd(
            secs + 1,
            &format!("Failed password for invalid user {user} from 203.0.113.9 port {port} ssh2"),
        ));
    }
    // A key-only server: "Invalid user" with no password line is an attempt too.
    events.push(sshd(20, "Invalid user test from 203.0.113.9 port 50005"));
    events.push(sshd(
        21,
        "Connection closed by invalid user test 203.0.113.9 port 50005 [preauth]",
    ));
    events.push(failed(22, "203.0.113.9", 50006));
    // Four attempts in eight lines: not yet brute force.
    let outcome = test_events(&d, &events);
    assert!(
        !titles(&d, &outcome).contains(&"SSH brute force".to_string()),
        "{:?}",
        titles(&d, &outcome)
    );
    events.push(failed(23, "203.0.113.9", 50007));
    let outcome = test_events(&d, &events);
    assert!(titles(&d, &outcome).contains(&"SSH brute force".to_string()));
}

#[test]
fn a_successful_login_after_brute_force_is_critical_and_alone_is_nothing() {
    let d = pack();
    let accepted = |secs| {
        sshd(
            secs,
            "Accepted password for deploy from 203.0.113.9 port 40100 ssh2",
        )
    };
    let outcome = test_events(&d, &[accepted(0)]);
    assert!(outcome.alerts.is_empty(), "a plain login raises nothing");

    let mut events: Vec<Event> = (0..5).map(|i| failed(i, "203.0.113.9", 40000)).collect();
    events.push(accepted(600));
    let outcome = test_events(&d, &events);
    assert_eq!(
        titles(&d, &outcome),
        ["SSH brute force", "SSH login after brute force"]
    );
    let last = outcome.alerts.last().unwrap();
    assert_eq!(d.rule(last.rule).level.as_deref(), Some("critical"));
    assert!(last.events.contains(&EventId(5)) && last.events.contains(&EventId(0)));

    // The login must come after the brute force, within the hour.
    let mut events = vec![accepted(0)];
    events.extend((1..6).map(|i| failed(i, "203.0.113.9", 40000)));
    assert_eq!(titles(&d, &test_events(&d, &events)), ["SSH brute force"]);
    let mut events: Vec<Event> = (0..5).map(|i| failed(i, "203.0.113.9", 40000)).collect();
    events.push(accepted(3700));
    assert_eq!(titles(&d, &test_events(&d, &events)), ["SSH brute force"]);
}

#[test]
fn many_users_from_one_source_is_password_spraying() {
    let d = pack();
    let spray = |n: usize, step: i64| -> Vec<Event> {
        (0..n)
            .map(|i| {
                sshd(
                    i as i64 * step,
                    &format!(
                        "Failed password for user{i} from 192.0.2.50 port {} ssh2",
                        30000 + i
                    ),
                )
            })
            .collect()
    };
    // Nine users, spaced 76 s apart: no brute-force window has five, and
    // nine users are below the spraying threshold.
    assert!(test_events(&d, &spray(9, 76)).alerts.is_empty());
    // Ten users in ten minutes (which is brute force as well).
    let outcome = test_events(&d, &spray(10, 60));
    let titles = titles(&d, &outcome);
    assert!(
        titles.contains(&"Password spraying".to_string()),
        "{titles:?}"
    );
    // Ten users spread over more than ten minutes: not spraying.
    let outcome = test_events(&d, &spray(10, 76));
    assert!(outcome.alerts.is_empty(), "{:?}", outcome.alerts);
}

#[test]
fn many_destination_ports_from_one_source_is_a_port_scan() {
    let d = pack();
    let probe = |port: u16, secs: i64| Event {
        timestamp: Timestamp(T0 + secs * 1000),
        source_ip: "198.51.100.66".parse().ok(),
        destination_ip: "10.0.0.5".parse().ok(),
        destination_port: Some(port),
        fields: "{}".into(),
        ..Event::default()
    };
    // The same port many times is not a scan.
    let same: Vec<Event> = (0..50).map(|i| probe(443, i)).collect();
    assert!(test_events(&d, &same).alerts.is_empty());
    let scan: Vec<Event> = (0..25).map(|i| probe(1000 + i as u16, i)).collect();
    let outcome = test_events(&d, &scan);
    assert_eq!(titles(&d, &outcome), ["Port scan"]);
    assert_eq!(outcome.alerts[0].trigger, EventId(19));
}

#[test]
fn base_rules_generate_alerts_only_when_asked() {
    let yaml = |generate: bool| {
        format!(
            "title: fail\nname: fail\ndetection:\n  s:\n    event.outcome: failure\n  condition: s\n---\n\
             title: many\ncorrelation:\n  type: event_count\n  rules: [fail]\n  group-by: [user.name]\n  timespan: 1m\n  condition: {{gte: 2}}\n  generate: {generate}\n"
        )
    };
    let events: Vec<Event> = (0..2)
        .map(|i| Event {
            timestamp: Timestamp(T0 + i),
            outcome: Some("failure".into()),
            user: Some("bob".into()),
            fields: "{}".into(),
            ..Event::default()
        })
        .collect();
    let quiet = detector(&yaml(false)).unwrap();
    assert_eq!(titles(&quiet, &test_events(&quiet, &events)), ["many"]);
    let loud = detector(&yaml(true)).unwrap();
    assert_eq!(
        titles(&loud, &test_events(&loud, &events)),
        ["fail", "fail", "many"]
    );
}

#[test]
fn temporal_rules_need_every_rule_and_group_by_field() {
    let yaml = "title: a\nname: a\ndetection:\n  s:\n    event.action: a\n  condition: s\n---\n\
                title: b\nname: b\ndetection:\n  s:\n    event.action: b\n  condition: s\n---\n\
                title: both\ncorrelation:\n  type: temporal\n  rules: [a, b]\n  group-by: [host.name]\n  timespan: 10s\n";
    let d = detector(yaml).unwrap();
    let event = |action: &str, host: Option<&str>, secs: i64| Event {
        timestamp: Timestamp(T0 + secs * 1000),
        action: Some(action.into()),
        host: host.map(str::to_owned),
        fields: "{}".into(),
        ..Event::default()
    };
    // Unordered: b before a is fine.
    let outcome = test_events(&d, &[event("b", Some("h1"), 0), event("a", Some("h1"), 5)]);
    assert_eq!(titles(&d, &outcome), ["a", "b", "both"][2..]);
    // Different hosts, too far apart, or no host at all: nothing.
    for events in [
        vec![event("b", Some("h1"), 0), event("a", Some("h2"), 5)],
        vec![event("b", Some("h1"), 0), event("a", Some("h1"), 11)],
        vec![event("b", None, 0), event("a", None, 1)],
    ] {
        assert!(test_events(&d, &events).alerts.is_empty());
    }
}

#[test]
fn references_must_resolve_and_not_loop() {
    let (key, reason) = detector(
        "title: c\ncorrelation:\n  type: event_count\n  rules: [missing]\n  timespan: 1m\n  condition: {gte: 2}\n",
    )
    .err()
    .unwrap();
    assert_eq!(key, "r0");
    assert!(reason.contains("`missing`"), "{reason}");
    let (_, reason) = detector(
        "title: x\nname: x\ncorrelation:\n  type: event_count\n  rules: [y]\n  timespan: 1m\n  condition: {gte: 2}\n---\n\
         title: y\nname: y\ncorrelation:\n  type: event_count\n  rules: [x]\n  timespan: 1m\n  condition: {gte: 2}\n",
    )
    .err()
    .unwrap();
    assert!(reason.contains("loop"), "{reason}");
}

#[test]
fn correlation_state_stays_bounded() {
    let d = pack();
    let mut correlator = Correlator::new(Limits {
        max_groups: 1000,
        sweep_every: 256,
        ..Limits::default()
    });
    let mut scratch = rampart_detect::Scratch::default();
    let (mut hits, mut alerts) = (Vec::new(), Vec::new());
    // 20,000 sources, one failure each, all inside one window: the cap holds.
    for i in 0..20_000u32 {
        let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i);
        let event = failed(i as i64 / 100, &ip.to_string(), 22);
        let captured = d.scan(&event, false, &mut scratch, &mut hits).unwrap();
        for &rule in &hits {
            d.correlate(
                &mut correlator,
                rule,
                event.timestamp.0,
                &captured,
                EventId(i.into()),
                &mut alerts,
            );
        }
        assert!(
            correlator.tracked_groups() <= 2 * 1000,
            "{}",
            correlator.tracked_groups()
        );
    }
    assert!(alerts.is_empty());
    // Much later, everything earlier has expired.
    for i in 0..300u32 {
        let event = failed(100_000 + i as i64, "192.0.2.1", 22);
        let captured = d.scan(&event, false, &mut scratch, &mut hits).unwrap();
        for &rule in &hits {
            d.correlate(
                &mut correlator,
                rule,
                event.timestamp.0,
                &captured,
                EventId(i.into()),
                &mut alerts,
            );
        }
    }
    assert!(
        correlator.tracked_groups() <= 4,
        "{}",
        correlator.tracked_groups()
    );
}

/// Feeds `events` (with their ids) in the given order through one
/// correlator, as the ingest path does; returns per alert rule and group
/// how many alerts were raised.
fn alert_counts(
    d: &Detector,
    events: &[(u64, Event)],
) -> std::collections::BTreeMap<(String, String), usize> {
    let mut attempts = rampart_detect::sshd::SshAttempts::default();
    let mut correlator = Correlator::default();
    let mut scratch = rampart_detect::Scratch::default();
    let (mut hits, mut alerts) = (Vec::new(), Vec::new());
    for (id, event) in events {
        let continued = attempts.observe(event);
        let Some(captured) = d.scan(event, continued, &mut scratch, &mut hits) else {
            continue;
        };
        for &rule in &hits {
            d.correlate(
                &mut correlator,
                rule,
                event.timestamp.0,
                &captured,
                EventId(*id),
                &mut alerts,
            );
        }
    }
    let mut counts = std::collections::BTreeMap::new();
    for alert in &alerts {
        let group = format!("{:?}", alert.group);
        *counts
            .entry((d.rule(alert.rule).title.clone(), group))
            .or_insert(0) += 1;
    }
    counts
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

/// An auth.log of under an hour (all of it within the allowed lateness): brute-forcing sources with bursts of varied
/// size and pace (some invalid users, whose two lines are one attempt),
/// slow sources below the threshold, successful logins, a port scan.
fn shipped_log(rng: &mut Rng) -> Vec<(u64, Event)> {
    let mut events = Vec::new();
    for source in 0..40u32 {
        let ip = format!("198.51.100.{source}");
        let bursts = 1 + rng.below(3);
        for _ in 0..bursts {
            let start = rng.below(2_000) as i64;
            let attempts = 2 + rng.below(60);
            let gap = 1 + rng.below(20) as i64;
            for n in 0..attempts {
                let at = start + n as i64 * gap;
                let port = 30_000 + (events.len() % 30_000) as u16;
                if rng.below(4) == 0 {
                    events.push(sshd(
                        at,
                        &format!("Invalid user guest{n} from {ip} port {port}"),
                    ));
                    events.push(sshd(
                        at,
                        &format!(
                            "Failed password for invalid user guest{n} from {ip} port {port} ssh2"
                        ),
                    ));
                } else {
                    events.push(failed(at, &ip, port));
                }
            }
            if rng.below(3) == 0 {
                let at = start + attempts as i64 * gap + rng.below(600) as i64;
                events.push(sshd(
                    at,
                    &format!("Accepted password for root from {ip} port 22 ssh2"),
                ));
            }
        }
    }
    events.sort_by_key(|e| e.timestamp.0);
    events
        .into_iter()
        .enumerate()
        .map(|(i, e)| (i as u64, e))
        .collect()
}

/// The alert counts that differ between two runs. Correlations over
/// single matches must agree exactly. One chained over another
/// correlation's windows ("login after brute force") may see a window that
/// a late match moved both where it was and where it moved to, so it may
/// raise more alerts than in order, never fewer, and for the same groups.
fn differences(
    got: &std::collections::BTreeMap<(String, String), usize>,
    want: &std::collections::BTreeMap<(String, String), usize>,
) -> Vec<String> {
    let chained = |k: &(String, String)| k.0 == "SSH login after brute force";
    want.keys()
        .chain(got.keys())
        .filter(|k| match (got.get(*k), want.get(*k)) {
            (Some(g), Some(w)) if chained(k) => g < w,
            (g, w) => g != w,
        })
        .map(|k| format!("{k:?}: {:?} instead of {:?}", got.get(k), want.get(k)))
        .collect()
}

#[test]
fn the_same_log_raises_the_same_alerts_in_order_shuffled_or_interleaved() {
    let d = pack();
    for seed in 1..=12u64 {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
        let log = shipped_log(&mut rng);
        let in_order = alert_counts(&d, &log);
        assert!(
            in_order.keys().any(|(title, _)| title == "SSH brute force"),
            "the log has brute force: {in_order:?}"
        );

        // Files of 500 lines sent in a random order.
        let mut chunks: Vec<Vec<(u64, Event)>> = log.chunks(500).map(<[_]>::to_vec).collect();
        rng.shuffle(&mut chunks);
        let shuffled: Vec<(u64, Event)> = chunks.concat();
        let got = alert_counts(&d, &shuffled);
        assert!(
            differences(&got, &in_order).is_empty(),
            "seed {seed}: shuffled chunks: {:?}",
            differences(&got, &in_order)
        );

        // Two clients each sending half the files, their batches of 100
        // lines interleaving at random.
        let (mut left, mut right): (Vec<_>, Vec<_>) = (Vec::new(), Vec::new());
        for (n, chunk) in log.chunks(500).enumerate() {
            if n % 2 == 0 {
                left.extend_from_slice(chunk)
            } else {
                right.extend_from_slice(chunk)
            }
        }
        let (mut a, mut b) = (left.chunks(100), right.chunks(100));
        let mut interleaved = Vec::new();
        loop {
            let next = if rng.below(2) == 0 {
                a.next().or_else(|| b.next())
            } else {
                b.next().or_else(|| a.next())
            };
            match next {
                Some(batch) => interleaved.extend_from_slice(batch),
                None => break,
            }
        }
        let got = alert_counts(&d, &interleaved);
        assert!(
            differences(&got, &in_order).is_empty(),
            "seed {seed}: concurrent clients: {:?}",
            differences(&got, &in_order)
        );

        // Every line shuffled.
        let mut lines = log.clone();
        rng.shuffle(&mut lines);
        let got = alert_counts(&d, &lines);
        assert!(
            differences(&got, &in_order).is_empty(),
            "seed {seed}: every line shuffled: {:?}",
            differences(&got, &in_order)
        );
    }
}

#[test]
fn matches_later_than_the_allowed_lateness_are_counted_not_correlated() {
    let d = pack();
    let mut correlator = Correlator::new(Limits {
        allowed_lateness_ms: 60_000,
        ..Limits::default()
    });
    let mut scratch = rampart_detect::Scratch::default();
    let (mut hits, mut alerts) = (Vec::new(), Vec::new());
    let mut feed = |secs: i64, ip: &str, id: u64, correlator: &mut Correlator| {
        let event = failed(secs, ip, 22);
        let captured = d.scan(&event, false, &mut scratch, &mut hits).unwrap();
        for &rule in &hits {
            d.correlate(
                correlator,
                rule,
                event.timestamp.0,
                &captured,
                EventId(id),
                &mut alerts,
            );
        }
    };
    feed(10_000, "192.0.2.1", 0, &mut correlator);
    // Five failures two hours earlier: far later than allowed.
    for i in 0..5 {
        feed(2_000 + i, "192.0.2.2", 1 + i as u64, &mut correlator);
    }
    assert!(alerts.is_empty());
    // Each failure feeds two correlations (brute force, password spraying).
    assert_eq!(correlator.counters().late, 10);
}
