//! Recurring scans over time (a manual clock): a due schedule starts one
//! scan in the schedule's name and moves to its next run, a run is never
//! started twice, and a run the scope no longer allows is recorded with
//! its reason. Runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use rampart_app::audit::Audit;
use rampart_app::scans::{Scans, ScansConfig};
use rampart_app::vulns::Vulnerabilities;
use rampart_core::clock::ManualClock;
use rampart_core::scan::{ScanKind, ScanRequest, ScanSchedule, ScopeEntry};
use rampart_core::{AuditEntry, Clock, ScanScheduleId, ScopeEntryId, Timestamp};
use rampart_store::Store;

rampart_store::conformance_suite!(due_schedules_start_one_scan_each);

const START: i64 = 1_780_000_020_000;

async fn due_schedules_start_one_scan_each(store: Arc<dyn Store>) {
    let clock = Arc::new(ManualClock::new(Timestamp(START)));
    let org = rampart_store::testing::org_with_admin(&store, "ours")
        .await
        .unwrap();
    let other = rampart_store::testing::org_with_admin(&store, "theirs")
        .await
        .unwrap();
    let audit = Audit::new(store.clone(), clock.clone());
    let vulns = Vulnerabilities::new(store.clone(), clock.clone(), audit.clone());
    let scans = Scans::new(
        store.clone(),
        clock.clone(),
        audit,
        vulns,
        ScansConfig::default(),
    );
    let entry = |org| {
        AuditEntry::new(
            org,
            Timestamp(START),
            "user:test",
            "x",
            ("x", "x".into()),
            None,
            None,
        )
    };
    let scope = ScopeEntry {
        id: ScopeEntryId::new(),
        org_id: org,
        target: "127.0.0.1".into(),
        ports: vec![],
        note: None,
        created_by: "user:test".into(),
        created_at: Timestamp(START),
    };
    store.add_scope_entry(&scope, &entry(org)).await.unwrap();
    let schedule = |org, name: &str| ScanSchedule {
        id: ScanScheduleId::new(),
        org_id: org,
        name: name.into(),
        request: ScanRequest {
            kind: ScanKind::WebBaseline,
            targets: vec!["http://127.0.0.1:9/".into()],
            ports: None,
            asset: Some("nightly".into()),
        },
        cron: "* * * * *".into(),
        enabled: true,
        next_run_at: Timestamp(START),
        last_run_at: None,
        last_scan_id: None,
        last_error: None,
        created_by: "user:test".into(),
        created_at: Timestamp(START),
    };
    let ours = schedule(org, "every minute");
    store
        .create_scan_schedule(&ours, &entry(org))
        .await
        .unwrap();
    // Theirs names our scope's target, which their scope does not hold.
    let theirs = schedule(other, "sneaky");
    store
        .create_scan_schedule(&theirs, &entry(other))
        .await
        .unwrap();

    assert_eq!(scans.run_due_schedules().await.unwrap(), 1);
    let listed = store.list_scans(org, None, None, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].requested_by, "schedule:every minute");
    let now = store.list_scan_schedules(org).await.unwrap().remove(0);
    assert_eq!(now.last_scan_id, Some(listed[0].id));
    assert_eq!(
        now.next_run_at,
        Timestamp(START + 60_000),
        "the next whole minute"
    );
    let refused = store.list_scan_schedules(other).await.unwrap().remove(0);
    assert!(refused.last_error.unwrap().contains("scope"));
    assert!(store
        .list_scans(other, None, None, 10)
        .await
        .unwrap()
        .is_empty());

    // Not due again until the next minute; then exactly one more.
    assert_eq!(scans.run_due_schedules().await.unwrap(), 0);
    clock.advance_secs(30);
    assert_eq!(scans.run_due_schedules().await.unwrap(), 0);
    clock.advance_secs(30);
    assert_eq!(scans.run_due_schedules().await.unwrap(), 1);
    assert_eq!(scans.run_due_schedules().await.unwrap(), 0);
    assert_eq!(
        store.list_scans(org, None, None, 10).await.unwrap().len(),
        2
    );

    // The target leaves the scope: the next run is refused and says why.
    store
        .delete_scope_entry(org, scope.id, &entry(org))
        .await
        .unwrap();
    clock.advance_secs(60);
    assert_eq!(scans.run_due_schedules().await.unwrap(), 0);
    let now = store.list_scan_schedules(org).await.unwrap().remove(0);
    assert!(now.last_error.is_some(), "{now:?}");
    assert!(now.next_run_at.0 > clock.now().0);
}
