//! Detection in the ingest path. Each organisation's enabled rules (the
//! built-in pack plus its own) are compiled once and cached, re-read when
//! they change (here at once, from other nodes within a few seconds).
//! A batch is *scanned* before it is stored (stateless, on the decoding
//! thread); once stored, its matches are *correlated* (in order, under the
//! organisation's lock) and the alerts recorded, grouped into incidents.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rampart_core::{DetectionRule, Entities, Error, Event, EventId, OrgId, Timestamp};
use rampart_detect::detector::Captured;
use rampart_detect::pack::builtin_documents;
use rampart_detect::sshd::SshAttempts;
use rampart_detect::{
    parse_documents, Correlator, Detector, DetectorBuilder, Document, FieldMapping, Limits,
    Placeholders, RuleKind, Scratch,
};
use rampart_store::{NewAlert, RuleHits, RulesVersion, Store, StoredFieldMapping};

use crate::alerts::{AlertRecorder, AlertSink};
use crate::watchlists::{WatchScan, Watchlists};

/// How long a compiled rule set is trusted before the store is asked
/// whether it changed.
const RECHECK: Duration = Duration::from_secs(5);
/// How often summed rule hit counts are written.
pub const HITS_FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// Every organisation's detection state on this node.
pub struct Detection {
    store: Arc<dyn Store>,
    orgs: Mutex<HashMap<OrgId, Arc<OrgDetection>>>,
    /// Rule hit counts not yet written: per organisation and rule, the
    /// count and the latest hit. Written every [`HITS_FLUSH_INTERVAL`] and
    /// before rules are read, off the ingest path.
    pending_hits: Mutex<HashMap<(OrgId, String), (i64, Timestamp)>>,
    scratches: Arc<ScratchPool>,
    limits: Limits,
    alerts: AlertSink,
    watchlists: Arc<Watchlists>,
}

/// One organisation's compiled rules and stream state.
pub struct OrgDetection {
    compiled: RwLock<Compiled>,
    attempts: Mutex<SshAttempts>,
    correlator: Mutex<Correlator>,
    /// Writes the alerts and hit counts of this node's batches together
    /// and in order, so they never contend for the database's write lock
    /// (SQLite's busy wait sleeps; PostgreSQL could deadlock on incidents
    /// two batches both update).
    recorder: Arc<AlertRecorder>,
    /// The node's scan buffers (shared by every organisation).
    scratches: Arc<ScratchPool>,
}

/// Scan buffers of batches not running now, for the whole node: each holds
/// a bounded memo of the values it saw (see `rampart_detect::scan`), so
/// memory stays bounded however many organisations there are.
#[derive(Default)]
pub struct ScratchPool(Mutex<Vec<Scratch>>);

/// Scratches kept on the node.
const MAX_POOLED_SCRATCHES: usize = 8;

impl ScratchPool {
    /// A scratch, preferably one that remembers `rule_set`'s values.
    fn take(&self, rule_set: u64) -> Scratch {
        let mut pool = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match pool.iter().rposition(|s| s.remembers() == rule_set) {
            Some(at) => pool.swap_remove(at),
            None => pool.pop().unwrap_or_default(),
        }
    }

    fn put(&self, scratch: Scratch) {
        let mut pool = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < MAX_POOLED_SCRATCHES {
            pool.push(scratch);
        }
    }
}

struct Compiled {
    checked: Option<Instant>,
    /// What the detector was compiled from; `None` before the first look.
    version: Option<RulesVersion>,
    detector: Arc<Detector>,
}

/// What a batch's scan found: per event with a consequential match, the
/// rules, the values correlations need and the entities it names.
pub struct Scanned {
    detector: Arc<Detector>,
    events: Vec<ScannedEvent>,
    /// Matches per detection rule (for the hit counters).
    hits: HashMap<usize, (i64, i64)>,
}

