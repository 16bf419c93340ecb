//! Validation rules at ingest: each organisation's compiled rule set,
//! cached (reloaded after a change here, or after a few seconds so that
//! changes made on other nodes arrive), and the pass/fail tallies, summed
//! in memory and added to the store every few seconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rampart_core::validation::{check_definition, Check, Mode, RuleSet, ValidationRule};
use rampart_core::{OrgId, Timestamp, ValidationRuleId};
use rampart_store::{CountDelta, Store};

use crate::error::ApiError;
use crate::state::AppState;

/// How long a cached rule set is trusted before it is read again.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// How often tallies are written to the store.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(5);

type TallyKey = (OrgId, ValidationRuleId, i64);

#[derive(Default)]
pub struct Validation {
    cache: RwLock<HashMap<OrgId, (Instant, Arc<RuleSet>)>>,
    tallies: Mutex<HashMap<TallyKey, (i64, i64)>>,
}

impl Validation {
    /// The organisation's enabled rules, compiled.
    pub async fn rules_for(&self, store: &dyn Store, org: OrgId) -> Result<Arc<RuleSet>, ApiError> {
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
        let rules = Arc::new(RuleSet::new(store.list_validation_rules(org).await?));
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(org, (Instant::now(), rules.clone()));
        Ok(rules)
    }

    fn invalidate(&self, org: OrgId) {
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
    pub async fn flush(&self, store: &dyn Store) -> Result<(), rampart_store::StoreError> {
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
        store.add_validation_counts(&taken).await
    }
}

/// Flushes tallies every [`FLUSH_INTERVAL`], forever.
pub async fn flush_forever(state: AppState) {
    loop {
        tokio::time::sleep(FLUSH_INTERVAL).await;
        if let Err(error) = state.validation.flush(&*state.store).await {
            tracing::error!(%error, "storing validation counts failed");
        }
    }
}

/// A rule as clients send it.
#[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = ValidationRuleInput)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: String,
    /// Only events of this ingest source; all when absent.
    #[schema(min_length = 1, max_length = 64)]
    pub source: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub field: String,
    pub check: Check,
    pub mode: Mode,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

impl RuleInput {
    fn into_rule(
        self,
        id: ValidationRuleId,
        org: OrgId,
        created_at: Timestamp,
        updated_at: Timestamp,
    ) -> ValidationRule {
        ValidationRule {
            id,
            org_id: org,
            name: self.name,
            source: self.source,
            field: self.field,
            check: self.check,
            mode: self.mode,
            enabled: self.enabled,
            created_at,
            updated_at,
        }
    }
}

fn enabled_by_default() -> bool {
    true
}

fn checked(input: &RuleInput) -> Result<(), ApiError> {
    if input.name.trim().is_empty() || input.name.len() > 100 {
        return Err(ApiError::invalid_field("name", "must be 1–100 characters"));
    }
    if input
        .source
        .as_ref()
        .is_some_and(|s| s.trim().is_empty() || s.len() > 64)
    {
        return Err(ApiError::invalid_field(
            "source",
            "must be 1–64 characters, or absent for every source",
        ));
    }
    check_definition(&input.field, &input.check).map_err(|e| {
        let field = if e.starts_with("field") {
            "field"
        } else {
            "check"
        };
        ApiError::invalid_field(field, e)
    })
}

pub async fn create(
    state: &AppState,
    org: OrgId,
    input: RuleInput,
) -> Result<ValidationRule, ApiError> {
    checked(&input)?;
    let now = state.clock.now();
    let rule = input.into_rule(ValidationRuleId::new(), org, now, now);
    state.store.create_validation_rule(org, &rule).await?;
    state.validation.invalidate(org);
    Ok(rule)
}

pub async fn replace(
    state: &AppState,
    org: OrgId,
    id: ValidationRuleId,
    input: RuleInput,
) -> Result<ValidationRule, ApiError> {
    checked(&input)?;
    let existing = state
        .store
        .get_validation_rule(org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("validation rule"))?;
    let rule = input.into_rule(id, org, existing.created_at, state.clock.now());
    if !state.store.update_validation_rule(org, &rule).await? {
        return Err(ApiError::not_found("validation rule"));
    }
    state.validation.invalidate(org);
    Ok(rule)
}

pub async fn delete(state: &AppState, org: OrgId, id: ValidationRuleId) -> Result<(), ApiError> {
    if !state.store.delete_validation_rule(org, id).await? {
        return Err(ApiError::not_found("validation rule"));
    }
    state.validation.invalidate(org);
    Ok(())
}

/// Pass/fail counts per bucket over `[from, to)`, including what this node
/// has not written yet.
pub async fn counts(
    state: &AppState,
    org: OrgId,
    id: ValidationRuleId,
    from: Timestamp,
    to: Timestamp,
    bucket_ms: i64,
) -> Result<Vec<(Timestamp, i64, i64)>, ApiError> {
    state
        .store
        .get_validation_rule(org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("validation rule"))?;
    state.validation.flush(&*state.store).await?;
    let minutes = state.store.validation_counts(org, id, from, to).await?;
    let mut buckets: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
    for (minute, passed, failed) in minutes {
        let entry = buckets
            .entry(minute.div_euclid(bucket_ms) * bucket_ms)
            .or_default();
        entry.0 += passed;
        entry.1 += failed;
    }
    Ok(buckets
        .into_iter()
        .map(|(t, (p, f))| (Timestamp(t), p, f))
        .collect())
}
