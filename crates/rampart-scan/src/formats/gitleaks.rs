//! Gitleaks JSON (`gitleaks detect -f json`, v7 and v8). As DefectDojo:
//! v8 entries with the same description, file, secret and line are one
//! finding; v7 (`rule`, `offender`) entries the same by offender, file
//! and line. Identity: rule, file, line and a digest of the secret (the
//! secret itself is never kept: descriptions show it redacted).

use std::collections::HashMap;

use rampart_core::finding::{FindingSeverity, ParsedFinding};
use serde_json::{Map, Value};

use super::json::{number, text};
use super::{Format, ParseError, Report};
use crate::fingerprint;

pub fn looks_like(item: &Map<String, Value>) -> bool {
    (item.contains_key("RuleID") && item.contains_key("Secret"))
        || (item.contains_key("rule") && item.contains_key("offender"))
}

/// The secret as shown: its first 4 characters, then asterisks.
fn redact(secret: &str) -> String {
    let shown: String = secret.chars().take(4).collect();
    if secret.chars().count() <= 4 {
        "****".into()
    } else {
        format!("{shown}****")
    }
}

pub fn parse(value: &Value) -> Result<Report, ParseError> {
    let items = match value {
        Value::Null => &[][..],
        Value::Array(items) => items.as_slice(),
        _ => {
            return Err(ParseError::shape(
                Format::Gitleaks,
                "expected a list of leaks",
            ))
        }
    };
    let mut findings: Vec<ParsedFinding> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let (key, finding) = if text(item, &["rule"]).is_some() {
            legacy(item)
        } else if text(item, &["Description"]).is_some() {
            current(item)
        } else {
            return Err(ParseError::shape(
                Format::Gitleaks,
                format!("entry {}: neither a v7 nor a v8 leak", index + 1),
            ));
        };
        match seen.get(&key) {
            Some(&at) if text(item, &["rule"]).is_none() => findings[at].occurrences += 1,
            Some(_) => {}
            None => {
                seen.insert(key, findings.len());
                findings.push(finding);
            }
        }
    }
    Ok(Report {
        tool: "Gitleaks".into(),
        format: Format::Gitleaks,
        findings,
    })
}

fn current(item: &Value) -> (String, ParsedFinding) {
    let reason = text(item, &["Description"]).unwrap_or("");
    let file = text(item, &["File"]).unwrap_or("");
    let secret = text(item, &["Secret"]).unwrap_or("");
    let line = number(item, &["StartLine"]).unwrap_or(0);
    let rule = text(item, &["RuleID"]).unwrap_or("");
    let title = format!("Hard coded {reason} found in {file}");
    let secret_digest = fingerprint::of("secret", &[secret]);
    let line_text = line.to_string();
    let key = format!("{title}\u{0}{secret}\u{0}{line}");
    let finding = ParsedFinding {
        fingerprint: fingerprint::of("gitleaks", &[rule, file, &line_text, &secret_digest]),
        title,
        severity: Some(FindingSeverity::High),
        rule_id: Some(rule.to_owned()).filter(|r| !r.is_empty()),
        cwes: vec![798],
        file_path: Some(file.to_owned()),
        line: Some(line),
        description: format!(
            "**Secret:** {}\n**Rule Id:** {rule}\n**Commit:** {}",
            redact(secret),
            text(item, &["Commit"]).unwrap_or("")
        ),
        mitigation: Some("Revoke the secret, rotate it, and remove it from the history.".into()),
        occurrences: 1,
        ..ParsedFinding::default()
    };
    (key, finding)
}

fn legacy(item: &Value) -> (String, ParsedFinding) {
    let reason = text(item, &["rule"]).unwrap_or("");
    let file = text(item, &["file"]).unwrap_or("");
    let offender = text(item, &["offender"]).unwrap_or("");
    let line = number(item, &["lineNumber"]);
    let line_text = line.map(|l| l.to_string()).unwrap_or_else(|| "None".into());
    let severity = if ["Github", "AWS", "Heroku"]
        .iter()
        .any(|w| reason.contains(w))
    {
        FindingSeverity::Critical
    } else {
        FindingSeverity::High
    };
    let key = format!("{offender}{file}{line_text}");
    let secret_digest = fingerprint::of("secret", &[offender]);
    let finding = ParsedFinding {
        fingerprint: fingerprint::of("gitleaks", &[reason, file, &line_text, &secret_digest]),
        title: format!("Hard Coded {reason}"),
        severity: Some(severity),
        rule_id: Some(reason.to_owned()),
        cwes: vec![798],
        file_path: Some(file.to_owned()),
        line,
        description: format!(
            "**Reason:** {reason}\n**Path:** {file}\n**Secret:** {}\n**Commit:** {}",
            redact(offender),
            text(item, &["commit"]).unwrap_or("")
        ),
        mitigation: Some("Revoke the secret, rotate it, and remove it from the history.".into()),
        occurrences: 1,
        ..ParsedFinding::default()
    };
    (key, finding)
}
