//! The event storage conformance suite: both backends store, find, count
//! and expire events identically, checked against the reference filter.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::manual_is_multiple_of
)]

use std::collections::HashMap;
use std::sync::Arc;

use rampart_core::event::IpMatch;
use rampart_core::{Event, EventFilter, EventId, OrgId, Timestamp};
use rampart_store::{EventCursor, StatsRequest, Store};

const T0: i64 = 1_800_000_000_000;
const MINUTE: i64 = 60_000;

rampart_store::conformance_suite!(
    appended_events_read_back_identically_and_only_for_their_org,
    queries_match_the_reference_filter_newest_first,
    pagination_is_stable_while_inserts_go_on,
    stats_count_buckets_and_top_values,
    stats_over_a_time_range_alone_agree_with_the_events,
    retention_removes_only_expired_events_of_the_org,
    a_batch_spanning_days_is_stored_whole_and_found_by_id,
    sealing_changes_no_answer_and_late_events_still_land,
);

/// A varied but deterministic event.
fn sample(i: usize) -> Event {
    let actions = ["ssh_login", "ssh_invalid_user", "http_request", "dns_query"];
    let hosts = ["web1", "web2", "db1"];
    Event {
        // Not in arrival order: every 7th event is an hour late.
        timestamp: Timestamp(T0 + (i as i64) * 1000 - if i % 7 == 0 { 60 * MINUTE } else { 0 }),
        received: Timestamp(T0 + (i as i64) * 1000),
        source: "test".into(),
        severity: (i % 5 != 0).then_some((i % 6) as u8),
        category: Some(
            if i % 2 == 0 {
                "authentication"
            } else {
                "network"
            }
            .into(),
        ),
        action: Some(actions[i % actions.len()].into()),
        outcome: Some(if i % 3 == 0 { "failure" } else { "success" }.into()),
        source_ip: Some(format!("203.0.{}.{}", i % 4, i % 250).parse().unwrap()),
        source_port: Some((1024 + i % 5000) as u16),
        destination_ip: (i % 2 == 0).then(|| format!("2001:db8::{:x}", i % 16).parse().unwrap()),
        destination_port: Some(if i % 2 == 0 { 22 } else { 443 }),
        host: Some(hosts[i % hosts.len()].into()),
        user: Some(format!("user{}", i % 13)),
        process: Some("sshd".into()),
        url: None,
        message: Some(format!(
            "Event number {i}: Failed password for user{}",
            i % 13
        )),
        tags: vec!["t".into()],
        fields: format!(r#"{{"n":{i},"nested":{{"x":"é\t\u0000"}}}}"#),
        warnings: if i % 11 == 0 {
            vec!["rule-a".into()]
        } else {
            vec![]
        },
    }
}

/// One batch whose events fall on several days (on PostgreSQL: several
/// partitions, one before 1970) is stored in batch order, each event found
/// again by its id and by time.
async fn a_batch_spanning_days_is_stored_whole_and_found_by_id(store: Arc<dyn Store>) {
    let org = OrgId::new();
    const DAY: i64 = 86_400_000;
    let events: Vec<Event> = [T0, T0 + DAY, T0 - 2 * DAY, -DAY / 2, T0 + DAY + 1]
        .into_iter()
        .enumerate()
        .map(|(i, ts)| Event {
            timestamp: Timestamp(ts),
            ..sample(i)
        })
        .collect();
    let ids = append(&store, org, events.clone()).await;
    assert_eq!(ids.len(), events.len());
    for (id, event) in ids.iter().zip(&events) {
        assert_eq!(
            store.get_event(org, *id).await.unwrap().as_ref(),
            Some(event)
        );
    }
    let found = query_all(&store, org, &EventFilter::default(), 2).await;
    let times: Vec<i64> = found.iter().map(|(_, e)| e.timestamp.0).collect();
    assert_eq!(times, [T0 + DAY + 1, T0 + DAY, T0, T0 - 2 * DAY, -DAY / 2]);
}

/// Sealing (on PostgreSQL: indexing finished hour partitions by source
/// address) changes no search's answer, happens once per partition, and
/// events that arrive for sealed hours are stored and found like the rest.
async fn sealing_changes_no_answer_and_late_events_still_land(store: Arc<dyn Store>) {
    const HOUR: i64 = 3_600_000;
    let (org, other) = (OrgId::new(), OrgId::new());
    // Spread over four hours (T0 starts one; every 7th event is an hour late).
    let spread = |i: usize| {
        let e = sample(i);
        Event {
            timestamp: Timestamp(e.timestamp.0 + (i as i64 % 3) * HOUR),
            ..e
        }
    };
    let mut all = Vec::new();
    for chunk in 0..2 {
        let events: Vec<Event> = (chunk * 300..(chunk + 1) * 300).map(spread).collect();
        all.extend(
            append(&store, org, events.clone())
                .await
                .into_iter()
                .zip(events),
        );
    }
    append(&store, other, (0..300).map(spread).collect()).await;
    let filters = [
        EventFilter {
            source_ip: Some("203.0.1.77".parse().unwrap()),
            ..Default::default()
        },
        EventFilter {
            source_ip: Some("198.51.100.1".parse().unwrap()),
            ..Default::default()
        },
        EventFilter {
            source_ip: Some("203.0.2.0/24".parse().unwrap()),
            min_severity: Some(2),
            ..Default::default()
        },
        EventFilter {
            source_ip: Some("203.0.3.3".parse().unwrap()),
            action: Some("ssh_login".into()),
            ..Default::default()
        },
    ];
    let check = |all: Vec<(EventId, Event)>| {
        let store = store.clone();
        let filters = filters.clone();
        async move {
            for filter in &filters {
                let got: Vec<EventId> = query_all(&store, org, filter, 50)
                    .await
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect();
                assert_eq!(got, reference(&all, filter), "filter {filter:?}");
            }
        }
    };
    check(all.clone()).await;
    // Nothing has ended long enough before T0 to be sealed.
    assert_eq!(store.seal_event_storage(Timestamp(T0)).await.unwrap(), 0);
    let later = Timestamp(T0 + 5 * HOUR);
    store.seal_event_storage(later).await.unwrap();
    assert_eq!(
        store.seal_event_storage(later).await.unwrap(),
        0,
        "sealed once"
    );
    check(all.clone()).await;
    // Late events for sealed hours.
    let late: Vec<Event> = (600..900).map(spread).collect();
    all.extend(
        append(&store, org, late.clone())
            .await
            .into_iter()
            .zip(late),
    );
    check(all).await;
}

async fn append(store: &Arc<dyn Store>, org: OrgId, events: Vec<Event>) -> Vec<EventId> {
    let prepared = store.prepare_events(org, events);
    let mut ids = store.append_events(&[prepared]).await.unwrap();
    ids.pop().unwrap()
}

/// Everything a filter selects, page by page.
async fn query_all(
    store: &Arc<dyn Store>,
    org: OrgId,
    filter: &EventFilter,
    limit: u32,
) -> Vec<(EventId, Event)> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.query_events(org, filter, after, limit).await.unwrap();
        let full = page.len() == limit as usize;
        if let Some((id, e)) = page.last() {
            after = Some(EventCursor {
                timestamp: e.timestamp,
                id: *id,
            });
        }
        out.extend(page);
        if !full {
            return out;
        }
    }
}

