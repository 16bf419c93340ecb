//! Notifications behave alike on both backends: channels, rules and
//! preferences stay inside their organisation and are audited; deliveries
//! are recorded once per dedupe key with their jobs; every incident change
//! worth telling enqueues its dispatch job in the change's transaction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use rampart_core::notification::{
    self, Channel, ChannelTarget, Delivery, DeliveryStatus, Message, Notice, NoticeKind,
    NotificationPrefs, NotificationRule,
};
use rampart_core::{
    AuditEntry, ChannelId, DeliveryId, Entities, EventId, Incident, IncidentId, IncidentStatus,
    JobState, NotificationRuleId, OrgId, Timestamp, UserId,
};
use rampart_store::{
    AuditQuery, DeliveryAttempt, DeliveryQuery, JobQuery, JobScope, NewAlert, Store, StoreError,
};

rampart_store::conformance_suite!(
    channels_and_rules_are_confined_and_audited,
    deliveries_are_recorded_once_with_their_jobs,
    incident_changes_enqueue_their_notices_in_the_same_transaction,
);

async fn org(store: &Arc<dyn Store>, name: &str) -> OrgId {
    rampart_store::testing::org_with_admin(store, name)
        .await
        .unwrap()
}

fn audit(org: OrgId, action: &str) -> AuditEntry {
    AuditEntry::new(
        org,
        Timestamp(5),
        "user:test",
        action,
        ("notification", "x".into()),
        None,
        None,
    )
}

fn hook(org: OrgId, name: &str) -> Channel {
    Channel {
        id: ChannelId::new(),
        org_id: org,
        name: name.into(),
        target: ChannelTarget::Webhook {
            url: "https://hooks.example.com/x".into(),
            secret: "s".repeat(32),
        },
        enabled: true,
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
    }
}

async fn audited(store: &Arc<dyn Store>, org: OrgId) -> Vec<String> {
    let query = AuditQuery {
        limit: 100,
        ..AuditQuery::default()
    };
    let mut actions: Vec<String> = store
        .list_audit(org, &query)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    actions.sort();
    actions
}

async fn channels_and_rules_are_confined_and_audited(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    let ops = hook(a, "ops");
    store
        .create_channel(&ops, &audit(a, "channel.create"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_channel(&hook(a, "ops"), &audit(a, "channel.create"))
            .await,
        Err(StoreError::Conflict { .. })
    ));
    // Another organisation may use the name, and sees only its own.
    store
        .create_channel(&hook(b, "ops"), &audit(b, "channel.create"))
        .await
        .unwrap();
    assert_eq!(
        store.get_channel(a, ops.id).await.unwrap(),
        Some(ops.clone())
    );
    assert_eq!(store.get_channel(b, ops.id).await.unwrap(), None);
    assert_eq!(store.list_channels(a).await.unwrap(), vec![ops.clone()]);
    let mail = Channel {
        name: "soc mail".into(),
        target: ChannelTarget::Email {
            recipients: vec!["soc@example.com".into()],
            smtp: None,
        },
        enabled: false,
        updated_at: Timestamp(9),
        ..ops.clone()
    };
    assert!(!store
        .update_channel(
            &Channel {
                org_id: b,
                ..mail.clone()
            },
            &audit(b, "channel.update")
        )
        .await
        .unwrap());
    assert!(store
        .update_channel(&mail, &audit(a, "channel.update"))
        .await
        .unwrap());
    assert_eq!(store.get_channel(a, ops.id).await.unwrap(), Some(mail));

    let rule = NotificationRule {
        id: NotificationRuleId::new(),
        org_id: a,
        name: "high".into(),
        events: vec![NoticeKind::IncidentCreated, NoticeKind::IncidentEscalated],
        min_severity: 4,
        channels: vec![ops.id],
        enabled: true,
        created_at: Timestamp(2),
        updated_at: Timestamp(2),
    };
    store
        .create_notification_rule(&rule, &audit(a, "rule.create"))
        .await
        .unwrap();
    assert_eq!(
        store.list_notification_rules(a).await.unwrap(),
        vec![rule.clone()]
    );
    assert!(store.list_notification_rules(b).await.unwrap().is_empty());
    let changed = NotificationRule {
        min_severity: 2,
        enabled: false,
        ..rule.clone()
    };
    assert!(store
        .update_notification_rule(&changed, &audit(a, "rule.update"))
        .await
        .unwrap());
    assert_eq!(
        store.list_notification_rules(a).await.unwrap(),
        vec![changed]
    );
    assert!(!store
        .delete_notification_rule(b, rule.id, &audit(b, "rule.delete"))
        .await
        .unwrap());
    assert!(store
        .delete_notification_rule(a, rule.id, &audit(a, "rule.delete"))
        .await
        .unwrap());
    assert!(!store
        .delete_channel(b, ops.id, &audit(b, "channel.delete"))
        .await
        .unwrap());
    assert!(store
        .delete_channel(a, ops.id, &audit(a, "channel.delete"))
        .await
        .unwrap());
    assert!(store.list_channels(a).await.unwrap().is_empty());
    assert_eq!(store.list_channels(b).await.unwrap().len(), 1);
    assert_eq!(
        audited(&store, a).await,
        [
            "channel.create",
            "channel.delete",
            "channel.update",
            "rule.create",
            "rule.delete",
            "rule.update"
        ]
    );

    // Preferences are per organisation and user.
    let user = UserId::new();
    assert_eq!(store.notification_prefs(a, user).await.unwrap(), None);
    let prefs = NotificationPrefs {
        events: vec![NoticeKind::IncidentCreated],
        min_severity: 3,
        ..NotificationPrefs::default()
    };
    store
        .set_notification_prefs(a, user, &prefs, Timestamp(3))
        .await
        .unwrap();
    let quieter = NotificationPrefs {
        assigned_to_me: false,
        ..prefs.clone()
    };
    store
        .set_notification_prefs(a, user, &quieter, Timestamp(4))
        .await
        .unwrap();
    assert_eq!(
        store.notification_prefs(a, user).await.unwrap(),
        Some(quieter.clone())
    );
    assert_eq!(store.notification_prefs(b, user).await.unwrap(), None);
    assert_eq!(
        store.list_notification_prefs(a).await.unwrap(),
        vec![(user, quieter)]
    );
    assert!(store.list_notification_prefs(b).await.unwrap().is_empty());
}

