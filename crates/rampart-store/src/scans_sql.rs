//! Rampart's own scans (the [`ScanStore`] interface): each organisation's
//! scope entries, and scans with their progress. A scan is recorded and
//! its job enqueued in one transaction; the runner reports progress and
//! learns of a cancel request in the same statement.

use async_trait::async_trait;
use rampart_core::finding::ImportCounts;
use rampart_core::scan::{Scan, ScanKind, ScanStatus, ScopeEntry};
use rampart_core::{AssetId, AuditEntry, NewJob, OrgId, ScanId, ScopeEntryId, Timestamp};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::findings_sql::{corrupt, json_column, to_json};
use crate::shared_sql::parse_column;
use crate::sql_backend::{RowsAffected, SqlBackend};
use crate::{Result, StoreError};

const SCOPE_COLUMNS: &str = "id, org_id, target, ports, note, created_by, created_at";

const SCAN_COLUMNS: &str = "id, org_id, asset_id, kind, targets, ports, status, progress, \
     checks_done, checks_total, cancel_requested, counts, summary, error, requested_by, \
     created_at, started_at, finished_at";

/// How a scan ended.
#[derive(Clone, Debug)]
pub struct ScanOutcome {
    pub status: ScanStatus,
    pub counts: Option<ImportCounts>,
    pub summary: serde_json::Value,
    pub error: Option<String>,
    pub at: Timestamp,
}

