//! OWASP Dependency-Check reports, XML (`-f XML`) and JSON (`-f JSON`). As
//! DefectDojo: one finding per vulnerability of each dependency (listed
//! and suppressed ones; suppressed ones come in as false positives),
//! merged when component, version, vulnerability, CWE and file agree.
//! Severity from the CVSS v3 vector when given, else the report's text.
//! Identity: vulnerability, component, version, file name.

use std::collections::HashSet;

use rampart_core::finding::{FindingSeverity, ParsedFinding};
use serde_json::Value;

use super::json::{self as fields, array, text};
use super::xml::{self, Element};
use super::{Format, ParseError, Report};
use crate::fingerprint;

/// A dependency as either form states it.
struct Dependency {
    file_name: String,
    file_path: String,
    component: Option<String>,
    version: Option<String>,
}

/// A vulnerability as either form states it.
#[derive(Default)]
struct Vulnerability {
    name: String,
    severity: String,
    /// attackVector … availabilityImpact, in vector order, and the version.
    cvss3: Option<([String; 8], String)>,
    cvss3_score: Option<f64>,
    cvss4_vector: Option<String>,
    cwes: Vec<u32>,
    description: String,
    references: Vec<String>,
    suppressed: bool,
}

const CVSS3_FIELDS: [(&str, &str); 8] = [
    ("AV", "attackVector"),
    ("AC", "attackComplexity"),
    ("PR", "privilegesRequired"),
    ("UI", "userInteraction"),
    ("S", "scope"),
    ("C", "confidentialityImpact"),
    ("I", "integrityImpact"),
    ("A", "availabilityImpact"),
];

/// `NETWORK` → `N`, `ADJACENT_NETWORK` → `A`, `UNCHANGED` → `U`, `N` → `N`.
fn metric_letter(value: &str) -> Option<char> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("adjacent_network") {
        return Some('A');
    }
    value.chars().next().map(|c| c.to_ascii_uppercase())
}

fn cvss3_vector(metrics: &[String; 8], version: &str) -> Option<String> {
    let mut vector = format!(
        "CVSS:{}",
        if version.starts_with("3.0") {
            "3.0"
        } else {
            "3.1"
        }
    );
    for ((short, _), value) in CVSS3_FIELDS.iter().zip(metrics) {
        vector.push_str(&format!("/{short}:{}", metric_letter(value)?));
    }
    Some(vector)
}

/// `pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1` →
/// (`org.apache.logging.log4j:log4j-core`, `2.14.1`).
fn purl_component(purl: &str) -> Option<(String, Option<String>)> {
    let rest = purl.trim().strip_prefix("pkg:")?;
    let rest = rest.split(['?', '#']).next()?;
    let (_, path) = rest.split_once('/')?;
    let (name, version) = match path.rsplit_once('@') {
        Some((name, version)) => (name, Some(version.to_owned())),
        None => (path, None),
    };
    Some((name.replace('/', ":"), version))
}

/// `cpe:2.3:a:apache:log4j:2.14.1:…` or `cpe:/a:apache:log4j:2.14.1`.
fn cpe_component(cpe: &str) -> Option<(String, Option<String>)> {
    let parts: Vec<&str> = if let Some(rest) = cpe.strip_prefix("cpe:2.3:") {
        rest.split(':').collect()
    } else {
        cpe.strip_prefix("cpe:/")?.split(':').collect()
    };
    let product = parts.get(2).filter(|p| !p.is_empty())?;
    let version = parts
        .get(3)
        .filter(|v| !v.is_empty() && **v != "*")
        .map(|v| (*v).to_owned());
    Some(((*product).to_owned(), version))
}

fn severity(vulnerability: &Vulnerability, vector: Option<&str>) -> FindingSeverity {
    if let Some(score) = vulnerability.cvss3_score.filter(|_| vector.is_some()) {
        return FindingSeverity::from_cvss(score);
    }
    match vulnerability.severity.trim().to_ascii_lowercase().as_str() {
        "moderate" => FindingSeverity::Medium,
        "info" | "informational" => FindingSeverity::Info,
        other => FindingSeverity::parse(other).unwrap_or(FindingSeverity::Medium),
    }
}

