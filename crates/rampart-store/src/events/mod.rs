//! Event storage: the [`EventStore`] interface and what both backends share.
//! SQLite keeps events in compressed blocks; PostgreSQL keeps one row per
//! event in day partitions, loaded with COPY. Both keep a `summary` per
//! block of events, which searches consult before reading the block.

pub(crate) mod block_index;
pub(crate) mod bloom;
pub(crate) mod codec;
pub(crate) mod columns;
pub(crate) mod framed;
pub(crate) mod grams;
pub(crate) mod postgres_rows;
pub(crate) mod postings;
pub(crate) mod rollup;
pub(crate) mod section;
pub(crate) mod sqlite_blocks;
pub(crate) mod summary;

use async_trait::async_trait;
use rampart_core::hunt::CountBy;
use rampart_core::{Event, EventFilter, EventId, OrgId, Timestamp};

use crate::Result;

/// Values per field and block that per-block pre-aggregates keep: stats
/// asking for more top values read the blocks.
pub const ROLLUP_TOP_KEPT: usize = rollup::TOP_KEPT;
/// The time resolution of per-block pre-aggregates: charts whose buckets
/// are whole multiples of it come from them exactly.
pub const ROLLUP_MINUTE_MS: i64 = rollup::MINUTE_MS;

/// Most events in one stored block (and one id range).
pub const MAX_BLOCK_EVENTS: usize = 4096;

/// The timestamp that marks an event removed by retention inside a stored
/// block that still holds live events (positions must not move: they are
/// ids). Summaries and rollups leave such events out.
pub(crate) const TOMBSTONE: Timestamp = Timestamp(i64::MIN);

/// Events of one organisation, encoded for their backend ahead of the write
/// (on the caller's thread), so the single writer only has to store them.
#[derive(Debug)]
pub struct PreparedEvents {
    pub(crate) org: OrgId,
    pub(crate) count: usize,
    pub(crate) payload: Payload,
}

#[derive(Debug)]
pub(crate) enum Payload {
    /// Compressed blocks for SQLite.
    Blocks(Vec<sqlite_blocks::PreparedBlock>),
    /// Binary COPY tuples, one per event (timestamp, tuple without its
    /// field count and id column), and the summary of each block of them.
    Rows {
        rows: Vec<(i64, Vec<u8>)>,
        blocks: Vec<summary::PreparedSummary>,
    },
}

impl PreparedEvents {
    pub fn org(&self) -> OrgId {
        self.org
    }

    /// How many events this holds.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Counts per key, and how many events were read to make them (keys are
/// hashed with a fast hasher: counting looks one up per event read).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counted {
    pub counts: std::collections::HashMap<Vec<String>, u64, foldhash::fast::RandomState>,
    pub read: u64,
}

/// Where a page of newest-first results ended: `(@timestamp, id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventCursor {
    pub timestamp: Timestamp,
    pub id: EventId,
}

impl EventCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.timestamp.0, self.id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (ts, id) = text.split_once('.')?;
        Some(Self {
            timestamp: Timestamp(ts.parse().ok()?),
            id: id.parse().ok()?,
        })
    }
}

/// Fields whose top values `event_stats` can count.
pub const STATS_FIELDS: &[&str] = &[
    "event.category",
    "event.action",
    "event.outcome",
    "event.severity",
    "source.ip",
    "source.port",
    "destination.ip",
    "destination.port",
    "host.name",
    "user.name",
    "process.name",
    "source",
];

/// Counts over the events a filter selects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventStats {
    pub total: u64,
    /// `(bucket start, count)`, oldest first, empty buckets left out.
    pub buckets: Vec<(Timestamp, u64)>,
    /// `(value, count)`, most frequent first (ties by value).
    pub top: Vec<(String, u64)>,
    /// The top counts were added up from pre-aggregates that keep only
    /// each block's most frequent values: they are lower bounds, and a
    /// value may be missing (only when the request allowed it).
    pub top_approximate: bool,
    /// Events read one by one to make these counts (those of blocks
    /// whose pre-aggregates answered are not).
    pub read: u64,
}

/// What a stats query asks for.
#[derive(Clone, Debug)]
pub struct StatsRequest<'a> {
    pub filter: &'a EventFilter,
    /// Bucket width in milliseconds (> 0).
    pub bucket_ms: i64,
    /// One of [`STATS_FIELDS`].
    pub top_field: Option<&'a str>,
    pub top_limit: usize,
    /// Approximate top values are good enough (a dashboard's): a range's
    /// blocks with many distinct values are then not read one by one.
    pub approximate_top: bool,
}