struct ScannedEvent {
    index: usize,
    ts: i64,
    rules: Vec<usize>,
    captured: Captured,
    entities: Entities,
}

/// The rule YAML of the built-in pack as stored rows (enabled).
pub fn builtin_rules(org: OrgId, now: Timestamp) -> Result<Vec<DetectionRule>, String> {
    Ok(builtin_documents()?
        .into_iter()
        .zip(rampart_detect::pack::BUILTIN_RULES)
        .map(|((id, doc), (_, yaml))| rule_row(org, id, &doc, yaml, true, now))
        .collect())
}

/// A stored rule for a parsed document.
pub fn rule_row(
    org: OrgId,
    id: &str,
    doc: &Document,
    yaml: &str,
    builtin: bool,
    now: Timestamp,
) -> DetectionRule {
    DetectionRule {
        id: id.to_owned(),
        org_id: org,
        title: doc.title().to_owned(),
        level: doc.level().map(str::to_owned),
        kind: match doc {
            Document::Rule(_) => "detection",
            Document::Correlation(_) => "correlation",
        }
        .into(),
        yaml: yaml.to_owned(),
        enabled: true,
        builtin,
        hits: 0,
        last_hit_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// The organisation's field mapping as detection compiles it.
pub async fn org_mapping(store: &dyn Store, org: OrgId) -> Result<FieldMapping, Error> {
    Ok(read_mapping(org, store.field_mapping(org).await?.as_ref()))
}

/// A stored mapping; one that no longer reads (it was checked when
/// written) is logged and the defaults apply.
pub fn read_mapping(org: OrgId, stored: Option<&StoredFieldMapping>) -> FieldMapping {
    let Some(stored) = stored else {
        return FieldMapping::default();
    };
    serde_json::from_str(&stored.mapping).unwrap_or_else(|e: serde_json::Error| {
        tracing::warn!(%org, error = %e, "stored field mapping does not read; defaults apply");
        FieldMapping::default()
    })
}

/// Compiles rules with the organisation's field mapping; a rule that no
/// longer compiles, or a correlation whose rules are disabled, is left out
/// (and logged) rather than stopping the rest.
pub fn compile(org: OrgId, rules: &[DetectionRule], mapping: &FieldMapping) -> Detector {
    let mut docs: Vec<(String, Document)> = Vec::with_capacity(rules.len());
    for rule in rules {
        match parse_documents(&rule.yaml).into_iter().next() {
            Some(Ok(doc)) => docs.push((rule.id.clone(), doc)),
            Some(Err(e)) => {
                tracing::warn!(%org, rule = %rule.id, error = %e, "stored rule does not load; skipped")
            }
            None => {}
        }
    }
    loop {
        let mut builder = DetectorBuilder::new(mapping.clone(), Placeholders::new());
        docs.retain(|(id, doc)| match builder.add(id, doc) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(%org, rule = %id, error = %e, "stored rule does not compile; skipped");
                false
            }
        });
        match builder.build() {
            Ok(detector) => return detector,
            Err((key, reason)) => {
                tracing::warn!(%org, rule = %key, %reason, "correlation left out");
                docs.retain(|(id, _)| *id != key);
            }
        }
    }
}

impl Detection {
    /// Detection whose correlations keep within `limits` and whose
    /// alerts go to `alerts`.
    pub fn new(store: Arc<dyn Store>, limits: Limits, alerts: AlertSink) -> Detection {
        Detection {
            orgs: Mutex::default(),
            pending_hits: Mutex::default(),
            scratches: Arc::default(),
            limits,
            watchlists: Arc::new(Watchlists::new(store.clone())),
            store,
            alerts,
        }
    }

    /// The organisations' compiled watchlists on this node.
    pub fn watchlists(&self) -> &Arc<Watchlists> {
        &self.watchlists
    }

