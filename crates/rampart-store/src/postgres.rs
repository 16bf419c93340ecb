//! The scale-out backend: PostgreSQL.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::events::postgres_rows::PostgresEvents;
use crate::sql_backend::SqlBackend;
use crate::Backend;

/// A [`crate::Store`] on PostgreSQL.
pub struct PostgresStore {
    pool: PgPool,
    migrator: Migrator,
    events: PostgresEvents,
}

impl SqlBackend for PostgresStore {
    type Db = sqlx::Postgres;

    const BACKEND: Backend = Backend::Postgres;
    const BEGIN_WRITE: &'static str = "BEGIN";
    const LOCK_ROWS: &'static str = " FOR UPDATE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const CASELESS_LIKE: &'static str = "ILIKE";
    const NUMBERED_PARAMETERS: bool = true;

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn migrator(&self) -> &Migrator {
        &self.migrator
    }

    /// The event tables are part of the main migrations.
    async fn migrate_events(&self) -> crate::Result<()> {
        Ok(())
    }

    async fn event_migrations_current(&self) -> crate::Result<bool> {
        Ok(true)
    }

    /// Nothing to flush: PostgreSQL's own shutdown handles durability.
    async fn before_close(&self) {}
}

impl PostgresStore {
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

crate::events::delegate_event_store!(PostgresStore, PostgresEvents);
