//! The operations overview: incidents by status, severity and age, and the
//! events of a recent range (their rate and their top sources, users and
//! hosts). The dashboard page and `GET /api/v1/overview` show it.

use std::sync::Arc;

use rampart_core::{Clock, Error, EventFilter, IncidentStatus, OrgId, Timestamp};
use rampart_store::Store;

use crate::api::events::TopValue;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::api::overview::{
    AgeCount, OverviewView, RuleHitCount, SeverityCount, StatusCount, ValidationTotal,
};
use crate::cache::Cache;
use crate::events::{chart_bucket_secs, Events, StatsQuery};
use crate::paging::PageParams;
use crate::rules::Rules;
use crate::validation::ValidationRules;

/// The ages open incidents are counted under, and the names of the counts
/// (the last: older than every limit).
const AGE_LIMITS_MS: [i64; 3] = [3_600_000, 86_400_000, 7 * 86_400_000];
const AGE_NAMES: [&str; 4] = ["under_1h", "under_24h", "under_7d", "older"];

/// The cache of overviews, by organisation and range.
pub const OVERVIEW_CACHE: &str = "overview";

/// Overviews by organisation and range, with when each was computed.
pub type OverviewCache = Cache<String, (OverviewView, Instant)>;

#[derive(Clone)]
pub struct Overview {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    events: Events,
    rules: Rules,
    validation: ValidationRules,
    cache: Arc<OverviewCache>,
    /// How long a computed overview is served as it is (zero: no cache).
    fresh_for: Duration,
    /// One computation per key at a time; the rest wait for it.
    loading: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Overview {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        events: Events,
        rules: Rules,
        validation: ValidationRules,
        cache: Arc<OverviewCache>,
        fresh_for: Duration,
    ) -> Self {
        Self {
            store,
            clock,
            events,
            rules,
            validation,
            cache,
            fresh_for,
            loading: Arc::default(),
        }
    }

    fn key_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut loading = self
            .loading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if loading.len() > 10_000 {
            loading.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        loading.entry(key.to_owned()).or_default().clone()
    }

    /// The overview of the `range_secs` ending now (1 minute to 31 days),
    /// at most the cache's time to live old.
    pub async fn get(&self, org: OrgId, range_secs: i64) -> Result<OverviewView, Error> {
        if !(60..=31 * 86_400).contains(&range_secs) {
            return Err(Error::invalid_field(
                "range",
                "must be between 1 minute and 31 days",
            ));
        }
        if self.fresh_for.is_zero() {
            return self.compute(org, range_secs).await;
        }
        let key = format!("{org}:{range_secs}");
        if let Some((view, at)) = self.cache.get(&key) {
            if at.elapsed() >= self.fresh_for {
                // Stale: one request refreshes it in the background; this
                // and the others get the last figures meanwhile.
                if let Ok(guard) = self.key_lock(&key).try_lock_owned() {
                    let this = self.clone();
                    tokio::spawn(async move {
                        if let Ok(view) = this.compute(org, range_secs).await {
                            this.cache.put(key, (view, Instant::now()));
                        }
                        drop(guard);
                    });
                }
            }
            return Ok(view);
        }
        // Missing (first view, or invalidated): one computes, the rest wait.
        let lock = self.key_lock(&key);
        let _guard = lock.lock().await;
        if let Some((view, _)) = self.cache.get(&key) {
            return Ok(view);
        }
        let view = self.compute(org, range_secs).await?;
        self.cache.put(key, (view.clone(), Instant::now()));
        Ok(view)
    }

