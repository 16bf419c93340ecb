//! Real scanner reports (DefectDojo's parser test files): each parses
//! without error into as many findings as DefectDojo's parser yields, its
//! format is recognised without being named, and parsing twice gives the
//! same fingerprints, which never join findings of different rules,
//! files or packages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::path::Path;

use rampart_scan::{detect, parse, Format};

fn data_dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/defectdojo"
    ))
}

fn read(format: &str, file: &str) -> Vec<u8> {
    let path = data_dir().join(format).join(format!("{file}.gz"));
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

fn cases() -> Vec<(String, String, usize)> {
    std::fs::read_to_string(data_dir().join("counts.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let format = cols.next().unwrap().to_owned();
            let file = cols.next().unwrap().to_owned();
            let count = cols.next().unwrap().parse().unwrap();
            (format, file, count)
        })
        .collect()
}

#[test]
fn counts_match_defectdojo() {
    let mut wrong = Vec::new();
    for (format_name, file, expected) in cases() {
        let format = Format::parse_name(&format_name).unwrap();
        let bytes = read(&format_name, &file);
        match parse(&bytes, Some(format)) {
            Ok(report) if report.findings.len() == expected => {}
            Ok(report) => wrong.push(format!(
                "{format_name}/{file}: {} findings, DefectDojo {expected}",
                report.findings.len()
            )),
            Err(error) => wrong.push(format!("{format_name}/{file}: {error}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn formats_are_recognised_unnamed() {
    let mut wrong = Vec::new();
    for (format_name, file, expected) in cases() {
        if expected == 0 {
            continue;
        }
        let bytes = read(&format_name, &file);
        let found = detect(&bytes).map(Format::as_str);
        if found != Some(format_name.as_str()) {
            wrong.push(format!("{format_name}/{file}: detected as {found:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn fingerprints_are_stable_and_never_merge_different_problems() {
    for (format_name, file, expected) in cases() {
        if expected == 0 {
            continue;
        }
        let format = Format::parse_name(&format_name).unwrap();
        let bytes = read(&format_name, &file);
        let first = parse(&bytes, Some(format)).unwrap();
        let second = parse(&bytes, Some(format)).unwrap();
        let prints: Vec<&str> = first
            .findings
            .iter()
            .map(|f| f.fingerprint.as_str())
            .collect();
        let again: Vec<&str> = second
            .findings
            .iter()
            .map(|f| f.fingerprint.as_str())
            .collect();
        assert_eq!(prints, again, "{format_name}/{file}");
        assert!(prints.iter().all(|p| p.starts_with("v1:")));
        // Findings that share a fingerprint share rule, file and package:
        // a fingerprint never merges different problems.
        let mut identity = std::collections::HashMap::new();
        for finding in &first.findings {
            let key = (
                finding.rule_id.clone(),
                finding.file_path.clone(),
                finding.component.clone(),
                finding.component_version.clone(),
            );
            let known = identity
                .entry(finding.fingerprint.clone())
                .or_insert_with(|| key.clone());
            assert_eq!(*known, key, "{format_name}/{file}: {}", finding.fingerprint);
        }
    }
}

#[test]
fn nmap_ports_and_vulners_findings_say_where_and_what() {
    let report = parse(&read("nmap", "nmap_script_vulners.xml"), None).unwrap();
    assert_eq!(report.format, Format::Nmap);
    let port = report
        .findings
        .iter()
        .find(|f| f.title == "Open port: 5022/tcp")
        .unwrap();
    assert_eq!(port.endpoints, ["tcp://192.168.0.1:5022"]);
    assert_eq!(port.component.as_deref(), Some("OpenSSH"));
    let cve = report
        .findings
        .iter()
        .find(|f| f.title == "CVE-2018-15919")
        .unwrap();
    assert_eq!(cve.vulnerability_ids, ["CVE-2018-15919"]);
    assert_eq!(cve.cvss_score, Some(5.0));
    assert_eq!(cve.component.as_deref(), Some("openssh"));
    assert_eq!(cve.component_version.as_deref(), Some("7.4"));
    // One finding per open port number, its hosts as endpoints.
    let many = parse(&read("nmap", "issue4406.xml"), None).unwrap();
    assert!(many.findings.iter().all(|f| !f.endpoints.is_empty()));
    let truncated = read("nmap", "nmap_1port.xml");
    let error = parse(&truncated[..truncated.len() / 2], Some(Format::Nmap)).unwrap_err();
    assert!(error.line().is_some(), "{error}");
}
