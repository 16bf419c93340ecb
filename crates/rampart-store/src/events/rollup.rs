//! Per-block pre-aggregates: how many events a block holds per minute, and
//! the most frequent values of each stats field with their counts. Built
//! once per block at ingest beside its summary; a stats query over a time
//! range alone (the dashboard's, the facet panel's first view) adds up the
//! rollups of the blocks wholly inside the range instead of decoding them,
//! and reads only the blocks that straddle its ends.
//!
//! Minute counts are exact, so totals and charts with minute-multiple
//! buckets are too. A field's values are exact when the block has at most
//! [`EXACT_KEPT`] distinct ones; otherwise only the [`TOP_KEPT`] most
//! frequent are kept,
//! and a merged top list built from them says it is approximate (its counts
//! are lower bounds), as a search engine's terms aggregation across shards
//! does. Callers that need exact values have such blocks read instead.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::hash::Hash;
use std::net::IpAddr;

use foldhash::fast::RandomState;
use rampart_core::event::{Filterable, IpMatch};
use rampart_core::hunt::CountBy;
use rampart_core::{Event, EventFilter};
use serde::{Deserialize, Serialize};

use super::{Counted, STATS_FIELDS, TOMBSTONE};

/// Values kept per field and block when it has more than [`EXACT_KEPT`];
/// also the largest approximate top list that rollups can answer.
pub const TOP_KEPT: usize = 32;
/// A field with at most this many distinct values in a block keeps them
/// all, so counts by it or of one of its values come from rollups exactly.
pub const EXACT_KEPT: usize = 128;
/// Minute length in milliseconds: the rollups' time resolution.
pub const MINUTE_MS: i64 = 60_000;
/// zstd level of stored rollups.
const COMPRESSION_LEVEL: i32 = 1;
/// The most a stored rollup may take decompressed.
const MAX_ROLLUP_BYTES: usize = 4 << 20;

/// One block's pre-aggregates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Rollup {
    /// `(minute start, events)`, oldest first.
    pub minutes: Vec<(i64, u32)>,
    /// One per [`STATS_FIELDS`] entry, in its order.
    pub fields: Vec<FieldValues>,
}

/// A field's most frequent values in one block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FieldValues {
    /// `(value, events)`, most frequent first (ties by value).
    pub top: Vec<(String, u32)>,
    /// Events whose value is not in `top` (0: the list is exact).
    pub rest: u32,
}

impl Rollup {
    /// The rollup of a block's events (tombstones left out).
    pub(crate) fn of(events: &[Event]) -> Rollup {
        let live: Vec<&Event> = events.iter().filter(|e| e.timestamp != TOMBSTONE).collect();
        let events = live.as_slice();
        let mut minutes = HashMap::<i64, u32, RandomState>::default();
        for event in events {
            *minutes
                .entry(event.timestamp.0.div_euclid(MINUTE_MS) * MINUTE_MS)
                .or_default() += 1;
        }
        let mut minutes: Vec<(i64, u32)> = minutes.into_iter().collect();
        minutes.sort_unstable();
        let fields = STATS_FIELDS
            .iter()
            .map(|field| match *field {
                "event.category" => counted(events.iter().filter_map(|e| e.category())),
                "event.action" => counted(events.iter().filter_map(|e| e.action())),
                "event.outcome" => counted(events.iter().filter_map(|e| e.outcome())),
                "event.severity" => counted(events.iter().filter_map(|e| e.severity())),
                "source.ip" => counted(events.iter().filter_map(|e| e.source_ip())),
                "source.port" => counted(events.iter().filter_map(|e| e.source_port())),
                "destination.ip" => counted(events.iter().filter_map(|e| e.destination_ip())),
                "destination.port" => counted(events.iter().filter_map(|e| e.destination_port())),
                "host.name" => counted(events.iter().filter_map(|e| e.host())),
                "user.name" => counted(events.iter().filter_map(|e| e.user())),
                "process.name" => counted(events.iter().filter_map(|e| e.process())),
                "source" => counted(events.iter().map(|e| e.source())),
                other => {
                    debug_assert!(false, "no rollup for stats field {other}");
                    FieldValues::default()
                }
            })
            .collect();
        Rollup { minutes, fields }
    }

