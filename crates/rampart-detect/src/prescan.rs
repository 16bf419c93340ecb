//! The prescan: one pass over an event's values, read straight from its
//! JSON text (no tree is built) or from a tree, that collects the values
//! the prefilter scans (with the field group whose place each sits at) and
//! notes the values logsource inference reads. The values are scanned once
//! the walk is over, with the automata of the rules the event's logsource
//! admits. Most events end there: only those some rule may match are
//! parsed into a tree.

use std::fmt;
use std::fmt::Write as _;

use rampart_core::event::Json;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use crate::locate::{PlaceId, Places, SlotRole, ROOT};
use crate::logsource::{EventSource, Slot, SlotValue};
use crate::textwalk::{walk_text, PlaceVisitor, Scalar};

/// The literals found in one event, each listed once.
#[derive(Default)]
pub(crate) struct Found {
    seen: Vec<bool>,
    pub(crate) list: Vec<u32>,
}

impl Found {
    pub(crate) fn reset(&mut self, literals: usize) {
        for &l in &self.list {
            self.seen[l as usize] = false;
        }
        self.list.clear();
        self.seen.resize(literals, false);
    }

    pub(crate) fn add(&mut self, literal: u32) {
        let at = literal as usize;
        if !self.seen[at] {
            self.seen[at] = true;
            self.list.push(literal);
        }
    }
}

/// The group of a value at no field group's place: scanned for keywords.
pub(crate) const KEYWORDS: u32 = u32::MAX;

/// One collected value: where its text is in [`Values::text`], the field
/// group it is scanned for, and whether it is a string (strings repeat and
/// are worth remembering; numbers and booleans are not).
#[derive(Clone, Copy)]
pub(crate) struct Span {
    pub(crate) group: u32,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) string: bool,
}

/// The values of one event the prefilter scans, as text written one after
/// another into one buffer (reused from event to event).
#[derive(Default)]
pub(crate) struct Values {
    pub(crate) text: String,
    pub(crate) spans: Vec<Span>,
    /// Where the text reader decodes strings with escapes.
    decoded: String,
}

impl Values {
    pub(crate) fn reset(&mut self) {
        self.text.clear();
        self.spans.clear();
    }

    fn push(&mut self, group: u32, value: Scalar<'_>) {
        let start = self.text.len();
        let string = match value {
            Scalar::Str(s) => {
                self.text.push_str(s);
                true
            }
            // As JSON writes it (digits need no lower-casing).
            Scalar::Number(n) => {
                let _ = write!(self.text, "{n}");
                false
            }
            Scalar::Bool(b) => {
                self.text.push_str(if b { "true" } else { "false" });
                false
            }
            Scalar::Null | Scalar::Container => return,
        };
        self.spans.push(Span {
            group,
            start,
            end: self.text.len(),
            string,
        });
    }

    /// The text of a span.
    pub(crate) fn of(&self, span: &Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or_default()
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum HintKind {
    #[default]
    Absent,
    Text,
    Number(Option<u64>),
    Other,
}

/// The values found at the logsource slots of one event.
#[derive(Default)]
pub(crate) struct Hints {
    sightings: Vec<u8>,
    kinds: [HintKind; Slot::ALL.len()],
    texts: [String; Slot::ALL.len()],
    /// Duplicate keys, an array or an unreadable part on the way to a
    /// slot: inference is left to the tree.
    open: bool,
}

impl Hints {
    pub(crate) fn reset(&mut self, watches: usize) {
        self.sightings.clear();
        self.sightings.resize(watches, 0);
        self.kinds = Default::default();
        self.open = false;
    }

    /// The event's logsource, unless something left it open.
    pub(crate) fn source(&self, places: &Places) -> Option<EventSource> {
        if self.open {
            return None;
        }
        let system = self.sightings[usize::from(places.system_watch())] > 0;
        Some(EventSource::infer_from(system, |slot| {
            let at = slot as usize;
            match self.kinds[at] {
                HintKind::Absent => None,
                HintKind::Text => Some(SlotValue::Text(&self.texts[at])),
                HintKind::Number(n) => Some(SlotValue::Number(n)),
                HintKind::Other => Some(SlotValue::Other),
            }
        }))
    }

    fn sight(&mut self, places: &Places, place: PlaceId, array: bool) {
        if let Some(watch) = places.watch(place) {
            let seen = &mut self.sightings[usize::from(watch)];
            *seen = seen.saturating_add(1);
            self.open |= *seen > 1 || array;
        }
    }

    fn record(&mut self, role: SlotRole, value: Scalar<'_>) {
        let (SlotRole::Value(slot) | SlotRole::Text(slot)) = role;
        let at = slot as usize;
        self.kinds[at] = match value {
            Scalar::Str(s) => {
                self.texts[at].clear();
                self.texts[at].push_str(s);
                HintKind::Text
            }
            Scalar::Number(n) => HintKind::Number(n.as_u64()),
            Scalar::Bool(_) | Scalar::Null | Scalar::Container => HintKind::Other,
        };
    }
}

/// What the prescan of one event writes to, borrowed from the rule set
/// and the scratch.
pub struct Walk<'a> {
    pub(crate) places: &'a Places,
    /// Whether some rule has keywords: then values at no field group's
    /// place are collected too.
    pub(crate) keywords: bool,
    pub(crate) values: &'a mut Values,
    pub(crate) hints: &'a mut Hints,
}

impl PlaceVisitor for Walk<'_> {
    fn enter(&mut self, place: Option<PlaceId>, array: bool) -> Option<PlaceId> {
        Walk::enter(self, place, array)
    }

