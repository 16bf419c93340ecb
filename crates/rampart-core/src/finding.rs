//! Vulnerability findings: their severities and lifecycle states, the
//! assets they are about, and a finding as a scanner report yields it
//! (before it is stored, de-duplicated and prioritised).

use serde::{Deserialize, Serialize};

/// How bad a scanner says a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum FindingSeverity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl FindingSeverity {
    pub const ALL: [FindingSeverity; 5] = [
        FindingSeverity::Info,
        FindingSeverity::Low,
        FindingSeverity::Medium,
        FindingSeverity::High,
        FindingSeverity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingSeverity::Info => "info",
            FindingSeverity::Low => "low",
            FindingSeverity::Medium => "medium",
            FindingSeverity::High => "high",
            FindingSeverity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The qualitative rating of a CVSS score (v3 and v4 share it).
    pub fn from_cvss(score: f64) -> Self {
        match score {
            s if s >= 9.0 => FindingSeverity::Critical,
            s if s >= 7.0 => FindingSeverity::High,
            s if s >= 4.0 => FindingSeverity::Medium,
            s if s > 0.0 => FindingSeverity::Low,
            _ => FindingSeverity::Info,
        }
    }
}

/// Where a finding stands. `Open` and `Reopened` need work; `Mitigated`
/// was missing from a later full report; the last two are decisions that
/// survive re-imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Open,
    Reopened,
    Mitigated,
    FalsePositive,
    RiskAccepted,
}

impl FindingStatus {
    pub const ALL: [FindingStatus; 5] = [
        FindingStatus::Open,
        FindingStatus::Reopened,
        FindingStatus::Mitigated,
        FindingStatus::FalsePositive,
        FindingStatus::RiskAccepted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Reopened => "reopened",
            FindingStatus::Mitigated => "mitigated",
            FindingStatus::FalsePositive => "false_positive",
            FindingStatus::RiskAccepted => "risk_accepted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Still to be fixed.
    pub fn is_active(self) -> bool {
        matches!(self, FindingStatus::Open | FindingStatus::Reopened)
    }

    /// An analyst's decision, kept whatever later reports say.
    pub fn is_decision(self) -> bool {
        matches!(
            self,
            FindingStatus::FalsePositive | FindingStatus::RiskAccepted
        )
    }
}

/// How sure the scanner is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "low" | "tentative" | "firm-low" => Some(Confidence::Low),
            "medium" | "firm" => Some(Confidence::Medium),
            "high" | "certain" | "confirmed" => Some(Confidence::High),
            _ => None,
        }
    }
}

/// One finding as a report states it. `fingerprint` is its stable
/// identity (versioned, from rule, CVE, component and location, never from
/// volatile text); the rest is what the report says this time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParsedFinding {
    pub fingerprint: String,
    pub title: String,
    pub severity: Option<FindingSeverity>,
    /// The scanner's rule, plugin, template or check.
    pub rule_id: Option<String>,
    /// CVE and other advisory identifiers, spelled as published.
    pub vulnerability_ids: Vec<String>,
    pub cwes: Vec<u32>,
    pub component: Option<String>,
    pub component_version: Option<String>,
    pub fixed_version: Option<String>,
    pub file_path: Option<String>,
    pub line: Option<u32>,
    /// URLs, `host:port` or hosts where it was seen.
    pub endpoints: Vec<String>,
    pub description: String,
    pub mitigation: Option<String>,
    pub references: Vec<String>,
    pub cvss_v3_vector: Option<String>,
    pub cvss_v4_vector: Option<String>,
    /// The score the report gives (when it has no vector, or besides it).
    pub cvss_score: Option<f64>,
    /// An EPSS probability the report carries (Grype does).
    pub epss: Option<f64>,
    pub confidence: Option<Confidence>,
    /// The tool marked it suppressed (SARIF): imported as a false positive.
    pub suppressed: bool,
    /// How many report entries were grouped into this finding.
    pub occurrences: u32,
}

impl ParsedFinding {
    /// The severity used when the report gives none.
    pub fn severity_or_default(&self) -> FindingSeverity {
        self.severity.unwrap_or(FindingSeverity::Info)
    }
}

/// What an asset is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    Host,
    WebApplication,
    Repository,
    ContainerImage,
}

impl AssetKind {
    pub const ALL: [AssetKind; 4] = [
        AssetKind::Host,
        AssetKind::WebApplication,
        AssetKind::Repository,
        AssetKind::ContainerImage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Host => "host",
            AssetKind::WebApplication => "web_application",
            AssetKind::Repository => "repository",
            AssetKind::ContainerImage => "container_image",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Who can reach an asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Exposure {
    Internet,
    Internal,
}

impl Exposure {
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Internet => "internet",
            Exposure::Internal => "internal",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "internet" => Some(Exposure::Internet),
            "internal" => Some(Exposure::Internal),
            _ => None,
        }
    }
}

/// An asset of an organisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Asset {
    pub id: crate::AssetId,
    pub org_id: crate::OrgId,
    pub name: String,
    pub kind: AssetKind,
    /// Addresses, host names, URLs, repository or image references.
    pub identifiers: Vec<String>,
    /// 1 (minor) to 5 (crown jewels).
    pub criticality: u8,
    pub exposure: Exposure,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub created_at: crate::Timestamp,
    pub updated_at: crate::Timestamp,
}

/// What an import did, finding by finding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportCounts {
    /// Findings in the report (after its own grouping).
    pub findings: u64,
    /// Not seen before on this asset and scan type.
    pub new: u64,
    /// Seen before and still there (decisions such as false positive kept).
    pub unchanged: u64,
    /// Closed before and back.
    pub reopened: u64,
    /// Open before and missing from this full report: mitigated.
    pub closed: u64,
}

