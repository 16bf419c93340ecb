//! Organisations' detection rules (Sigma YAML) with their hit counters:
//! the [`RuleStore`] interface, one SQL text for both backends.

use async_trait::async_trait;
use rampart_core::{AuditEntry, DetectionRule, OrgId, Timestamp};

use crate::Result;

/// Matches of one rule to add to its counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleHits {
    pub rule_id: String,
    pub hits: i64,
    pub last_hit_at: Timestamp,
}

#[async_trait]
pub trait RuleStore: Send + Sync {
    /// Adds the built-in rules an organisation lacks and refreshes the text
    /// of those it has (keeping their switch and counters).
    async fn sync_builtin_rules(&self, org: OrgId, rules: &[DetectionRule]) -> Result<()>;
    async fn create_rule(&self, org: OrgId, rule: &DetectionRule, audit: &AuditEntry)
        -> Result<()>;
    /// Replaces the definition and switch; false when there is no such rule.
    async fn update_rule(
        &self,
        org: OrgId,
        rule: &DetectionRule,
        audit: &AuditEntry,
    ) -> Result<bool>;
    async fn delete_rule(&self, org: OrgId, id: &str, audit: &AuditEntry) -> Result<bool>;
    async fn get_rule(&self, org: OrgId, id: &str) -> Result<Option<DetectionRule>>;
    /// Rules ordered by id, after `after`.
    async fn list_rules(
        &self,
        org: OrgId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DetectionRule>>;
    /// Every enabled rule (what detection loads).
    async fn enabled_rules(&self, org: OrgId) -> Result<Vec<DetectionRule>>;
    /// Changes whenever a rule is created, changed or deleted (so other
    /// nodes know to reload).
    async fn rules_version(&self, org: OrgId) -> Result<(i64, i64)>;
    async fn add_rule_hits(&self, org: OrgId, hits: &[RuleHits]) -> Result<()>;
}

/// Implements [`RuleStore`] for a store with a `pool` of rows `$row`;
/// `insert_audit` must be in scope.
macro_rules! impl_rules_sql {
    ($store:ty, $row:ty) => {
        const DETECTION_RULE_COLUMNS: &str = "org_id, id, title, level, kind, yaml, enabled, builtin, \
             hits, last_hit_at, created_at, updated_at";

        fn detection_rule_from_row(row: &$row) -> $crate::Result<rampart_core::DetectionRule> {
            use sqlx::Row as _;
            use $crate::shared_sql::parse_column;
            Ok(rampart_core::DetectionRule {
                id: row.try_get("id")?,
                org_id: parse_column("detection_rules.org_id", row.try_get::<&str, _>("org_id")?)?,
                title: row.try_get("title")?,
                level: row.try_get("level")?,
                kind: row.try_get("kind")?,
                yaml: row.try_get("yaml")?,
                enabled: row.try_get("enabled")?,
                builtin: row.try_get("builtin")?,
                hits: row.try_get("hits")?,
                last_hit_at: row.try_get::<Option<i64>, _>("last_hit_at")?.map(rampart_core::Timestamp),
                created_at: rampart_core::Timestamp(row.try_get("created_at")?),
                updated_at: rampart_core::Timestamp(row.try_get("updated_at")?),
            })
        }

        #[async_trait::async_trait]
        impl $crate::rules_sql::RuleStore for $store {
            async fn sync_builtin_rules(
                &self,
                org: rampart_core::OrgId,
                rules: &[rampart_core::DetectionRule],
            ) -> $crate::Result<()> {
                let mut tx = self.pool.begin().await?;
                for r in rules {
                    sqlx::query(&format!(
                        "INSERT INTO detection_rules ({DETECTION_RULE_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, 0, NULL, $8, $8) \
                         ON CONFLICT (org_id, id) DO UPDATE SET title = excluded.title, \
                         level = excluded.level, kind = excluded.kind, yaml = excluded.yaml, \
                         updated_at = CASE WHEN detection_rules.yaml = excluded.yaml \
                         THEN detection_rules.updated_at ELSE excluded.updated_at END \
                         WHERE detection_rules.builtin"
                    ))
                    .bind(org.to_string())
                    .bind(&r.id)
                    .bind(&r.title)
                    .bind(&r.level)
                    .bind(&r.kind)
                    .bind(&r.yaml)
                    .bind(r.enabled)
                    .bind(r.created_at.0)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn create_rule(
                &self,
                org: rampart_core::OrgId,
                r: &rampart_core::DetectionRule,
                audit: &rampart_core::AuditEntry,
            ) -> $crate::Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(&format!(
                    "INSERT INTO detection_rules ({DETECTION_RULE_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, NULL, $9, $10)"
                ))
                .bind(org.to_string())
                .bind(&r.id)
                .bind(&r.title)
                .bind(&r.level)
                .bind(&r.kind)
                .bind(&r.yaml)
                .bind(r.enabled)
                .bind(r.builtin)
                .bind(r.created_at.0)
                .bind(r.updated_at.0)
                .execute(&mut *tx)
                .await
                .map_err($crate::StoreError::from_write)?;
                insert_audit(&mut tx, org, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_rule(
                &self,
                org: rampart_core::OrgId,
                r: &rampart_core::DetectionRule,
                audit: &rampart_core::AuditEntry,
            ) -> $crate::Result<bool> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(
                    "UPDATE detection_rules SET title = $1, level = $2, kind = $3, yaml = $4, \
                     enabled = $5, updated_at = $6 WHERE org_id = $7 AND id = $8",
                )
                .bind(&r.title)
                .bind(&r.level)
                .bind(&r.kind)
                .bind(&r.yaml)
                .bind(r.enabled)
                .bind(r.updated_at.0)
                .bind(org.to_string())
                .bind(&r.id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                insert_audit(&mut tx, org, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn delete_rule(
                &self,
                org: rampart_core::OrgId,
                id: &str,
                audit: &rampart_core::AuditEntry,
            ) -> $crate::Result<bool> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query("DELETE FROM detection_rules WHERE org_id = $1 AND id = $2")
                    .bind(org.to_string())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                insert_audit(&mut tx, org, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn get_rule(
                &self,
                org: rampart_core::OrgId,
                id: &str,
            ) -> $crate::Result<Option<rampart_core::DetectionRule>> {
                let row = sqlx::query(&format!(
                    "SELECT {DETECTION_RULE_COLUMNS} FROM detection_rules WHERE org_id = $1 AND id = $2"
                ))
                .bind(org.to_string())
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(detection_rule_from_row).transpose()
            }

            async fn list_rules(
                &self,
                org: rampart_core::OrgId,
                after: Option<&str>,
                limit: u32,
            ) -> $crate::Result<Vec<rampart_core::DetectionRule>> {
                let rows = sqlx::query(&format!(
                    "SELECT {DETECTION_RULE_COLUMNS} FROM detection_rules WHERE org_id = $1 \
                     AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
                ))
                .bind(org.to_string())
                .bind(after)
                .bind($crate::shared_sql::page_limit(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(detection_rule_from_row).collect()
            }

            async fn enabled_rules(
                &self,
                org: rampart_core::OrgId,
            ) -> $crate::Result<Vec<rampart_core::DetectionRule>> {
                let rows = sqlx::query(&format!(
                    "SELECT {DETECTION_RULE_COLUMNS} FROM detection_rules WHERE org_id = $1 \
                     AND enabled ORDER BY id"
                ))
                .bind(org.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(detection_rule_from_row).collect()
            }

            async fn rules_version(&self, org: rampart_core::OrgId) -> $crate::Result<(i64, i64)> {
                use sqlx::Row as _;
                let row = sqlx::query(
                    "SELECT COUNT(*) AS n, COALESCE(MAX(updated_at), 0) AS newest \
                     FROM detection_rules WHERE org_id = $1",
                )
                .bind(org.to_string())
                .fetch_one(&self.pool)
                .await?;
                Ok((row.try_get("n")?, row.try_get("newest")?))
            }

            async fn add_rule_hits(
                &self,
                org: rampart_core::OrgId,
                hits: &[$crate::rules_sql::RuleHits],
            ) -> $crate::Result<()> {
                if hits.is_empty() {
                    return Ok(());
                }
                let mut tx = self.pool.begin().await?;
                for h in hits {
                    sqlx::query(
                        "UPDATE detection_rules SET hits = hits + $1, \
                         last_hit_at = CASE WHEN last_hit_at IS NULL OR last_hit_at < $2 THEN $2 ELSE last_hit_at END \
                         WHERE org_id = $3 AND id = $4",
                    )
                    .bind(h.hits)
                    .bind(h.last_hit_at.0)
                    .bind(org.to_string())
                    .bind(&h.rule_id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_rules_sql;
