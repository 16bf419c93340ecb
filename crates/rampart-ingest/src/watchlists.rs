//! Watchlists in the ingest path: each organisation's live entries
//! compiled into a matcher (`rampart_mail::watch`), cached per node and
//! rebuilt when the organisation's watchlist version moves (checked every
//! few seconds; at once on the node that made the change) or an entry
//! expires. A rebuild runs beside ingest, which keeps the previous matcher
//! meanwhile; only an organisation's first batch on a node waits for its
//! first load. A batch's sightings become one alert per entry (with the
//! batch's events that showed it) after the events are stored; hit counts
//! are summed in memory and written every few seconds, like rule hits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rampart_core::watchlist::EntryHits;
use rampart_core::{Entities, Error, Event, EventId, OrgId, Timestamp, WatchlistEntryId};
use rampart_mail::watch::{event_sightings, Sightings, WatchMatcher};
use rampart_store::{NewAlert, Store};

/// How long a compiled watchlist is trusted before the store is asked
/// whether it changed.
const RECHECK: Duration = Duration::from_secs(5);
/// Most event ids one watchlist alert lists.
const MAX_ALERT_EVENTS: usize = 100;
/// The rule id of watchlist alerts (their incidents group by entry).
pub const WATCHLIST_RULE: &str = "watchlist";

/// Every organisation's compiled watchlist on this node.
pub struct Watchlists {
    store: Arc<dyn Store>,
    orgs: Mutex<HashMap<OrgId, Arc<OrgWatch>>>,
    /// Hits not yet written, per organisation and entry.
    pending_hits: Mutex<HashMap<(OrgId, WatchlistEntryId), (i64, Timestamp)>>,
}

struct OrgWatch {
    loaded: RwLock<Loaded>,
    /// Held while the matcher is rebuilt (one rebuild at a time).
    rebuilding: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Loaded {
    matcher: Arc<WatchMatcher>,
    version: i64,
    next_expiry: Option<Timestamp>,
    checked: Option<Instant>,
}

/// What a batch showed: per entry, the events (batch positions) and the
/// entities they name.
#[derive(Default)]
pub struct WatchScan {
    matcher: Option<Arc<WatchMatcher>>,
    /// Entry index in the matcher → (positions, latest event time, fields, entities).
    seen: HashMap<u32, Seen>,
}

struct Seen {
    positions: Vec<usize>,
    count: i64,
    latest: i64,
    field: String,
    value: String,
    entities: Entities,
}

impl WatchScan {
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

impl Watchlists {
    pub fn new(store: Arc<dyn Store>) -> Watchlists {
        Watchlists {
            store,
            orgs: Mutex::default(),
            pending_hits: Mutex::default(),
        }
    }

    fn state(&self, org: OrgId) -> (Arc<OrgWatch>, bool) {
        let mut orgs = self.orgs.lock().unwrap_or_else(|p| p.into_inner());
        match orgs.get(&org) {
            Some(state) => (state.clone(), false),
            None => {
                let state = Arc::new(OrgWatch {
                    loaded: RwLock::new(Loaded {
                        matcher: Arc::new(WatchMatcher::default()),
                        version: -1,
                        next_expiry: None,
                        checked: None,
                    }),
                    rebuilding: tokio::sync::Mutex::new(()),
                });
                orgs.insert(org, state.clone());
                (state, true)
            }
        }
    }

    /// The organisation's matcher for a batch received at `now`. The first
    /// call on this node loads it; later calls start a rebuild in the
    /// background when it may be stale and answer with the current one.
    pub async fn matcher_for(
        self: &Arc<Self>,
        org: OrgId,
        now: Timestamp,
    ) -> Result<Arc<WatchMatcher>, Error> {
        let (state, new) = self.state(org);
        let loaded = state
            .loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if new || loaded.version < 0 {
            self.refresh(org, now).await?;
        } else {
            let stale = loaded.checked.is_none_or(|at| at.elapsed() >= RECHECK)
                || loaded.next_expiry.is_some_and(|at| at <= now);
            if stale && state.rebuilding.try_lock().is_ok() {
                // Marked checked now, so the batches behind this one do
                // not start rebuilds of their own.
                state
                    .loaded
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .checked = Some(Instant::now());
                let this = self.clone();
                tokio::spawn(async move {
                    if let Err(error) = this.refresh(org, now).await {
                        tracing::warn!(%org, %error, "watchlist could not be reloaded");
                    }
                });
            }
        }
        let matcher = state
            .loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .matcher
            .clone();
        Ok(matcher)
    }

    /// Brings the organisation's matcher up to date now (after a change
    /// on this node, and for its first batch).
    pub async fn refresh(&self, org: OrgId, now: Timestamp) -> Result<(), Error> {
        let (state, _) = self.state(org);
        let _rebuilding = state.rebuilding.lock().await;
        let loaded = state
            .loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let version = self.store.watchlist_version(org).await?;
        let expired = loaded.next_expiry.is_some_and(|at| at <= now);
        if version == loaded.version && !expired {
            state
                .loaded
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .checked = Some(Instant::now());
            return Ok(());
        }
        let live = self.store.live_watchlist(org, now).await?;
        let matcher = tokio::task::spawn_blocking(move || WatchMatcher::new(live.entries))
            .await
            .map_err(|e| Error::internal(&e))?;
        *state.loaded.write().unwrap_or_else(|p| p.into_inner()) = Loaded {
            matcher: Arc::new(matcher),
            version,
            next_expiry: live.next_expiry,
            checked: Some(Instant::now()),
        };
        Ok(())
    }

