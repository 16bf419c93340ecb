//! Nuclei JSONL (`nuclei -jsonl`, also a JSON array). As DefectDojo:
//! results of the same template, type and matcher on the same host are
//! one finding, each matched URL an endpoint of it. Identity: template,
//! type, matcher, host.

use std::collections::HashMap;

use rampart_core::finding::{FindingSeverity, ParsedFinding};
use serde_json::{Map, Value};

use super::json::{at, cwe, float, owned, push_id, text};
use super::{Format, ParseError, Report};
use crate::fingerprint;

pub fn looks_like(item: &Map<String, Value>) -> bool {
    (item.contains_key("template-id") || item.contains_key("templateID"))
        && item.contains_key("info")
}

/// The host of a matched URL or `host:port`.
fn host_of(matched: &str) -> &str {
    let rest = matched.split_once("://").map_or(matched, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

pub fn parse(bytes: &[u8]) -> Result<Report, ParseError> {
    let text_all = std::str::from_utf8(bytes).map_err(|e| {
        ParseError::shape(
            Format::Nuclei,
            format!("not UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    let text_all = text_all.trim_start_matches('\u{feff}');
    let mut items: Vec<Value> = Vec::new();
    if text_all.trim_start().starts_with('[') {
        match serde_json::from_str::<Value>(text_all) {
            Ok(Value::Array(list)) => items = list,
            Ok(_) => {
                return Err(ParseError::shape(
                    Format::Nuclei,
                    "expected a list of results",
                ))
            }
            Err(e) => return Err(ParseError::syntax(Format::Nuclei.as_str(), &e)),
        }
    } else {
        for (index, line) in text_all.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(line).map_err(|e| ParseError::Syntax {
                format: "nuclei",
                line: index + 1,
                column: e.column(),
                message: e.to_string(),
            })?;
            items.push(value);
        }
    }
    let mut findings: Vec<ParsedFinding> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let Some(info) = item.get("info").filter(|i| i.is_object()) else {
            return Err(ParseError::shape(
                Format::Nuclei,
                format!("result {} has no `info`", index + 1),
            ));
        };
        let template = text(item, &["template-id"])
            .or_else(|| text(item, &["templateID"]))
            .unwrap_or("");
        let kind = text(item, &["type"]).unwrap_or("");
        let matched = text(item, &["matched-at"])
            .or_else(|| text(item, &["matched"]))
            .unwrap_or("");
        let matcher = text(item, &["matcher-name"])
            .or_else(|| text(item, &["matcher_name"]))
            .unwrap_or("");
        let host = host_of(matched);
        let key = format!("{template}\u{0}{kind}\u{0}{matcher}\u{0}{host}");
        if let Some(&at_index) = seen.get(&key) {
            let finding = &mut findings[at_index];
            finding.occurrences += 1;
            if !matched.is_empty() && !finding.endpoints.iter().any(|e| e == matched) {
                finding.endpoints.push(matched.to_owned());
            }
            continue;
        }
        let severity = text(info, &["severity"])
            .and_then(FindingSeverity::parse)
            .or(Some(FindingSeverity::Info));
        let classification = info.get("classification");
        let mut ids = Vec::new();
        if let Some(Value::Array(cves)) = classification.and_then(|c| c.get("cve-id")) {
            for cve in cves.iter().filter_map(Value::as_str) {
                push_id(&mut ids, cve);
            }
        }
        let cwes = match classification.and_then(|c| c.get("cwe-id")) {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .filter_map(cwe)
                .collect(),
            _ => Vec::new(),
        };
        let references = match info.get("reference") {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        let mut description = text(info, &["description"]).unwrap_or("").to_owned();
        if let Some(Value::Array(results)) = item.get("extracted-results") {
            let results: Vec<&str> = results.iter().filter_map(Value::as_str).collect();
            if !results.is_empty() {
                description.push_str("\n**Results:**\n");
                description.push_str(&results.join("\n"));
            }
        }
        seen.insert(key, findings.len());
        findings.push(ParsedFinding {
            fingerprint: fingerprint::of("nuclei", &[template, kind, matcher, host]),
            title: text(info, &["name"]).unwrap_or(template).to_owned(),
            severity,
            rule_id: Some(template.to_owned()).filter(|t| !t.is_empty()),
            vulnerability_ids: ids,
            cwes,
            component: Some(matcher.to_owned()).filter(|m| !m.is_empty()),
            endpoints: Some(matched.to_owned())
                .filter(|m| !m.is_empty())
                .into_iter()
                .collect(),
            description: description.trim().to_owned(),
            mitigation: owned(info, &["remediation"]),
            references,
            cvss_v3_vector: classification
                .and_then(|c| owned(c, &["cvss-metrics"]))
                .filter(|v| v.starts_with("CVSS:3")),
            cvss_score: classification.and_then(|c| float(c, &["cvss-score"])),
            epss: at(item, &["info", "classification", "epss-score"]).and_then(Value::as_f64),
            occurrences: 1,
            ..ParsedFinding::default()
        });
    }
    Ok(Report {
        tool: "Nuclei".into(),
        format: Format::Nuclei,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn hosts_of_matches() {
        assert_eq!(host_of("https://a.example:8443/x?y"), "a.example");
        assert_eq!(host_of("a.example:22"), "a.example");
        assert_eq!(host_of("http://u:p@[::1]:80/"), "::1");
        assert_eq!(host_of(""), "");
    }
}