    /// Records alerts raised outside a batch (a hunt back in time, a
    /// phishing verdict): grouped into incidents as the ingest path's are,
    /// counted, failures logged. Returns where they went.
    pub async fn record_alerts(
        &self,
        org: OrgId,
        alerts: &[NewAlert],
    ) -> Vec<rampart_core::alert_grouping::RecordedAlert> {
        crate::alerts::write(&self.alerts, org, alerts).await
    }

    /// The organisation's detection state, compiled rules up to date.
    pub async fn for_org(&self, org: OrgId, now: Timestamp) -> Result<Arc<OrgDetection>, Error> {
        let store = &*self.store;
        let existing = self
            .orgs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&org)
            .cloned();
        let state = match existing {
            Some(state) => state,
            None => {
                // First use on this node: make sure the built-in pack is there.
                let builtin = builtin_rules(org, now).map_err(|e| Error::internal(&e))?;
                store.sync_builtin_rules(org, &builtin).await?;
                let state = Arc::new(OrgDetection {
                    compiled: RwLock::new(Compiled {
                        checked: None,
                        version: None,
                        detector: Arc::new(compile(org, &[], &FieldMapping::default())),
                    }),
                    attempts: Mutex::new(SshAttempts::new(self.limits.allowed_lateness_ms)),
                    correlator: Mutex::new(Correlator::new(self.limits)),
                    recorder: Arc::default(),
                    scratches: self.scratches.clone(),
                });
                self.orgs
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(org)
                    .or_insert(state)
                    .clone()
            }
        };
        let fresh = state
            .compiled
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .checked
            .is_some_and(|at| at.elapsed() < RECHECK);
        if !fresh {
            let version = store.rules_version(org).await?;
            let current = state
                .compiled
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .version;
            if Some(version) != current {
                let rules = store.enabled_rules(org).await?;
                let mapping = org_mapping(store, org).await?;
                let detector = Arc::new(compile(org, &rules, &mapping));
                state
                    .correlator
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .retain(&detector.state_keys());
                let mut compiled = state.compiled.write().unwrap_or_else(|p| p.into_inner());
                compiled.detector = detector;
                compiled.version = Some(version);
            }
            state
                .compiled
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .checked = Some(Instant::now());
        }
        Ok(state)
    }

    /// Forgets the compiled rules of `org` so the next batch recompiles.
    pub fn invalidate(&self, org: OrgId) {
        if let Some(state) = self
            .orgs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&org)
        {
            state
                .compiled
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .checked = None;
        }
    }

    /// Correlates a stored batch's matches and records the alerts; `ids`
    /// are the stored events' ids in batch order. Returns once they are
    /// written (with other batches' alerts: see [`AlertRecorder`]).
    /// Failures are logged: the events themselves are stored already.
    pub async fn after_commit(
        &self,
        org: OrgId,
        detection: &Arc<OrgDetection>,
        scanned: Scanned,
        watched: WatchScan,
        ids: &[EventId],
    ) {
        if scanned.hits.is_empty() && watched.is_empty() {
            return;
        }
        let watch_alerts = self.watchlists.alerts(org, watched, ids);
        let ticket = {
            let mut correlator = detection
                .correlator
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let before = correlator.counters();
            let (mut alerts, hits) = correlate(&mut correlator, scanned, ids);
            let after = correlator.counters();
            self.alerts
                .metrics
                .correlation(after.late - before.late, after.evicted - before.evicted);
            self.add_hits(org, hits);
            alerts.extend(watch_alerts);
            if alerts.is_empty() {
                return;
            }
            // Queued under the correlator's lock, so in correlation order.
            detection.recorder.enqueue(alerts)
        };
        detection
            .recorder
            .clone()
            .written(self.alerts.clone(), org, ticket)
            .await;
    }

    /// Adds a batch's rule hit counts to those not yet written.
    fn add_hits(&self, org: OrgId, hits: Vec<RuleHits>) {
        let mut pending = self.pending_hits.lock().unwrap_or_else(|p| p.into_inner());
        for hit in hits {
            let entry = pending
                .entry((org, hit.rule_id))
                .or_insert((0, hit.last_hit_at));
            entry.0 += hit.hits;
            entry.1 = entry.1.max(hit.last_hit_at);
        }
    }

    /// Writes the rule hit counts summed so far: of `org`, or of every
    /// organisation. Counts that could not be written are kept.
    pub async fn flush_hits(&self, org: Option<OrgId>) -> Result<(), rampart_store::StoreError> {
        let watched = self.watchlists.flush_hits(org).await;
        let taken: HashMap<OrgId, Vec<RuleHits>> = {
            let mut pending = self.pending_hits.lock().unwrap_or_else(|p| p.into_inner());
            let keys: Vec<(OrgId, String)> = pending
                .keys()
                .filter(|(o, _)| org.is_none_or(|wanted| *o == wanted))
                .cloned()
                .collect();
            let mut taken: HashMap<OrgId, Vec<RuleHits>> = HashMap::new();
            for key in keys {
                if let Some((hits, last_hit_at)) = pending.remove(&key) {
                    taken.entry(key.0).or_default().push(RuleHits {
                        rule_id: key.1,
                        hits,
                        last_hit_at,
                    });
                }
            }
            taken
        };
        let mut failure = None;
        for (org, hits) in taken {
            if let Err(error) = self.store.add_rule_hits(org, &hits).await {
                self.add_hits(org, hits);
                failure = Some(error);
            }
        }
        failure.map_or(watched, Err)
    }

    /// Writes summed rule hit counts every [`HITS_FLUSH_INTERVAL`], forever.
    pub async fn flush_hits_forever(self: Arc<Self>) {
        loop {
            tokio::time::sleep(HITS_FLUSH_INTERVAL).await;
            if let Err(error) = self.flush_hits(None).await {
                tracing::warn!(%error, "rule hit counts could not be stored");
            }
        }
    }

    /// Groups tracked by correlations across organisations (a gauge).
    pub fn tracked_groups(&self) -> usize {
        self.orgs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|s| {
                s.correlator
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .tracked_groups()
            })
            .sum()
    }
}

