//! Scanner report formats: which one a file is, and its findings. Each
//! format groups entries into findings as DefectDojo's parser for it does
//! (so counts match when teams migrate); the module of each format says
//! how. Errors name the line and column; nothing panics on any input.

mod bandit;
mod burp;
mod checkov;
mod dependency_check;
mod gitleaks;
mod grype;
mod html_text;
mod json;
mod nessus;
mod nmap;
mod nuclei;
mod openvas;
mod sarif;
mod semgrep;
mod trivy;
mod xml;
mod zap;

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
    Zap,
    Burp,
    Openvas,
    Nessus,
    DependencyCheck,
}

impl Format {
    pub const ALL: [Format; 14] = [
        Format::Sarif,
        Format::Nuclei,
        Format::Trivy,
        Format::Grype,
        Format::Semgrep,
        Format::Gitleaks,
        Format::Bandit,
        Format::Checkov,
        Format::Nmap,
        Format::Zap,
        Format::Burp,
        Format::Openvas,
        Format::Nessus,
        Format::DependencyCheck,
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
            Format::Zap => "zap",
            Format::Burp => "burp",
            Format::Openvas => "openvas",
            Format::Nessus => "nessus",
            Format::DependencyCheck => "dependency-check",
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
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'<') {
        let format = match format {
            Some(format) => format,
            None => detect_xml(bytes).ok_or(ParseError::UnknownFormat)?,
        };
        return match format {
            Format::Nmap => nmap::parse(bytes),
            Format::Zap => zap::parse_xml(bytes),
            Format::Burp => burp::parse(bytes),
            Format::Openvas => openvas::parse(bytes),
            Format::Nessus => nessus::parse(bytes),
            Format::DependencyCheck => dependency_check::parse_xml(bytes),
            other => Err(ParseError::shape(
                other,
                "this format is JSON, and the report is XML",
            )),
        };
    }
    if format == Some(Format::Nuclei)
        || (format.is_none() && detect_jsonl(bytes) == Some(Format::Nuclei))
    {
        return nuclei::parse(bytes);
    }
    if let Some(format @ (Format::Nmap | Format::Burp | Format::Openvas | Format::Nessus)) = format
    {
        return Err(ParseError::shape(
            format,
            "this format is XML, and the report is not",
        ));
    }
    // Neither JSON nor XML: no format of ours.
    if format.is_none() && !matches!(first, Some(b'{' | b'[')) {
        return Err(ParseError::UnknownFormat);
    }
    // One parse: the document is read, then recognised.
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ParseError::syntax(format.map_or("JSON", Format::as_str), &e))?;
    let format = match format {
        Some(format) => format,
        None => detect_value(&value).ok_or(ParseError::UnknownFormat)?,
    };
    match format {
        Format::Sarif => sarif::parse(&value),
        Format::Trivy => trivy::parse(&value),
        Format::Grype => grype::parse(&value),
        Format::Semgrep => semgrep::parse(&value),
        Format::Gitleaks => gitleaks::parse(&value),
        Format::Bandit => bandit::parse(&value),
        Format::Checkov => checkov::parse(&value),
        Format::Zap => zap::parse_json(&value),
        Format::DependencyCheck => dependency_check::parse_json(&value),
        Format::Nuclei => nuclei::parse(bytes),
        Format::Nmap | Format::Burp | Format::Openvas | Format::Nessus => {
            Err(ParseError::shape(format, "this format is XML"))
        }
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

/// An XML report, from its root element (within the first 64 KiB).
fn detect_xml(bytes: &[u8]) -> Option<Format> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let root = root_element(&head)?;
    match root {
        "nmaprun" => Some(Format::Nmap),
        "OWASPZAPReport" => Some(Format::Zap),
        "issues" if head.contains("<issue>") || head.contains("burpVersion") => Some(Format::Burp),
        "NessusClientData_v2" => Some(Format::Nessus),
        "analysis" if head.contains("dependency-check") => Some(Format::DependencyCheck),
        "report" if head.contains("<results") || head.contains("<nvt") => Some(Format::Openvas),
        _ => None,
    }
}

/// The name of the first element, past the prolog, comments and DOCTYPE
/// (with its internal subset).
fn root_element(head: &str) -> Option<&str> {
    let mut rest = head.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            rest = &after[after.find("?>")? + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if let Some(after) = rest.strip_prefix("<!") {
            // A DOCTYPE: its internal subset ends with `]>`.
            let end = match (after.find('['), after.find('>')) {
                (Some(open), Some(close)) if open < close => after.find("]>")? + 2,
                (_, Some(close)) => close + 1,
                _ => return None,
            };
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = after.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
            let name = &after[..end];
            return Some(name.rsplit_once(':').map_or(name, |(_, local)| local));
        } else {
            return None;
        }
        rest = rest.trim_start();
    }
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
            if zap::looks_like(value) {
                return Some(Format::Zap);
            }
            if dependency_check::looks_like(value) {
                return Some(Format::DependencyCheck);
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
