//! Rampart's own scans, without I/O: what a response, a file or an open
//! port says, turned into findings. The network side (scope, rate limits,
//! timeouts, redirects) lives in `rampart-app`; everything here is a pure
//! function of what was observed, so it is tested on fixed inputs.

pub mod exposed_files;
pub mod ports;
pub mod tls;
pub mod web_baseline;

use rampart_core::finding::{Confidence, FindingSeverity, ParsedFinding};

/// A finding of one of Rampart's scans.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finding(
    scan: &str,
    rule: &str,
    place: &str,
    title: String,
    severity: FindingSeverity,
    description: String,
    mitigation: &str,
    reference: &str,
    cwe: Option<u32>,
) -> ParsedFinding {
    ParsedFinding {
        fingerprint: crate::fingerprint::of(scan, &[rule, place]),
        title,
        severity: Some(severity),
        rule_id: Some(rule.to_owned()),
        cwes: cwe.into_iter().collect(),
        endpoints: vec![place.to_owned()],
        description,
        mitigation: Some(mitigation.to_owned()),
        references: vec![reference.to_owned()],
        confidence: Some(Confidence::High),
        occurrences: 1,
        ..ParsedFinding::default()
    }
}
