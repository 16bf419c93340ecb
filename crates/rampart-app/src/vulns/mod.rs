//! Vulnerability management: assets, imports of scanner reports (parsed,
//! prioritised and de-duplicated in one transaction) and findings with
//! their lifecycle.

mod assets;
mod findings;
mod imports;
mod scoring;

use std::sync::Arc;

use rampart_core::Clock;
use rampart_store::Store;

use crate::audit::Audit;

pub use imports::guess_kind;

/// The vulnerability management service.
#[derive(Clone)]
pub struct Vulnerabilities {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audit: Audit,
}

impl Vulnerabilities {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, audit: Audit) -> Self {
        Self {
            store,
            clock,
            audit,
        }
    }
}
