//! Watchlist entries, their imports and exports, and hunts back in time.

use rampart_core::watchlist::IndicatorType;
use rampart_core::{ItemError, JobId, Timestamp};
use serde::{Deserialize, Deserializer, Serialize};

/// A new watchlist entry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchlistEntryInput {
    #[serde(rename = "type")]
    pub kind: IndicatorType,
    /// As written; defanged forms are read (`198.51.100[.]7`), and made
    /// canonical.
    #[schema(min_length = 1, max_length = 2048)]
    pub value: String,
    /// Domains only: names under it match too (also said by a leading `*.`).
    #[serde(default)]
    pub include_subdomains: bool,
    /// Where it came from; `manual` when absent.
    #[schema(max_length = 200)]
    pub source: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// Of the alerts its hits raise, 1 to 5; 4 (high) when absent.
    #[schema(minimum = 1, maximum = 5)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub severity: Option<i64>,
    pub expires_at: Option<Timestamp>,
}

/// Changes to an entry; absent fields stay as they are. Its type and
/// value do not change (delete it and add another).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchlistEntryPatch {
    pub include_subdomains: Option<bool>,
    #[schema(max_length = 200)]
    pub source: Option<String>,
    pub tags: Option<Vec<String>>,
    /// An empty string removes it.
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub severity: Option<i64>,
    /// `null` removes the expiry.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Option<Timestamp>>,
}

/// A field that is present (even as `null`) is `Some`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// How a feed file is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FeedFormat {
    /// A STIX 2.1 bundle.
    Stix,
    /// CSV with a header row naming `value` (and `type`, `tags`, …), or one
    /// value per line.
    Csv,
}

impl FeedFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Stix => "stix",
            FeedFormat::Csv => "csv",
        }
    }
}

/// How a feed is imported.
#[derive(Debug, Default, Clone)]
pub struct WatchlistImportRequest {
    /// Detected from the content when absent (JSON: STIX; otherwise CSV).
    pub format: Option<FeedFormat>,
    /// Given to every entry; `import` when absent.
    pub source: Option<String>,
    /// Entries without an expiry of their own expire this many days on.
    pub expires_in_days: Option<i64>,
    /// Given to entries whose feed names none; 4 when absent.
    pub severity: Option<i64>,
}

/// What an import did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WatchlistImportReply {
    pub format: FeedFormat,
    /// Indicators read (distinct by type and value).
    pub read: u64,
    pub created: u64,
    /// Existing entries refreshed.
    pub updated: u64,
    /// Items that could not be read, counted.
    pub refused: u64,
    /// The first 1000 of them, by row or object index.
    pub errors: Vec<ItemError>,
}

/// A hunt back in time for one entry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HuntRequest {
    /// How many days back, 1 to 90 (within retention).
    #[schema(minimum = 1, maximum = 90)]
    #[serde(deserialize_with = "crate::whole_number::required")]
    pub days: i64,
}

/// The queued hunt.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HuntQueued {
    pub job_id: JobId,
}
