//! A circuit breaker per endpoint: after a run of failures an endpoint is
//! left alone for a cool-down (deliveries to it wait for their next
//! attempt without connecting), then one attempt probes it again.

use std::collections::HashMap;
use std::sync::Mutex;

use rampart_core::Timestamp;

/// When a breaker opens and for how long.
#[derive(Clone, Copy, Debug)]
pub struct BreakerPolicy {
    /// Consecutive failures that open it.
    pub failures: u32,
    pub cooldown_ms: i64,
}

#[derive(Default)]
struct Endpoint {
    failures: u32,
    open_until: Option<Timestamp>,
}

/// The breakers of this node, by endpoint (a URL's origin, an SMTP host).
pub struct Breakers {
    policy: BreakerPolicy,
    endpoints: Mutex<HashMap<String, Endpoint>>,
}

impl Breakers {
    pub fn new(policy: BreakerPolicy) -> Self {
        Breakers {
            policy,
            endpoints: Mutex::new(HashMap::new()),
        }
    }

    fn endpoints(&self) -> std::sync::MutexGuard<'_, HashMap<String, Endpoint>> {
        self.endpoints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether an attempt may go to `endpoint` now: `Err(until)` while its
    /// breaker is open. Once the cool-down is over one attempt goes
    /// through (half-open) and the breaker opens again if it fails.
    pub fn admit(&self, endpoint: &str, now: Timestamp) -> Result<(), Timestamp> {
        let mut endpoints = self.endpoints();
        let Some(state) = endpoints.get_mut(endpoint) else {
            return Ok(());
        };
        match state.open_until {
            Some(until) if now < until => Err(until),
            Some(_) => {
                // Half-open: let this one probe; others wait a cool-down.
                state.open_until = Some(Timestamp(now.0 + self.policy.cooldown_ms));
                Ok(())
            }
            None => Ok(()),
        }
    }

    pub fn succeeded(&self, endpoint: &str) {
        self.endpoints().remove(endpoint);
    }

    pub fn failed(&self, endpoint: &str, now: Timestamp) {
        let mut endpoints = self.endpoints();
        // Bound the memory a stream of distinct failing endpoints can take.
        if endpoints.len() >= 10_000 && !endpoints.contains_key(endpoint) {
            endpoints.retain(|_, e| e.open_until.is_some_and(|until| until > now));
        }
        let state = endpoints.entry(endpoint.to_owned()).or_default();
        state.failures = state.failures.saturating_add(1);
        if state.failures >= self.policy.failures {
            state.open_until = Some(Timestamp(now.0 + self.policy.cooldown_ms));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_failures_and_probes_after_the_cooldown() {
        let breakers = Breakers::new(BreakerPolicy {
            failures: 3,
            cooldown_ms: 1000,
        });
        let hook = "https://hooks.example.com";
        for t in 0..2 {
            assert!(breakers.admit(hook, Timestamp(t)).is_ok());
            breakers.failed(hook, Timestamp(t));
        }
        assert!(breakers.admit(hook, Timestamp(2)).is_ok());
        breakers.failed(hook, Timestamp(2));
        assert_eq!(breakers.admit(hook, Timestamp(500)), Err(Timestamp(1002)));
        assert!(breakers
            .admit("https://other.example.com", Timestamp(500))
            .is_ok());
        // After the cool-down one probe goes; the next waits for its outcome.
        assert!(breakers.admit(hook, Timestamp(1002)).is_ok());
        assert!(breakers.admit(hook, Timestamp(1003)).is_err());
        breakers.succeeded(hook);
        assert!(breakers.admit(hook, Timestamp(1004)).is_ok());
    }
}
