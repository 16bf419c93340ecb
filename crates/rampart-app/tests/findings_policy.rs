//! The findings policy enforced over time (a manual clock): findings past
//! their severity's deadline are announced once, accepted risks are
//! warned of before their review date and reopened after it, each notice
//! queued for dispatch with what it is about; another organisation's
//! findings are left alone. Runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read as _;
use std::sync::Arc;

use rampart_app::api::vulns::ImportRequest;
use rampart_app::audit::Audit;
use rampart_app::notifications::Notifier;
use rampart_app::vulns::{PolicyRun, Vulnerabilities};
use rampart_core::clock::ManualClock;
use rampart_core::finding::{FindingPolicy, FindingSeverity, FindingStatus};
use rampart_core::{AuditEntry, Clock, OrgId, Timestamp};
use rampart_store::{FindingQuery, JobQuery, JobScope, StatusChange, Store};

rampart_store::conformance_suite!(deadlines_and_review_dates_are_enforced_once);

const START: i64 = 1_780_000_000_000;
const DAY: i64 = 86_400;

fn grype() -> Vec<u8> {
    let packed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rampart-scan/tests/data/defectdojo/grype/many_vulns4.json.gz"
    ))
    .unwrap();
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(packed.as_slice())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The notices queued for the organisation, newest first: (kind, count, lines).
async fn notices(store: &Arc<dyn Store>, org: OrgId) -> Vec<(String, u64, Vec<String>)> {
    let jobs = store
        .list_jobs(
            JobScope::Org(org),
            &JobQuery {
                states: Vec::new(),
                limit: 100,
                ..JobQuery::default()
            },
        )
        .await
        .unwrap();
    jobs.iter()
        .filter(|j| j.kind == rampart_core::notification::DISPATCH_JOB)
        .map(|j| {
            (
                j.payload["kind"].as_str().unwrap_or_default().to_owned(),
                j.payload["count"].as_u64().unwrap_or(0),
                j.payload["lines"]
                    .as_array()
                    .map(|l| l.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

async fn deadlines_and_review_dates_are_enforced_once(store: Arc<dyn Store>) {
    let clock = Arc::new(ManualClock::new(Timestamp(START)));
    let ours = rampart_store::testing::org_with_admin(&store, "ours")
        .await
        .unwrap();
    let theirs = rampart_store::testing::org_with_admin(&store, "theirs")
        .await
        .unwrap();
    let vulns = Vulnerabilities::new(
        store.clone(),
        clock.clone(),
        Audit::new(store.clone(), clock.clone()),
    );
    let notifier = Notifier::new(store.clone(), clock.clone());
    for org in [ours, theirs] {
        let request = ImportRequest {
            asset: "shop".into(),
            full_report: true,
            ..ImportRequest::default()
        };
        vulns
            .import_as(org, "user:test".into(), request, grype())
            .await
            .unwrap();
    }
    // Theirs: no deadline for anything but critical findings, after a year.
    let relaxed = FindingPolicy {
        sla_days: rampart_core::finding::SlaDays {
            critical: Some(365),
            high: None,
            medium: None,
            low: None,
            info: None,
        },
        ..FindingPolicy::default()
    };
    let audit = AuditEntry::new(
        theirs,
        Timestamp(START),
        "user:test",
        "findings.policy",
        ("findings_policy", theirs.to_string()),
        None,
        None,
    );
    store
        .set_finding_policy(theirs, &relaxed, Timestamp(START), &audit)
        .await
        .unwrap();

    let run = vulns.enforce_policy(ours, &notifier).await.unwrap();
    assert_eq!(run, PolicyRun::default(), "nothing is due on day 0");

    // Day 8: the two critical findings (7 days) are past their deadline.
    clock.advance_secs(8 * DAY);
    let run = vulns.enforce_policy(ours, &notifier).await.unwrap();
    assert_eq!(run.breached, 2);
    let queued = notices(&store, ours).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].0, "finding.sla_breached");
    assert_eq!(queued[0].1, 2);
    assert!(
        queued[0].2.iter().all(|l| l.contains("due 2026-")),
        "{:?}",
        queued[0].2
    );
    // Announced once.
    assert_eq!(
        vulns
            .enforce_policy(ours, &notifier)
            .await
            .unwrap()
            .breached,
        0
    );
    assert_eq!(
        vulns.enforce_policy(theirs, &notifier).await.unwrap(),
        PolicyRun::default()
    );

    // An accepted risk reviewed on day 40: warned from day 33, reopened after day 40.
    let medium = store
        .list_findings(
            ours,
            &FindingQuery {
                severity: Some(FindingSeverity::Medium),
                limit: 1,
                ..FindingQuery::default()
            },
        )
        .await
        .unwrap()
        .remove(0);
    let change = StatusChange {
        status: FindingStatus::RiskAccepted,
        reason: Some("compensating control".into()),
        risk_accepted_until: Some(Timestamp(START + 40 * DAY * 1000)),
        now: clock.now(),
    };
    let audit = AuditEntry::new(
        ours,
        clock.now(),
        "user:test",
        "finding.update",
        ("finding", medium.id.to_string()),
        None,
        None,
    );
    store
        .set_finding_status(ours, medium.id, &change, &audit)
        .await
        .unwrap();
    clock.advance_secs(24 * DAY); // day 32: high findings (30 days) breach
    let run = vulns.enforce_policy(ours, &notifier).await.unwrap();
    assert_eq!((run.breached, run.expiring, run.reopened), (2, 0, 0));
    clock.advance_secs(DAY); // day 33: within a week of the review date
    let run = vulns.enforce_policy(ours, &notifier).await.unwrap();
    assert_eq!((run.breached, run.expiring, run.reopened), (0, 1, 0));
    assert_eq!(
        vulns
            .enforce_policy(ours, &notifier)
            .await
            .unwrap()
            .expiring,
        0,
        "warned once"
    );
    clock.advance_secs(8 * DAY); // day 41: the review date passed
    let run = vulns.enforce_policy(ours, &notifier).await.unwrap();
    assert_eq!(run.reopened, 1);
    let now = store.get_finding(ours, medium.id).await.unwrap().unwrap();
    assert_eq!(now.status, FindingStatus::Reopened);
    assert_eq!(
        now.status_reason.as_deref(),
        Some("the accepted risk's review date passed")
    );
    let kinds: Vec<String> = notices(&store, ours)
        .await
        .into_iter()
        .map(|n| n.0)
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "finding.risk_expiring")
            .count(),
        2,
        "the warning and the reopening: {kinds:?}"
    );
    // Theirs: nothing breached in 41 days under their policy; no notices.
    assert_eq!(
        vulns.enforce_policy(theirs, &notifier).await.unwrap(),
        PolicyRun::default()
    );
    assert!(notices(&store, theirs).await.is_empty());
}
