//! Hunts: a query in the hunting language (`rampart_core::hunt`) over the
//! organisation's events in a time range. What the stores can filter
//! themselves (the range, exact addresses and networks, a minimum
//! severity, plain words of the message) is handed to them, so block
//! summaries rule blocks out, and so is the whole condition, which SQLite
//! checks on events read in place. Counts come from pre-aggregates or are
//! made in the store where it can; otherwise every event returned is
//! checked against the whole query by the reference evaluator, and the
//! pipes turn the matches into rows. A hunt stops at a time limit or after a
//! number of events read, and says it was cut short. `saved` keeps hunts
//! under a name and runs them on a schedule.

mod saved;

pub use saved::SavedHuntRunner;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_core::event::IpMatch;
use rampart_core::hunt::{self, EventFields, Expr, Match, Pipe, Rows};
use rampart_core::{Clock, Error, Event, EventFilter, EventId, OrgId, Permission};
use rampart_ingest::detection::Detection;
use rampart_store::{
    Counted, EventCursor, StatsRequest, Store, ROLLUP_MINUTE_MS, ROLLUP_TOP_KEPT, STATS_FIELDS,
};

use crate::api::hunt::{HuntReply, HuntRequest, RowKind};
use crate::audit::Audit;
use crate::notifications::Notifier;
use crate::principal::Principal;

/// Longest a hunt runs.
pub const TIME_LIMIT: Duration = Duration::from_secs(30);
/// Most events a hunt reads.
pub const MAX_SCANNED: u64 = 20_000_000;
/// Most rows an answer carries.
pub const MAX_ROWS: i64 = 10_000;
/// Longest range a hunt covers.
pub const MAX_RANGE_DAYS: i64 = 366;
const PAGE: u32 = 1000;

/// Matching events a hunt keeps for the alert a saved hunt raises.
const KEPT_EVENTS: usize = 100;

#[derive(Clone)]
pub struct Hunts {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audit: Audit,
    /// Where saved hunts' alerts go (none: saved hunts only notify).
    detection: Option<Arc<Detection>>,
    notifier: Notifier,
}

/// What a hunt has found so far, as the store hands it events.
struct Found<'q> {
    condition: Option<&'q Expr>,
    rows: Rows,
    scanned: u64,
    last_kept: Option<EventCursor>,
    kept: Vec<(EventId, Event)>,
    /// How many matching events to keep (none unless a saved hunt's
    /// alert wants them).
    keep: usize,
    started: Instant,
    truncated: bool,
}

impl Found<'_> {
    /// Checks one event against the whole query and counts it; false once
    /// the hunt has what it needs, or hits its time or read limit.
    fn offer(&mut self, id: EventId, event: &Event) -> bool {
        self.scanned += 1;
        let fields = EventFields::new(event);
        if self.condition.is_none_or(|f| hunt::matches(f, &fields)) && self.rows.wants_more() {
            self.rows.push(id, &fields);
            if self.kept.len() < self.keep {
                self.kept.push((id, event.clone()));
            }
            self.last_kept = Some(EventCursor {
                timestamp: event.timestamp,
                id,
            });
        }
        if !self.rows.wants_more() {
            return false;
        }
        // Checked every so often: the clock is not free.
        if self.scanned.is_multiple_of(4096)
            && (self.started.elapsed() > TIME_LIMIT || self.scanned >= MAX_SCANNED)
        {
            self.truncated = true;
            return false;
        }
        true
    }
}

/// A hunt's answer and the first matching events.
struct Outcome {
    reply: HuntReply,
    events: Vec<(EventId, Event)>,
}

/// A query error as a problem naming the column (1-based) of the query.
fn syntax(error: &hunt::HuntError) -> Error {
    let column = u32::try_from(error.position + 1).unwrap_or(u32::MAX);
    Error::invalid_field("query", format!("{error}")).at(Some(1), Some(column))
}

