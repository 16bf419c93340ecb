//! The `tls` scan's verdicts: which protocol versions a server offers and
//! what its certificate says (validity, expiry window, host name, self-
//! signed, key size), from the DER certificates the handshake returned.
//! The handshakes themselves happen in `rampart-app`.

use der::Decode as _;
use rampart_core::finding::{FindingSeverity, ParsedFinding};
use rampart_core::Timestamp;
use serde::Serialize;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::Certificate;

use super::finding;

/// What the scan is called in fingerprints and scan types.
pub const SCAN: &str = "tls";

/// Days before expiry from which a certificate is reported.
pub const EXPIRY_WINDOW_DAYS: i64 = 30;

/// A protocol version and whether the server accepted it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Offered {
    pub version: &'static str,
    pub accepted: bool,
}

/// What the handshakes saw of one endpoint.
#[derive(Clone, Debug)]
pub struct TlsObserved {
    /// The name (or address) the client asked for.
    pub host: String,
    pub port: u16,
    pub versions: Vec<Offered>,
    /// The server's certificates, its own first (DER).
    pub chain: Vec<Vec<u8>>,
    pub now: Timestamp,
}

/// What the leaf certificate says.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    /// `RSA 2048`, `EC P-256`, `Ed25519`…
    pub key: String,
    pub key_bits: u32,
    pub self_signed: bool,
}

/// The outcome for one endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct TlsAssessment {
    pub endpoint: String,
    pub versions: Vec<Offered>,
    pub certificate: Option<CertFacts>,
    #[serde(skip)]
    pub findings: Vec<ParsedFinding>,
}

fn time_of(t: &x509_cert::time::Time) -> Timestamp {
    let millis = t.to_unix_duration().as_millis();
    Timestamp(i64::try_from(millis).unwrap_or(i64::MAX))
}

const RSA: &str = "1.2.840.113549.1.1.1";
const EC: &str = "1.2.840.10045.2.1";
const ED25519: &str = "1.3.101.112";

fn key_of(cert: &Certificate) -> (String, u32) {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let oid = spki.algorithm.oid.to_string();
    match oid.as_str() {
        RSA => {
            let bits = pkcs1::RsaPublicKey::from_der(spki.subject_public_key.raw_bytes())
                .map(|k| {
                    let bytes = k.modulus.as_bytes();
                    let leading = bytes.iter().take_while(|b| **b == 0).count();
                    let significant = &bytes[leading..];
                    significant.first().map_or(0, |b| {
                        (significant.len() as u32 - 1) * 8 + (8 - b.leading_zeros())
                    })
                })
                .unwrap_or(0);
            (format!("RSA {bits}"), bits)
        }
        EC => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
                .map(|o| o.to_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => ("EC P-256".into(), 256),
                Some("1.3.132.0.34") => ("EC P-384".into(), 384),
                Some("1.3.132.0.35") => ("EC P-521".into(), 521),
                Some(other) => (format!("EC {other}"), 0),
                None => ("EC".into(), 0),
            }
        }
        ED25519 => ("Ed25519".into(), 256),
        other => (other.to_owned(), 0),
    }
}

/// Reads the leaf certificate; `None` when it cannot be parsed.
pub fn cert_facts(der: &[u8], chain_len: usize) -> Option<CertFacts> {
    let cert = Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    for ext in tbs.extensions.iter().flatten() {
        if ext.extn_id.to_string() != "2.5.29.17" {
            continue;
        }
        if let Ok(san) = SubjectAltName::from_der(ext.extn_value.as_bytes()) {
            for name in san.0 {
                match name {
                    GeneralName::DnsName(dns) => dns_names.push(dns.as_str().to_ascii_lowercase()),
                    GeneralName::IpAddress(ip) => {
                        let bytes = ip.as_bytes();
                        let text = match bytes.len() {
                            4 => <[u8; 4]>::try_from(bytes)
                                .ok()
                                .map(|b| std::net::IpAddr::from(b).to_string()),
                            16 => <[u8; 16]>::try_from(bytes)
                                .ok()
                                .map(|b| std::net::IpAddr::from(b).to_string()),
                            _ => None,
                        };
                        ip_addresses.extend(text);
                    }
                    _ => {}
                }
            }
        }
    }
    let (key, key_bits) = key_of(&cert);
    let subject = tbs.subject.to_string();
    let issuer = tbs.issuer.to_string();
    Some(CertFacts {
        self_signed: subject == issuer && chain_len <= 1,
        subject,
        issuer,
        not_before: time_of(&tbs.validity.not_before),
        not_after: time_of(&tbs.validity.not_after),
        dns_names,
        ip_addresses,
        key,
        key_bits,
    })
}