    /// The stored form: JSON, zstd-compressed.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).unwrap_or_default();
        zstd::bulk::compress(&json, COMPRESSION_LEVEL).unwrap_or_default()
    }

    /// Reads a stored rollup; `None` when it is unreadable (the block is
    /// then read instead, which costs time, not correctness).
    pub(crate) fn decode(stored: &[u8]) -> Option<Rollup> {
        let json = zstd::bulk::decompress(stored, MAX_ROLLUP_BYTES).ok()?;
        let rollup: Rollup = serde_json::from_slice(&json).ok()?;
        (rollup.fields.len() == STATS_FIELDS.len()).then_some(rollup)
    }

    /// Memory it takes, roughly.
    pub(crate) fn bytes(&self) -> usize {
        self.minutes.len() * 16
            + self
                .fields
                .iter()
                .flat_map(|f| &f.top)
                .map(|(value, _)| value.len() + 32)
                .sum::<usize>()
    }

    /// A field's values, by its name in [`STATS_FIELDS`].
    pub(crate) fn field(&self, name: &str) -> Option<&FieldValues> {
        let index = STATS_FIELDS.iter().position(|f| *f == name)?;
        self.fields.get(index)
    }

    /// False when no event of the block has a severity of at least
    /// `floor`: its severities are all kept and all lower.
    pub(crate) fn may_hold_severity(&self, floor: u8) -> bool {
        self.field("event.severity").is_none_or(|values| {
            values.rest > 0
                || values
                    .top
                    .iter()
                    .any(|(value, _)| value.parse::<u8>().map_or(true, |s| s >= floor))
        })
    }
}

/// A hunt's counts that blocks' rollups can make: by no field or one
/// stats field, optionally in time buckets, of every event or of those
/// passing a condition on that one field's value.
pub(crate) struct RollupCount {
    /// The field whose values are consulted (the condition's or `by`'s).
    field: Option<&'static str>,
    /// Whether keys carry that field's value.
    keyed: bool,
    bucket_ms: Option<i64>,
    /// The filter with its time range set aside: tests of `field` alone.
    tests: EventFilter,
    from: i64,
    to: i64,
}

impl RollupCount {
    /// The plan for counting `by` over the filter's events, when rollups
    /// can say it: apart from its time range, the filter tests one stats
    /// field's value (a hunt's condition on it and what was pushed down
    /// from there), and `by` counts by nothing or that field.
    pub(crate) fn plan(filter: &EventFilter, by: &CountBy) -> Option<RollupCount> {
        if filter.text.is_some() {
            return None;
        }
        let stats_field = |name: &str| STATS_FIELDS.iter().copied().find(|f| *f == name);
        let by_field = match &by.fields[..] {
            [] => None,
            [one] => Some(stats_field(one)?),
            _ => return None,
        };
        let mut tested = Vec::new();
        if let Some(condition) = &filter.condition {
            tested.push(stats_field(condition.0.single_field()?)?);
        }
        for (field, set) in [
            ("event.severity", filter.min_severity.is_some()),
            ("event.category", filter.category.is_some()),
            ("event.action", filter.action.is_some()),
            ("event.outcome", filter.outcome.is_some()),
            ("source.ip", filter.source_ip.is_some()),
            ("destination.ip", filter.destination_ip.is_some()),
            ("host.name", filter.host.is_some()),
            ("user.name", filter.user.is_some()),
        ] {
            if set {
                tested.push(field);
            }
        }
        let field = match (tested.first(), by_field) {
            (Some(t), _) if tested.iter().any(|f| f != t) => return None,
            (Some(t), Some(b)) if *t != b => return None,
            (t, b) => t.copied().or(b),
        };
        Some(RollupCount {
            field,
            keyed: by_field.is_some(),
            bucket_ms: by.bucket_ms.filter(|ms| *ms > 0),
            tests: EventFilter {
                from: None,
                to: None,
                ..filter.clone()
            },
            from: filter.from.map_or(i64::MIN, |t| t.0),
            to: filter.to.map_or(i64::MAX, |t| t.0),
        })
    }

