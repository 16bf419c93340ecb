//! The append-only audit trail: the [`AuditStore`] interface and its SQL
//! for both backends. Changes to incidents and rules write their entry in
//! the same transaction as the change.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::sql_backend::{RowsAffected, SqlBackend};
use async_trait::async_trait;
use rampart_core::{AuditEntry, AuditId, OrgId, Timestamp};

use crate::Result;

/// Which audit entries to list (newest first).
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Entries older than this one (the page cursor).
    pub before: Option<AuditId>,
    pub limit: u32,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, org: OrgId, entry: &AuditEntry) -> Result<()>;
    async fn list_audit(&self, org: OrgId, query: &AuditQuery) -> Result<Vec<AuditEntry>>;
}

pub(crate) fn json_text(value: &Option<serde_json::Value>) -> Option<String> {
    value.as_ref().map(|v| v.to_string())
}

pub(crate) fn parse_json(
    column: &'static str,
    text: Option<String>,
) -> Result<Option<serde_json::Value>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| crate::StoreError::Corrupt {
            column,
            detail: e.to_string(),
        })
    })
    .transpose()
}

const AUDIT_COLUMNS: &str =
    "id, org_id, at, actor, action, target_type, target_id, before_json, after_json";

/// Deletes `org`'s row `id` of `table` and records `audit` in the same
/// transaction; `false` (and nothing recorded) when there was no such row.
pub(crate) async fn delete_audited<S, DB>(
    backend: &S,
    table: &'static str,
    org: rampart_core::OrgId,
    id: String,
    audit: &rampart_core::AuditEntry,
) -> crate::Result<bool>
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
    Option<i64>: for<'q> Encode<'q, DB>,
    Option<bool>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    let mut tx = backend.pool().begin_with(S::BEGIN_WRITE).await?;
    let deleted = sqlx::query(&format!(
        "DELETE FROM {table} WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.to_string())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if deleted == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    insert_audit::<DB>(&mut tx, org, audit).await?;
    tx.commit().await?;
    Ok(true)
}

/// Appends `e` to `org`'s trail (the organisation given, whatever
/// the entry says).
pub(crate) async fn insert_audit<DB>(
    conn: &mut DB::Connection,
    org: rampart_core::OrgId,
    e: &rampart_core::AuditEntry,
) -> crate::Result<()>
where
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
    DB::QueryResult: RowsAffected,
{
    sqlx::query(&format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(e.id.to_string())
    .bind(org.to_string())
    .bind(e.at.0)
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.target_type)
    .bind(&e.target_id)
    .bind(crate::audit_sql::json_text(&e.before))
    .bind(crate::audit_sql::json_text(&e.after))
    .execute(conn)
    .await?;
    Ok(())
}

fn audit_from_row<R, DB>(row: &R) -> crate::Result<rampart_core::AuditEntry>
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
    use crate::shared_sql::parse_column;
    Ok(rampart_core::AuditEntry {
        id: parse_column("audit_log.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("audit_log.org_id", row.try_get::<&str, _>("org_id")?)?,
        at: rampart_core::Timestamp(row.try_get("at")?),
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target_type: row.try_get("target_type")?,
        target_id: row.try_get("target_id")?,
        before: crate::audit_sql::parse_json("audit_log.before_json", row.try_get("before_json")?)?,
        after: crate::audit_sql::parse_json("audit_log.after_json", row.try_get("after_json")?)?,
    })
}

#[async_trait::async_trait]
impl<S, DB> crate::audit_sql::AuditStore for S
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
    Option<i64>: for<'q> Encode<'q, DB>,
    Option<bool>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    async fn append_audit(
        &self,
        org: rampart_core::OrgId,
        entry: &rampart_core::AuditEntry,
    ) -> crate::Result<()> {
        let mut conn = self.pool().acquire().await?;
        insert_audit(&mut conn, org, entry).await
    }

    async fn list_audit(
        &self,
        org: rampart_core::OrgId,
        q: &crate::audit_sql::AuditQuery,
    ) -> crate::Result<Vec<rampart_core::AuditEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE org_id = $1 \
             AND ($2 IS NULL OR actor = $2) AND ($3 IS NULL OR action = $3) \
             AND ($4 IS NULL OR target_type = $4) AND ($5 IS NULL OR target_id = $5) \
             AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7) \
             AND ($8 IS NULL OR id < $8) ORDER BY id DESC LIMIT $9"
        ))
        .bind(org.to_string())
        .bind(q.actor.as_deref())
        .bind(q.action.as_deref())
        .bind(q.target_type.as_deref())
        .bind(q.target_id.as_deref())
        .bind(q.from.map(|t| t.0))
        .bind(q.to.map(|t| t.0))
        .bind(q.before.map(|id| id.to_string()))
        .bind(crate::shared_sql::page_limit(q.limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(audit_from_row).collect()
    }
}
