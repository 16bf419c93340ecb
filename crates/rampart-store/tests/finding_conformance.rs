//! Assets, findings and imports behave alike on both backends: a report
//! imported again leaves its findings unchanged, a later full report
//! closes the missing ones and reopens those that come back, analysts'
//! decisions survive re-imports, an import is all or nothing, lists filter
//! and page by priority, and another organisation sees none of it.
//! Threat intelligence is replaced whole and found by CVE, and priorities
//! scored again are written only within their organisation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use rampart_core::finding::{
    Asset, AssetKind, Band, Exposure, FindingSeverity, FindingStatus, ImportCounts, ParsedFinding,
    Priority,
};
use rampart_core::intel::{EpssScore, IntelSource, IntelSourceName, KevEntry};
use rampart_core::{AssetId, AuditEntry, FindingId, ImportId, OrgId, Timestamp};
use rampart_store::{
    AssetQuery, FindingImport, FindingQuery, ImportedFinding, StatusChange, Store, StoreError,
};

rampart_store::conformance_suite!(
    assets_are_named_once_per_organisation_and_confined,
    reimports_match_close_and_reopen_by_fingerprint,
    decisions_survive_reimports,
    lists_filter_and_page_by_priority,
    large_imports_are_batched,
    intel_is_replaced_whole_and_looked_up_by_cve,
    priorities_are_rewritten_within_their_organisation,
);

async fn org(store: &Arc<dyn Store>, name: &str) -> OrgId {
    rampart_store::testing::org_with_admin(store, name)
        .await
        .unwrap()
}

fn audit(org: OrgId, action: &str) -> AuditEntry {
    AuditEntry::new(
        org,
        Timestamp(1),
        "user:test",
        action,
        ("asset", "x".into()),
        None,
        None,
    )
}

fn asset(org: OrgId, name: &str) -> Asset {
    Asset {
        id: AssetId::new(),
        org_id: org,
        name: name.into(),
        kind: AssetKind::ContainerImage,
        identifiers: vec![format!("registry.example/{name}:1")],
        criticality: 4,
        exposure: Exposure::Internet,
        owner: Some("platform team".into()),
        tags: vec!["prod".into()],
        created_at: Timestamp(1_000),
        updated_at: Timestamp(1_000),
    }
}

fn finding(print: &str, score: u8) -> ImportedFinding {
    ImportedFinding {
        report: ParsedFinding {
            fingerprint: print.into(),
            title: format!("CVE-2024-{print} in openssl"),
            severity: Some(FindingSeverity::High),
            vulnerability_ids: vec![format!("CVE-2024-{print}")],
            component: Some("openssl".into()),
            occurrences: 1,
            ..ParsedFinding::default()
        },
        priority: Priority {
            score,
            band: Band::of(score),
            contributions: vec![],
        },
    }
}

fn import(org: OrgId, asset: AssetId, findings: Vec<ImportedFinding>, at: i64) -> FindingImport {
    FindingImport {
        id: ImportId::new(),
        org,
        asset,
        scan_type: "trivy".into(),
        format: "trivy".into(),
        tool: "Trivy".into(),
        file_name: Some("report.json".into()),
        actor: "user:test".into(),
        full_report: true,
        findings,
        now: Timestamp(at),
        audit: audit(org, "findings.import"),
    }
}

fn counts(findings: u64, new: u64, unchanged: u64, reopened: u64, closed: u64) -> ImportCounts {
    ImportCounts {
        findings,
        new,
        unchanged,
        reopened,
        closed,
    }
}

async fn all(store: &Arc<dyn Store>, org: OrgId) -> Vec<rampart_core::finding::Finding> {
    store
        .list_findings(
            org,
            &FindingQuery {
                limit: 1000,
                ..FindingQuery::default()
            },
        )
        .await
        .unwrap()
}