#[async_trait]
pub trait ScanStore: Send + Sync {
    /// `Conflict` when the organisation has an entry for that target.
    async fn add_scope_entry(&self, entry: &ScopeEntry, audit: &AuditEntry) -> Result<()>;
    async fn list_scope(&self, org: OrgId) -> Result<Vec<ScopeEntry>>;
    async fn delete_scope_entry(
        &self,
        org: OrgId,
        id: ScopeEntryId,
        audit: &AuditEntry,
    ) -> Result<bool>;
    /// Records a queued scan and enqueues the job that runs it.
    async fn create_scan(&self, scan: &Scan, job: &NewJob, audit: &AuditEntry) -> Result<()>;
    async fn get_scan(&self, org: OrgId, id: ScanId) -> Result<Option<Scan>>;
    /// Newest first, before the cursor.
    async fn list_scans(
        &self,
        org: OrgId,
        asset: Option<AssetId>,
        before: Option<ScanId>,
        limit: u32,
    ) -> Result<Vec<Scan>>;
    /// Marks a scan running with its number of checks (again, when a job
    /// is retried); `None` when it is finished or no longer exists.
    async fn start_scan(
        &self,
        org: OrgId,
        id: ScanId,
        checks_total: u64,
        now: Timestamp,
    ) -> Result<Option<Scan>>;
    /// Records progress; `true` when a cancel was requested meanwhile.
    async fn scan_progress(&self, org: OrgId, id: ScanId, checks_done: u64) -> Result<bool>;
    async fn finish_scan(&self, org: OrgId, id: ScanId, outcome: &ScanOutcome) -> Result<()>;
    /// Cancels a queued scan at once and asks a running one to stop; the
    /// scan as it is now, `None` when there is none.
    async fn request_scan_cancel(
        &self,
        org: OrgId,
        id: ScanId,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<Option<Scan>>;
}

fn scope_from_row<R, DB>(row: &R) -> Result<ScopeEntry>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
{
    Ok(ScopeEntry {
        id: parse_column("scope_entries.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("scope_entries.org_id", row.try_get::<&str, _>("org_id")?)?,
        target: row.try_get("target")?,
        ports: json_column("scope_entries.ports", row.try_get("ports")?)?,
        note: row.try_get("note")?,
        created_by: row.try_get("created_by")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn scan_from_row<R, DB>(row: &R) -> Result<Scan>
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
    let kind = row.try_get::<&str, _>("kind")?;
    let status = row.try_get::<&str, _>("status")?;
    let count = |name: &'static str| -> Result<u64> {
        let value = row.try_get::<i64, _>(name)?;
        u64::try_from(value).map_err(|_| corrupt("scans", &value.to_string()))
    };
    let progress = row.try_get::<i32, _>("progress")?;
    Ok(Scan {
        id: parse_column("scans.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("scans.org_id", row.try_get::<&str, _>("org_id")?)?,
        asset_id: parse_column("scans.asset_id", row.try_get::<&str, _>("asset_id")?)?,
        kind: ScanKind::parse(kind).ok_or_else(|| corrupt("scans.kind", kind))?,
        targets: json_column("scans.targets", row.try_get("targets")?)?,
        ports: json_column("scans.ports", row.try_get("ports")?)?,
        status: ScanStatus::parse(status).ok_or_else(|| corrupt("scans.status", status))?,
        progress: u8::try_from(progress)
            .map_err(|_| corrupt("scans.progress", &progress.to_string()))?,
        checks_done: count("checks_done")?,
        checks_total: count("checks_total")?,
        cancel_requested: row.try_get("cancel_requested")?,
        counts: row
            .try_get::<Option<String>, _>("counts")?
            .map(|c| json_column("scans.counts", &c))
            .transpose()?,
        summary: json_column("scans.summary", row.try_get("summary")?)?,
        error: row.try_get("error")?,
        requested_by: row.try_get("requested_by")?,
        created_at: Timestamp(row.try_get("created_at")?),
        started_at: row.try_get::<Option<i64>, _>("started_at")?.map(Timestamp),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(Timestamp),
    })
}

fn clamp_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[async_trait]
impl<S, DB> ScanStore for S
where
    S: SqlBackend<Db = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    &'static str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB> + Decode<'s, DB>,
    for<'s> Option<&'s str>: Encode<'s, DB>,
    Option<bool>: for<'q> Encode<'q, DB>,
    Option<String>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    Option<i64>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    async fn add_scope_entry(&self, entry: &ScopeEntry, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        sqlx::query(&format!(
            "INSERT INTO scope_entries ({SCOPE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(entry.id.to_string())
        .bind(entry.org_id.to_string())
        .bind(entry.target.clone())
        .bind(to_json(&entry.ports)?)
        .bind(entry.note.clone())
        .bind(entry.created_by.clone())
        .bind(entry.created_at.0)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, entry.org_id, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_scope(&self, org: OrgId) -> Result<Vec<ScopeEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {SCOPE_COLUMNS} FROM scope_entries WHERE org_id = $1 ORDER BY target LIMIT 10000"
        ))
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(scope_from_row).collect()
    }

    async fn delete_scope_entry(
        &self,
        org: OrgId,
        id: ScopeEntryId,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let deleted = sqlx::query("DELETE FROM scope_entries WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::audit_sql::insert_audit::<DB>(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn create_scan(&self, scan: &Scan, job: &NewJob, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        sqlx::query(&format!(
            "INSERT INTO scans ({SCAN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17, $18)"
        ))
        .bind(scan.id.to_string())
        .bind(scan.org_id.to_string())
        .bind(scan.asset_id.to_string())
        .bind(scan.kind.as_str())
        .bind(to_json(&scan.targets)?)
        .bind(to_json(&scan.ports)?)
        .bind(scan.status.as_str())
        .bind(i32::from(scan.progress))
        .bind(clamp_i64(scan.checks_done))
        .bind(clamp_i64(scan.checks_total))
        .bind(scan.cancel_requested)
        .bind(scan.counts.as_ref().map(to_json).transpose()?)
        .bind(to_json(&scan.summary)?)
        .bind(scan.error.clone())
        .bind(scan.requested_by.clone())
        .bind(scan.created_at.0)
        .bind(scan.started_at.map(|t| t.0))
        .bind(scan.finished_at.map(|t| t.0))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?;
        crate::jobs_sql::insert_jobs::<DB>(
            &mut tx,
            std::slice::from_ref(job),
            scan.created_at,
            S::NUMBERED_PARAMETERS,
        )
        .await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, scan.org_id, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_scan(&self, org: OrgId, id: ScanId) -> Result<Option<Scan>> {
        sqlx::query(&format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(scan_from_row)
        .transpose()
    }

    async fn list_scans(
        &self,
        org: OrgId,
        asset: Option<AssetId>,
        before: Option<ScanId>,
        limit: u32,
    ) -> Result<Vec<Scan>> {
        // '~' sorts after every identifier: no cursor, from the newest.
        let rows = sqlx::query(&format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE org_id = $1 AND id < $2 \
             AND ($3 = '' OR asset_id = $4) ORDER BY id DESC LIMIT $5"
        ))
        .bind(org.to_string())
        .bind(before.map_or_else(|| "~".to_owned(), |b| b.to_string()))
        .bind(asset.map(|a| a.to_string()).unwrap_or_default())
        .bind(asset.map(|a| a.to_string()).unwrap_or_default())
        .bind(crate::shared_sql::page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(scan_from_row).collect()
    }

    async fn start_scan(
        &self,
        org: OrgId,
        id: ScanId,
        checks_total: u64,
        now: Timestamp,
    ) -> Result<Option<Scan>> {
        let started = sqlx::query(
            "UPDATE scans SET status = 'running', checks_total = $1, checks_done = 0, \
             progress = 0, started_at = COALESCE(started_at, $2) \
             WHERE org_id = $3 AND id = $4 AND status IN ('queued', 'running')",
        )
        .bind(clamp_i64(checks_total))
        .bind(now.0)
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(self.pool())
        .await?
        .rows_affected();
        if started == 0 {
            return Ok(None);
        }
        self.get_scan(org, id).await
    }

    async fn scan_progress(&self, org: OrgId, id: ScanId, checks_done: u64) -> Result<bool> {
        use sqlx::Row as _;
        sqlx::query(
            "UPDATE scans SET checks_done = $1, \
             progress = CASE WHEN checks_total > 0 THEN (100 * $2) / checks_total ELSE 0 END \
             WHERE org_id = $3 AND id = $4 AND status = 'running'",
        )
        .bind(clamp_i64(checks_done))
        .bind(clamp_i64(checks_done))
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(self.pool())
        .await?;
        let row = sqlx::query("SELECT cancel_requested FROM scans WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        // A scan deleted with its asset is as good as cancelled.
        Ok(match row {
            Some(row) => row.try_get("cancel_requested")?,
            None => true,
        })
    }

    async fn finish_scan(&self, org: OrgId, id: ScanId, outcome: &ScanOutcome) -> Result<()> {
        sqlx::query(
            "UPDATE scans SET status = $1, counts = $2, summary = $3, error = $4, \
             finished_at = $5, progress = CASE WHEN $6 = 'completed' THEN 100 ELSE progress END \
             WHERE org_id = $7 AND id = $8",
        )
        .bind(outcome.status.as_str())
        .bind(outcome.counts.as_ref().map(to_json).transpose()?)
        .bind(to_json(&outcome.summary)?)
        .bind(outcome.error.clone())
        .bind(outcome.at.0)
        .bind(outcome.status.as_str())
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn request_scan_cancel(
        &self,
        org: OrgId,
        id: ScanId,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<Option<Scan>> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let queued = sqlx::query(
            "UPDATE scans SET status = 'cancelled', cancel_requested = $1, finished_at = $2 \
             WHERE org_id = $3 AND id = $4 AND status = 'queued'",
        )
        .bind(true)
        .bind(now.0)
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let running = sqlx::query(
            "UPDATE scans SET cancel_requested = $1 WHERE org_id = $2 AND id = $3 \
             AND status = 'running'",
        )
        .bind(true)
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if queued + running > 0 {
            crate::audit_sql::insert_audit::<DB>(&mut tx, org, audit).await?;
        }
        tx.commit().await?;
        self.get_scan(org, id).await
    }
}
