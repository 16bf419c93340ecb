//! Typed query parameter values: each parses itself while the query string
//! is read, so a bad value is refused with its parameter's name before any
//! handler runs, and handlers get domain values (no parsing per route).

use rampart_core::event::{parse_severity, parse_timestamp_text, IpMatch};
use rampart_core::{IncidentStatus, Timestamp};
use serde::{Deserialize, Deserializer};

/// Reads a query value as text (flattened query structs see only text)
/// and parses it, failing with `expected`.
fn parsed<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(text.trim()).map_err(serde::de::Error::custom)
}

/// A severity: 0–255 or a name (low, medium, high, critical, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Severity(pub u8);

impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |t| {
            parse_severity(t)
                .map(Severity)
                .ok_or_else(|| "must be 0–255 or a severity name".to_owned())
        })
    }
}

/// A time: RFC 3339 or epoch milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time(pub Timestamp);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |t| {
            parse_timestamp_text(t)
                .map(Time)
                .ok_or_else(|| "must be RFC 3339 or epoch milliseconds".to_owned())
        })
    }
}

/// An address or a CIDR network.
#[derive(Clone, Debug)]
pub struct Address(pub IpMatch);

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |t| t.parse().map(Address))
    }
}

/// Incident statuses, comma-separated (`open,acknowledged`).
#[derive(Clone, Debug, Default)]
pub struct Statuses(pub Vec<IncidentStatus>);

impl<'de> Deserialize<'de> for Statuses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |t| {
            t.split(',')
                .map(|s| {
                    IncidentStatus::parse(s.trim()).ok_or_else(|| {
                        "open, acknowledged, investigating, resolved or false_positive".to_owned()
                    })
                })
                .collect::<Result<_, _>>()
                .map(Statuses)
        })
    }
}

/// Whose resource a request is about: the platform's own
/// (`platform=true`, e.g. retention jobs or platform flags) instead of the
/// caller's organisation's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PlatformScope {
    /// The platform's own instead of the organisation's.
    pub platform: Option<bool>,
}

impl PlatformScope {
    pub fn platform(&self) -> bool {
        self.platform.unwrap_or(false)
    }
}

/// Job states, comma-separated (`dead,retryable`).
#[derive(Clone, Debug, Default)]
pub struct JobStates(pub Vec<rampart_core::JobState>);

impl<'de> Deserialize<'de> for JobStates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |t| {
            t.split(',')
                .map(|s| {
                    rampart_core::JobState::parse(s.trim()).ok_or_else(|| {
                        "available, running, retryable, completed, dead or cancelled".to_owned()
                    })
                })
                .collect::<Result<_, _>>()
                .map(JobStates)
        })
    }
}

/// A number within `MIN..=MAX` given as text (flattened query structs see
/// only text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounded<const MIN: u32, const MAX: u32>(pub u32);

impl<'de, const MIN: u32, const MAX: u32> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |t| {
            t.parse()
                .ok()
                .filter(|n| (MIN..=MAX).contains(n))
                .map(Bounded)
                .ok_or_else(|| format!("must be between {MIN} and {MAX}"))
        })
    }
}

/// A bucket width: seconds, or a number with s, m, h or d (at most a year).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketWidth(pub i64);

impl<'de> Deserialize<'de> for BucketWidth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, |text| {
            let bad = || "must be like 60, 30s, 5m, 1h or 1d".to_owned();
            let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
                Some(at) => text.split_at(at),
                None => (text, "s"),
            };
            let n: i64 = digits.parse().map_err(|_| bad())?;
            let scale = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                _ => return Err(bad()),
            };
            n.checked_mul(scale)
                .filter(|s| *s > 0 && *s <= 366 * 86_400)
                .map(BucketWidth)
                .ok_or_else(bad)
        })
    }
}

/// OpenAPI schemas of these values, so that what the document allows is
/// what the API accepts.
pub mod schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};

    fn text(pattern: &str, description: &str) -> RefOr<Schema> {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern))
                .description(Some(description))
                .build(),
        ))
    }

    /// RFC 3339 or epoch milliseconds.
    pub fn time() -> RefOr<Schema> {
        let one_of = OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(i64::MIN))
                    .maximum(Some(i64::MAX)),
            )
            .description(Some("RFC 3339, or milliseconds since the epoch"))
            .build();
        RefOr::T(Schema::OneOf(one_of))
    }

    /// A severity number or name.
    pub fn severity() -> RefOr<Schema> {
        rampart_app::api::incidents::severity_schema()
    }

    /// Incident statuses, comma-separated.
    pub fn statuses() -> RefOr<Schema> {
        const ONE: &str = "(open|acknowledged|investigating|resolved|false_positive)";
        text(
            &format!("^{ONE}(,{ONE})*$"),
            "statuses, comma-separated (e.g. open,acknowledged)",
        )
    }

    /// Job states, comma-separated.
    pub fn job_states() -> RefOr<Schema> {
        const ONE: &str = "(available|running|retryable|completed|dead|cancelled)";
        text(
            &format!("^{ONE}(,{ONE})*$"),
            "job states, comma-separated (e.g. dead,retryable)",
        )
    }

    /// A bucket width of at most a year.
    pub fn bucket() -> RefOr<Schema> {
        text(
            "^([1-9][0-9]{0,6}s?|[1-9][0-9]{0,4}m|[1-9][0-9]{0,2}h|([1-9]|[1-9][0-9]|[1-2][0-9]{2}|3[0-5][0-9]|36[0-6])d)$",
            "seconds, or a number with s, m, h or d (at most 366 days)",
        )
    }

    /// An address or an IPv4 CIDR network (IPv6 networks are accepted
    /// too; the document leaves them out of its grammar).
    pub fn address() -> RefOr<Schema> {
        const OCTET: &str = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
        let one_of = OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::Custom("ipv4".into()))),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::Custom("ipv6".into()))),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(format!(
                        "^({OCTET}\\.){{3}}{OCTET}/([0-9]|[12][0-9]|3[0-2])$"
                    ))),
            )
            .description(Some("an address, or an IPv4 network in CIDR notation"))
            .build();
        RefOr::T(Schema::OneOf(one_of))
    }

    /// The `next_cursor` of an incident listing.
    pub fn incident_cursor() -> RefOr<Schema> {
        text(
            "^-?[0-9]{1,18}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            "the next_cursor of the previous page",
        )
    }

    /// One of `values`.
    fn one_of(values: &[&str], description: &str) -> RefOr<Schema> {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values.iter().copied()))
                .description(Some(description))
                .build(),
        ))
    }

    /// An incident listing's order.
    pub fn incident_sort() -> RefOr<Schema> {
        one_of(
            &[
                "-last_seen",
                "last_seen",
                "-created_at",
                "created_at",
                "-severity",
                "severity",
            ],
            "the order: a column, descending with a leading '-' [default: -last_seen]",
        )
    }

    /// A field whose top values event stats count.
    pub fn stats_field() -> RefOr<Schema> {
        one_of(
            rampart_store::STATS_FIELDS,
            "count the top values of this field",
        )
    }

    /// An identifier.
    pub fn uuid() -> RefOr<Schema> {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                .build(),
        ))
    }

    /// The `next_cursor` of an event search.
    pub fn event_cursor() -> RefOr<Schema> {
        text(
            "^-?[0-9]{1,18}\\.[0-9a-fA-F]{1,16}$",
            "the next_cursor of the previous page",
        )
    }
}
