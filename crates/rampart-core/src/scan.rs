//! Rampart's own scans of authorised targets: the organisation's scope
//! (what may be scanned), the kinds of scan, and a scan's record with its
//! progress and outcome.

use serde::{Deserialize, Serialize};

use crate::finding::ImportCounts;

/// The job queue scans run on.
pub const QUEUE: &str = "scans";

/// One thing an organisation may scan: a network (`10.0.0.0/24`, an
/// address), a host name (`shop.example.com`, `*.example.com` for its
/// subdomains) or a URL prefix (`https://shop.example.com/app/`),
/// optionally limited to some ports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopeEntry {
    pub id: crate::ScopeEntryId,
    pub org_id: crate::OrgId,
    pub target: String,
    /// Empty: any port.
    pub ports: Vec<u16>,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: crate::Timestamp,
}

/// What a scan looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ScanKind {
    /// Response headers, cookies, scripts and disclosures, graded as the
    /// HTTP Observatory grades them (passive: one page and its HTTP form).
    WebBaseline,
    /// Well-known files that must never be public, confirmed by content.
    ExposedFiles,
    /// A TCP connect scan of a port list.
    Ports,
    /// Protocol versions offered and the certificate (validity, expiry,
    /// host name, self-signed, key size).
    Tls,
}

impl ScanKind {
    pub const ALL: [ScanKind; 4] = [
        ScanKind::WebBaseline,
        ScanKind::ExposedFiles,
        ScanKind::Ports,
        ScanKind::Tls,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScanKind::WebBaseline => "web-baseline",
            ScanKind::ExposedFiles => "exposed-files",
            ScanKind::Ports => "ports",
            ScanKind::Tls => "tls",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Where a scan is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ScanStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Queued => "queued",
            ScanStatus::Running => "running",
            ScanStatus::Completed => "completed",
            ScanStatus::Failed => "failed",
            ScanStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ScanStatus::Queued,
            ScanStatus::Running,
            ScanStatus::Completed,
            ScanStatus::Failed,
            ScanStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            ScanStatus::Completed | ScanStatus::Failed | ScanStatus::Cancelled
        )
    }
}

/// One scan: what was asked, how far it is, and what it found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scan {
    pub id: crate::ScanId,
    pub org_id: crate::OrgId,
    /// The asset its findings belong to.
    pub asset_id: crate::AssetId,
    pub kind: ScanKind,
    /// URLs (web scans) or hosts (port scans).
    pub targets: Vec<String>,
    /// Ports of a port scan.
    pub ports: Vec<u16>,
    pub status: ScanStatus,
    /// 0–100.
    pub progress: u8,
    pub checks_done: u64,
    pub checks_total: u64,
    /// Set when someone asked to stop it; the runner stops at its next check.
    pub cancel_requested: bool,
    /// What importing its findings did, once completed.
    pub counts: Option<ImportCounts>,
    /// Per-target outcomes (grades, refusals, errors) as the scan reports them.
    pub summary: serde_json::Value,
    pub error: Option<String>,
    pub requested_by: String,
    pub created_at: crate::Timestamp,
    pub started_at: Option<crate::Timestamp>,
    pub finished_at: Option<crate::Timestamp>,
}

impl Scan {
    /// How serious its notice is, on the 1–5 scale of notification rules:
    /// its worst finding's severity (info 1 … critical 5).
    pub fn notice_severity(&self) -> u8 {
        self.summary
            .get("max_severity")
            .and_then(serde_json::Value::as_u64)
            .and_then(|s| u8::try_from(s).ok())
            .unwrap_or(1)
    }
}

/// A scan to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    pub kind: ScanKind,
    /// URLs for web scans (`https://shop.example.com/`), host names or
    /// addresses for port scans, `host[:port]` for TLS scans.
    pub targets: Vec<String>,
    /// Ports of a port scan, e.g. `22,80,443,8000-8100` (default: Nmap's
    /// top 100).
    #[serde(default)]
    pub ports: Option<String>,
    /// The asset its findings belong to (created when missing; default:
    /// the first target's host).
    #[serde(default)]
    pub asset: Option<String>,
}

/// A scan that runs on a schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanSchedule {
    pub id: crate::ScanScheduleId,
    pub org_id: crate::OrgId,
    pub name: String,
    pub request: ScanRequest,
    /// Five fields, UTC.
    pub cron: String,
    pub enabled: bool,
    pub next_run_at: crate::Timestamp,
    pub last_run_at: Option<crate::Timestamp>,
    pub last_scan_id: Option<crate::ScanId>,
    /// Why the last run did not start (a target left the scope, …).
    pub last_error: Option<String>,
    pub created_by: String,
    pub created_at: crate::Timestamp,
}