/// A priority band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Band {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Band {
    pub const ALL: [Band; 5] = [
        Band::Info,
        Band::Low,
        Band::Medium,
        Band::High,
        Band::Critical,
    ];

    /// The band of a 0–100 score.
    pub fn of(score: u8) -> Band {
        match score {
            85.. => Band::Critical,
            65..=84 => Band::High,
            40..=64 => Band::Medium,
            15..=39 => Band::Low,
            _ => Band::Info,
        }
    }

    /// The lowest score of the band (`Band::of(b.lowest_score()) == b`).
    pub fn lowest_score(self) -> u8 {
        match self {
            Band::Critical => 85,
            Band::High => 65,
            Band::Medium => 40,
            Band::Low => 15,
            Band::Info => 0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Info => "info",
            Band::Low => "low",
            Band::Medium => "medium",
            Band::High => "high",
            Band::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == text)
    }
}

/// One reason of a priority: points added or a factor applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contribution {
    /// `+25` or `×1.2`.
    pub effect: String,
    pub reason: String,
}

/// A finding's priority, 0–100, with its reasons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Priority {
    pub score: u8,
    pub band: Band,
    pub contributions: Vec<Contribution>,
}

/// A finding as stored: what the latest report said, where it stands and
/// how urgent it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub id: crate::FindingId,
    pub org_id: crate::OrgId,
    pub asset_id: crate::AssetId,
    /// Reports of one scan type replace each other's findings.
    pub scan_type: String,
    pub status: FindingStatus,
    pub severity: FindingSeverity,
    pub priority: Priority,
    /// Why the status was set (false positive, accepted risk).
    pub status_reason: Option<String>,
    /// An accepted risk is due for review then.
    pub risk_accepted_until: Option<crate::Timestamp>,
    pub first_seen: crate::Timestamp,
    pub last_seen: crate::Timestamp,
    pub closed_at: Option<crate::Timestamp>,
    pub updated_at: crate::Timestamp,
    /// When it must be fixed by, from its severity's deadline in the
    /// organisation's policy (none for severities without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<crate::Timestamp>,
    /// What the latest report said.
    pub report: ParsedFinding,
}

/// A logged import.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportRecord {
    pub id: crate::ImportId,
    pub asset_id: crate::AssetId,
    pub scan_type: String,
    pub format: String,
    pub tool: String,
    pub file_name: Option<String>,
    pub actor: String,
    pub counts: ImportCounts,
    pub created_at: crate::Timestamp,
}

/// The job that imports an uploaded report.
pub const IMPORT_JOB: &str = "findings.import";

/// Where an uploaded report's import stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    Queued,
    Running,
    Done,
    Failed,
}

impl UploadState {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Queued => "queued",
            UploadState::Running => "running",
            UploadState::Done => "done",
            UploadState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            UploadState::Queued,
            UploadState::Running,
            UploadState::Done,
            UploadState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A report uploaded to be imported by a job (large reports, or when the
/// client asks): the import's parameters, and its reply or error once done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportUpload {
    pub id: crate::UploadId,
    pub org_id: crate::OrgId,
    /// Who the import's audit entry names.
    pub actor: String,
    /// The import's parameters, as the service takes them.
    pub request: serde_json::Value,
    /// The report's size in bytes.
    pub size: u64,
    pub state: UploadState,
    /// The import's reply, once done.
    pub result: Option<serde_json::Value>,
    /// Why it failed (a report that cannot be read names its line).
    pub error: Option<String>,
    pub created_at: crate::Timestamp,
    pub finished_at: Option<crate::Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::Band;

    #[test]
    fn each_band_starts_at_its_lowest_score() {
        for band in Band::ALL {
            assert_eq!(Band::of(band.lowest_score()), band);
            if band.lowest_score() > 0 {
                assert!(Band::of(band.lowest_score() - 1) < band);
            }
        }
    }
}

/// A phrase that signals exploitability, and its points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Phrase {
    pub phrase: String,
    pub points: f64,
}

/// Days a finding of each severity may stay open; `None`: no deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SlaDays {
    pub critical: Option<u32>,
    pub high: Option<u32>,
    pub medium: Option<u32>,
    pub low: Option<u32>,
    pub info: Option<u32>,
}

impl Default for SlaDays {
    fn default() -> Self {
        SlaDays {
            critical: Some(7),
            high: Some(30),
            medium: Some(90),
            low: Some(180),
            info: None,
        }
    }
}

impl SlaDays {
    pub fn of(&self, severity: FindingSeverity) -> Option<u32> {
        match severity {
            FindingSeverity::Critical => self.critical,
            FindingSeverity::High => self.high,
            FindingSeverity::Medium => self.medium,
            FindingSeverity::Low => self.low,
            FindingSeverity::Info => self.info,
        }
    }
}

/// An organisation's rules for findings: deadlines per severity, how long
/// before an accepted risk's review date to warn, and the phrases that
/// raise priorities (the built-in list when `None`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FindingPolicy {
    pub sla_days: SlaDays,
    pub expiry_warning_days: u32,
    pub phrases: Option<Vec<Phrase>>,
}

impl Default for FindingPolicy {
    fn default() -> Self {
        FindingPolicy {
            sla_days: SlaDays::default(),
            expiry_warning_days: 7,
            phrases: None,
        }
    }
}

impl FindingPolicy {
    /// When a finding first seen at `first_seen` with `severity` is due.
    pub fn due_at(
        &self,
        severity: FindingSeverity,
        first_seen: crate::Timestamp,
    ) -> Option<crate::Timestamp> {
        self.sla_days
            .of(severity)
            .map(|days| crate::Timestamp(first_seen.0.saturating_add(i64::from(days) * 86_400_000)))
    }
}