    /// How many entries this node's matcher of the organisation holds
    /// (0 before its first load).
    pub fn loaded_entries(&self, org: OrgId) -> usize {
        self.orgs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&org)
            .map_or(0, |state| {
                state
                    .loaded
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .matcher
                    .len()
            })
    }

    /// Adds a batch's sightings to the hit counts not yet written.
    fn add_hits(&self, org: OrgId, hits: impl IntoIterator<Item = EntryHits>) {
        let mut pending = self.pending_hits.lock().unwrap_or_else(|p| p.into_inner());
        for hit in hits {
            let entry = pending.entry((org, hit.id)).or_insert((0, hit.last_hit_at));
            entry.0 += hit.hits;
            entry.1 = entry.1.max(hit.last_hit_at);
        }
    }

    /// Writes the hit counts summed so far (of `org`, or of all);
    /// counts that could not be written are kept.
    pub async fn flush_hits(&self, org: Option<OrgId>) -> Result<(), rampart_store::StoreError> {
        let taken: HashMap<OrgId, Vec<EntryHits>> = {
            let mut pending = self.pending_hits.lock().unwrap_or_else(|p| p.into_inner());
            let keys: Vec<(OrgId, WatchlistEntryId)> = pending
                .keys()
                .filter(|(o, _)| org.is_none_or(|wanted| *o == wanted))
                .copied()
                .collect();
            let mut taken: HashMap<OrgId, Vec<EntryHits>> = HashMap::new();
            for key in keys {
                if let Some((hits, last_hit_at)) = pending.remove(&key) {
                    taken.entry(key.0).or_default().push(EntryHits {
                        id: key.1,
                        hits,
                        last_hit_at,
                    });
                }
            }
            taken
        };
        let mut failure = None;
        for (org, hits) in taken {
            if let Err(error) = self.store.add_watchlist_hits(org, &hits).await {
                self.add_hits(org, hits);
                failure = Some(error);
            }
        }
        failure.map_or(Ok(()), Err)
    }

    /// The alerts of a stored batch (`ids` in batch order), and its hits
    /// counted.
    pub fn alerts(&self, org: OrgId, scan: WatchScan, ids: &[EventId]) -> Vec<NewAlert> {
        let Some(matcher) = scan.matcher else {
            return Vec::new();
        };
        let mut alerts = Vec::with_capacity(scan.seen.len());
        let mut hits = Vec::with_capacity(scan.seen.len());
        for (index, seen) in scan.seen {
            let Some(entry) = matcher.entry(index) else {
                continue;
            };
            hits.push(EntryHits {
                id: entry.id,
                hits: seen.count,
                last_hit_at: Timestamp(seen.latest),
            });
            alerts.push(NewAlert {
                rule_id: WATCHLIST_RULE.to_owned(),
                rule_title: if seen.value == entry.value {
                    format!(
                        "Watchlist {} {} seen in {}",
                        entry.kind.as_str(),
                        entry.value,
                        seen.field
                    )
                } else {
                    format!(
                        "Watchlist {} {} seen in {} as {}",
                        entry.kind.as_str(),
                        entry.value,
                        seen.field,
                        seen.value
                    )
                },
                severity: entry.severity,
                group_key: format!("{}={}", entry.kind.as_str(), entry.value),
                event_ids: seen
                    .positions
                    .iter()
                    .filter_map(|&p| ids.get(p).copied())
                    .collect(),
                entities: seen.entities,
                ts: Timestamp(seen.latest),
            });
        }
        alerts.sort_by(|a, b| a.group_key.cmp(&b.group_key));
        self.add_hits(org, hits);
        alerts
    }
}

/// Looks for the matcher's entries in a batch (CPU-bound; call off the
/// runtime). `entities` names what an event is about (for the alerts).
pub fn scan(
    matcher: Arc<WatchMatcher>,
    events: &[Event],
    entities: impl Fn(&Event) -> Entities,
) -> WatchScan {
    let mut scan = WatchScan::default();
    if matcher.is_empty() {
        return scan;
    }
    let mut sightings = Sightings::default();
    for (position, event) in events.iter().enumerate() {
        event_sightings(&matcher, event, &mut sightings);
        for sighting in sightings.found.drain(..) {
            let seen = scan.seen.entry(sighting.entry).or_insert_with(|| Seen {
                positions: Vec::new(),
                count: 0,
                latest: i64::MIN,
                field: sighting.field,
                value: sighting.value,
                entities: entities(event),
            });
            seen.count += 1;
            seen.latest = seen.latest.max(event.timestamp.0);
            if seen.positions.len() < MAX_ALERT_EVENTS {
                seen.positions.push(position);
            }
        }
    }
    scan.matcher = Some(matcher);
    scan
}
