//! Reports uploaded to be imported by a job (the [`UploadStore`]
//! interface): the upload and its job are stored in one transaction, the
//! job takes the file, and the outcome replaces it.

use async_trait::async_trait;
use rampart_core::finding::{ReportUpload, UploadState};
use rampart_core::{AuditEntry, NewJob, OrgId, Timestamp, UploadId};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::findings_sql::{corrupt, json_column, to_json};
use crate::shared_sql::parse_column;
use crate::sql_backend::{RowsAffected, SqlBackend};
use crate::{Result, StoreError};

const UPLOAD_COLUMNS: &str =
    "id, org_id, actor, request, size, state, result, error, created_at, finished_at";

#[async_trait]
pub trait UploadStore: Send + Sync {
    /// Records an upload with its file and enqueues the job that imports it.
    async fn create_upload(
        &self,
        upload: &ReportUpload,
        body: &[u8],
        job: &NewJob,
        audit: &AuditEntry,
    ) -> Result<()>;
    async fn get_upload(&self, org: OrgId, id: UploadId) -> Result<Option<ReportUpload>>;
    /// Marks a queued (or interrupted) upload running and hands over its
    /// file; `None` when it is finished or gone.
    async fn start_upload(&self, org: OrgId, id: UploadId) -> Result<Option<Vec<u8>>>;
    /// Records the outcome (`result` or `error`) and drops the file.
    async fn finish_upload(
        &self,
        org: OrgId,
        id: UploadId,
        result: std::result::Result<serde_json::Value, String>,
        at: Timestamp,
    ) -> Result<()>;
}

fn upload_from_row<R, DB>(row: &R) -> Result<ReportUpload>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    Option<String>: for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    Option<i64>: for<'r> Decode<'r, DB>,
{
    let state = row.try_get::<&str, _>("state")?;
    let size = row.try_get::<i64, _>("size")?;
    Ok(ReportUpload {
        id: parse_column("report_uploads.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("report_uploads.org_id", row.try_get::<&str, _>("org_id")?)?,
        actor: row.try_get("actor")?,
        request: json_column("report_uploads.request", row.try_get("request")?)?,
        size: u64::try_from(size).map_err(|_| corrupt("report_uploads.size", &size.to_string()))?,
        state: UploadState::parse(state).ok_or_else(|| corrupt("report_uploads.state", state))?,
        result: row
            .try_get::<Option<String>, _>("result")?
            .map(|r| json_column("report_uploads.result", &r))
            .transpose()?,
        error: row.try_get("error")?,
        created_at: Timestamp(row.try_get("created_at")?),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(Timestamp),
    })
}

#[async_trait]
impl<S, DB> UploadStore for S
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
    for<'s> &'s [u8]: Type<DB> + Encode<'s, DB>,
    Option<Vec<u8>>: Type<DB> + for<'r> Decode<'r, DB>,
    Option<String>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    Option<i64>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    async fn create_upload(
        &self,
        upload: &ReportUpload,
        body: &[u8],
        job: &NewJob,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        sqlx::query(&format!(
            "INSERT INTO report_uploads ({UPLOAD_COLUMNS}, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(upload.id.to_string())
        .bind(upload.org_id.to_string())
        .bind(upload.actor.clone())
        .bind(to_json(&upload.request)?)
        .bind(i64::try_from(upload.size).unwrap_or(i64::MAX))
        .bind(upload.state.as_str())
        .bind(upload.result.as_ref().map(to_json).transpose()?)
        .bind(upload.error.clone())
        .bind(upload.created_at.0)
        .bind(upload.finished_at.map(|t| t.0))
        .bind(body)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?;
        crate::jobs_sql::insert_jobs::<DB>(
            &mut tx,
            std::slice::from_ref(job),
            upload.created_at,
            S::NUMBERED_PARAMETERS,
        )
        .await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, upload.org_id, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_upload(&self, org: OrgId, id: UploadId) -> Result<Option<ReportUpload>> {
        sqlx::query(&format!(
            "SELECT {UPLOAD_COLUMNS} FROM report_uploads WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(upload_from_row)
        .transpose()
    }

    async fn start_upload(&self, org: OrgId, id: UploadId) -> Result<Option<Vec<u8>>> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let started = sqlx::query(
            "UPDATE report_uploads SET state = 'running' \
             WHERE org_id = $1 AND id = $2 AND state IN ('queued', 'running')",
        )
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if started == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let body: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT body FROM report_uploads WHERE org_id = $1 AND id = $2")
                .bind(org.to_string())
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(body)
    }

    async fn finish_upload(
        &self,
        org: OrgId,
        id: UploadId,
        result: std::result::Result<serde_json::Value, String>,
        at: Timestamp,
    ) -> Result<()> {
        let (state, result, error) = match result {
            Ok(reply) => (UploadState::Done, Some(to_json(&reply)?), None),
            Err(error) => (UploadState::Failed, None, Some(error)),
        };
        sqlx::query(
            "UPDATE report_uploads SET state = $1, result = $2, error = $3, finished_at = $4, \
             body = NULL WHERE org_id = $5 AND id = $6",
        )
        .bind(state.as_str())
        .bind(result)
        .bind(error)
        .bind(at.0)
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