fn reference(all: &[(EventId, Event)], filter: &EventFilter) -> Vec<EventId> {
    let mut hits: Vec<&(EventId, Event)> = all.iter().filter(|(_, e)| filter.matches(e)).collect();
    hits.sort_by_key(|(id, e)| std::cmp::Reverse((e.timestamp, *id)));
    hits.into_iter().map(|(id, _)| *id).collect()
}

async fn appended_events_read_back_identically_and_only_for_their_org(store: Arc<dyn Store>) {
    let (a, b) = (OrgId::new(), OrgId::new());
    let first: Vec<Event> = (0..10).map(sample).collect();
    let second: Vec<Event> = (10..15).map(sample).collect();
    let prepared = vec![
        store.prepare_events(a, first.clone()),
        store.prepare_events(b, second.clone()),
    ];
    let ids = store.append_events(&prepared).await.unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0].len(), 10);
    assert_eq!(ids[1].len(), 5);
    for (id, event) in ids[0].iter().zip(&first) {
        assert_eq!(store.get_event(a, *id).await.unwrap().as_ref(), Some(event));
        assert_eq!(
            store.get_event(b, *id).await.unwrap(),
            None,
            "org b sees a's event"
        );
    }
    for (id, event) in ids[1].iter().zip(&second) {
        assert_eq!(store.get_event(b, *id).await.unwrap().as_ref(), Some(event));
    }
    assert_eq!(
        store.get_event(a, EventId(u64::MAX >> 1)).await.unwrap(),
        None
    );
    let mut all: Vec<EventId> = ids.concat();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 15, "ids are unique");
    let listed = query_all(&store, b, &EventFilter::default(), 100).await;
    assert_eq!(listed.len(), 5);
}