fn delivery(org: OrgId, key: &str) -> Delivery {
    Delivery {
        id: DeliveryId::new(),
        org_id: org,
        notice: NoticeKind::IncidentCreated,
        channel_id: None,
        recipient: Some("analyst@example.com".into()),
        subject_ref: Some("incident:x".into()),
        message: Message {
            subject: "Incident".into(),
            text: "text".into(),
            html: Some("<p>html</p>".into()),
            json: None,
        },
        status: DeliveryStatus::Pending,
        attempts: 0,
        last_error: None,
        dedupe_key: key.into(),
        created_at: Timestamp(10),
        updated_at: Timestamp(10),
        delivered_at: None,
    }
}

async fn org_jobs(store: &Arc<dyn Store>, org: OrgId, kind: &str) -> Vec<rampart_core::Job> {
    let query = JobQuery {
        limit: 1000,
        ..JobQuery::default()
    };
    store
        .list_jobs(JobScope::Org(org), &query)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == kind)
        .collect()
}

async fn deliveries_are_recorded_once_with_their_jobs(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    let first = delivery(a, "dispatch-1:user-1");
    let second = delivery(a, "dispatch-1:user-2");
    assert_eq!(
        store
            .record_deliveries(a, &[first.clone(), second.clone()], Timestamp(10))
            .await
            .unwrap(),
        2
    );
    // A dispatch that runs again records nothing new and enqueues nothing.
    let again = delivery(a, "dispatch-1:user-1");
    assert_eq!(
        store
            .record_deliveries(a, &[again], Timestamp(11))
            .await
            .unwrap(),
        0
    );
    let jobs = org_jobs(&store, a, notification::DELIVER_JOB).await;
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|j| j.queue == notification::QUEUE
        && j.state == JobState::Available
        && j.max_attempts == notification::DELIVERY_ATTEMPTS));
    let mut named: Vec<String> = jobs
        .iter()
        .map(|j| j.payload["delivery"].as_str().unwrap().to_owned())
        .collect();
    named.sort();
    let mut expected = vec![first.id.to_string(), second.id.to_string()];
    expected.sort();
    assert_eq!(named, expected);

    assert_eq!(
        store.get_delivery(a, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.get_delivery(b, first.id).await.unwrap(), None);
    let attempt = DeliveryAttempt {
        status: DeliveryStatus::Delivered,
        attempts: 2,
        last_error: Some("timed out".into()),
        at: Timestamp(50),
        message: Some(Message {
            subject: "Incident".into(),
            text: "(not kept)".into(),
            html: None,
            json: None,
        }),
    };
    assert!(!store
        .record_delivery_attempt(b, first.id, &attempt)
        .await
        .unwrap());
    assert!(store
        .record_delivery_attempt(a, first.id, &attempt)
        .await
        .unwrap());
    let done = store.get_delivery(a, first.id).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.attempts, done.delivered_at),
        (DeliveryStatus::Delivered, 2, Some(Timestamp(50)))
    );
    assert_eq!(done.message.text, "(not kept)");
    assert_eq!(done.message.html, None);
    let query = |status| DeliveryQuery {
        status,
        limit: 10,
        ..DeliveryQuery::default()
    };
    let pending = store
        .list_deliveries(a, &query(Some(DeliveryStatus::Pending)))
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, second.id);
    let all = store.list_deliveries(a, &query(None)).await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[0].id > all[1].id, "newest first");
    let after = DeliveryQuery {
        before: Some(all[0].id),
        ..query(None)
    };
    assert_eq!(store.list_deliveries(a, &after).await.unwrap().len(), 1);
    assert!(store
        .list_deliveries(b, &query(None))
        .await
        .unwrap()
        .is_empty());
}

