//! A finding's priority from its report, its asset and its age: the one
//! place imports and asset changes score findings.

use rampart_core::finding::{Asset, Exposure, ParsedFinding, Priority};
use rampart_core::Timestamp;
use rampart_scan::priority::{self, Inputs, Phrase};

const DAY_MS: i64 = 86_400_000;

/// Whole days from `first_seen` to `now` (0 for a finding seen today).
pub(super) fn age_days(first_seen: Option<Timestamp>, now: Timestamp) -> i64 {
    first_seen.map_or(0, |t| (now.0 - t.0).max(0) / DAY_MS)
}

pub(super) fn score(
    finding: &ParsedFinding,
    asset: &Asset,
    age_days: i64,
    phrases: &[Phrase],
) -> Priority {
    let text = format!("{}\n{}", finding.title, finding.description);
    priority::score(&Inputs {
        severity: finding.severity,
        cvss_v3_vector: finding.cvss_v3_vector.as_deref(),
        cvss_v4_vector: finding.cvss_v4_vector.as_deref(),
        cvss_score: finding.cvss_score,
        in_kev: false,
        epss: finding.epss,
        asset_criticality: Some(asset.criticality),
        internet_facing: asset.exposure == Exposure::Internet,
        confidence: finding.confidence,
        age_days,
        text: &text,
        phrases,
    })
}
