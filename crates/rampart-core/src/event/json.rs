//! A JSON tree that borrows its text from the request body: the ingest hot
//! path reads each event once into it, takes the well-known fields out and
//! writes the rest back as text, without allocating a `String` for every
//! key and value as `serde_json::Value` does. Of duplicate keys the last
//! wins and objects are written sorted by key, exactly as
//! `serde_json::Value` does, so the text written back is the same.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};

/// One JSON value, its strings borrowed from the input where they hold no
/// escapes.
#[derive(Clone, Debug, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Object<'a>),
}

/// An object's members in the order received. Of duplicate keys the last
/// counts, as in `serde_json::Value`; lookups scan (events have few
/// members, and comparing for equality beats ordering them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object<'a> {
    members: Vec<(Cow<'a, str>, Json<'a>)>,
}

impl<'a> Object<'a> {
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    fn last_position(&self, key: &str) -> Option<usize> {
        self.members.iter().rposition(|(k, _)| k == key)
    }

    /// The value of `key` (the last, of duplicates).
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.members
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The members in the order received, each key once (the last of
    /// duplicates counts, as in [`Object::get`]).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Json<'a>)> {
        self.members
            .iter()
            .enumerate()
            .filter(|(at, (key, _))| !self.members[at + 1..].iter().any(|(k, _)| k == key))
            .map(|(_, (k, v))| (k.as_ref(), v))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json<'a>> {
        let at = self.last_position(key)?;
        Some(&mut self.members[at].1)
    }

    /// Removes `key` (every duplicate of it) and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Json<'a>> {
        let at = self.last_position(key)?;
        let (_, value) = self.members.remove(at);
        if self.members[..at].iter().any(|(k, _)| k == key) {
            self.members.retain(|(k, _)| k != key);
        }
        Some(value)
    }

    /// Appends a member. Every reader takes the last of duplicate keys, so
    /// it wins over an earlier member of the same name as [`Object::insert`]
    /// would, without searching for one.
    pub fn push(&mut self, key: Cow<'a, str>, value: Json<'a>) {
        self.members.push((key, value));
    }

    /// Every member as received, duplicate keys included.
    pub fn members(&self) -> impl Iterator<Item = &(Cow<'a, str>, Json<'a>)> {
        self.members.iter()
    }

    /// Sets `key`, replacing a value it had.
    pub fn insert(&mut self, key: Cow<'a, str>, value: Json<'a>) {
        self.remove(&key);
        self.members.push((key, value));
    }

    /// The members as `serde_json::Value` holds them: sorted by key, the
    /// last of duplicates kept.
    fn canonical(&self) -> Vec<(&str, &Json<'a>)> {
        let mut sorted: Vec<(&str, &Json<'a>)> =
            self.members.iter().map(|(k, v)| (k.as_ref(), v)).collect();
        // A stable sort keeps duplicates in input order; keep the last.
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let mut kept: Vec<(&str, &Json<'a>)> = Vec::with_capacity(sorted.len());
        for member in sorted {
            match kept.last_mut() {
                Some(last) if last.0 == member.0 => *last = member,
                _ => kept.push(member),
            }
        }
        kept
    }
}

impl<'a> Json<'a> {
    /// A string's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// An object's member; `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.as_object()?.get(key)
    }

    /// Follows object keys from here, one per segment.
    pub fn path<'k>(&self, segments: impl IntoIterator<Item = &'k str>) -> Option<&Json<'a>> {
        segments
            .into_iter()
            .try_fold(self, |at, segment| at.get(segment))
    }

    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

impl From<Value> for Json<'static> {
    fn from(value: Value) -> Self {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => Json::Number(n),
            Value::String(s) => Json::String(Cow::Owned(s)),
            Value::Array(items) => Json::Array(items.into_iter().map(Json::from).collect()),
            Value::Object(map) => Json::Object(Object {
                members: map
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Json::from(v)))
                    .collect(),
            }),
        }
    }
}

impl From<Json<'_>> for Value {
    fn from(value: Json<'_>) -> Self {
        match value {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => Value::Number(n),
            Json::String(s) => Value::String(s.into_owned()),
            Json::Array(items) => Value::Array(items.into_iter().map(Value::from).collect()),
            Json::Object(object) => Value::Object(
                object
                    .members
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), Value::from(v)))
                    .collect(),
            ),
        }
    }
}

/// Borrows a `serde_json::Value`'s text (for callers that hold one).
impl<'a> From<&'a Value> for Json<'a> {
    fn from(value: &'a Value) -> Self {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(n.clone()),
            Value::String(s) => Json::String(Cow::Borrowed(s)),
            Value::Array(items) => Json::Array(items.iter().map(Json::from).collect()),
            Value::Object(map) => Json::Object(Object {
                members: map
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::from(v)))
                    .collect(),
            }),
        }
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(n) => n.serialize(serializer),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(object) => {
                let members = object.canonical();
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json<'de>, E> {
        Ok(Number::from_f64(n).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(Key(key)) = map.next_key()? {
            members.push((key, map.next_value()?));
        }
        Ok(Json::Object(Object { members }))
    }
}

/// An object key, borrowed when it holds no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }

            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_written_back_is_what_serde_json_writes() {
        let text =
            r#"{"b":[1,-2,3.5,true,null],"a":{"z":"x\ny","y":"\u00e9"},"b":{"last":"wins"}}"#;
        let ours: Json<'_> = serde_json::from_str(text).unwrap();
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&ours).unwrap(), theirs.to_string());
        assert_eq!(
            serde_json::to_string(&Json::from(theirs)).unwrap(),
            serde_json::to_string(&ours).unwrap()
        );
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let text = r#"{"plain":"abc","escaped":"a\"b"}"#;
        let Json::Object(mut object) = serde_json::from_str::<Json<'_>>(text).unwrap() else {
            panic!("an object");
        };
        assert!(matches!(
            object.remove("plain"),
            Some(Json::String(Cow::Borrowed("abc")))
        ));
        assert!(matches!(
            object.remove("escaped"),
            Some(Json::String(Cow::Owned(s))) if s == "a\"b"
        ));
        assert!(object.is_empty());

        let text = r#"{"a":1,"b":true,"a":2}"#;
        let Json::Object(mut object) = serde_json::from_str::<Json<'_>>(text).unwrap() else {
            panic!("an object");
        };
        assert_eq!(
            object.remove("a"),
            Some(Json::Number(2.into())),
            "the last wins"
        );
        assert_eq!(object.remove("a"), None, "and every duplicate goes");
        assert_eq!(
            serde_json::to_string(&Json::Object(object)).unwrap(),
            r#"{"b":true}"#
        );
    }

    #[test]
    fn lookups_see_the_last_of_duplicate_keys() {
        let text = r#"{"a":1,"b":{"c":"x"},"a":2}"#;
        let ours: Json<'_> = serde_json::from_str(text).unwrap();
        assert_eq!(ours.get("a"), Some(&Json::Number(2.into())));
        assert_eq!(ours.path(["b", "c"]).and_then(Json::as_str), Some("x"));
        assert_eq!(ours.path(["b", "d"]), None);
        let keys: Vec<&str> = ours.as_object().unwrap().iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["b", "a"]);
        // Borrowed from a `Value` and back, nothing changes.
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(Value::from(Json::from(&theirs)), theirs);
        assert_eq!(Value::from(ours), theirs);
    }
}
