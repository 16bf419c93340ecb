//! The prefilter's scan of one value: which of an automaton's literals
//! occur in it. The value is ASCII-lower-cased (a non-ASCII one is also
//! scanned fully lower-cased, see [`scan_lowercase`]) and run through the
//! automaton on its own. Values repeat from event to event (images,
//! channels, users, hosts), so a value seen twice at the same kind of place
//! has its literals kept in a bounded memo and is not scanned again.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use daachorse::DoubleArrayAhoCorasick;
use foldhash::fast::RandomState;

use crate::prefilter::scan_lowercase;

/// Values shorter than this are scanned: cheaper than looking them up.
const MEMO_MIN_LEN: usize = 8;
/// Longer values are scanned: they rarely repeat, and memory stays small.
const MEMO_MAX_LEN: usize = 256;
/// Most values remembered; past it the memo starts over.
const MEMO_ENTRIES: usize = 4096;
/// Most values seen once kept track of; past it they start over.
const SEEN_ONCE_ENTRIES: usize = 4 * MEMO_ENTRIES;

/// One remembered value: which automaton it was scanned with, the value,
/// and the literals found.
struct Remembered {
    automaton: u32,
    value: Box<str>,
    literals: Box<[u32]>,
}

/// Per-thread state of the scan (part of [`crate::Scratch`]).
#[derive(Default)]
pub struct ValueScanner {
    /// The rule set the memo was filled for (its literal numbering).
    owner: u64,
    /// By hash of (automaton, value); a colliding value is just scanned.
    memo: HashMap<u64, Remembered, RandomState>,
    /// Hashes of values seen once: a second sighting is memoised.
    seen_once: HashSet<u64, RandomState>,
    hasher: RandomState,
    text: String,
    lowered: String,
    literals: Vec<u32>,
}

impl ValueScanner {
    /// Readies the scanner for the rule set `owner`; a scanner used with
    /// another set forgets what it remembered.
    pub fn start(&mut self, owner: u64) {
        if self.owner != owner {
            self.forget();
            self.owner = owner;
        }
    }

    /// Calls `found` with every literal of `automaton` (the rule set's
    /// automaton number `which`) occurring in the string `value`, possibly
    /// more than once.
    pub fn scan_str(
        &mut self,
        which: u32,
        automaton: &DoubleArrayAhoCorasick<u32>,
        value: &str,
        found: &mut impl FnMut(u32),
    ) {
        if !(MEMO_MIN_LEN..=MEMO_MAX_LEN).contains(&value.len()) {
            return self.scan_text(automaton, value, found);
        }
        let hash = self.hasher.hash_one((which, value));
        if let Some(known) = self.memo.get(&hash) {
            if known.automaton == which && *known.value == *value {
                known.literals.iter().for_each(|&l| found(l));
                return;
            }
            return self.scan_text(automaton, value, found);
        }
        if self.seen_once.len() >= SEEN_ONCE_ENTRIES {
            self.seen_once.clear();
        }
        if self.seen_once.insert(hash) {
            return self.scan_text(automaton, value, found);
        }
        // Seen before: scan once more and remember.
        let mut literals = std::mem::take(&mut self.literals);
        literals.clear();
        self.scan_text(automaton, value, &mut |l| literals.push(l));
        literals.sort_unstable();
        literals.dedup();
        literals.iter().for_each(|&l| found(l));
        if self.memo.len() >= MEMO_ENTRIES {
            self.forget();
        }
        self.memo.insert(
            hash,
            Remembered {
                automaton: which,
                value: value.into(),
                literals: literals.as_slice().into(),
            },
        );
        self.literals = literals;
    }

    /// Scans one value's text, without the memo (for numbers and
    /// booleans, written as JSON writes them).
    pub fn scan_text(
        &mut self,
        automaton: &DoubleArrayAhoCorasick<u32>,
        value: &str,
        found: &mut impl FnMut(u32),
    ) {
        self.text.clear();
        self.text.push_str(value);
        if !value.is_ascii() {
            self.text.push('\n');
            scan_lowercase(value, &mut self.lowered);
            self.text.push_str(&self.lowered);
        }
        self.text.make_ascii_lowercase();
        self.scan_buffer(automaton, found);
    }

    /// Runs the automaton over the scan buffer.
    fn scan_buffer(&self, automaton: &DoubleArrayAhoCorasick<u32>, found: &mut impl FnMut(u32)) {
        for hit in automaton.find_overlapping_iter(self.text.as_bytes()) {
            found(hit.value());
        }
    }

    fn forget(&mut self) {
        self.memo.clear();
        self.seen_once.clear();
    }

