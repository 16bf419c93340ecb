//! Findings policy (the [`FindingPolicyStore`] interface): each
//! organisation's deadlines, expiry warning and priority phrases, and the
//! marks that make a breach notice or an expiry warning go out once.
//! Each `take_…` selects and marks in one transaction, so two nodes
//! running the check at once do not both notify.

use async_trait::async_trait;
use rampart_core::finding::{Finding, FindingPolicy, FindingSeverity, FindingStatus};
use rampart_core::{AuditEntry, OrgId, Timestamp};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::findings_sql::{finding_from_row, json_column, to_json, FINDING_COLUMNS};
use crate::sql_backend::{Placeholders, RowsAffected, SqlBackend};
use crate::Result;

#[async_trait]
pub trait FindingPolicyStore: Send + Sync {
    /// The organisation's policy; `None` when it has not set one.
    async fn get_finding_policy(&self, org: OrgId) -> Result<Option<FindingPolicy>>;
    async fn set_finding_policy(
        &self,
        org: OrgId,
        policy: &FindingPolicy,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<()>;
    /// Open findings past their deadline (first seen at or before the
    /// cutoff of their severity) not yet notified, marked notified.
    async fn take_sla_breaches(
        &self,
        org: OrgId,
        cutoffs: &[(FindingSeverity, Timestamp)],
        limit: u32,
    ) -> Result<Vec<Finding>>;
    /// Accepted risks whose review date is at or before `warn_until`, not
    /// yet warned of, marked warned.
    async fn take_expiring_acceptances(
        &self,
        org: OrgId,
        warn_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Finding>>;
    /// Accepted risks whose review date has passed, reopened (with the
    /// audit entry when there are any).
    async fn reopen_expired_acceptances(
        &self,
        org: OrgId,
        now: Timestamp,
        limit: u32,
        audit: &AuditEntry,
    ) -> Result<Vec<Finding>>;
}

#[async_trait]
impl<S, DB> FindingPolicyStore for S
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
    Option<String>: for<'q> Encode<'q, DB>,
    Option<i64>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    async fn get_finding_policy(&self, org: OrgId) -> Result<Option<FindingPolicy>> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT policy FROM finding_policy WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(self.pool())
                .await?;
        text.map(|t| json_column("finding_policy.policy", &t))
            .transpose()
    }

    async fn set_finding_policy(
        &self,
        org: OrgId,
        policy: &FindingPolicy,
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        sqlx::query(
            "INSERT INTO finding_policy (org_id, policy, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET policy = excluded.policy, \
             updated_at = excluded.updated_at",
        )
        .bind(org.to_string())
        .bind(to_json(policy)?)
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn take_sla_breaches(
        &self,
        org: OrgId,
        cutoffs: &[(FindingSeverity, Timestamp)],
        limit: u32,
    ) -> Result<Vec<Finding>> {
        if cutoffs.is_empty() {
            return Ok(Vec::new());
        }
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let mut sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE org_id = {} \
             AND status IN ('open', 'reopened') AND NOT sla_notified AND (",
            p.next()
        );
        for (n, _) in cutoffs.iter().enumerate() {
            if n > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str(&format!(
                "(severity = {} AND first_seen <= {})",
                p.next(),
                p.next()
            ));
        }
        sql.push_str(&format!(
            ") ORDER BY priority DESC, id DESC LIMIT {}",
            p.next()
        ));
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let mut q = sqlx::query(&sql).bind(org.to_string());
        for (severity, cutoff) in cutoffs {
            q = q.bind(severity.as_str()).bind(cutoff.0);
        }
        let rows = q
            .bind(crate::shared_sql::page_limit(limit))
            .fetch_all(&mut *tx)
            .await?;
        let found: Vec<Finding> = rows.iter().map(finding_from_row).collect::<Result<_>>()?;
        for f in &found {
            sqlx::query("UPDATE findings SET sla_notified = $1 WHERE org_id = $2 AND id = $3")
                .bind(true)
                .bind(org.to_string())
                .bind(f.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(found)
    }

    async fn take_expiring_acceptances(
        &self,
        org: OrgId,
        warn_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Finding>> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let rows = sqlx::query(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE org_id = $1 AND status = $2 \
             AND NOT expiry_warned AND risk_accepted_until <= $3 \
             ORDER BY risk_accepted_until, id LIMIT $4"
        ))
        .bind(org.to_string())
        .bind(FindingStatus::RiskAccepted.as_str())
        .bind(warn_until.0)
        .bind(crate::shared_sql::page_limit(limit))
        .fetch_all(&mut *tx)
        .await?;
        let found: Vec<Finding> = rows.iter().map(finding_from_row).collect::<Result<_>>()?;
        for f in &found {
            sqlx::query("UPDATE findings SET expiry_warned = $1 WHERE org_id = $2 AND id = $3")
                .bind(true)
                .bind(org.to_string())
                .bind(f.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(found)
    }

    async fn reopen_expired_acceptances(
        &self,
        org: OrgId,
        now: Timestamp,
        limit: u32,
        audit: &AuditEntry,
    ) -> Result<Vec<Finding>> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let rows = sqlx::query(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE org_id = $1 AND status = $2 \
             AND risk_accepted_until <= $3 ORDER BY risk_accepted_until, id LIMIT $4"
        ))
        .bind(org.to_string())
        .bind(FindingStatus::RiskAccepted.as_str())
        .bind(now.0)
        .bind(crate::shared_sql::page_limit(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut found: Vec<Finding> = rows.iter().map(finding_from_row).collect::<Result<_>>()?;
        let reason = "the accepted risk's review date passed";
        for f in &mut found {
            sqlx::query(
                "UPDATE findings SET status = $1, status_reason = $2, updated_at = $3 \
                 WHERE org_id = $4 AND id = $5",
            )
            .bind(FindingStatus::Reopened.as_str())
            .bind(reason)
            .bind(now.0)
            .bind(org.to_string())
            .bind(f.id.to_string())
            .execute(&mut *tx)
            .await?;
            f.status = FindingStatus::Reopened;
            f.status_reason = Some(reason.to_owned());
            f.updated_at = now;
        }
        if !found.is_empty() {
            crate::audit_sql::insert_audit::<DB>(&mut tx, org, audit).await?;
        }
        tx.commit().await?;
        Ok(found)
    }
}