    fn child(&self, place: PlaceId, key: &str) -> Option<PlaceId> {
        self.places.child(place, key)
    }

    fn scalar(&mut self, place: Option<PlaceId>, value: Scalar<'_>) {
        Walk::scalar(self, place, value)
    }
}

impl Walk<'_> {
    /// Reads a JSON document (the event, or the members of an object to
    /// add to it) straight from its text. On an error, what was read so
    /// far has been collected and the logsource is left to the tree.
    pub fn json_text(&mut self, text: &str) -> Result<(), serde_json::Error> {
        let (spans, bytes) = (self.values.spans.len(), self.values.text.len());
        let mut buffer = std::mem::take(&mut self.values.decoded);
        let read = walk_text(self, text, &mut buffer);
        self.values.decoded = buffer;
        if read.is_ok() {
            return Ok(());
        }
        // Read again by serde_json, which decides and says why; what the
        // first reading saw of the logsource is not trusted.
        self.values.spans.truncate(spans);
        self.values.text.truncate(bytes);
        self.leave_source_open();
        self.serde_text(text)
    }

    /// [`Walk::json_text`] by serde_json.
    fn serde_text(&mut self, text: &str) -> Result<(), serde_json::Error> {
        let mut reader = serde_json::Deserializer::from_str(text);
        let read = ValueSeed {
            walk: self,
            place: Some(ROOT),
        }
        .deserialize(&mut reader)
        .and_then(|()| reader.end());
        if read.is_err() {
            self.leave_source_open();
        }
        read
    }

    /// Walks an event tree.
    pub fn json_tree(&mut self, event: &Json<'_>) {
        self.tree(Some(ROOT), event);
    }

    /// Walks one top-level member of the event.
    pub fn member(&mut self, key: &str, value: &Json<'_>) {
        let place = self.places.child(ROOT, key);
        self.tree(place, value);
    }

    /// Whether a top-level member `key` would be looked at (else it need
    /// not be built for [`Walk::member`]).
    pub fn reads_member(&self, key: &str) -> bool {
        self.keywords || self.places.child(ROOT, key).is_some()
    }

    /// Leaves the logsource to be inferred from the tree.
    pub fn leave_source_open(&mut self) {
        self.hints.open = true;
    }

    fn tree(&mut self, place: Option<PlaceId>, value: &Json<'_>) {
        match value {
            Json::Null => self.scalar(place, Scalar::Null),
            Json::Bool(b) => self.scalar(place, Scalar::Bool(*b)),
            Json::Number(n) => self.scalar(place, Scalar::Number(n)),
            Json::String(s) => self.scalar(place, Scalar::Str(s)),
            Json::Array(items) => {
                let place = self.enter(place, true);
                items.iter().for_each(|item| self.tree(place, item));
            }
            Json::Object(map) => {
                self.enter(place, false);
                for (key, value) in map.members() {
                    let child = place.and_then(|p| self.places.child(p, key));
                    self.tree(child, value);
                }
            }
        }
    }

    /// An object or array at `place`; returns the place of an array's
    /// items (the array's own: a field reads each of its items).
    pub(crate) fn enter(&mut self, place: Option<PlaceId>, array: bool) -> Option<PlaceId> {
        let at = place?;
        if at == ROOT && array {
            // Not an object: nothing is at any slot, or any field's place.
            self.leave_source_open();
            return None;
        }
        self.hints.sight(self.places, at, array);
        if let Some(role) = self.places.slot(at) {
            self.hints.record(role, Scalar::Container);
        }
        Some(at)
    }

    pub(crate) fn scalar(&mut self, mut place: Option<PlaceId>, value: Scalar<'_>) {
        if place == Some(ROOT) {
            // The event is a bare value, not an object.
            self.leave_source_open();
            place = None;
        }
        let mut group = None;
        if let Some(at) = place {
            self.hints.sight(self.places, at, false);
            if let Some(role) = self.places.slot(at) {
                self.hints.record(role, value);
            }
            group = self.places.group(at);
        }
        // A group's automaton also holds the keywords.
        match group {
            Some(group) => self.values.push(group, value),
            None if self.keywords => self.values.push(KEYWORDS, value),
            None => {}
        }
    }
}

