//! OWASP ZAP reports, XML (`-x`, "Traditional XML", with or without
//! requests and responses) and JSON (`-J`, "Traditional JSON"). As
//! DefectDojo: one finding per alert item of each site, its instances'
//! URLs (without query and fragment) as endpoints. Identity: site, alert
//! reference (plugin id and variant), alert name.

use rampart_core::finding::{Confidence, FindingSeverity, ParsedFinding};
use serde_json::Value;

use super::html_text;
use super::json::{array, text};
use super::xml::{self, Element};
use super::{Format, ParseError, Report};
use crate::fingerprint;

/// One alert as either form of the report states it.
#[derive(Default)]
struct Alert {
    plugin_id: String,
    alert_ref: String,
    name: String,
    risk_code: String,
    confidence: String,
    description: String,
    other_info: String,
    solution: String,
    reference: String,
    cwe: String,
    uris: Vec<String>,
}

fn severity(risk_code: &str) -> FindingSeverity {
    match risk_code.trim() {
        "3" => FindingSeverity::High,
        "2" => FindingSeverity::Medium,
        "1" => FindingSeverity::Low,
        _ => FindingSeverity::Info,
    }
}

fn confidence(code: &str) -> Option<Confidence> {
    match code.trim() {
        "1" => Some(Confidence::Low),
        "2" => Some(Confidence::Medium),
        "3" | "4" => Some(Confidence::High),
        _ => None,
    }
}

/// The URL without its query and fragment (ZAP adds volatile ones).
fn endpoint(uri: &str) -> String {
    let end = uri.find(['?', '#']).unwrap_or(uri.len());
    uri[..end].to_owned()
}

fn finding(site: &str, alert: Alert) -> ParsedFinding {
    let reference = if alert.alert_ref.is_empty() {
        &alert.plugin_id
    } else {
        &alert.alert_ref
    };
    let mut endpoints: Vec<String> = Vec::new();
    for uri in &alert.uris {
        let url = endpoint(uri.trim());
        if !url.is_empty() && !endpoints.contains(&url) {
            endpoints.push(url);
        }
    }
    let mut description = html_text::to_text(&alert.description);
    let other = html_text::to_text(&alert.other_info);
    if !other.is_empty() {
        description.push_str("\n\n**Other information:** ");
        description.push_str(&other);
    }
    let references = alert
        .reference
        .split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(str::to_owned)
        .collect();
    let solution = html_text::to_text(&alert.solution);
    ParsedFinding {
        fingerprint: fingerprint::of("zap", &[site, reference, &alert.name]),
        title: alert.name.clone(),
        severity: Some(severity(&alert.risk_code)),
        rule_id: Some(reference.clone()).filter(|r| !r.is_empty()),
        cwes: alert
            .cwe
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|c| *c > 0)
            .into_iter()
            .collect(),
        endpoints,
        description,
        mitigation: Some(solution).filter(|s| !s.is_empty()),
        references,
        confidence: confidence(&alert.confidence),
        occurrences: u32::try_from(alert.uris.len()).unwrap_or(u32::MAX).max(1),
        ..ParsedFinding::default()
    }
}

/// The XML report.
pub fn parse_xml(bytes: &[u8]) -> Result<Report, ParseError> {
    let root = xml::parse("zap", bytes)?;
    if root.name != "OWASPZAPReport" {
        return Err(ParseError::shape(
            Format::Zap,
            "the root element is not <OWASPZAPReport>",
        ));
    }
    let mut findings = Vec::new();
    for site in root.all("site") {
        let site_name = site.attr("name").unwrap_or("");
        for item in site
            .first("alerts")
            .into_iter()
            .flat_map(|a| a.all("alertitem"))
        {
            let field = |name: &str| item.child_text(name).unwrap_or("").to_owned();
            let alert = Alert {
                plugin_id: field("pluginid"),
                alert_ref: field("alertRef"),
                name: item
                    .child_text("alert")
                    .or_else(|| item.child_text("name"))
                    .unwrap_or("")
                    .to_owned(),
                risk_code: field("riskcode"),
                confidence: field("confidence"),
                description: field("desc"),
                other_info: field("otherinfo"),
                solution: field("solution"),
                reference: field("reference"),
                cwe: field("cweid"),
                uris: item
                    .first("instances")
                    .into_iter()
                    .flat_map(|i| i.all("instance"))
                    .map(|i: &Element| i.child_text("uri").unwrap_or("").to_owned())
                    .collect(),
            };
            findings.push(finding(site_name, alert));
        }
    }
    Ok(Report {
        tool: "OWASP ZAP".into(),
        format: Format::Zap,
        findings,
    })
}

/// Whether a JSON document is a ZAP report.
pub fn looks_like(value: &Value) -> bool {
    value.get("site").is_some_and(Value::is_array)
        && (value.get("@version").is_some() || value.get("@programName").is_some())
}

/// The JSON report.
pub fn parse_json(value: &Value) -> Result<Report, ParseError> {
    if !value.get("site").is_some_and(Value::is_array) {
        return Err(ParseError::shape(
            Format::Zap,
            "expected an object with a `site` array",
        ));
    }
    let mut findings = Vec::new();
    for site in array(value, &["site"]) {
        let site_name = text(site, &["@name"]).unwrap_or("");
        for item in array(site, &["alerts"]) {
            let field = |name: &str| match item.get(name) {
                Some(Value::String(s)) => s.trim().to_owned(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            let name = field("alert");
            let alert = Alert {
                plugin_id: field("pluginid"),
                alert_ref: field("alertRef"),
                name: if name.is_empty() { field("name") } else { name },
                risk_code: field("riskcode"),
                confidence: field("confidence"),
                description: field("desc"),
                other_info: field("otherinfo"),
                solution: field("solution"),
                reference: field("reference"),
                cwe: field("cweid"),
                uris: array(item, &["instances"])
                    .iter()
                    .map(|i| text(i, &["uri"]).unwrap_or("").to_owned())
                    .collect(),
            };
            findings.push(finding(site_name, alert));
        }
    }
    Ok(Report {
        tool: "OWASP ZAP".into(),
        format: Format::Zap,
        findings,
    })
}