    /// The rule set remembered for (0: none yet).
    pub fn owner(&self) -> u64 {
        self.owner
    }

    /// Values remembered (a statistic).
    pub fn remembered(&self) -> usize {
        self.memo.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(
        scanner: &mut ValueScanner,
        owner: u64,
        ac: &DoubleArrayAhoCorasick<u32>,
        event: &serde_json::Value,
    ) -> Vec<u32> {
        found_with(scanner, owner, 0, ac, event)
    }

    /// Scans every leaf of `event` as automaton number `which`.
    fn found_with(
        scanner: &mut ValueScanner,
        owner: u64,
        which: u32,
        ac: &DoubleArrayAhoCorasick<u32>,
        event: &serde_json::Value,
    ) -> Vec<u32> {
        fn leaves(
            scanner: &mut ValueScanner,
            which: u32,
            ac: &DoubleArrayAhoCorasick<u32>,
            value: &serde_json::Value,
            out: &mut Vec<u32>,
        ) {
            use serde_json::Value;
            let mut found = |l| out.push(l);
            match value {
                Value::String(s) => scanner.scan_str(which, ac, s, &mut found),
                Value::Number(n) => scanner.scan_text(ac, &n.to_string(), &mut found),
                Value::Bool(b) => scanner.scan_text(ac, &b.to_string(), &mut found),
                Value::Null => {}
                Value::Array(items) => items
                    .iter()
                    .for_each(|v| leaves(scanner, which, ac, v, out)),
                Value::Object(map) => map
                    .values()
                    .for_each(|v| leaves(scanner, which, ac, v, out)),
            }
        }
        scanner.start(owner);
        let mut out = Vec::new();
        leaves(scanner, which, ac, event, &mut out);
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn remembered_values_find_what_a_scan_finds() {
        let ac =
            DoubleArrayAhoCorasick::<u32>::new(["powershell", "\\system32\\", "-enc"]).unwrap();
        let event = serde_json::json!({
            "Image": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "CommandLine": "powershell -ENC abc",
            "n": 42, "b": true, "short": "-enc"
        });
        let mut scanner = ValueScanner::default();
        let first = found(&mut scanner, 1, &ac, &event);
        assert_eq!(first, [0, 1, 2]);
        assert_eq!(scanner.remembered(), 0, "seen once: nothing remembered");
        assert_eq!(found(&mut scanner, 1, &ac, &event), first);
        assert_eq!(scanner.remembered(), 2, "the two long values repeat");
        assert_eq!(
            found(&mut scanner, 1, &ac, &event),
            first,
            "answered from the memo"
        );
        // Another automaton of the set: the memo does not answer for it.
        let other = DoubleArrayAhoCorasick::<u32>::new(["windows"]).unwrap();
        assert_eq!(found_with(&mut scanner, 1, 7, &other, &event), [0]);
        assert_eq!(found(&mut scanner, 1, &ac, &event), first);
        // Another rule set's numbering: forgotten.
        let other = DoubleArrayAhoCorasick::<u32>::new(["cmd"]).unwrap();
        assert!(found(&mut scanner, 2, &other, &event).is_empty());
        assert_eq!(scanner.remembered(), 0);
    }

    #[test]
    fn the_memo_stays_bounded() {
        let ac = DoubleArrayAhoCorasick::<u32>::new(["value"]).unwrap();
        let mut scanner = ValueScanner::default();
        for i in 0..3 * MEMO_ENTRIES {
            let event = serde_json::json!({"a": format!("value number {i}")});
            assert_eq!(found(&mut scanner, 1, &ac, &event), [0]);
            assert_eq!(found(&mut scanner, 1, &ac, &event), [0]);
            assert!(scanner.remembered() <= MEMO_ENTRIES);
            assert!(scanner.seen_once.len() <= SEEN_ONCE_ENTRIES);
        }
    }

    proptest::proptest! {
        #[test]
        fn the_memo_never_changes_what_is_found(
            pool in proptest::collection::vec("[aAbB\\\\ é-]{0,24}", 1..6),
            picks in proptest::collection::vec(0usize..6, 1..60),
        ) {
            let ac = DoubleArrayAhoCorasick::<u32>::new(["ab", "b\\a", "é", " -", "aaaa", "ba b"]).unwrap();
            let mut remembering = ValueScanner::default();
            for pick in picks {
                let value = &pool[pick % pool.len()];
                let event = serde_json::json!({"v": value, "w": [value, 7]});
                let fresh = found(&mut ValueScanner::default(), 1, &ac, &event);
                proptest::prop_assert_eq!(found(&mut remembering, 1, &ac, &event), fresh);
            }
        }
    }
}
