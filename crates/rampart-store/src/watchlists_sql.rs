//! Watchlists: the [`WatchlistStore`] interface, one SQL text for both
//! backends. Every call takes the organisation; every change is audited
//! in its transaction and bumps the organisation's watchlist version, so
//! every node's matcher learns of it.

use async_trait::async_trait;
use rampart_core::watchlist::{EntryHits, IndicatorType, WatchedIndicator, WatchlistEntry};
use rampart_core::{AuditEntry, OrgId, Timestamp, WatchlistEntryId};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::shared_sql::{like_escape, parse_column};
use crate::sql_backend::{Placeholders, RowsAffected, SqlBackend};
use crate::{Result, StoreError};

/// Rows written by one statement of an import (15 parameters each).
const IMPORT_CHUNK: usize = 500;
/// Entries read per query when a matcher is built.
const LIVE_PAGE: i64 = 50_000;

/// What a listing asks for: newest first, before the cursor.
#[derive(Clone, Debug, Default)]
pub struct WatchlistQuery {
    pub kind: Option<IndicatorType>,
    pub source: Option<String>,
    pub tag: Option<String>,
    /// Part of the value, any case.
    pub text: Option<String>,
    /// Only entries not expired at this time.
    pub live_at: Option<Timestamp>,
    pub before: Option<WatchlistEntryId>,
    pub limit: u32,
}

/// What an import changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WatchlistImport {
    pub created: u64,
    pub updated: u64,
}

/// The entries a matcher is built from, and when the first of them
/// expires (the matcher is built again then).
#[derive(Clone, Debug, Default)]
pub struct LiveWatchlist {
    pub entries: Vec<WatchedIndicator>,
    pub next_expiry: Option<Timestamp>,
}

#[async_trait]
pub trait WatchlistStore: Send + Sync {
    /// Adds an entry with its audit entry; `false` when the organisation
    /// already has one of this type and value.
    async fn create_watchlist_entry(
        &self,
        entry: &WatchlistEntry,
        audit: &AuditEntry,
    ) -> Result<bool>;
    /// Adds or refreshes entries (by type and value: source, tags,
    /// description, severity, expiry and subdomains taken from the new
    /// one; hits kept) in one transaction with one audit entry. Entries
    /// must be distinct by type and value.
    async fn import_watchlist_entries(
        &self,
        org: OrgId,
        entries: &[WatchlistEntry],
        audit: &AuditEntry,
    ) -> Result<WatchlistImport>;
    async fn get_watchlist_entry(
        &self,
        org: OrgId,
        id: WatchlistEntryId,
    ) -> Result<Option<WatchlistEntry>>;
    async fn list_watchlist_entries(
        &self,
        org: OrgId,
        query: &WatchlistQuery,
    ) -> Result<Vec<WatchlistEntry>>;
    /// Writes the entry as changed; `false` when it no longer exists.
    async fn update_watchlist_entry(
        &self,
        entry: &WatchlistEntry,
        audit: &AuditEntry,
    ) -> Result<bool>;
    async fn delete_watchlist_entry(
        &self,
        org: OrgId,
        id: WatchlistEntryId,
        audit: &AuditEntry,
    ) -> Result<bool>;
    /// Moves with every change of the organisation's entries (0: none yet).
    async fn watchlist_version(&self, org: OrgId) -> Result<i64>;
    /// Every entry not expired at `now`, as the matcher needs them.
    async fn live_watchlist(&self, org: OrgId, now: Timestamp) -> Result<LiveWatchlist>;
    /// Adds hit counts (entries deleted meanwhile are passed over).
    async fn add_watchlist_hits(&self, org: OrgId, hits: &[EntryHits]) -> Result<()>;
}

const COLUMNS: &str = "id, org_id, kind, value, include_subdomains, source, tags, description, \
     severity, expires_at, hits, last_hit_at, created_by, created_at, updated_at";

fn corrupt(column: &'static str, value: &str) -> StoreError {
    StoreError::Corrupt {
        column,
        detail: value.to_owned(),
    }
}

fn kind_of(text: &str) -> Result<IndicatorType> {
    IndicatorType::parse(text).ok_or_else(|| corrupt("watchlist_entries.kind", text))
}

fn severity_of(value: i32) -> Result<u8> {
    u8::try_from(value).map_err(|_| corrupt("watchlist_entries.severity", &value.to_string()))
}