/// What the store can filter itself: the conjuncts of the query's top
/// level it understands, each keeping every event the evaluator would.
pub fn pushdown(filter: Option<&Expr>, mut range: EventFilter) -> EventFilter {
    let parts: Vec<&Expr> = match filter {
        Some(Expr::And(parts)) => parts.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    };
    for part in parts {
        match part {
            Expr::Field(field, m) if field == "source.ip" || field == "destination.ip" => {
                let ip = match m {
                    Match::Network(network) => Some(*network),
                    Match::Is(_) => m.exact_address().map(IpMatch::Exact),
                    _ => None,
                };
                if let Some(ip) = ip {
                    if field == "source.ip" {
                        range.source_ip.get_or_insert(ip);
                    } else {
                        range.destination_ip.get_or_insert(ip);
                    }
                }
            }
            Expr::Field(field, Match::Compare(op, value)) if field == "event.severity" => {
                let floor = value.trim().parse::<f64>().ok().and_then(|n| match *op {
                    ">=" => Some(n.ceil()),
                    ">" => Some(n.floor() + 1.0),
                    _ => None,
                });
                if let Some(floor) = floor.filter(|f| (0.0..=255.0).contains(f)) {
                    // Whole numbers in range only (checked above).
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let floor = floor as u8;
                    range.min_severity = Some(range.min_severity.map_or(floor, |m| m.max(floor)));
                }
            }
            Expr::Text(Match::Is(word) | Match::Phrase(word)) if range.text.is_none() => {
                range.text = Some(word.clone());
            }
            _ => {}
        }
    }
    range
}