async fn queries_match_the_reference_filter_newest_first(store: Arc<dyn Store>) {
    let org = OrgId::new();
    let other = OrgId::new();
    let mut all = Vec::new();
    // Several batches, so several blocks / id ranges.
    for chunk in 0..4 {
        let events: Vec<Event> = (chunk * 300..(chunk + 1) * 300).map(sample).collect();
        let ids = append(&store, org, events.clone()).await;
        all.extend(ids.into_iter().zip(events));
    }
    append(&store, other, (0..300).map(sample).collect()).await;

    let filters = [
        EventFilter::default(),
        EventFilter {
            from: Some(Timestamp(T0 + 200_000)),
            to: Some(Timestamp(T0 + 700_000)),
            ..Default::default()
        },
        EventFilter {
            min_severity: Some(3),
            ..Default::default()
        },
        EventFilter {
            action: Some("ssh_login".into()),
            outcome: Some("failure".into()),
            ..Default::default()
        },
        EventFilter {
            category: Some("network".into()),
            host: Some("web2".into()),
            ..Default::default()
        },
        EventFilter {
            source_ip: Some("203.0.1.77".parse().unwrap()),
            ..Default::default()
        },
        EventFilter {
            source_ip: Some("203.0.2.0/24".parse().unwrap()),
            ..Default::default()
        },
        // Networks wider, narrower and other than the summaries record.
        EventFilter {
            source_ip: Some("203.0.0.0/20".parse().unwrap()),
            ..Default::default()
        },
        EventFilter {
            source_ip: Some("203.0.1.64/26".parse().unwrap()),
            ..Default::default()
        },
        EventFilter {
            source_ip: Some("198.51.100.0/24".parse().unwrap()),
            ..Default::default()
        },
        EventFilter {
            destination_ip: Some("2001:db8:1::/48".parse().unwrap()),
            ..Default::default()
        },
        EventFilter {
            destination_ip: Some(IpMatch::Exact("2001:db8::4".parse().unwrap())),
            ..Default::default()
        },
        EventFilter {
            destination_ip: Some("2001:db8::/120".parse().unwrap()),
            ..Default::default()
        },
        EventFilter {
            user: Some("user7".into()),
            ..Default::default()
        },
        EventFilter {
            text: Some("FAILED password FOR user1".into()),
            ..Default::default()
        },
        EventFilter {
            text: Some("100%_".into()),
            ..Default::default()
        },
        EventFilter {
            user: Some("nobody".into()),
            ..Default::default()
        },
        // Terms that each occur in every block: meeting in some events,
        // and never in one event (what block postings rule out).
        EventFilter {
            host: Some("web1".into()),
            destination_ip: Some(IpMatch::Exact("2001:db8::2".parse().unwrap())),
            ..Default::default()
        },
        EventFilter {
            host: Some("web2".into()),
            action: Some("ssh_login".into()),
            user: Some("user3".into()),
            ..Default::default()
        },
        EventFilter {
            category: Some("network".into()),
            destination_ip: Some(IpMatch::Exact("2001:db8::4".parse().unwrap())),
            ..Default::default()
        },
    ];
    for filter in &filters {
        let want = reference(&all, filter);
        for limit in [1000, 97] {
            let got: Vec<EventId> = query_all(&store, org, filter, limit)
                .await
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            assert_eq!(got, want, "filter {filter:?}, limit {limit}");
        }
    }
}

