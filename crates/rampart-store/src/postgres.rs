//! The scale-out backend: PostgreSQL.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// A [`crate::Store`] on PostgreSQL.
pub struct PostgresStore {
    pool: PgPool,
    migrator: Migrator,
}

impl PostgresStore {
    /// Nothing to flush: PostgreSQL's own shutdown handles durability.
    async fn before_close(&self) {}

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
            pool,
            migrator: crate::migrations::postgres(),
        })
    }
}

crate::shared_sql::impl_store_sql!(PostgresStore, Backend::Postgres, sqlx::postgres::PgRow);
