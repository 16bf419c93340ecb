//! Feature flags: the [`FlagStore`] interface, one SQL text for both
//! backends. A flag belongs to an organisation or to the platform; each
//! change is audited in its transaction and bumps the revision that nodes
//! poll to refresh their caches.

use async_trait::async_trait;
use rampart_core::flag::Flag;
use rampart_core::{AuditEntry, OrgId, Timestamp};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::sql_backend::{RowsAffected, SqlBackend};
use crate::Result;

/// Whose flag: an organisation's, or the platform's (for every
/// organisation without its own of the same key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagScope {
    Org(OrgId),
    Platform,
}

impl FlagScope {
    pub fn of(org: Option<OrgId>) -> FlagScope {
        org.map_or(FlagScope::Platform, FlagScope::Org)
    }

    fn text(self) -> String {
        match self {
            FlagScope::Org(org) => org.to_string(),
            FlagScope::Platform => String::new(),
        }
    }

    fn org(self) -> Option<OrgId> {
        match self {
            FlagScope::Org(org) => Some(org),
            FlagScope::Platform => None,
        }
    }
}

/// Whether a write creates a flag or replaces one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagWrite {
    Create,
    Replace,
}

#[async_trait]
pub trait FlagStore: Send + Sync {
    /// The scope's flags, by key.
    async fn list_flags(&self, scope: FlagScope) -> Result<Vec<Flag>>;
    async fn get_flag(&self, scope: FlagScope, key: &str) -> Result<Option<Flag>>;
    /// Every flag of every scope, with the revision they are at.
    async fn all_flags(&self) -> Result<(i64, Vec<Flag>)>;
    async fn flags_revision(&self) -> Result<i64>;
    /// Creates or replaces `flag` (in the scope of its `org_id`; a
    /// replacement keeps its creation time) with its audit entry, recorded
    /// in `audit_org`; `false` when there was nothing to replace. Creating
    /// an existing key is a conflict.
    async fn put_flag(
        &self,
        flag: &Flag,
        write: FlagWrite,
        audit_org: OrgId,
        audit: &AuditEntry,
    ) -> Result<bool>;
    /// Deletes a flag with its audit entry; `false` when there was none.
    async fn delete_flag(
        &self,
        scope: FlagScope,
        key: &str,
        audit_org: OrgId,
        audit: &AuditEntry,
    ) -> Result<bool>;
}

const FLAG_COLUMNS: &str = "scope, key, org_id, definition, created_at, updated_at, updated_by";

fn flag_from_row<R, DB>(row: &R) -> Result<Flag>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
{
    Ok(Flag {
        key: row.try_get("key")?,
        org_id: row
            .try_get::<Option<&str>, _>("org_id")?
            .map(|o| crate::shared_sql::parse_column("feature_flags.org_id", o))
            .transpose()?,
        definition: serde_json::from_str(row.try_get::<&str, _>("definition")?).map_err(|e| {
            crate::StoreError::Corrupt {
                column: "feature_flags.definition",
                detail: e.to_string(),
            }
        })?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
        updated_by: row.try_get("updated_by")?,
    })
}

async fn bump_revision<DB>(conn: &mut DB::Connection) -> Result<()>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
{
    sqlx::query("UPDATE flag_revision SET revision = revision + 1 WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl<S, DB> FlagStore for S
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
    async fn list_flags(&self, scope: FlagScope) -> Result<Vec<Flag>> {
        let rows = sqlx::query(&format!(
            "SELECT {FLAG_COLUMNS} FROM feature_flags WHERE scope = $1 ORDER BY key"
        ))
        .bind(scope.text())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(flag_from_row).collect()
    }

    async fn get_flag(&self, scope: FlagScope, key: &str) -> Result<Option<Flag>> {
        sqlx::query(&format!(
            "SELECT {FLAG_COLUMNS} FROM feature_flags WHERE scope = $1 AND key = $2"
        ))
        .bind(scope.text())
        .bind(key)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(flag_from_row)
        .transpose()
    }

    async fn all_flags(&self) -> Result<(i64, Vec<Flag>)> {
        let mut tx = self.pool().begin().await?;
        let revision: i64 = sqlx::query_scalar("SELECT revision FROM flag_revision WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT {FLAG_COLUMNS} FROM feature_flags ORDER BY scope, key"
        ))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((
            revision,
            rows.iter().map(flag_from_row).collect::<Result<Vec<_>>>()?,
        ))
    }

    async fn flags_revision(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT revision FROM flag_revision WHERE id = 1")
                .fetch_one(self.pool())
                .await?,
        )
    }

    async fn put_flag(
        &self,
        flag: &Flag,
        write: FlagWrite,
        audit_org: OrgId,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let scope = FlagScope::of(flag.org_id);
        let (key, actor, now) = (flag.key.as_str(), flag.updated_by.as_str(), flag.updated_at);
        let json =
            serde_json::to_string(&flag.definition).map_err(|e| crate::StoreError::Corrupt {
                column: "feature_flags.definition",
                detail: e.to_string(),
            })?;
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let changed = match write {
            FlagWrite::Create => sqlx::query(&format!(
                "INSERT INTO feature_flags ({FLAG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ))
            .bind(scope.text())
            .bind(key)
            .bind(scope.org().map(|o| o.to_string()))
            .bind(json)
            .bind(flag.created_at.0)
            .bind(now.0)
            .bind(actor)
            .execute(&mut *tx)
            .await
            .map_err(crate::StoreError::from_write)?
            .rows_affected(),
            FlagWrite::Replace => sqlx::query(
                "UPDATE feature_flags SET definition = $1, updated_at = $2, updated_by = $3 \
                 WHERE scope = $4 AND key = $5",
            )
            .bind(json)
            .bind(now.0)
            .bind(actor)
            .bind(scope.text())
            .bind(key)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if changed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        bump_revision::<DB>(&mut tx).await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, audit_org, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_flag(
        &self,
        scope: FlagScope,
        key: &str,
        audit_org: OrgId,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let gone = sqlx::query("DELETE FROM feature_flags WHERE scope = $1 AND key = $2")
            .bind(scope.text())
            .bind(key)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        bump_revision::<DB>(&mut tx).await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, audit_org, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