async fn assets_are_named_once_per_organisation_and_confined(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "fa").await, org(&store, "fb").await);
    let web = asset(a, "web");
    store
        .create_asset(&web, &audit(a, "asset.create"))
        .await
        .unwrap();
    let twice = store
        .create_asset(&asset(a, "web"), &audit(a, "asset.create"))
        .await;
    assert!(
        matches!(twice, Err(StoreError::Conflict { .. })),
        "{twice:?}"
    );
    store
        .create_asset(&asset(b, "web"), &audit(b, "asset.create"))
        .await
        .unwrap();
    assert_eq!(store.get_asset(a, web.id).await.unwrap(), Some(web.clone()));
    assert_eq!(store.get_asset(b, web.id).await.unwrap(), None);
    assert_eq!(
        store.find_asset_by_name(a, "web").await.unwrap(),
        Some(web.clone())
    );
    let mut changed = web.clone();
    changed.criticality = 5;
    changed.tags = vec!["pci".into()];
    assert!(!store
        .update_asset(
            &Asset {
                org_id: b,
                ..changed.clone()
            },
            &[],
            &audit(b, "asset.update")
        )
        .await
        .unwrap());
    assert!(store
        .update_asset(&changed, &[], &audit(a, "asset.update"))
        .await
        .unwrap());
    assert_eq!(
        store
            .get_asset(a, web.id)
            .await
            .unwrap()
            .unwrap()
            .criticality,
        5
    );
    store
        .create_asset(&asset(a, "api"), &audit(a, "asset.create"))
        .await
        .unwrap();
    let page = store
        .list_assets(
            a,
            &AssetQuery {
                limit: 1,
                ..AssetQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
        ["api"]
    );
    let next = store
        .list_assets(
            a,
            &AssetQuery {
                after_name: Some("api".into()),
                limit: 10,
                ..AssetQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
        ["web"]
    );
    store
        .import_findings(&import(a, web.id, vec![finding("1", 50)], 2_000))
        .await
        .unwrap();
    // Priorities scored again with the asset, in its transaction; another
    // organisation's asset of the same id changes nothing.
    let mut rescored = all(&store, a).await;
    rescored[0].priority.score = 77;
    assert!(!store
        .update_asset(
            &Asset {
                org_id: b,
                ..changed.clone()
            },
            &rescored,
            &audit(b, "asset.update")
        )
        .await
        .unwrap());
    assert_eq!(all(&store, a).await[0].priority.score, 50);
    assert!(store
        .update_asset(&changed, &rescored, &audit(a, "asset.update"))
        .await
        .unwrap());
    assert_eq!(all(&store, a).await[0].priority.score, 77);
    assert!(!store
        .delete_asset(b, web.id, &audit(b, "asset.delete"))
        .await
        .unwrap());
    assert!(store
        .delete_asset(a, web.id, &audit(a, "asset.delete"))
        .await
        .unwrap());
    assert!(all(&store, a).await.is_empty(), "its findings go with it");
    assert!(store
        .list_imports(a, None, None, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn reimports_match_close_and_reopen_by_fingerprint(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "ra").await, org(&store, "rb").await);
    let img = asset(a, "img");
    store
        .create_asset(&img, &audit(a, "asset.create"))
        .await
        .unwrap();
    let first = vec![
        finding("1", 90),
        finding("2", 60),
        finding("3", 30),
        finding("3", 30),
    ];
    let got = store
        .import_findings(&import(a, img.id, first.clone(), 2_000))
        .await
        .unwrap();
    assert_eq!(
        got,
        counts(4, 3, 0, 0, 0),
        "the same fingerprint twice is one finding"
    );
    let stored = all(&store, a).await;
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0].priority.score, 90, "highest priority first");
    assert_eq!(
        stored
            .iter()
            .find(|f| f.report.fingerprint == "3")
            .unwrap()
            .report
            .occurrences,
        2
    );
    assert!(all(&store, b).await.is_empty());

    let again = store
        .import_findings(&import(a, img.id, first.clone(), 3_000))
        .await
        .unwrap();
    assert_eq!(again, counts(4, 0, 3, 0, 0));
    let one = all(&store, a)
        .await
        .into_iter()
        .find(|f| f.report.fingerprint == "1")
        .unwrap();
    assert_eq!(
        (one.first_seen, one.last_seen),
        (Timestamp(2_000), Timestamp(3_000))
    );

    // "2" is gone, "4" is new; "2" closes as mitigated.
    let later = vec![finding("1", 90), finding("3", 30), finding("4", 70)];
    let got = store
        .import_findings(&import(a, img.id, later, 4_000))
        .await
        .unwrap();
    assert_eq!(got, counts(3, 1, 2, 0, 1));
    let two = all(&store, a)
        .await
        .into_iter()
        .find(|f| f.report.fingerprint == "2")
        .unwrap();
    assert_eq!(two.status, FindingStatus::Mitigated);
    assert_eq!(two.closed_at, Some(Timestamp(4_000)));

    // A partial report closes nothing; "2" coming back is reopened.
    let mut partial = import(a, img.id, vec![finding("2", 65)], 5_000);
    partial.full_report = false;
    assert_eq!(
        store.import_findings(&partial).await.unwrap(),
        counts(1, 0, 0, 1, 0)
    );
    let two = all(&store, a)
        .await
        .into_iter()
        .find(|f| f.report.fingerprint == "2")
        .unwrap();
    assert_eq!(two.status, FindingStatus::Reopened);
    assert_eq!(two.closed_at, None);
    assert_eq!(two.priority.score, 65, "the new report's priority");

    // Another scan type of the same asset is a different set of findings.
    let mut other_type = import(a, img.id, vec![finding("1", 10)], 6_000);
    other_type.scan_type = "grype".into();
    assert_eq!(
        store.import_findings(&other_type).await.unwrap(),
        counts(1, 1, 0, 0, 0)
    );
    let imports = store.list_imports(a, Some(img.id), None, 10).await.unwrap();
    assert_eq!(imports.len(), 5);
    assert_eq!(imports[0].scan_type, "grype", "newest first");
    assert!(store
        .list_imports(b, None, None, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn decisions_survive_reimports(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "da").await, org(&store, "db").await);
    let img = asset(a, "img");
    store
        .create_asset(&img, &audit(a, "asset.create"))
        .await
        .unwrap();
    let mut suppressed = finding("s", 20);
    suppressed.report.suppressed = true;
    let report = vec![finding("1", 80), finding("2", 40), suppressed];
    store
        .import_findings(&import(a, img.id, report.clone(), 2_000))
        .await
        .unwrap();
    let listed = all(&store, a).await;
    let by_print = |print: &str| {
        listed
            .iter()
            .find(|f| f.report.fingerprint == print)
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_print("s").status,
        FindingStatus::FalsePositive,
        "suppressed by the tool"
    );
    let target = by_print("1").id;
    let change = StatusChange {
        status: FindingStatus::RiskAccepted,
        reason: Some("compensating control".into()),
        risk_accepted_until: Some(Timestamp(9_000_000)),
        now: Timestamp(2_500),
    };
    assert_eq!(
        store
            .set_finding_status(b, target, &change, &audit(b, "finding.update"))
            .await
            .unwrap(),
        None,
        "not another organisation's"
    );
    let accepted = store
        .set_finding_status(a, target, &change, &audit(a, "finding.update"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(accepted.status, FindingStatus::RiskAccepted);
    assert_eq!(store.get_finding(b, target).await.unwrap(), None);
    // Seen again (even changed), and then missing: the decision stays.
    let mut changed = report.clone();
    changed[0].priority.score = 85;
    store
        .import_findings(&import(a, img.id, changed, 3_000))
        .await
        .unwrap();
    let kept = store.get_finding(a, target).await.unwrap().unwrap();
    assert_eq!(kept.status, FindingStatus::RiskAccepted);
    assert_eq!(kept.status_reason.as_deref(), Some("compensating control"));
    assert_eq!(kept.priority.score, 85);
    store
        .import_findings(&import(a, img.id, vec![], 4_000))
        .await
        .unwrap();
    let kept = store.get_finding(a, target).await.unwrap().unwrap();
    assert_eq!(kept.status, FindingStatus::RiskAccepted);
    assert_eq!(by_print("2").status, FindingStatus::Open);
    assert_eq!(
        store
            .get_finding(a, by_print("2").id)
            .await
            .unwrap()
            .unwrap()
            .status,
        FindingStatus::Mitigated
    );
    let _ = FindingId::new();
}

async fn lists_filter_and_page_by_priority(store: Arc<dyn Store>) {
    let a = org(&store, "la").await;
    let (one, two) = (asset(a, "one"), asset(a, "two"));
    store
        .create_asset(&one, &audit(a, "asset.create"))
        .await
        .unwrap();
    store
        .create_asset(&two, &audit(a, "asset.create"))
        .await
        .unwrap();
    let mut log4j = finding("44228", 95);
    log4j.report.title = "Log4Shell_in log4j-core".into();
    log4j.report.component = Some("log4j-core".into());
    log4j.report.severity = Some(FindingSeverity::Critical);
    store
        .import_findings(&import(
            a,
            one.id,
            vec![log4j, finding("2", 50), finding("3", 50)],
            2_000,
        ))
        .await
        .unwrap();
    store
        .import_findings(&import(a, two.id, vec![finding("4", 10)], 2_000))
        .await
        .unwrap();
    let query = |f: FindingQuery| {
        let store = store.clone();
        async move {
            store
                .list_findings(a, &FindingQuery { limit: 100, ..f })
                .await
                .unwrap()
                .into_iter()
                .map(|f| f.report.fingerprint)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        query(FindingQuery {
            asset: Some(two.id),
            ..Default::default()
        })
        .await,
        ["4"]
    );
    assert_eq!(
        query(FindingQuery {
            band: Some(Band::Critical),
            ..Default::default()
        })
        .await,
        ["44228"]
    );
    assert_eq!(
        query(FindingQuery {
            severity: Some(FindingSeverity::Critical),
            ..Default::default()
        })
        .await,
        ["44228"]
    );
    assert_eq!(
        query(FindingQuery {
            min_priority: Some(50),
            ..Default::default()
        })
        .await
        .len(),
        3
    );
    assert_eq!(
        query(FindingQuery {
            vulnerability_id: Some("cve-2024-44228".into()),
            ..Default::default()
        })
        .await,
        ["44228"]
    );
    assert_eq!(
        query(FindingQuery {
            text: Some("LOG4J".into()),
            ..Default::default()
        })
        .await,
        ["44228"]
    );
    assert_eq!(
        query(FindingQuery {
            text: Some("shell_in".into()),
            ..Default::default()
        })
        .await,
        ["44228"]
    );
    assert!(
        query(FindingQuery {
            text: Some("%".into()),
            ..Default::default()
        })
        .await
        .is_empty(),
        "wildcards are literal"
    );
    assert!(query(FindingQuery {
        statuses: vec![FindingStatus::Mitigated],
        ..Default::default()
    })
    .await
    .is_empty());
    // Pages of one: every finding once, in priority order (ties by id).
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_findings(
                a,
                &FindingQuery {
                    after,
                    limit: 1,
                    ..FindingQuery::default()
                },
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some((last.priority.score, last.id));
        seen.push(last.priority.score);
    }
    assert_eq!(seen, [95, 50, 50, 10]);
}

async fn large_imports_are_batched(store: Arc<dyn Store>) {
    let a = org(&store, "ba").await;
    let img = asset(a, "big");
    store
        .create_asset(&img, &audit(a, "asset.create"))
        .await
        .unwrap();
    let many: Vec<ImportedFinding> = (0..2_500)
        .map(|i| finding(&i.to_string(), (i % 100) as u8))
        .collect();
    let got = store
        .import_findings(&import(a, img.id, many.clone(), 2_000))
        .await
        .unwrap();
    assert_eq!(got, counts(2_500, 2_500, 0, 0, 0));
    let half: Vec<ImportedFinding> = many[..1_200].to_vec();
    let got = store
        .import_findings(&import(a, img.id, half, 3_000))
        .await
        .unwrap();
    assert_eq!(got, counts(1_200, 0, 1_200, 0, 1_300));
    let open = store
        .list_findings(
            a,
            &FindingQuery {
                statuses: vec![FindingStatus::Open],
                limit: 1000,
                ..FindingQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(open.len(), 1000);
    assert!(open.iter().all(|f| f.last_seen == Timestamp(3_000)));
}

fn kev(cve: &str, vendor: &str) -> KevEntry {
    KevEntry {
        cve: cve.into(),
        vendor: vendor.into(),
        product: "Product".into(),
        name: format!("{vendor} flaw"),
        date_added: "2024-01-02".into(),
        due_date: Some("2024-01-23".into()),
        ransomware: vendor == "Apache",
    }
}

fn source(name: IntelSourceName, version: &str, rows: u64) -> IntelSource {
    IntelSource {
        source: name,
        version: version.into(),
        released: Some("2026-12-01".into()),
        rows,
        loaded_at: Timestamp(5_000),
    }
}

async fn intel_is_replaced_whole_and_looked_up_by_cve(store: Arc<dyn Store>) {
    assert!(store.intel_sources().await.unwrap().is_empty());
    let first = vec![
        kev("CVE-2021-44228", "Apache"),
        kev("CVE-2019-0708", "Microsoft"),
    ];
    store
        .replace_kev(&source(IntelSourceName::Kev, "2025.08.24", 2), &first)
        .await
        .unwrap();
    // A later release drops one entry and adds another (a duplicate is kept once).
    let second = vec![
        kev("CVE-2021-44228", "Apache"),
        kev("CVE-2023-4966", "Citrix"),
        kev("CVE-2023-4966", "Citrix"),
    ];
    store
        .replace_kev(&source(IntelSourceName::Kev, "2025.08.25", 2), &second)
        .await
        .unwrap();
    let scores: Vec<EpssScore> = (0..5_000)
        .map(|n| EpssScore {
            cve: format!("CVE-2020-{:05}", n + 1000),
            epss: f64::from(n) / 5_000.0,
            percentile: 0.5,
        })
        .chain([EpssScore {
            cve: "CVE-2021-44228".into(),
            epss: 0.94358,
            percentile: 0.99961,
        }])
        .collect();
    store
        .replace_epss(
            &source(IntelSourceName::Epss, "v2025.03.14", 5_001),
            &scores,
        )
        .await
        .unwrap();

    let sources = store.intel_sources().await.unwrap();
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[0].source, IntelSourceName::Kev);
    assert_eq!(sources[0].version, "2025.08.25");
    assert_eq!(sources[1].source, IntelSourceName::Epss);
    assert_eq!(sources[1].rows, 5_001);

    let wanted: Vec<String> = [
        "CVE-2021-44228",
        "CVE-2019-0708",
        "CVE-2023-4966",
        "CVE-2020-04999",
        "CVE-1999-0001",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let known = store.intel_for(&wanted).await.unwrap();
    let log4shell = &known["CVE-2021-44228"];
    assert_eq!(log4shell.kev.as_ref().unwrap().vendor, "Apache");
    assert!(log4shell.kev.as_ref().unwrap().ransomware);
    assert!((log4shell.epss.as_ref().unwrap().epss - 0.94358).abs() < 1e-9);
    assert!(
        !known.contains_key("CVE-2019-0708"),
        "dropped by the later release"
    );
    assert!(known["CVE-2023-4966"].epss.is_none());
    assert!((known["CVE-2020-04999"].epss.as_ref().unwrap().epss - 0.7998).abs() < 1e-9);
    assert!(!known.contains_key("CVE-1999-0001"));
    // More CVEs than one IN list holds.
    let many: Vec<String> = (0..2_500)
        .map(|n| format!("CVE-2020-{:05}", n + 1000))
        .collect();
    assert_eq!(store.intel_for(&many).await.unwrap().len(), 2_500);
}

async fn priorities_are_rewritten_within_their_organisation(store: Arc<dyn Store>) {
    let ours = org(&store, "ours").await;
    let theirs = org(&store, "theirs").await;
    for org in [ours, theirs] {
        let a = asset(org, "api");
        store
            .create_asset(&a, &audit(org, "asset.create"))
            .await
            .unwrap();
        let mut findings: Vec<ImportedFinding> =
            (0..3).map(|n| finding(&format!("{n:04}"), 40)).collect();
        findings[2].report.vulnerability_ids.clear();
        store
            .import_findings(&import(org, a.id, findings, 10_000))
            .await
            .unwrap();
    }
    let mut page = store
        .list_findings_by_id(ours, None, 1, true)
        .await
        .unwrap();
    let rest = store
        .list_findings_by_id(ours, Some(page[0].id), 1000, true)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1, "the finding without an advisory is left out");
    let every = store
        .list_findings_by_id(ours, None, 1000, false)
        .await
        .unwrap();
    assert_eq!(every.len(), 3);
    assert!(rest[0].id > page[0].id);
    page.extend(rest);
    for finding in &mut page {
        finding.priority = Priority {
            score: 90,
            band: Band::of(90),
            contributions: vec![rampart_core::finding::Contribution {
                effect: "+25".into(),
                reason: "listed in CISA's Known Exploited Vulnerabilities".into(),
            }],
        };
    }
    // Written under the wrong organisation, nothing changes.
    store.set_priorities(theirs, &page).await.unwrap();
    assert!(all(&store, ours)
        .await
        .iter()
        .all(|f| f.priority.score == 40));
    store.set_priorities(ours, &page).await.unwrap();
    let now = all(&store, ours).await;
    assert_eq!(now.iter().filter(|f| f.priority.score == 90).count(), 2);
    assert_eq!(now[0].priority.contributions.len(), 1);
    assert!(all(&store, theirs)
        .await
        .iter()
        .all(|f| f.priority.score == 40));
}
