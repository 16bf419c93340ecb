//! Phishing reports (the [`PhishingStore`] interface), one SQL text for
//! both backends: a message and its analysis job are stored in one
//! transaction (a message already sent in is found by its SHA-256 instead),
//! the job records the outcome and the sender it vouches for, and each
//! organisation keeps its phishing policy. Every call takes the
//! organisation.

use async_trait::async_trait;
use rampart_core::phishing::{PhishOutcome, PhishSource, PhishStatus, PhishingMessage};
use rampart_core::{AuditEntry, IncidentId, NewJob, OrgId, PhishingMessageId, Timestamp};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::findings_sql::{corrupt, json_column, to_json};
use crate::shared_sql::parse_column;
use crate::sql_backend::{Placeholders, RowsAffected, SqlBackend};
use crate::{Result, StoreError};

const COLUMNS: &str = "id, org_id, sha256, source, reporter, size, status, sender, subject, \
     score, verdict, result, error, incident_id, received_at, analysed_at";

/// What a listing asks for: newest first, before the cursor.
#[derive(Clone, Debug, Default)]
pub struct PhishingQuery {
    pub verdict: Option<String>,
    pub status: Option<PhishStatus>,
    /// Reported by, or sent from, this address (any case).
    pub about: Option<String>,
    pub before: Option<PhishingMessageId>,
    pub limit: u32,
}

/// What sending a message in did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Stored, its analysis queued.
    Queued,
    /// The organisation had sent this very message in before.
    Duplicate(PhishingMessageId),
}

#[async_trait]
pub trait PhishingStore: Send + Sync {
    /// Stores a message with its raw text and queues its analysis, unless
    /// the organisation has one with the same SHA-256.
    async fn submit_phishing_message(
        &self,
        message: &PhishingMessage,
        raw: &[u8],
        job: &NewJob,
        audit: &AuditEntry,
    ) -> Result<Submitted>;
    async fn get_phishing_message(
        &self,
        org: OrgId,
        id: PhishingMessageId,
    ) -> Result<Option<PhishingMessage>>;
    async fn phishing_raw(&self, org: OrgId, id: PhishingMessageId) -> Result<Option<Vec<u8>>>;
    async fn list_phishing_messages(
        &self,
        org: OrgId,
        query: &PhishingQuery,
    ) -> Result<Vec<PhishingMessage>>;
    /// Records an analysis (or why the message could not be read) and, for
    /// a clean verdict, that the organisation knows the sender.
    async fn finish_phishing_analysis(
        &self,
        org: OrgId,
        id: PhishingMessageId,
        outcome: std::result::Result<PhishOutcome, String>,
        at: Timestamp,
    ) -> Result<()>;
    async fn set_phishing_incident(
        &self,
        org: OrgId,
        id: PhishingMessageId,
        incident: IncidentId,
    ) -> Result<()>;
    /// Whether the organisation has had clean mail from `address` (lower case).
    async fn phishing_sender_known(&self, org: OrgId, address: &str) -> Result<bool>;
    /// The organisation's policy (JSON), if it set one.
    async fn phishing_policy(&self, org: OrgId) -> Result<Option<serde_json::Value>>;
    async fn set_phishing_policy(
        &self,
        org: OrgId,
        policy: &serde_json::Value,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<()>;
}

fn from_row<R, DB>(row: &R) -> Result<PhishingMessage>
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
    let source = row.try_get::<&str, _>("source")?;
    let status = row.try_get::<&str, _>("status")?;
    let size = row.try_get::<i64, _>("size")?;
    Ok(PhishingMessage {
        id: parse_column("phishing_messages.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column(
            "phishing_messages.org_id",
            row.try_get::<&str, _>("org_id")?,
        )?,
        sha256: row.try_get("sha256")?,
        source: PhishSource::parse(source)
            .ok_or_else(|| corrupt("phishing_messages.source", source))?,
        reporter: row.try_get("reporter")?,
        size: u64::try_from(size)
            .map_err(|_| corrupt("phishing_messages.size", &size.to_string()))?,
        status: PhishStatus::parse(status)
            .ok_or_else(|| corrupt("phishing_messages.status", status))?,
        sender: row.try_get("sender")?,
        subject: row.try_get("subject")?,
        score: row
            .try_get::<Option<i64>, _>("score")?
            .map(|s| u32::try_from(s).unwrap_or(0)),
        verdict: row.try_get("verdict")?,
        result: row
            .try_get::<Option<String>, _>("result")?
            .map(|r| json_column("phishing_messages.result", &r))
            .transpose()?,
        error: row.try_get("error")?,
        incident_id: row
            .try_get::<Option<String>, _>("incident_id")?
            .map(|i| parse_column("phishing_messages.incident_id", &i))
            .transpose()?,
        received_at: Timestamp(row.try_get("received_at")?),
        analysed_at: row.try_get::<Option<i64>, _>("analysed_at")?.map(Timestamp),
    })
}