fn findings_of(
    dependency: &Dependency,
    vulnerabilities: Vec<Vulnerability>,
    seen: &mut HashSet<String>,
    findings: &mut Vec<ParsedFinding>,
) {
    let component = dependency
        .component
        .clone()
        .unwrap_or_else(|| dependency.file_name.clone());
    let version = dependency.version.clone().unwrap_or_default();
    for vulnerability in vulnerabilities {
        let cwe = vulnerability.cwes.first().copied().unwrap_or(1035);
        let title = format!("{component}:{version} | {}", vulnerability.name);
        let key = format!("{title}|{cwe}|{}", dependency.file_name.to_lowercase());
        if !seen.insert(key) {
            continue;
        }
        let vector = vulnerability
            .cvss3
            .as_ref()
            .and_then(|(metrics, v)| cvss3_vector(metrics, v));
        let severity = severity(&vulnerability, vector.as_deref());
        let is_advisory =
            vulnerability.name.starts_with("CVE-") || vulnerability.name.starts_with("GHSA-");
        let mut description = vulnerability.description.trim().to_owned();
        if !dependency.file_path.is_empty() {
            description.push_str(&format!("\n\n**File:** {}", dependency.file_path));
        }
        findings.push(ParsedFinding {
            fingerprint: fingerprint::of(
                "dependency-check",
                &[
                    &vulnerability.name,
                    &component,
                    &version,
                    &dependency.file_name,
                ],
            ),
            title,
            severity: Some(severity),
            rule_id: Some(vulnerability.name.clone()),
            vulnerability_ids: if is_advisory {
                vec![vulnerability.name.clone()]
            } else {
                Vec::new()
            },
            cwes: vulnerability.cwes,
            component: Some(component.clone()),
            component_version: Some(version.clone()).filter(|v| !v.is_empty()),
            file_path: Some(dependency.file_name.clone()),
            description,
            mitigation: Some(format!(
                "Update {component}:{version} to a version without {}.",
                vulnerability.name
            )),
            references: vulnerability.references,
            cvss_v3_vector: vector,
            cvss_v4_vector: vulnerability.cvss4_vector,
            cvss_score: vulnerability.cvss3_score,
            suppressed: vulnerability.suppressed,
            occurrences: 1,
            ..ParsedFinding::default()
        });
    }
}

fn xml_dependency(element: &Element) -> Dependency {
    let identifiers = element.first("identifiers");
    let package = identifiers
        .and_then(|i| i.descendants("package").into_iter().next())
        .and_then(|p| p.child_text("id"))
        .and_then(purl_component);
    let cpe = || {
        identifiers
            .into_iter()
            .flat_map(|i| i.descendants("identifier"))
            .find(|i| i.attr("type") == Some("cpe"))
            .and_then(|i| i.child_text("name"))
            .and_then(cpe_component)
    };
    let (component, version) = match package.or_else(cpe) {
        Some((name, version)) => (Some(name), version),
        None => (None, None),
    };
    Dependency {
        file_name: element.child_text("fileName").unwrap_or("").to_owned(),
        file_path: element.child_text("filePath").unwrap_or("").to_owned(),
        component,
        version,
    }
}

