//! Greenbone OpenVAS / GVM XML reports (`<report>` with `<results>`). As
//! DefectDojo's v2 parser: one finding per result, results of the same
//! NVT, name, severity and host/port merged. Severity from the threat
//! level (Log is informational); CVEs and links from the NVT's refs.
//! Identity: NVT OID, host, port.

use std::collections::HashMap;

use rampart_core::finding::{FindingSeverity, ParsedFinding};

use super::xml::{self, Element};
use super::{Format, ParseError, Report};
use crate::fingerprint;

/// The `key=value|key=value` tags of an NVT.
fn tag<'a>(tags: &'a str, key: &str) -> Option<&'a str> {
    tags.split('|').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        (k.trim() == key)
            .then_some(v.trim())
            .filter(|v| !v.is_empty())
    })
}

/// GVM wraps long lines with indentation; joined again.
fn unwrap_lines(text: &str) -> String {
    text.split('\n')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\n\n", "\u{0}")
        .replace('\n', " ")
        .replace('\u{0}', "\n\n")
}

/// The threat level (`Log` and unknown levels are informational).
fn severity(result: &Element) -> FindingSeverity {
    result
        .child_text("threat")
        .and_then(FindingSeverity::parse)
        .unwrap_or(FindingSeverity::Info)
}

pub fn parse(bytes: &[u8]) -> Result<Report, ParseError> {
    let root = xml::parse("openvas", bytes)?;
    if root.name != "report" {
        return Err(ParseError::shape(
            Format::Openvas,
            "the root element is not <report>",
        ));
    }
    // Exports wrap the report in another <report>.
    let report = root.first("report").unwrap_or(&root);
    let mut findings: Vec<ParsedFinding> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for result in report
        .first("results")
        .into_iter()
        .flat_map(|r| r.all("result"))
    {
        let host_element = result.first("host");
        let host = host_element
            .and_then(|h| h.child_text("hostname"))
            .or_else(|| host_element.map(|h| h.text.trim()))
            .unwrap_or("");
        let port = result.child_text("port").unwrap_or("");
        let place = match port.split_once('/') {
            Some((number, protocol)) if number.parse::<u16>().is_ok() => {
                format!("{protocol}://{host}:{number}")
            }
            _ => host.to_owned(),
        };
        let nvt = result.first("nvt");
        let oid = nvt.and_then(|n| n.attr("oid")).unwrap_or("").trim();
        let title = nvt
            .and_then(|n| n.child_text("name"))
            .or_else(|| result.child_text("name"))
            .unwrap_or(oid)
            .to_owned();
        let severity = severity(result);
        let key = format!("{place}|{title}|{oid}|{}", severity.as_str());
        if let Some(&at) = index.get(&key) {
            findings[at].occurrences += 1;
            continue;
        }
        let tags = nvt.and_then(|n| n.child_text("tags")).unwrap_or("");
        let refs: Vec<&Element> = nvt
            .and_then(|n| n.first("refs"))
            .map(|r| r.descendants("ref"))
            .unwrap_or_default();
        let vulnerability_ids = refs
            .iter()
            .filter(|r| {
                r.attr("type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("cve"))
            })
            .filter_map(|r| r.attr("id"))
            .map(str::to_owned)
            .collect();
        let references = refs
            .iter()
            .filter(|r| r.attr("type") == Some("url"))
            .filter_map(|r| r.attr("id"))
            .map(str::to_owned)
            .collect();
        let mut description = String::new();
        for (label, value) in [
            ("Summary", tag(tags, "summary")),
            ("Insight", tag(tags, "insight")),
            ("Impact", tag(tags, "impact")),
            ("Affected", tag(tags, "affected")),
        ] {
            if let Some(value) = value {
                description.push_str(&format!("**{label}:** {}\n\n", unwrap_lines(value)));
            }
        }
        if let Some(detected) = result.child_text("description") {
            description.push_str(&format!(
                "**Result:**\n```\n{}\n```\n",
                detected.replace("```", "` ` `")
            ));
        }
        if let Some(qod) = result.first("qod").and_then(|q| q.child_text("value")) {
            description.push_str(&format!("**QoD:** {qod}\n"));
        }
        let mitigation = nvt
            .and_then(|n| n.child_text("solution"))
            .or_else(|| tag(tags, "solution"))
            .map(unwrap_lines);
        let vector = tag(tags, "cvss_base_vector").unwrap_or("");
        index.insert(key, findings.len());
        findings.push(ParsedFinding {
            fingerprint: fingerprint::of("openvas", &[oid, host, port]),
            title,
            severity: Some(severity),
            rule_id: Some(oid.to_owned()).filter(|o| !o.is_empty()),
            vulnerability_ids,
            endpoints: vec![place].into_iter().filter(|p| !p.is_empty()).collect(),
            description: description.trim_end().to_owned(),
            mitigation,
            references,
            cvss_v3_vector: vector.starts_with("CVSS:3").then(|| vector.to_owned()),
            cvss_v4_vector: vector.starts_with("CVSS:4").then(|| vector.to_owned()),
            cvss_score: result
                .child_text("severity")
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|s| (0.0..=10.0).contains(s)),
            occurrences: 1,
            ..ParsedFinding::default()
        });
    }
    Ok(Report {
        tool: "OpenVAS".into(),
        format: Format::Openvas,
        findings,
    })
}
