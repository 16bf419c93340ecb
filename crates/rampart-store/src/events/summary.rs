//! What scans test a block by before reading it: its Bloom summary and its
//! postings. Both are built once per block at ingest (on the request's
//! thread), stored beside the block, and cached in memory by block id.
//! Both backends use them: SQLite beside its event blocks, PostgreSQL in a
//! table of block summaries beside its event rows.

use std::collections::BTreeMap;
use std::sync::Arc;

use rampart_core::Event;

use super::postings::{self, Postings};
use super::rollup::Rollup;
use super::{bloom, grams, MAX_BLOCK_EVENTS};

/// zstd level of stored postings.
const COMPRESSION_LEVEL: i32 = 1;
/// The most a block's postings can take uncompressed: seven fields, one
/// position (at most three varint bytes) per event, a key per term, and
/// the message trigram filter.
const MAX_POSTINGS_BYTES: usize = 64 + MAX_BLOCK_EVENTS * 7 * 12 + grams::MAX_BYTES;
/// Memory for cached block summaries (a few KB per 1,000 events).
const SUMMARY_CACHE_BYTES: usize = 256 << 20;
/// Memory for cached block rollups (a few KB per block).
const ROLLUP_CACHE_BYTES: usize = 192 << 20;

/// A block's summary as prepared at ingest: its time range, the stored
/// forms, and (for a backend that caches at write time) the form scans read.
#[derive(Debug)]
pub(crate) struct PreparedSummary {
    pub min_ts: i64,
    pub max_ts: i64,
    /// The Bloom summary as stored.
    pub bloom: Vec<u8>,
    /// The postings as stored (zstd-compressed).
    pub postings: Vec<u8>,
    /// The block's [`Rollup`] as stored, for a backend that keeps them.
    pub rollup: Option<Vec<u8>>,
    pub cached: Option<Arc<Summary>>,
    /// The rollup as scans read it, for a backend that caches at write time.
    pub cached_rollup: Option<Arc<Option<Rollup>>>,
}

/// How a backend keeps the summaries it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keeping {
    /// Read into the cache at once (SQLite: one node, and the single
    /// writer should not do the reading).
    Cached,
    /// Read into a node's cache only when a search needs them
    /// (PostgreSQL: any node may search).
    Stored,
}

impl PreparedSummary {
    /// Summarises one block's events (at most [`MAX_BLOCK_EVENTS`]), with
    /// their [`Rollup`] when `with_rollup`.
    pub(crate) fn of(events: &[Event], keeping: Keeping, with_rollup: bool) -> PreparedSummary {
        let (bloom, raw_postings) = bloom::summarise(events);
        let rollup = with_rollup.then(|| Rollup::of(events));
        let stored_rollup = rollup.as_ref().map(Rollup::encode);
        let cached = (keeping == Keeping::Cached).then(|| {
            Arc::new(Summary {
                bloom: bloom.as_slice().into(),
                postings: Postings::decode(&raw_postings),
            })
        });
        let cached_rollup = (keeping == Keeping::Cached && with_rollup).then(|| Arc::new(rollup));
        // Compressing in memory does not fail in practice; if it did, the
        // postings are stored raw, which reads back all the same.
        let postings =
            zstd::bulk::compress(&raw_postings, COMPRESSION_LEVEL).unwrap_or(raw_postings);
        PreparedSummary {
            min_ts: events.iter().map(|e| e.timestamp.0).min().unwrap_or(0),
            max_ts: events.iter().map(|e| e.timestamp.0).max().unwrap_or(0),
            bloom,
            postings,
            rollup: stored_rollup,
            cached,
            cached_rollup,
        }
    }
}

/// The postings keys of a filter's required terms, in their order.
pub(crate) fn postings_keys(terms: &[(&str, String)]) -> Vec<(u8, u32)> {
    terms
        .iter()
        .filter_map(|(field, value)| {
            let hash = bloom::term_hash(field, value);
            Some((bloom::field_index(field)?, postings::term_key(hash)))
        })
        .collect()
}

/// What scans test a block by before opening it: its Bloom summary and,
/// for blocks written since they exist, its postings.
#[derive(Debug)]
pub(crate) struct Summary {
    bloom: Box<[u8]>,
    postings: Option<Postings>,
}

