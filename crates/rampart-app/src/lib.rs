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
pub mod cache;
pub mod config;
pub mod entities;
pub mod events;
pub mod factors;
pub mod feedback;
pub mod field_mapping;
pub mod flags;
pub mod hunt;
pub mod incidents;
pub mod input;
pub mod ioc;
pub mod jobs;
pub mod limits;
pub mod notifications;
pub mod organisations;
pub mod overview;
pub mod paging;
pub mod phishing;
pub mod principal;
pub mod rules;
pub mod scans;
pub mod sessions;
pub mod users;
pub mod validation;
pub mod vulns;
pub mod watchlists;
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

/// The node's settings the services are built with.
pub struct ServiceSettings {
    pub sessions: config::SessionPolicy,
    pub default_retention_days: i64,
    pub mail: factors::MailSettings,
    pub caching: CachingSetup,
    pub scans: scans::ScansConfig,
}

/// What the node's caches are set up with.
#[derive(Clone, Default)]
pub struct CachingSetup {
    pub config: cache::CacheConfig,
    pub metrics: Option<cache::CacheMetrics>,
}

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
    pub vulnerabilities: vulns::Vulnerabilities,
    pub scans: scans::Scans,
    pub watchlists: watchlists::Watchlists,
    pub phishing: phishing::Phishing,
    pub entities: entities::EntityTimelines,
    pub hunts: hunt::Hunts,
    /// The node's clock (pages turn "the last hour" into times with it).
    pub clock: Arc<dyn Clock>,
    /// Invalidates the node's caches (and, with Redis, every node's).
    pub invalidator: cache::Invalidator,
}

impl Services {
    pub async fn build(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ingest: &Ingest,
        jwt: auth::jwt::JwtKeys,
        settings: ServiceSettings,
    ) -> Result<Self, Error> {
        let ServiceSettings {
            sessions,
            default_retention_days,
            mail,
            caching,
            scans,
        } = settings;
        let audit = Audit::new(store.clone(), clock.clone());
        let detection = ingest.detection().clone();
        let invalidator = cache::Invalidator::new(caching.metrics.clone());
        let ttl = |secs: u64| {
            if caching.config.enabled {
                std::time::Duration::from_secs(secs)
            } else {
                std::time::Duration::ZERO
            }
        };
        let accounts =
            Accounts::new(store.clone(), clock.clone()).with_invalidator(invalidator.clone());
        let rules = Rules::new(store.clone(), clock.clone(), detection, audit.clone());
        let validation_rules =
            ValidationRules::new(store.clone(), clock.clone(), ingest.validation().clone());
        let notifications =
            notifications::Notifications::new(store.clone(), clock.clone(), audit.clone());
        // Kept well past freshness: a stale overview is served while one
        // request computes the next.
        let overview_fresh = ttl(caching.config.overview_ttl_secs);
        let overview_cache = Arc::new(cache::Cache::new(
            overview::OVERVIEW_CACHE,
            (overview_fresh * 12).max(std::time::Duration::from_secs(60)),
            10_000,
            caching.metrics.clone(),
        ));
        invalidator.register(overview_cache.clone());
        let auth_caches = sessions::AuthCaches::new(
            ttl(caching.config.auth_ttl_secs),
            caching.metrics.clone(),
            &invalidator,
        );
        let sessions = Arc::new(
            Sessions::new(
                store.clone(),
                clock.clone(),
                jwt,
                sessions,
                auth_caches,
                invalidator.clone(),
            )
            .await?,
        );
        let flags = flags::Flags::new(store.clone(), clock.clone(), audit.clone());
        let vulnerabilities =
            vulns::Vulnerabilities::new(store.clone(), clock.clone(), audit.clone());
        let factors = factors::Factors::new(
            store.clone(),
            clock.clone(),
            sessions.clone(),
            accounts.clone(),
            flags.clone(),
            audit.clone(),
            mail,
        );
        let watchlists = watchlists::Watchlists::new(
            store.clone(),
            clock.clone(),
            audit.clone(),
            Some(ingest.detection().clone()),
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
                overview_cache.clone(),
                overview_fresh,
            ),
            accounts,
            sessions,
            factors,
            incidents: Incidents::new(store.clone(), clock.clone(), audit.clone())
                .with_invalidator(invalidator.clone()),
            jobs: jobs::Jobs::new(store.clone(), clock.clone(), audit.clone()),
            flags,
            feedback: feedback::Feedbacks::new(
                store.clone(),
                clock.clone(),
                audit.clone(),
                notifications.notifier().clone(),
            ),
            notifications,
            scans: scans::Scans::new(
                store.clone(),
                clock.clone(),
                audit.clone(),
                vulnerabilities.clone(),
                scans,
            ),
            vulnerabilities,
            hunts: hunt::Hunts::new(store.clone(), clock.clone())
                .with_detection(ingest.detection().clone()),
            entities: entities::EntityTimelines::new(
                store.clone(),
                clock.clone(),
                ingest.detection().clone(),
            ),
            phishing: phishing::Phishing::new(
                store.clone(),
                clock.clone(),
                audit.clone(),
                Some(ingest.detection().clone()),
                watchlists.clone(),
            ),
            watchlists,
            rules,
            validation_rules,
            audit,
            clock,
            invalidator,
        })
    }
}
