//! Phishing reports: raw messages sent in by users, by bulk import or by
//! the report mailbox, each analysed once (by its SHA-256) by a job on the
//! phishing queue, user reports first.

use serde::{Deserialize, Serialize};

use crate::{OrgId, PhishingMessageId, Timestamp};

/// The queue phishing analyses run on.
pub const QUEUE: &str = "phishing";
/// The job that analyses one message.
pub const ANALYZE_JOB: &str = "phishing.analyze";
/// Priority of a message a user reported (bulk imports run at 0).
pub const REPORTED_PRIORITY: i32 = 10;

/// How a message came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PhishSource {
    /// A user reported it (through the API or the UI): high priority.
    Reported,
    /// Sent in bulk (an import of many messages): low priority.
    Bulk,
    /// Forwarded to the organisation's report mailbox: high priority.
    Mailbox,
}

impl PhishSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PhishSource::Reported => "reported",
            PhishSource::Bulk => "bulk",
            PhishSource::Mailbox => "mailbox",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            PhishSource::Reported,
            PhishSource::Bulk,
            PhishSource::Mailbox,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// The job priority its analysis runs at.
    pub fn priority(self) -> i32 {
        match self {
            PhishSource::Bulk => 0,
            PhishSource::Reported | PhishSource::Mailbox => REPORTED_PRIORITY,
        }
    }
}

/// Where a message's analysis stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PhishStatus {
    Queued,
    Analysed,
    /// The message could not be read (the error says why).
    Failed,
}

impl PhishStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PhishStatus::Queued => "queued",
            PhishStatus::Analysed => "analysed",
            PhishStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            PhishStatus::Queued,
            PhishStatus::Analysed,
            PhishStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A message sent in for analysis, and its outcome once analysed.
#[derive(Clone, Debug, PartialEq)]
pub struct PhishingMessage {
    pub id: PhishingMessageId,
    pub org_id: OrgId,
    /// Lower-case hex SHA-256 of the raw message: the same message is
    /// analysed once per organisation.
    pub sha256: String,
    pub source: PhishSource,
    /// Who sent it in (a user, an API key, a mailbox sender).
    pub reporter: String,
    pub size: u64,
    pub status: PhishStatus,
    /// The From address, once read.
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub score: Option<u32>,
    /// `clean`, `suspicious`, `phishing` or `simulation`.
    pub verdict: Option<String>,
    /// The whole analysis (JSON), once done.
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    /// The incident the verdict opened or joined.
    pub incident_id: Option<crate::IncidentId>,
    pub received_at: Timestamp,
    pub analysed_at: Option<Timestamp>,
}

/// What an analysis found, as the store records it.
#[derive(Clone, Debug, PartialEq)]
pub struct PhishOutcome {
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub score: u32,
    pub verdict: String,
    pub result: serde_json::Value,
    /// The sender becomes known to the organisation (a clean verdict).
    pub sender_now_known: bool,
}