impl Summary {
    /// From the stored columns. Unreadable postings only cost pruning.
    fn new(bloom: &[u8], stored_postings: Option<&[u8]>) -> Summary {
        let postings = stored_postings.and_then(|stored| {
            if Postings::is_raw(stored) {
                return Postings::decode(stored);
            }
            let raw = zstd::bulk::decompress(stored, MAX_POSTINGS_BYTES).ok()?;
            Postings::decode(&raw)
        });
        Summary {
            bloom: bloom.into(),
            postings,
        }
    }

    /// False when no event of the block can hold every term: one is
    /// certainly absent (Bloom, postings), or they never meet in one event
    /// (postings). `keys` are the terms' postings keys, in `terms` order.
    pub(crate) fn may_hold(&self, terms: &[(&str, String)], keys: &[(u8, u32)]) -> bool {
        // Postings answer exactly for the fields they index; the Bloom
        // summary for the others.
        let indexed = |field: &str| {
            self.postings
                .as_ref()
                .zip(bloom::field_index(field))
                .is_some_and(|(p, i)| p.indexes(i))
        };
        // Address networks are in the Bloom summaries of newer blocks only.
        let unrecorded = |field: &str| {
            bloom::is_network_field(field)
                && !self
                    .postings
                    .as_ref()
                    .is_some_and(Postings::summary_has_networks)
        };
        self.postings.as_ref().is_none_or(|p| p.may_hold_all(keys))
            && terms.iter().all(|(field, value)| {
                indexed(field) || unrecorded(field) || bloom::may_contain(&self.bloom, field, value)
            })
    }
}

impl Summary {
    /// Whether the block may hold messages that contain, for each group,
    /// one of its needles, ignoring case (see
    /// [`rampart_core::EventFilter::message_needles`]).
    pub(crate) fn may_hold_text(&self, groups: &[Vec<String>]) -> bool {
        let Some(postings) = &self.postings else {
            return true;
        };
        let filter = postings.grams();
        groups.iter().all(|group| {
            group
                .iter()
                .any(|needle| grams::may_contain(filter, needle))
        })
    }

    /// Whether the block may hold events that carry, for each group, one
    /// of its terms (see [`rampart_core::EventFilter::any_of_terms`]).
    pub(crate) fn may_hold_any(&self, groups: &[Vec<(&str, String)>]) -> bool {
        groups.iter().all(|group| {
            group.iter().any(|term| {
                self.may_hold(
                    std::slice::from_ref(term),
                    &postings_keys(std::slice::from_ref(term)),
                )
            })
        })
    }
}

/// What a [`BlockCache`] counts against its budget.
pub(crate) trait CacheBytes {
    fn cache_bytes(&self) -> usize;
}

impl CacheBytes for Summary {
    fn cache_bytes(&self) -> usize {
        self.bloom.len() + self.postings.as_ref().map_or(0, Postings::bytes)
    }
}

/// A block's rollup, or `None` for a block stored without one (so that
/// it is not looked up again).
impl CacheBytes for Option<Rollup> {
    fn cache_bytes(&self) -> usize {
        8 + self.as_ref().map_or(0, Rollup::bytes)
    }
}

/// What is known of blocks, kept in memory by block id, newest blocks
/// preferred (queries look at recent data most), within a byte budget:
/// scans test summaries and add up rollups without reading them from disk.
pub(crate) struct BlockCache<V> {
    by_block: BTreeMap<i64, Arc<V>>,
    bytes: usize,
    budget: usize,
}

/// Summaries of blocks, within [`SUMMARY_CACHE_BYTES`].
pub(crate) type SummaryCache = BlockCache<Summary>;
/// Rollups of blocks, within [`ROLLUP_CACHE_BYTES`].
pub(crate) type RollupCache = BlockCache<Option<Rollup>>;

impl Default for SummaryCache {
    fn default() -> Self {
        BlockCache::with_budget(SUMMARY_CACHE_BYTES)
    }
}

impl Default for RollupCache {
    fn default() -> Self {
        BlockCache::with_budget(ROLLUP_CACHE_BYTES)
    }
}

