//! The SQL both backends share: the store's lifecycle, and the small
//! helpers every table's SQL uses. PostgreSQL and SQLite accept the same
//! statements (`$N` parameters, `RETURNING`, `ON CONFLICT`), so each
//! implementation is written once, for any [`SqlBackend`]; only connection
//! set-up and migrations differ.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::sql_backend::{RowsAffected, SqlBackend};
use crate::{PoolStats, Result, Store, StoreError};

/// A page size within the API's bounds (1–1000).
pub(crate) fn page_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 1000))
}

pub(crate) fn parse_column<T: FromStr>(column: &'static str, value: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e: T::Err| StoreError::Corrupt {
        column,
        detail: e.to_string(),
    })
}

#[async_trait]
impl<S, DB> Store for S
where
    S: SqlBackend<Db = DB> + crate::EventStore,
    DB::Connection: sqlx::migrate::Migrate,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    &'static str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB> + Decode<'s, DB>,
    for<'s> Option<&'s str>: Encode<'s, DB>,
    Option<String>: for<'q> Encode<'q, DB>,
    Option<i64>: for<'q> Encode<'q, DB>,
    Option<bool>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    f64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    for<'s> &'s [u8]: Type<DB> + Encode<'s, DB>,
    Option<Vec<u8>>: Type<DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    fn backend(&self) -> crate::Backend {
        S::BACKEND
    }

    async fn migrate(&self) -> Result<()> {
        self.migrator().run(self.pool()).await?;
        self.migrate_events().await
    }

    async fn migrations_current(&self) -> Result<bool> {
        let applied = sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(self.pool())
        .await;
        match applied {
            Ok(version) => Ok(version.unwrap_or(0)
                >= crate::migrations::latest_version(self.migrator())
                && self.event_migrations_current().await?),
            // No migrations table yet: nothing has been applied.
            Err(sqlx::Error::Database(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(self.pool()).await?;
        Ok(())
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool().size(),
            idle: u32::try_from(self.pool().num_idle()).unwrap_or(u32::MAX),
        }
    }

    async fn close(&self) {
        self.before_close().await;
        self.pool().close().await;
    }
}

/// `text` with LIKE's wildcards and escape character escaped (by `\\`).
pub(crate) fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