/// Whether a certificate name (`*.example.com` covers one label) covers `host`.
fn covers(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(label, domain)| !label.is_empty() && domain == rest),
        None => pattern == host,
    }
}

/// Whether the certificate names `host` (its SANs; its CN when it has none).
pub fn names_host(facts: &CertFacts, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() {
        return facts.ip_addresses.contains(&host);
    }
    if facts.dns_names.is_empty() {
        return facts
            .subject
            .split(',')
            .filter_map(|part| part.trim().strip_prefix("CN="))
            .any(|cn| covers(&cn.to_ascii_lowercase(), &host));
    }
    facts.dns_names.iter().any(|name| covers(name, &host))
}

const REFERENCE: &str =
    "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/TLS";

/// Judges one endpoint.
pub fn assess(observed: &TlsObserved) -> TlsAssessment {
    let endpoint = if observed.host.contains(':') && !observed.host.starts_with('[') {
        format!("[{}]:{}", observed.host, observed.port)
    } else {
        format!("{}:{}", observed.host, observed.port)
    };
    let mut findings = Vec::new();
    let mut add = |rule: &str,
                   title: String,
                   severity: FindingSeverity,
                   description: String,
                   fix: &str,
                   cwe: u32| {
        findings.push(finding(
            SCAN,
            rule,
            &endpoint,
            title,
            severity,
            description,
            fix,
            REFERENCE,
            Some(cwe),
        ));
    };
    let old: Vec<&str> = observed
        .versions
        .iter()
        .filter(|v| v.accepted && matches!(v.version, "TLS 1.0" | "TLS 1.1"))
        .map(|v| v.version)
        .collect();
    if !old.is_empty() {
        add(
            "tls-deprecated-protocol",
            format!("Deprecated protocol offered: {}", old.join(", ")),
            FindingSeverity::Medium,
            format!("{endpoint} accepts {}, deprecated by RFC 8996 and broken in ways TLS 1.2 and 1.3 are not.", old.join(" and ")),
            "Offer TLS 1.2 and 1.3 only.",
            327,
        );
    }
    let modern = observed
        .versions
        .iter()
        .any(|v| v.accepted && matches!(v.version, "TLS 1.2" | "TLS 1.3"));
    if !modern && !observed.versions.is_empty() && observed.versions.iter().any(|v| v.accepted) {
        add(
            "tls-no-modern-protocol",
            "Neither TLS 1.2 nor TLS 1.3 is offered".into(),
            FindingSeverity::High,
            format!("{endpoint} negotiates only deprecated protocol versions."),
            "Offer TLS 1.2 and 1.3.",
            327,
        );
    }
    let certificate = observed
        .chain
        .first()
        .and_then(|leaf| cert_facts(leaf, observed.chain.len()));
    if let Some(c) = &certificate {
        let now = observed.now;
        let day = 86_400_000;
        if c.not_after.0 < now.0 {
            add(
                "tls-certificate-expired",
                "Certificate expired".into(),
                FindingSeverity::High,
                format!(
                    "The certificate of {endpoint} ({}) expired on {}.",
                    c.subject,
                    c.not_after.to_rfc3339()
                ),
                "Renew the certificate (and automate renewal, e.g. ACME).",
                298,
            );
        } else if c.not_before.0 > now.0 {
            add(
                "tls-certificate-not-yet-valid",
                "Certificate not yet valid".into(),
                FindingSeverity::High,
                format!(
                    "The certificate of {endpoint} is valid only from {}.",
                    c.not_before.to_rfc3339()
                ),
                "Check the server's clock and the certificate's dates.",
                298,
            );
        } else if c.not_after.0 - now.0 < EXPIRY_WINDOW_DAYS * day {
            add(
                "tls-certificate-expiring",
                format!("Certificate expires within {EXPIRY_WINDOW_DAYS} days"),
                FindingSeverity::Medium,
                format!(
                    "The certificate of {endpoint} expires on {}.",
                    c.not_after.to_rfc3339()
                ),
                "Renew the certificate before it expires.",
                298,
            );
        }
        if !names_host(c, &observed.host) {
            let names: Vec<&str> = c
                .dns_names
                .iter()
                .chain(&c.ip_addresses)
                .map(String::as_str)
                .collect();
            add(
                "tls-certificate-name-mismatch",
                "Certificate does not name the host".into(),
                FindingSeverity::High,
                format!(
                    "{endpoint} presents a certificate for {} (subject {}), not for {}.",
                    if names.is_empty() {
                        "no names".to_owned()
                    } else {
                        names.join(", ")
                    },
                    c.subject,
                    observed.host
                ),
                "Serve a certificate whose subject alternative names include this host.",
                297,
            );
        }
        if c.self_signed {
            add(
                "tls-certificate-self-signed",
                "Self-signed certificate".into(),
                FindingSeverity::Medium,
                format!("{endpoint} presents a certificate it signed itself ({}); browsers and clients cannot trust it.", c.subject),
                "Use a certificate from a trusted (or your internal) certificate authority.",
                295,
            );
        }
        let weak = match c.key.split(' ').next() {
            Some("RSA") => c.key_bits < 2048,
            Some("EC") => c.key_bits > 0 && c.key_bits < 256,
            _ => false,
        };
        if weak {
            add(
                "tls-weak-key",
                format!("Weak certificate key ({})", c.key),
                FindingSeverity::Medium,
                format!("The certificate of {endpoint} uses a {} key; at least RSA 2048 or EC P-256 is expected.", c.key),
                "Issue a new certificate with an RSA key of 2048 bits or more, or an EC P-256 key.",
                326,
            );
        }
    } else if !observed.chain.is_empty() {
        add(
            "tls-certificate-unreadable",
            "Certificate could not be read".into(),
            FindingSeverity::Low,
            format!("{endpoint} presented a certificate that is not valid DER X.509."),
            "Serve a well-formed certificate.",
            295,
        );
    }
    TlsAssessment {
        endpoint,
        versions: observed.versions.clone(),
        certificate,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(dns: &[&str], subject: &str) -> CertFacts {
        CertFacts {
            subject: subject.into(),
            issuer: "CN=Test CA".into(),
            not_before: Timestamp(0),
            not_after: Timestamp(i64::MAX),
            dns_names: dns.iter().map(|s| (*s).to_owned()).collect(),
            ip_addresses: vec!["127.0.0.1".into()],
            key: "EC P-256".into(),
            key_bits: 256,
            self_signed: false,
        }
    }

    #[test]
    fn names_match_as_browsers_match_them() {
        let c = facts(
            &["shop.example.com", "*.api.example.com"],
            "CN=shop.example.com",
        );
        assert!(names_host(&c, "shop.example.com"));
        assert!(names_host(&c, "SHOP.example.com."));
        assert!(names_host(&c, "v1.api.example.com"));
        assert!(!names_host(&c, "a.v1.api.example.com"), "one label only");
        assert!(!names_host(&c, "api.example.com"));
        assert!(names_host(&c, "127.0.0.1"));
        assert!(!names_host(&c, "127.0.0.2"));
        let cn_only = facts(&[], "O=Acme, CN=legacy.example.com");
        assert!(names_host(&cn_only, "legacy.example.com"));
    }

    #[test]
    fn old_protocols_and_garbage_certificates_are_reported() {
        let observed = TlsObserved {
            host: "legacy.example.com".into(),
            port: 443,
            versions: vec![
                Offered {
                    version: "TLS 1.3",
                    accepted: false,
                },
                Offered {
                    version: "TLS 1.2",
                    accepted: true,
                },
                Offered {
                    version: "TLS 1.1",
                    accepted: true,
                },
                Offered {
                    version: "TLS 1.0",
                    accepted: true,
                },
            ],
            chain: vec![b"not a certificate".to_vec()],
            now: Timestamp(0),
        };
        let a = assess(&observed);
        let rules: Vec<&str> = a
            .findings
            .iter()
            .filter_map(|f| f.rule_id.as_deref())
            .collect();
        assert_eq!(
            rules,
            ["tls-deprecated-protocol", "tls-certificate-unreadable"]
        );
        assert!(a.findings[0].title.contains("TLS 1.1, TLS 1.0"));
        assert_eq!(a.findings[0].endpoints, ["legacy.example.com:443"]);
    }
}
