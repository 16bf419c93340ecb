//! Per-organisation settings (event retention): the [`SettingsStore`]
//! interface, one SQL text for both backends.

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
}

/// Implements [`SettingsStore`] for a store with a `pool`.
macro_rules! impl_settings_sql {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::settings_sql::SettingsStore for $store {
            async fn retention_days(&self, org: rampart_core::OrgId) -> $crate::Result<Option<i64>> {
                let days: Option<Option<i64>> =
                    sqlx::query_scalar("SELECT retention_days FROM org_settings WHERE org_id = $1")
                        .bind(org.to_string())
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(days.flatten())
            }

            async fn set_retention_days(&self, org: rampart_core::OrgId, days: Option<i64>) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO org_settings (org_id, retention_days) VALUES ($1, $2) \
                     ON CONFLICT (org_id) DO UPDATE SET retention_days = excluded.retention_days",
                )
                .bind(org.to_string())
                .bind(days)
                .execute(&self.pool)
                .await
                .map_err($crate::StoreError::from_write)?;
                Ok(())
            }

            async fn retention_overrides(&self) -> $crate::Result<Vec<(rampart_core::OrgId, i64)>> {
                use sqlx::Row as _;
                let rows = sqlx::query(
                    "SELECT org_id, retention_days FROM org_settings WHERE retention_days IS NOT NULL",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            $crate::shared_sql::parse_column("org_settings.org_id", r.try_get::<&str, _>("org_id")?)?,
                            r.try_get("retention_days")?,
                        ))
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use impl_settings_sql;
