//! In-process rate limit state: each key's TAT in one of 64 shards, so
//! that checks on different keys rarely wait for each other. A shard that
//! grows large drops the keys whose TAT has passed (they are back to a
//! full burst, the same as absent).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

use rampart_core::rate_limit::Decision;

use super::Policy;

const SHARDS: usize = 64;
/// Keys a shard holds before it sweeps out idle ones.
const SWEEP_AT: usize = 50_000;

pub struct MemoryLimits {
    hasher: std::collections::hash_map::RandomState,
    shards: Vec<Mutex<HashMap<(Policy, String), i64>>>,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        MemoryLimits {
            hasher: std::collections::hash_map::RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

impl MemoryLimits {
    /// Runs `decide` on the key's TAT and stores the TAT it returns.
    pub fn update(
        &self,
        policy: Policy,
        key: &str,
        now_ns: i64,
        decide: impl FnOnce(Option<i64>) -> (Decision, Option<i64>),
    ) -> Decision {
        let shard = (self.hasher.hash_one((policy, key)) as usize) % SHARDS;
        let mut map = self.shards[shard]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = (policy, key.to_owned());
        let (decision, new_tat) = decide(map.get(&id).copied());
        if let Some(tat) = new_tat {
            if map.len() >= SWEEP_AT && !map.contains_key(&id) {
                map.retain(|_, tat| *tat > now_ns);
            }
            map.insert(id, tat);
        }
        decision
    }
}