fn xml_vulnerability(element: &Element) -> Vulnerability {
    let cvss3 = element.first("cvssV3");
    let metrics =
        cvss3.map(|c| CVSS3_FIELDS.map(|(_, name)| c.child_text(name).unwrap_or("").to_owned()));
    let mut cwes: Vec<u32> = element
        .first("cwes")
        .into_iter()
        .flat_map(|c| c.all("cwe"))
        .filter_map(|c| fields::cwe(&c.text))
        .collect();
    if cwes.is_empty() {
        cwes.extend(element.child_text("cwe").and_then(fields::cwe));
    }
    Vulnerability {
        name: element.child_text("name").unwrap_or("").to_owned(),
        severity: element.child_text("severity").unwrap_or("").to_owned(),
        cvss3: metrics.map(|m| {
            (
                m,
                cvss3
                    .and_then(|c| c.child_text("version"))
                    .unwrap_or("3.1")
                    .to_owned(),
            )
        }),
        cvss3_score: cvss3
            .and_then(|c| c.child_text("baseScore"))
            .and_then(|s| s.parse().ok()),
        cvss4_vector: element
            .first("cvssV4")
            .and_then(|c| c.child_text("vectorString"))
            .map(str::to_owned),
        cwes,
        description: element.child_text("description").unwrap_or("").to_owned(),
        references: element
            .first("references")
            .into_iter()
            .flat_map(|r| r.all("reference"))
            .filter_map(|r| r.child_text("url"))
            .map(str::to_owned)
            .collect(),
        suppressed: element.name == "suppressedVulnerability",
    }
}

/// The XML report (`<analysis>`).
pub fn parse_xml(bytes: &[u8]) -> Result<Report, ParseError> {
    let root = xml::parse("dependency-check", bytes)?;
    if root.name != "analysis" {
        return Err(ParseError::shape(
            Format::DependencyCheck,
            "the root element is not <analysis>",
        ));
    }
    let mut findings = Vec::new();
    let mut seen = HashSet::new();
    for element in root
        .first("dependencies")
        .into_iter()
        .flat_map(|d| d.all("dependency"))
    {
        let Some(listed) = element.first("vulnerabilities") else {
            continue;
        };
        let vulnerabilities = listed
            .all("vulnerability")
            .chain(listed.all("suppressedVulnerability"))
            .map(xml_vulnerability)
            .collect();
        findings_of(
            &xml_dependency(element),
            vulnerabilities,
            &mut seen,
            &mut findings,
        );
    }
    Ok(Report {
        tool: "OWASP Dependency-Check".into(),
        format: Format::DependencyCheck,
        findings,
    })
}

/// Whether a JSON document is a Dependency-Check report.
pub fn looks_like(value: &Value) -> bool {
    value.get("dependencies").is_some_and(Value::is_array)
        && (value.get("reportSchema").is_some() || value.get("scanInfo").is_some())
}

fn json_vulnerability(value: &Value, suppressed: bool) -> Vulnerability {
    let cvss3 = value.get("cvssv3").filter(|c| c.is_object());
    Vulnerability {
        name: text(value, &["name"]).unwrap_or("").trim().to_owned(),
        severity: text(value, &["severity"]).unwrap_or("").to_owned(),
        cvss3: cvss3.map(|c| {
            (
                CVSS3_FIELDS.map(|(_, name)| text(c, &[name]).unwrap_or("").to_owned()),
                text(c, &["version"]).unwrap_or("3.1").to_owned(),
            )
        }),
        cvss3_score: cvss3.and_then(|c| fields::float(c, &["baseScore"])),
        cvss4_vector: fields::owned(value, &["cvssv4", "vectorString"]),
        cwes: fields::strings(value, &["cwes"])
            .iter()
            .filter_map(|c| fields::cwe(c))
            .collect(),
        description: text(value, &["description"]).unwrap_or("").to_owned(),
        references: array(value, &["references"])
            .iter()
            .filter_map(|r| fields::owned(r, &["url"]))
            .collect(),
        suppressed,
    }
}

