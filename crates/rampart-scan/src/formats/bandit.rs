//! Bandit JSON (`bandit -f json`). As DefectDojo: one finding per result.
//! Identity: test id, file, line.

use rampart_core::finding::{Confidence, FindingSeverity, ParsedFinding};
use serde_json::Value;

use super::json::{array, number, owned, text};
use super::{Format, ParseError, Report};
use crate::fingerprint;

pub fn parse(value: &Value) -> Result<Report, ParseError> {
    let Some(results) = value.get("results").and_then(Value::as_array) else {
        return Err(ParseError::shape(
            Format::Bandit,
            "expected an object with `results`",
        ));
    };
    let mut findings = Vec::with_capacity(results.len());
    for item in array(value, &["results"]) {
        let test_id = text(item, &["test_id"]).unwrap_or("");
        let test_name = text(item, &["test_name"]).unwrap_or("");
        let file = text(item, &["filename"]).unwrap_or("");
        let line = number(item, &["line_number"]);
        let line_text = line.map(|l| l.to_string()).unwrap_or_default();
        let mut cwes = Vec::new();
        if let Some(id) = number(item, &["issue_cwe", "id"]) {
            cwes.push(id);
        }
        findings.push(ParsedFinding {
            fingerprint: fingerprint::of("bandit", &[test_id, file, &line_text]),
            title: text(item, &["issue_text"]).unwrap_or(test_name).to_owned(),
            severity: text(item, &["issue_severity"]).and_then(FindingSeverity::parse),
            rule_id: Some(format!("{test_name}:{test_id}")),
            cwes,
            file_path: Some(file.to_owned()),
            line,
            description: format!(
                "**Test:** {test_name} ({test_id})\n**Code:**\n```\n{}\n```",
                text(item, &["code"]).unwrap_or("")
            ),
            references: owned(item, &["more_info"]).into_iter().collect(),
            confidence: text(item, &["issue_confidence"]).and_then(Confidence::parse),
            occurrences: 1,
            ..ParsedFinding::default()
        });
    }
    Ok(Report {
        tool: "Bandit".into(),
        format: Format::Bandit,
        findings,
    })
}
