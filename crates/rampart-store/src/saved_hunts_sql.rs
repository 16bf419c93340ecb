//! Saved hunts (the [`SavedHuntStore`] interface): per organisation, a
//! named query, its schedule and what its last run found. Due hunts are
//! claimed by moving their next run in the same statement, so two nodes
//! do not run the same hunt twice.

use async_trait::async_trait;
use rampart_core::hunt::saved::{HuntAction, SavedHunt};
use rampart_core::{AuditEntry, IncidentId, OrgId, SavedHuntId, Timestamp};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::shared_sql::parse_column;
use crate::sql_backend::{RowsAffected, SqlBackend};
use crate::{Result, StoreError};

const COLUMNS: &str = "id, org_id, name, query, owner, cron, window_minutes, threshold, action, \
     severity, enabled, next_run_at, last_run_at, last_matched, last_error, last_incident_id, \
     created_at, updated_at";

/// What one run of a saved hunt found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HuntRun {
    pub matched: Option<u64>,
    pub error: Option<String>,
    pub incident: Option<IncidentId>,
}

#[async_trait]
pub trait SavedHuntStore: Send + Sync {
    /// `Conflict` when the organisation has a saved hunt of that name.
    async fn create_saved_hunt(&self, hunt: &SavedHunt, audit: &AuditEntry) -> Result<()>;
    async fn list_saved_hunts(&self, org: OrgId) -> Result<Vec<SavedHunt>>;
    async fn get_saved_hunt(&self, org: OrgId, id: SavedHuntId) -> Result<Option<SavedHunt>>;
    /// Replaces what a user may change (name, query, schedule, action);
    /// `false` when it does not exist. `Conflict` on a name in use.
    async fn update_saved_hunt(&self, hunt: &SavedHunt, audit: &AuditEntry) -> Result<bool>;
    async fn delete_saved_hunt(
        &self,
        org: OrgId,
        id: SavedHuntId,
        audit: &AuditEntry,
    ) -> Result<bool>;
    /// Enabled scheduled hunts of every organisation due at `now`, oldest
    /// first.
    async fn due_saved_hunts(&self, now: Timestamp, limit: u32) -> Result<Vec<SavedHunt>>;
    /// Takes the run due at `due` and sets the next one; `false` when
    /// another node already took it.
    async fn claim_saved_hunt(
        &self,
        org: OrgId,
        id: SavedHuntId,
        due: Timestamp,
        next: Option<Timestamp>,
    ) -> Result<bool>;
    /// What a run (scheduled or by hand) at `at` found.
    async fn record_saved_hunt_run(
        &self,
        org: OrgId,
        id: SavedHuntId,
        at: Timestamp,
        run: &HuntRun,
    ) -> Result<()>;
}

