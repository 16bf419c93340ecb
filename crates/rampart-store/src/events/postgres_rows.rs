//! Events on PostgreSQL: one row per event in a table range-partitioned by
//! day and each day by hour, loaded with binary COPY; BRIN on time and id,
//! b-trees on (org_id, ts) and, once an hour is sealed, (org_id, src_ip, ts).
//! Filters become SQL over those indexes, narrowed to the blocks whose
//! [`summary`] admits the filter's terms.
//!
//! Why the source b-tree waits for the seal: its keys arrive in random
//! order, and inserting them costs PostgreSQL more than the rest of a row
//! (BENCHMARKS.md has the figures). Built once over a finished hour, it is a
//! sort. Until then an hour has a b-tree on `src_ip` alone, whose keys are a
//! fifth the size, for exact addresses and CIDR ranges alike.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use rampart_core::event::IpMatch;
use rampart_core::{Event, EventFilter, EventId, OrgId, Timestamp};
use sqlx::postgres::PgRow;
use sqlx::{Connection as _, PgPool, Postgres, QueryBuilder, Row as _};

use super::summary::{self, Keeping, PreparedSummary, Summary, SummaryCache};
use super::MAX_BLOCK_EVENTS;
use super::{top_values, EventCursor, EventStats, Payload, PreparedEvents, StatsRequest};
use crate::{Result, StoreError};

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// Days of partitions kept ready ahead of "now".
const DAYS_AHEAD: i64 = 3;
/// Hour partitions kept ready ahead of "now" (creating one locks its day).
const HOURS_AHEAD: i64 = 24;
/// How long after its end an hour is sealed and gets its source b-tree.
/// Events that arrive later still land in it, paying for the b-tree.
const SEAL_AFTER_MS: i64 = 10 * 60_000;

/// The columns of a COPY, in the order [`copy_tuple`] writes them.
const COPY_COLUMNS: &str = "(id, org_id, ts, received, source, severity, category, action, \
     outcome, src_ip, src_port, dst_ip, dst_port, host, user_name, process, url, message, tags, \
     fields, warnings)";
/// Columns of a COPY tuple, the id included.
const COPY_FIELDS: i16 = 21;
/// The binary COPY signature, flags and header extension length.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

const SELECT_COLUMNS: &str = "SELECT id, ts, received, source, severity, category, action, \
     outcome, host(src_ip) AS src_ip, src_port, host(dst_ip) AS dst_ip, dst_port, host, \
     user_name, process, url, message, tags, fields, warnings FROM events";

/// PostgreSQL's event tables, with a memory of partitions known to exist.
pub(crate) struct PostgresEvents {
    pool: PgPool,
    /// The table a COPY of each hour goes to (by hour since the epoch): its
    /// hour partition, or a whole-day partition made before hours existed.
    partitions: Mutex<HashMap<i64, Arc<str>>>,
    /// Block summaries read so far (they never change once written).
    summaries: Mutex<SummaryCache>,
    /// The first block with a summary (read once from the database).
    first_summarised: Mutex<Option<i64>>,
}

/// Most candidate blocks a search reads by id range; past it, the plain
/// SQL over the indexes is the better plan.
const MAX_CANDIDATE_BLOCKS: usize = 64;
/// Block summaries read per round trip while looking for candidates: a
/// small first page, then larger ones.
const FIRST_SUMMARY_PAGE: i64 = 128;
const SUMMARY_PAGE: i64 = 1024;

/// Which events a search needs to read, from the block summaries.
#[derive(Debug, PartialEq, Eq)]
enum Candidates {
    /// No restriction can be drawn: read as the filter says.
    All,
    /// Only these blocks (maybe none), plus the rows older than the
    /// summaries (ids below the bound, when there are any).
    Blocks {
        blocks: Vec<i64>,
        legacy_below: Option<i64>,
    },
}

impl PostgresEvents {
    /// Each COPY runs in one server process; several use several cores.
    pub(crate) const CONCURRENT_WRITERS: usize = 3;

    pub(crate) fn new(pool: PgPool) -> Self {
        Self {
            pool,
            partitions: Mutex::new(HashMap::new()),
            summaries: Mutex::new(SummaryCache::default()),
            first_summarised: Mutex::new(None),
        }
    }

