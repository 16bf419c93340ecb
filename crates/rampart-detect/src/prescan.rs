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

#[derive(Debug, Default, Clone, Copy)]
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

#[derive(Clone, Copy)]
enum Scalar<'v> {
    Str(&'v str),
    Number(&'v Number),
    Bool(bool),
    Null,
    /// An object or an array (for the slots only).
    Container,
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

impl Walk<'_> {
    /// Reads a JSON document (the event, or the members of an object to
    /// add to it) straight from its text. On an error, what was read so
    /// far has been scanned and the logsource is left to the tree.
    pub fn json_text(&mut self, text: &str) -> Result<(), serde_json::Error> {
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
    fn enter(&mut self, place: Option<PlaceId>, array: bool) -> Option<PlaceId> {
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

    fn scalar(&mut self, mut place: Option<PlaceId>, value: Scalar<'_>) {
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
