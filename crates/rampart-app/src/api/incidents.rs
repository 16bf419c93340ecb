//! Incidents, their alerts and comments.

use rampart_core::incident::MAX_INCIDENT_EVENTS;
use rampart_core::{CommentId, Entities, IncidentId, IncidentStatus, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// An incident as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncidentView {
    pub id: IncidentId,
    pub title: String,
    pub description: Option<String>,
    /// 1 (informational) … 5 (critical).
    pub severity: u8,
    pub status: IncidentStatus,
    pub escalation: u8,
    pub assignee: Option<UserId>,
    pub rule_id: Option<String>,
    pub group_key: Option<String>,
    /// Alerts it holds.
    pub occurrences: i64,
    pub entities: Entities,
    pub event_ids: Vec<String>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: String,
    /// When it first left `open`.
    pub acknowledged_at: Option<Timestamp>,
    /// When it was closed (resolved or false positive); none while open.
    pub resolved_at: Option<Timestamp>,
}

/// An alert as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub id: rampart_core::AlertId,
    pub rule_id: String,
    pub rule_title: String,
    pub severity: u8,
    pub group_key: String,
    pub event_ids: Vec<String>,
    pub entities: Entities,
    /// When the event that raised it happened.
    pub ts: Timestamp,
    pub created_at: Timestamp,
    pub incident_id: IncidentId,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentView {
    pub id: CommentId,
    pub author: String,
    pub body: String,
    pub created_at: Timestamp,
}

/// One incident with its latest alerts and its comments.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub incident: IncidentView,
    /// The newest 100 alerts (all of them: `GET /alerts?incident=`).
    pub alerts: Vec<AlertView>,
    pub comments: Vec<CommentView>,
}

/// A severity as a number (0–255) or a name (low, high, …).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SeverityInput {
    Number(u8),
    Name(String),
}

/// An incident opened by hand.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    #[schema(min_length = 1, max_length = 500, pattern = "[^\\s\\u0085]")]
    pub title: String,
    pub description: Option<String>,
    #[schema(schema_with = severity_schema)]
    pub severity: SeverityInput,
    #[serde(default)]
    pub entities: Entities,
    /// Ids of stored events it concerns (as the API returned them).
    #[serde(default)]
    #[schema(schema_with = event_ids_schema)]
    pub event_ids: Vec<String>,
    pub assignee: Option<UserId>,
}

/// A change; absent fields stay as they are (`assignee: null` unassigns).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentChange {
    pub status: Option<IncidentStatus>,
    #[serde(default, with = "serde_with_none")]
    #[schema(value_type = Option<UserId>)]
    pub assignee: Option<Option<UserId>>,
    #[schema(minimum = 0, maximum = 5)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub escalation: Option<u8>,
    #[schema(schema_with = optional_severity_schema)]
    pub severity: Option<SeverityInput>,
    #[schema(min_length = 1, max_length = 500, pattern = "[^\\s\\u0085]")]
    pub title: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[schema(min_length = 1, max_length = 10000, pattern = "[^\\s\\u0085]")]
    pub body: String,
}

/// The schema of a severity: 0–255, or one of the names it accepts.
pub fn severity_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    let names = [
        "debug",
        "trace",
        "informational",
        "info",
        "information",
        "notice",
        "low",
        "medium",
        "warning",
        "warn",
        "moderate",
        "high",
        "error",
        "err",
        "critical",
        "crit",
        "alert",
        "emergency",
        "emerg",
        "fatal",
    ];
    let one_of = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(255)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names)),
        )
        .description(Some(
            "0–255, or a name: informational (1), low, medium, high, critical (5)…",
        ))
        .build();
    utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::OneOf(one_of))
}

/// As [`severity_schema`], or null for no change.
fn optional_severity_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    let one_of = OneOfBuilder::new()
        .item(severity_schema())
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build();
    utoipa::openapi::RefOr::T(Schema::OneOf(one_of))
}

/// A list of event ids: the hexadecimal text the API gives each event.
fn event_ids_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[0-9a-fA-F]{1,16}$")),
        )
        .max_items(Some(MAX_INCIDENT_EVENTS))
        .into()
}

/// `Option<Option<T>>` for JSON: absent → `None`, `null` → `Some(None)`.
mod serde_with_none {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}