async fn pagination_is_stable_while_inserts_go_on(store: Arc<dyn Store>) {
    let org = OrgId::new();
    let events: Vec<Event> = (0..500).map(sample).collect();
    let ids = append(&store, org, events.clone()).await;
    let mut seen = Vec::new();
    let mut after = None;
    let mut round = 0;
    loop {
        let page = store
            .query_events(org, &EventFilter::default(), after, 50)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        let (id, e) = page.last().unwrap();
        after = Some(EventCursor {
            timestamp: e.timestamp,
            id: *id,
        });
        seen.extend(page.into_iter().map(|(id, _)| id));
        // Newer events keep arriving; they sort before the cursor.
        round += 1;
        append(
            &store,
            org,
            (10_000 + round * 10..10_000 + round * 10 + 10)
                .map(sample)
                .collect(),
        )
        .await;
    }
    let mut want = ids.clone();
    want.sort();
    let mut got = seen.clone();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), seen.len(), "no event listed twice");
    assert_eq!(got, want, "every original event listed once");
}

async fn stats_count_buckets_and_top_values(store: Arc<dyn Store>) {
    let org = OrgId::new();
    let events: Vec<Event> = (0..600).map(sample).collect();
    append(&store, org, events.clone()).await;
    append(&store, OrgId::new(), events.clone()).await;
    let filter = EventFilter {
        outcome: Some("failure".into()),
        ..Default::default()
    };
    let stats = store
        .event_stats(
            org,
            &StatsRequest {
                filter: &filter,
                bucket_ms: 5 * MINUTE,
                top_field: Some("user.name"),
                top_limit: 3,
                approximate_top: false,
            },
        )
        .await
        .unwrap();
    let matching: Vec<&Event> = events.iter().filter(|e| filter.matches(*e)).collect();
    assert_eq!(stats.total, matching.len() as u64);
    assert_eq!(stats.buckets.iter().map(|b| b.1).sum::<u64>(), stats.total);
    let mut buckets = std::collections::BTreeMap::new();
    for e in &matching {
        *buckets
            .entry(e.timestamp.0.div_euclid(5 * MINUTE) * 5 * MINUTE)
            .or_insert(0u64) += 1;
    }
    let want: Vec<(Timestamp, u64)> = buckets
        .into_iter()
        .map(|(t, n)| (Timestamp(t), n))
        .collect();
    assert_eq!(stats.buckets, want);
    let mut users = std::collections::HashMap::new();
    for e in &matching {
        *users.entry(e.user.clone().unwrap()).or_insert(0u64) += 1;
    }
    let mut top: Vec<(String, u64)> = users.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(3);
    assert_eq!(stats.top, top);

    for field in ["source.ip", "destination.port", "event.severity"] {
        let stats = store
            .event_stats(
                org,
                &StatsRequest {
                    filter: &EventFilter::default(),
                    bucket_ms: 3_600_000,
                    top_field: Some(field),
                    top_limit: 1,
                    approximate_top: false,
                },
            )
            .await
            .unwrap();
        assert_eq!(stats.total, 600);
        assert_eq!(stats.top.len(), 1, "{field}");
    }
}

/// The counts a stats request must give, from the events themselves.
fn expected_stats(
    events: &[Event],
    filter: &EventFilter,
    bucket_ms: i64,
    field: &str,
) -> (u64, Vec<(Timestamp, u64)>, HashMap<String, u64>) {
    use rampart_core::event::Filterable;
    let mut buckets = std::collections::BTreeMap::new();
    let mut values = HashMap::new();
    let matching: Vec<&Event> = events.iter().filter(|e| filter.matches(*e)).collect();
    for e in &matching {
        *buckets
            .entry(Timestamp(e.timestamp.0.div_euclid(bucket_ms) * bucket_ms))
            .or_insert(0u64) += 1;
        if let Some(value) = e.field_text(field) {
            *values.entry(value).or_insert(0u64) += 1;
        }
    }
    (matching.len() as u64, buckets.into_iter().collect(), values)
}

