//! Semgrep JSON (`semgrep --json`) and Semgrep's supply-chain `vulns`. As
//! DefectDojo: results of one rule at the same file and line are one
//! finding. Identity: rule, file, line.

use std::collections::HashMap;

use rampart_core::finding::{FindingSeverity, ParsedFinding};
use serde_json::Value;

use super::json::{array, at, cwe, number, owned, strings, text};
use super::{Format, ParseError, Report};
use crate::fingerprint;

fn severity(text: &str) -> Option<FindingSeverity> {
    match text.to_ascii_uppercase().as_str() {
        "CRITICAL" => Some(FindingSeverity::Critical),
        "ERROR" | "HIGH" => Some(FindingSeverity::High),
        "WARNING" | "MEDIUM" => Some(FindingSeverity::Medium),
        "LOW" | "INFO" => Some(FindingSeverity::Low),
        _ => None,
    }
}

fn cwes(value: Option<&Value>) -> Vec<u32> {
    match value {
        Some(Value::String(s)) => cwe(s).into_iter().collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(cwe)
            .collect(),
        _ => Vec::new(),
    }
}

pub fn parse(value: &Value) -> Result<Report, ParseError> {
    if !value.is_object() {
        return Err(ParseError::shape(
            Format::Semgrep,
            "expected an object with `results`",
        ));
    }
    let mut findings: Vec<ParsedFinding> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut add = |finding: ParsedFinding, key: String| {
        if let Some(&index) = seen.get(&key) {
            let existing: &mut ParsedFinding = &mut findings[index];
            existing.occurrences += 1;
        } else {
            seen.insert(key, findings.len());
            findings.push(finding);
        }
    };
    for item in array(value, &["results"]) {
        let rule = text(item, &["check_id"]).unwrap_or("");
        let path = text(item, &["path"]).unwrap_or("");
        let line = number(item, &["start", "line"]);
        let sev = text(item, &["extra", "severity"])
            .and_then(severity)
            .ok_or_else(|| {
                ParseError::shape(
                    Format::Semgrep,
                    format!("result of {rule}: unknown severity"),
                )
            })?;
        let line_text = line.map(|l| l.to_string()).unwrap_or_default();
        let metadata = at(item, &["extra", "metadata"]);
        let finding = ParsedFinding {
            fingerprint: fingerprint::of("semgrep", &[rule, path, &line_text]),
            title: rule.to_owned(),
            severity: Some(sev),
            rule_id: Some(rule.to_owned()),
            cwes: cwes(metadata.and_then(|m| m.get("cwe"))),
            file_path: Some(path.to_owned()),
            line,
            description: text(item, &["extra", "message"]).unwrap_or("").to_owned(),
            mitigation: owned(item, &["extra", "fix"]),
            references: metadata
                .map(|m| strings(m, &["references"]))
                .unwrap_or_default(),
            confidence: metadata
                .and_then(|m| text(m, &["confidence"]))
                .and_then(rampart_core::finding::Confidence::parse),
            occurrences: 1,
            ..ParsedFinding::default()
        };
        add(finding, format!("{rule}{path}{line_text}"));
    }
    for item in array(value, &["vulns"]) {
        let title = text(item, &["title"]).unwrap_or("");
        let path = text(item, &["dependencyFileLocation", "path"]).unwrap_or("");
        let line = number(item, &["dependencyFileLocation", "startLine"]);
        let line_text = line.map(|l| l.to_string()).unwrap_or_default();
        let sev = text(item, &["advisory", "severity"])
            .and_then(severity)
            .ok_or_else(|| {
                ParseError::shape(Format::Semgrep, format!("vuln {title}: unknown severity"))
            })?;
        let mut ids = Vec::new();
        for id in strings(item, &["advisory", "references", "cveIds"]) {
            super::json::push_id(&mut ids, &id);
        }
        let finding = ParsedFinding {
            fingerprint: fingerprint::of("semgrep", &["vuln", title, path, &line_text]),
            title: title.to_owned(),
            severity: Some(sev),
            rule_id: owned(item, &["repositoryId"]),
            vulnerability_ids: ids,
            cwes: cwes(at(item, &["advisory", "references", "cweIds"])),
            file_path: Some(path.to_owned()),
            line,
            description: text(item, &["advisory", "description"])
                .unwrap_or("")
                .to_owned(),
            occurrences: 1,
            ..ParsedFinding::default()
        };
        add(finding, format!("{title}{path}{line_text}"));
    }
    Ok(Report {
        tool: "Semgrep".into(),
        format: Format::Semgrep,
        findings,
    })
}
