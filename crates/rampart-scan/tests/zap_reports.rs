//! ZAP's own expected report outputs (zap-extensions' test resources):
//! the JSON and XML forms, with and without requests and responses, are
//! recognised without being named and give the same finding.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use rampart_core::finding::{Confidence, FindingSeverity};
use rampart_scan::{detect, parse, Format};

fn read(file: &str) -> Vec<u8> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/zaproxy"));
    std::fs::read(dir.join(file)).unwrap()
}

#[test]
fn every_form_of_the_report_gives_the_same_finding() {
    let mut fingerprints = Vec::new();
    for file in [
        "basic-traditional-json.json",
        "basic-traditional-json-plus.json",
        "basic-traditional-xml.xml",
        "basic-traditional-xml-plus.xml",
    ] {
        let bytes = read(file);
        assert_eq!(detect(&bytes), Some(Format::Zap), "{file}");
        let report = parse(&bytes, None).unwrap();
        assert_eq!(report.format, Format::Zap);
        assert_eq!(report.findings.len(), 1, "{file}");
        let finding = &report.findings[0];
        assert_eq!(finding.title, "XSS", "{file}");
        assert_eq!(finding.severity, Some(FindingSeverity::High), "{file}");
        assert_eq!(finding.confidence, Some(Confidence::Medium), "{file}");
        assert_eq!(finding.cwes, vec![123], "{file}");
        assert_eq!(finding.rule_id.as_deref(), Some("1"), "{file}");
        assert_eq!(
            finding.endpoints,
            vec!["http://example.com/example_3"],
            "{file}"
        );
        assert_eq!(finding.occurrences, 2, "{file}");
        // HTML in the report is text here.
        assert!(
            finding.description.starts_with("XSS Description"),
            "{file}: {}",
            finding.description
        );
        assert_eq!(
            finding.mitigation.as_deref(),
            Some("Test Solution"),
            "{file}"
        );
        fingerprints.push(finding.fingerprint.clone());
    }
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), 1, "the same alert in every form");
}
