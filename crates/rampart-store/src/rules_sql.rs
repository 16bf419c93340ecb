//! Organisations' detection rules (Sigma YAML) with their hit counters:
//! the [`RuleStore`] interface, one SQL text for both backends.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::sql_backend::{RowsAffected, SqlBackend};
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

/// What detection compiles from, summarised: it changes whenever a rule
/// is created, changed or deleted or the field mapping is replaced, so
/// every node knows when to recompile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RulesVersion {
    pub rules: i64,
    pub newest_rule: i64,
    pub mapping: i64,
}

/// An organisation's own field mapping as stored (JSON text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFieldMapping {
    pub mapping: String,
    pub updated_at: Timestamp,
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
    /// Changes whenever a rule or the field mapping changes (so other
    /// nodes know to reload).
    async fn rules_version(&self, org: OrgId) -> Result<RulesVersion>;
    /// The organisation's own field mapping, if it set one.
    async fn field_mapping(&self, org: OrgId) -> Result<Option<StoredFieldMapping>>;
    /// Replaces the organisation's own field mapping (`None` removes it),
    /// with its audit entry.
    async fn set_field_mapping(
        &self,
        org: OrgId,
        mapping: Option<&StoredFieldMapping>,
        audit: &AuditEntry,
    ) -> Result<()>;
    async fn add_rule_hits(&self, org: OrgId, hits: &[RuleHits]) -> Result<()>;
}

const DETECTION_RULE_COLUMNS: &str = "org_id, id, title, level, kind, yaml, enabled, builtin, \
     hits, last_hit_at, created_at, updated_at";

fn detection_rule_from_row<R, DB>(row: &R) -> crate::Result<rampart_core::DetectionRule>
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
        last_hit_at: row
            .try_get::<Option<i64>, _>("last_hit_at")?
            .map(rampart_core::Timestamp),
        created_at: rampart_core::Timestamp(row.try_get("created_at")?),
        updated_at: rampart_core::Timestamp(row.try_get("updated_at")?),
    })
}

#[async_trait::async_trait]
impl<S, DB> crate::rules_sql::RuleStore for S
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
    async fn sync_builtin_rules(
        &self,
        org: rampart_core::OrgId,
        rules: &[rampart_core::DetectionRule],
    ) -> crate::Result<()> {
        let mut tx = self.pool().begin().await?;
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
    ) -> crate::Result<()> {
        let mut tx = self.pool().begin().await?;
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
        .map_err(crate::StoreError::from_write)?;
        crate::audit_sql::insert_audit(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_rule(
        &self,
        org: rampart_core::OrgId,
        r: &rampart_core::DetectionRule,
        audit: &rampart_core::AuditEntry,
    ) -> crate::Result<bool> {
        let mut tx = self.pool().begin().await?;
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
        crate::audit_sql::insert_audit(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_rule(
        &self,
        org: rampart_core::OrgId,
        id: &str,
        audit: &rampart_core::AuditEntry,
    ) -> crate::Result<bool> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query("DELETE FROM detection_rules WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        crate::audit_sql::insert_audit(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn get_rule(
        &self,
        org: rampart_core::OrgId,
        id: &str,
    ) -> crate::Result<Option<rampart_core::DetectionRule>> {
        let row = sqlx::query(&format!(
            "SELECT {DETECTION_RULE_COLUMNS} FROM detection_rules WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(detection_rule_from_row).transpose()
    }

    async fn list_rules(
        &self,
        org: rampart_core::OrgId,
        after: Option<&str>,
        limit: u32,
    ) -> crate::Result<Vec<rampart_core::DetectionRule>> {
        let rows = sqlx::query(&format!(
            "SELECT {DETECTION_RULE_COLUMNS} FROM detection_rules WHERE org_id = $1 \
             AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        ))
        .bind(org.to_string())
        .bind(after)
        .bind(crate::shared_sql::page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(detection_rule_from_row).collect()
    }

    async fn enabled_rules(
        &self,
        org: rampart_core::OrgId,
    ) -> crate::Result<Vec<rampart_core::DetectionRule>> {
        let rows = sqlx::query(&format!(
            "SELECT {DETECTION_RULE_COLUMNS} FROM detection_rules WHERE org_id = $1 \
             AND enabled ORDER BY id"
        ))
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(detection_rule_from_row).collect()
    }

    async fn rules_version(
        &self,
        org: rampart_core::OrgId,
    ) -> crate::Result<crate::rules_sql::RulesVersion> {
        use sqlx::Row as _;
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(MAX(updated_at), 0) AS newest, \
             (SELECT COALESCE(MAX(updated_at), 0) FROM detection_field_mappings \
              WHERE org_id = $1) AS mapping \
             FROM detection_rules WHERE org_id = $1",
        )
        .bind(org.to_string())
        .fetch_one(self.pool())
        .await?;
        Ok(crate::rules_sql::RulesVersion {
            rules: row.try_get("n")?,
            newest_rule: row.try_get("newest")?,
            mapping: row.try_get("mapping")?,
        })
    }

    async fn field_mapping(
        &self,
        org: rampart_core::OrgId,
    ) -> crate::Result<Option<crate::rules_sql::StoredFieldMapping>> {
        use sqlx::Row as _;
        let row = sqlx::query(
            "SELECT mapping, updated_at FROM detection_field_mappings WHERE org_id = $1",
        )
        .bind(org.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(crate::rules_sql::StoredFieldMapping {
                mapping: r.try_get("mapping")?,
                updated_at: rampart_core::Timestamp(r.try_get("updated_at")?),
            })
        })
        .transpose()
    }

    async fn set_field_mapping(
        &self,
        org: rampart_core::OrgId,
        mapping: Option<&crate::rules_sql::StoredFieldMapping>,
        audit: &rampart_core::AuditEntry,
    ) -> crate::Result<()> {
        let mut tx = self.pool().begin().await?;
        match mapping {
            Some(m) => {
                // The version never goes back, even if clocks differ between nodes.
                sqlx::query(
                    "INSERT INTO detection_field_mappings (org_id, mapping, updated_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE SET \
                     mapping = excluded.mapping, updated_at = CASE WHEN \
                     detection_field_mappings.updated_at < excluded.updated_at \
                     THEN excluded.updated_at ELSE detection_field_mappings.updated_at + 1 END",
                )
                .bind(org.to_string())
                .bind(&m.mapping)
                .bind(m.updated_at.0)
                .execute(&mut *tx)
                .await
                .map_err(crate::StoreError::from_write)?;
            }
            None => {
                sqlx::query("DELETE FROM detection_field_mappings WHERE org_id = $1")
                    .bind(org.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        crate::audit_sql::insert_audit(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_rule_hits(
        &self,
        org: rampart_core::OrgId,
        hits: &[crate::rules_sql::RuleHits],
    ) -> crate::Result<()> {
        if hits.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
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
