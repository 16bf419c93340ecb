//! The embedded default: SQLite in WAL mode in a file of the data directory.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// A [`crate::Store`] on an SQLite database file.
pub struct SqliteStore {
    pool: SqlitePool,
    migrator: Migrator,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub async fn open(path: &Path) -> crate::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| crate::StoreError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            migrator: crate::migrations::sqlite(),
        })
    }

    /// Moves everything in the WAL into the database file and truncates the
    /// WAL, so a clean stop leaves a self-contained database even if a
    /// connection is slow to close.
    async fn before_close(&self) {
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await
        {
            tracing::warn!(%error, "final WAL checkpoint failed");
        }
    }
}

crate::shared_sql::impl_store_sql!(SqliteStore, Backend::Sqlite, sqlx::sqlite::SqliteRow);
