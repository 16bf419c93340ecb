//! Per-organisation settings (event retention, required second factors): the [`SettingsStore`]
//! interface, one SQL text for both backends.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::sql_backend::{RowsAffected, SqlBackend};
use async_trait::async_trait;
use rampart_core::OrgId;

use crate::Result;

#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// The organisation's own retention in days; `None` means the default.
    async fn retention_days(&self, org: OrgId) -> Result<Option<i64>>;
    async fn set_retention_days(&self, org: OrgId, days: Option<i64>) -> Result<()>;
    /// Every organisation with its own retention.
    async fn retention_overrides(&self) -> Result<Vec<(OrgId, i64)>>;
    /// Whether every user of the organisation must sign in with two factors.
    async fn requires_mfa(&self, org: OrgId) -> Result<bool>;
    async fn set_requires_mfa(&self, org: OrgId, required: bool) -> Result<()>;
}

#[async_trait::async_trait]
impl<S, DB> crate::settings_sql::SettingsStore for S
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
    async fn retention_days(&self, org: rampart_core::OrgId) -> crate::Result<Option<i64>> {
        let days: Option<Option<i64>> =
            sqlx::query_scalar("SELECT retention_days FROM org_settings WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(self.pool())
                .await?;
        Ok(days.flatten())
    }

    async fn set_retention_days(
        &self,
        org: rampart_core::OrgId,
        days: Option<i64>,
    ) -> crate::Result<()> {
        sqlx::query(
            "INSERT INTO org_settings (org_id, retention_days) VALUES ($1, $2) \
             ON CONFLICT (org_id) DO UPDATE SET retention_days = excluded.retention_days",
        )
        .bind(org.to_string())
        .bind(days)
        .execute(self.pool())
        .await
        .map_err(crate::StoreError::from_write)?;
        Ok(())
    }

    async fn retention_overrides(&self) -> crate::Result<Vec<(rampart_core::OrgId, i64)>> {
        use sqlx::Row as _;
        let rows = sqlx::query(
            "SELECT org_id, retention_days FROM org_settings WHERE retention_days IS NOT NULL",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    crate::shared_sql::parse_column(
                        "org_settings.org_id",
                        r.try_get::<&str, _>("org_id")?,
                    )?,
                    r.try_get("retention_days")?,
                ))
            })
            .collect()
    }

    async fn requires_mfa(&self, org: rampart_core::OrgId) -> crate::Result<bool> {
        let required: Option<bool> =
            sqlx::query_scalar("SELECT require_mfa FROM org_settings WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(self.pool())
                .await?;
        Ok(required.unwrap_or(false))
    }

    async fn set_requires_mfa(
        &self,
        org: rampart_core::OrgId,
        required: bool,
    ) -> crate::Result<()> {
        sqlx::query(
            "INSERT INTO org_settings (org_id, require_mfa) VALUES ($1, $2) \
             ON CONFLICT (org_id) DO UPDATE SET require_mfa = excluded.require_mfa",
        )
        .bind(org.to_string())
        .bind(required)
        .execute(self.pool())
        .await
        .map_err(crate::StoreError::from_write)?;
        Ok(())
    }
}