    /// Whether an event whose `field` has this value passes the filter.
    fn passes(&self, value: &str) -> bool {
        let f = &self.tests;
        let eq = |want: &Option<String>| want.as_deref().is_none_or(|w| w == value);
        let ip = |want: &Option<IpMatch>| {
            want.as_ref()
                .is_none_or(|w| value.parse::<IpAddr>().is_ok_and(|ip| w.matches(ip)))
        };
        f.condition
            .as_ref()
            .is_none_or(|c| c.0.value_matches(value))
            && f.min_severity
                .is_none_or(|floor| value.parse::<u8>().is_ok_and(|s| s >= floor))
            && eq(&f.category)
            && eq(&f.action)
            && eq(&f.outcome)
            && eq(&f.host)
            && eq(&f.user)
            && ip(&f.source_ip)
            && ip(&f.destination_ip)
    }

    /// Adds the block's counts from its rollup to `counted` (no event is
    /// read) and says so, or adds nothing and says false: the block
    /// straddles the range's ends or a bucket's, or did not keep every
    /// value of the field.
    pub(crate) fn absorb(
        &self,
        min_ts: i64,
        max_ts: i64,
        rollup: &Rollup,
        counted: &mut Counted,
    ) -> bool {
        if min_ts < self.from || max_ts >= self.to {
            return false;
        }
        let bucket = match self.bucket_ms {
            Some(ms) => {
                let start = min_ts - min_ts.rem_euclid(ms);
                if max_ts - max_ts.rem_euclid(ms) != start {
                    return false;
                }
                Some(start.to_string())
            }
            None => None,
        };
        let live: u64 = rollup.minutes.iter().map(|(_, n)| u64::from(*n)).sum();
        let values = match self.field {
            Some(field) => match rollup.field(field) {
                Some(values) if values.rest == 0 => Some(values),
                _ => return false,
            },
            None => None,
        };
        let key = |value: Option<&str>| -> Vec<String> {
            bucket
                .iter()
                .cloned()
                .chain(value.map(str::to_owned))
                .collect()
        };
        let mut add = |key: Vec<String>, n: u64| {
            if n > 0 {
                *counted.counts.entry(key).or_default() += n;
            }
        };
        let filtered = self.tests != EventFilter::default();
        match values {
            None => add(key(None), live),
            Some(values) => {
                let mut with_value = 0;
                let mut passed = 0;
                for (value, n) in &values.top {
                    let n = u64::from(*n);
                    with_value += n;
                    if self.passes(value) {
                        passed += n;
                        if self.keyed {
                            add(key(Some(value)), n);
                        }
                    }
                }
                if !self.keyed {
                    add(key(None), passed);
                } else if !filtered {
                    // Events without the field count under an empty value.
                    add(key(Some("")), live.saturating_sub(with_value));
                }
            }
        }
        true
    }
}

/// Every one of some values with its count when there are at most
/// [`EXACT_KEPT`] distinct ones; otherwise the [`TOP_KEPT`] most frequent,
/// and how many are left.
/// Values are compared in their own type and made text only when kept:
/// ingest pays for this on every block, so it must stay cheap.
fn counted<K: Hash + Ord + Display>(values: impl Iterator<Item = K>) -> FieldValues {
    let mut counts = HashMap::<K, u32, RandomState>::default();
    for value in values {
        *counts.entry(value).or_default() += 1;
    }
    let mut all: Vec<(K, u32)> = counts.into_iter().collect();
    let order = |a: &(K, u32), b: &(K, u32)| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0));
    let mut rest = 0;
    if all.len() > EXACT_KEPT {
        all.select_nth_unstable_by(TOP_KEPT, order);
        rest = all[TOP_KEPT..].iter().map(|(_, n)| n).sum();
        all.truncate(TOP_KEPT);
    }
    all.sort_unstable_by(order);
    FieldValues {
        top: all
            .into_iter()
            .map(|(value, n)| (value.to_string(), n))
            .collect(),
        rest,
    }
}

/// Stats added up from rollups and from events read one by one.
#[derive(Debug, Default)]
pub(crate) struct StatsTotals {
    pub total: u64,
    pub buckets: BTreeMap<i64, u64>,
    pub values: HashMap<String, u64, RandomState>,
    /// Some value counts came from a rollup that did not list every value.
    pub approximate: bool,
    /// Events read one by one.
    pub read: u64,
}

impl StatsTotals {
    /// Adds one event at `timestamp`, with the top field's value if any.
    pub(crate) fn count(&mut self, timestamp: i64, bucket_ms: i64, value: Option<String>) {
        self.total += 1;
        *self
            .buckets
            .entry(timestamp.div_euclid(bucket_ms) * bucket_ms)
            .or_default() += 1;
        if let Some(value) = value {
            *self.values.entry(value).or_default() += 1;
        }
    }