/// A range alone (the dashboard's query) may be answered from stored
/// pre-aggregates: totals and minute buckets stay exact, top values stay
/// exact unless approximation was allowed, and then are lower bounds.
/// Blocks straddling the range's ends, late events and retention count too.
async fn stats_over_a_time_range_alone_agree_with_the_events(store: Arc<dyn Store>) {
    let org = OrgId::new();
    let mut events: Vec<Event> = Vec::new();
    for batch in 0..4 {
        let part: Vec<Event> = (batch * 2500..(batch + 1) * 2500).map(sample).collect();
        append(&store, org, part.clone()).await;
        events.extend(part);
    }
    append(&store, OrgId::new(), events[..3000].to_vec()).await;
    let cutoff = Timestamp(T0 + 1_000_000);
    store.delete_events_before(org, cutoff).await.unwrap();
    events.retain(|e| e.timestamp >= cutoff);

    let ranges = [
        (None, None),
        (Some(T0 + 1_500_000), None),
        (Some(T0 + 2_000_000), Some(T0 + 7_000_000)),
        (Some(T0 - 9 * MINUTE), Some(T0 + 9_000_000)),
    ];
    for (from, to) in ranges {
        let filter = EventFilter {
            from: from.map(Timestamp),
            to: to.map(Timestamp),
            ..EventFilter::default()
        };
        for (field, bucket_ms) in [("user.name", 5 * MINUTE), ("source.ip", MINUTE)] {
            let (total, buckets, values) = expected_stats(&events, &filter, bucket_ms, field);
            for approximate_top in [false, true] {
                let stats = store
                    .event_stats(
                        org,
                        &StatsRequest {
                            filter: &filter,
                            bucket_ms,
                            top_field: Some(field),
                            top_limit: 5,
                            approximate_top,
                        },
                    )
                    .await
                    .unwrap();
                let case = format!("{from:?}..{to:?} {field} approximate={approximate_top}");
                assert_eq!(stats.total, total, "{case}");
                assert_eq!(stats.buckets, buckets, "{case}");
                if stats.top_approximate {
                    assert!(approximate_top, "{case}");
                    for (value, count) in &stats.top {
                        assert!(*count <= values[value], "{case}: {value}");
                    }
                } else {
                    let mut top: Vec<(String, u64)> =
                        values.iter().map(|(v, n)| (v.clone(), *n)).collect();
                    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    top.truncate(5);
                    assert_eq!(stats.top, top, "{case}");
                }
            }
        }
    }
}

async fn retention_removes_only_expired_events_of_the_org(store: Arc<dyn Store>) {
    let (org, other) = (OrgId::new(), OrgId::new());
    // One batch straddles the cutoff, so block-based stores must split it.
    let events: Vec<Event> = (0..400).map(sample).collect();
    let ids = append(&store, org, events.clone()).await;
    append(&store, other, events.clone()).await;
    let cutoff = Timestamp(T0 + 200_000);
    let removed = store.delete_events_before(org, cutoff).await.unwrap();
    let expired = events.iter().filter(|e| e.timestamp < cutoff).count();
    assert_eq!(removed, expired as u64);
    let left = query_all(&store, org, &EventFilter::default(), 1000).await;
    assert_eq!(left.len(), 400 - expired);
    assert!(left.iter().all(|(_, e)| e.timestamp >= cutoff));
    for (id, event) in ids.iter().zip(&events) {
        let got = store.get_event(org, *id).await.unwrap();
        assert_eq!(got.is_some(), event.timestamp >= cutoff);
    }
    assert_eq!(
        query_all(&store, other, &EventFilter::default(), 1000)
            .await
            .len(),
        400
    );
    // Housekeeping creates what is needed ahead and keeps what is current.
    store
        .maintain_event_storage(Timestamp(T0), Timestamp(T0 - 30 * 86_400_000))
        .await
        .unwrap();
    assert_eq!(
        query_all(&store, other, &EventFilter::default(), 1000)
            .await
            .len(),
        400
    );
    // ...and, past everyone's retention, the old data is gone on every backend.
    let far = Timestamp(T0 + 40 * 86_400_000);
    store.delete_events_before(other, far).await.unwrap();
    store.maintain_event_storage(far, far).await.unwrap();
    assert!(query_all(&store, other, &EventFilter::default(), 1000)
        .await
        .is_empty());
    let fresh = append(
        &store,
        other,
        vec![Event {
            timestamp: Timestamp(far.0 + 1),
            ..sample(1)
        }],
    )
    .await;
    assert!(store.get_event(other, fresh[0]).await.unwrap().is_some());
}