#[async_trait]
impl<S, DB> PhishingStore for S
where
    S: SqlBackend<Db = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    &'static str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB> + Decode<'s, DB>,
    for<'s> Option<&'s str>: Encode<'s, DB>,
    for<'s> &'s [u8]: Type<DB> + Encode<'s, DB>,
    Option<Vec<u8>>: Type<DB> + for<'r> Decode<'r, DB>,
    Option<bool>: for<'q> Encode<'q, DB>,
    Option<String>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    Option<i64>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    async fn submit_phishing_message(
        &self,
        m: &PhishingMessage,
        raw: &[u8],
        job: &NewJob,
        audit: &AuditEntry,
    ) -> Result<Submitted> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let added = sqlx::query(&format!(
            "INSERT INTO phishing_messages ({COLUMNS}, raw) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (org_id, sha256) DO NOTHING"
        ))
        .bind(m.id.to_string())
        .bind(m.org_id.to_string())
        .bind(m.sha256.clone())
        .bind(m.source.as_str())
        .bind(m.reporter.clone())
        .bind(i64::try_from(m.size).unwrap_or(i64::MAX))
        .bind(m.status.as_str())
        .bind(m.sender.clone())
        .bind(m.subject.clone())
        .bind(m.score.map(i64::from))
        .bind(m.verdict.clone())
        .bind(m.result.as_ref().map(to_json).transpose()?)
        .bind(m.error.clone())
        .bind(m.incident_id.map(|i| i.to_string()))
        .bind(m.received_at.0)
        .bind(m.analysed_at.map(|t| t.0))
        .bind(raw)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected();
        if added == 0 {
            let existing: String = sqlx::query_scalar(
                "SELECT id FROM phishing_messages WHERE org_id = $1 AND sha256 = $2",
            )
            .bind(m.org_id.to_string())
            .bind(m.sha256.clone())
            .fetch_one(&mut *tx)
            .await?;
            tx.rollback().await?;
            return Ok(Submitted::Duplicate(parse_column(
                "phishing_messages.id",
                &existing,
            )?));
        }
        crate::jobs_sql::insert_jobs::<DB>(
            &mut tx,
            std::slice::from_ref(job),
            m.received_at,
            S::NUMBERED_PARAMETERS,
        )
        .await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, m.org_id, audit).await?;
        tx.commit().await?;
        Ok(Submitted::Queued)
    }

    async fn get_phishing_message(
        &self,
        org: OrgId,
        id: PhishingMessageId,
    ) -> Result<Option<PhishingMessage>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM phishing_messages WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
    }

    async fn phishing_raw(&self, org: OrgId, id: PhishingMessageId) -> Result<Option<Vec<u8>>> {
        let raw: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT raw FROM phishing_messages WHERE org_id = $1 AND id = $2")
                .bind(org.to_string())
                .bind(id.to_string())
                .fetch_optional(self.pool())
                .await?;
        Ok(raw.flatten())
    }

    async fn list_phishing_messages(
        &self,
        org: OrgId,
        query: &PhishingQuery,
    ) -> Result<Vec<PhishingMessage>> {
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let mut sql = format!(
            "SELECT {COLUMNS} FROM phishing_messages WHERE org_id = {}",
            p.next()
        );
        let mut args = vec![org.to_string()];
        if let Some(verdict) = &query.verdict {
            sql.push_str(&format!(" AND verdict = {}", p.next()));
            args.push(verdict.clone());
        }
        if let Some(status) = query.status {
            sql.push_str(&format!(" AND status = {}", p.next()));
            args.push(status.as_str().to_owned());
        }
        if let Some(about) = &query.about {
            let (a, b) = (p.next(), p.next());
            sql.push_str(&format!(
                " AND (LOWER(reporter) = {a} OR LOWER(sender) = {b})"
            ));
            args.push(about.to_lowercase());
            args.push(about.to_lowercase());
        }
        if let Some(before) = query.before {
            sql.push_str(&format!(" AND id < {}", p.next()));
            args.push(before.to_string());
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", p.next()));
        let mut q = sqlx::query(&sql);
        for arg in args {
            q = q.bind(arg);
        }
        q.bind(i64::from(query.limit))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(from_row)
            .collect()
    }

    async fn finish_phishing_analysis(
        &self,
        org: OrgId,
        id: PhishingMessageId,
        outcome: std::result::Result<PhishOutcome, String>,
        at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        match outcome {
            Ok(outcome) => {
                sqlx::query(
                    "UPDATE phishing_messages SET status = 'analysed', sender = $1, subject = $2, \
                     score = $3, verdict = $4, result = $5, error = NULL, analysed_at = $6 \
                     WHERE org_id = $7 AND id = $8",
                )
                .bind(outcome.sender.clone())
                .bind(outcome.subject.clone())
                .bind(i64::from(outcome.score))
                .bind(outcome.verdict.clone())
                .bind(to_json(&outcome.result)?)
                .bind(at.0)
                .bind(org.to_string())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
                if let Some(sender) = outcome.sender.filter(|_| outcome.sender_now_known) {
                    sqlx::query(
                        "INSERT INTO phishing_senders (org_id, address, first_seen, last_seen, messages) \
                         VALUES ($1, $2, $3, $3, 1) ON CONFLICT (org_id, address) DO UPDATE SET \
                         last_seen = excluded.last_seen, messages = phishing_senders.messages + 1",
                    )
                    .bind(org.to_string())
                    .bind(sender.to_lowercase())
                    .bind(at.0)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            Err(error) => {
                sqlx::query(
                    "UPDATE phishing_messages SET status = 'failed', error = $1, analysed_at = $2 \
                     WHERE org_id = $3 AND id = $4",
                )
                .bind(error)
                .bind(at.0)
                .bind(org.to_string())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_phishing_incident(
        &self,
        org: OrgId,
        id: PhishingMessageId,
        incident: IncidentId,
    ) -> Result<()> {
        sqlx::query("UPDATE phishing_messages SET incident_id = $1 WHERE org_id = $2 AND id = $3")
            .bind(incident.to_string())
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn phishing_sender_known(&self, org: OrgId, address: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT messages FROM phishing_senders WHERE org_id = $1 AND address = $2",
        )
        .bind(org.to_string())
        .bind(address.to_lowercase())
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    async fn phishing_policy(&self, org: OrgId) -> Result<Option<serde_json::Value>> {
        let policy: Option<String> =
            sqlx::query_scalar("SELECT policy FROM phishing_policies WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(self.pool())
                .await?;
        policy
            .map(|p| json_column("phishing_policies.policy", &p))
            .transpose()
    }

    async fn set_phishing_policy(
        &self,
        org: OrgId,
        policy: &serde_json::Value,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        sqlx::query(
            "INSERT INTO phishing_policies (org_id, policy, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at",
        )
        .bind(org.to_string())
        .bind(to_json(policy)?)
        .bind(at.0)
        .execute(&mut *tx)
        .await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
