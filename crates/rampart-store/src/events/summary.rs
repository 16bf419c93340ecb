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
use super::{bloom, MAX_BLOCK_EVENTS};

/// zstd level of stored postings.
const COMPRESSION_LEVEL: i32 = 1;
/// The most a block's postings can take uncompressed: seven fields, one
/// position (at most three varint bytes) per event, and a key per term.
const MAX_POSTINGS_BYTES: usize = 64 + MAX_BLOCK_EVENTS * 7 * 12;
/// Memory for cached block summaries (a few KB per 1,000 events).
const SUMMARY_CACHE_BYTES: usize = 256 << 20;

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
                rollup,
            })
        });
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
    rollup: Option<Rollup>,
}

impl Summary {
    /// From the stored columns. Unreadable postings only cost pruning, an
    /// unreadable rollup only a read of the block.
    fn new(bloom: &[u8], stored_postings: Option<&[u8]>, stored_rollup: Option<&[u8]>) -> Summary {
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
            rollup: stored_rollup.and_then(Rollup::decode),
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bloom.len()
            + self.postings.as_ref().map_or(0, Postings::bytes)
            + self.rollup.as_ref().map_or(0, Rollup::bytes)
    }

    /// The block's pre-aggregates, when it has them.
    pub(crate) fn rollup(&self) -> Option<&Rollup> {
        self.rollup.as_ref()
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

/// Block summaries kept in memory, newest blocks preferred: scans test
/// them without reading them from disk. Bounded by [`SUMMARY_CACHE_BYTES`].
#[derive(Default)]
pub(crate) struct SummaryCache {
    by_block: BTreeMap<i64, Arc<Summary>>,
    bytes: usize,
}

impl SummaryCache {
    /// The cached summaries of these blocks, and the blocks not cached.
    pub(crate) fn lookup(
        &self,
        blocks: impl IntoIterator<Item = i64>,
    ) -> (Vec<(i64, Arc<Summary>)>, Vec<i64>) {
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        for block in blocks {
            match self.by_block.get(&block) {
                Some(summary) => found.push((block, summary.clone())),
                None => missing.push(block),
            }
        }
        (found, missing)
    }

    /// Reads a block's stored summary columns and caches the result.
    pub(crate) fn read_stored(
        &mut self,
        block: i64,
        bloom: &[u8],
        postings: Option<&[u8]>,
        rollup: Option<&[u8]>,
    ) -> Arc<Summary> {
        let summary = Arc::new(Summary::new(bloom, postings, rollup));
        self.insert(block, summary.clone());
        summary
    }

    pub(crate) fn insert(&mut self, block: i64, summary: Arc<Summary>) {
        self.bytes += summary.bytes();
        if let Some(old) = self.by_block.insert(block, summary) {
            self.bytes -= old.bytes();
        }
        // Evict the oldest blocks: queries look at recent data most.
        while self.bytes > SUMMARY_CACHE_BYTES {
            let Some((_, evicted)) = self.by_block.pop_first() else {
                break;
            };
            self.bytes -= evicted.bytes();
        }
    }

    pub(crate) fn remove(&mut self, block: i64) {
        if let Some(old) = self.by_block.remove(&block) {
            self.bytes -= old.bytes();
        }
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
        let read = Summary::new(
            &prepared.bloom,
            Some(&prepared.postings),
            prepared.rollup.as_deref(),
        );
        assert!(uncached.rollup.is_none());
        let read_raw = Summary::new(&uncached.bloom, Some(&raw), None);
        let cached = prepared.cached.clone().unwrap();
        assert!(read.rollup().is_some() && read.rollup() == cached.rollup());
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
        assert!(Summary::new(&prepared.bloom, Some(b"junk"), None)
            .postings
            .is_none());
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
        let terms_of = |source: &str, destination: Option<&str>| {
            EventFilter {
                source_ip: source.parse().ok(),
                destination_ip: destination.and_then(|d| d.parse().ok()),
                ..EventFilter::default()
            }
            .required_terms()
        };
        let holds = |summary: &Summary, terms: &[(&str, String)]| {
            summary.may_hold(terms, &postings_keys(terms))
        };
        let summary = Summary::new(&prepared.bloom, Some(&prepared.postings), None);
        for present in [
            terms_of("10.0.0.0/8", None),
            terms_of("10.1.0.0/16", None),
            terms_of("10.1.2.0/24", None),
            terms_of("10.1.2.128/25", None),
            terms_of("10.1.0.0/20", Some("2001:db8:5::/48")),
            terms_of("0.0.0.0/0", Some("2001:db8::/32")),
        ] {
            assert!(holds(&summary, &present), "{present:?}");
        }
        for absent in [
            terms_of("11.0.0.0/8", None),
            terms_of("10.2.0.0/16", None),
            terms_of("10.1.9.0/24", None),
            terms_of("10.1.0.0/16", Some("2001:db8:6::/48")),
        ] {
            assert!(!holds(&summary, &absent), "{absent:?}");
        }
        // Postings of version 1 (written before networks were recorded):
        // the same Bloom bytes must not rule a block out by a network.
        let mut old = raw.clone();
        old[0] = 1;
        let summary = Summary::new(&prepared.bloom, Some(&old), None);
        assert!(summary.postings.is_some());
        assert!(holds(&summary, &terms_of("10.2.0.0/16", None)));
        assert!(!holds(&summary, &terms_of("10.1.2.200", None)));
        assert!(holds(
            &Summary::new(&prepared.bloom, None, None),
            &terms_of("11.0.0.0/8", None)
        ));
    }
}