fn notices(jobs: &[rampart_core::Job]) -> Vec<(NoticeKind, Option<IncidentId>)> {
    let mut out: Vec<_> = jobs
        .iter()
        .map(|j| {
            let notice: Notice = serde_json::from_value(j.payload.clone()).unwrap();
            (notice.kind.unwrap(), notice.incident)
        })
        .collect();
    out.sort();
    out
}

async fn incident_changes_enqueue_their_notices_in_the_same_transaction(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    let alert = |severity: u8, ts: i64| NewAlert {
        rule_id: "bf".into(),
        rule_title: "SSH brute force".into(),
        severity,
        group_key: "source.ip=198.51.100.1".into(),
        event_ids: vec![EventId(ts as u64)],
        entities: Entities::default(),
        ts: Timestamp(ts),
    };
    let opened = store
        .record_alerts(a, &[alert(3, 1_000)], 3_600_000, Timestamp(1_000))
        .await
        .unwrap();
    let incident = opened[0].incident;
    // Another alert of the same severity joins quietly; a higher one escalates.
    store
        .record_alerts(a, &[alert(3, 2_000)], 3_600_000, Timestamp(2_000))
        .await
        .unwrap();
    store
        .record_alerts(a, &[alert(5, 3_000)], 3_600_000, Timestamp(3_000))
        .await
        .unwrap();
    assert_eq!(
        notices(&org_jobs(&store, a, notification::DISPATCH_JOB).await),
        [
            (NoticeKind::IncidentCreated, Some(incident)),
            (NoticeKind::IncidentEscalated, Some(incident)),
        ]
    );
    assert!(org_jobs(&store, b, notification::DISPATCH_JOB)
        .await
        .is_empty());

    // A manual incident, then a change of status and assignee.
    let manual = Incident {
        id: IncidentId::new(),
        org_id: b,
        title: "phishing".into(),
        description: None,
        severity: 2,
        status: IncidentStatus::Open,
        escalation: 0,
        assignee: None,
        rule_id: None,
        group_key: None,
        occurrences: 0,
        entities: Entities::default(),
        event_ids: vec![],
        first_seen: Timestamp(5),
        last_seen: Timestamp(5),
        created_at: Timestamp(5),
        updated_at: Timestamp(5),
        created_by: "user:x".into(),
        acknowledged_at: None,
        resolved_at: None,
    };
    store
        .create_incident(b, &manual, &audit(b, "incident.create"))
        .await
        .unwrap();
    let assignee = UserId::new();
    store
        .update_incident(
            b,
            manual.id,
            &|i| {
                Ok(Incident {
                    status: IncidentStatus::Acknowledged,
                    assignee: Some(assignee),
                    updated_at: Timestamp(6),
                    ..i.clone()
                })
            },
            &|_, _| audit(b, "incident.update"),
        )
        .await
        .unwrap();
    // A refused change enqueues nothing.
    store
        .update_incident(b, manual.id, &|_| Err("no".into()), &|_, _| {
            audit(b, "incident.update")
        })
        .await
        .unwrap();
    let jobs = org_jobs(&store, b, notification::DISPATCH_JOB).await;
    assert_eq!(
        notices(&jobs),
        [
            (NoticeKind::IncidentCreated, Some(manual.id)),
            (NoticeKind::IncidentStatusChanged, Some(manual.id)),
            (NoticeKind::IncidentAssigned, Some(manual.id)),
        ]
    );
    assert!(jobs.iter().all(|j| j.org_id == Some(b)));
}
