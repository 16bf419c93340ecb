//! Users' feedback: the [`FeedbackStore`] interface, one SQL text for both
//! backends. Every call takes the organisation; answers are audited in
//! their transaction.

use async_trait::async_trait;
use rampart_core::feedback::{Feedback, FeedbackKind, FeedbackStatus};
use rampart_core::{AuditEntry, FeedbackId, OrgId, Timestamp, UserId};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::sql_backend::{Placeholders, RowsAffected, SqlBackend};
use crate::Result;

/// What a listing asks for: newest first, after the cursor.
#[derive(Clone, Debug, Default)]
pub struct FeedbackQuery {
    pub status: Option<FeedbackStatus>,
    /// Only this user's.
    pub author: Option<UserId>,
    pub before: Option<FeedbackId>,
    pub limit: u32,
}

#[async_trait]
pub trait FeedbackStore: Send + Sync {
    async fn create_feedback(&self, feedback: &Feedback) -> Result<()>;
    async fn get_feedback(&self, org: OrgId, id: FeedbackId) -> Result<Option<Feedback>>;
    async fn list_feedback(&self, org: OrgId, query: &FeedbackQuery) -> Result<Vec<Feedback>>;
    /// How many the user sent at or after `since`.
    async fn count_feedback_since(
        &self,
        org: OrgId,
        author: UserId,
        since: Timestamp,
    ) -> Result<i64>;
    /// Writes the answer and status of `feedback` (as changed) with its
    /// audit entry; `false` when it no longer exists.
    async fn update_feedback(&self, feedback: &Feedback, audit: &AuditEntry) -> Result<bool>;
}

const COLUMNS: &str = "id, org_id, author, kind, message, page, status, answer, answered_by, \
     answered_at, created_at, updated_at";

fn corrupt(column: &'static str, value: &str) -> crate::StoreError {
    crate::StoreError::Corrupt {
        column,
        detail: value.to_owned(),
    }
}

fn from_row<R, DB>(row: &R) -> Result<Feedback>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
{
    use crate::shared_sql::parse_column;
    let kind = row.try_get::<&str, _>("kind")?;
    let status = row.try_get::<&str, _>("status")?;
    Ok(Feedback {
        id: parse_column("feedback.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("feedback.org_id", row.try_get::<&str, _>("org_id")?)?,
        author: parse_column("feedback.author", row.try_get::<&str, _>("author")?)?,
        kind: FeedbackKind::parse(kind).ok_or_else(|| corrupt("feedback.kind", kind))?,
        message: row.try_get("message")?,
        page: row.try_get("page")?,
        status: FeedbackStatus::parse(status).ok_or_else(|| corrupt("feedback.status", status))?,
        answer: row.try_get("answer")?,
        answered_by: row.try_get("answered_by")?,
        answered_at: row.try_get::<Option<i64>, _>("answered_at")?.map(Timestamp),
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

#[async_trait::async_trait]
impl<S, DB> FeedbackStore for S
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
    async fn create_feedback(&self, f: &Feedback) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO feedback ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(f.id.to_string())
        .bind(f.org_id.to_string())
        .bind(f.author.to_string())
        .bind(f.kind.as_str())
        .bind(f.message.clone())
        .bind(f.page.clone())
        .bind(f.status.as_str())
        .bind(f.answer.clone())
        .bind(f.answered_by.clone())
        .bind(f.answered_at.map(|t| t.0))
        .bind(f.created_at.0)
        .bind(f.updated_at.0)
        .execute(self.pool())
        .await
        .map_err(crate::StoreError::from_write)?;
        Ok(())
    }

    async fn get_feedback(&self, org: OrgId, id: FeedbackId) -> Result<Option<Feedback>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM feedback WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
    }

    async fn list_feedback(&self, org: OrgId, query: &FeedbackQuery) -> Result<Vec<Feedback>> {
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let mut sql = format!("SELECT {COLUMNS} FROM feedback WHERE org_id = {}", p.next());
        let mut texts = vec![org.to_string()];
        if let Some(status) = query.status {
            sql.push_str(&format!(" AND status = {}", p.next()));
            texts.push(status.as_str().to_owned());
        }
        if let Some(author) = query.author {
            sql.push_str(&format!(" AND author = {}", p.next()));
            texts.push(author.to_string());
        }
        if let Some(before) = query.before {
            sql.push_str(&format!(" AND id < {}", p.next()));
            texts.push(before.to_string());
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", p.next()));
        let mut q = sqlx::query(&sql);
        for text in texts {
            q = q.bind(text);
        }
        let rows = q
            .bind(crate::shared_sql::page_limit(query.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    async fn count_feedback_since(
        &self,
        org: OrgId,
        author: UserId,
        since: Timestamp,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM feedback WHERE org_id = $1 AND author = $2 AND created_at >= $3",
        )
        .bind(org.to_string())
        .bind(author.to_string())
        .bind(since.0)
        .fetch_one(self.pool())
        .await?)
    }

    async fn update_feedback(&self, f: &Feedback, audit: &AuditEntry) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let changed = sqlx::query(
            "UPDATE feedback SET status = $1, answer = $2, answered_by = $3, answered_at = $4, \
             updated_at = $5 WHERE org_id = $6 AND id = $7",
        )
        .bind(f.status.as_str())
        .bind(f.answer.clone())
        .bind(f.answered_by.clone())
        .bind(f.answered_at.map(|t| t.0))
        .bind(f.updated_at.0)
        .bind(f.org_id.to_string())
        .bind(f.id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::audit_sql::insert_audit::<DB>(&mut tx, f.org_id, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
