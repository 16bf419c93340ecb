//! Trivy JSON (`trivy … -f json`): schema 2 (`Results`), the legacy list
//! of results, and Kubernetes cluster reports. As DefectDojo: one finding
//! per vulnerability, misconfiguration, secret and licence entry, no
//! grouping. Identity: target, package (or check), installed version,
//! advisory id.

use rampart_core::finding::{FindingSeverity, ParsedFinding};
use serde_json::Value;

use super::json::{array, float, number, owned, push_id, strings, text};
use super::{Format, ParseError, Report};
use crate::fingerprint;

const CVSS_SOURCES: [&str; 4] = ["nvd", "ghsa", "redhat", "bitnami"];

fn severity(text: Option<&str>) -> Option<FindingSeverity> {
    match text? {
        "CRITICAL" => Some(FindingSeverity::Critical),
        "HIGH" => Some(FindingSeverity::High),
        "MEDIUM" => Some(FindingSeverity::Medium),
        "LOW" => Some(FindingSeverity::Low),
        "UNKNOWN" => Some(FindingSeverity::Info),
        _ => None,
    }
}

pub fn parse(value: &Value) -> Result<Report, ParseError> {
    let mut findings = Vec::new();
    match value {
        Value::Null => {}
        Value::Array(results) => results_into(results, "", &mut findings),
        Value::Object(_) if value.get("SchemaVersion").and_then(Value::as_i64) == Some(2) => {
            results_into(array(value, &["Results"]), "", &mut findings);
        }
        Value::Object(_) if value.get("ClusterName").is_some() => {
            for key in ["Vulnerabilities", "Misconfigurations", "Resources"] {
                for resource in array(value, &[key]) {
                    let service: Vec<&str> = ["Namespace", "Kind", "Name"]
                        .iter()
                        .filter_map(|k| text(resource, &[k]))
                        .filter(|s| !s.is_empty())
                        .collect();
                    results_into(
                        array(resource, &["Results"]),
                        &service.join(" / "),
                        &mut findings,
                    );
                }
            }
        }
        _ => {
            return Err(ParseError::shape(
                Format::Trivy,
                "expected SchemaVersion 2, a Kubernetes report or a list of results",
            ))
        }
    }
    Ok(Report {
        tool: "Trivy".into(),
        format: Format::Trivy,
        findings,
    })
}

fn results_into(results: &[Value], service: &str, out: &mut Vec<ParsedFinding>) {
    for target_data in results {
        let Some(target) = text(target_data, &["Target"]) else {
            continue;
        };
        let class = text(target_data, &["Class"]).unwrap_or("");
        for vuln in array(target_data, &["Vulnerabilities"]) {
            if let Some(finding) = vulnerability(vuln, target, class, service) {
                out.push(finding);
            }
        }
        for misconfiguration in array(target_data, &["Misconfigurations"]) {
            out.push(misconfig(misconfiguration, target, service));
        }
        for secret in array(target_data, &["Secrets"]) {
            out.push(secret_finding(secret, target, service));
        }
        for licence in array(target_data, &["Licenses"]) {
            out.push(licence_finding(licence, target, service));
        }
    }
}

fn vulnerability(vuln: &Value, target: &str, class: &str, service: &str) -> Option<ParsedFinding> {
    let package = text(vuln, &["PkgName"])?;
    let id = text(vuln, &["VulnerabilityID"]).unwrap_or("0");
    let version = text(vuln, &["InstalledVersion"]).unwrap_or("");
    let cvss = vuln.get("CVSS");
    let source = text(vuln, &["SeveritySource"]);
    let chosen = source
        .into_iter()
        .chain(CVSS_SOURCES)
        .find_map(|s| cvss.and_then(|c| c.get(s)));
    let v3 = chosen.and_then(|c| owned(c, &["V3Vector"]));
    let v4 = chosen.and_then(|c| owned(c, &["V40Vector"]));
    let score = chosen.and_then(|c| {
        float(c, &["V40Score"])
            .or_else(|| float(c, &["V3Score"]))
            .or_else(|| float(c, &["V2Score"]))
    });
    let severity = severity(text(vuln, &["Severity"]))
        .or_else(|| score.map(FindingSeverity::from_cvss))
        .or(Some(FindingSeverity::Info));
    let file_path = match class {
        "os-pkgs" | "lang-pkgs" => owned(vuln, &["PkgPath"]).or_else(|| Some(target.to_owned())),
        "config" => Some(target.to_owned()),
        _ => None,
    };
    let mut ids = Vec::new();
    push_id(&mut ids, id);
    let mut references = strings(vuln, &["References"]);
    if let Some(primary) = owned(vuln, &["PrimaryURL"]) {
        references.insert(0, primary);
    }
    let fixed = owned(vuln, &["FixedVersion"]);
    Some(ParsedFinding {
        fingerprint: fingerprint::of("trivy", &["vuln", service, target, package, version, id]),
        title: format!("{id} {package} {version}"),
        severity,
        rule_id: Some(id.to_owned()),
        vulnerability_ids: ids,
        cwes: strings(vuln, &["CweIDs"])
            .iter()
            .filter_map(|c| super::json::cwe(c))
            .collect(),
        component: Some(package.to_owned()),
        component_version: Some(version.to_owned()).filter(|v| !v.is_empty()),
        mitigation: fixed.as_ref().map(|f| format!("Upgrade {package} to {f}")),
        fixed_version: fixed,
        file_path,
        description: [
            text(vuln, &["Title"]).unwrap_or(""),
            text(vuln, &["Description"]).unwrap_or(""),
        ]
        .join("\n\n")
        .trim()
        .to_owned(),
        references,
        cvss_v3_vector: v3,
        cvss_v4_vector: v4,
        cvss_score: score,
        occurrences: 1,
        ..ParsedFinding::default()
    })
}

