//! The published threat-intelligence files: CISA's KEV catalogue (JSON)
//! and FIRST's EPSS scores (CSV, optionally gzip-compressed, as
//! `epss_scores-current.csv.gz` is served). Errors name the line; nothing
//! panics on any input; a compressed file may not expand past a limit.

use std::io::Read as _;

use rampart_core::intel::{EpssScore, KevEntry};
use serde::Deserialize;

/// The largest file accepted, after decompression (the full EPSS file is
/// about 10 MB, the KEV catalogue about 1.5 MB).
pub const MAX_INTEL_BYTES: usize = 128 * 1024 * 1024;

/// Why an intelligence file could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IntelError {
    #[error("the file is larger than {max} bytes (after decompression)")]
    TooLarge { max: usize },
    #[error("the gzip stream is corrupt: {0}")]
    Gzip(String),
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("line {line}: {message}")]
    Row { line: usize, message: String },
    #[error("{0}")]
    Shape(String),
}

impl IntelError {
    /// The line the problem is on, where known.
    pub fn line(&self) -> Option<usize> {
        match self {
            IntelError::Syntax { line, .. } | IntelError::Row { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// A KEV catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct KevCatalog {
    pub version: String,
    pub released: Option<String>,
    pub entries: Vec<KevEntry>,
}

/// An EPSS file.
#[derive(Clone, Debug, PartialEq)]
pub struct EpssFile {
    pub model_version: String,
    pub score_date: Option<String>,
    pub scores: Vec<EpssScore>,
}

/// `CVE-YYYY-NNNN…` in upper case, or `None` when `text` is not a CVE id.
pub fn cve_id(text: &str) -> Option<String> {
    let text = text.trim();
    text.get(..4).filter(|p| p.eq_ignore_ascii_case("CVE-"))?;
    let (year, number) = text[4..].split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (year.len() == 4 && digits(year) && number.len() >= 4 && number.len() <= 12 && digits(number))
        .then(|| text.to_ascii_uppercase())
}

/// The file's bytes, decompressed when they are gzip.
pub fn decompress(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, IntelError> {
    if bytes.len() > MAX_INTEL_BYTES {
        return Err(IntelError::TooLarge {
            max: MAX_INTEL_BYTES,
        });
    }
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(MAX_INTEL_BYTES));
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_INTEL_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| IntelError::Gzip(e.to_string()))?;
    if out.len() > MAX_INTEL_BYTES {
        return Err(IntelError::TooLarge {
            max: MAX_INTEL_BYTES,
        });
    }
    Ok(std::borrow::Cow::Owned(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    catalog_version: Option<String>,
    date_released: Option<String>,
    vulnerabilities: Vec<RawKev>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKev {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    vulnerability_name: String,
    #[serde(default)]
    date_added: String,
    due_date: Option<String>,
    known_ransomware_campaign_use: Option<String>,
}

/// Reads `known_exploited_vulnerabilities.json` (plain or gzip).
pub fn parse_kev(bytes: &[u8]) -> Result<KevCatalog, IntelError> {
    let bytes = decompress(bytes)?;
    let raw: RawCatalog = serde_json::from_slice(&bytes).map_err(|e| IntelError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .trim_end_matches(&format!(" at line {} column {}", e.line(), e.column()))
            .to_owned(),
    })?;
    let mut entries = Vec::with_capacity(raw.vulnerabilities.len());
    for (index, entry) in raw.vulnerabilities.into_iter().enumerate() {
        let cve = cve_id(&entry.cve_id).ok_or_else(|| {
            IntelError::Shape(format!(
                "vulnerabilities[{index}].cveID is not a CVE id: {:?}",
                entry.cve_id.chars().take(40).collect::<String>()
            ))
        })?;
        entries.push(KevEntry {
            cve,
            vendor: entry.vendor_project,
            product: entry.product,
            name: entry.vulnerability_name,
            date_added: entry.date_added,
            due_date: entry.due_date.filter(|d| !d.is_empty()),
            ransomware: entry
                .known_ransomware_campaign_use
                .is_some_and(|u| u.eq_ignore_ascii_case("known")),
        });
    }
    let version = raw
        .catalog_version
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| IntelError::Shape("the catalogue has no catalogVersion".into()))?;
    Ok(KevCatalog {
        version,
        released: raw.date_released,
        entries,
    })
}

/// A probability or percentile: a number from 0 to 1.
fn unit_interval(text: &str, what: &str, line: usize) -> Result<f64, IntelError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| (0.0..=1.0).contains(v))
        .ok_or_else(|| IntelError::Row {
            line,
            message: format!(
                "{what} must be a number from 0 to 1, not {:?}",
                text.chars().take(20).collect::<String>()
            ),
        })
}

/// Reads an EPSS scores file (`#model_version:…,score_date:…`, then
/// `cve,epss,percentile` and one row per CVE; plain or gzip).
pub fn parse_epss(bytes: &[u8]) -> Result<EpssFile, IntelError> {
    let bytes = decompress(bytes)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        IntelError::Row {
            line: before.iter().filter(|b| **b == b'\n').count() + 1,
            message: "not UTF-8 text".into(),
        }
    })?;
    let mut model_version = None;
    let mut score_date = None;
    let mut header_seen = false;
    let mut has_percentile = false;
    let mut scores = Vec::with_capacity(text.len() / 32);
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            for item in comment.split(',') {
                if let Some((key, value)) = item.split_once(':') {
                    match key.trim() {
                        "model_version" => model_version = Some(value.trim().to_owned()),
                        "score_date" => score_date = Some(value.trim().to_owned()),
                        _ => {}
                    }
                }
            }
            continue;
        }
        if !header_seen {
            let columns: Vec<String> = line.split(',').map(|c| c.trim().to_lowercase()).collect();
            if columns.first().map(String::as_str) != Some("cve")
                || columns.get(1).map(String::as_str) != Some("epss")
            {
                return Err(IntelError::Row {
                    line: number,
                    message: "expected the header cve,epss,percentile".into(),
                });
            }
            has_percentile = columns.get(2).map(String::as_str) == Some("percentile");
            header_seen = true;
            continue;
        }
        let mut fields = line.split(',');
        let (Some(cve), Some(epss)) = (fields.next(), fields.next()) else {
            return Err(IntelError::Row {
                line: number,
                message: "expected cve,epss,percentile".into(),
            });
        };
        let cve = cve_id(cve).ok_or_else(|| IntelError::Row {
            line: number,
            message: format!(
                "not a CVE id: {:?}",
                cve.chars().take(40).collect::<String>()
            ),
        })?;
        let epss = unit_interval(epss, "epss", number)?;
        let percentile = match (has_percentile, fields.next()) {
            (true, Some(p)) => unit_interval(p, "percentile", number)?,
            (true, None) => {
                return Err(IntelError::Row {
                    line: number,
                    message: "the percentile is missing".into(),
                })
            }
            (false, _) => 0.0,
        };
        scores.push(EpssScore {
            cve,
            epss,
            percentile,
        });
    }
    if !header_seen {
        return Err(IntelError::Shape(
            "no header cve,epss,percentile: not an EPSS file".into(),
        ));
    }
    Ok(EpssFile {
        model_version: model_version.unwrap_or_else(|| "unknown".into()),
        score_date,
        scores,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids_are_checked_and_upper_cased() {
        assert_eq!(cve_id(" cve-2021-44228"), Some("CVE-2021-44228".into()));
        assert_eq!(cve_id("CVE-2024-1234567"), Some("CVE-2024-1234567".into()));
        assert_eq!(cve_id("CVE-21-44228"), None);
        assert_eq!(cve_id("CVE-2021-442"), None);
        assert_eq!(cve_id("GHSA-xxxx-yyyy-zzzz"), None);
        assert_eq!(cve_id("CVE-2021-44228x"), None);
        assert_eq!(cve_id("ĈVE-2021-44228"), None);
    }

    #[test]
    fn epss_rows_with_their_header_and_metadata() {
        let file = parse_epss(
            b"#model_version:v2025.03.14,score_date:2026-09-10T00:00:00+0000\r\n\
              cve,epss,percentile\r\nCVE-2021-44228,0.94358,0.99961\r\ncve-2019-0708,0.9,0.99\r\n",
        )
        .unwrap();
        assert_eq!(file.model_version, "v2025.03.14");
        assert_eq!(file.score_date.as_deref(), Some("2026-09-10T00:00:00+0000"));
        assert_eq!(file.scores.len(), 2);
        assert_eq!(file.scores[1].cve, "CVE-2019-0708");
        assert!((file.scores[0].epss - 0.94358).abs() < 1e-9);
    }

    #[test]
    fn epss_errors_name_the_line() {
        let bad = parse_epss(b"cve,epss,percentile\nCVE-2021-44228,1.5,0.9\n").unwrap_err();
        assert_eq!(bad.line(), Some(2));
        let bad =
            parse_epss(b"cve,epss,percentile\nCVE-2021-44228,0.5,0.9\nnope,0.1,0.1\n").unwrap_err();
        assert_eq!(bad.line(), Some(3));
        assert!(matches!(
            parse_epss(b"a,b\n1,2\n"),
            Err(IntelError::Row { line: 1, .. })
        ));
        assert!(matches!(parse_epss(b""), Err(IntelError::Shape(_))));
        assert!(matches!(
            parse_epss(&[0x1f, 0x8b, 0, 1, 2]),
            Err(IntelError::Gzip(_))
        ));
    }

    #[test]
    fn kev_errors_name_the_position() {
        let bad =
            parse_kev(b"{\"catalogVersion\": \"1\",\n \"vulnerabilities\": [ {\"cveID\": 3} ]}")
                .unwrap_err();
        assert_eq!(bad.line(), Some(2));
        assert!(matches!(
            parse_kev(br#"{"catalogVersion":"1","vulnerabilities":[{"cveID":"x"}]}"#),
            Err(IntelError::Shape(_))
        ));
    }
}