fn hunt_from_row<R, DB>(row: &R) -> Result<SavedHunt>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    Option<String>: for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'r> Decode<'r, DB>,
    Option<i64>: for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'r> Decode<'r, DB>,
{
    let action: &str = row.try_get("action")?;
    Ok(SavedHunt {
        id: parse_column("saved_hunts.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("saved_hunts.org_id", row.try_get::<&str, _>("org_id")?)?,
        name: row.try_get("name")?,
        query: row.try_get("query")?,
        owner: row.try_get("owner")?,
        cron: row.try_get("cron")?,
        window_minutes: row.try_get("window_minutes")?,
        threshold: u64::try_from(row.try_get::<i64, _>("threshold")?).unwrap_or(1),
        action: HuntAction::parse(action).ok_or_else(|| StoreError::Corrupt {
            column: "saved_hunts.action",
            detail: format!("unknown {action:?}"),
        })?,
        severity: u8::try_from(row.try_get::<i32, _>("severity")?).unwrap_or(3),
        enabled: row.try_get("enabled")?,
        next_run_at: row.try_get::<Option<i64>, _>("next_run_at")?.map(Timestamp),
        last_run_at: row.try_get::<Option<i64>, _>("last_run_at")?.map(Timestamp),
        last_matched: row
            .try_get::<Option<i64>, _>("last_matched")?
            .and_then(|n| u64::try_from(n).ok()),
        last_error: row.try_get("last_error")?,
        last_incident_id: row
            .try_get::<Option<String>, _>("last_incident_id")?
            .map(|s| parse_column("saved_hunts.last_incident_id", &s))
            .transpose()?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl<S, DB> SavedHuntStore for S
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
    async fn create_saved_hunt(&self, h: &SavedHunt, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        sqlx::query(&format!(
            "INSERT INTO saved_hunts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ))
        .bind(h.id.to_string())
        .bind(h.org_id.to_string())
        .bind(h.name.clone())
        .bind(h.query.clone())
        .bind(h.owner.clone())
        .bind(h.cron.clone())
        .bind(h.window_minutes)
        .bind(count(h.threshold))
        .bind(h.action.as_str())
        .bind(i32::from(h.severity))
        .bind(h.enabled)
        .bind(h.next_run_at.map(|t| t.0))
        .bind(h.last_run_at.map(|t| t.0))
        .bind(h.last_matched.map(count))
        .bind(h.last_error.clone())
        .bind(h.last_incident_id.map(|i| i.to_string()))
        .bind(h.created_at.0)
        .bind(h.updated_at.0)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, h.org_id, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_saved_hunts(&self, org: OrgId) -> Result<Vec<SavedHunt>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM saved_hunts WHERE org_id = $1 ORDER BY name LIMIT 1000"
        ))
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(hunt_from_row).collect()
    }

    async fn get_saved_hunt(&self, org: OrgId, id: SavedHuntId) -> Result<Option<SavedHunt>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM saved_hunts WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(hunt_from_row).transpose()
    }

    async fn update_saved_hunt(&self, h: &SavedHunt, audit: &AuditEntry) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let updated = sqlx::query(
            "UPDATE saved_hunts SET name = $1, query = $2, cron = $3, window_minutes = $4, \
             threshold = $5, action = $6, severity = $7, enabled = $8, next_run_at = $9, \
             updated_at = $10 WHERE org_id = $11 AND id = $12",
        )
        .bind(h.name.clone())
        .bind(h.query.clone())
        .bind(h.cron.clone())
        .bind(h.window_minutes)
        .bind(count(h.threshold))
        .bind(h.action.as_str())
        .bind(i32::from(h.severity))
        .bind(h.enabled)
        .bind(h.next_run_at.map(|t| t.0))
        .bind(h.updated_at.0)
        .bind(h.org_id.to_string())
        .bind(h.id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected();
        if updated == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::audit_sql::insert_audit::<DB>(&mut tx, h.org_id, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_saved_hunt(
        &self,
        org: OrgId,
        id: SavedHuntId,
        audit: &AuditEntry,
    ) -> Result<bool> {
        crate::audit_sql::delete_audited(self, "saved_hunts", org, id.to_string(), audit).await
    }

    async fn due_saved_hunts(&self, now: Timestamp, limit: u32) -> Result<Vec<SavedHunt>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM saved_hunts WHERE enabled AND next_run_at <= $1 \
             ORDER BY next_run_at, id LIMIT $2"
        ))
        .bind(now.0)
        .bind(crate::shared_sql::page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(hunt_from_row).collect()
    }

    async fn claim_saved_hunt(
        &self,
        org: OrgId,
        id: SavedHuntId,
        due: Timestamp,
        next: Option<Timestamp>,
    ) -> Result<bool> {
        let claimed = sqlx::query(
            "UPDATE saved_hunts SET next_run_at = $1 \
             WHERE org_id = $2 AND id = $3 AND next_run_at = $4",
        )
        .bind(next.map(|t| t.0))
        .bind(org.to_string())
        .bind(id.to_string())
        .bind(due.0)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    async fn record_saved_hunt_run(
        &self,
        org: OrgId,
        id: SavedHuntId,
        at: Timestamp,
        run: &HuntRun,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE saved_hunts SET last_run_at = $1, last_matched = $2, last_error = $3, \
             last_incident_id = COALESCE($4, last_incident_id) WHERE org_id = $5 AND id = $6",
        )
        .bind(at.0)
        .bind(run.matched.map(count))
        .bind(run.error.clone())
        .bind(run.incident.map(|i| i.to_string()))
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
