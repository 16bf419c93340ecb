//! Checkov JSON (`checkov -o json`), one check type or a list of them. As
//! DefectDojo: one finding per failed check. Identity: check id, file,
//! resource.

use rampart_core::finding::{FindingSeverity, ParsedFinding};
use serde_json::Value;

use super::json::{array, number, owned, text};
use super::{Format, ParseError, Report};
use crate::fingerprint;

pub fn parse(value: &Value) -> Result<Report, ParseError> {
    let trees: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![value],
        _ => {
            return Err(ParseError::shape(
                Format::Checkov,
                "expected an object or a list of them",
            ))
        }
    };
    let mut findings = Vec::new();
    for tree in trees {
        let check_type = text(tree, &["check_type"]).unwrap_or("");
        for check in array(tree, &["results", "failed_checks"]) {
            let id = text(check, &["check_id"]).unwrap_or("");
            let file = text(check, &["file_path"]).unwrap_or("");
            let resource = text(check, &["resource"]).unwrap_or("");
            let severity = text(check, &["severity"])
                .and_then(FindingSeverity::parse)
                .or(Some(FindingSeverity::Medium));
            findings.push(ParsedFinding {
                fingerprint: fingerprint::of("checkov", &[check_type, id, file, resource]),
                title: text(check, &["check_name"])
                    .unwrap_or("check_name not found")
                    .to_owned(),
                severity,
                rule_id: Some(id.to_owned()).filter(|s| !s.is_empty()),
                component: Some(resource.to_owned()).filter(|s| !s.is_empty()),
                file_path: Some(file.to_owned()).filter(|s| !s.is_empty()),
                line: array(check, &["file_line_range"])
                    .first()
                    .and_then(|v| v.as_u64())
                    .and_then(|v| u32::try_from(v).ok())
                    .or_else(|| number(check, &["line"])),
                description: format!(
                    "Check Type: {check_type}\nCheck Id: {id}\n{}",
                    text(check, &["description"]).unwrap_or("")
                )
                .trim()
                .to_owned(),
                references: owned(check, &["guideline"]).into_iter().collect(),
                occurrences: 1,
                ..ParsedFinding::default()
            });
        }
    }
    Ok(Report {
        tool: "Checkov".into(),
        format: Format::Checkov,
        findings,
    })
}
