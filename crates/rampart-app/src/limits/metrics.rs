//! Rate limit metrics: decisions per policy and outcome, and failures of
//! the shared store (Redis).

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

use super::Policy;

#[derive(Clone)]
pub struct LimitMetrics {
    decisions: IntCounterVec,
    backend_errors: IntCounter,
}

impl LimitMetrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let decisions = IntCounterVec::new(
            Opts::new(
                "rate_limit_decisions_total",
                "Rate limit checks by policy and outcome (allowed, limited)",
            ),
            &["policy", "outcome"],
        )?;
        let backend_errors = IntCounter::new(
            "rate_limit_backend_errors_total",
            "Checks the shared store (Redis) could not answer; counted on the node instead",
        )?;
        registry.register(Box::new(decisions.clone()))?;
        registry.register(Box::new(backend_errors.clone()))?;
        Ok(LimitMetrics {
            decisions,
            backend_errors,
        })
    }

    pub fn decided(&self, policy: Policy, allowed: bool) {
        let outcome = if allowed { "allowed" } else { "limited" };
        self.decisions
            .with_label_values(&[policy.name(), outcome])
            .inc();
    }

    pub fn backend_error(&self) {
        self.backend_errors.inc();
    }
}
