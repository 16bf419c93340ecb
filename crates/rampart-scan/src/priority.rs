//! Priorities 0–100 with the reason for each point: a base from the CVSS
//! vector (or score, or severity), points for being known exploited (CISA
//! KEV), likely to be exploited (EPSS) and described as exploitable
//! (weighted phrases), points for age, then factors for the asset's
//! criticality and exposure and the scanner's confidence. Every
//! contribution is kept so an analyst sees why a finding ranks where it
//! does.

pub use rampart_core::finding::{Band, Contribution, Priority};
use rampart_core::finding::{Confidence, FindingSeverity};
use rampart_core::intel::KevEntry;

use crate::cvss::{Cvss3, Cvss4};

pub use rampart_core::finding::Phrase;

/// The phrases used when an organisation has not set its own.
pub fn default_phrases() -> Vec<Phrase> {
    [
        ("remote code execution", 8.0),
        ("arbitrary code execution", 7.0),
        ("actively exploited", 8.0),
        ("exploited in the wild", 8.0),
        ("public exploit", 6.0),
        ("exploit is available", 6.0),
        ("unauthenticated", 5.0),
        ("authentication bypass", 6.0),
        ("command injection", 6.0),
        ("sql injection", 5.0),
        ("deserialization", 4.0),
        ("privilege escalation", 4.0),
        ("proof of concept", 3.0),
        ("path traversal", 3.0),
    ]
    .into_iter()
    .map(|(phrase, points)| Phrase {
        phrase: phrase.into(),
        points,
    })
    .collect()
}

/// Phrases add at most this many points together.
pub const PHRASE_CAP: f64 = 15.0;

/// What a finding's priority is computed from.
#[derive(Clone, Debug, Default)]
pub struct Inputs<'a> {
    pub severity: Option<FindingSeverity>,
    pub cvss_v3_vector: Option<&'a str>,
    pub cvss_v4_vector: Option<&'a str>,
    pub cvss_score: Option<f64>,
    /// The finding's entry in CISA's KEV catalogue, when one of its CVEs
    /// is listed.
    pub kev: Option<&'a KevEntry>,
    pub epss: Option<f64>,
    /// EPSS's percentile, when the score came from the EPSS file.
    pub epss_percentile: Option<f64>,
    /// 1–5; `None` when the finding has no asset.
    pub asset_criticality: Option<u8>,
    pub internet_facing: bool,
    pub confidence: Option<Confidence>,
    /// Days since first seen.
    pub age_days: i64,
    /// Title and description, searched for phrases.
    pub text: &'a str,
    pub phrases: &'a [Phrase],
}

fn points(value: f64) -> String {
    if (value - value.round()).abs() < 0.05 {
        format!("+{}", value.round())
    } else {
        format!("+{value:.1}")
    }
}

fn severity_base(severity: FindingSeverity) -> f64 {
    match severity {
        FindingSeverity::Critical => 54.0,
        FindingSeverity::High => 42.0,
        FindingSeverity::Medium => 27.0,
        FindingSeverity::Low => 12.0,
        FindingSeverity::Info => 2.0,
    }
}