    async fn compute(&self, org: OrgId, range_secs: i64) -> Result<OverviewView, Error> {
        let now = self.clock.now();
        let counts = self.store.incident_counts(org).await?;
        let incidents_by_status = IncidentStatus::ALL
            .into_iter()
            .map(|status| StatusCount {
                status,
                count: counts
                    .iter()
                    .filter(|c| c.status == status)
                    .map(|c| c.count)
                    .sum(),
            })
            .collect();
        let mut open_by_severity: Vec<SeverityCount> = (1..=5)
            .map(|severity| SeverityCount { severity, count: 0 })
            .collect();
        for count in counts.iter().filter(|c| !c.status.is_closed()) {
            let slot = usize::from(count.severity.clamp(1, 5) - 1);
            open_by_severity[slot].count += count.count;
        }
        let open_by_age = AGE_LIMITS_MS.map(|age| Timestamp(now.0 - age));
        let open_by_age = self
            .store
            .open_incident_ages(org, &open_by_age)
            .await?
            .into_iter()
            .zip(AGE_NAMES)
            .map(|(count, age)| AgeCount { age, count })
            .collect();

        let filter = EventFilter {
            from: Some(Timestamp(now.0 - range_secs * 1000)),
            ..EventFilter::default()
        };
        // Three counts of the range on tasks of their own, so that they run
        // on several cores (their work is adding up block rollups).
        let top = |field: &'static str| {
            let (events, filter) = (self.events.clone(), filter.clone());
            tokio::spawn(async move {
                let query = StatsQuery {
                    filter: &filter,
                    bucket_secs: chart_bucket_secs(range_secs),
                    top: Some(field.to_owned()),
                    top_limit: 5,
                    approximate_top: true,
                };
                events.stats(org, query).await
            })
        };
        let (by_source, by_user, by_host) =
            tokio::try_join!(top("source.ip"), top("user.name"), top("host.name"))
                .map_err(|e| Error::internal(&e))?;
        let (by_source, by_user, by_host) = (by_source?, by_user?, by_host?);
        let mut rules = self
            .rules
            .list(
                org,
                &PageParams {
                    limit: Some(1000),
                    cursor: None,
                },
            )
            .await?
            .items;
        rules.retain(|r| r.hits > 0);
        rules.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.title.cmp(&b.title)));
        let top_rules = rules
            .into_iter()
            .take(5)
            .map(|r| RuleHitCount {
                rule_id: r.id,
                title: r.title,
                hits: r.hits,
                last_hit_at: r.last_hit_at,
            })
            .collect();
        let mut validation = Vec::new();
        for rule in self.validation.list(org).await? {
            let counts = self
                .validation
                .counts(org, rule.id, filter.from, None, None)
                .await?;
            validation.push(ValidationTotal {
                rule_id: rule.id,
                name: rule.name,
                source: rule.source,
                passed: counts.iter().map(|c| c.1).sum(),
                failed: counts.iter().map(|c| c.2).sum(),
            });
        }
        let last_minute = EventFilter {
            from: Some(Timestamp(now.0 - 60_000)),
            ..EventFilter::default()
        };
        let events_last_minute = self
            .events
            .stats(
                org,
                StatsQuery {
                    filter: &last_minute,
                    bucket_secs: 60,
                    top: None,
                    top_limit: 0,
                    approximate_top: true,
                },
            )
            .await?
            .total;
        let times = self
            .store
            .response_times(org, filter.from.unwrap_or(now))
            .await?;
        Ok(OverviewView {
            at: now,
            range_secs,
            incidents_by_status,
            open_by_severity,
            open_by_age,
            events_total: by_source.total,
            events_bucket_secs: by_source.bucket_secs,
            events: by_source.buckets,
            top_approximate: by_source.top_approximate
                || by_user.top_approximate
                || by_host.top_approximate,
            top_sources: by_source.top,
            top_users: without_empty(by_user.top),
            top_hosts: without_empty(by_host.top),
            top_rules,
            validation_passed: validation.iter().map(|v| v.passed).sum(),
            validation_failed: validation.iter().map(|v| v.failed).sum(),
            validation,
            events_last_minute,
            acknowledged: times.acknowledged,
            mean_time_to_acknowledge_secs: times.mean_to_acknowledge_ms.map(|ms| ms / 1000),
            closed: times.closed,
            mean_time_to_close_secs: times.mean_to_close_ms.map(|ms| ms / 1000),
        })
    }
}

/// A range as `<n>m`, `<n>h` or `<n>d` (`15m`, `1h`, `7d`), in seconds.
pub fn parse_range(text: &str) -> Result<i64, Error> {
    let invalid = || Error::invalid_field("range", "must be minutes, hours or days: 15m, 1h, 7d");
    // The unit is the last character (of any width: the text is hostile).
    let unit = text.chars().last().ok_or_else(invalid)?;
    let number: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| invalid())?;
    let unit = match unit {
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => return Err(invalid()),
    };
    number.checked_mul(unit).ok_or_else(invalid)
}

fn without_empty(top: Vec<TopValue>) -> Vec<TopValue> {
    top.into_iter().filter(|t| !t.value.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_minutes_hours_and_days() {
        assert_eq!(parse_range("15m").unwrap(), 900);
        assert_eq!(parse_range("24h").unwrap(), 86_400);
        assert_eq!(parse_range("7d").unwrap(), 604_800);
        for bad in [
            "",
            "h",
            "1w",
            "-",
            "99999999999999999d",
            "1.5h",
            "\u{4}m±\u{6}x\u{95}ö",
            "5é",
        ] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }
}