/// The JSON report.
pub fn parse_json(value: &Value) -> Result<Report, ParseError> {
    if !value.get("dependencies").is_some_and(Value::is_array) {
        return Err(ParseError::shape(
            Format::DependencyCheck,
            "expected an object with a `dependencies` array",
        ));
    }
    let mut findings = Vec::new();
    let mut seen = HashSet::new();
    for item in array(value, &["dependencies"]) {
        let package = array(item, &["packages"])
            .iter()
            .filter_map(|p| text(p, &["id"]))
            .find_map(purl_component);
        let (component, version) = match package {
            Some((name, version)) => (Some(name), version),
            None => (None, None),
        };
        let dependency = Dependency {
            file_name: text(item, &["fileName"]).unwrap_or("").to_owned(),
            file_path: text(item, &["filePath"]).unwrap_or("").to_owned(),
            component,
            version,
        };
        let vulnerabilities = array(item, &["vulnerabilities"])
            .iter()
            .map(|v| json_vulnerability(v, false))
            .chain(
                array(item, &["suppressedVulnerabilities"])
                    .iter()
                    .map(|v| json_vulnerability(v, true)),
            )
            .collect();
        findings_of(&dependency, vulnerabilities, &mut seen, &mut findings);
    }
    Ok(Report {
        tool: "OWASP Dependency-Check".into(),
        format: Format::DependencyCheck,
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_come_from_package_urls_and_cpes() {
        assert_eq!(
            purl_component("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
            Some((
                "org.apache.logging.log4j:log4j-core".into(),
                Some("2.14.1".into())
            ))
        );
        assert_eq!(
            purl_component("pkg:npm/%40babel/core@7.0.0?x=1").map(|c| c.1),
            Some(Some("7.0.0".into()))
        );
        assert_eq!(
            cpe_component("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*"),
            Some(("log4j".into(), Some("2.14.1".into())))
        );
        assert_eq!(purl_component("not a purl"), None);
    }

    #[test]
    fn json_reports_as_the_template_writes_them() {
        // Shaped as Dependency-Check's jsonReport.vsl writes a report.
        let report: Value = serde_json::json!({
            "reportSchema": "1.1",
            "scanInfo": {"engineVersion": "12.1.0"},
            "projectInfo": {"name": "app"},
            "dependencies": [
                {"fileName": "log4j-core-2.14.1.jar", "filePath": "/app/lib/log4j-core-2.14.1.jar",
                 "packages": [{"id": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "confidence": "HIGHEST"}],
                 "vulnerabilities": [
                    {"source": "NVD", "name": "CVE-2021-44228", "severity": "CRITICAL",
                     "cvssv3": {"baseScore": 10.0, "attackVector": "NETWORK", "attackComplexity": "LOW",
                                "privilegesRequired": "NONE", "userInteraction": "NONE", "scope": "CHANGED",
                                "confidentialityImpact": "HIGH", "integrityImpact": "HIGH",
                                "availabilityImpact": "HIGH", "baseSeverity": "CRITICAL", "version": "3.1"},
                     "cwes": ["CWE-502", "CWE-400"], "description": "JNDI lookups",
                     "references": [{"source": "MISC", "url": "https://logging.apache.org/log4j/2.x/security.html", "name": "x"}]}
                 ],
                 "suppressedVulnerabilities": [
                    {"source": "NVD", "name": "CVE-2021-45046", "severity": "MODERATE", "description": "d"}
                 ]},
                {"fileName": "clean.jar", "filePath": "/app/lib/clean.jar"}
            ]
        });
        assert!(looks_like(&report));
        let parsed = parse_json(&report).unwrap();
        assert_eq!(parsed.findings.len(), 2);
        let first = &parsed.findings[0];
        assert_eq!(
            first.title,
            "org.apache.logging.log4j:log4j-core:2.14.1 | CVE-2021-44228"
        );
        assert_eq!(first.severity, Some(FindingSeverity::Critical));
        assert_eq!(
            first.cvss_v3_vector.as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")
        );
        assert_eq!(first.cwes, vec![502, 400]);
        assert_eq!(first.vulnerability_ids, vec!["CVE-2021-44228"]);
        assert!(!first.suppressed);
        let second = &parsed.findings[1];
        assert!(second.suppressed);
        assert_eq!(second.severity, Some(FindingSeverity::Medium));
    }
}
