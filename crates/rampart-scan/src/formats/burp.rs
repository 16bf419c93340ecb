//! Burp Suite XML (Report issues → XML). As DefectDojo: one finding per
//! issue type, its issues' URLs as endpoints and their details joined.
//! Identity: the issue type.

use std::collections::HashMap;

use rampart_core::finding::{Confidence, FindingSeverity, ParsedFinding};

use super::html_text;
use super::json::cwe;
use super::xml;
use super::{Format, ParseError, Report};
use crate::fingerprint;

/// Details kept per finding (the rest are counted).
const MAX_DETAILS: usize = 20;

pub fn parse(bytes: &[u8]) -> Result<Report, ParseError> {
    let root = xml::parse("burp", bytes)?;
    if root.name != "issues" {
        return Err(ParseError::shape(
            Format::Burp,
            "the root element is not <issues>",
        ));
    }
    let mut findings: Vec<ParsedFinding> = Vec::new();
    let mut by_type: HashMap<String, (usize, usize)> = HashMap::new();
    for issue in root.all("issue") {
        let kind = issue.child_text("type").unwrap_or("").to_owned();
        let host = issue.child_text("host").unwrap_or("");
        let path = issue.child_text("path").unwrap_or("");
        let url = format!("{host}{path}");
        let detail = issue
            .child_text("issueDetail")
            .map(html_text::to_text)
            .unwrap_or_default();
        let section = if detail.is_empty() {
            format!("**URL:** {url}")
        } else {
            format!("**URL:** {url}\n\n{detail}")
        };
        if let Some((at, details)) = by_type.get_mut(&kind) {
            let existing = &mut findings[*at];
            if !existing.endpoints.contains(&url) {
                existing.endpoints.push(url);
            }
            existing.occurrences += 1;
            *details += 1;
            if *details <= MAX_DETAILS {
                existing.description.push_str("\n\n---\n\n");
                existing.description.push_str(&section);
            }
            continue;
        }
        let background = issue
            .child_text("issueBackground")
            .map(html_text::to_text)
            .unwrap_or_default();
        let mut description = section;
        if !background.is_empty() {
            description = format!("{background}\n\n{description}");
        }
        let mitigation = [
            issue.child_text("remediationDetail"),
            issue.child_text("remediationBackground"),
        ]
        .into_iter()
        .flatten()
        .map(html_text::to_text)
        .collect::<Vec<_>>()
        .join("\n\n");
        let classifications = issue
            .child_text("vulnerabilityClassifications")
            .unwrap_or("");
        let mut cwes: Vec<u32> = Vec::new();
        for link_text in classifications.split("CWE-").skip(1) {
            if let Some(id) = cwe(&format!("CWE-{link_text}")) {
                if !cwes.contains(&id) {
                    cwes.push(id);
                }
            }
        }
        let severity = match issue.child_text("severity") {
            Some(s) if s.eq_ignore_ascii_case("information") => Some(FindingSeverity::Info),
            Some(s) => FindingSeverity::parse(s),
            None => None,
        };
        by_type.insert(kind.clone(), (findings.len(), 1));
        findings.push(ParsedFinding {
            fingerprint: fingerprint::of("burp", &[&kind]),
            title: issue.child_text("name").unwrap_or(&kind).to_owned(),
            severity,
            rule_id: Some(kind).filter(|k| !k.is_empty()),
            cwes,
            endpoints: vec![url],
            description,
            mitigation: Some(mitigation).filter(|m| !m.is_empty()),
            references: html_text::links(issue.child_text("references").unwrap_or("")),
            confidence: issue.child_text("confidence").and_then(Confidence::parse),
            occurrences: 1,
            ..ParsedFinding::default()
        });
    }
    Ok(Report {
        tool: "Burp Suite".into(),
        format: Format::Burp,
        findings,
    })
}
