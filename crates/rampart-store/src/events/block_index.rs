//! The embedded store's block directory, in memory: per organisation, the
//! time range of every block, in the order scans read them (newest
//! `max_ts` first). A scan over ten million events visits ten thousand
//! blocks; walking them here costs microseconds, where fetching a row per
//! block from SQLite costs tens of milliseconds.
//!
//! The events file has one writer, this process, and every write updates
//! the directory after it commits. An organisation's directory is read from
//! the file on its first scan; blocks committed meanwhile are kept (the two
//! are united), and a block removed meanwhile may linger as an entry whose
//! block is gone, which scans skip as they skip blocks retention removed.

use std::collections::{BTreeMap, HashMap};

use rampart_core::OrgId;

/// Every organisation's blocks: `(max_ts, id)` → `min_ts`.
#[derive(Debug, Default)]
pub(crate) struct BlockIndex {
    orgs: HashMap<OrgId, OrgBlocks>,
}

#[derive(Debug, Default)]
struct OrgBlocks {
    /// Read from the file once; before that only blocks added since start.
    loaded: bool,
    by_end: BTreeMap<(i64, i64), i64>,
}

/// A block as the directory knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockRange {
    pub id: i64,
    pub min_ts: i64,
    pub max_ts: i64,
}

impl BlockIndex {
    pub(crate) fn is_loaded(&self, org: OrgId) -> bool {
        self.orgs.get(&org).is_some_and(|o| o.loaded)
    }

    /// Adds what was read from the file to what was added meanwhile.
    pub(crate) fn load(&mut self, org: OrgId, blocks: impl IntoIterator<Item = BlockRange>) {
        let entry = self.orgs.entry(org).or_default();
        for b in blocks {
            entry.by_end.insert((b.max_ts, b.id), b.min_ts);
        }
        entry.loaded = true;
    }

    /// Records a block (new, or with a changed range).
    pub(crate) fn put(&mut self, org: OrgId, block: BlockRange) {
        self.orgs
            .entry(org)
            .or_default()
            .by_end
            .insert((block.max_ts, block.id), block.min_ts);
    }

    pub(crate) fn remove(&mut self, org: OrgId, id: i64, max_ts: i64) {
        if let Some(o) = self.orgs.get_mut(&org) {
            o.by_end.remove(&(max_ts, id));
        }
    }

    /// Blocks overlapping `[from, to)` — `max_ts >= from` and
    /// `min_ts < to` — strictly before `after` (a `(max_ts, id)` key),
    /// newest `max_ts` first, at most `limit`.
    pub(crate) fn page(
        &self,
        org: OrgId,
        from: i64,
        to: i64,
        after: Option<(i64, i64)>,
        limit: usize,
    ) -> Vec<BlockRange> {
        let Some(o) = self.orgs.get(&org) else {
            return Vec::new();
        };
        let upper = after.unwrap_or((i64::MAX, i64::MAX));
        o.by_end
            .range(..upper)
            .rev()
            .take_while(|((max_ts, _), _)| *max_ts >= from)
            .filter(|(_, min_ts)| **min_ts < to)
            .take(limit)
            .map(|(&(max_ts, id), &min_ts)| BlockRange { id, min_ts, max_ts })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(id: i64, min_ts: i64, max_ts: i64) -> BlockRange {
        BlockRange { id, min_ts, max_ts }
    }

    #[test]
    fn pages_run_newest_first_within_the_range() {
        let (org, other) = (OrgId::new(), OrgId::new());
        let mut index = BlockIndex::default();
        index.put(org, range(3, 250, 300));
        assert!(!index.is_loaded(org));
        index.load(
            org,
            [range(1, 0, 100), range(2, 50, 300), range(3, 250, 300)],
        );
        index.put(org, range(4, 120, 200));
        index.put(other, range(5, 0, 1000));
        assert!(index.is_loaded(org) && !index.is_loaded(other));

        let page = |from, to, after, limit| -> Vec<(i64, i64)> {
            index
                .page(org, from, to, after, limit)
                .iter()
                .map(|b| (b.id, b.max_ts))
                .collect()
        };
        let all = page(i64::MIN, i64::MAX, None, 10);
        assert_eq!(all, [(3, 300), (2, 300), (4, 200), (1, 100)]);
        // Pages continue after the last key of the one before.
        let first = page(i64::MIN, i64::MAX, None, 2);
        let next = page(i64::MIN, i64::MAX, Some((300, 2)), 2);
        assert_eq!([first, next].concat(), all);
        // [110, 260): block 1 ends before, block 3 starts at 250 < 260.
        assert_eq!(page(110, 260, None, 10), [(3, 300), (2, 300), (4, 200)]);
        // [0, 60): only blocks starting before 60, with their ranges.
        assert_eq!(
            index.page(org, 0, 60, None, 10),
            [range(2, 50, 300), range(1, 0, 100)]
        );

        index.remove(org, 2, 300);
        index.put(org, range(1, 90, 100));
        assert!(index.page(org, 0, 60, None, 10).is_empty());
        assert_eq!(index.page(other, 0, 10, None, 10), [range(5, 0, 1000)]);
    }
}
