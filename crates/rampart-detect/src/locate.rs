//! The places of an event that matter to a rule set: a trie over object
//! keys, from the top of the event down to every place a field is read
//! from (see [`FieldPaths`]) and every slot logsource inference reads (see
//! [`Slot`]). The prefilter scans a scalar with the automaton of the field
//! group read at its place; a value at no field's place is only scanned for
//! keywords.
//!
//! Fields read from a shared place (`Computer` and `Hostname` both from
//! `host.name`) form one group with one automaton, so a value is scanned
//! once per place.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use crate::event::{FieldId, FieldPaths, ANY_KEY};
use crate::logsource::{Slot, SYSTEM_PATH};

/// Index of a place; the top of the event is [`ROOT`].
pub type PlaceId = u32;
pub const ROOT: PlaceId = 0;

/// What a logsource slot's place is to inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotRole {
    /// The value at the slot.
    Value(Slot),
    /// The `#text` member of an object at a slot that unwraps it.
    Text(Slot),
}

#[derive(Debug, Default)]
struct Place {
    children: HashMap<Box<str>, PlaceId, RandomState>,
    /// The place under any key not among `children` (a path's
    /// [`ANY_KEY`] segment).
    any_key: Option<PlaceId>,
    /// The field group whose needles are scanned for in scalars here.
    group: Option<u32>,
    slot: Option<SlotRole>,
    /// Places on the way to a slot (and the slots) count how often a value
    /// is seen there: a second sighting means duplicate keys, where the
    /// last one counts, and the prescan then leaves logsource open.
    watch: Option<u8>,
}

/// The trie of places.
#[derive(Debug)]
pub struct Places {
    places: Vec<Place>,
    groups: u32,
    watches: u8,
    system_watch: u8,
    /// Per field, its group (`None` for a field no needle is scoped to).
    field_groups: Vec<Option<u32>>,
}

impl Places {
    /// The places of `fields` (the needles of those for which
    /// `has_needles` holds are scanned for) and of the logsource slots.
    pub fn build(fields: &[FieldPaths], has_needles: impl Fn(FieldId) -> bool) -> Places {
        let mut places = vec![Place::default()];
        // Fields read at each place, to group them.
        let mut readers: Vec<Vec<FieldId>> = vec![Vec::new()];
        for (field, paths) in fields.iter().enumerate() {
            let field = field as FieldId;
            if !has_needles(field) {
                continue;
            }
            for path in paths.key_paths() {
                let at = descend(&mut places, &mut readers, &path);
                // An EVTX element with attributes keeps its value in `#text`.
                let text = descend_from(&mut places, &mut readers, at, "#text");
                readers[at as usize].push(field);
                readers[text as usize].push(field);
            }
        }
        let mut sets = UnionFind::new(fields.len());
        for list in &readers {
            for pair in list.windows(2) {
                sets.union(pair[0], pair[1]);
            }
        }
        let mut group_of_root: HashMap<FieldId, u32> = HashMap::new();
        let mut field_groups = vec![None; fields.len()];
        for (field, slot) in field_groups.iter_mut().enumerate() {
            if has_needles(field as FieldId) {
                let root = sets.find(field as FieldId);
                let next = group_of_root.len() as u32;
                *slot = Some(*group_of_root.entry(root).or_insert(next));
            }
        }
        for (place, list) in places.iter_mut().zip(&readers) {
            place.group = list.first().and_then(|&f| field_groups[f as usize]);
        }
        let mut watches = 0u8;
        let mut watch = |places: &mut Vec<Place>, at: PlaceId| {
            let place = &mut places[at as usize];
            if place.watch.is_none() {
                place.watch = Some(watches);
                watches += 1;
            }
        };
        for slot in Slot::ALL {
            let mut at = ROOT;
            for key in slot.path() {
                at = descend_from(&mut places, &mut readers, at, key);
                watch(&mut places, at);
            }
            places[at as usize].slot = Some(SlotRole::Value(slot));
            if slot.unwraps_text() {
                let text = descend_from(&mut places, &mut readers, at, "#text");
                places[text as usize].slot = Some(SlotRole::Text(slot));
            }
        }
        let system = descend(&mut places, &mut readers, &SYSTEM_PATH);
        watch(&mut places, system);
        let system_watch = places[system as usize].watch.unwrap_or_default();
        Places {
            places,
            groups: group_of_root.len() as u32,
            watches,
            system_watch,
            field_groups,
        }
    }

    /// The place under `place` at `key`, if it matters.
    #[inline]
    pub fn child(&self, place: PlaceId, key: &str) -> Option<PlaceId> {
        let place = &self.places[place as usize];
        if place.children.is_empty() {
            return place.any_key;
        }
        place.children.get(key).copied().or(place.any_key)
    }

