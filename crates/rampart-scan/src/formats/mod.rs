//! Scanner report formats: which one a file is, and its findings. Each
//! format groups entries into findings as DefectDojo's parser for it does
//! (so counts match when teams migrate); the module of each format says
//! how. Errors name the line and column; nothing panics on any input.

mod bandit;
mod checkov;
mod gitleaks;
mod grype;
mod json;
mod nmap;
mod nuclei;
mod sarif;
mod semgrep;
mod trivy;
mod xml;

pub use json::canonical_advisory_id;
use rampart_core::finding::ParsedFinding;
use serde::Serialize;
use serde_json::Value;

/// The largest report accepted (bytes).
pub const MAX_REPORT_BYTES: usize = 256 * 1024 * 1024;

/// A report format Rampart reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Sarif,
    Nuclei,
    Trivy,
    Grype,
    Semgrep,
    Gitleaks,
    Bandit,
    Checkov,
    Nmap,
}

impl Format {
    pub const ALL: [Format; 9] = [
        Format::Sarif,
        Format::Nuclei,
        Format::Trivy,
        Format::Grype,
        Format::Semgrep,
        Format::Gitleaks,
        Format::Bandit,
        Format::Checkov,
        Format::Nmap,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Sarif => "sarif",
            Format::Nuclei => "nuclei",
            Format::Trivy => "trivy",
            Format::Grype => "grype",
            Format::Semgrep => "semgrep",
            Format::Gitleaks => "gitleaks",
            Format::Bandit => "bandit",
            Format::Checkov => "checkov",
            Format::Nmap => "nmap",
        }
    }

    pub fn parse_name(name: &str) -> Option<Format> {
        let name = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The names accepted, for error messages and documentation.
    pub fn names() -> String {
        Self::ALL.map(Format::as_str).join(", ")
    }
}

/// A parsed report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The scanner that wrote it (from the report where it says).
    pub tool: String,
    pub format: Format,
    pub findings: Vec<ParsedFinding>,
}

/// Why a report could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("the report is {size} bytes; at most {max} are accepted")]
    TooLarge { size: usize, max: usize },
    #[error(
        "cannot tell the report's format; name it (one of: {})",
        Format::names()
    )]
    UnknownFormat,
    #[error("{format} report, line {line}, column {column}: {message}")]
    Syntax {
        format: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{format} report: {message}")]
    Shape {
        format: &'static str,
        message: String,
    },
}

impl ParseError {
    /// The line the problem is on, where known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::Syntax { line, .. } => Some(*line),
            _ => None,
        }
    }

    fn shape(format: Format, message: impl Into<String>) -> Self {
        ParseError::Shape {
            format: format.as_str(),
            message: message.into(),
        }
    }

    fn syntax(format: &'static str, error: &serde_json::Error) -> Self {
        ParseError::Syntax {
            format,
            line: error.line(),
            column: error.column(),
            // serde's text ends with the position, which the error says already.
            message: error
                .to_string()
                .trim_end_matches(&format!(
                    " at line {} column {}",
                    error.line(),
                    error.column()
                ))
                .to_owned(),
        }
    }
}

/// Parses a report of the given format, or of the format it looks like.
pub fn parse(bytes: &[u8], format: Option<Format>) -> Result<Report, ParseError> {
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(ParseError::TooLarge {
            size: bytes.len(),
            max: MAX_REPORT_BYTES,
        });
    }
    let bytes = strip_bom(bytes);
    let (format, value) = match format {
        Some(Format::Nuclei) => return nuclei::parse(bytes),
        Some(Format::Nmap) => return nmap::parse(bytes),
        Some(format) => (
            format,
            serde_json::from_slice(bytes).map_err(|e| ParseError::syntax(format.as_str(), &e))?,
        ),
        None => {
            if detect_jsonl(bytes) == Some(Format::Nuclei) {
                return nuclei::parse(bytes);
            }
            if detect_xml(bytes) == Some(Format::Nmap) {
                return nmap::parse(bytes);
            }
            // Not JSON at all (an XML report, say): no format of ours.
            if !matches!(
                bytes.iter().find(|b| !b.is_ascii_whitespace()),
                Some(b'{' | b'[')
            ) {
                return Err(ParseError::UnknownFormat);
            }
            // One parse: the document is read, then recognised.
            let value: Value =
                serde_json::from_slice(bytes).map_err(|e| ParseError::syntax("JSON", &e))?;
            (
                detect_value(&value).ok_or(ParseError::UnknownFormat)?,
                value,
            )
        }
    };
    match format {
        Format::Sarif => sarif::parse(&value),
        Format::Trivy => trivy::parse(&value),
        Format::Grype => grype::parse(&value),
        Format::Semgrep => semgrep::parse(&value),
        Format::Gitleaks => gitleaks::parse(&value),
        Format::Bandit => bandit::parse(&value),
        Format::Checkov => checkov::parse(&value),
        Format::Nuclei => nuclei::parse(bytes),
        Format::Nmap => nmap::parse(bytes),
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The format a report looks like, from its first bytes and top-level
/// keys.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let bytes = strip_bom(bytes);
    if let Some(format) = detect_jsonl(bytes).or_else(|| detect_xml(bytes)) {
        return Some(format);
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    detect_value(&value)
}

/// An XML report, from its root element's name (within the first 64 KiB).
fn detect_xml(bytes: &[u8]) -> Option<Format> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    if !head.trim_start().starts_with('<') {
        return None;
    }
    head.contains("<nmaprun").then_some(Format::Nmap)
}

/// Nuclei's JSONL (one finding object per line), from the first line.
fn detect_jsonl(bytes: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(1 << 20)]);
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        return None;
    }
    let first = trimmed.lines().next()?;
    match serde_json::from_str::<Value>(first) {
        Ok(Value::Object(line)) if nuclei::looks_like(&line) => Some(Format::Nuclei),
        _ => None,
    }
}

fn detect_value(value: &Value) -> Option<Format> {
    match value {
        Value::Object(object) => {
            if object.contains_key("runs")
                && (object.contains_key("$schema") || object.contains_key("version"))
            {
                return Some(Format::Sarif);
            }
            if object.contains_key("SchemaVersion") || object.contains_key("ClusterName") {
                return Some(Format::Trivy);
            }
            if object.contains_key("matches")
                && (object.contains_key("descriptor") || object.contains_key("source"))
            {
                return Some(Format::Grype);
            }
            if object.contains_key("generated_at") && object.contains_key("metrics") {
                return Some(Format::Bandit);
            }
            if object.contains_key("check_type")
                || object
                    .get("results")
                    .is_some_and(|r| r.get("failed_checks").is_some())
            {
                return Some(Format::Checkov);
            }
            let semgrep_result = object
                .get("results")
                .and_then(Value::as_array)
                .is_some_and(|r| r.first().is_none_or(|i| i.get("check_id").is_some()));
            if (semgrep_result && (object.contains_key("errors") || object.contains_key("paths")))
                || object.contains_key("vulns")
            {
                return Some(Format::Semgrep);
            }
            if nuclei::looks_like(object) {
                return Some(Format::Nuclei);
            }
            None
        }
        Value::Array(items) => {
            let first = items.first()?.as_object()?;
            if gitleaks::looks_like(first) {
                Some(Format::Gitleaks)
            } else if first.contains_key("check_type") {
                Some(Format::Checkov)
            } else if nuclei::looks_like(first) {
                Some(Format::Nuclei)
            } else if first.contains_key("Target") {
                Some(Format::Trivy)
            } else {
                None
            }
        }
        _ => None,
    }
}
