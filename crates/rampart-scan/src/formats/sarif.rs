//! SARIF 2.1.0 (CodeQL, Semgrep, Bandit, Dependency-Check, Gitleaks and
//! many more write it). As DefectDojo: one finding per result of kind
//! `fail` and per location of it; suppressed results are imported as
//! false positives. Identity: tool, rule, file, line (or the result's
//! `partialFingerprints` when the tool gives them).

use std::collections::HashMap;

use rampart_core::finding::{FindingSeverity, ParsedFinding};
use serde_json::Value;

use super::json::{array, at, cwe, float, is_cve, number, owned, push_id, text};
use super::{Format, ParseError, Report};
use crate::fingerprint;

fn level_severity(level: Option<&str>) -> FindingSeverity {
    match level {
        Some("note") => FindingSeverity::Info,
        Some("error") => FindingSeverity::High,
        _ => FindingSeverity::Medium,
    }
}

pub fn parse(value: &Value) -> Result<Report, ParseError> {
    let Some(runs) = value.get("runs").and_then(Value::as_array) else {
        return Err(ParseError::shape(
            Format::Sarif,
            "expected an object with `runs`",
        ));
    };
    let mut findings = Vec::new();
    let mut tools = Vec::new();
    for run in runs {
        let tool = text(run, &["tool", "driver", "name"]).unwrap_or("SARIF");
        if !tools.iter().any(|t| t == tool) {
            tools.push(tool.to_owned());
        }
        let rules: HashMap<&str, &Value> = array(run, &["tool", "driver", "rules"])
            .iter()
            .filter_map(|r| Some((text(r, &["id"])?, r)))
            .collect();
        for result in array(run, &["results"]) {
            if text(result, &["kind"]).unwrap_or("fail") != "fail" {
                continue;
            }
            result_into(tool, result, &rules, &mut findings);
        }
    }
    Ok(Report {
        tool: if tools.is_empty() {
            "SARIF".into()
        } else {
            tools.join(", ")
        },
        format: Format::Sarif,
        findings,
    })
}

fn result_into(
    tool: &str,
    result: &Value,
    rules: &HashMap<&str, &Value>,
    out: &mut Vec<ParsedFinding>,
) {
    let rule_id = text(result, &["ruleId"])
        .or_else(|| text(result, &["rule", "id"]))
        .unwrap_or("");
    let rule = rules.get(rule_id).copied();
    let suppressed = !array(result, &["suppressions"]).is_empty();
    let message = text(result, &["message", "text"])
        .or_else(|| rule.and_then(|r| text(r, &["fullDescription", "text"])))
        .or_else(|| rule.and_then(|r| text(r, &["shortDescription", "text"])))
        .unwrap_or("");
    let title = rule
        .and_then(|r| text(r, &["shortDescription", "text"]))
        .or_else(|| rule.and_then(|r| text(r, &["name"])))
        .filter(|t| !t.is_empty())
        .unwrap_or(if message.is_empty() { rule_id } else { message });
    let title: String = title
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    let level = text(result, &["level"])
        .or_else(|| rule.and_then(|r| text(r, &["defaultConfiguration", "level"])));
    let security_severity = rule
        .and_then(|r| float(r, &["properties", "security-severity"]))
        .or_else(|| float(result, &["properties", "security-severity"]));
    let mut cwes = Vec::new();
    let mut tags: Vec<&str> = Vec::new();
    for holder in [rule, Some(result)].into_iter().flatten() {
        for tag in array(holder, &["properties", "tags"])
            .iter()
            .filter_map(Value::as_str)
        {
            tags.push(tag);
        }
    }
    for tag in &tags {
        let lower = tag.to_ascii_lowercase();
        if let Some(pos) = lower.find("cwe-") {
            if let Some(n) = cwe(&tag[pos..]) {
                if !cwes.contains(&n) {
                    cwes.push(n);
                }
            }
        }
    }
    let mut ids = Vec::new();
    if is_cve(rule_id) {
        push_id(&mut ids, rule_id);
    }
    let references: Vec<String> = rule
        .and_then(|r| owned(r, &["helpUri"]))
        .into_iter()
        .collect();
    // A tool's hash of the flagged line's content survives lines moving;
    // a hash of the whole file does not, so it is not used.
    let partial = at(result, &["partialFingerprints"])
        .and_then(Value::as_object)
        .and_then(|m| {
            let mut keys: Vec<&String> = m
                .keys()
                .filter(|k| {
                    let k = k.to_ascii_lowercase();
                    k.contains("location") || k.contains("line")
                })
                .collect();
            keys.sort();
            keys.first().and_then(|k| m.get(*k)).and_then(Value::as_str)
        });
    let mut locations: Vec<(Option<String>, Option<u32>)> = array(result, &["locations"])
        .iter()
        .map(|location| {
            let physical = location.get("physicalLocation");
            let uri = physical.and_then(|p| owned(p, &["artifactLocation", "uri"]));
            let line = physical.and_then(|p| number(p, &["region", "startLine"]));
            (uri, line)
        })
        .collect();
    if locations.is_empty() {
        locations.push((None, None));
    }
    for (file, line) in locations {
        let line_text = line.map(|l| l.to_string()).unwrap_or_default();
        let file_text = file.as_deref().unwrap_or("");
        let print = match partial {
            Some(p) => fingerprint::of("sarif", &[tool, rule_id, "partial", p, file_text]),
            None => fingerprint::of(
                "sarif",
                &[
                    tool,
                    rule_id,
                    file_text,
                    &line_text,
                    if rule_id.is_empty() { message } else { "" },
                ],
            ),
        };
        out.push(ParsedFinding {
            fingerprint: print,
            title: title.clone(),
            severity: Some(level_severity(level)),
            rule_id: Some(rule_id.to_owned()).filter(|r| !r.is_empty()),
            vulnerability_ids: ids.clone(),
            cwes: cwes.clone(),
            file_path: file,
            line,
            description: message.to_owned(),
            references: references.clone(),
            cvss_score: security_severity,
            suppressed,
            occurrences: 1,
            ..ParsedFinding::default()
        });
    }
}