impl OrgDetection {
    /// Matches a batch against the rules (CPU-bound; call off the runtime).
    pub fn scan(&self, events: &[Event]) -> Scanned {
        let detector = self
            .compiled
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .detector
            .clone();
        let mut scanned = Scanned {
            detector: detector.clone(),
            events: Vec::new(),
            hits: HashMap::new(),
        };
        if detector.rules().is_empty() {
            return scanned;
        }
        let continued: Vec<bool> = if events.iter().any(SshAttempts::concerns) {
            let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
            events.iter().map(|e| attempts.observe(e)).collect()
        } else {
            Vec::new()
        };
        let mut scratch = self.scratches.take(detector.rule_set_id());
        let mut rules = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let was_continued = continued.get(index).copied().unwrap_or(false);
            let captured = detector.scan(event, was_continued, &mut scratch, &mut rules);
            for &rule in &rules {
                let entry = scanned.hits.entry(rule).or_insert((0, i64::MIN));
                entry.0 += 1;
                entry.1 = entry.1.max(event.timestamp.0);
            }
            if let Some(captured) = captured {
                scanned.events.push(ScannedEvent {
                    index,
                    ts: event.timestamp.0,
                    rules: rules.clone(),
                    captured,
                    entities: entities_of(event),
                });
            }
        }
        self.scratches.put(scratch);
        scanned
    }
}

/// The IPs, user and host an event names.
pub fn entities_of(event: &Event) -> Entities {
    Entities {
        ips: [event.source_ip, event.destination_ip]
            .into_iter()
            .flatten()
            .map(rampart_core::event::ip_string)
            .collect(),
        users: event.user.iter().cloned().collect(),
        hosts: event.host.iter().cloned().collect(),
    }
}

