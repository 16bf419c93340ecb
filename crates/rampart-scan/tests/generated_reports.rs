//! Reports produced here with the scanners themselves (installed from the
//! package registries, run against public code; see
//! `tests/data/generated/SOURCE.md`): each is recognised without being
//! named and yields exactly the findings the scanner printed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rampart_core::finding::FindingSeverity;
use rampart_scan::{detect, parse, Format};

fn read(file: &str) -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/generated/").to_owned() + file)
        .unwrap()
}

#[test]
fn bandit_on_dvpwa() {
    let bytes = read("bandit-dvpwa.json");
    assert_eq!(detect(&bytes), Some(Format::Bandit));
    let report = parse(&bytes, None).unwrap();
    let mut found: Vec<(String, String, u32)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id
                    .clone()
                    .unwrap()
                    .rsplit(':')
                    .next()
                    .unwrap()
                    .to_owned(),
                f.file_path.clone().unwrap(),
                f.line.unwrap(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("B324".to_owned(), "sqli/dao/user.py".to_owned(), 41),
            ("B608".to_owned(), "sqli/dao/student.py".to_owned(), 42),
        ]
    );
    let sql = report
        .findings
        .iter()
        .find(|f| f.rule_id.as_deref().is_some_and(|r| r.ends_with(":B608")))
        .unwrap();
    assert_eq!(sql.severity, Some(FindingSeverity::Medium));
    assert!(sql.cwes.contains(&89), "{:?}", sql.cwes);
}

#[test]
fn checkov_on_dvpwa_dockerfiles() {
    let bytes = read("checkov-dvpwa-dockerfile.json");
    assert_eq!(detect(&bytes), Some(Format::Checkov));
    let report = parse(&bytes, None).unwrap();
    // One per failed check, as Checkov (and DefectDojo) count them.
    assert_eq!(report.findings.len(), 7);
    let mut ids: Vec<&str> = report
        .findings
        .iter()
        .filter_map(|f| f.rule_id.as_deref())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "CKV_DOCKER_2",
            "CKV_DOCKER_2",
            "CKV_DOCKER_3",
            "CKV_DOCKER_3",
            "CKV_DOCKER_4",
            "CKV_DOCKER_4",
            "CKV_DOCKER_4"
        ]
    );
    // The same check failing on the same resource is one finding to fix.
    let mut prints: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    prints.sort_unstable();
    prints.dedup();
    assert_eq!(prints.len(), 5);
}

/// Rule, file, line, severity, CWEs.
type Row = (String, String, u32, Option<FindingSeverity>, Vec<u32>);

#[test]
fn semgrep_on_dvpwa() {
    let bytes = read("semgrep-dvpwa.json");
    assert_eq!(detect(&bytes), Some(Format::Semgrep));
    let report = parse(&bytes, None).unwrap();
    let mut found: Vec<Row> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.clone().unwrap(),
                f.file_path.clone().unwrap(),
                f.line.unwrap(),
                f.severity,
                f.cwes.clone(),
            )
        })
        .collect();
    found.sort();
    let row = |rule: &str, file: &str, line, severity, cwe| {
        (
            rule.to_owned(),
            file.to_owned(),
            line,
            Some(severity),
            vec![cwe],
        )
    };
    assert_eq!(
        found,
        [
            // Semgrep INFO is low, as DefectDojo maps it.
            row(
                "aiohttp-debug-enabled",
                "sqli/app.py",
                23,
                FindingSeverity::Low,
                489
            ),
            row(
                "jinja2-autoescape-disabled",
                "sqli/app.py",
                33,
                FindingSeverity::Medium,
                79
            ),
            row(
                "md5-password-hash",
                "sqli/dao/user.py",
                41,
                FindingSeverity::Medium,
                916
            ),
            // The same injection Bandit reports (B608), at the execute call.
            row(
                "sql-built-with-string-formatting",
                "sqli/dao/student.py",
                45,
                FindingSeverity::High,
                89
            ),
        ]
    );
}
