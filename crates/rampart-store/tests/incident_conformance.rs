//! Detection rules, alerts, incidents, comments and the audit trail behave
//! alike on both backends, and stay inside their organisation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use rampart_core::{
    AuditEntry, Comment, CommentId, DetectionRule, Entities, EventId, Incident, IncidentId,
    IncidentStatus, OrgId, Timestamp, UserId,
};
use rampart_store::{
    AuditQuery, Change, IncidentCount, IncidentQuery, IncidentSort, NewAlert, ResponseTimes,
    RuleHits, Store, StoreError, StoredFieldMapping,
};

rampart_store::conformance_suite!(
    rules_are_confined_and_count_hits,
    field_mappings_are_confined_versioned_and_audited,
    alerts_group_into_incidents_by_rule_key_and_window,
    a_large_batch_of_alerts_groups_as_one_by_one,
    incident_changes_are_guarded_and_audited,
    incident_lists_filter_sort_and_page,
    incident_counts_group_by_status_and_severity_within_the_organisation,
    response_times_average_the_range_within_the_organisation,
    open_incidents_are_counted_by_age_within_the_organisation,
);

async fn org(store: &Arc<dyn Store>, name: &str) -> OrgId {
    rampart_store::testing::org_with_admin(store, name)
        .await
        .unwrap()
}

fn rule(org: OrgId, id: &str, builtin: bool) -> DetectionRule {
    DetectionRule {
        id: id.into(),
        org_id: org,
        title: format!("rule {id}"),
        level: Some("high".into()),
        kind: "detection".into(),
        yaml: format!("title: rule {id}\n"),
        enabled: true,
        builtin,
        hits: 0,
        last_hit_at: None,
        created_at: Timestamp(10),
        updated_at: Timestamp(10),
    }
}

fn audit(org: OrgId, action: &str, target: &str) -> AuditEntry {
    AuditEntry::new(
        org,
        Timestamp(20),
        "user:test",
        action,
        ("rule", target.to_owned()),
        None,
        Some(serde_json::json!({"x": 1})),
    )
}

