//! Caches of hot reads with explicit invalidation: each cache keeps values
//! for at most its time to live, every write that changes what it holds
//! invalidates it through the [`Invalidator`], and with Redis configured
//! the invalidation is published so that every node drops its copy too
//! (`redis_bus`). Hits and misses per cache are counted for `/metrics`.

pub mod redis_bus;

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use prometheus::{IntCounterVec, Opts, Registry};
use serde::Deserialize;

/// The caches of credentials already checked (`Sessions`), dropped
/// whenever an account changes.
pub const API_KEY_CACHE: &str = "api_keys";
pub const SESSION_CACHE: &str = "sessions";

/// `[cache]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    pub enabled: bool,
    /// How long a node trusts a cached API key or session without asking
    /// the database: changes through the API invalidate at once (on every
    /// node with Redis); offline `rampart user`/`apikey` commands reach a
    /// running node within this time.
    pub auth_ttl_secs: u64,
    /// How old the dashboard's figures may be.
    pub overview_ttl_secs: u64,
    /// The Redis channel nodes tell each other invalidations on.
    pub redis_channel: String,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            auth_ttl_secs: 1,
            overview_ttl_secs: 5,
            redis_channel: "rampart:invalidate".into(),
        }
    }
}

impl CacheConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.auth_ttl_secs > 300 || self.overview_ttl_secs > 300 {
            return Err("cache: a time to live is at most 300 seconds".into());
        }
        Ok(())
    }
}

/// Hit, miss and invalidation counters of every cache.
#[derive(Clone)]
pub struct CacheMetrics {
    requests: IntCounterVec,
    invalidations: IntCounterVec,
}

impl CacheMetrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "cache_requests_total",
                "Cache look-ups by cache and outcome (hit, miss)",
            ),
            &["cache", "outcome"],
        )?;
        let invalidations = IntCounterVec::new(
            Opts::new(
                "cache_invalidations_total",
                "Invalidations by cache and origin (local, remote: from another node)",
            ),
            &["cache", "origin"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(invalidations.clone()))?;
        Ok(CacheMetrics {
            requests,
            invalidations,
        })
    }
}

/// One cache: values by key, each for at most `ttl`, at most `capacity`.
pub struct Cache<K, V> {
    name: &'static str,
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (V, Instant)>>,
    metrics: Option<CacheMetrics>,
}

impl<K: Eq + Hash + Clone, V: Clone> Cache<K, V> {
    pub fn new(
        name: &'static str,
        ttl: Duration,
        capacity: usize,
        metrics: Option<CacheMetrics>,
    ) -> Self {
        Cache {
            name,
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn count(&self, outcome: &str) {
        if let Some(m) = &self.metrics {
            m.requests.with_label_values(&[self.name, outcome]).inc();
        }
    }

    /// The value, if cached and fresh.
    pub fn get(&self, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let now = Instant::now();
        let found = {
            let mut entries = self.entries();
            match entries.get(key) {
                Some((value, until)) if *until > now => Some(value.clone()),
                Some(_) => {
                    entries.remove(key);
                    None
                }
                None => None,
            }
        };
        self.count(if found.is_some() { "hit" } else { "miss" });
        found
    }

    pub fn put(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut entries = self.entries();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, (_, until)| *until > now);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (value, now + self.ttl));
    }

    pub fn remove(&self, key: &K) {
        self.entries().remove(key);
    }

    pub fn clear(&self) {
        self.entries().clear();
    }
}

/// Something an invalidation can reach: a cache by name, whole or by key.
pub trait Invalidate: Send + Sync {
    fn name(&self) -> &'static str;
    /// Drops `key` (its text form), or everything for `None`.
    fn invalidate(&self, key: Option<&str>);
}

impl<V: Clone + Send> Invalidate for Cache<String, V> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn invalidate(&self, key: Option<&str>) {
        match key {
            Some(key) => self.remove(&key.to_owned()),
            None => self.clear(),
        }
    }
}

/// Invalidates caches on this node and, with Redis, on every node.
#[derive(Clone, Default)]
pub struct Invalidator {
    caches: Arc<RwLock<Vec<Arc<dyn Invalidate>>>>,
    /// Set once Redis is connected (after the services that hold clones
    /// of this invalidator are built).
    publisher: Arc<std::sync::OnceLock<redis_bus::Publisher>>,
    metrics: Option<CacheMetrics>,
}

impl Invalidator {
    pub fn new(metrics: Option<CacheMetrics>) -> Self {
        Invalidator {
            metrics,
            ..Invalidator::default()
        }
    }

    /// From now on invalidations also go to the other nodes through Redis.
    pub fn set_publisher(&self, publisher: redis_bus::Publisher) {
        let _ = self.publisher.set(publisher);
    }

    pub fn register(&self, cache: Arc<dyn Invalidate>) {
        self.caches
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(cache);
    }

    /// Applies an invalidation here; `origin` says where it came from.
    pub fn apply(&self, cache: &str, key: Option<&str>, origin: &str) {
        let caches = self
            .caches
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for c in caches.iter().filter(|c| c.name() == cache) {
            c.invalidate(key);
        }
        if let Some(m) = &self.metrics {
            m.invalidations.with_label_values(&[cache, origin]).inc();
        }
    }

    /// Drops everything (after missing invalidations: Redis reconnected).
    pub fn clear_all(&self) {
        let caches = self
            .caches
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for c in caches.iter() {
            c.invalidate(None);
        }
    }

    /// Invalidates `key` of `cache` (all of it for `None`) here and on
    /// every other node.
    pub fn invalidate(&self, cache: &str, key: Option<&str>) {
        self.apply(cache, key, "local");
        if let Some(publisher) = self.publisher.get() {
            publisher.publish(cache, key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire_are_bounded_and_invalidated() {
        let cache: Arc<Cache<String, i32>> =
            Arc::new(Cache::new("test", Duration::from_secs(60), 2, None));
        cache.put("a".into(), 1);
        assert_eq!(cache.get(&"a".into()), Some(1));
        cache.put("b".into(), 2);
        cache.put("c".into(), 3);
        assert!(cache.get(&"c".into()).is_some(), "a full cache makes room");
        let invalidator = Invalidator::new(None);
        invalidator.register(cache.clone());
        invalidator.invalidate("test", Some("c"));
        assert_eq!(cache.get(&"c".into()), None);
        cache.put("d".into(), 4);
        invalidator.invalidate("other", None);
        assert_eq!(cache.get(&"d".into()), Some(4));
        invalidator.invalidate("test", None);
        assert_eq!(cache.get(&"d".into()), None);
        let short: Cache<String, i32> = Cache::new("short", Duration::from_millis(1), 10, None);
        short.put("x".into(), 1);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(short.get(&"x".into()), None);
        let off: Cache<String, i32> = Cache::new("off", Duration::ZERO, 10, None);
        off.put("x".into(), 1);
        assert_eq!(off.get(&"x".into()), None);
    }
}