    pub(crate) fn prepare(org: OrgId, events: Vec<Event>) -> PreparedEvents {
        let rows = events
            .iter()
            .map(|e| (e.timestamp.0, copy_tuple(org, e)))
            .collect();
        // The same chunks as `append` gives block ids to.
        let blocks = events
            .chunks(MAX_BLOCK_EVENTS)
            .map(|chunk| PreparedSummary::of(chunk, Keeping::Stored, false))
            .collect();
        PreparedEvents {
            org,
            count: events.len(),
            payload: Payload::Rows { rows, blocks },
        }
    }

    pub(crate) async fn append(&self, batches: &[PreparedEvents]) -> Result<Vec<Vec<EventId>>> {
        match self.append_once(batches).await {
            // The day's partition is gone ("undefined table", or "no
            // partition for row"): another node's retention dropped a
            // partition this node believed in.
            Err(StoreError::Database(sqlx::Error::Database(e)))
                if matches!(e.code().as_deref(), Some("42P01" | "23514")) =>
            {
                self.partitions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clear();
                self.append_once(batches).await
            }
            other => other,
        }
    }

    async fn append_once(&self, batches: &[PreparedEvents]) -> Result<Vec<Vec<EventId>>> {
        let mut hours = BTreeSet::new();
        let mut blocks_needed = 0i64;
        for batch in batches {
            let Payload::Rows { rows, .. } = &batch.payload else {
                return Err(StoreError::Corrupt {
                    column: "events",
                    detail: "events prepared for another backend".into(),
                });
            };
            hours.extend(rows.iter().map(|(ts, _)| ts.div_euclid(HOUR_MS)));
            blocks_needed += rows.len().div_ceil(MAX_BLOCK_EVENTS) as i64;
        }
        let tables = self.ensure_partitions(hours).await?;

        let mut tx = self.pool.begin().await?;
        let block_ids: Vec<i64> = match sqlx::query_scalar(
            "SELECT nextval('event_block_seq') FROM generate_series(1, $1)",
        )
        .bind(blocks_needed)
        .fetch_all(&mut *tx)
        .await
        {
            Ok(ids) => ids,
            Err(e) => {
                tx.rollback().await?;
                return Err(e.into());
            }
        };
        // One COPY per hour straight into its partition: PostgreSQL then
        // routes no row (routing costs it more per row than the insert).
        let mut next_block = block_ids.into_iter();
        let mut by_table: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
        let mut all_ids = Vec::with_capacity(batches.len());
        let mut summaries: Vec<(i64, OrgId, &PreparedSummary)> = Vec::new();
        for batch in batches {
            let Payload::Rows { rows, blocks } = &batch.payload else {
                continue;
            };
            let mut ids = Vec::with_capacity(rows.len());
            for (chunk, summary) in rows.chunks(MAX_BLOCK_EVENTS).zip(blocks) {
                let block_id = next_block.next().unwrap_or_default();
                summaries.push((block_id, batch.org, summary));
                let block = u64::try_from(block_id).unwrap_or(0);
                for (index, (ts, row)) in chunk.iter().enumerate() {
                    let id = EventId::new(block, index);
                    let table = tables
                        .get(&ts.div_euclid(HOUR_MS))
                        .map_or("events", |t| &**t);
                    // (Grown as needed: a batch may spread over many hours.)
                    let data = by_table
                        .entry(table)
                        .or_insert_with(|| COPY_HEADER.to_vec());
                    data.extend_from_slice(&COPY_FIELDS.to_be_bytes());
                    data.extend_from_slice(&8i32.to_be_bytes());
                    data.extend_from_slice(&id.as_i64().to_be_bytes());
                    data.extend_from_slice(row);
                    ids.push(id);
                }
            }
            all_ids.push(ids);
        }
        let copied = async {
            for (table, mut data) in by_table {
                data.extend_from_slice(&(-1i16).to_be_bytes());
                let mut copy = tx
                    .copy_in_raw(&format!(
                        "COPY {table} {COPY_COLUMNS} FROM STDIN WITH (FORMAT binary)"
                    ))
                    .await?;
                copy.send(data).await?;
                copy.finish().await?;
            }
            for chunk in summaries.chunks(1000) {
                let mut insert = QueryBuilder::<Postgres>::new(
                    "INSERT INTO event_block_summaries \
                     (block_id, org_id, min_ts, max_ts, summary, postings) ",
                );
                insert.push_values(chunk, |mut row, (block, org, summary)| {
                    row.push_bind(*block)
                        .push_bind(org.to_string())
                        .push_unseparated("::uuid")
                        .push_bind(summary.min_ts)
                        .push_bind(summary.max_ts)
                        .push_bind(summary.bloom.as_slice())
                        .push_bind(summary.postings.as_slice());
                });
                insert.build().execute(&mut *tx).await?;
            }
            Ok::<_, sqlx::Error>(())
        }
        .await;
        match copied {
            Ok(()) => {
                tx.commit().await?;
                Ok(all_ids)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e.into())
            }
        }
    }

    /// The tables the given hours (since the epoch) are written to, creating
    /// the day and hour partitions not yet known to exist. Concurrent nodes
    /// serialise on an advisory lock.
    async fn ensure_partitions(&self, hours: BTreeSet<i64>) -> Result<HashMap<i64, Arc<str>>> {
        let mut tables = HashMap::with_capacity(hours.len());
        let missing: Vec<i64> = {
            let known = self.partitions.lock().unwrap_or_else(|p| p.into_inner());
            hours
                .into_iter()
                .filter(|hour| match known.get(hour) {
                    Some(table) => {
                        tables.insert(*hour, table.clone());
                        false
                    }
                    None => true,
                })
                .collect()
        };
        if missing.is_empty() {
            return Ok(tables);
        }
        let mut tx = self.pool.begin().await?;
        let mut created = Vec::with_capacity(missing.len());
        let done = async {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('rampart.events.partitions'))")
                .execute(&mut *tx)
                .await?;
            let mut day_is_split = HashMap::new();
            for hour in &missing {
                let day = hour.div_euclid(24);
                let day_table = day_name(day);
                let split = match day_is_split.get(&day) {
                    Some(split) => *split,
                    None => {
                        let split = create_day(&mut tx, day).await?;
                        day_is_split.insert(day, split);
                        split
                    }
                };
                let table = if split {
                    let leaf = hour_name(*hour);
                    sqlx::query(&format!(
                        "CREATE TABLE IF NOT EXISTS {leaf} PARTITION OF {day_table} \
                         FOR VALUES FROM ({}) TO ({})",
                        hour * HOUR_MS,
                        (hour + 1) * HOUR_MS
                    ))
                    .execute(&mut *tx)
                    .await?;
                    // Until the seal, source addresses (exact or CIDR) are
                    // found by a b-tree on them alone: 8-byte keys instead
                    // of 40, which PostgreSQL maintains for far less.
                    sqlx::query(&format!(
                        "CREATE INDEX IF NOT EXISTS {leaf}_src_ip_hot ON {leaf} (src_ip)"
                    ))
                    .execute(&mut *tx)
                    .await?;
                    leaf
                } else {
                    day_table
                };
                created.push((*hour, Arc::<str>::from(table)));
            }
            Ok::<_, sqlx::Error>(())
        }
        .await;
        match done {
            Ok(()) => tx.commit().await?,
            Err(e) => {
                tx.rollback().await?;
                return Err(e.into());
            }
        }
        let mut known = self.partitions.lock().unwrap_or_else(|p| p.into_inner());
        for (hour, table) in created {
            known.insert(hour, table.clone());
            tables.insert(hour, table);
        }
        Ok(tables)
    }

    /// Gives every partition sealed by `now` (ended [`SEAL_AFTER_MS`] ago)
    /// its (org_id, src_ip, ts) b-tree, built concurrently so that late
    /// events still go in. One node at a time; returns how many were built.
    pub(crate) async fn seal(&self, now: Timestamp) -> Result<usize> {
        // Leaf partitions without a valid source b-tree (a failed concurrent
        // build leaves an invalid one behind, rebuilt here).
        let unindexed: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_partition_tree('events') t \
             JOIN pg_class c ON c.oid = t.relid \
             WHERE t.isleaf AND NOT EXISTS ( \
               SELECT 1 FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid \
               WHERE i.indrelid = c.oid AND x.relname = c.relname || '_src_ip' AND i.indisvalid)",
        )
        .fetch_all(&self.pool)
        .await?;
        let sealed: Vec<String> = unindexed
            .into_iter()
            .filter(|name| {
                partition_end(name).is_some_and(|end| end.saturating_add(SEAL_AFTER_MS) <= now.0)
            })
            .collect();
        if sealed.is_empty() {
            return Ok(0);
        }
        // A session lock on a connection of its own, closed afterwards, so
        // the lock cannot outlive the job in the pool.
        let mut conn = self.pool.acquire().await?.detach();
        let locked: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext('rampart.events.seal'))")
                .fetch_one(&mut conn)
                .await?;
        if !locked {
            return Ok(0);
        }
        let mut built = 0;
        for leaf in &sealed {
            for sql in [
                format!("DROP INDEX CONCURRENTLY IF EXISTS {leaf}_src_ip"),
                format!("CREATE INDEX CONCURRENTLY {leaf}_src_ip ON {leaf} (org_id, src_ip, ts)"),
                format!("DROP INDEX CONCURRENTLY IF EXISTS {leaf}_src_ip_hot"),
            ] {
                sqlx::query(&sql).execute(&mut conn).await?;
            }
            built += 1;
            tracing::info!(partition = %leaf, "sealed event partition: source index built");
        }
        conn.close().await?;
        Ok(built)
    }

    pub(crate) async fn query(
        &self,
        org: OrgId,
        filter: &EventFilter,
        after: Option<EventCursor>,
        limit: u32,
    ) -> Result<Vec<(EventId, Event)>> {
        let candidates = self
            .candidates(org, filter, after.map(|a| a.timestamp))
            .await?;
        let mut sql = QueryBuilder::<Postgres>::new(SELECT_COLUMNS);
        push_where(&mut sql, org, filter);
        if let Candidates::Blocks {
            blocks,
            legacy_below,
        } = &candidates
        {
            if blocks.is_empty() && legacy_below.is_none() {
                return Ok(Vec::new());
            }
            // Id ranges of the candidate blocks (the BRIN on id finds them).
            sql.push(" AND (FALSE");
            for block in blocks {
                sql.push(" OR (id >= ")
                    .push_bind(block << 20)
                    .push(" AND id < ")
                    .push_bind((block + 1) << 20)
                    .push(")");
            }
            if let Some(bound) = legacy_below {
                sql.push(" OR id < ").push_bind(*bound);
            }
            sql.push(")");
        }
        if let Some(after) = after {
            sql.push(" AND (ts, id) < (")
                .push_bind(after.timestamp.0)
                .push(", ")
                .push_bind(after.id.as_i64())
                .push(")");
        }
        sql.push(" ORDER BY ts DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit.clamp(1, 1000)));
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The blocks a search can find events in, from their summaries: those
    /// overlapping its time range (and older than the cursor) whose Bloom
    /// summary and postings admit all its required terms.
    async fn candidates(
        &self,
        org: OrgId,
        filter: &EventFilter,
        before: Option<Timestamp>,
    ) -> Result<Candidates> {
        // An exact source address has its own index (on sealed hours with
        // the organisation and time, on the others alone), which beats them.
        let terms = filter.required_terms();
        let groups = filter.any_of_terms();
        let needles = filter.message_needles();
        if (terms.is_empty() && groups.is_empty() && needles.is_empty())
            || matches!(filter.source_ip, Some(IpMatch::Exact(_)))
        {
            return Ok(Candidates::All);
        }
        let keys = summary::postings_keys(&terms);
        let from = filter.from.map_or(i64::MIN, |t| t.0);
        let mut to = filter.to.map_or(i64::MAX, |t| t.0);
        if let Some(before) = before {
            to = to.min(before.0.saturating_add(1));
        }
        // Newest first, in pages: a common term makes every block a
        // candidate, and the search gives up on summaries after a few.
        let mut blocks = Vec::new();
        let mut after = (i64::MAX, i64::MAX);
        let mut page_size = FIRST_SUMMARY_PAGE;
        loop {
            let page: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT block_id, max_ts FROM event_block_summaries \
                 WHERE org_id = $1::uuid AND max_ts >= $2 AND min_ts < $3 \
                   AND (max_ts, block_id) < ($4, $5) \
                 ORDER BY max_ts DESC, block_id DESC LIMIT $6",
            )
            .bind(org.to_string())
            .bind(from)
            .bind(to)
            .bind(after.0)
            .bind(after.1)
            .bind(page_size)
            .fetch_all(&self.pool)
            .await?;
            let Some(&(last_block, last_ts)) = page.last() else {
                break;
            };
            after = (last_ts, last_block);
            let full = page.len() as i64 == page_size;
            // A small first page settles common terms quickly.
            page_size = SUMMARY_PAGE;
            for (block, summary) in self.summaries_of(page.iter().map(|(b, _)| *b)).await? {
                if summary.may_hold(&terms, &keys)
                    && summary.may_hold_any(&groups)
                    && summary.may_hold_text(&needles)
                {
                    if blocks.len() == MAX_CANDIDATE_BLOCKS {
                        return Ok(Candidates::All);
                    }
                    blocks.push(block);
                }
            }
            if !full {
                break;
            }
        }
        blocks.sort_unstable();
        let first = self.first_summarised().await?;
        // Rows older than the summaries exist only if blocks were numbered
        // before them (sequences start at 1).
        let legacy_below = (first > 1).then_some(first << 20);
        Ok(Candidates::Blocks {
            blocks,
            legacy_below,
        })
    }

    /// These blocks' summaries, from the cache or, for misses, the table.
    async fn summaries_of(
        &self,
        blocks: impl IntoIterator<Item = i64>,
    ) -> Result<Vec<(i64, Arc<Summary>)>> {
        let (mut found, missing) = self
            .summaries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .lookup(blocks);
        if !missing.is_empty() {
            let rows = sqlx::query(
                "SELECT block_id, summary, postings FROM event_block_summaries \
                 WHERE block_id = ANY($1)",
            )
            .bind(&missing)
            .fetch_all(&self.pool)
            .await?;
            let mut cache = self.summaries.lock().unwrap_or_else(|p| p.into_inner());
            for row in rows {
                let block: i64 = row.try_get("block_id")?;
                let summary =
                    cache.read_stored(block, row.try_get("summary")?, row.try_get("postings")?);
                found.push((block, summary));
            }
        }
        Ok(found)
    }

    async fn first_summarised(&self) -> Result<i64> {
        if let Some(first) = *self
            .first_summarised
            .lock()
            .unwrap_or_else(|p| p.into_inner())
        {
            return Ok(first);
        }
        let first: i64 = sqlx::query_scalar("SELECT first_block FROM event_summary_coverage")
            .fetch_optional(&self.pool)
            .await?
            .unwrap_or(1);
        *self
            .first_summarised
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(first);
        Ok(first)
    }

    /// Not counted here: hunts read the events (`scan_all`).
    pub(crate) async fn count(
        &self,
        _org: OrgId,
        _filter: &EventFilter,
        _by: &rampart_core::hunt::CountBy,
    ) -> Result<Option<super::Counted>> {
        Ok(None)
    }

    /// Every event the filter's fields keep, newest first, a page at a
    /// time (SQL does not check the hunt condition: callers do).
    pub(crate) async fn scan_all(
        &self,
        org: OrgId,
        filter: &EventFilter,
        each: &mut (dyn FnMut(EventId, Event) -> bool + Send),
    ) -> Result<()> {
        const PAGE: u32 = 1000;
        let mut after = None;
        loop {
            let page = self.query(org, filter, after, PAGE).await?;
            let full = page.len() == PAGE as usize;
            after = page.last().map(|(id, e)| EventCursor {
                timestamp: e.timestamp,
                id: *id,
            });
            for (id, event) in page {
                if !each(id, event) {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    pub(crate) async fn get(&self, org: OrgId, id: EventId) -> Result<Option<Event>> {
        let row = sqlx::query(&format!(
            "{SELECT_COLUMNS} WHERE org_id = $1::uuid AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.as_i64())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(event_from_row)
            .transpose()
            .map(|o| o.map(|(_, e)| e))
    }

    pub(crate) async fn stats(&self, org: OrgId, request: &StatsRequest<'_>) -> Result<EventStats> {
        let bucket = request.bucket_ms.max(1);
        let mut sql = QueryBuilder::<Postgres>::new("SELECT ts - (((ts % ");
        sql.push_bind(bucket)
            .push(") + ")
            .push_bind(bucket)
            .push(") % ")
            .push_bind(bucket)
            .push(") AS bucket, COUNT(*) AS n FROM events");
        push_where(&mut sql, org, request.filter);
        sql.push(" GROUP BY 1 ORDER BY 1");
        let rows = sql.build().fetch_all(&self.pool).await?;
        let mut buckets = Vec::with_capacity(rows.len());
        let mut total = 0u64;
        for row in &rows {
            let n = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or_default();
            total += n;
            buckets.push((Timestamp(row.try_get("bucket")?), n));
        }
        let mut top = Vec::new();
        if let Some(column) = request.top_field.and_then(stats_column) {
            let mut sql = QueryBuilder::<Postgres>::new(format!(
                "SELECT {column} AS value, COUNT(*) AS n FROM events"
            ));
            push_where(&mut sql, org, request.filter);
            sql.push(format!(" AND {column} IS NOT NULL GROUP BY 1"));
            let rows = sql.build().fetch_all(&self.pool).await?;
            let counts = rows
                .iter()
                .map(|row| {
                    Ok((
                        row.try_get::<String, _>("value")?,
                        u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or_default(),
                    ))
                })
                .collect::<Result<std::collections::HashMap<_, _>>>()?;
            top = top_values(counts, request.top_limit);
        }
        Ok(EventStats {
            total,
            buckets,
            top,
            top_approximate: false,
            // Every event the filter selects, counted by the database.
            read: total,
        })
    }

    pub(crate) async fn delete_before(&self, org: OrgId, cutoff: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM events WHERE org_id = $1::uuid AND ts < $2")
            .bind(org.to_string())
            .bind(cutoff.0)
            .execute(&self.pool)
            .await?;
        // Summaries of blocks whose events are all gone.
        sqlx::query("DELETE FROM event_block_summaries WHERE org_id = $1::uuid AND max_ts < $2")
            .bind(org.to_string())
            .bind(cutoff.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Creates partitions for today and the coming days; drops whole day
    /// partitions that end before `drop_before`.
    pub(crate) async fn maintain(&self, now: Timestamp, drop_before: Timestamp) -> Result<()> {
        // The coming hours, and the first hour of each coming day.
        let hour = now.0.div_euclid(HOUR_MS);
        let today = now.0.div_euclid(DAY_MS);
        let mut hours: BTreeSet<i64> = (hour..=hour + HOURS_AHEAD).collect();
        hours.extend((today..=today + DAYS_AHEAD).map(|day| day * 24));
        self.ensure_partitions(hours).await?;
        let existing: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i \
             JOIN pg_class c ON c.oid = i.inhrelid \
             JOIN pg_class p ON p.oid = i.inhparent \
             WHERE p.relname = 'events' AND p.relnamespace = to_regnamespace(current_schema())::oid",
        )
        .fetch_all(&self.pool)
        .await?;
        for name in existing {
            let Some(end) = partition_end(&name) else {
                continue;
            };
            if end <= drop_before.0 {
                let day = (end - 1).div_euclid(DAY_MS);
                sqlx::query(&format!("DROP TABLE IF EXISTS {name}"))
                    .execute(&self.pool)
                    .await?;
                self.partitions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .retain(|hour, _| hour.div_euclid(24) != day);
                tracing::info!(partition = %name, "dropped expired event partition");
            }
        }
        // Every day before drop_before's is dropped: so are the events of
        // blocks that ended before it.
        sqlx::query("DELETE FROM event_block_summaries WHERE max_ts < $1")
            .bind(drop_before.0.div_euclid(DAY_MS) * DAY_MS)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Creates the day's partition (split by hour) unless it exists; returns
/// whether it is split by hour (a day made before hours existed is one table).
async fn create_day(tx: &mut sqlx::PgConnection, day: i64) -> sqlx::Result<bool> {
    let day_table = day_name(day);
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS {day_table} PARTITION OF events \
         FOR VALUES FROM ({}) TO ({}) PARTITION BY RANGE (ts)",
        day * DAY_MS,
        (day + 1) * DAY_MS
    ))
    .execute(&mut *tx)
    .await?;
    let kind: Option<String> =
        sqlx::query_scalar("SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)")
            .bind(&day_table)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(kind.as_deref() == Some("p"))
}

/// A day's partition. Days before 1970 would be negative; they get a
/// prefix of their own.
fn day_name(day: i64) -> String {
    if day < 0 {
        format!("events_n{}", -day)
    } else {
        format!("events_d{day}")
    }
}

/// An hour's partition, inside its day's.
fn hour_name(hour: i64) -> String {
    format!(
        "{}_h{:02}",
        day_name(hour.div_euclid(24)),
        hour.rem_euclid(24)
    )
}

/// When the partition of this name ends (epoch ms): a day's or an hour's.
fn partition_end(name: &str) -> Option<i64> {
    let (day, hour) = match name.split_once("_h") {
        Some((day, hour)) => (day, Some(hour.parse::<i64>().ok()?)),
        None => (name, None),
    };
    let day = match (day.strip_prefix("events_d"), day.strip_prefix("events_n")) {
        (Some(d), _) => d.parse::<i64>().ok()?,
        (_, Some(d)) => -d.parse::<i64>().ok()?,
        _ => return None,
    };
    Some(match hour {
        Some(hour) => day * DAY_MS + (hour + 1) * HOUR_MS,
        None => (day + 1) * DAY_MS,
    })
}

fn push_where(sql: &mut QueryBuilder<'_, Postgres>, org: OrgId, f: &EventFilter) {
    sql.push(" WHERE org_id = ")
        .push_bind(org.to_string())
        .push("::uuid");
    if let Some(from) = f.from {
        sql.push(" AND ts >= ").push_bind(from.0);
    }
    if let Some(to) = f.to {
        sql.push(" AND ts < ").push_bind(to.0);
    }
    if let Some(min) = f.min_severity {
        sql.push(" AND severity >= ").push_bind(i16::from(min));
    }
    let mut text = |column: &str, value: &Option<String>| {
        if let Some(v) = value {
            sql.push(format!(" AND {column} = ")).push_bind(v.clone());
        }
    };
    text("category", &f.category);
    text("action", &f.action);
    text("outcome", &f.outcome);
    text("host", &f.host);
    text("user_name", &f.user);
    for (column, want) in [("src_ip", &f.source_ip), ("dst_ip", &f.destination_ip)] {
        match want {
            None => {}
            Some(IpMatch::Exact(ip)) => {
                sql.push(format!(" AND {column} = "))
                    .push_bind(ip.to_string())
                    .push("::inet");
            }
            Some(net) => {
                sql.push(format!(" AND {column} <<= "))
                    .push_bind(net.to_inet())
                    .push("::inet");
            }
        }
    }
    if let Some(needle) = &f.text {
        // A plain case-insensitive substring test: no pattern characters to
        // escape, and faster than ILIKE's matcher.
        sql.push(" AND strpos(lower(message), lower(")
            .push_bind(needle.clone())
            .push(")) > 0");
    }
}

/// The SQL expression for a stats field.
fn stats_column(field: &str) -> Option<&'static str> {
    Some(match field {
        "event.category" => "category",
        "event.action" => "action",
        "event.outcome" => "outcome",
        "event.severity" => "severity::text",
        "source.ip" => "host(src_ip)",
        "source.port" => "src_port::text",
        "destination.ip" => "host(dst_ip)",
        "destination.port" => "dst_port::text",
        "host.name" => "host",
        "user.name" => "user_name",
        "process.name" => "process",
        "source" => "source",
        _ => return None,
    })
}

fn event_from_row(row: &PgRow) -> Result<(EventId, Event)> {
    let ip = |column: &str| -> Result<_> {
        row.try_get::<Option<String>, _>(column)?
            .map(|s| {
                s.parse().map_err(|_| StoreError::Corrupt {
                    column: "events.ip",
                    detail: format!("{column}: {s:?}"),
                })
            })
            .transpose()
    };
    let port = |column: &str| -> Result<Option<u16>> {
        Ok(row
            .try_get::<Option<i32>, _>(column)?
            .and_then(|p| u16::try_from(p).ok()))
    };
    let list = |column: &str| -> Result<Vec<String>> {
        let text: String = row.try_get(column)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
            column: "events.list",
            detail: format!("{column}: {e}"),
        })
    };
    let event = Event {
        timestamp: Timestamp(row.try_get("ts")?),
        received: Timestamp(row.try_get("received")?),
        source: row.try_get("source")?,
        severity: row
            .try_get::<Option<i16>, _>("severity")?
            .and_then(|s| u8::try_from(s).ok()),
        category: row.try_get("category")?,
        action: row.try_get("action")?,
        outcome: row.try_get("outcome")?,
        source_ip: ip("src_ip")?,
        source_port: port("src_port")?,
        destination_ip: ip("dst_ip")?,
        destination_port: port("dst_port")?,
        host: row.try_get("host")?,
        user: row.try_get("user_name")?,
        process: row.try_get("process")?,
        url: row.try_get("url")?,
        message: row.try_get("message")?,
        tags: list("tags")?,
        fields: row.try_get("fields")?,
        warnings: list("warnings")?,
    };
    Ok((EventId::from_i64(row.try_get("id")?), event))
}

/// One binary COPY tuple without its field count and leading id column:
/// each field is its length (-1 for NULL) and its bytes in PostgreSQL's
/// binary form, in `COPY_COLUMNS` order.
fn copy_tuple(org: OrgId, e: &Event) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(160 + e.fields.len() + e.message.as_ref().map_or(0, String::len));
    put_field(&mut out, Some(org.0.as_bytes()));
    put_field(&mut out, Some(&e.timestamp.0.to_be_bytes()));
    put_field(&mut out, Some(&e.received.0.to_be_bytes()));
    put_text(&mut out, Some(&e.source));
    put_number(&mut out, e.severity.map(|s| i16::from(s).to_be_bytes()));
    put_text(&mut out, e.category.as_deref());
    put_text(&mut out, e.action.as_deref());
    put_text(&mut out, e.outcome.as_deref());
    put_inet(&mut out, e.source_ip);
    put_number(&mut out, e.source_port.map(|p| i32::from(p).to_be_bytes()));
    put_inet(&mut out, e.destination_ip);
    put_number(
        &mut out,
        e.destination_port.map(|p| i32::from(p).to_be_bytes()),
    );
    put_text(&mut out, e.host.as_deref());
    put_text(&mut out, e.user.as_deref());
    put_text(&mut out, e.process.as_deref());
    put_text(&mut out, e.url.as_deref());
    put_text(&mut out, e.message.as_deref());
    put_text(
        &mut out,
        Some(&serde_json::to_string(&e.tags).unwrap_or_else(|_| "[]".into())),
    );
    put_text(&mut out, Some(&e.fields));
    put_text(
        &mut out,
        Some(&serde_json::to_string(&e.warnings).unwrap_or_else(|_| "[]".into())),
    );
    out
}

fn put_field(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        Some(bytes) => {
            out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
            out.extend_from_slice(bytes);
        }
    }
}

/// A fixed-width number in network byte order, or NULL.
fn put_number<const N: usize>(out: &mut Vec<u8>, value: Option<[u8; N]>) {
    put_field(out, value.as_ref().map(|b| &b[..]));
}

/// PostgreSQL text cannot hold NUL: it becomes U+FFFD.
fn put_text(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(text) if text.contains('\0') => {
            put_field(out, Some(text.replace('\0', "\u{fffd}").as_bytes()))
        }
        Some(text) => put_field(out, Some(text.as_bytes())),
        None => put_field(out, None),
    }
}

/// `inet` in binary: family (2 = IPv4, 3 = IPv6), prefix bits, is-cidr
/// flag, address length, address bytes.
fn put_inet(out: &mut Vec<u8>, ip: Option<std::net::IpAddr>) {
    let mut bytes = [0u8; 20];
    let len = match ip {
        None => return put_field(out, None),
        Some(std::net::IpAddr::V4(v4)) => {
            bytes[..4].copy_from_slice(&[2, 32, 0, 4]);
            bytes[4..8].copy_from_slice(&v4.octets());
            8
        }
        Some(std::net::IpAddr::V6(v6)) => {
            bytes[..4].copy_from_slice(&[3, 128, 0, 16]);
            bytes[4..20].copy_from_slice(&v6.octets());
            20
        }
    };
    put_field(out, Some(&bytes[..len]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_tuples_hold_every_column_in_binary_form() {
        let e = Event {
            message: Some("a\tb\0".into()),
            source_ip: "203.0.113.9".parse().ok(),
            destination_ip: "2001:db8::1".parse().ok(),
            severity: Some(7),
            fields: "{}".into(),
            ..Event::default()
        };
        let tuple = copy_tuple(OrgId::new(), &e);
        // Walk the fields by their lengths: 20 after the id, ending exactly.
        let (mut at, mut fields) = (0usize, Vec::new());
        while at < tuple.len() {
            let len = i32::from_be_bytes(tuple[at..at + 4].try_into().unwrap());
            at += 4;
            if len < 0 {
                fields.push(None);
            } else {
                fields.push(Some(tuple[at..at + len as usize].to_vec()));
                at += len as usize;
            }
        }
        assert_eq!(at, tuple.len());
        assert_eq!(fields.len(), COPY_FIELDS as usize - 1);
        assert_eq!(fields[4].as_deref(), Some(&7i16.to_be_bytes()[..]));
        assert_eq!(
            fields[8].as_deref(),
            Some(&[2, 32, 0, 4, 203, 0, 113, 9][..])
        );
        assert_eq!(
            fields[10].as_ref().map(|f| &f[..4]),
            Some(&[3, 128, 0, 16][..])
        );
        assert_eq!(fields[9], None, "no source port");
        assert_eq!(fields[16].as_deref(), Some("a\tb\u{fffd}".as_bytes()));
    }
}