/// Reads one JSON value at a place, without building it.
struct ValueSeed<'w, 'a> {
    walk: &'w mut Walk<'a>,
    place: Option<PlaceId>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<(), E> {
        self.walk.scalar(self.place, Scalar::Bool(b));
        Ok(())
    }

    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.walk.scalar(self.place, Scalar::Number(&n.into()));
        Ok(())
    }

    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.walk.scalar(self.place, Scalar::Number(&n.into()));
        Ok(())
    }

    fn visit_f64<E>(self, n: f64) -> Result<(), E> {
        // As the tree reads it (see `Json`'s `Deserialize`).
        let value = Number::from_f64(n);
        let value = value.as_ref().map_or(Scalar::Null, Scalar::Number);
        self.walk.scalar(self.place, value);
        Ok(())
    }

    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        self.walk.scalar(self.place, Scalar::Str(s));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.walk.scalar(self.place, Scalar::Null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let place = self.walk.enter(self.place, true);
        while seq
            .next_element_seed(ValueSeed {
                walk: &mut *self.walk,
                place,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let place = self.walk.enter(self.place, false);
        let places = self.walk.places;
        while let Some(child) = map.next_key_seed(KeySeed { places, place })? {
            map.next_value_seed(ValueSeed {
                walk: &mut *self.walk,
                place: child,
            })?;
        }
        Ok(())
    }
}

/// Reads an object key: the place it leads to, if it matters.
struct KeySeed<'a> {
    places: &'a Places,
    place: Option<PlaceId>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<PlaceId>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<PlaceId>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.place.and_then(|p| self.places.child(p, key)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::fmt::Write as _;

    use proptest::prelude::*;

    use super::*;
    use crate::event::FieldPaths;
    use crate::mapping::FieldMapping;

    /// What one reading produced: the values with their groups, and what
    /// the logsource slots saw.
    #[derive(Debug, PartialEq)]
    struct Reading {
        values: Vec<(u32, String, bool)>,
        sightings: Vec<u8>,
        kinds: Vec<HintKind>,
        texts: Vec<String>,
        open: bool,
    }

    fn places() -> Places {
        let mapping = FieldMapping::default();
        let fields: Vec<FieldPaths> = ["Image", "CommandLine", "EventID", "Computer"]
            .iter()
            .map(|name| mapping.paths(name))
            .collect();
        Places::build(&fields, |f| f != 2)
    }

    fn read(places: &Places, text: &str, by_serde: bool) -> (bool, Reading) {
        let (mut values, mut hints) = (Values::default(), Hints::default());
        hints.reset(places.watches());
        let mut walk = Walk {
            places,
            keywords: true,
            values: &mut values,
            hints: &mut hints,
        };
        let ok = if by_serde {
            walk.serde_text(text).is_ok()
        } else {
            let mut buffer = String::new();
            walk_text(&mut walk, text, &mut buffer).is_ok()
        };
        let reading = Reading {
            values: values
                .spans
                .iter()
                .map(|s| (s.group, values.of(s).to_owned(), s.string))
                .collect(),
            sightings: hints.sightings.clone(),
            kinds: hints.kinds.to_vec(),
            texts: hints
                .kinds
                .iter()
                .zip(&hints.texts)
                .map(|(k, t)| {
                    if *k == HintKind::Text {
                        t.clone()
                    } else {
                        String::new()
                    }
                })
                .collect(),
            open: hints.open,
        };
        (ok, reading)
    }

    /// JSON text of a value, written with random whitespace and escapes.
    fn write(value: &serde_json::Value, style: &mut impl Iterator<Item = u8>, out: &mut String) {
        let space =
            |out: &mut String, style: &mut dyn Iterator<Item = u8>| match style.next().unwrap_or(0)
                % 8
            {
                0 => out.push(' '),
                1 => out.push_str("\n\t "),
                _ => {}
            };
        match value {
            serde_json::Value::String(s) => {
                out.push('"');
                for c in s.chars() {
                    match (c, style.next().unwrap_or(0) % 4) {
                        ('"', _) => out.push_str("\\\""),
                        ('\\', _) => out.push_str("\\\\"),
                        (c, _) if (c as u32) < 0x20 => {
                            let _ = write!(out, "\\u{:04x}", c as u32);
                        }
                        ('/', 0) => out.push_str("\\/"),
                        (c, 0) => {
                            let mut units = [0u16; 2];
                            for unit in c.encode_utf16(&mut units) {
                                let _ = write!(out, "\\u{unit:04X}");
                            }
                        }
                        (c, _) => out.push(c),
                    }
                }
                out.push('"');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    space(out, style);
                    write(item, style, out);
                    space(out, style);
                }
                out.push(']');
            }
            serde_json::Value::Object(map) => {
                out.push('{');
                for (n, (key, item)) in map.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    space(out, style);
                    write(&serde_json::Value::String(key.clone()), style, out);
                    space(out, style);
                    out.push(':');
                    write(item, style, out);
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let text = prop_oneof![
            Just("Microsoft-Windows-Sysmon/Operational".to_owned()),
            Just("C:\\Windows\\cmd.exe".to_owned()),
            "[a-zA-Z \\\\\"/é😀\u{1}\t-]{0,12}",
        ];
        let number = prop_oneof![
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            any::<u64>().prop_map(|n| serde_json::json!(n)),
            (-1e20f64..1e20).prop_map(|n| serde_json::json!(n)),
            Just(serde_json::json!(1)),
        ];
        let leaf = prop_oneof![
            text.prop_map(serde_json::Value::String),
            number,
            any::<bool>().prop_map(serde_json::Value::Bool),
            Just(serde_json::Value::Null),
        ];
        let key = prop::sample::select(vec![
            "Image",
            "CommandLine",
            "EventID",
            "Computer",
            "Channel",
            "Event",
            "System",
            "EventData",
            "#text",
            "host",
            "name",
            "winlog",
            "channel",
            "other",
            "é\"k",
        ]);
        leaf.prop_recursive(4, 32, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::vec((key.clone(), inner), 0..6).prop_map(|members| {
                    serde_json::Value::Object(
                        members
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect(),
                    )
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_text_reader_reads_as_serde_json_does(
            value in json(),
            style in prop::collection::vec(any::<u8>(), 64),
        ) {
            let places = places();
            let mut text = String::new();
            write(&value, &mut style.iter().copied().cycle(), &mut text);
            let (serde_ok, by_serde) = read(&places, &text, true);
            prop_assert!(serde_ok, "{}", text);
            let (ok, by_reader) = read(&places, &text, false);
            prop_assert!(ok, "{}", text);
            prop_assert_eq!(by_reader, by_serde, "{}", text);
        }

        #[test]
        fn the_text_reader_accepts_only_json(text in "[\\[\\]{}\":,0-9eE.+ a-z\\\\-]{0,24}") {
            let places = places();
            let (ok, by_reader) = read(&places, &text, false);
            let (serde_ok, by_serde) = read(&places, &text, true);
            if ok {
                prop_assert!(serde_ok, "{}", text);
                prop_assert_eq!(by_reader, by_serde, "{}", text);
            }
        }
    }

    #[test]
    fn numbers_read_as_serde_json_reads_them() {
        let places = places();
        for text in [
            "0",
            "-0",
            "12",
            "-12",
            "1.0",
            "1e2",
            "1E+2",
            "-1.5e-3",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "0.1",
        ] {
            let doc = format!("{{\"EventID\": {text}, \"x\": [{text}]}}");
            let (ok, by_reader) = read(&places, &doc, false);
            assert!(ok, "{doc}");
            assert_eq!(by_reader, read(&places, &doc, true).1, "{doc}");
        }
        for bad in [
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "{\"a\":1,}",
            "[1 2]",
            "\"\\ud800\"",
        ] {
            assert!(!read(&places, bad, false).0, "{bad}");
        }
    }
}
