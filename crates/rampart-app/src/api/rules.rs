//! Detection rules, rule tests and the field mapping.

use std::collections::BTreeMap;

use rampart_core::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A rule as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub id: String,
    pub title: String,
    pub level: Option<String>,
    /// `detection` or `correlation`.
    pub kind: String,
    pub enabled: bool,
    pub builtin: bool,
    /// Matches (for correlations: firings) since the rule was created.
    pub hits: i64,
    pub last_hit_at: Option<rampart_core::Timestamp>,
    pub created_at: rampart_core::Timestamp,
    pub updated_at: rampart_core::Timestamp,
    #[schema(min_length = 1, max_length = 262144)]
    pub yaml: String,
}

/// A rule to store: its Sigma YAML (one document).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    #[schema(min_length = 1, max_length = 262144)]
    pub yaml: String,
    /// [default: true]
    pub enabled: Option<bool>,
}

/// What validation found out about a rule.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleSummary {
    pub id: Option<String>,
    pub title: String,
    pub level: Option<String>,
    pub kind: String,
}

/// Rules (one or more YAML documents) and sample events to try them on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestInput {
    #[schema(min_length = 1, max_length = 262144)]
    pub yaml: String,
    /// Events as they would be ingested (ECS fields, nested or dotted).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestMatch {
    /// 0-based position in `events`.
    pub index: usize,
    pub rules: Vec<RuleSummary>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestAlert {
    pub rule: RuleSummary,
    /// The correlation's group-by values.
    #[schema(value_type = Object)]
    pub group: serde_json::Map<String, Value>,
    /// Positions in `events` of the events behind it.
    pub events: Vec<usize>,
}

/// The answer to a test: nothing of it was stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestReport {
    pub matched: usize,
    pub total: usize,
    pub matches: Vec<TestMatch>,
    /// Alerts correlation rules raised over the events, in order.
    pub alerts: Vec<TestAlert>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateInput {
    #[schema(min_length = 1, max_length = 262144)]
    pub yaml: String,
}

/// The mapping as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldMappingView {
    /// The organisation's own entries: Sigma field name → event paths,
    /// tried in order after the event's own key of that name and before
    /// the defaults.
    pub mapping: BTreeMap<String, Vec<String>>,
    /// When the organisation last set it; absent when it has none.
    pub updated_at: Option<Timestamp>,
    /// The built-in entries (read only).
    pub defaults: BTreeMap<String, Vec<String>>,
}

/// A replacement mapping.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldMappingInput {
    /// Sigma field name → event paths (dotted; a `*` segment matches any
    /// one key), e.g.
    /// `{"CommandLine": ["proc.cmdline"]}`. An empty object removes the
    /// organisation's own mapping.
    #[schema(schema_with = mapping_schema)]
    pub mapping: BTreeMap<String, Vec<String>>,
}

/// The schema of a mapping: what [`FieldMapping::check`] accepts.
fn mapping_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use rampart_detect::mapping::{MAX_MAPPED_FIELDS, MAX_NAME_CHARS, MAX_PATHS_PER_FIELD};
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
    let name = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_CHARS))
        .pattern(Some("[^\\s\\u0085]"));
    let path = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_CHARS))
        // NEL (U+0085) is blank to Rust's `trim` but not to ECMA's `\s`.
        .pattern(Some(
            "^[^.]*[^.\\s\\u0085][^.]*(\\.[^.]*[^.\\s\\u0085][^.]*)*$",
        ));
    let paths = ArrayBuilder::new()
        .items(path)
        .min_items(Some(1))
        .max_items(Some(MAX_PATHS_PER_FIELD));
    utoipa::openapi::RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property_names(Some(name))
            .additional_properties(Some(paths))
            .max_properties(Some(MAX_MAPPED_FIELDS))
            .build(),
    ))
}
