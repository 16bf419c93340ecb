//! Validation rules and their per-minute pass/fail counts: the
//! [`ValidationStore`] interface, one SQL text for both backends.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::sql_backend::{RowsAffected, SqlBackend};
use async_trait::async_trait;
use rampart_core::validation::{Check, Mode, ValidationRule};
use rampart_core::{OrgId, Timestamp, ValidationRuleId};

use crate::Result;

/// Pass/fail counts of one rule in one minute, to be added to the stored ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountDelta {
    pub org: OrgId,
    pub rule: ValidationRuleId,
    /// Epoch ms of the minute's start.
    pub minute: i64,
    pub passed: i64,
    pub failed: i64,
}

#[async_trait]
pub trait ValidationStore: Send + Sync {
    async fn create_validation_rule(&self, org: OrgId, rule: &ValidationRule) -> Result<()>;
    /// Every rule of the organisation, oldest first.
    async fn list_validation_rules(&self, org: OrgId) -> Result<Vec<ValidationRule>>;
    async fn get_validation_rule(
        &self,
        org: OrgId,
        id: ValidationRuleId,
    ) -> Result<Option<ValidationRule>>;
    /// Replaces the rule's definition; false when there is no such rule.
    async fn update_validation_rule(&self, org: OrgId, rule: &ValidationRule) -> Result<bool>;
    async fn delete_validation_rule(&self, org: OrgId, id: ValidationRuleId) -> Result<bool>;
    /// Adds counts (several nodes may add to the same minute).
    async fn add_validation_counts(&self, deltas: &[CountDelta]) -> Result<()>;
    /// `(minute, passed, failed)` of one rule in `[from, to)`, oldest first.
    async fn validation_counts(
        &self,
        org: OrgId,
        rule: ValidationRuleId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(i64, i64, i64)>>;
}

pub(crate) fn check_to_json(check: &Check) -> String {
    serde_json::to_string(check).unwrap_or_else(|_| "{}".into())
}

pub(crate) fn parse_check(text: &str) -> Result<Check> {
    serde_json::from_str(text).map_err(|e| crate::StoreError::Corrupt {
        column: "validation_rules.check_json",
        detail: e.to_string(),
    })
}

pub(crate) fn parse_mode(text: &str) -> Result<Mode> {
    match text {
        "warn" => Ok(Mode::Warn),
        "reject" => Ok(Mode::Reject),
        other => Err(crate::StoreError::Corrupt {
            column: "validation_rules.mode",
            detail: other.to_string(),
        }),
    }
}

const RULE_COLUMNS: &str =
    "id, org_id, name, source, field, check_json, mode, enabled, created_at, updated_at";

fn rule_from_row<R, DB>(row: &R) -> crate::Result<rampart_core::validation::ValidationRule>
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
    Ok(rampart_core::validation::ValidationRule {
        id: parse_column("validation_rules.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("validation_rules.org_id", row.try_get::<&str, _>("org_id")?)?,
        name: row.try_get("name")?,
        source: row.try_get("source")?,
        field: row.try_get("field")?,
        check: crate::validation_sql::parse_check(row.try_get::<&str, _>("check_json")?)?,
        mode: crate::validation_sql::parse_mode(row.try_get::<&str, _>("mode")?)?,
        enabled: row.try_get("enabled")?,
        created_at: rampart_core::Timestamp(row.try_get("created_at")?),
        updated_at: rampart_core::Timestamp(row.try_get("updated_at")?),
    })
}

#[async_trait::async_trait]
impl<S, DB> crate::validation_sql::ValidationStore for S
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
    async fn create_validation_rule(
        &self,
        org: rampart_core::OrgId,
        rule: &rampart_core::validation::ValidationRule,
    ) -> crate::Result<()> {
        sqlx::query(&format!(
            "INSERT INTO validation_rules ({RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(rule.id.to_string())
        .bind(org.to_string())
        .bind(&rule.name)
        .bind(&rule.source)
        .bind(&rule.field)
        .bind(crate::validation_sql::check_to_json(&rule.check))
        .bind(rule.mode.as_str())
        .bind(rule.enabled)
        .bind(rule.created_at.0)
        .bind(rule.updated_at.0)
        .execute(self.pool())
        .await
        .map_err(crate::StoreError::from_write)?;
        Ok(())
    }

    async fn list_validation_rules(
        &self,
        org: rampart_core::OrgId,
    ) -> crate::Result<Vec<rampart_core::validation::ValidationRule>> {
        let rows = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM validation_rules WHERE org_id = $1 ORDER BY id"
        ))
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rule_from_row).collect()
    }

    async fn get_validation_rule(
        &self,
        org: rampart_core::OrgId,
        id: rampart_core::ValidationRuleId,
    ) -> crate::Result<Option<rampart_core::validation::ValidationRule>> {
        let row = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM validation_rules WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(rule_from_row).transpose()
    }

    async fn update_validation_rule(
        &self,
        org: rampart_core::OrgId,
        rule: &rampart_core::validation::ValidationRule,
    ) -> crate::Result<bool> {
        let done = sqlx::query(
            "UPDATE validation_rules SET name = $1, source = $2, field = $3, check_json = $4, \
             mode = $5, enabled = $6, updated_at = $7 WHERE org_id = $8 AND id = $9",
        )
        .bind(&rule.name)
        .bind(&rule.source)
        .bind(&rule.field)
        .bind(crate::validation_sql::check_to_json(&rule.check))
        .bind(rule.mode.as_str())
        .bind(rule.enabled)
        .bind(rule.updated_at.0)
        .bind(org.to_string())
        .bind(rule.id.to_string())
        .execute(self.pool())
        .await
        .map_err(crate::StoreError::from_write)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_validation_rule(
        &self,
        org: rampart_core::OrgId,
        id: rampart_core::ValidationRuleId,
    ) -> crate::Result<bool> {
        let done = sqlx::query("DELETE FROM validation_rules WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_validation_counts(
        &self,
        deltas: &[crate::validation_sql::CountDelta],
    ) -> crate::Result<()> {
        let mut tx = self.pool().begin().await?;
        for d in deltas {
            let added = sqlx::query(
                "INSERT INTO validation_counts (org_id, rule_id, minute, passed, failed) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (org_id, rule_id, minute) DO UPDATE SET \
                 passed = validation_counts.passed + excluded.passed, \
                 failed = validation_counts.failed + excluded.failed",
            )
            .bind(d.org.to_string())
            .bind(d.rule.to_string())
            .bind(d.minute)
            .bind(d.passed)
            .bind(d.failed)
            .execute(&mut *tx)
            .await;
            if let Err(e) = added {
                tx.rollback().await?;
                return Err(e.into());
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn validation_counts(
        &self,
        org: rampart_core::OrgId,
        rule: rampart_core::ValidationRuleId,
        from: rampart_core::Timestamp,
        to: rampart_core::Timestamp,
    ) -> crate::Result<Vec<(i64, i64, i64)>> {
        use sqlx::Row as _;
        let rows = sqlx::query(
            "SELECT minute, passed, failed FROM validation_counts \
             WHERE org_id = $1 AND rule_id = $2 AND minute >= $3 AND minute < $4 ORDER BY minute",
        )
        .bind(org.to_string())
        .bind(rule.to_string())
        .bind(from.0)
        .bind(to.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("minute")?,
                    r.try_get("passed")?,
                    r.try_get("failed")?,
                ))
            })
            .collect()
    }
}
