//! The embedded default: SQLite in WAL mode in a file of the data directory.

use std::path::{Path, PathBuf};

use rampart_core::{Event, EventFilter, EventId, OrgId, Timestamp};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::events::sqlite_blocks::SqliteEvents;
use crate::events::{EventCursor, EventStats, EventStore, PreparedEvents, StatsRequest};

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

#[async_trait::async_trait]
impl EventStore for SqliteStore {
    fn prepare_events(&self, org: OrgId, events: Vec<Event>) -> PreparedEvents {
        SqliteEvents::prepare(org, events)
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
        _now: Timestamp,
        _drop_before: Timestamp,
    ) -> crate::Result<()> {
        Ok(())
    }
}

mod store_impl {
    use super::SqliteStore;
    crate::shared_sql::impl_store_sql!(SqliteStore, Backend::Sqlite, sqlx::sqlite::SqliteRow);
}

mod validation_impl {
    use super::SqliteStore;
    crate::validation_sql::impl_validation_sql!(SqliteStore, sqlx::sqlite::SqliteRow);
}

mod settings_impl {
    use super::SqliteStore;
    crate::settings_sql::impl_settings_sql!(SqliteStore);
}