impl<V: CacheBytes> BlockCache<V> {
    fn with_budget(budget: usize) -> Self {
        BlockCache {
            by_block: BTreeMap::new(),
            bytes: 0,
            budget,
        }
    }

    /// The cached values of these blocks, and the blocks not cached.
    pub(crate) fn lookup(
        &self,
        blocks: impl IntoIterator<Item = i64>,
    ) -> (Vec<(i64, Arc<V>)>, Vec<i64>) {
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        for block in blocks {
            match self.by_block.get(&block) {
                Some(value) => found.push((block, value.clone())),
                None => missing.push(block),
            }
        }
        (found, missing)
    }

    pub(crate) fn insert(&mut self, block: i64, value: Arc<V>) {
        self.bytes += value.cache_bytes();
        if let Some(old) = self.by_block.insert(block, value) {
            self.bytes -= old.cache_bytes();
        }
        while self.bytes > self.budget {
            let Some((_, evicted)) = self.by_block.pop_first() else {
                break;
            };
            self.bytes -= evicted.cache_bytes();
        }
    }

    pub(crate) fn remove(&mut self, block: i64) {
        if let Some(old) = self.by_block.remove(&block) {
            self.bytes -= old.cache_bytes();
        }
    }
}

impl SummaryCache {
    /// Reads a block's stored summary columns and caches the result.
    pub(crate) fn read_stored(
        &mut self,
        block: i64,
        bloom: &[u8],
        postings: Option<&[u8]>,
    ) -> Arc<Summary> {
        let summary = Arc::new(Summary::new(bloom, postings));
        self.insert(block, summary.clone());
        summary
    }
}

