//! A finding's priority from its report, its asset, its age and what
//! threat intelligence says about its CVEs: the one place imports, asset
//! changes and intelligence loads score findings.

use std::collections::HashMap;

use rampart_core::finding::{Asset, Exposure, ParsedFinding, Priority};
use rampart_core::intel::{CveIntel, EpssScore, KevEntry};
use rampart_core::{Error, Timestamp};
use rampart_scan::intel::cve_id;
use rampart_scan::priority::{self, Inputs, Phrase};
use rampart_store::Store;

const DAY_MS: i64 = 86_400_000;

/// What is known about the CVEs of the findings being scored.
pub(super) type Intel = HashMap<String, CveIntel>;

/// Whole days from `first_seen` to `now` (0 for a finding seen today).
pub(super) fn age_days(first_seen: Option<Timestamp>, now: Timestamp) -> i64 {
    first_seen.map_or(0, |t| (now.0 - t.0).max(0) / DAY_MS)
}

/// Threat intelligence about every CVE the findings name.
pub(super) async fn intel_for<'a>(
    store: &dyn Store,
    findings: impl Iterator<Item = &'a ParsedFinding>,
) -> Result<Intel, Error> {
    let cves: Vec<String> = findings
        .flat_map(|f| f.vulnerability_ids.iter())
        .filter_map(|id| cve_id(id))
        .collect();
    if cves.is_empty() {
        return Ok(Intel::new());
    }
    Ok(store.intel_for(&cves).await?)
}

/// The KEV entry of the first listed CVE, and the highest EPSS score.
fn known<'a>(
    finding: &ParsedFinding,
    intel: &'a Intel,
) -> (Option<&'a KevEntry>, Option<&'a EpssScore>) {
    let mut kev = None;
    let mut epss: Option<&EpssScore> = None;
    for id in &finding.vulnerability_ids {
        let Some(about) = cve_id(id).and_then(|cve| intel.get(&cve)) else {
            continue;
        };
        kev = kev.or(about.kev.as_ref());
        if let Some(score) = &about.epss {
            if epss.is_none_or(|best| score.epss > best.epss) {
                epss = Some(score);
            }
        }
    }
    (kev, epss)
}

pub(super) fn score(
    finding: &ParsedFinding,
    asset: &Asset,
    age_days: i64,
    phrases: &[Phrase],
    intel: &Intel,
) -> Priority {
    let text = format!("{}\n{}", finding.title, finding.description);
    let (kev, epss) = known(finding, intel);
    priority::score(&Inputs {
        severity: finding.severity,
        cvss_v3_vector: finding.cvss_v3_vector.as_deref(),
        cvss_v4_vector: finding.cvss_v4_vector.as_deref(),
        cvss_score: finding.cvss_score,
        kev,
        // The published file is newer than the score a report carried.
        epss: epss.map(|e| e.epss).or(finding.epss),
        epss_percentile: epss.map(|e| e.percentile),
        asset_criticality: Some(asset.criticality),
        internet_facing: asset.exposure == Exposure::Internet,
        confidence: finding.confidence,
        age_days,
        text: &text,
        phrases,
    })
}
