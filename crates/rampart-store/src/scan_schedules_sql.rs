//! Recurring scans (the [`ScanScheduleStore`] interface): per
//! organisation, a scan request with a cron expression and the time of
//! its next run. Due schedules are claimed by moving their next run in
//! the same statement, so two nodes do not start the same run twice.

use async_trait::async_trait;
use rampart_core::scan::ScanSchedule;
use rampart_core::{AuditEntry, OrgId, ScanScheduleId, Timestamp};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::findings_sql::{json_column, to_json};
use crate::shared_sql::parse_column;
use crate::sql_backend::{RowsAffected, SqlBackend};
use crate::{Result, StoreError};

const COLUMNS: &str = "id, org_id, name, request, cron, enabled, next_run_at, last_run_at, \
     last_scan_id, last_error, created_by, created_at";

#[async_trait]
pub trait ScanScheduleStore: Send + Sync {
    /// `Conflict` when the organisation has a schedule of that name.
    async fn create_scan_schedule(&self, schedule: &ScanSchedule, audit: &AuditEntry)
        -> Result<()>;
    async fn list_scan_schedules(&self, org: OrgId) -> Result<Vec<ScanSchedule>>;
    async fn delete_scan_schedule(
        &self,
        org: OrgId,
        id: ScanScheduleId,
        audit: &AuditEntry,
    ) -> Result<bool>;
    /// Enabled schedules of every organisation due at `now`, oldest first.
    async fn due_scan_schedules(&self, now: Timestamp, limit: u32) -> Result<Vec<ScanSchedule>>;
    /// Records a run and the next one; `false` when another node already
    /// took this run (its next run is no longer `due`).
    async fn claim_scan_schedule(
        &self,
        org: OrgId,
        id: ScanScheduleId,
        due: Timestamp,
        next: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
    /// What the claimed run did: the scan it started, or why it could not.
    async fn record_scan_schedule_run(
        &self,
        org: OrgId,
        id: ScanScheduleId,
        scan: Option<String>,
        error: Option<String>,
    ) -> Result<()>;
}

fn schedule_from_row<R, DB>(row: &R) -> Result<ScanSchedule>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    Option<String>: for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    Option<i64>: for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'r> Decode<'r, DB>,
{
    Ok(ScanSchedule {
        id: parse_column("scan_schedules.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("scan_schedules.org_id", row.try_get::<&str, _>("org_id")?)?,
        name: row.try_get("name")?,
        request: json_column("scan_schedules.request", row.try_get("request")?)?,
        cron: row.try_get("cron")?,
        enabled: row.try_get("enabled")?,
        next_run_at: Timestamp(row.try_get("next_run_at")?),
        last_run_at: row.try_get::<Option<i64>, _>("last_run_at")?.map(Timestamp),
        last_scan_id: row
            .try_get::<Option<String>, _>("last_scan_id")?
            .map(|s| parse_column("scan_schedules.last_scan_id", &s))
            .transpose()?,
        last_error: row.try_get("last_error")?,
        created_by: row.try_get("created_by")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

#[async_trait]
impl<S, DB> ScanScheduleStore for S
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
    async fn create_scan_schedule(&self, s: &ScanSchedule, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        sqlx::query(&format!(
            "INSERT INTO scan_schedules ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12)"
        ))
        .bind(s.id.to_string())
        .bind(s.org_id.to_string())
        .bind(s.name.clone())
        .bind(to_json(&s.request)?)
        .bind(s.cron.clone())
        .bind(s.enabled)
        .bind(s.next_run_at.0)
        .bind(s.last_run_at.map(|t| t.0))
        .bind(s.last_scan_id.map(|i| i.to_string()))
        .bind(s.last_error.clone())
        .bind(s.created_by.clone())
        .bind(s.created_at.0)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, s.org_id, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_scan_schedules(&self, org: OrgId) -> Result<Vec<ScanSchedule>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM scan_schedules WHERE org_id = $1 ORDER BY name LIMIT 1000"
        ))
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(schedule_from_row).collect()
    }

    async fn delete_scan_schedule(
        &self,
        org: OrgId,
        id: ScanScheduleId,
        audit: &AuditEntry,
    ) -> Result<bool> {
        crate::audit_sql::delete_audited(self, "scan_schedules", org, id.to_string(), audit).await
    }

    async fn due_scan_schedules(&self, now: Timestamp, limit: u32) -> Result<Vec<ScanSchedule>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM scan_schedules WHERE enabled AND next_run_at <= $1 \
             ORDER BY next_run_at, id LIMIT $2"
        ))
        .bind(now.0)
        .bind(crate::shared_sql::page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(schedule_from_row).collect()
    }

    async fn claim_scan_schedule(
        &self,
        org: OrgId,
        id: ScanScheduleId,
        due: Timestamp,
        next: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let claimed = sqlx::query(
            "UPDATE scan_schedules SET next_run_at = $1, last_run_at = $2 \
             WHERE org_id = $3 AND id = $4 AND next_run_at = $5",
        )
        .bind(next.0)
        .bind(now.0)
        .bind(org.to_string())
        .bind(id.to_string())
        .bind(due.0)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    async fn record_scan_schedule_run(
        &self,
        org: OrgId,
        id: ScanScheduleId,
        scan: Option<String>,
        error: Option<String>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE scan_schedules SET last_scan_id = COALESCE($1, last_scan_id), last_error = $2 \
             WHERE org_id = $3 AND id = $4",
        )
        .bind(scan)
        .bind(error)
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
