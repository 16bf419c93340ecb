//! Events on SQLite as compressed blocks: each block holds up to
//! [`MAX_BLOCK_EVENTS`] events of one organisation, stored as [`framed`]
//! (compressed frames of [`super::codec`]-encoded events after their address
//! hashes), with its time range and its [`summary`] (a Bloom filter of its
//! terms and their postings).
//! One row per block instead of one per event (plus two index entries) is
//! what lets one SQLite writer keep up with the ingest rate; queries read
//! summaries newest first and open only blocks that can match.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rampart_core::event::Filterable;
use rampart_core::hunt::{CountBy, KeyEncoder};
use rampart_core::{Event, EventFilter, EventId, OrgId, Timestamp};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row as _, SqlitePool};

use super::block_index::{BlockIndex, BlockRange};
use super::framed::{self, Addresses};
use super::rollup::{self, StatsTotals};
use super::rollup::{Rollup, RollupCount};
use super::summary::{self, Keeping, PreparedSummary, RollupCache, Summary, SummaryCache};
use super::{
    top_values, Counted, EventCursor, EventStats, Payload, PreparedEvents, StatsRequest,
    MAX_BLOCK_EVENTS, TOMBSTONE,
};
use crate::{Result, StoreError};

/// What a scan asks of each block before reading it: true when the caller
/// took the block from its range and rollup alone.
type Absorb<'a> = dyn FnMut(&BlockRange, &Rollup) -> bool + Send + 'a;

/// Counts per byte key ([`KeyEncoder`]), and the events read.
#[derive(Default)]
struct ByteCounts {
    counts: HashMap<Vec<u8>, u64, foldhash::fast::RandomState>,
    read: u64,
}

impl ByteCounts {
    fn add(&mut self, other: ByteCounts) {
        self.read += other.read;
        if self.counts.is_empty() {
            self.counts = other.counts;
            return;
        }
        for (key, n) in other.counts {
            *self.counts.entry(key).or_default() += n;
        }
    }
}

/// A block just written: its id, summary and rollup as scans read them.
type NewlyCached = (i64, Option<Arc<Summary>>, Option<Arc<Option<Rollup>>>);

/// Block ranges read per round trip while scanning.
const SUMMARY_PAGE: usize = 1024;
/// Most blocks a scan reads in one trip.
const MAX_READ_CHUNK: usize = 16;
/// Most blocking threads one scan decodes on at once.
const MAX_SCAN_THREADS: usize = 4;
/// One encoded, compressed block ready to insert.
#[derive(Debug)]
pub(crate) struct PreparedBlock {
    count: usize,
    summary: PreparedSummary,
    data: Vec<u8>,
}

/// The event tables' own database file, beside the main one, so the
/// ingest writer never waits for (or blocks) other writes.
pub(crate) struct SqliteEvents {
    pool: SqlitePool,
    migrator: Migrator,
    summaries: Mutex<SummaryCache>,
    rollups: Mutex<RollupCache>,
    blocks: Mutex<BlockIndex>,
    /// Blocking threads one scan spreads its blocks over: the cores, up to
    /// [`MAX_SCAN_THREADS`].
    scan_threads: usize,
}

impl SqliteEvents {
    /// SQLite has one writer: concurrent transactions would only queue.
    pub(crate) const CONCURRENT_WRITERS: usize = 1;