/// Feeds a batch's matches to the correlator, in order; returns the
/// alerts to record and the rule hit counts.
fn correlate(
    correlator: &mut Correlator,
    scanned: Scanned,
    ids: &[EventId],
) -> (Vec<NewAlert>, Vec<RuleHits>) {
    let detector = &scanned.detector;
    let mut alerts = Vec::new();
    for event in &scanned.events {
        let Some(&id) = ids.get(event.index) else {
            continue;
        };
        for &rule in &event.rules {
            detector.correlate(correlator, rule, event.ts, &event.captured, id, &mut alerts);
        }
    }
    let entities: HashMap<EventId, &Entities> = scanned
        .events
        .iter()
        .filter_map(|e| ids.get(e.index).map(|&id| (id, &e.entities)))
        .collect();
    let mut hits: HashMap<usize, (i64, i64)> = scanned.hits;
    let new_alerts: Vec<NewAlert> = alerts
        .iter()
        .map(|alert| {
            let rule = detector.rule(alert.rule);
            if rule.kind == RuleKind::Correlation {
                let entry = hits.entry(alert.rule).or_insert((0, i64::MIN));
                entry.0 += 1;
                entry.1 = entry.1.max(alert.ts);
            }
            let mut found = entities
                .get(&alert.trigger)
                .map(|e| (*e).clone())
                .unwrap_or_default();
            for (field, value) in &alert.group {
                let bucket = match field.as_str() {
                    f if f.ends_with(".ip") || f.ends_with("Ip") => &mut found.ips,
                    f if f.starts_with("user") || f.ends_with("User") => &mut found.users,
                    f if f.starts_with("host") => &mut found.hosts,
                    _ => continue,
                };
                if !bucket.contains(value) {
                    bucket.insert(0, value.clone());
                }
            }
            NewAlert {
                rule_id: rule.key.clone(),
                rule_title: rule.title.clone(),
                severity: rule
                    .level
                    .as_deref()
                    .and_then(rampart_core::event::parse_severity)
                    .unwrap_or(3),
                group_key: alert
                    .group
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                event_ids: alert.events.clone(),
                entities: found,
                ts: Timestamp(alert.ts),
            }
        })
        .collect();
    let hits: Vec<RuleHits> = hits
        .into_iter()
        .map(|(rule, (count, last))| RuleHits {
            rule_id: detector.rule(rule).key.clone(),
            hits: count,
            last_hit_at: Timestamp(last),
        })
        .collect();
    (new_alerts, hits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::event::Json;
    use rampart_detect::RuleSetBuilder;

    #[test]
    fn the_pool_hands_back_the_scratch_that_remembers_the_rule_set() {
        let yaml = "title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n    CommandLine|contains: 'whoami'\n  condition: sel\n";
        let Some(Ok(Document::Rule(rule))) = parse_documents(yaml).into_iter().next() else {
            panic!("the rule parses");
        };
        let mut builder = RuleSetBuilder::new(FieldMapping::default(), Placeholders::new());
        builder.add(&rule).unwrap();
        let set = builder.build();
        let event = serde_json::json!({"CommandLine": "cmd /c whoami /all"});
        let mut warm = Scratch::default();
        for _ in 0..2 {
            set.evaluate(&Json::from(&event), &mut warm, &mut Vec::new());
        }
        assert_eq!(warm.remembers(), set.id());

        let pool = ScratchPool::default();
        pool.put(warm);
        pool.put(Scratch::default());
        assert_eq!(pool.take(set.id()).remembers(), set.id());
        assert_eq!(pool.take(set.id()).remembers(), 0, "then any other");
        for _ in 0..2 * MAX_POOLED_SCRATCHES {
            pool.put(Scratch::default());
        }
        assert_eq!(pool.0.lock().unwrap().len(), MAX_POOLED_SCRATCHES);
    }
}