impl RollupCache {
    /// Reads a block's stored rollup column and caches the result; an
    /// unreadable rollup counts as none (the block is then read instead).
    pub(crate) fn read_stored(&mut self, block: i64, stored: Option<&[u8]>) -> Arc<Option<Rollup>> {
        let rollup = Arc::new(stored.and_then(Rollup::decode));
        self.insert(block, rollup.clone());
        rollup
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::EventFilter;

    #[test]
    fn stored_postings_read_back_as_prepared() {
        let events: Vec<Event> = (0..64)
            .map(|i| Event {
                host: Some(format!("host{}", i % 2)),
                user: Some(format!("user{}", i % 4)),
                ..Event::default()
            })
            .collect();
        let prepared = PreparedSummary::of(&events, Keeping::Cached, true);
        let uncached = PreparedSummary::of(&events, Keeping::Stored, false);
        assert!(uncached.cached.is_none());
        // Raw postings (as a failed compression would leave them) read too.
        let (_, raw) = bloom::summarise(&events);
        let read = Summary::new(&prepared.bloom, Some(&prepared.postings));
        assert!(uncached.rollup.is_none() && uncached.cached_rollup.is_none());
        let mut rollups = RollupCache::default();
        let stored = rollups.read_stored(1, prepared.rollup.as_deref());
        assert!(stored.is_some() && Some(&stored) == prepared.cached_rollup.as_ref());
        assert!(rollups.read_stored(2, Some(b"junk")).is_none());
        let read_raw = Summary::new(&uncached.bloom, Some(&raw));
        let cached = prepared.cached.clone().unwrap();
        // user1 is at odd positions only, host0 at even ones.
        let never = [
            ("host.name", "host0".to_owned()),
            ("user.name", "user1".to_owned()),
        ];
        let meet = [
            ("host.name", "host1".to_owned()),
            ("user.name", "user1".to_owned()),
        ];
        for summary in [&read, &read_raw, &*cached] {
            assert!(summary.postings.is_some());
            assert!(!summary.may_hold(&never, &postings_keys(&never)));
            assert!(summary.may_hold(&meet, &postings_keys(&meet)));
        }
        // Damaged postings are ignored, not trusted.
        assert!(Summary::new(&prepared.bloom, Some(b"junk"))
            .postings
            .is_none());
    }

    #[test]
    fn message_trigrams_rule_out_blocks_without_the_text() {
        let events: Vec<Event> = (0..500)
            .map(|i| Event {
                message: Some(format!(
                    "Accepted publickey for deploy{i} from 10.0.0.{}",
                    i % 200
                )),
                ..Event::default()
            })
            .collect();
        let prepared = PreparedSummary::of(&events, Keeping::Stored, false);
        let summary = Summary::new(&prepared.bloom, Some(&prepared.postings));
        let needles = |list: &[&[&str]]| -> Vec<Vec<String>> {
            list.iter()
                .map(|g| g.iter().map(|s| (*s).to_owned()).collect())
                .collect()
        };
        assert!(summary.may_hold_text(&needles(&[&["PUBLICKEY"], &["deploy499"]])));
        assert!(summary.may_hold_text(&needles(&[&["mimikatz", "deploy12 "]])));
        assert!(summary.may_hold_text(&[]));
        assert!(!summary.may_hold_text(&needles(&[&["publickey"], &["mimikatz"]])));
        assert!(!summary.may_hold_text(&needles(&[&["mimikatz", "powershell"]])));
        // Blocks written before trigrams were recorded are always read.
        assert!(Summary::new(&prepared.bloom, None).may_hold_text(&needles(&[&["mimikatz"]])));
    }

    #[test]
    fn networks_rule_blocks_out_only_where_the_summary_records_them() {
        let events: Vec<Event> = (0..200)
            .map(|i| Event {
                source_ip: format!("10.1.{}.{}", i % 4, i).parse().ok(),
                destination_ip: "2001:db8:5::1".parse().ok(),
                ..Event::default()
            })
            .collect();
        let prepared = PreparedSummary::of(&events, Keeping::Stored, false);
        let (_, raw) = bloom::summarise(&events);
        let terms_of = |source: &str, destination: Option<&str>| EventFilter {
            source_ip: source.parse().ok(),
            destination_ip: destination.and_then(|d| d.parse().ok()),
            ..EventFilter::default()
        };
        let holds = |summary: &Summary, filter: &EventFilter| {
            let terms = filter.required_terms();
            summary.may_hold(&terms, &postings_keys(&terms))
                && summary.may_hold_any(&filter.any_of_terms())
        };
        let summary = Summary::new(&prepared.bloom, Some(&prepared.postings));
        for present in [
            terms_of("10.0.0.0/8", None),
            terms_of("10.1.0.0/16", None),
            terms_of("10.1.2.0/24", None),
            terms_of("10.1.2.128/25", None),
            terms_of("10.1.0.0/20", Some("2001:db8:5::/48")),
            terms_of("0.0.0.0/0", Some("2001:db8::/32")),
            // Prefixes between the recorded ones: any of their parts.
            terms_of("10.0.0.0/15", None),
            terms_of("10.1.0.0/22", None),
            terms_of("8.0.0.0/6", Some("2001:db8:4::/47")),
        ] {
            assert!(holds(&summary, &present), "{present:?}");
        }
        for absent in [
            terms_of("11.0.0.0/8", None),
            terms_of("10.2.0.0/16", None),
            terms_of("10.1.9.0/24", None),
            terms_of("10.1.0.0/16", Some("2001:db8:6::/48")),
            terms_of("10.2.0.0/15", None),
            terms_of("10.1.4.0/22", None),
            terms_of("12.0.0.0/6", None),
            terms_of("10.1.0.0/16", Some("2001:db8:6::/47")),
        ] {
            assert!(!holds(&summary, &absent), "{absent:?}");
        }
        // Postings of version 1 (written before networks were recorded):
        // the same Bloom bytes must not rule a block out by a network.
        // Without the (empty) trigram filter that version 3 appends.
        let mut old = raw.clone();
        assert_eq!(old.pop(), Some(0), "no messages, no trigrams");
        old[0] = 1;
        let summary = Summary::new(&prepared.bloom, Some(&old));
        assert!(summary.postings.is_some());
        assert!(holds(&summary, &terms_of("10.2.0.0/16", None)));
        assert!(!holds(&summary, &terms_of("10.1.2.200", None)));
        assert!(holds(
            &Summary::new(&prepared.bloom, None),
            &terms_of("11.0.0.0/8", None)
        ));
    }
}
