//! Watchlists: indicators an organisation watches for in its events. Each
//! entry has a type, a canonical value (see `rampart_mail::watch` for how
//! values are read), where it came from, tags, a severity for the alerts
//! it raises, an optional expiry and its hit count.

use serde::{Deserialize, Serialize};

use crate::{OrgId, Timestamp, WatchlistEntryId};

/// What a watchlist entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum IndicatorType {
    /// One IPv4 or IPv6 address.
    Ip,
    /// A network, IPv4 or IPv6 (`10.0.0.0/8`, `2001:db8::/32`).
    Cidr,
    /// A domain; with `include_subdomains`, every name under it too.
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
}

impl IndicatorType {
    pub const ALL: [IndicatorType; 8] = [
        IndicatorType::Ip,
        IndicatorType::Cidr,
        IndicatorType::Domain,
        IndicatorType::Url,
        IndicatorType::Email,
        IndicatorType::Md5,
        IndicatorType::Sha1,
        IndicatorType::Sha256,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorType::Ip => "ip",
            IndicatorType::Cidr => "cidr",
            IndicatorType::Domain => "domain",
            IndicatorType::Url => "url",
            IndicatorType::Email => "email",
            IndicatorType::Md5 => "md5",
            IndicatorType::Sha1 => "sha1",
            IndicatorType::Sha256 => "sha256",
        }
    }

    pub fn parse(text: &str) -> Option<IndicatorType> {
        IndicatorType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// One indicator an organisation watches for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WatchlistEntry {
    pub id: WatchlistEntryId,
    pub org_id: OrgId,
    #[serde(rename = "type")]
    pub kind: IndicatorType,
    /// Canonical: addresses as `std::net` writes them, networks with their
    /// host bits cleared, domains lower case in ASCII (punycode), hashes
    /// lower case.
    pub value: String,
    /// For domains: names under it match too.
    pub include_subdomains: bool,
    /// Where it came from: a feed's name, `manual`, a report.
    pub source: String,
    pub tags: Vec<String>,
    pub description: Option<String>,
    /// Of the alerts its hits raise: 1 (informational) to 5 (critical).
    pub severity: u8,
    /// When it stops matching; `None`: never.
    pub expires_at: Option<Timestamp>,
    pub hits: i64,
    pub last_hit_at: Option<Timestamp>,
    /// Who added it: `user:<id>`, `api_key:<id>`.
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl WatchlistEntry {
    /// True while it is matched: not expired at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// What the matcher needs of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchedIndicator {
    pub id: WatchlistEntryId,
    pub kind: IndicatorType,
    pub value: String,
    pub include_subdomains: bool,
    pub severity: u8,
}

impl From<&WatchlistEntry> for WatchedIndicator {
    fn from(entry: &WatchlistEntry) -> Self {
        WatchedIndicator {
            id: entry.id,
            kind: entry.kind,
            value: entry.value.clone(),
            include_subdomains: entry.include_subdomains,
            severity: entry.severity,
        }
    }
}

/// Hits of one entry since they were last written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryHits {
    pub id: WatchlistEntryId,
    pub hits: i64,
    pub last_hit_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_read_back_from_their_names() {
        for kind in IndicatorType::ALL {
            assert_eq!(IndicatorType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(
            IndicatorType::parse(" SHA256 "),
            Some(IndicatorType::Sha256)
        );
        assert_eq!(IndicatorType::parse("ipv4"), None);
    }
}
