//! The event model: one normalised security event with its well-known
//! Elastic Common Schema fields typed, and everything else kept as it came.

mod filter;
mod id;
mod ip_text;
mod json;
mod normalise;
mod severity;
mod view;

pub use filter::{
    contains_ignore_case, network_field, summary_networks, Condition, EventCondition, EventFilter,
    Filterable, IpMatch,
};
pub use id::EventId;
pub use ip_text::{ip_string, push_ip};
pub use json::{Json, Object};
pub use normalise::{
    normalise, normalise_json, parse_timestamp_text, without_nul, FieldError, WELL_KNOWN_FIELDS,
};
pub use severity::parse_severity;
pub use view::{event_view, for_each_well_known, for_each_well_known_json};

use std::net::IpAddr;

use crate::Timestamp;

/// A normalised event, as stored (its id comes from the store).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Event {
    /// `@timestamp`: when it happened (the received time when absent).
    pub timestamp: Timestamp,
    /// When Rampart accepted it.
    pub received: Timestamp,
    /// Where it came in: an ingest `source` name, e.g. `http` or `syslog`.
    pub source: String,
    /// `event.severity`, 0–255; names map to 1 (informational) … 5 (critical).
    pub severity: Option<u8>,
    pub category: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub source_ip: Option<IpAddr>,
    pub source_port: Option<u16>,
    pub destination_ip: Option<IpAddr>,
    pub destination_port: Option<u16>,
    pub host: Option<String>,
    pub user: Option<String>,
    pub process: Option<String>,
    pub url: Option<String>,
    pub message: Option<String>,
    pub tags: Vec<String>,
    /// Every other field, as a JSON object text exactly as received
    /// (nested objects stay nested; `{}` when there is nothing else).
    pub fields: String,
    /// Validation rules in warn mode that this event failed.
    pub warnings: Vec<String>,
}
