//! The embedded default: SQLite in WAL mode in a file of the data directory.

use std::path::{Path, PathBuf};

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::events::sqlite_blocks::SqliteEvents;
use crate::sql_backend::SqlBackend;
use crate::Backend;

/// A [`crate::Store`] on an SQLite database file.
pub struct SqliteStore {
    pool: SqlitePool,
    migrator: Migrator,
    events: SqliteEvents,
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
        let events = SqliteEvents::open(&events_path(path)).await?;
        Ok(Self {
            pool,
            migrator: crate::migrations::sqlite(),
            events,
        })
    }
}

impl SqlBackend for SqliteStore {
    type Db = sqlx::Sqlite;

    const BACKEND: Backend = Backend::Sqlite;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const LOCK_ROWS: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const CASELESS_LIKE: &'static str = "LIKE";
    const NUMBERED_PARAMETERS: bool = false;

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn migrator(&self) -> &Migrator {
        &self.migrator
    }

    async fn migrate_events(&self) -> crate::Result<()> {
        self.events.migrate().await
    }

    async fn event_migrations_current(&self) -> crate::Result<bool> {
        self.events.migrations_current().await
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
        self.events.close().await;
    }
}

/// The event database beside the main one: `rampart.db` → `rampart-events.db`.
fn events_path(main: &Path) -> PathBuf {
    let stem = main
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rampart".into());
    main.with_file_name(format!("{stem}-events.db"))
}

crate::events::delegate_event_store!(SqliteStore, SqliteEvents);
