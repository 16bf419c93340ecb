//! Rampart's application services, shared by the HTTP edge and the CLI.
//! Each service owns what it needs (the store, the clock, the ingest
//! caches it invalidates) and returns domain errors
//! ([`rampart_core::Error`]); none knows HTTP. [`Services`] builds them
//! all for a serving node; the offline CLI builds only [`Accounts`].

pub mod accounts;
pub mod api;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod config;
pub mod events;
pub mod factors;
pub mod feedback;
pub mod field_mapping;
pub mod flags;
pub mod incidents;
pub mod jobs;
pub mod limits;
pub mod notifications;
pub mod organisations;
pub mod overview;
pub mod paging;
pub mod principal;
pub mod rules;
pub mod sessions;
pub mod users;
pub mod validation;
pub use rampart_core::whole_number;

use std::sync::Arc;

use rampart_core::{Clock, Error};
use rampart_ingest::Ingest;
use rampart_store::Store;

pub use accounts::Accounts;
pub use api_keys::ApiKeys;
pub use audit::Audit;
pub use events::Events;
pub use incidents::Incidents;
pub use organisations::Organisations;
pub use principal::{Actor, Principal};
pub use rules::Rules;
pub use sessions::Sessions;
pub use users::Users;
pub use validation::ValidationRules;

/// Every service of a serving node, built over one store, clock and
/// ingest pipeline.
pub struct Services {
    pub accounts: Accounts,
    pub sessions: Arc<Sessions>,
    pub factors: factors::Factors,
    pub users: Users,
    pub api_keys: ApiKeys,
    pub organisations: Organisations,
    pub audit: Audit,
    pub events: Events,
    pub incidents: Incidents,
    pub rules: Rules,
    pub validation_rules: ValidationRules,
    pub overview: overview::Overview,
    pub jobs: jobs::Jobs,
    pub flags: flags::Flags,
    pub feedback: feedback::Feedbacks,
    pub notifications: notifications::Notifications,
    /// The node's clock (pages turn "the last hour" into times with it).
    pub clock: Arc<dyn Clock>,
}

impl Services {
    pub async fn build(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ingest: &Ingest,
        jwt: auth::jwt::JwtKeys,
        sessions: config::SessionPolicy,
        default_retention_days: i64,
        mail: factors::MailSettings,
    ) -> Result<Self, Error> {
        let audit = Audit::new(store.clone(), clock.clone());
        let detection = ingest.detection().clone();
        let accounts = Accounts::new(store.clone(), clock.clone());
        let rules = Rules::new(store.clone(), clock.clone(), detection, audit.clone());
        let validation_rules =
            ValidationRules::new(store.clone(), clock.clone(), ingest.validation().clone());
        let notifications =
            notifications::Notifications::new(store.clone(), clock.clone(), audit.clone());
        let sessions = Arc::new(Sessions::new(store.clone(), clock.clone(), jwt, sessions).await?);
        let flags = flags::Flags::new(store.clone(), clock.clone(), audit.clone());
        let factors = factors::Factors::new(
            store.clone(),
            clock.clone(),
            sessions.clone(),
            accounts.clone(),
            flags.clone(),
            audit.clone(),
            mail,
        );
        Ok(Self {
            users: Users::new(
                accounts.clone(),
                audit.clone(),
                notifications.notifier().clone(),
            ),
            api_keys: ApiKeys::new(accounts.clone(), audit.clone()),
            organisations: Organisations::new(
                accounts.clone(),
                audit.clone(),
                default_retention_days,
            ),
            events: Events::new(store.clone()),
            overview: overview::Overview::new(
                store.clone(),
                clock.clone(),
                Events::new(store.clone()),
                rules.clone(),
                validation_rules.clone(),
            ),
            accounts,
            sessions,
            factors,
            incidents: Incidents::new(store.clone(), clock.clone(), audit.clone()),
            jobs: jobs::Jobs::new(store.clone(), clock.clone(), audit.clone()),
            flags,
            feedback: feedback::Feedbacks::new(
                store.clone(),
                clock.clone(),
                audit.clone(),
                notifications.notifier().clone(),
            ),
            notifications,
            rules,
            validation_rules,
            audit,
            clock,
        })
    }
}
