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