    pub(crate) async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Acknowledged means on disk: fsync at every (group) commit.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(6)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            migrator: crate::migrations::sqlite_events(),
            summaries: Mutex::new(SummaryCache::default()),
            rollups: Mutex::new(RollupCache::default()),
            blocks: Mutex::new(BlockIndex::default()),
            scan_threads: std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, MAX_SCAN_THREADS),
        })
    }

    pub(crate) async fn migrate(&self) -> Result<()> {
        self.migrator.run(&self.pool).await?;
        Ok(())
    }

    pub(crate) async fn migrations_current(&self) -> Result<bool> {
        crate::migrations::current(&self.pool, &self.migrator).await
    }

    pub(crate) async fn close(&self) {
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await
        {
            tracing::warn!(%error, "final WAL checkpoint of the event store failed");
        }
        self.pool.close().await;
    }

    pub(crate) fn prepare(org: OrgId, events: Vec<Event>) -> PreparedEvents {
        let count = events.len();
        let blocks = events
            .chunks(MAX_BLOCK_EVENTS)
            .map(|chunk| {
                let summary = PreparedSummary::of(chunk, Keeping::Cached, true);
                let data = framed::encode(chunk);
                PreparedBlock {
                    count: chunk.len(),
                    summary,
                    data,
                }
            })
            .collect();
        PreparedEvents {
            org,
            count,
            payload: Payload::Blocks(blocks),
        }
    }

    pub(crate) async fn append(&self, batches: &[PreparedEvents]) -> Result<Vec<Vec<EventId>>> {
        let mut tx = self.pool.begin().await?;
        let mut all_ids = Vec::with_capacity(batches.len());
        let mut new_summaries = Vec::new();
        let mut new_ranges = Vec::new();
        for batch in batches {
            let Payload::Blocks(blocks) = &batch.payload else {
                tx.rollback().await?;
                return Err(StoreError::Corrupt {
                    column: "events",
                    detail: "events prepared for another backend".into(),
                });
            };
            let mut ids = Vec::with_capacity(batch.count);
            for block in blocks {
                let inserted = sqlx::query(
                    "INSERT INTO event_blocks (org_id, min_ts, max_ts, count, summary, postings, data) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(batch.org.to_string())
                .bind(block.summary.min_ts)
                .bind(block.summary.max_ts)
                .bind(block.count as i64)
                .bind(&block.summary.bloom)
                .bind(&block.summary.postings)
                .bind(&block.data)
                .execute(&mut *tx)
                .await;
                let block_id = match inserted {
                    Ok(done) => done.last_insert_rowid(),
                    Err(e) => {
                        tx.rollback().await?;
                        return Err(e.into());
                    }
                };
                if let Some(rollup) = &block.summary.rollup {
                    let stored = store_rollup(&mut *tx, block_id, rollup).await;
                    if let Err(e) = stored {
                        tx.rollback().await?;
                        return Err(e);
                    }
                }
                new_ranges.push((
                    batch.org,
                    BlockRange {
                        id: block_id,
                        min_ts: block.summary.min_ts,
                        max_ts: block.summary.max_ts,
                    },
                ));
                new_summaries.push((
                    block_id,
                    block.summary.cached.clone(),
                    block.summary.cached_rollup.clone(),
                ));
                let block_id = u64::try_from(block_id).unwrap_or_default();
                ids.extend((0..block.count).map(|i| EventId::new(block_id, i)));
            }
            all_ids.push(ids);
        }
        tx.commit().await?;
        {
            let mut blocks = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
            for (org, range) in new_ranges {
                blocks.put(org, range);
            }
        }
        self.cache_new(new_summaries);
        Ok(all_ids)
    }

    /// The stored (compressed) bytes of these blocks, in the order asked
    /// (`None` for one removed meanwhile), in one query.
    async fn stored_blocks(&self, org: OrgId, blocks: &[i64]) -> Result<Vec<Option<Vec<u8>>>> {
        let mut sql = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT id, data FROM event_blocks WHERE org_id = ",
        );
        sql.push_bind(org.to_string()).push(" AND id IN (");
        let mut list = sql.separated(", ");
        for block in blocks {
            list.push_bind(*block);
        }
        sql.push(")");
        let mut rows: HashMap<i64, Vec<u8>> = sql
            .build_query_as::<(i64, Vec<u8>)>()
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .collect();
        Ok(blocks.iter().map(|block| rows.remove(block)).collect())
    }

    /// Reads these blocks and runs `work` on each one's stored bytes,
    /// spread over up to `scan_threads` blocking threads (each takes a
    /// contiguous share), answering in the order asked (`None` for a block
    /// removed meanwhile). One query, and one trip to a blocking thread per
    /// share: a trip per block cost scans more than decoding.
    async fn read_blocks<T, W>(
        &self,
        org: OrgId,
        blocks: &[i64],
        work: &Arc<W>,
    ) -> Result<Vec<Option<T>>>
    where
        T: Send + 'static,
        W: Fn(i64, &[u8]) -> Result<T> + Send + Sync + 'static,
    {
        let stored = self.stored_blocks(org, blocks).await?;
        let share = blocks.len().div_ceil(self.scan_threads).max(1);
        let mut tasks = Vec::with_capacity(self.scan_threads);
        let mut stored = stored.into_iter();
        for ids in blocks.chunks(share) {
            let part: Vec<(i64, Option<Vec<u8>>)> =
                ids.iter().copied().zip(stored.by_ref()).collect();
            let work = Arc::clone(work);
            tasks.push(tokio::task::spawn_blocking(move || {
                part.into_iter()
                    .map(|(block, data)| data.map(|data| work(block, &data)).transpose())
                    .collect::<Result<Vec<_>>>()
            }));
        }
        let mut results = Vec::with_capacity(blocks.len());
        for task in tasks {
            let done = task
                .await
                .map_err(|e| corrupt(format!("block decoder stopped: {e}")))??;
            results.extend(done);
        }
        Ok(results)
    }

    async fn block_data(&self, org: OrgId, block: i64) -> Result<Option<Vec<Event>>> {
        let decode = Arc::new(|_: i64, stored: &[u8]| framed::decode(stored).map_err(corrupt));
        Ok(self
            .read_blocks(org, &[block], &decode)
            .await?
            .pop()
            .flatten())
    }

    /// Block ranges overlapping `[from, to)`, newest `max_ts` first, one
    /// page after `after` (a `(max_ts, id)` key), from the in-memory
    /// directory (read from the file on the organisation's first scan).
    async fn ranges(
        &self,
        org: OrgId,
        from: i64,
        to: i64,
        after: Option<(i64, i64)>,
    ) -> Result<Vec<BlockRange>> {
        let loaded = self
            .blocks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_loaded(org);
        if !loaded {
            let rows = sqlx::query(
                "SELECT id, min_ts, max_ts FROM event_blocks INDEXED BY event_blocks_org_range \
                 WHERE org_id = $1",
            )
            .bind(org.to_string())
            .fetch_all(&self.pool)
            .await?;
            let blocks = rows
                .iter()
                .map(|row| {
                    Ok(BlockRange {
                        id: row.try_get("id")?,
                        min_ts: row.try_get("min_ts")?,
                        max_ts: row.try_get("max_ts")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            self.blocks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .load(org, blocks);
        }
        Ok(self.blocks.lock().unwrap_or_else(|p| p.into_inner()).page(
            org,
            from,
            to,
            after,
            SUMMARY_PAGE,
        ))
    }

    /// The summaries of these blocks, from the cache or, for misses, disk.
    async fn summaries(&self, blocks: &[i64]) -> Result<HashMap<i64, Arc<Summary>>> {
        let (found, missing) = self
            .summaries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .lookup(blocks.iter().copied());
        let mut found: HashMap<i64, Arc<Summary>> = found.into_iter().collect();
        for chunk in missing.chunks(500) {
            let mut sql = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT id, summary, postings FROM event_blocks WHERE id IN (",
            );
            let mut list = sql.separated(", ");
            for block in chunk {
                list.push_bind(*block);
            }
            sql.push(")");
            let rows = sql.build().fetch_all(&self.pool).await?;
            let mut cache = self.summaries.lock().unwrap_or_else(|p| p.into_inner());
            for row in rows {
                let id: i64 = row.try_get("id")?;
                let summary =
                    cache.read_stored(id, row.try_get("summary")?, row.try_get("postings")?);
                found.insert(id, summary);
            }
        }
        Ok(found)
    }

    /// The rollups of these blocks (`None` for a block without one), from
    /// the cache or, for misses, the rollup column alone.
    async fn rollups(&self, blocks: &[i64]) -> Result<HashMap<i64, Arc<Option<Rollup>>>> {
        let (found, missing) = self
            .rollups
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .lookup(blocks.iter().copied());
        let mut found: HashMap<i64, Arc<Option<Rollup>>> = found.into_iter().collect();
        for chunk in missing.chunks(500) {
            let mut sql = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT block_id AS id, rollup FROM event_block_rollups WHERE block_id IN (",
            );
            let mut list = sql.separated(", ");
            for block in chunk {
                list.push_bind(*block);
            }
            sql.push(")");
            let rows = sql.build().fetch_all(&self.pool).await?;
            let mut cache = self.rollups.lock().unwrap_or_else(|p| p.into_inner());
            for row in rows {
                let id: i64 = row.try_get("id")?;
                let rollup = cache.read_stored(id, row.try_get("rollup")?);
                found.insert(id, rollup);
            }
        }
        Ok(found)
    }

    /// Caches what was just written: blocks' summaries and rollups.
    fn cache_new(&self, written: Vec<NewlyCached>) {
        let mut summaries = self.summaries.lock().unwrap_or_else(|p| p.into_inner());
        let mut rollups = self.rollups.lock().unwrap_or_else(|p| p.into_inner());
        for (block, summary, rollup) in written {
            if let Some(summary) = summary {
                summaries.insert(block, summary);
            }
            if let Some(rollup) = rollup {
                rollups.insert(block, rollup);
            }
        }
    }

    /// Runs `work` on the stored bytes of every block of the range
    /// that the filter's summary terms do not rule out (on blocking threads,
    /// several blocks at once), and calls `merge` with each block's id,
    /// newest timestamp and result, newest block first, until it returns
    /// false. A block that `absorb` takes (from its range and summary) is
    /// not read.
    async fn scan<T, W>(
        &self,
        org: OrgId,
        filter: &EventFilter,
        upper: Option<Timestamp>,
        work: W,
        mut merge: impl FnMut(i64, i64, T) -> Result<bool>,
        mut absorb: Option<&mut Absorb<'_>>,
    ) -> Result<()>
    where
        T: Send + 'static,
        W: Fn(i64, &[u8]) -> Result<T> + Send + Sync + 'static,
    {
        let work = Arc::new(work);
        let from = filter.from.map_or(i64::MIN, |t| t.0);
        let mut to = filter.to.map_or(i64::MAX, |t| t.0);
        if let Some(upper) = upper {
            // Blocks starting after the cursor cannot hold older events.
            to = to.min(upper.0.saturating_add(1));
        }
        let terms = filter.required_terms();
        let groups = filter.any_of_terms();
        let needles = filter.message_needles();
        let keys = summary::postings_keys(&terms);
        let mut after = None;
        let mut read_size = 1usize;
        loop {
            let page = self.ranges(org, from, to, after).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = Some((last.max_ts, last.id));
            let full = page.len() == SUMMARY_PAGE;
            let ids: Vec<i64> = page.iter().map(|b| b.id).collect();
            let summaries = if terms.is_empty() && groups.is_empty() && needles.is_empty() {
                HashMap::new()
            } else {
                self.summaries(&ids).await?
            };
            let page: Vec<BlockRange> = page
                .into_iter()
                .filter(|block| {
                    summaries.get(&block.id).is_none_or(|summary| {
                        summary.may_hold(&terms, &keys)
                            && summary.may_hold_any(&groups)
                            && summary.may_hold_text(&needles)
                    })
                })
                .collect();
            // Rollups only of blocks the summaries left, and only when the
            // caller can use them (or a severity floor can rule blocks
            // out): a cold start reads this small column, not the summaries.
            let rollups = if absorb.is_some() || filter.min_severity.is_some() {
                let ids: Vec<i64> = page.iter().map(|b| b.id).collect();
                self.rollups(&ids).await?
            } else {
                HashMap::new()
            };
            let candidates: Vec<(i64, i64)> = page
                .into_iter()
                .filter(|block| {
                    let rollup = rollups.get(&block.id).and_then(|r| r.as_ref().as_ref());
                    let possible = filter.min_severity.is_none_or(|floor| {
                        rollup.is_none_or(|rollup| rollup.may_hold_severity(floor))
                    });
                    possible
                        && !absorb
                            .as_mut()
                            .zip(rollup)
                            .is_some_and(|(absorb, rollup)| absorb(block, rollup))
                })
                .map(|block| (block.id, block.max_ts))
                .collect();
            // Read in growing chunks: a search that the first block
            // satisfies reads one, one that needs many makes few trips.
            let mut rest = &candidates[..];
            while !rest.is_empty() {
                let (chunk, later) = rest.split_at(read_size.min(rest.len()));
                rest = later;
                read_size = (read_size * 2).min(MAX_READ_CHUNK);
                let ids: Vec<i64> = chunk.iter().map(|(block, _)| *block).collect();
                let read = self.read_blocks(org, &ids, &work).await?;
                for (&(block, max_ts), done) in chunk.iter().zip(read) {
                    let Some(done) = done else {
                        continue; // removed meanwhile by retention
                    };
                    if !merge(block, max_ts, done)? {
                        return Ok(());
                    }
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    pub(crate) async fn query(
        &self,
        org: OrgId,
        filter: &EventFilter,
        after: Option<EventCursor>,
        limit: u32,
    ) -> Result<Vec<(EventId, Event)>> {
        let limit = limit.clamp(1, 1000) as usize;
        let mut best: Vec<(EventCursor, Event)> = Vec::with_capacity(limit + 1);
        // The oldest key of a full page, shared with the decoding threads so
        // that they skip events it already beats (a stale value only lets
        // more through: the merge below checks again).
        let worst_shared: Arc<Mutex<Option<EventCursor>>> = Arc::new(Mutex::new(None));
        let wanted = filter.clone();
        let addresses = Addresses::of(filter);
        let worst_seen = Arc::clone(&worst_shared);
        let pick = move |block: i64, stored: &[u8]| {
            let worst = *worst_seen.lock().unwrap_or_else(|p| p.into_inner());
            let block_id = u64::try_from(block).unwrap_or_default();
            let key_of = |index: usize, timestamp: Timestamp| EventCursor {
                timestamp,
                id: EventId::new(block_id, index),
            };
            let mut found = Vec::new();
            framed::scan(
                stored,
                &addresses,
                |index, event| {
                    let key = key_of(index, event.timestamp());
                    event.timestamp() != TOMBSTONE
                        && after.is_none_or(|a| key < a)
                        && worst.is_none_or(|w| key > w)
                        && wanted.matches(event)
                },
                |index, event| found.push((key_of(index, event.timestamp()), event)),
            )
            .map_err(corrupt)?;
            Ok(found)
        };
        self.scan(
            org,
            filter,
            after.map(|c| c.timestamp),
            pick,
            |_, max_ts, found| {
                let worst = (best.len() == limit)
                    .then(|| best.last().map(|(k, _)| *k))
                    .flatten();
                // Once the page is full, a block whose newest event is older
                // than the page's oldest cannot contribute, nor can any after it.
                if worst.is_some_and(|w| max_ts < w.timestamp.0) {
                    return Ok(false);
                }
                for (key, event) in found {
                    if best.len() == limit && best.last().is_some_and(|(k, _)| key <= *k) {
                        continue;
                    }
                    let at = best.partition_point(|(k, _)| *k > key);
                    best.insert(at, (key, event));
                    best.truncate(limit);
                }
                if best.len() == limit {
                    *worst_shared.lock().unwrap_or_else(|p| p.into_inner()) =
                        best.last().map(|(k, _)| *k);
                }
                Ok(true)
            },
            None,
        )
        .await?;
        Ok(best.into_iter().map(|(k, e)| (k.id, e)).collect())
    }

    /// Counts per key of the events the filter keeps, on events read in
    /// place (no event is decoded whole), several blocks at once; `None`
    /// when the condition names fields only whole events have.
    pub(crate) async fn count(
        &self,
        org: OrgId,
        filter: &EventFilter,
        by: &CountBy,
    ) -> Result<Option<Counted>> {
        let Some(encoder) = KeyEncoder::new(by) else {
            return Ok(None);
        };
        if filter
            .condition
            .as_ref()
            .is_some_and(|c| !c.decided_in_place())
        {
            return Ok(None);
        }
        // Blocks whose rollups say the counts are not read.
        let plan = RollupCount::plan(filter, by);
        let wanted = filter.clone();
        let addresses = Addresses::of(filter);
        let encoder = Arc::new(encoder);
        let block_encoder = encoder.clone();
        // Keys stay bytes until the end: nothing is formatted per event.
        let count = move |_block: i64, stored: &[u8]| {
            let mut counted = ByteCounts::default();
            let mut key = Vec::new();
            // A plain count (no key) needs no map.
            let plain = block_encoder.is_empty();
            let mut matched = 0u64;
            framed::scan(
                stored,
                &addresses,
                |_, event| {
                    counted.read += 1;
                    if event.timestamp() != TOMBSTONE && wanted.matches(event) {
                        if plain {
                            matched += 1;
                            return false;
                        }
                        block_encoder.encode(event, &mut key);
                        match counted.counts.get_mut(key.as_slice()) {
                            Some(n) => *n += 1,
                            None => {
                                counted.counts.insert(key.clone(), 1);
                            }
                        }
                    }
                    false
                },
                |_, _| {},
            )
            .map_err(corrupt)?;
            if matched > 0 {
                counted.counts.insert(Vec::new(), matched);
            }
            Ok(counted)
        };
        let mut from_rollups = Counted::default();
        let mut absorb = |block: &BlockRange, rollup: &Rollup| {
            plan.as_ref().is_some_and(|plan| {
                plan.absorb(block.min_ts, block.max_ts, rollup, &mut from_rollups)
            })
        };
        let mut read = ByteCounts::default();
        self.scan(
            org,
            filter,
            None,
            count,
            |_, _, counted| {
                read.add(counted);
                Ok(true)
            },
            plan.is_some().then_some(&mut absorb as _),
        )
        .await?;
        let mut total = from_rollups;
        total.read += read.read;
        for (key, n) in read.counts {
            *total.counts.entry(encoder.decode(&key)).or_default() += n;
        }
        Ok(Some(total))
    }

    /// Every event the filter keeps, block by block (newest blocks first,
    /// several decoded at once on blocking threads), each once.
    pub(crate) async fn scan_all(
        &self,
        org: OrgId,
        filter: &EventFilter,
        each: &mut (dyn FnMut(EventId, Event) -> bool + Send),
    ) -> Result<()> {
        let wanted = filter.clone();
        let addresses = Addresses::of(filter);
        let pick = move |block: i64, stored: &[u8]| {
            let block_id = u64::try_from(block).unwrap_or_default();
            let mut found = Vec::new();
            framed::scan(
                stored,
                &addresses,
                |_, event| event.timestamp() != TOMBSTONE && wanted.matches(event),
                |index, event| found.push((EventId::new(block_id, index), event)),
            )
            .map_err(corrupt)?;
            Ok(found)
        };
        self.scan(
            org,
            filter,
            None,
            pick,
            |_, _, found| {
                for (id, event) in found {
                    if !each(id, event) {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
            None,
        )
        .await
    }

    pub(crate) async fn get(&self, org: OrgId, id: EventId) -> Result<Option<Event>> {
        let Ok(block) = i64::try_from(id.block()) else {
            return Ok(None);
        };
        let index = id.index();
        let one =
            Arc::new(move |_: i64, stored: &[u8]| framed::get(stored, index).map_err(corrupt));
        let event = self.read_blocks(org, &[block], &one).await?.pop().flatten();
        Ok(event.flatten().filter(|e| e.timestamp != TOMBSTONE))
    }

    /// Counts over the filter's events. A filter of a time range alone,
    /// with minute-multiple buckets, adds up the rollups of the blocks
    /// wholly inside the range and reads only the others.
    pub(crate) async fn stats(&self, org: OrgId, request: &StatsRequest<'_>) -> Result<EventStats> {
        let bucket = request.bucket_ms.max(1);
        let wanted = request.filter.clone();
        let addresses = Addresses::of(request.filter);
        let top_field = request.top_field.map(str::to_owned);
        // Each block is counted on the borrowed view (nothing is kept,
        // nothing allocated but the top field's values), then merged.
        let count = move |_: i64, stored: &[u8]| {
            let mut part = StatsTotals::default();
            framed::scan(
                stored,
                &addresses,
                |_, event| {
                    part.read += 1;
                    if event.timestamp() != TOMBSTONE && wanted.matches(event) {
                        let value = top_field.as_deref().and_then(|f| event.field_text(f));
                        part.count(event.timestamp().0, bucket, value);
                    }
                    false
                },
                |_, _| {},
            )
            .map_err(corrupt)?;
            Ok(part)
        };
        let from = request.filter.from.map_or(i64::MIN, |t| t.0);
        let to = request.filter.to.map_or(i64::MAX, |t| t.0);
        let rollups_answer = request.filter.is_time_range_only()
            && bucket % rollup::MINUTE_MS == 0
            && request.top_limit <= rollup::TOP_KEPT;
        let mut from_rollups = StatsTotals::default();
        let mut absorb = |block: &BlockRange, rollup: &Rollup| {
            let inside = block.min_ts >= from && block.max_ts < to;
            let values_fit = request.approximate_top
                || request
                    .top_field
                    .and_then(|f| rollup.field(f))
                    .is_none_or(|values| values.rest == 0);
            if inside && values_fit {
                from_rollups.add_rollup(rollup, bucket, request.top_field);
            }
            inside && values_fit
        };
        let mut all = StatsTotals::default();
        self.scan(
            org,
            request.filter,
            None,
            count,
            |_, _, part| {
                all.add(part);
                Ok(true)
            },
            rollups_answer.then_some(&mut absorb as _),
        )
        .await?;
        all.add(from_rollups);
        Ok(EventStats {
            total: all.total,
            buckets: all
                .buckets
                .into_iter()
                .map(|(t, n)| (Timestamp(t), n))
                .collect(),
            top: top_values(all.values, request.top_limit),
            top_approximate: all.approximate,
            read: all.read,
        })
    }

    /// Nothing to do ahead of time: blocks need no partitions.
    pub(crate) async fn maintain(&self, _now: Timestamp, _drop_before: Timestamp) -> Result<()> {
        Ok(())
    }

    /// Nothing to seal: each block carries its summary from the start.
    pub(crate) async fn seal(&self, _now: Timestamp) -> Result<usize> {
        Ok(0)
    }

    pub(crate) async fn delete_before(&self, org: OrgId, cutoff: Timestamp) -> Result<u64> {
        let org_text = org.to_string();
        // Whole blocks first: one row each.
        let whole: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(count), 0) FROM event_blocks WHERE org_id = $1 AND max_ts < $2",
        )
        .bind(&org_text)
        .bind(cutoff.0)
        .fetch_one(&self.pool)
        .await?;
        let doomed: Vec<(i64, i64)> =
            sqlx::query_as("SELECT id, max_ts FROM event_blocks WHERE org_id = $1 AND max_ts < $2")
                .bind(&org_text)
                .bind(cutoff.0)
                .fetch_all(&self.pool)
                .await?;
        // Rollups first: a block id freed here may be given out again.
        sqlx::query(
            "DELETE FROM event_block_rollups WHERE block_id IN \
             (SELECT id FROM event_blocks WHERE org_id = $1 AND max_ts < $2)",
        )
        .bind(&org_text)
        .bind(cutoff.0)
        .execute(&self.pool)
        .await?;
        sqlx::query("DELETE FROM event_blocks WHERE org_id = $1 AND max_ts < $2")
            .bind(&org_text)
            .bind(cutoff.0)
            .execute(&self.pool)
            .await?;
        {
            let mut blocks = self.blocks.lock().unwrap_or_else(|p| p.into_inner());
            let mut cache = self.summaries.lock().unwrap_or_else(|p| p.into_inner());
            let mut rollups = self.rollups.lock().unwrap_or_else(|p| p.into_inner());
            for &(block, max_ts) in &doomed {
                blocks.remove(org, block, max_ts);
                cache.remove(block);
                rollups.remove(block);
            }
        }
        // Blocks straddling the cutoff: tombstone the expired events in place.
        let straddling: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, max_ts FROM event_blocks WHERE org_id = $1 AND min_ts < $2 AND max_ts >= $2",
        )
        .bind(&org_text)
        .bind(cutoff.0)
        .fetch_all(&self.pool)
        .await?;
        let mut removed = u64::try_from(whole).unwrap_or_default();
        for (block, max_ts) in straddling {
            let Some(mut events) = self.block_data(org, block).await? else {
                continue;
            };
            let mut changed = 0u64;
            for event in &mut events {
                if event.timestamp() != TOMBSTONE && event.timestamp < cutoff {
                    *event = Event {
                        timestamp: TOMBSTONE,
                        fields: "{}".into(),
                        ..Event::default()
                    };
                    changed += 1;
                }
            }
            let live = events.iter().filter(|e| e.timestamp != TOMBSTONE);
            let min_ts = live.map(|e| e.timestamp.0).min().unwrap_or(cutoff.0);
            let Payload::Blocks(mut rebuilt) = Self::prepare(org, events).payload else {
                continue;
            };
            let Some(block_data) = rebuilt.pop() else {
                continue;
            };
            sqlx::query(
                "UPDATE event_blocks SET min_ts = $1, summary = $2, postings = $3, data = $4 \
                 WHERE id = $5 AND org_id = $6",
            )
            .bind(min_ts)
            .bind(&block_data.summary.bloom)
            .bind(&block_data.summary.postings)
            .bind(&block_data.data)
            .bind(block)
            .bind(&org_text)
            .execute(&self.pool)
            .await?;
            if let Some(rollup) = &block_data.summary.rollup {
                store_rollup(&self.pool, block, rollup).await?;
            }
            self.blocks.lock().unwrap_or_else(|p| p.into_inner()).put(
                org,
                BlockRange {
                    id: block,
                    min_ts,
                    max_ts,
                },
            );
            self.cache_new(vec![(
                block,
                block_data.summary.cached.clone(),
                block_data.summary.cached_rollup.clone(),
            )]);
            removed += changed;
        }
        Ok(removed)
    }
}

/// Writes (or replaces) a block's rollup.
async fn store_rollup<'e, E>(executor: E, block: i64, rollup: &[u8]) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query("INSERT OR REPLACE INTO event_block_rollups (block_id, rollup) VALUES ($1, $2)")
        .bind(block)
        .bind(rollup)
        .execute(executor)
        .await?;
    Ok(())
}

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        column: "event_blocks.data",
        detail,
    }
}
