//! The scale-out backend: PostgreSQL.

use std::str::FromStr;
use std::time::Duration;

use rampart_core::{Event, EventFilter, EventId, OrgId, Timestamp};

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::events::postgres_rows::PostgresEvents;
use crate::events::{EventCursor, EventStats, EventStore, PreparedEvents, StatsRequest};

/// A [`crate::Store`] on PostgreSQL.
pub struct PostgresStore {
    pool: PgPool,
    migrator: Migrator,
    events: PostgresEvents,
}

impl PostgresStore {
    /// Nothing to flush: PostgreSQL's own shutdown handles durability.
    async fn before_close(&self) {}

    /// The event tables are part of the main migrations.
    async fn migrate_events(&self) -> crate::Result<()> {
        Ok(())
    }

    async fn event_migrations_current(&self) -> crate::Result<bool> {
        Ok(true)
    }

    /// Connects to the database a `postgres://` URL names.
    pub async fn connect(url: &str) -> crate::Result<Self> {
        Self::connect_with(PgConnectOptions::from_str(url)?).await
    }

    /// Connects with explicit options (tests use this to pick a schema).
    pub async fn connect_with(options: PgConnectOptions) -> crate::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self {
            events: PostgresEvents::new(pool.clone()),
            pool,
            migrator: crate::migrations::postgres(),
        })
    }
}

mod store_impl {
    use super::PostgresStore;
    crate::shared_sql::impl_store_sql!(PostgresStore, Backend::Postgres, sqlx::postgres::PgRow);
}

#[async_trait::async_trait]
impl EventStore for PostgresStore {
    fn prepare_events(&self, org: OrgId, events: Vec<Event>) -> PreparedEvents {
        PostgresEvents::prepare(org, events)
    }

    async fn append_events(&self, batches: &[PreparedEvents]) -> crate::Result<Vec<Vec<EventId>>> {
        self.events.append(batches).await
    }

    async fn query_events(
        &self,
        org: OrgId,
        filter: &EventFilter,
        after: Option<EventCursor>,
        limit: u32,
    ) -> crate::Result<Vec<(EventId, Event)>> {
        self.events.query(org, filter, after, limit).await
    }

    async fn get_event(&self, org: OrgId, id: EventId) -> crate::Result<Option<Event>> {
        self.events.get(org, id).await
    }

    async fn event_stats(
        &self,
        org: OrgId,
        request: &StatsRequest<'_>,
    ) -> crate::Result<EventStats> {
        self.events.stats(org, request).await
    }

    async fn delete_events_before(&self, org: OrgId, cutoff: Timestamp) -> crate::Result<u64> {
        self.events.delete_before(org, cutoff).await
    }

    async fn maintain_event_storage(
        &self,
        now: Timestamp,
        drop_before: Timestamp,
    ) -> crate::Result<()> {
        self.events.maintain(now, drop_before).await
    }
}

mod validation_impl {
    use super::PostgresStore;
    crate::validation_sql::impl_validation_sql!(PostgresStore, sqlx::postgres::PgRow);
}

mod settings_impl {
    use super::PostgresStore;
    crate::settings_sql::impl_settings_sql!(PostgresStore);
}
