//! Whole numbers in JSON input, also when written with a zero fraction
//! (`807.0`): JSON Schema counts those as integers, and generated clients
//! send them so. `#[serde(default, deserialize_with = "whole_number::optional")]`.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// A whole number that fits `T`.
pub fn required<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    optional(deserializer)?.ok_or_else(|| D::Error::custom("expected a whole number"))
}

/// An optional whole number that fits `T`; `null` and absence are `None`.
pub fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    });
    whole
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("{number} is not a whole number in range")))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Input {
        #[serde(default, deserialize_with = "super::optional")]
        days: Option<u8>,
    }

    fn days(json: &str) -> Result<Option<u8>, String> {
        serde_json::from_str::<Input>(json)
            .map(|i| i.days)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_with_or_without_a_fraction_are_read() {
        assert_eq!(days(r#"{"days": 7}"#), Ok(Some(7)));
        assert_eq!(days(r#"{"days": 7.0}"#), Ok(Some(7)));
        assert_eq!(days(r#"{"days": null}"#), Ok(None));
        assert_eq!(days("{}"), Ok(None));
        assert!(days(r#"{"days": 7.5}"#).is_err());
        assert!(days(r#"{"days": 300}"#).is_err(), "out of range");
        assert!(days(r#"{"days": "7"}"#).is_err());
    }
}
