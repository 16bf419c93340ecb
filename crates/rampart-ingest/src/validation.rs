//! Validation rules at ingest: each organisation's compiled rule set,
//! cached (reloaded after a change here, or after a few seconds so that
//! changes made on other nodes arrive), and the pass/fail tallies, summed
//! in memory and added to the store every few seconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rampart_core::validation::RuleSet;
use rampart_core::{Error, OrgId, Timestamp, ValidationRuleId};
use rampart_store::{CountDelta, Store};

/// How long a cached rule set is trusted before it is read again.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// How often tallies are written to the store.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(5);

type TallyKey = (OrgId, ValidationRuleId, i64);

/// The validation rule sets of every organisation on this node.
pub struct Validation {
    store: Arc<dyn Store>,
    cache: RwLock<HashMap<OrgId, (Instant, Arc<RuleSet>)>>,
    tallies: Mutex<HashMap<TallyKey, (i64, i64)>>,
}

impl Validation {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            cache: RwLock::default(),
            tallies: Mutex::default(),
        }
    }

    /// The organisation's enabled rules, compiled.
    pub async fn rules_for(&self, org: OrgId) -> Result<Arc<RuleSet>, Error> {
        if let Some((loaded, rules)) = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&org)
        {
            if loaded.elapsed() < CACHE_TTL {
                return Ok(rules.clone());
            }
        }
        let rules = Arc::new(RuleSet::new(self.store.list_validation_rules(org).await?));
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(org, (Instant::now(), rules.clone()));
        Ok(rules)
    }

    /// Forgets the organisation's rule set so the next request reads it.
    pub fn invalidate(&self, org: OrgId) {
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&org);
    }

    /// Adds one request's tallies (per rule of `rules`, in order).
    pub fn record(&self, org: OrgId, at: Timestamp, rules: &RuleSet, tallies: &[(i64, i64)]) {
        let minute = at.0.div_euclid(60_000) * 60_000;
        let mut all = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        for (rule, (passed, failed)) in rules.rules().zip(tallies) {
            if passed + failed > 0 {
                let entry = all.entry((org, rule.id, minute)).or_default();
                entry.0 += passed;
                entry.1 += failed;
            }
        }
    }

    /// Writes the tallies gathered so far to the store.
    pub async fn flush(&self) -> Result<(), rampart_store::StoreError> {
        let taken: Vec<CountDelta> = {
            let mut all = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
            all.drain()
                .map(|((org, rule, minute), (passed, failed))| CountDelta {
                    org,
                    rule,
                    minute,
                    passed,
                    failed,
                })
                .collect()
        };
        if taken.is_empty() {
            return Ok(());
        }
        self.store.add_validation_counts(&taken).await
    }

    /// Flushes tallies every [`FLUSH_INTERVAL`], forever.
    pub async fn flush_forever(self: Arc<Self>) {
        loop {
            tokio::time::sleep(FLUSH_INTERVAL).await;
            if let Err(error) = self.flush().await {
                tracing::error!(%error, "storing validation counts failed");
            }
        }
    }
}
