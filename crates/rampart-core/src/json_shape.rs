//! Serde helpers that take structs only from JSON objects. A derived
//! `Deserialize` also fills a struct from an array of its fields in order
//! (`[true, []]` for `{"enabled": true, "rules": []}`); the API's documents
//! say "object", so such bodies are refused with the field named.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A struct that must be given as a JSON object.
pub fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(d)?;
    if !value.is_object() {
        return Err(D::Error::custom("expected an object"));
    }
    serde_json::from_value(value).map_err(D::Error::custom)
}

/// A list of structs, each given as a JSON object.
pub fn objects<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let values = Vec::<Value>::deserialize(d)?;
    values
        .into_iter()
        .enumerate()
        .map(|(n, value)| {
            if !value.is_object() {
                return Err(D::Error::custom(format!("item {n}: expected an object")));
            }
            serde_json::from_value(value).map_err(|e| D::Error::custom(format!("item {n}: {e}")))
        })
        .collect()
}
