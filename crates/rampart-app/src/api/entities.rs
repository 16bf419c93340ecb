//! An entity's timeline: everything known about an address, a user or a
//! host, newest first.

use rampart_core::finding::Asset;
use rampart_core::watchlist::WatchlistEntry;
use rampart_core::Timestamp;
use serde::{Deserialize, Serialize};

/// What an entity is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    Ip,
    User,
    Host,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Ip => "ip",
            EntityKind::User => "user",
            EntityKind::Host => "host",
        }
    }

    pub fn parse(text: &str) -> Option<EntityKind> {
        [EntityKind::Ip, EntityKind::User, EntityKind::Host]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// What a timeline item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Event,
    Alert,
    Incident,
    Finding,
    /// A phishing report the user sent in, or a message from them.
    Phishing,
}

/// One thing that happened to or was found about the entity.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TimelineItem {
    /// When it happened (an incident: last seen; a finding: last seen).
    pub at: Timestamp,
    pub kind: ItemKind,
    /// The event, alert, incident or finding id.
    pub id: String,
    pub title: String,
    /// 1 (informational) to 5 (critical), where it has one.
    pub severity: Option<u8>,
    /// What else is worth a glance: addresses, status, the asset.
    pub detail: Option<String>,
    /// An alert's incident.
    pub incident: Option<String>,
}

/// Everything known about an entity.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EntityTimeline {
    pub kind: EntityKind,
    pub value: String,
    /// The events' range (alerts, incidents and findings are not limited
    /// to it).
    pub from: Timestamp,
    pub to: Timestamp,
    /// Watchlist entries that match it (an address in a watched network, a
    /// host under a watched domain).
    pub watchlist: Vec<WatchlistEntry>,
    /// Assets that name it (by name or identifier).
    pub assets: Vec<Asset>,
    /// Newest first: up to 100 events, 100 alerts, 50 incidents, 100
    /// findings and 50 phishing reports (a user's, by address).
    pub items: Vec<TimelineItem>,
}