fn from_row<R, DB>(row: &R) -> Result<WatchlistEntry>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'r> Decode<'r, DB>,
{
    let tags = row.try_get::<&str, _>("tags")?;
    Ok(WatchlistEntry {
        id: parse_column("watchlist_entries.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column(
            "watchlist_entries.org_id",
            row.try_get::<&str, _>("org_id")?,
        )?,
        kind: kind_of(row.try_get::<&str, _>("kind")?)?,
        value: row.try_get("value")?,
        include_subdomains: row.try_get("include_subdomains")?,
        source: row.try_get("source")?,
        tags: serde_json::from_str(tags).map_err(|_| corrupt("watchlist_entries.tags", tags))?,
        description: row.try_get("description")?,
        severity: severity_of(row.try_get("severity")?)?,
        expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(Timestamp),
        hits: row.try_get("hits")?,
        last_hit_at: row.try_get::<Option<i64>, _>("last_hit_at")?.map(Timestamp),
        created_by: row.try_get("created_by")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn tags_json(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_owned())
}

/// Binds an entry's columns, in `COLUMNS` order, as `org`'s.
fn bind_entry<'a, DB>(
    q: sqlx::query::Query<'a, DB, DB::Arguments<'a>>,
    e: &WatchlistEntry,
    org: OrgId,
) -> sqlx::query::Query<'a, DB, DB::Arguments<'a>>
where
    DB: Database,
    for<'s> &'s str: Type<DB> + Encode<'s, DB>,
    Option<String>: for<'q> Encode<'q, DB>,
    Option<i64>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB>,
{
    q.bind(e.id.to_string())
        .bind(org.to_string())
        .bind(e.kind.as_str())
        .bind(e.value.clone())
        .bind(e.include_subdomains)
        .bind(e.source.clone())
        .bind(tags_json(&e.tags))
        .bind(e.description.clone())
        .bind(i32::from(e.severity))
        .bind(e.expires_at.map(|t| t.0))
        .bind(e.hits)
        .bind(e.last_hit_at.map(|t| t.0))
        .bind(e.created_by.clone())
        .bind(e.created_at.0)
        .bind(e.updated_at.0)
}

/// Bumps the organisation's watchlist version inside a transaction.
async fn bump_version<'c, DB>(tx: &mut sqlx::Transaction<'c, DB>, org: OrgId) -> Result<()>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB>,
{
    sqlx::query(
        "INSERT INTO watchlist_versions (org_id, version) VALUES ($1, 1) \
         ON CONFLICT (org_id) DO UPDATE SET version = watchlist_versions.version + 1",
    )
    .bind(org.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl<S, DB> WatchlistStore for S
where
    S: SqlBackend<Db = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    &'static str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB> + Decode<'s, DB>,
    for<'s> Option<&'s str>: Encode<'s, DB>,
    Option<String>: for<'q> Encode<'q, DB>,
    Option<bool>: for<'q> Encode<'q, DB>,
    Option<i64>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    async fn create_watchlist_entry(&self, e: &WatchlistEntry, audit: &AuditEntry) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let sql = format!(
            "INSERT INTO watchlist_entries ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (org_id, kind, value) DO NOTHING"
        );
        let added = bind_entry(sqlx::query(&sql), e, e.org_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if added == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        bump_version(&mut tx, e.org_id).await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, e.org_id, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn import_watchlist_entries(
        &self,
        org: OrgId,
        entries: &[WatchlistEntry],
        audit: &AuditEntry,
    ) -> Result<WatchlistImport> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let count = "SELECT COUNT(*) FROM watchlist_entries WHERE org_id = $1";
        let before: i64 = sqlx::query_scalar(count)
            .bind(org.to_string())
            .fetch_one(&mut *tx)
            .await?;
        for chunk in entries.chunks(IMPORT_CHUNK) {
            let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
            let rows: Vec<String> = chunk
                .iter()
                .map(|_| {
                    let cells: Vec<String> = (0..15).map(|_| p.next()).collect();
                    format!("({})", cells.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO watchlist_entries ({COLUMNS}) VALUES {} \
                 ON CONFLICT (org_id, kind, value) DO UPDATE SET \
                 include_subdomains = excluded.include_subdomains, source = excluded.source, \
                 tags = excluded.tags, \
                 description = COALESCE(excluded.description, watchlist_entries.description), \
                 severity = excluded.severity, expires_at = excluded.expires_at, \
                 updated_at = excluded.updated_at",
                rows.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for e in chunk {
                q = bind_entry(q, e, org);
            }
            q.execute(&mut *tx).await?;
        }
        let after: i64 = sqlx::query_scalar(count)
            .bind(org.to_string())
            .fetch_one(&mut *tx)
            .await?;
        if !entries.is_empty() {
            bump_version(&mut tx, org).await?;
        }
        crate::audit_sql::insert_audit::<DB>(&mut tx, org, audit).await?;
        tx.commit().await?;
        let created = u64::try_from(after - before).unwrap_or(0);
        Ok(WatchlistImport {
            created,
            updated: (entries.len() as u64).saturating_sub(created),
        })
    }

    async fn get_watchlist_entry(
        &self,
        org: OrgId,
        id: WatchlistEntryId,
    ) -> Result<Option<WatchlistEntry>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM watchlist_entries WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
    }

    async fn list_watchlist_entries(
        &self,
        org: OrgId,
        query: &WatchlistQuery,
    ) -> Result<Vec<WatchlistEntry>> {
        enum Arg {
            Text(String),
            Int(i64),
        }
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let mut sql = format!(
            "SELECT {COLUMNS} FROM watchlist_entries WHERE org_id = {}",
            p.next()
        );
        let mut args = vec![Arg::Text(org.to_string())];
        if let Some(kind) = query.kind {
            sql.push_str(&format!(" AND kind = {}", p.next()));
            args.push(Arg::Text(kind.as_str().to_owned()));
        }
        if let Some(source) = &query.source {
            sql.push_str(&format!(" AND source = {}", p.next()));
            args.push(Arg::Text(source.clone()));
        }
        if let Some(tag) = &query.tag {
            sql.push_str(&format!(" AND tags LIKE {} ESCAPE '\\'", p.next()));
            // A tag is whole: its JSON string, quotes included, in the array.
            let quoted = serde_json::to_string(tag).unwrap_or_default();
            args.push(Arg::Text(format!("%{}%", like_escape(&quoted))));
        }
        if let Some(text) = query
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            sql.push_str(&format!(
                " AND value {} {} ESCAPE '\\'",
                S::CASELESS_LIKE,
                p.next()
            ));
            args.push(Arg::Text(format!(
                "%{}%",
                like_escape(&text.to_lowercase())
            )));
        }
        if let Some(now) = query.live_at {
            sql.push_str(&format!(
                " AND (expires_at IS NULL OR expires_at > {})",
                p.next()
            ));
            args.push(Arg::Int(now.0));
        }
        if let Some(before) = query.before {
            sql.push_str(&format!(" AND id < {}", p.next()));
            args.push(Arg::Text(before.to_string()));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", p.next()));
        let mut q = sqlx::query(&sql);
        for arg in args {
            q = match arg {
                Arg::Text(t) => q.bind(t),
                Arg::Int(i) => q.bind(i),
            };
        }
        let rows = q
            .bind(crate::shared_sql::page_limit(query.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    async fn update_watchlist_entry(&self, e: &WatchlistEntry, audit: &AuditEntry) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let changed = sqlx::query(
            "UPDATE watchlist_entries SET include_subdomains = $1, source = $2, tags = $3, \
             description = $4, severity = $5, expires_at = $6, updated_at = $7 \
             WHERE org_id = $8 AND id = $9",
        )
        .bind(e.include_subdomains)
        .bind(e.source.clone())
        .bind(tags_json(&e.tags))
        .bind(e.description.clone())
        .bind(i32::from(e.severity))
        .bind(e.expires_at.map(|t| t.0))
        .bind(e.updated_at.0)
        .bind(e.org_id.to_string())
        .bind(e.id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        bump_version(&mut tx, e.org_id).await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, e.org_id, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_watchlist_entry(
        &self,
        org: OrgId,
        id: WatchlistEntryId,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let deleted = sqlx::query("DELETE FROM watchlist_entries WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        bump_version(&mut tx, org).await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn watchlist_version(&self, org: OrgId) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT version FROM watchlist_versions WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(self.pool())
                .await?
                .unwrap_or(0),
        )
    }

    async fn live_watchlist(&self, org: OrgId, now: Timestamp) -> Result<LiveWatchlist> {
        use sqlx::Row as _;
        let mut live = LiveWatchlist::default();
        // Read in pages by id, so a million entries never sit in memory
        // twice (as rows and as entries).
        let mut after = String::new();
        loop {
            let rows = sqlx::query(
                "SELECT id, kind, value, include_subdomains, severity, expires_at \
                 FROM watchlist_entries WHERE org_id = $1 AND id > $2 \
                 AND (expires_at IS NULL OR expires_at > $3) ORDER BY id LIMIT $4",
            )
            .bind(org.to_string())
            .bind(after.clone())
            .bind(now.0)
            .bind(LIVE_PAGE)
            .fetch_all(self.pool())
            .await?;
            for row in &rows {
                if let Some(at) = row.try_get::<Option<i64>, _>("expires_at")? {
                    let at = Timestamp(at);
                    live.next_expiry = Some(live.next_expiry.map_or(at, |n| n.min(at)));
                }
                let id: &str = row.try_get("id")?;
                after.clear();
                after.push_str(id);
                live.entries.push(WatchedIndicator {
                    id: parse_column("watchlist_entries.id", id)?,
                    kind: kind_of(row.try_get::<&str, _>("kind")?)?,
                    value: row.try_get("value")?,
                    include_subdomains: row.try_get("include_subdomains")?,
                    severity: severity_of(row.try_get("severity")?)?,
                });
            }
            if rows.len() < LIVE_PAGE as usize {
                return Ok(live);
            }
        }
    }

    async fn add_watchlist_hits(&self, org: OrgId, hits: &[EntryHits]) -> Result<()> {
        if hits.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        for hit in hits {
            sqlx::query(
                "UPDATE watchlist_entries SET hits = hits + $1, \
                 last_hit_at = CASE WHEN last_hit_at IS NULL OR last_hit_at < $2 THEN $2 \
                 ELSE last_hit_at END WHERE org_id = $3 AND id = $4",
            )
            .bind(hit.hits)
            .bind(hit.last_hit_at.0)
            .bind(org.to_string())
            .bind(hit.id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
