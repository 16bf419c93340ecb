//! Anchore Grype JSON (`grype … -o json`). As DefectDojo: matches of the
//! same vulnerability in the same package name and version are one
//! finding (more paths count as occurrences). Identity: vulnerability id,
//! package, version.

use std::collections::HashMap;

use rampart_core::finding::{FindingSeverity, ParsedFinding};
use serde_json::Value;

use super::json::{array, float, owned, push_id, strings, text};
use super::{Format, ParseError, Report};
use crate::fingerprint;

fn severity(text: &str) -> FindingSeverity {
    match text.to_ascii_lowercase().as_str() {
        "critical" => FindingSeverity::Critical,
        "high" => FindingSeverity::High,
        "medium" => FindingSeverity::Medium,
        "low" => FindingSeverity::Low,
        _ => FindingSeverity::Info,
    }
}

pub fn parse(value: &Value) -> Result<Report, ParseError> {
    if !value.is_object() {
        return Err(ParseError::shape(
            Format::Grype,
            "expected an object with `matches`",
        ));
    }
    let mut findings: Vec<ParsedFinding> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for item in array(value, &["matches"]) {
        let vulnerability = item.get("vulnerability").unwrap_or(&Value::Null);
        let Some(id) = text(vulnerability, &["id"]) else {
            continue;
        };
        let name = text(item, &["artifact", "name"]).unwrap_or("");
        let version = text(item, &["artifact", "version"]).unwrap_or("");
        let key = format!("{id}|{name}|{version}");
        if let Some(&index) = seen.get(&key) {
            findings[index].occurrences += 1;
            continue;
        }
        let related = array(item, &["relatedVulnerabilities"]);
        let mut ids = Vec::new();
        push_id(&mut ids, id);
        for r in related {
            if let Some(rid) = text(r, &["id"]) {
                push_id(&mut ids, rid);
            }
        }
        let cvss_vector = |v: &Value| {
            array(v, &["cvss"]).iter().find_map(|c| {
                text(c, &["vector"])
                    .filter(|v| v.starts_with("CVSS:3"))
                    .map(str::to_owned)
            })
        };
        let cvss_score = |v: &Value| {
            array(v, &["cvss"])
                .iter()
                .filter(|c| text(c, &["vector"]).is_some_and(|v| v.starts_with("CVSS:3")))
                .find_map(|c| float(c, &["metrics", "baseScore"]))
        };
        let first_related = related.first().unwrap_or(&Value::Null);
        let epss = array(vulnerability, &["epss"])
            .first()
            .or_else(|| array(first_related, &["epss"]).first())
            .and_then(|e| float(e, &["epss"]));
        let fixes = strings(vulnerability, &["fix", "versions"]);
        let mut references = Vec::new();
        for source in [vulnerability, first_related] {
            if let Some(ds) = owned(source, &["dataSource"]) {
                references.push(ds);
            }
            for url in strings(source, &["urls"]) {
                if !references.contains(&url) {
                    references.push(url);
                }
            }
        }
        let description = owned(vulnerability, &["description"])
            .or_else(|| owned(first_related, &["description"]))
            .unwrap_or_default();
        let path = array(item, &["artifact", "locations"])
            .first()
            .and_then(|l| owned(l, &["path"]));
        seen.insert(key, findings.len());
        findings.push(ParsedFinding {
            fingerprint: fingerprint::of("grype", &[id, name, version]),
            title: format!("{id} in {name}:{version}"),
            severity: Some(severity(
                text(vulnerability, &["severity"]).unwrap_or("Info"),
            )),
            rule_id: Some(id.to_owned()),
            vulnerability_ids: ids,
            component: Some(name.to_owned()),
            component_version: Some(version.to_owned()).filter(|v| !v.is_empty()),
            mitigation: (!fixes.is_empty())
                .then(|| format!("Upgrade to version: {}", fixes.join(", "))),
            fixed_version: (!fixes.is_empty()).then(|| fixes.join(", ")),
            file_path: path,
            description,
            references,
            cvss_v3_vector: cvss_vector(vulnerability).or_else(|| cvss_vector(first_related)),
            cvss_score: cvss_score(vulnerability).or_else(|| cvss_score(first_related)),
            epss,
            occurrences: 1,
            ..ParsedFinding::default()
        });
    }
    let tool = text(value, &["descriptor", "name"]).unwrap_or("grype");
    Ok(Report {
        tool: tool.to_owned(),
        format: Format::Grype,
        findings,
    })
}