    /// Adds a block's rollup; `bucket_ms` must be a multiple of a minute.
    pub(crate) fn add_rollup(&mut self, rollup: &Rollup, bucket_ms: i64, top_field: Option<&str>) {
        for &(minute, n) in &rollup.minutes {
            self.total += u64::from(n);
            *self
                .buckets
                .entry(minute.div_euclid(bucket_ms) * bucket_ms)
                .or_default() += u64::from(n);
        }
        if let Some(values) = top_field.and_then(|f| rollup.field(f)) {
            self.approximate |= values.rest > 0;
            for (value, n) in &values.top {
                match self.values.get_mut(value.as_str()) {
                    Some(count) => *count += u64::from(*n),
                    None => {
                        self.values.insert(value.clone(), u64::from(*n));
                    }
                }
            }
        }
    }

    pub(crate) fn add(&mut self, other: StatsTotals) {
        self.total += other.total;
        self.read += other.read;
        self.approximate |= other.approximate;
        for (at, n) in other.buckets {
            *self.buckets.entry(at).or_default() += n;
        }
        for (value, n) in other.values {
            *self.values.entry(value).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::Timestamp;

    fn event(ts: i64, user: &str, port: u16) -> Event {
        Event {
            timestamp: Timestamp(ts),
            user: Some(user.to_owned()),
            source_port: Some(port),
            source: "syslog".into(),
            ..Event::default()
        }
    }

    #[test]
    fn counts_minutes_and_values_and_reads_back() {
        let events = [
            event(1_000, "root", 22),
            event(59_999, "root", 22),
            event(60_000, "alice", 22),
            event(-1, "root", 23),
        ];
        let rollup = Rollup::of(&events);
        assert_eq!(rollup.minutes, [(-60_000, 1), (0, 2), (60_000, 1)]);
        let users = rollup.field("user.name").unwrap();
        assert_eq!(users.top, [("root".to_owned(), 3), ("alice".to_owned(), 1)]);
        assert_eq!(users.rest, 0);
        assert_eq!(
            rollup.field("source.port").unwrap().top,
            [("22".to_owned(), 3), ("23".to_owned(), 1)]
        );
        assert!(rollup.field("host.name").unwrap().top.is_empty());
        assert_eq!(rollup.field("source").unwrap().top[0], ("syslog".into(), 4));
        assert_eq!(Rollup::decode(&rollup.encode()), Some(rollup));
        assert_eq!(Rollup::decode(b"junk"), None);
    }

    #[test]
    fn keeps_the_most_frequent_values_and_counts_the_rest() {
        let distinct = EXACT_KEPT + 1;
        let events: Vec<Event> = (0..2 * distinct)
            .map(|i| event(0, &format!("user{}", i % distinct), 1))
            .chain((0..10).map(|_| event(0, "zed", 1)))
            .collect();
        let total = events.len() as u32;
        let users = Rollup::of(&events).field("user.name").unwrap().clone();
        assert_eq!(users.top.len(), TOP_KEPT);
        assert_eq!(users.top[0], ("zed".to_owned(), 10));
        assert_eq!(users.rest, total - 10 - 2 * (TOP_KEPT as u32 - 1));
        // As many distinct values as are kept exactly: all of them.
        let few: Vec<Event> = (0..EXACT_KEPT)
            .map(|i| event(0, &format!("user{i}"), 1))
            .collect();
        let users = Rollup::of(&few).field("user.name").unwrap().clone();
        assert_eq!((users.top.len(), users.rest), (EXACT_KEPT, 0));

        let mut totals = StatsTotals::default();
        let rollup = Rollup::of(&events);
        totals.add_rollup(&rollup, 5 * MINUTE_MS, Some("user.name"));
        assert!(totals.approximate);
        assert_eq!(totals.total, u64::from(total));
        assert_eq!(totals.values["zed"], 10);
        let mut exact = StatsTotals::default();
        exact.add_rollup(&rollup, MINUTE_MS, Some("source.port"));
        assert!(!exact.approximate);
        assert_eq!(exact.values["1"], u64::from(total));
    }

    #[test]
    fn counts_come_from_rollups_only_where_they_are_exact() {
        let events: Vec<Event> = (0..10)
            .map(|i| event(i * 1_000, &format!("user{}", i % 3), 22))
            .chain([Event {
                user: None,
                ..event(10_000, "", 22)
            }])
            .collect();
        let rollup = Rollup::of(&events);
        let range = EventFilter {
            from: Some(Timestamp(0)),
            to: Some(Timestamp(60_000)),
            ..EventFilter::default()
        };
        let by = |fields: &[&str], bucket_ms| CountBy {
            bucket_ms,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        };
        let count = |filter: &EventFilter, by: &CountBy, max_ts| {
            let plan = RollupCount::plan(filter, by)?;
            let mut counted = Counted::default();
            plan.absorb(0, max_ts, &rollup, &mut counted)
                .then_some(counted)
        };
        let key = |parts: &[&str]| parts.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        // By a field: every value, and the events without one.
        let users = count(&range, &by(&["user.name"], None), 10_000).unwrap();
        assert_eq!(users.counts.len(), 4);
        assert_eq!(users.counts[&key(&["user0"])], 4);
        assert_eq!(users.counts[&key(&[""])], 1);
        assert_eq!(users.read, 0);
        // Of a value pushed down, in one bucket.
        let one = EventFilter {
            user: Some("user1".into()),
            ..range.clone()
        };
        let chart = count(&one, &by(&[], Some(60_000)), 10_000).unwrap();
        assert_eq!(chart.counts[&key(&["0"])], 3);
        // A block across a bucket's end, or the range's, is read.
        assert!(count(&one, &by(&[], Some(5_000)), 10_000).is_none());
        assert!(count(&one, &by(&[], None), 60_000).is_none());
        // Tests of two fields, or counts by another, are not planned.
        let two = EventFilter {
            host: Some("h".into()),
            ..one.clone()
        };
        assert!(RollupCount::plan(&two, &by(&[], None)).is_none());
        assert!(RollupCount::plan(&one, &by(&["host.name"], None)).is_none());
        assert!(RollupCount::plan(&range, &by(&["user.name", "host.name"], None)).is_none());
        // A field whose values were cut: read.
        let many: Vec<Event> = (0..=EXACT_KEPT)
            .map(|i| event(0, &format!("user{i}"), 22))
            .collect();
        let cut = Rollup::of(&many);
        let plan = RollupCount::plan(&one, &by(&[], None)).unwrap();
        assert!(!plan.absorb(0, 0, &cut, &mut Counted::default()));
        // Ports are still exact there: counted.
        let port = EventFilter {
            destination_ip: None,
            ..range.clone()
        };
        let plan = RollupCount::plan(&port, &by(&["source.port"], None)).unwrap();
        let mut counted = Counted::default();
        assert!(plan.absorb(0, 0, &cut, &mut counted));
        assert_eq!(counted.counts[&key(&["22"])], EXACT_KEPT as u64 + 1);
    }

    #[test]
    fn a_severity_floor_rules_out_blocks_whose_severities_are_all_lower() {
        let with = |severities: &[Option<u8>]| {
            let events: Vec<Event> = severities
                .iter()
                .map(|s| Event {
                    severity: *s,
                    ..event(0, "root", 22)
                })
                .collect();
            Rollup::of(&events)
        };
        let low = with(&[Some(1), Some(3), None, Some(0)]);
        assert!(low.may_hold_severity(3));
        assert!(!low.may_hold_severity(4));
        assert!(!with(&[None, None]).may_hold_severity(0));
        // As many distinct severities as a rollup keeps exactly.
        let many: Vec<Option<u8>> = (0..EXACT_KEPT as u8).map(Some).collect();
        let top = EXACT_KEPT as u8 - 1;
        assert!(with(&many).may_hold_severity(top));
        assert!(!with(&many).may_hold_severity(top + 1));
        // More: any floor may be met.
        let more: Vec<Option<u8>> = (0..=EXACT_KEPT as u8).map(Some).collect();
        assert!(with(&more).may_hold_severity(250));
        // A list that is not exact always may.
        let cut = Rollup {
            fields: vec![
                FieldValues {
                    top: vec![("1".into(), 5)],
                    rest: 3,
                };
                STATS_FIELDS.len()
            ],
            ..Rollup::default()
        };
        assert!(cut.may_hold_severity(250));
    }
}