impl Hunts {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            audit: Audit::new(store.clone(), clock.clone()),
            notifier: Notifier::new(store.clone(), clock.clone()),
            store,
            clock,
            detection: None,
        }
    }

    /// Where saved hunts' alerts go.
    pub fn with_detection(mut self, detection: Arc<Detection>) -> Self {
        self.detection = Some(detection);
        self
    }

    pub async fn hunt(
        &self,
        principal: &Principal,
        request: HuntRequest,
    ) -> Result<HuntReply, Error> {
        principal.require(Permission::Read)?;
        self.hunt_in(principal.org_id, request).await
    }

    /// A hunt over `org`'s events (callers have checked the caller).
    pub async fn hunt_in(&self, org: OrgId, request: HuntRequest) -> Result<HuntReply, Error> {
        Ok(self.execute(org, request, false).await?.reply)
    }

    /// Counts of every event in the range from the store's stats (which add
    /// up per-block pre-aggregates and read only the blocks straddling the
    /// range's ends), when they answer exactly: a total, a timechart
    /// without a field in whole minutes, or counts by one stats field whose
    /// blocks each kept all their values, fewer than pre-aggregates keep.
    async fn rollup_counts(
        &self,
        org: OrgId,
        filter: &EventFilter,
        by: &hunt::CountBy,
    ) -> Result<Option<Counted>, Error> {
        let field = match &by.fields[..] {
            [] => None,
            [field] if STATS_FIELDS.contains(&field.as_str()) => Some(field.as_str()),
            _ => return Ok(None),
        };
        let bucket_ms = match (by.bucket_ms, field) {
            (Some(ms), None) if ms % ROLLUP_MINUTE_MS == 0 => ms,
            (None, _) => 86_400_000,
            _ => return Ok(None),
        };
        let top_limit = ROLLUP_TOP_KEPT;
        let stats = self
            .store
            .event_stats(
                org,
                &StatsRequest {
                    filter,
                    bucket_ms,
                    top_field: field,
                    top_limit,
                    // Pre-aggregates only: blocks that kept all their
                    // values make the answer exact, and it says so; where
                    // one did not, the events are counted instead.
                    approximate_top: true,
                },
            )
            .await?;
        if stats.top_approximate || (field.is_some() && stats.top.len() >= top_limit) {
            return Ok(None);
        }
        let mut counted = Counted {
            read: stats.read,
            ..Counted::default()
        };
        if by.bucket_ms.is_some() {
            for (bucket, n) in stats.buckets {
                counted.counts.insert(vec![bucket.0.to_string()], n);
            }
        } else if field.is_some() {
            let with_value: u64 = stats.top.iter().map(|(_, n)| n).sum();
            for (value, n) in stats.top {
                counted.counts.insert(vec![value], n);
            }
            let without = stats.total.saturating_sub(with_value);
            if without > 0 {
                counted.counts.insert(vec![String::new()], without);
            }
        } else if stats.total > 0 {
            counted.counts.insert(Vec::new(), stats.total);
        }
        Ok(Some(counted))
    }

    /// The hunt; with `keep_events`, the first matching events come back
    /// too (counts are then made from whole events).
    async fn execute(
        &self,
        org: OrgId,
        request: HuntRequest,
        keep_events: bool,
    ) -> Result<Outcome, Error> {
        let started = Instant::now();
        let query = hunt::parse(&request.query).map_err(|e| syntax(&e))?;
        hunt::check_order(&query.pipes).map_err(|e| Error::invalid_field("query", e))?;
        let limit = match request.limit {
            None => 100,
            Some(n @ 1..=MAX_ROWS) => usize::try_from(n).unwrap_or(100),
            Some(_) => {
                return Err(Error::invalid_field(
                    "limit",
                    format!("must be 1 to {MAX_ROWS}"),
                ))
            }
        };
        let to = request.to.unwrap_or_else(|| self.clock.now());
        let from = request.from.unwrap_or(to.plus_secs(-86_400));
        if from >= to {
            return Err(Error::invalid_field("from", "must be before `to`"));
        }
        if to.0 - from.0 > MAX_RANGE_DAYS * 86_400_000 {
            return Err(Error::invalid_field(
                "from",
                format!("a hunt covers at most {MAX_RANGE_DAYS} days"),
            ));
        }
        let aggregates = matches!(
            query.pipes.first(),
            Some(Pipe::Stats { .. } | Pipe::Timechart { .. })
        );
        let sorted = query.pipes.iter().any(|p| matches!(p, Pipe::Sort { .. }));
        let mut after =
            match &request.cursor {
                Some(_) if aggregates => {
                    return Err(Error::invalid_field("cursor", "counts come in one answer"))
                }
                Some(c) => Some(EventCursor::decode(c).ok_or_else(|| {
                    Error::invalid_field("cursor", "not a cursor this API returned")
                })?),
                None => None,
            };
        let mut filter = pushdown(
            query.filter.as_ref(),
            EventFilter {
                from: Some(from),
                to: Some(to),
                ..EventFilter::default()
            },
        );
        // `*` alone (an empty AND) is no condition at all.
        let condition = query
            .filter
            .clone()
            .filter(|f| !matches!(f, Expr::And(parts) if parts.is_empty()))
            .map(Arc::new);
        filter.condition = condition.clone().map(|c| {
            rampart_core::event::Condition(c as Arc<dyn rampart_core::event::EventCondition>)
        });
        let mut found = Found {
            condition: condition.as_deref(),
            rows: Rows::new(query.pipes.clone(), limit),
            scanned: 0,
            last_kept: None,
            kept: Vec::new(),
            keep: if keep_events { KEPT_EVENTS } else { 0 },
            started,
            truncated: false,
        };
        let count_by = found.rows.count_by().filter(|_| !keep_events);
        let counted = match count_by {
            // Every event of the range: the blocks' pre-aggregates.
            Some(by) if filter.is_time_range_only() => {
                match self.rollup_counts(org, &filter, &by).await? {
                    Some(counted) => Some(counted),
                    None => self.store.count_events(org, &filter, &by).await?,
                }
            }
            // Counts the store can make on events read in place.
            Some(by) if condition.as_deref().is_none_or(hunt::decided_in_place) => {
                self.store.count_events(org, &filter, &by).await?
            }
            _ => None,
        };
        if let Some(counted) = counted {
            found.scanned = counted.read;
            for (key, n) in counted.counts {
                found.rows.add_count(key, n);
            }
        } else if aggregates {
            // Every match counts and order does not: one pass over the
            // blocks, several at once. (A sort orders the newest matches,
            // so it pages newest first like plain rows.)
            self.store
                .scan_events(org, &filter, &mut |id, event| found.offer(id, &event))
                .await?;
        } else {
            loop {
                let page = self.store.query_events(org, &filter, after, PAGE).await?;
                let full = page.len() == PAGE as usize;
                after = page.last().map(|(id, e)| EventCursor {
                    timestamp: e.timestamp,
                    id: *id,
                });
                let mut going = true;
                for (id, event) in &page {
                    going = found.offer(*id, event);
                    if !going {
                        break;
                    }
                }
                if !full || !going {
                    break;
                }
            }
        }
        let Found {
            rows,
            scanned,
            last_kept,
            kept,
            truncated,
            ..
        } = found;
        let matched = rows.matched;
        let more = !aggregates && !sorted && !rows.wants_more();
        let out = rows.finish();
        let reply = HuntReply {
            kind: if aggregates {
                RowKind::Aggregates
            } else {
                RowKind::Events
            },
            next_cursor: more.then(|| last_kept.map(|c| c.encode())).flatten(),
            rows: out,
            matched,
            scanned,
            took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            truncated,
        };
        Ok(Outcome {
            reply,
            events: kept,
        })
    }
}
