//! Nmap XML (`nmap -oX`). As DefectDojo: one informational finding per
//! open port number, whatever the host (its hosts are the endpoints), and
//! one finding per vulnerability the `vulners` script lists (its id;
//! severity from its CVSS score), merged across ports and hosts.
//! Identity: `port:<number>`, or the vulnerability id.

use std::collections::HashMap;

use rampart_core::finding::{FindingSeverity, ParsedFinding};

use super::xml::{self, Element};
use super::{Format, ParseError, Report};
use crate::fingerprint;

fn host_name(host: &Element) -> Option<String> {
    let ptr = host
        .first("hostnames")
        .into_iter()
        .flat_map(|h| h.all("hostname"))
        .find(|h| h.attr("type") == Some("PTR"))
        .and_then(|h| h.attr("name"));
    let address = host
        .all("address")
        .find(|a| a.attr("addrtype") == Some("ipv4"))
        .or_else(|| {
            host.all("address")
                .find(|a| a.attr("addrtype") == Some("ipv6"))
        })
        .and_then(|a| a.attr("addr"));
    ptr.or(address).map(str::to_owned)
}

/// cpe:/a:openbsd:openssh:7.4 → (openssh, 7.4).
fn cpe_product(cpe: &str) -> (Option<String>, Option<String>) {
    let mut parts = cpe.trim_start_matches("cpe:/").split(':').skip(2);
    let product = parts.next().filter(|p| !p.is_empty()).map(str::to_owned);
    let version = parts.next().filter(|v| !v.is_empty()).map(str::to_owned);
    (product, version)
}

fn endpoint(host: &str, port: &str, protocol: &str) -> String {
    if host.contains(':') {
        format!("{protocol}://[{host}]:{port}")
    } else {
        format!("{protocol}://{host}:{port}")
    }
}

pub fn parse(bytes: &[u8]) -> Result<Report, ParseError> {
    let root = xml::parse("nmap", bytes)?;
    if root.name != "nmaprun" {
        return Err(ParseError::shape(
            Format::Nmap,
            "the root element is not <nmaprun>",
        ));
    }
    let mut findings: Vec<ParsedFinding> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut merge =
        |key: String, finding: ParsedFinding, findings: &mut Vec<ParsedFinding>| match index
            .get(&key)
        {
            Some(&at) => {
                let existing = &mut findings[at];
                for e in finding.endpoints {
                    if !existing.endpoints.contains(&e) {
                        existing.endpoints.push(e);
                    }
                }
                existing.occurrences += 1;
            }
            None => {
                index.insert(key, findings.len());
                findings.push(finding);
            }
        };
    for host in root.all("host") {
        let Some(name) = host_name(host) else {
            continue;
        };
        for port in host.first("ports").into_iter().flat_map(|p| p.all("port")) {
            if port.first("state").and_then(|s| s.attr("state")) != Some("open") {
                continue;
            }
            let number = port.attr("portid").unwrap_or("");
            let protocol = port.attr("protocol").unwrap_or("tcp");
            let place = endpoint(&name, number, protocol);
            let service = port.first("service");
            let product = service.and_then(|s| s.attr("product"));
            let version = service.and_then(|s| s.attr("version"));
            let mut description = format!("**Port/Protocol:** {number}/{protocol}\n");
            for (label, value) in [
                ("Service", service.and_then(|s| s.attr("name"))),
                ("Product", product),
                ("Version", version),
                ("Extra Info", service.and_then(|s| s.attr("extrainfo"))),
            ] {
                if let Some(value) = value {
                    description.push_str(&format!("**{label}:** {value}\n"));
                }
            }
            for script in port.all("script") {
                for component in script.all("table") {
                    let cpe = component.attr("key").unwrap_or("");
                    let (component_name, component_version) = cpe_product(cpe);
                    for vuln in component.all("table") {
                        let elem = |key: &str| {
                            vuln.all("elem")
                                .find(|e| {
                                    e.attr("key").is_some_and(|k| k.eq_ignore_ascii_case(key))
                                })
                                .map(|e| e.text.trim().to_owned())
                        };
                        if script.attr("id") != Some("vulners") {
                            continue;
                        }
                        let Some(id) = elem("id") else {
                            continue;
                        };
                        let cvss = elem("cvss").and_then(|c| c.parse::<f64>().ok());
                        let is_cve = elem("type").as_deref() == Some("cve");
                        let finding = ParsedFinding {
                            fingerprint: fingerprint::of("nmap", &["vulners", &id]),
                            title: id.clone(),
                            severity: Some(cvss.map_or(FindingSeverity::Info, |s| {
                                if s == 0.0 {
                                    FindingSeverity::Info
                                } else {
                                    FindingSeverity::from_cvss(s)
                                }
                            })),
                            rule_id: Some(id.clone()),
                            vulnerability_ids: if is_cve { vec![id.clone()] } else { Vec::new() },
                            component: component_name.clone(),
                            component_version: component_version.clone(),
                            endpoints: vec![place.clone()],
                            description: format!("**ID:** {id}\n**CPE:** {cpe}\n"),
                            references: vec![format!("https://vulners.com/search?query={id}")],
                            cvss_score: cvss,
                            occurrences: 1,
                            ..ParsedFinding::default()
                        };
                        merge(format!("vuln:{id}"), finding, &mut findings);
                    }
                }
            }
            let finding = ParsedFinding {
                fingerprint: fingerprint::of("nmap", &["port", number]),
                title: format!("Open port: {number}/{protocol}"),
                severity: Some(FindingSeverity::Info),
                rule_id: Some(format!("open-port-{number}")),
                component: product.map(str::to_owned),
                component_version: version.map(str::to_owned),
                endpoints: vec![place],
                description,
                occurrences: 1,
                ..ParsedFinding::default()
            };
            merge(format!("port:{number}"), finding, &mut findings);
        }
    }
    Ok(Report {
        tool: "Nmap".into(),
        format: Format::Nmap,
        findings,
    })
}