fn misconfig(item: &Value, target: &str, service: &str) -> ParsedFinding {
    let id = text(item, &["ID"]).unwrap_or("");
    let avd = text(item, &["AVDID"]).unwrap_or(id);
    let title = text(item, &["Title"]).unwrap_or("Unknown Misconfiguration");
    let mut references = Vec::new();
    if let Some(primary) = owned(item, &["PrimaryURL"]) {
        references.push(primary);
    }
    for r in strings(item, &["References"]) {
        if !references.contains(&r) {
            references.push(r);
        }
    }
    let line = number(item, &["CauseMetadata", "StartLine"]);
    let mut ids = Vec::new();
    if !avd.is_empty() {
        push_id(&mut ids, avd);
    }
    ParsedFinding {
        fingerprint: fingerprint::of(
            "trivy",
            &[
                "misconfig",
                service,
                target,
                id,
                text(item, &["CauseMetadata", "Resource"]).unwrap_or(""),
            ],
        ),
        title: format!("{id} - {title}"),
        severity: severity(text(item, &["Severity"])).or(Some(FindingSeverity::Info)),
        rule_id: Some(id.to_owned()).filter(|s| !s.is_empty()),
        vulnerability_ids: ids,
        file_path: Some(target.to_owned()),
        line,
        description: [
            text(item, &["Description"]).unwrap_or(""),
            text(item, &["Message"]).unwrap_or(""),
        ]
        .join("\n\n")
        .trim()
        .to_owned(),
        mitigation: owned(item, &["Resolution"]),
        references,
        occurrences: 1,
        ..ParsedFinding::default()
    }
}

fn secret_finding(item: &Value, target: &str, service: &str) -> ParsedFinding {
    let rule = text(item, &["RuleID"]).unwrap_or("");
    let title = text(item, &["Title"]).unwrap_or("secret");
    let line = number(item, &["StartLine"]);
    let line_text = line.map(|l| l.to_string()).unwrap_or_default();
    ParsedFinding {
        fingerprint: fingerprint::of(
            "trivy",
            &["secret", service, target, rule, title, &line_text],
        ),
        title: format!("Secret detected in {target} - {title}"),
        severity: severity(text(item, &["Severity"])).or(Some(FindingSeverity::Info)),
        rule_id: Some(rule.to_owned()).filter(|s| !s.is_empty()),
        cwes: vec![798],
        file_path: Some(target.to_owned()),
        line,
        description: format!(
            "{title}\nCategory: {}",
            text(item, &["Category"]).unwrap_or("")
        ),
        occurrences: 1,
        ..ParsedFinding::default()
    }
}

fn licence_finding(item: &Value, target: &str, service: &str) -> ParsedFinding {
    let name = text(item, &["Name"]).unwrap_or("");
    let package = text(item, &["PkgName"]).unwrap_or("");
    let path = owned(item, &["FilePath"]);
    ParsedFinding {
        fingerprint: fingerprint::of(
            "trivy",
            &[
                "license",
                service,
                target,
                package,
                name,
                path.as_deref().unwrap_or(""),
            ],
        ),
        title: format!("License detected in {target} - {name}"),
        severity: severity(text(item, &["Severity"])).or(Some(FindingSeverity::Info)),
        rule_id: Some(format!("license:{name}")),
        component: Some(package.to_owned()).filter(|s| !s.is_empty()),
        file_path: path,
        description: format!(
            "License {name} ({}) of package {package}",
            text(item, &["Category"]).unwrap_or("")
        ),
        references: owned(item, &["Link"]).into_iter().collect(),
        occurrences: 1,
        ..ParsedFinding::default()
    }
}