/// Durable event storage, per organisation.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Encodes one organisation's events for [`EventStore::append_events`].
    /// CPU-bound; call it off the writer (e.g. on the request's task).
    fn prepare_events(&self, org: OrgId, events: Vec<Event>) -> PreparedEvents;

    /// How many [`EventStore::append_events`] calls may usefully run at once.
    fn concurrent_writers(&self) -> usize;

    /// Stores batches in one durable transaction (all or none) and returns,
    /// per batch, the ids of its events in order.
    async fn append_events(&self, batches: &[PreparedEvents]) -> Result<Vec<Vec<EventId>>>;

    /// Newest first (by `@timestamp`, then id), strictly after `after`.
    async fn query_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        after: Option<EventCursor>,
        limit: u32,
    ) -> Result<Vec<(EventId, Event)>>;

    /// Every event the filter keeps, in no set order, each once, to `each`
    /// until it returns false: what counts over many events read, where
    /// [`EventStore::query_events`] pages. Like every read, it may pass
    /// events its hunt condition rules out (SQLite drops them before
    /// decoding, PostgreSQL does not): callers check the condition in full.
    async fn scan_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        each: &mut (dyn FnMut(EventId, Event) -> bool + Send),
    ) -> Result<()>;

    /// How many events the filter keeps per key of `by`, counted on events
    /// read in place, with how many events were read; `None` when this
    /// store cannot (then read them with [`EventStore::scan_events`]).
    /// Callers pass a condition decided in place and keys known in place.
    async fn count_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        by: &CountBy,
    ) -> Result<Option<Counted>>;

    async fn get_event(&self, org: OrgId, id: EventId) -> Result<Option<Event>>;

    async fn event_stats(&self, org: OrgId, request: &StatsRequest<'_>) -> Result<EventStats>;

    /// Removes the organisation's events with `@timestamp` before `cutoff`.
    async fn delete_events_before(&self, org: OrgId, cutoff: Timestamp) -> Result<u64>;

    /// Backend housekeeping for time `now`: PostgreSQL creates the coming
    /// days' partitions and drops those older than `drop_before`.
    async fn maintain_event_storage(&self, now: Timestamp, drop_before: Timestamp) -> Result<()>;

    /// Indexes what is finished by time `now`: PostgreSQL builds the source
    /// address b-tree of each hour partition sealed since the last call.
    /// Returns how many partitions it indexed.
    async fn seal_event_storage(&self, now: Timestamp) -> Result<usize>;
}

/// Top-N of a count map, most frequent first, ties by value.
pub(crate) fn top_values<S>(
    counts: std::collections::HashMap<String, u64, S>,
    limit: usize,
) -> Vec<(String, u64)> {
    let order = |a: &(String, u64), b: &(String, u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0));
    let mut top: Vec<(String, u64)> = counts.into_iter().collect();
    if top.len() > limit {
        // Only the first `limit` need sorting: pick them first.
        top.select_nth_unstable_by(limit, order);
        top.truncate(limit);
    }
    top.sort_unstable_by(order);
    top
}

/// Implements [`EventStore`] for a store by handing every call to its
/// `events` field, whose type `$events` has the same methods.
macro_rules! delegate_event_store {
    ($store:ty, $events:ty) => {
        #[async_trait::async_trait]
        impl $crate::events::EventStore for $store {
            fn prepare_events(
                &self,
                org: rampart_core::OrgId,
                events: Vec<rampart_core::Event>,
            ) -> $crate::events::PreparedEvents {
                <$events>::prepare(org, events)
            }

            fn concurrent_writers(&self) -> usize {
                <$events>::CONCURRENT_WRITERS
            }

            async fn append_events(
                &self,
                batches: &[$crate::events::PreparedEvents],
            ) -> $crate::Result<Vec<Vec<rampart_core::EventId>>> {
                self.events.append(batches).await
            }

            async fn query_events(
                &self,
                org: rampart_core::OrgId,
                filter: &rampart_core::EventFilter,
                after: Option<$crate::events::EventCursor>,
                limit: u32,
            ) -> $crate::Result<Vec<(rampart_core::EventId, rampart_core::Event)>> {
                self.events.query(org, filter, after, limit).await
            }

            async fn scan_events(
                &self,
                org: rampart_core::OrgId,
                filter: &rampart_core::EventFilter,
                each: &mut (dyn FnMut(rampart_core::EventId, rampart_core::Event) -> bool + Send),
            ) -> $crate::Result<()> {
                self.events.scan_all(org, filter, each).await
            }

            async fn count_events(
                &self,
                org: rampart_core::OrgId,
                filter: &rampart_core::EventFilter,
                by: &rampart_core::hunt::CountBy,
            ) -> $crate::Result<Option<$crate::events::Counted>> {
                self.events.count(org, filter, by).await
            }

            async fn get_event(
                &self,
                org: rampart_core::OrgId,
                id: rampart_core::EventId,
            ) -> $crate::Result<Option<rampart_core::Event>> {
                self.events.get(org, id).await
            }

            async fn event_stats(
                &self,
                org: rampart_core::OrgId,
                request: &$crate::events::StatsRequest<'_>,
            ) -> $crate::Result<$crate::events::EventStats> {
                self.events.stats(org, request).await
            }

            async fn delete_events_before(
                &self,
                org: rampart_core::OrgId,
                cutoff: rampart_core::Timestamp,
            ) -> $crate::Result<u64> {
                self.events.delete_before(org, cutoff).await
            }

            async fn maintain_event_storage(
                &self,
                now: rampart_core::Timestamp,
                drop_before: rampart_core::Timestamp,
            ) -> $crate::Result<()> {
                self.events.maintain(now, drop_before).await
            }

            async fn seal_event_storage(
                &self,
                now: rampart_core::Timestamp,
            ) -> $crate::Result<usize> {
                self.events.seal(now).await
            }
        }
    };
}

pub(crate) use delegate_event_store;
