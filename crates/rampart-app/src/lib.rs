//! Rampart's application services, shared by the HTTP edge and the CLI.
//! Each service owns what it needs (the store, the clock, the ingest
//! caches it invalidates) and returns domain errors
//! ([`rampart_core::Error`]); none knows HTTP. [`Services`] builds them
//! all for a serving node; the offline CLI builds only [`Accounts`].

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod config;
pub mod field_mapping;
pub mod incidents;
pub mod paging;
pub mod principal;
pub mod rules;
pub mod sessions;
pub mod validation;

use std::sync::Arc;

use rampart_core::{Clock, Error};
use rampart_ingest::Ingest;
use rampart_store::Store;

pub use accounts::Accounts;
pub use audit::Audit;
pub use field_mapping::FieldMappings;
pub use incidents::Incidents;
pub use principal::{Actor, Principal};
pub use rules::Rules;
pub use sessions::Sessions;
pub use validation::ValidationRules;

/// Every service of a serving node, built over one store, clock and
/// ingest pipeline.
pub struct Services {
    pub accounts: Accounts,
    pub sessions: Sessions,
    pub audit: Audit,
    pub incidents: Incidents,
    pub rules: Rules,
    pub field_mappings: FieldMappings,
    pub validation_rules: ValidationRules,
}

impl Services {
    pub async fn build(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ingest: &Ingest,
        jwt: auth::jwt::JwtKeys,
        sessions: config::SessionPolicy,
    ) -> Result<Self, Error> {
        let audit = Audit::new(store.clone(), clock.clone());
        let detection = ingest.detection().clone();
        Ok(Self {
            accounts: Accounts::new(store.clone(), clock.clone()),
            sessions: Sessions::new(store.clone(), clock.clone(), jwt, sessions).await?,
            incidents: Incidents::new(store.clone(), clock.clone(), audit.clone()),
            rules: Rules::new(
                store.clone(),
                clock.clone(),
                detection.clone(),
                audit.clone(),
            ),
            field_mappings: FieldMappings::new(
                store.clone(),
                clock.clone(),
                detection,
                audit.clone(),
            ),
            validation_rules: ValidationRules::new(store, clock, ingest.validation().clone()),
            audit,
        })
    }
}