async fn rules_are_confined_and_count_hits(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    let builtin = rule(a, "b-1", true);
    store
        .sync_builtin_rules(a, std::slice::from_ref(&builtin))
        .await
        .unwrap();
    // An admin's switch survives the next start's sync.
    let mut off = builtin.clone();
    off.enabled = false;
    off.updated_at = Timestamp(30);
    assert!(store
        .update_rule(a, &off, &audit(a, "rule.disable", "b-1"))
        .await
        .unwrap());
    let mut newer = builtin.clone();
    newer.yaml = "title: rule b-1 v2\n".into();
    store.sync_builtin_rules(a, &[newer]).await.unwrap();
    let got = store.get_rule(a, "b-1").await.unwrap().unwrap();
    assert!(!got.enabled && got.builtin);
    assert_eq!(got.yaml, "title: rule b-1 v2\n");

    let custom = rule(a, "c-1", false);
    let version = store.rules_version(a).await.unwrap();
    store
        .create_rule(a, &custom, &audit(a, "rule.create", "c-1"))
        .await
        .unwrap();
    assert_ne!(store.rules_version(a).await.unwrap(), version);
    let dup = store
        .create_rule(a, &custom, &audit(a, "rule.create", "c-1"))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict { .. })), "{dup:?}");
    // The same id in another organisation is another rule.
    store
        .create_rule(b, &rule(b, "c-1", false), &audit(b, "rule.create", "c-1"))
        .await
        .unwrap();

    assert_eq!(store.list_rules(a, None, 10).await.unwrap().len(), 2);
    assert_eq!(store.list_rules(a, Some("b-1"), 10).await.unwrap().len(), 1);
    assert_eq!(store.enabled_rules(a).await.unwrap().len(), 1);
    assert_eq!(store.get_rule(b, "b-1").await.unwrap(), None);
    assert!(!store
        .delete_rule(b, "b-1", &audit(b, "rule.delete", "b-1"))
        .await
        .unwrap());

    let hits = [RuleHits {
        rule_id: "c-1".into(),
        hits: 7,
        last_hit_at: Timestamp(99),
    }];
    store.add_rule_hits(a, &hits).await.unwrap();
    store.add_rule_hits(a, &hits).await.unwrap();
    let got = store.get_rule(a, "c-1").await.unwrap().unwrap();
    assert_eq!((got.hits, got.last_hit_at), (14, Some(Timestamp(99))));
    assert_eq!(store.get_rule(b, "c-1").await.unwrap().unwrap().hits, 0);

    assert!(store
        .delete_rule(a, "c-1", &audit(a, "rule.delete", "c-1"))
        .await
        .unwrap());
    assert_eq!(store.get_rule(a, "c-1").await.unwrap(), None);
    let trail = store
        .list_audit(
            a,
            &AuditQuery {
                limit: 100,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["rule.delete", "rule.create", "rule.disable"],
        "newest first"
    );
    assert_eq!(trail[0].after, Some(serde_json::json!({"x": 1})));
    let filtered = AuditQuery {
        action: Some("rule.create".into()),
        limit: 100,
        ..AuditQuery::default()
    };
    assert_eq!(store.list_audit(a, &filtered).await.unwrap().len(), 1);
    assert_eq!(
        store
            .list_audit(
                b,
                &AuditQuery {
                    limit: 100,
                    ..AuditQuery::default()
                }
            )
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn field_mappings_are_confined_versioned_and_audited(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    assert_eq!(store.field_mapping(a).await.unwrap(), None);
    let before = store.rules_version(a).await.unwrap();
    let mapping = |text: &str, at: i64| StoredFieldMapping {
        mapping: text.into(),
        updated_at: Timestamp(at),
    };
    let first = mapping(r#"{"Image":["proc.exe"]}"#, 50);
    store
        .set_field_mapping(a, Some(&first), &audit(a, "field_mapping.update", "a"))
        .await
        .unwrap();
    assert_eq!(store.field_mapping(a).await.unwrap(), Some(first.clone()));
    assert_eq!(store.field_mapping(b).await.unwrap(), None, "confined");
    let set = store.rules_version(a).await.unwrap();
    assert_ne!(set, before);
    assert_eq!(store.rules_version(b).await.unwrap().mapping, 0);

    // A replacement written with an older clock still changes the version.
    let second = mapping(r#"{"Image":["p.exe"]}"#, 40);
    store
        .set_field_mapping(a, Some(&second), &audit(a, "field_mapping.update", "a"))
        .await
        .unwrap();
    let replaced = store.rules_version(a).await.unwrap();
    assert!(replaced.mapping > set.mapping, "{replaced:?} after {set:?}");
    assert_eq!(
        store.field_mapping(a).await.unwrap().unwrap().mapping,
        second.mapping
    );

    store
        .set_field_mapping(a, None, &audit(a, "field_mapping.delete", "a"))
        .await
        .unwrap();
    assert_eq!(store.field_mapping(a).await.unwrap(), None);
    assert_ne!(store.rules_version(a).await.unwrap(), replaced);
    let trail = store
        .list_audit(
            a,
            &AuditQuery {
                limit: 10,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "field_mapping.delete",
            "field_mapping.update",
            "field_mapping.update"
        ]
    );
}

fn alert(rule: &str, key: &str, severity: u8, ts: i64, ip: &str) -> NewAlert {
    NewAlert {
        rule_id: rule.into(),
        rule_title: "SSH brute force".into(),
        severity,
        group_key: key.into(),
        event_ids: vec![EventId(ts as u64)],
        entities: Entities {
            ips: vec![ip.into()],
            ..Entities::default()
        },
        ts: Timestamp(ts),
    }
}

async fn alerts_group_into_incidents_by_rule_key_and_window(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    const WINDOW: i64 = 3_600_000;
    let key = "source.ip=203.0.113.9";
    let first = store
        .record_alerts(
            a,
            &[
                alert("bf", key, 3, 1_000, "203.0.113.9"),
                alert("bf", key, 4, 2_000, "10.0.0.1"),
            ],
            WINDOW,
            Timestamp(5),
        )
        .await
        .unwrap();
    assert!(first[0].opened && !first[1].opened);
    assert_eq!(first[0].incident, first[1].incident);
    let incident = store
        .get_incident(a, first[0].incident)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(incident.occurrences, 2);
    assert_eq!(incident.severity, 4, "keeps the highest severity");
    assert_eq!(incident.status, IncidentStatus::Open);
    assert_eq!(incident.title, "SSH brute force (source.ip=203.0.113.9)");
    assert_eq!(incident.entities.ips, ["203.0.113.9", "10.0.0.1"]);
    assert_eq!(incident.event_ids, [EventId(1_000), EventId(2_000)]);
    assert_eq!(
        (incident.first_seen, incident.last_seen),
        (Timestamp(1_000), Timestamp(2_000))
    );

    // An alert that adds no event id leaves the stored list as it was
    // (it is not written again) and still counts.
    let mut again = alert("bf", key, 3, 1_500, "203.0.113.9");
    again.event_ids = vec![EventId(1_000)];
    let joined = store
        .record_alerts(a, &[again], WINDOW, Timestamp(6))
        .await
        .unwrap();
    assert_eq!(joined[0].incident, first[0].incident);
    let incident = store
        .get_incident(a, first[0].incident)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(incident.occurrences, 3);
    assert_eq!(incident.event_ids, [EventId(1_000), EventId(2_000)]);
    assert_eq!(
        (incident.first_seen, incident.last_seen),
        (Timestamp(1_000), Timestamp(2_000))
    );

    // Another key, another rule, or past the window: new incidents.
    let other = store
        .record_alerts(
            a,
            &[
                alert("bf", "source.ip=198.51.100.1", 4, 2_500, "198.51.100.1"),
                alert("scan", key, 2, 2_500, "203.0.113.9"),
                alert("bf", key, 4, 2_000 + WINDOW + 1, "203.0.113.9"),
            ],
            WINDOW,
            Timestamp(6),
        )
        .await
        .unwrap();
    assert!(other
        .iter()
        .all(|r| r.opened && r.incident != first[0].incident));

    // A closed incident takes no new alerts.
    let closed = store
        .update_incident(
            a,
            other[0].incident,
            &|i| {
                Ok(Incident {
                    status: IncidentStatus::Resolved,
                    ..i.clone()
                })
            },
            &|_, _| audit(a, "incident.update", "x"),
        )
        .await
        .unwrap();
    assert!(matches!(closed, Change::Done { .. }));
    let again = store
        .record_alerts(
            a,
            &[alert(
                "bf",
                "source.ip=198.51.100.1",
                4,
                2_600,
                "198.51.100.1",
            )],
            WINDOW,
            Timestamp(7),
        )
        .await
        .unwrap();
    assert!(again[0].opened);

    let alerts = store
        .list_alerts(a, Some(first[0].incident), None, 100)
        .await
        .unwrap();
    assert_eq!(alerts.len(), 3, "two, and the one that added no event");
    assert!(alerts.iter().all(|x| x.incident_id == first[0].incident));
    assert_eq!(
        store.list_alerts(a, None, None, 100).await.unwrap().len(),
        7
    );
    let page = store
        .list_alerts(a, None, Some(alerts[0].id), 100)
        .await
        .unwrap();
    assert!(page.iter().all(|x| x.id < alerts[0].id));

    // Nothing of it is visible to another organisation, and its alerts
    // never join a's incidents.
    assert_eq!(
        store.get_incident(b, first[0].incident).await.unwrap(),
        None
    );
    assert!(store
        .list_alerts(b, None, None, 100)
        .await
        .unwrap()
        .is_empty());
    let query = IncidentQuery {
        limit: 100,
        ..IncidentQuery::default()
    };
    assert!(store.list_incidents(b, &query).await.unwrap().is_empty());
    let theirs = store
        .record_alerts(
            b,
            &[alert("bf", key, 3, 1_500, "203.0.113.9")],
            WINDOW,
            Timestamp(8),
        )
        .await
        .unwrap();
    assert!(theirs[0].opened);
}

/// A batch past the store's chunk sizes, mixing new keys, repeats and a
/// key that outlives its window inside the batch, groups exactly as the
/// same alerts recorded one at a time.
async fn a_large_batch_of_alerts_groups_as_one_by_one(store: Arc<dyn Store>) {
    let (batched, single) = (org(&store, "batched").await, org(&store, "single").await);
    const WINDOW: i64 = 60_000;
    let mut alerts = Vec::new();
    for n in 0..900i64 {
        let ip = format!("198.51.{}.{}", n / 250, n % 250);
        alerts.push(alert("bf", &format!("source.ip={ip}"), 3, 1_000 + n, &ip));
    }
    for n in 0..300i64 {
        // Repeats of the first 300 keys, some with a higher severity.
        let ip = format!("198.51.0.{}", n % 250);
        let key = format!("source.ip={ip}");
        alerts.push(alert("bf", &key, 3 + (n % 3) as u8, 2_000 + n, &ip));
    }
    // One key: opened, past the window (a second incident), then joined.
    let key = "source.ip=203.0.113.77";
    for ts in [5_000, 5_000 + WINDOW + 1, 5_000 + WINDOW + 2] {
        alerts.push(alert("bf", key, 3, ts, "203.0.113.77"));
    }
    alerts.push(alert("scan", key, 2, 5_000, "203.0.113.77"));

    let recorded = store
        .record_alerts(batched, &alerts, WINDOW, Timestamp(9))
        .await
        .unwrap();
    let mut one_by_one = Vec::new();
    for a in &alerts {
        let r = store
            .record_alerts(single, std::slice::from_ref(a), WINDOW, Timestamp(9))
            .await
            .unwrap();
        one_by_one.push(r[0]);
    }
    assert_eq!(recorded.len(), alerts.len());
    let opened =
        |rs: &[rampart_store::RecordedAlert]| rs.iter().map(|r| r.opened).collect::<Vec<_>>();
    assert_eq!(opened(&recorded), opened(&one_by_one));
    assert_eq!(recorded.iter().filter(|r| r.opened).count(), 900 + 2 + 1);

    // The same incidents, alike in every grouped property.
    let list = |org| {
        let store = store.clone();
        async move {
            let mut all = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .list_incidents(
                        org,
                        &IncidentQuery {
                            sort: IncidentSort::CreatedAt,
                            after,
                            limit: 1000,
                            ..IncidentQuery::default()
                        },
                    )
                    .await
                    .unwrap();
                let Some(last) = page.last() else { break };
                after = Some((last.created_at.0, last.id));
                all.extend(page);
            }
            let mut shapes: Vec<_> = all
                .into_iter()
                .map(|i| {
                    (
                        i.rule_id,
                        i.group_key,
                        i.first_seen,
                        i.last_seen,
                        i.occurrences,
                        i.severity,
                        i.event_ids,
                        i.entities.ips,
                    )
                })
                .collect();
            shapes.sort();
            shapes
        }
    };
    let (ours, theirs) = (list(batched).await, list(single).await);
    assert_eq!(ours.len(), 903);
    assert_eq!(ours, theirs);
    let split: Vec<_> = ours
        .iter()
        .filter(|s| s.0.as_deref() == Some("bf") && s.1.as_deref() == Some(key))
        .map(|s| (s.2, s.3, s.4))
        .collect();
    assert_eq!(
        split,
        [
            (Timestamp(5_000), Timestamp(5_000), 1),
            (
                Timestamp(5_000 + WINDOW + 1),
                Timestamp(5_000 + WINDOW + 2),
                2
            )
        ]
    );

    // Every alert is stored against the incident it was reported in.
    let stored = store.list_alerts(batched, None, None, 1000).await.unwrap();
    for a in &stored {
        let r = recorded.iter().find(|r| r.alert == a.id).unwrap();
        assert_eq!(r.incident, a.incident_id);
    }

    // A later batch joins what the large one opened.
    let later = store
        .record_alerts(
            batched,
            &[alert(
                "bf",
                "source.ip=198.51.3.149",
                5,
                3_000,
                "198.51.3.149",
            )],
            WINDOW,
            Timestamp(10),
        )
        .await
        .unwrap();
    assert!(!later[0].opened);
    let joined = store
        .get_incident(batched, later[0].incident)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((joined.occurrences, joined.severity), (2, 5));
}

fn manual(org: OrgId, title: &str, severity: u8, at: i64) -> Incident {
    Incident {
        id: IncidentId::new(),
        org_id: org,
        title: title.into(),
        description: Some("seen by an analyst".into()),
        severity,
        status: IncidentStatus::Open,
        escalation: 0,
        assignee: None,
        rule_id: None,
        group_key: None,
        occurrences: 0,
        entities: Entities::default(),
        event_ids: vec![],
        first_seen: Timestamp(at),
        last_seen: Timestamp(at),
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
        created_by: "user:test".into(),
        acknowledged_at: None,
        resolved_at: None,
    }
}

async fn incident_changes_are_guarded_and_audited(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    let incident = manual(a, "Phishing wave", 3, 100);
    store
        .create_incident(a, &incident, &audit(a, "incident.create", "i"))
        .await
        .unwrap();
    assert_eq!(
        store.get_incident(a, incident.id).await.unwrap(),
        Some(incident.clone())
    );

    let to = |status| {
        move |i: &Incident| {
            if i.status.can_move_to(status) {
                Ok(Incident {
                    status,
                    ..i.clone()
                })
            } else {
                Err(format!("{} to {}", i.status.as_str(), status.as_str()))
            }
        }
    };
    let trail = |before: &Incident, after: &Incident| {
        AuditEntry::new(
            before.org_id,
            Timestamp(200),
            "user:test",
            "incident.update",
            ("incident", before.id.to_string()),
            Some(serde_json::json!({"status": before.status.as_str()})),
            Some(serde_json::json!({"status": after.status.as_str()})),
        )
    };
    let done = store
        .update_incident(a, incident.id, &to(IncidentStatus::Resolved), &trail)
        .await
        .unwrap();
    let Change::Done { before, after } = done else {
        panic!("{done:?}")
    };
    assert_eq!(
        (before.status, after.status),
        (IncidentStatus::Open, IncidentStatus::Resolved)
    );
    let refused = store
        .update_incident(a, incident.id, &to(IncidentStatus::Investigating), &trail)
        .await
        .unwrap();
    assert_eq!(refused, Change::Refused("resolved to investigating".into()));
    let missing = store
        .update_incident(b, incident.id, &to(IncidentStatus::Open), &trail)
        .await
        .unwrap();
    assert_eq!(
        missing,
        Change::Missing,
        "another organisation cannot change it"
    );
    assert_eq!(
        store
            .get_incident(a, incident.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        IncidentStatus::Resolved
    );

    let comment = || Comment {
        id: CommentId::new(),
        incident_id: incident.id,
        author: "user:test".into(),
        body: "blocked at the edge".into(),
        created_at: Timestamp(300),
    };
    assert!(store
        .add_comment(a, &comment(), &audit(a, "incident.comment", "i"))
        .await
        .unwrap());
    assert!(!store
        .add_comment(b, &comment(), &audit(b, "incident.comment", "i"))
        .await
        .unwrap());
    assert_eq!(store.list_comments(a, incident.id).await.unwrap().len(), 1);
    assert!(store
        .list_comments(b, incident.id)
        .await
        .unwrap()
        .is_empty());

    let query = AuditQuery {
        target_type: Some("incident".into()),
        target_id: Some(incident.id.to_string()),
        limit: 100,
        ..AuditQuery::default()
    };
    let entries = store.list_audit(a, &query).await.unwrap();
    assert_eq!(entries.len(), 1, "only the successful update is recorded");
    assert_eq!(
        entries[0].before,
        Some(serde_json::json!({"status": "open"}))
    );
    assert_eq!(
        entries[0].after,
        Some(serde_json::json!({"status": "resolved"}))
    );
    assert!(store.list_audit(b, &query).await.unwrap().is_empty());
}

async fn incident_lists_filter_sort_and_page(store: Arc<dyn Store>) {
    let a = org(&store, "a").await;
    let analyst = UserId::new();
    let mut all = Vec::new();
    for n in 0..25i64 {
        let mut i = manual(
            a,
            &format!("Case {n}"),
            (n % 5) as u8 + 1,
            1_000 + n * 7 % 11,
        );
        if n % 3 == 0 {
            i.status = IncidentStatus::Investigating;
            i.assignee = Some(analyst);
        }
        store
            .create_incident(a, &i, &audit(a, "incident.create", "i"))
            .await
            .unwrap();
        all.push(i);
    }
    for (sort, descending) in [
        (IncidentSort::Severity, true),
        (IncidentSort::LastSeen, false),
        (IncidentSort::CreatedAt, true),
    ] {
        let mut expected = all.clone();
        expected.sort_by_key(|i| (sort.value(i), i.id));
        if descending {
            expected.reverse();
        }
        let mut seen = Vec::new();
        let mut query = IncidentQuery {
            sort,
            descending,
            limit: 7,
            ..IncidentQuery::default()
        };
        loop {
            let page = store.list_incidents(a, &query).await.unwrap();
            let Some(last) = page.last() else { break };
            query.after = Some((sort.value(last), last.id));
            seen.extend(page.iter().map(|i| i.id));
        }
        let expected: Vec<IncidentId> = expected.iter().map(|i| i.id).collect();
        assert_eq!(seen, expected, "{sort:?} descending={descending}");
    }
    let query = IncidentQuery {
        statuses: vec![IncidentStatus::Investigating],
        assignee: Some(analyst),
        min_severity: Some(3),
        limit: 100,
        ..IncidentQuery::default()
    };
    let got = store.list_incidents(a, &query).await.unwrap();
    let expected = all
        .iter()
        .filter(|i| i.status == IncidentStatus::Investigating && i.severity >= 3)
        .count();
    assert_eq!(got.len(), expected);
    assert!(expected > 0);
    let query = IncidentQuery {
        text: Some("CASE 1".into()),
        limit: 100,
        ..IncidentQuery::default()
    };
    assert_eq!(
        store.list_incidents(a, &query).await.unwrap().len(),
        11,
        "Case 1 and Case 10–19"
    );
    let query = IncidentQuery {
        text: Some("%".into()),
        limit: 100,
        ..IncidentQuery::default()
    };
    assert!(
        store.list_incidents(a, &query).await.unwrap().is_empty(),
        "LIKE characters are literal"
    );
}

async fn incident_counts_group_by_status_and_severity_within_the_organisation(
    store: Arc<dyn Store>,
) {
    let a = org(&store, "a").await;
    let b = org(&store, "b").await;
    for (n, (severity, status)) in [
        (4, IncidentStatus::Open),
        (4, IncidentStatus::Open),
        (2, IncidentStatus::Open),
        (4, IncidentStatus::Resolved),
    ]
    .into_iter()
    .enumerate()
    {
        let mut i = manual(a, &format!("Case {n}"), severity, 1_000);
        i.status = status;
        store
            .create_incident(a, &i, &audit(a, "incident.create", "i"))
            .await
            .unwrap();
    }
    let other = manual(b, "Elsewhere", 5, 1_000);
    store
        .create_incident(b, &other, &audit(b, "incident.create", "i"))
        .await
        .unwrap();
    let mut counts = store.incident_counts(a).await.unwrap();
    counts.sort_by_key(|c| (c.status.as_str(), c.severity));
    let count = |status, severity, count| IncidentCount {
        status,
        severity,
        count,
    };
    assert_eq!(
        counts,
        vec![
            count(IncidentStatus::Open, 2, 1),
            count(IncidentStatus::Open, 4, 2),
            count(IncidentStatus::Resolved, 4, 1),
        ]
    );
    assert_eq!(store.incident_counts(b).await.unwrap().len(), 1);
}

/// Moves an incident through `steps` of `(status, at)` as the service does.
async fn walk(store: &Arc<dyn Store>, incident: &Incident, steps: &[(IncidentStatus, i64)]) {
    for &(status, at) in steps {
        let apply = move |i: &Incident| {
            let mut next = i.clone();
            next.move_to(status, Timestamp(at))?;
            Ok(next)
        };
        let trail = |before: &Incident, _: &Incident| {
            audit(before.org_id, "incident.update", &before.id.to_string())
        };
        let done = store
            .update_incident(incident.org_id, incident.id, &apply, &trail)
            .await
            .unwrap();
        assert!(matches!(done, Change::Done { .. }), "{done:?}");
    }
}

async fn response_times_average_the_range_within_the_organisation(store: Arc<dyn Store>) {
    use IncidentStatus::*;
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    let minute = 60_000;
    let cases = [
        // Acknowledged after 2 minutes, resolved after 10.
        (0, vec![(Acknowledged, 2 * minute), (Resolved, 10 * minute)]),
        // Closed straight away as a false positive after 4 minutes.
        (0, vec![(FalsePositive, 4 * minute)]),
        // Acknowledged after 6 minutes, still being investigated.
        (
            0,
            vec![(Acknowledged, 6 * minute), (Investigating, 7 * minute)],
        ),
        // Resolved, then reopened: acknowledged, no longer closed.
        (0, vec![(Resolved, minute), (Open, 3 * minute)]),
        // Acknowledged long before the range.
        (-100 * minute, vec![(Acknowledged, -99 * minute)]),
        // Never touched.
        (0, vec![]),
    ];
    for (n, (created, steps)) in cases.iter().enumerate() {
        let incident = manual(a, &format!("Case {n}"), 3, *created);
        store
            .create_incident(a, &incident, &audit(a, "incident.create", "i"))
            .await
            .unwrap();
        walk(&store, &incident, steps).await;
        let stored = store.get_incident(a, incident.id).await.unwrap().unwrap();
        let acknowledged = steps.first().map(|(_, at)| Timestamp(*at));
        assert_eq!(stored.acknowledged_at, acknowledged, "case {n}");
    }
    let other = manual(b, "Elsewhere", 3, 0);
    store
        .create_incident(b, &other, &audit(b, "incident.create", "i"))
        .await
        .unwrap();
    walk(&store, &other, &[(Resolved, 60 * minute)]).await;

    let times = store.response_times(a, Timestamp(0)).await.unwrap();
    assert_eq!(
        times,
        ResponseTimes {
            // Cases 0–3: (2 + 4 + 6 + 1) / 4 minutes.
            acknowledged: 4,
            mean_to_acknowledge_ms: Some(13 * minute / 4),
            // Cases 0 and 1: (10 + 4) / 2 minutes.
            closed: 2,
            mean_to_close_ms: Some(7 * minute),
        }
    );
    let later = store
        .response_times(a, Timestamp(5 * minute))
        .await
        .unwrap();
    assert_eq!((later.acknowledged, later.closed), (1, 1));
    let none = store
        .response_times(a, Timestamp(100 * minute))
        .await
        .unwrap();
    assert_eq!(none, ResponseTimes::default());
    let elsewhere = store.response_times(b, Timestamp(0)).await.unwrap();
    assert_eq!(elsewhere.mean_to_close_ms, Some(60 * minute));
}

async fn open_incidents_are_counted_by_age_within_the_organisation(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    let hour = 3_600_000;
    let now = 1_000 * hour;
    for (n, (age, status)) in [
        (0, IncidentStatus::Open),
        (hour - 1, IncidentStatus::Acknowledged),
        (hour, IncidentStatus::Investigating),
        (30 * hour, IncidentStatus::Open),
        (30 * hour, IncidentStatus::Resolved),
        (200 * hour, IncidentStatus::FalsePositive),
        (200 * hour, IncidentStatus::Open),
    ]
    .into_iter()
    .enumerate()
    {
        let mut i = manual(a, &format!("Case {n}"), 3, now - age);
        i.status = status;
        store
            .create_incident(a, &i, &audit(a, "incident.create", "i"))
            .await
            .unwrap();
    }
    let other = manual(b, "Elsewhere", 3, now);
    store
        .create_incident(b, &other, &audit(b, "incident.create", "i"))
        .await
        .unwrap();
    let since = [now - hour, now - 24 * hour, now - 168 * hour].map(Timestamp);
    // Within the hour: the first three (one exactly an hour ago); within
    // the week: the open one of 30 hours; older: the open one of 200.
    assert_eq!(
        store.open_incident_ages(a, &since).await.unwrap(),
        [3, 0, 1, 1]
    );
    assert_eq!(
        store.open_incident_ages(b, &since).await.unwrap(),
        [1, 0, 0, 0]
    );
    let none = org(&store, "c").await;
    assert_eq!(
        store.open_incident_ages(none, &since).await.unwrap(),
        [0, 0, 0, 0]
    );
}