    pub fn group(&self, place: PlaceId) -> Option<u32> {
        self.places[place as usize].group
    }

    pub fn slot(&self, place: PlaceId) -> Option<SlotRole> {
        self.places[place as usize].slot
    }

    pub fn watch(&self, place: PlaceId) -> Option<u8> {
        self.places[place as usize].watch
    }

    /// How many field groups there are (each has its own automaton).
    pub fn groups(&self) -> usize {
        self.groups as usize
    }

    /// The group of a field, if a needle is scoped to it.
    pub fn field_group(&self, field: FieldId) -> Option<u32> {
        self.field_groups.get(field as usize).copied().flatten()
    }

    /// How many places are watched for duplicates.
    pub fn watches(&self) -> usize {
        usize::from(self.watches)
    }

    /// The watch of `Event.System`, whose presence inference reads.
    pub fn system_watch(&self) -> u8 {
        self.system_watch
    }
}

fn descend(places: &mut Vec<Place>, readers: &mut Vec<Vec<FieldId>>, path: &[&str]) -> PlaceId {
    path.iter()
        .fold(ROOT, |at, key| descend_from(places, readers, at, key))
}

fn descend_from(
    places: &mut Vec<Place>,
    readers: &mut Vec<Vec<FieldId>>,
    at: PlaceId,
    key: &str,
) -> PlaceId {
    let existing = if key == ANY_KEY {
        places[at as usize].any_key
    } else {
        places[at as usize].children.get(key).copied()
    };
    if let Some(child) = existing {
        return child;
    }
    let child = places.len() as PlaceId;
    places.push(Place::default());
    readers.push(Vec::new());
    if key == ANY_KEY {
        places[at as usize].any_key = Some(child);
    } else {
        places[at as usize].children.insert(key.into(), child);
    }
    child
}

/// Disjoint sets of fields (path halving).
struct UnionFind(Vec<FieldId>);

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind((0..n as FieldId).collect())
    }

    fn find(&mut self, mut x: FieldId) -> FieldId {
        while self.0[x as usize] != x {
            let parent = self.0[x as usize];
            self.0[x as usize] = self.0[parent as usize];
            x = parent;
        }
        x
    }

    fn union(&mut self, a: FieldId, b: FieldId) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a as usize] = b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::FieldMapping;

    #[test]
    fn fields_read_at_one_place_share_a_group() {
        let mapping = FieldMapping::default();
        let fields: Vec<FieldPaths> = ["Computer", "Hostname", "Image", "Unused"]
            .iter()
            .map(|name| mapping.paths(name))
            .collect();
        let places = Places::build(&fields, |f| f != 3);
        assert_eq!(places.groups(), 2);
        assert_eq!(places.field_group(0), places.field_group(1));
        assert_ne!(places.field_group(0), places.field_group(2));
        assert_eq!(places.field_group(3), None);
        // Flat and nested keys, EVTX's EventData and its `#text` values.
        let host = places.child(ROOT, "host.name").unwrap();
        assert_eq!(places.group(host), places.field_group(0));
        let nested = places.child(places.child(ROOT, "host").unwrap(), "name");
        assert_eq!(places.group(nested.unwrap()), places.field_group(0));
        let data = places.child(places.child(ROOT, "Event").unwrap(), "EventData");
        let image = places.child(data.unwrap(), "Image").unwrap();
        assert_eq!(places.group(image), places.field_group(2));
        let text = places.child(image, "#text").unwrap();
        assert_eq!(places.group(text), places.field_group(2));
        assert_eq!(places.child(ROOT, "Unused"), None);
    }

    #[test]
    fn slots_and_the_way_to_them_are_watched() {
        let places = Places::build(&[], |_| false);
        let event = places.child(ROOT, "Event").unwrap();
        let system = places.child(event, "System").unwrap();
        let id = places.child(system, "EventID").unwrap();
        assert!(places.watch(event).is_some());
        assert_eq!(places.watch(system), Some(places.system_watch()));
        assert_eq!(places.slot(id), Some(SlotRole::Value(Slot::SystemEventId)));
        let text = places.child(id, "#text").unwrap();
        assert_eq!(places.slot(text), Some(SlotRole::Text(Slot::SystemEventId)));
        assert_eq!(places.watch(text), None);
        let channel = places.child(ROOT, "Channel").unwrap();
        assert_eq!(places.slot(channel), Some(SlotRole::Value(Slot::Channel)));
        assert_eq!(places.groups(), 0);
    }
}