/// The priority of a finding, with its reasons.
pub fn score(inputs: &Inputs<'_>) -> Priority {
    let mut total = 0.0;
    let mut contributions = Vec::new();
    let mut add = |value: f64, reason: String, total: &mut f64| {
        if value > 0.0 {
            *total += value;
            contributions.push(Contribution {
                effect: points(value),
                reason,
            });
        }
    };

    let v3 = inputs.cvss_v3_vector.and_then(|v| Cvss3::parse(v).ok());
    let v4 = inputs.cvss_v4_vector.and_then(|v| Cvss4::parse(v).ok());
    match (&v3, inputs.cvss_score) {
        (Some(vector), _) => {
            let base = vector.base_score();
            add(
                base * 6.0,
                format!("CVSS {} base score {base:.1}", vector.version),
                &mut total,
            );
        }
        (None, Some(score)) if (0.0..=10.0).contains(&score) => {
            add(
                score * 6.0,
                format!("CVSS score {score:.1} from the report"),
                &mut total,
            );
        }
        _ => {
            let severity = inputs.severity.unwrap_or(FindingSeverity::Info);
            add(
                severity_base(severity),
                format!("severity {} (no CVSS)", severity.as_str()),
                &mut total,
            );
        }
    }
    if v3.as_ref().is_some_and(Cvss3::is_wormable) || v4.as_ref().is_some_and(Cvss4::is_wormable) {
        add(
            5.0,
            "network attack, no privileges, no user interaction".into(),
            &mut total,
        );
    }
    if let Some(kev) = inputs.kev {
        let ransomware = if kev.ransomware {
            ", used in ransomware campaigns"
        } else {
            ""
        };
        add(
            25.0,
            format!(
                "listed in CISA's Known Exploited Vulnerabilities ({} since {}{ransomware})",
                kev.cve, kev.date_added
            ),
            &mut total,
        );
    }
    if let Some(epss) = inputs.epss.filter(|e| (0.0..=1.0).contains(e)) {
        let reason = match inputs.epss_percentile.filter(|p| (0.0..=1.0).contains(p)) {
            Some(percentile) => format!(
                "EPSS {epss:.2} (above {:.0}% of CVEs)",
                (percentile * 100.0).floor()
            ),
            None => format!("EPSS {epss:.2}"),
        };
        add((epss * 20.0).round(), reason, &mut total);
    }
    let text = inputs.text.to_lowercase();
    let mut phrase_points = 0.0;
    for phrase in inputs.phrases {
        let needle = phrase.phrase.trim().to_lowercase();
        if needle.is_empty() || phrase.points <= 0.0 || !text.contains(&needle) {
            continue;
        }
        let value = phrase.points.min(PHRASE_CAP - phrase_points);
        if value <= 0.0 {
            break;
        }
        phrase_points += value;
        add(
            value,
            format!("mentions \"{}\"", phrase.phrase.trim()),
            &mut total,
        );
    }
    if inputs.age_days >= 30 {
        let value = (inputs.age_days / 30).min(5) as f64;
        add(
            value,
            format!("open for {} days", inputs.age_days),
            &mut total,
        );
    }

    let mut factor = |value: f64, reason: String, total: &mut f64| {
        if (value - 1.0).abs() > f64::EPSILON {
            *total *= value;
            contributions.push(Contribution {
                effect: format!("×{value}"),
                reason,
            });
        }
    };
    if let Some(criticality) = inputs.asset_criticality {
        let value = match criticality {
            0 | 1 => 0.7,
            2 => 0.85,
            3 => 1.0,
            4 => 1.15,
            _ => 1.3,
        };
        factor(
            value,
            format!("asset criticality {criticality} of 5"),
            &mut total,
        );
    }
    if inputs.internet_facing {
        factor(1.2, "internet-facing asset".into(), &mut total);
    }
    match inputs.confidence {
        Some(Confidence::Low) => factor(0.8, "scanner confidence low".into(), &mut total),
        Some(Confidence::Medium) => factor(0.9, "scanner confidence medium".into(), &mut total),
        _ => {}
    }
    let score = total.round().clamp(0.0, 100.0) as u8;
    Priority {
        score,
        band: Band::of(score),
        contributions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exploited_internet_facing_rce_ranks_critical_and_says_why() {
        let phrases = default_phrases();
        let kev = KevEntry {
            cve: "CVE-2021-44228".into(),
            vendor: "Apache".into(),
            product: "Log4j2".into(),
            name: "Apache Log4j2 Remote Code Execution Vulnerability".into(),
            date_added: "2021-12-10".into(),
            due_date: None,
            ransomware: true,
        };
        let p = score(&Inputs {
            severity: Some(FindingSeverity::Critical),
            cvss_v3_vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            kev: Some(&kev),
            epss: Some(0.94),
            epss_percentile: Some(0.9996),
            asset_criticality: Some(5),
            internet_facing: true,
            text: "Unauthenticated remote code execution",
            phrases: &phrases,
            ..Inputs::default()
        });
        assert_eq!(p.score, 100);
        assert_eq!(p.band, Band::Critical);
        let effects: Vec<String> = p
            .contributions
            .iter()
            .map(|c| format!("{} {}", c.effect, c.reason))
            .collect();
        assert!(
            effects.contains(
                &"+25 listed in CISA's Known Exploited Vulnerabilities \
                  (CVE-2021-44228 since 2021-12-10, used in ransomware campaigns)"
                    .into()
            ),
            "{effects:?}"
        );
        assert!(
            effects.contains(&"+19 EPSS 0.94 (above 99% of CVEs)".into()),
            "{effects:?}"
        );
        assert!(
            effects.contains(&"×1.2 internet-facing asset".into()),
            "{effects:?}"
        );
        assert!(
            effects
                .iter()
                .any(|e| e.starts_with("+58.8 CVSS 3.1 base score 9.8")),
            "{effects:?}"
        );
    }

    #[test]
    fn an_informational_finding_on_a_minor_asset_stays_low() {
        let p = score(&Inputs {
            severity: Some(FindingSeverity::Low),
            asset_criticality: Some(1),
            confidence: Some(Confidence::Low),
            ..Inputs::default()
        });
        assert_eq!(p.band, Band::Info);
        assert_eq!(p.contributions.len(), 3);
    }

    #[test]
    fn phrases_are_capped() {
        let phrases = default_phrases();
        let p = score(&Inputs {
            severity: Some(FindingSeverity::Medium),
            text: "remote code execution, actively exploited, public exploit, unauthenticated",
            phrases: &phrases,
            ..Inputs::default()
        });
        assert_eq!(p.score, 27 + 15);
    }

    proptest::proptest! {
        #[test]
        fn scores_stay_in_range(cvss in proptest::option::of(-5.0f64..20.0), epss in proptest::option::of(-1.0f64..2.0),
                                crit in proptest::option::of(0u8..10), age in -10i64..10_000, kev: bool, net: bool) {
            let entry = KevEntry { cve: "CVE-2021-44228".into(), vendor: String::new(), product: String::new(), name: String::new(), date_added: String::new(), due_date: None, ransomware: false };
            let p = score(&Inputs { cvss_score: cvss, epss, asset_criticality: crit, age_days: age, kev: kev.then_some(&entry), internet_facing: net, ..Inputs::default() });
            proptest::prop_assert!(p.score <= 100);
            proptest::prop_assert_eq!(p.band, Band::of(p.score));
        }
    }
}
