//! The scale-out backend: PostgreSQL.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::events::postgres_rows::PostgresEvents;

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

crate::events::delegate_event_store!(PostgresStore, PostgresEvents);

mod validation_impl {
    use super::PostgresStore;
    crate::validation_sql::impl_validation_sql!(PostgresStore, sqlx::postgres::PgRow);
}

mod settings_impl {
    use super::PostgresStore;
    crate::settings_sql::impl_settings_sql!(PostgresStore);
}

mod detection_impl {
    use super::PostgresStore;
    crate::audit_sql::impl_audit_sql!(PostgresStore, sqlx::Postgres, sqlx::postgres::PgRow);
    crate::rules_sql::impl_rules_sql!(PostgresStore, sqlx::postgres::PgRow);
    crate::incidents_sql::impl_incidents_sql!(
        PostgresStore,
        sqlx::postgres::PgRow,
        "BEGIN",
        " FOR UPDATE"
    );
}
