//! Tenable Nessus (`.nessus`, NessusClientData_v2; Nessus WAS exports the
//! same schema). As DefectDojo: one finding per plugin and severity,
//! whatever the host, its hosts and ports as endpoints. Severity from the
//! CVSS v3 base score when given, else Nessus's 0–4. Identity: the plugin
//! id (the plugin name when there is none).

use std::collections::HashMap;

use rampart_core::finding::{FindingSeverity, ParsedFinding};

use super::json::cwe;
use super::xml::{self, Element};
use super::{Format, ParseError, Report};
use crate::fingerprint;

/// Plugin outputs kept per finding (the rest are counted).
const MAX_OUTPUTS: usize = 20;

fn severity_of(item: &Element) -> FindingSeverity {
    if let Some(score) = item
        .child_text("cvss3_base_score")
        .and_then(|s| s.parse::<f64>().ok())
    {
        return FindingSeverity::from_cvss(score);
    }
    match item.attr("severity").map(str::trim) {
        Some("4") => FindingSeverity::Critical,
        Some("3") => FindingSeverity::High,
        Some("2") => FindingSeverity::Medium,
        Some("1") => FindingSeverity::Low,
        _ => FindingSeverity::Info,
    }
}

/// `CVSS:3.x/AV:…`, adding the prefix Nessus sometimes leaves off.
fn cvss3_vector(item: &Element) -> Option<String> {
    let vector = item.child_text("cvss3_vector")?;
    Some(if vector.starts_with("CVSS:3") {
        vector.to_owned()
    } else {
        format!("CVSS:3.0/{vector}")
    })
}

fn endpoint(item: &Element, host: &str) -> String {
    let port = item.attr("port").unwrap_or("0").trim();
    if let Some(url) = host.contains("://").then_some(host) {
        return url.to_owned();
    }
    if port == "0" || port.is_empty() {
        return host.to_owned();
    }
    let service = item
        .attr("svc_name")
        .map(|s| s.trim_end_matches('?'))
        .filter(|s| !s.is_empty() && *s != "general");
    let scheme = match service {
        Some("www") => "http",
        Some(service) => service,
        None => item.attr("protocol").unwrap_or("tcp"),
    };
    if host.contains(':') {
        format!("{scheme}://[{host}]:{port}")
    } else {
        format!("{scheme}://{host}:{port}")
    }
}

pub fn parse(bytes: &[u8]) -> Result<Report, ParseError> {
    let root = xml::parse("nessus", bytes)?;
    if root.name != "NessusClientData_v2" {
        return Err(ParseError::shape(
            Format::Nessus,
            "the root element is not <NessusClientData_v2>",
        ));
    }
    let mut findings: Vec<ParsedFinding> = Vec::new();
    let mut index: HashMap<(String, FindingSeverity), usize> = HashMap::new();
    for report_host in root.descendants("ReportHost") {
        let address = report_host.attr("name").unwrap_or("").trim();
        let fqdn = report_host
            .first("HostProperties")
            .into_iter()
            .flat_map(|p| p.all("tag"))
            .find(|t| t.attr("name") == Some("host-fqdn"))
            .map(|t| t.text.trim())
            .filter(|t| !t.is_empty());
        let host = fqdn.unwrap_or(address);
        for item in report_host.all("ReportItem") {
            let plugin_name = item.attr("pluginName").unwrap_or("").trim();
            let plugin_id = item.attr("pluginID").unwrap_or("").trim();
            let identity = if plugin_id.is_empty() {
                plugin_name
            } else {
                plugin_id
            };
            let severity = severity_of(item);
            let place = endpoint(item, host);
            let output = item.child_text("plugin_output").map(|o| {
                format!(
                    "**Plugin output ({place}):**\n```\n{}\n```",
                    o.replace("```", "` ` `")
                )
            });
            let cves: Vec<String> = item
                .all("cve")
                .map(|c| c.text.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect();
            let key = (plugin_name.to_owned(), severity);
            if let Some(&at) = index.get(&key) {
                let existing = &mut findings[at];
                if !existing.endpoints.contains(&place) {
                    existing.endpoints.push(place);
                }
                for cve in cves {
                    if !existing.vulnerability_ids.contains(&cve) {
                        existing.vulnerability_ids.push(cve);
                    }
                }
                existing.occurrences += 1;
                if let Some(output) =
                    output.filter(|_| existing.occurrences as usize <= MAX_OUTPUTS)
                {
                    existing.description.push_str("\n\n");
                    existing.description.push_str(&output);
                }
                continue;
            }
            let mut description = [item.child_text("synopsis"), item.child_text("description")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n\n");
            if let Some(output) = output {
                description.push_str("\n\n");
                description.push_str(&output);
            }
            let mut references: Vec<String> = Vec::new();
            for see_also in item.all("see_also") {
                references.extend(see_also.text.split_whitespace().map(str::to_owned));
            }
            references.extend(
                item.all("xref")
                    .map(|x| x.text.trim().to_owned())
                    .filter(|x| !x.is_empty()),
            );
            index.insert(key, findings.len());
            findings.push(ParsedFinding {
                fingerprint: fingerprint::of("nessus", &[identity]),
                title: plugin_name.to_owned(),
                severity: Some(severity),
                rule_id: Some(identity.to_owned()).filter(|i| !i.is_empty()),
                vulnerability_ids: cves,
                cwes: item.child_text("cwe").and_then(cwe).into_iter().collect(),
                endpoints: vec![place],
                description,
                mitigation: item
                    .child_text("solution")
                    .filter(|s| *s != "n/a")
                    .map(str::to_owned),
                references,
                cvss_v3_vector: cvss3_vector(item),
                cvss_score: item
                    .child_text("cvss3_base_score")
                    .or_else(|| item.child_text("cvss_base_score"))
                    .and_then(|s| s.parse().ok()),
                occurrences: 1,
                ..ParsedFinding::default()
            });
        }
    }
    Ok(Report {
        tool: "Nessus".into(),
        format: Format::Nessus,
        findings,
    })
}
