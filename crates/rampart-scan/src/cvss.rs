//! CVSS vectors: v3.0/v3.1 parsed and scored (base score, with the
//! specification's formulas and its round-up), v4.0 parsed and checked
//! (its score needs the specification's macro-vector tables; reports
//! carry the score, so it is taken from them).

use std::collections::HashMap;

/// A parsed CVSS v3 base vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Cvss3 {
    pub version: &'static str,
    pub attack_vector: char,
    pub attack_complexity: char,
    pub privileges_required: char,
    pub user_interaction: char,
    pub scope_changed: bool,
    pub confidentiality: char,
    pub integrity: char,
    pub availability: char,
}

/// Why a vector was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("CVSS vector: {0}")]
pub struct VectorError(pub String);

const V3_BASE: [(&str, &str); 8] = [
    ("AV", "NALP"),
    ("AC", "LH"),
    ("PR", "NLH"),
    ("UI", "NR"),
    ("S", "UC"),
    ("C", "HLN"),
    ("I", "HLN"),
    ("A", "HLN"),
];

const V4_BASE: [(&str, &str); 11] = [
    ("AV", "NALP"),
    ("AC", "LH"),
    ("AT", "NP"),
    ("PR", "NLH"),
    ("UI", "NPA"),
    ("VC", "HLN"),
    ("VI", "HLN"),
    ("VA", "HLN"),
    ("SC", "HLN"),
    ("SI", "HLN"),
    ("SA", "HLN"),
];

/// Metric name to value, every metric once.
fn metrics<'v>(
    parts: impl Iterator<Item = &'v str>,
) -> Result<HashMap<&'v str, &'v str>, VectorError> {
    let mut map = HashMap::new();
    for part in parts {
        let (name, value) = part
            .split_once(':')
            .ok_or_else(|| VectorError(format!("`{part}` is not METRIC:VALUE")))?;
        if map.insert(name, value).is_some() {
            return Err(VectorError(format!("{name} appears twice")));
        }
    }
    Ok(map)
}

fn base_value(map: &HashMap<&str, &str>, name: &str, allowed: &str) -> Result<char, VectorError> {
    let value = map
        .get(name)
        .ok_or_else(|| VectorError(format!("the base metric {name} is missing")))?;
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if allowed.contains(c) => Ok(c),
        _ => Err(VectorError(format!(
            "{name}:{value} is not a value of {name}"
        ))),
    }
}

impl Cvss3 {
    /// Parses `CVSS:3.1/AV:N/...` (temporal and environmental metrics may
    /// follow and are ignored).
    pub fn parse(vector: &str) -> Result<Self, VectorError> {
        let vector = vector.trim();
        let mut parts = vector.split('/');
        let version = match parts.next() {
            Some("CVSS:3.1") => "3.1",
            Some("CVSS:3.0") => "3.0",
            _ => {
                return Err(VectorError(
                    "expected it to start with CVSS:3.1/ or CVSS:3.0/".into(),
                ))
            }
        };
        let map = metrics(parts)?;
        let get = |i: usize| base_value(&map, V3_BASE[i].0, V3_BASE[i].1);
        Ok(Cvss3 {
            version,
            attack_vector: get(0)?,
            attack_complexity: get(1)?,
            privileges_required: get(2)?,
            user_interaction: get(3)?,
            scope_changed: get(4)? == 'C',
            confidentiality: get(5)?,
            integrity: get(6)?,
            availability: get(7)?,
        })
    }

