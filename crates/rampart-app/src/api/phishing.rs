//! Phishing reports: messages sent in, their analyses, the organisation's
//! phishing settings.

use rampart_core::phishing::{PhishSource, PhishStatus, PhishingMessage};
use rampart_core::{IncidentId, PhishingMessageId, Timestamp};
use serde::{Deserialize, Serialize};

/// A message sent in, as lists show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhishingMessageView {
    pub id: PhishingMessageId,
    pub source: PhishSource,
    /// Who sent it in.
    pub reporter: String,
    pub sha256: String,
    pub size: u64,
    pub status: PhishStatus,
    /// The From address.
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// 0–100, once analysed.
    pub score: Option<u32>,
    /// `clean`, `suspicious`, `phishing` or `simulation`.
    pub verdict: Option<String>,
    /// Why the message could not be analysed.
    pub error: Option<String>,
    /// The incident the verdict opened or joined.
    pub incident_id: Option<IncidentId>,
    pub received_at: Timestamp,
    pub analysed_at: Option<Timestamp>,
}

impl From<PhishingMessage> for PhishingMessageView {
    fn from(m: PhishingMessage) -> Self {
        PhishingMessageView {
            id: m.id,
            source: m.source,
            reporter: m.reporter,
            sha256: m.sha256,
            size: m.size,
            status: m.status,
            sender: m.sender,
            subject: m.subject,
            score: m.score,
            verdict: m.verdict,
            error: m.error,
            incident_id: m.incident_id,
            received_at: m.received_at,
            analysed_at: m.analysed_at,
        }
    }
}

/// A message with its whole analysis.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhishingReport {
    #[serde(flatten)]
    pub message: PhishingMessageView,
    /// `{"score", "verdict", "reasons": [{"code", "weight", "evidence"}],
    /// "iocs": {...}, "summary": {...}}`, once analysed. The summary holds
    /// the message's text and links as text, never its HTML.
    #[schema(value_type = Option<Object>)]
    pub analysis: Option<serde_json::Value>,
}

/// What sending a message in did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhishingSubmitted {
    pub id: PhishingMessageId,
    pub status: PhishStatus,
    /// The organisation had sent this very message in before: this is
    /// that one, analysed once.
    pub duplicate: bool,
}

/// What the analysis knows of the organisation, and when a verdict opens
/// an incident.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PhishingSettings {
    /// The organisation's own domains: mail imitating them is suspect.
    pub own_domains: Vec<String>,
    /// Authserv-ids of the receiving servers whose Authentication-Results
    /// count (`mx.example.com`; `outlook.com` for Microsoft 365).
    pub trusted_authserv_ids: Vec<String>,
    /// Sender domains of the organisation's phishing-simulation campaigns.
    pub simulation_senders: Vec<String>,
    /// Headers simulation campaigns stamp (`X-Campaign: q3`, or a name).
    pub simulation_headers: Vec<String>,
    /// A score at or above this opens (or joins) an incident and notifies.
    #[schema(minimum = 1, maximum = 100)]
    pub incident_threshold: u32,
}

impl Default for PhishingSettings {
    fn default() -> Self {
        PhishingSettings {
            own_domains: Vec::new(),
            trusted_authserv_ids: Vec::new(),
            simulation_senders: Vec::new(),
            simulation_headers: Vec::new(),
            incident_threshold: 70,
        }
    }
}