    /// The base score, 0.0–10.0.
    pub fn base_score(&self) -> f64 {
        let cia = |c: char| match c {
            'H' => 0.56,
            'L' => 0.22,
            _ => 0.0,
        };
        let av = match self.attack_vector {
            'N' => 0.85,
            'A' => 0.62,
            'L' => 0.55,
            _ => 0.2,
        };
        let ac = if self.attack_complexity == 'L' {
            0.77
        } else {
            0.44
        };
        let pr = match (self.privileges_required, self.scope_changed) {
            ('N', _) => 0.85,
            ('L', false) => 0.62,
            ('L', true) => 0.68,
            (_, false) => 0.27,
            (_, true) => 0.5,
        };
        let ui = if self.user_interaction == 'N' {
            0.85
        } else {
            0.62
        };
        let iss: f64 = 1.0
            - (1.0 - cia(self.confidentiality))
                * (1.0 - cia(self.integrity))
                * (1.0 - cia(self.availability));
        let impact = if self.scope_changed {
            7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
        } else {
            6.42 * iss
        };
        let exploitability = 8.22 * av * ac * pr * ui;
        if impact <= 0.0 {
            return 0.0;
        }
        let sum: f64 = if self.scope_changed {
            1.08 * (impact + exploitability)
        } else {
            impact + exploitability
        };
        round_up(sum.min(10.0))
    }

    /// Reachable over the network with no privileges and no user action.
    pub fn is_wormable(&self) -> bool {
        self.attack_vector == 'N' && self.privileges_required == 'N' && self.user_interaction == 'N'
    }
}

/// CVSS v3.1's Roundup: the smallest number of one decimal place not
/// below the input, computed on integers to avoid float surprises.
fn round_up(value: f64) -> f64 {
    let scaled = (value * 100_000.0).round() as i64;
    if scaled % 10_000 == 0 {
        scaled as f64 / 100_000.0
    } else {
        ((scaled / 10_000) + 1) as f64 / 10.0
    }
}

/// A parsed CVSS v4.0 base vector (its metric values, checked).
#[derive(Clone, Debug, PartialEq)]
pub struct Cvss4 {
    pub attack_vector: char,
    pub attack_requirements: char,
    pub privileges_required: char,
    pub user_interaction: char,
}

impl Cvss4 {
    pub fn parse(vector: &str) -> Result<Self, VectorError> {
        let mut parts = vector.trim().split('/');
        if parts.next() != Some("CVSS:4.0") {
            return Err(VectorError("expected it to start with CVSS:4.0/".into()));
        }
        let map = metrics(parts)?;
        let mut values = Vec::with_capacity(V4_BASE.len());
        for (name, allowed) in V4_BASE {
            values.push(base_value(&map, name, allowed)?);
        }
        Ok(Cvss4 {
            attack_vector: values[0],
            attack_requirements: values[2],
            privileges_required: values[3],
            user_interaction: values[4],
        })
    }

    /// Reachable over the network with no privileges and no user action.
    pub fn is_wormable(&self) -> bool {
        self.attack_vector == 'N' && self.privileges_required == 'N' && self.user_interaction == 'N'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores computed by the `cvss` package on PyPI (RedHat's reference
    /// implementation, the one DefectDojo uses).
    const VECTORS: [(&str, f64); 11] = [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        ("CVSS:3.1/AV:A/AC:L/PR:L/UI:N/S:C/C:H/I:L/A:N", 7.6),
        ("CVSS:3.0/AV:N/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:L", 6.6),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:L/A:H", 6.4),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H/E:P/RL:O", 9.9),
    ];

    #[test]
    fn base_scores_match_the_reference() {
        for (vector, score) in VECTORS {
            let parsed = Cvss3::parse(vector).unwrap();
            assert!(
                (parsed.base_score() - score).abs() < 1e-9,
                "{vector}: {}",
                parsed.base_score()
            );
        }
    }

    #[test]
    fn bad_vectors_are_refused() {
        for bad in [
            "",
            "CVSS:2.0/AV:N",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:NN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ] {
            assert!(Cvss3::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn v4_vectors_are_checked() {
        let v = Cvss4::parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
            .unwrap();
        assert!(v.is_wormable());
        assert!(Cvss4::parse("CVSS:4.0/AV:N/AC:L").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errs(text in ".{0,80}") {
            let _ = Cvss3::parse(&text);
            let _ = Cvss4::parse(&text);
        }
    }
}
