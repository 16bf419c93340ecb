//! Notifications: the [`NotificationStore`] interface, one SQL text for both
//! backends. Channels and rules are audited in their transactions; the
//! deliveries of a notice and the jobs that send them are written together.

use async_trait::async_trait;
use rampart_core::notification::{
    Channel, ChannelTarget, Delivery, DeliveryStatus, Message, NoticeKind, NotificationPrefs,
    NotificationRule,
};
use rampart_core::{
    AuditEntry, ChannelId, DeliveryId, NotificationRuleId, OrgId, Timestamp, UserId,
};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};

use crate::shared_sql::parse_column;
use crate::sql_backend::{Placeholders, RowsAffected, SqlBackend};
use crate::{Result, StoreError};

/// Which deliveries to list: newest first, after the cursor.
#[derive(Clone, Debug, Default)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
    pub channel: Option<ChannelId>,
    pub before: Option<DeliveryId>,
    pub limit: u32,
}

/// The outcome of one delivery attempt, as the log records it.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryAttempt {
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub at: Timestamp,
    /// Replaces the stored message (to drop a secret once sent).
    pub message: Option<Message>,
}

#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Conflict when the organisation has a channel of that name.
    async fn create_channel(&self, channel: &Channel, audit: &AuditEntry) -> Result<()>;
    /// Writes the channel as changed; `false` when it no longer exists.
    async fn update_channel(&self, channel: &Channel, audit: &AuditEntry) -> Result<bool>;
    async fn delete_channel(&self, org: OrgId, id: ChannelId, audit: &AuditEntry) -> Result<bool>;
    async fn get_channel(&self, org: OrgId, id: ChannelId) -> Result<Option<Channel>>;
    async fn list_channels(&self, org: OrgId) -> Result<Vec<Channel>>;

    async fn create_notification_rule(
        &self,
        rule: &NotificationRule,
        audit: &AuditEntry,
    ) -> Result<()>;
    async fn update_notification_rule(
        &self,
        rule: &NotificationRule,
        audit: &AuditEntry,
    ) -> Result<bool>;
    async fn delete_notification_rule(
        &self,
        org: OrgId,
        id: NotificationRuleId,
        audit: &AuditEntry,
    ) -> Result<bool>;
    async fn list_notification_rules(&self, org: OrgId) -> Result<Vec<NotificationRule>>;

    async fn notification_prefs(
        &self,
        org: OrgId,
        user: UserId,
    ) -> Result<Option<NotificationPrefs>>;
    async fn set_notification_prefs(
        &self,
        org: OrgId,
        user: UserId,
        prefs: &NotificationPrefs,
        now: Timestamp,
    ) -> Result<()>;
    /// Every user of the organisation who set preferences.
    async fn list_notification_prefs(&self, org: OrgId)
        -> Result<Vec<(UserId, NotificationPrefs)>>;

    /// Writes deliveries and the jobs that send them in one transaction,
    /// leaving out those whose dedupe key the organisation already has.
    /// Returns how many were new.
    async fn record_deliveries(
        &self,
        org: OrgId,
        deliveries: &[Delivery],
        now: Timestamp,
    ) -> Result<usize>;
    async fn get_delivery(&self, org: OrgId, id: DeliveryId) -> Result<Option<Delivery>>;
    async fn list_deliveries(&self, org: OrgId, query: &DeliveryQuery) -> Result<Vec<Delivery>>;
    async fn record_delivery_attempt(
        &self,
        org: OrgId,
        id: DeliveryId,
        attempt: &DeliveryAttempt,
    ) -> Result<bool>;
}

const CHANNEL_COLUMNS: &str = "id, org_id, name, kind, target, enabled, created_at, updated_at";
const RULE_COLUMNS: &str =
    "id, org_id, name, events, min_severity, channels, enabled, created_at, updated_at";
const DELIVERY_COLUMNS: &str = "id, org_id, notice, channel_id, recipient, subject_ref, \
     message, status, attempts, last_error, dedupe_key, created_at, updated_at, delivered_at";

fn corrupt(column: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        column,
        detail: detail.to_string(),
    }
}

fn json<T: serde::de::DeserializeOwned>(column: &'static str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(column, e))
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn channel_from_row<R, DB>(row: &R) -> Result<Channel>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'r> Decode<'r, DB>,
{
    Ok(Channel {
        id: parse_column("notification_channels.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column(
            "notification_channels.org_id",
            row.try_get::<&str, _>("org_id")?,
        )?,
        name: row.try_get::<&str, _>("name")?.to_owned(),
        target: json::<ChannelTarget>(
            "notification_channels.target",
            row.try_get::<&str, _>("target")?,
        )?,
        enabled: row.try_get("enabled")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn rule_from_row<R, DB>(row: &R) -> Result<NotificationRule>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'r> Decode<'r, DB>,
{
    let severity: i64 = row.try_get("min_severity")?;
    Ok(NotificationRule {
        id: parse_column("notification_rules.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column(
            "notification_rules.org_id",
            row.try_get::<&str, _>("org_id")?,
        )?,
        name: row.try_get::<&str, _>("name")?.to_owned(),
        events: json::<Vec<NoticeKind>>(
            "notification_rules.events",
            row.try_get::<&str, _>("events")?,
        )?,
        min_severity: u8::try_from(severity)
            .map_err(|_| corrupt("notification_rules.min_severity", severity))?,
        channels: json::<Vec<ChannelId>>(
            "notification_rules.channels",
            row.try_get::<&str, _>("channels")?,
        )?,
        enabled: row.try_get("enabled")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn delivery_from_row<R, DB>(row: &R) -> Result<Delivery>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'r> Decode<'r, DB>,
{
    let notice = row.try_get::<&str, _>("notice")?;
    let status = row.try_get::<&str, _>("status")?;
    Ok(Delivery {
        id: parse_column("notification_deliveries.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column(
            "notification_deliveries.org_id",
            row.try_get::<&str, _>("org_id")?,
        )?,
        notice: NoticeKind::parse(notice)
            .ok_or_else(|| corrupt("notification_deliveries.notice", notice))?,
        channel_id: row
            .try_get::<Option<&str>, _>("channel_id")?
            .map(|c| parse_column("notification_deliveries.channel_id", c))
            .transpose()?,
        recipient: row.try_get("recipient")?,
        subject_ref: row.try_get("subject_ref")?,
        message: json::<Message>(
            "notification_deliveries.message",
            row.try_get::<&str, _>("message")?,
        )?,
        status: DeliveryStatus::parse(status)
            .ok_or_else(|| corrupt("notification_deliveries.status", status))?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        dedupe_key: row.try_get("dedupe_key")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
        delivered_at: row
            .try_get::<Option<i64>, _>("delivered_at")?
            .map(Timestamp),
    })
}

#[async_trait::async_trait]
impl<S, DB> NotificationStore for S
where
    S: SqlBackend<Db = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    &'static str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB> + Decode<'s, DB>,
    for<'s> Option<&'s str>: Encode<'s, DB> + Decode<'s, DB>,
    Option<String>: for<'q> Encode<'q, DB>,
    Option<i64>: for<'q> Encode<'q, DB>,
    Option<bool>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    async fn create_channel(&self, c: &Channel, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(&format!(
            "INSERT INTO notification_channels ({CHANNEL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(c.id.to_string())
        .bind(c.org_id.to_string())
        .bind(c.name.clone())
        .bind(c.target.kind())
        .bind(to_json(&c.target))
        .bind(c.enabled)
        .bind(c.created_at.0)
        .bind(c.updated_at.0)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?;
        crate::audit_sql::insert_audit(&mut tx, c.org_id, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_channel(&self, c: &Channel, audit: &AuditEntry) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE notification_channels SET name = $1, kind = $2, target = $3, enabled = $4, \
             updated_at = $5 WHERE org_id = $6 AND id = $7",
        )
        .bind(c.name.clone())
        .bind(c.target.kind())
        .bind(to_json(&c.target))
        .bind(c.enabled)
        .bind(c.updated_at.0)
        .bind(c.org_id.to_string())
        .bind(c.id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        crate::audit_sql::insert_audit(&mut tx, c.org_id, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_channel(&self, org: OrgId, id: ChannelId, audit: &AuditEntry) -> Result<bool> {
        delete_audited(self, "notification_channels", org, &id.to_string(), audit).await
    }

    async fn get_channel(&self, org: OrgId, id: ChannelId) -> Result<Option<Channel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(channel_from_row)
        .transpose()
    }

    async fn list_channels(&self, org: OrgId) -> Result<Vec<Channel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE org_id = $1 ORDER BY name"
        ))
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(channel_from_row)
        .collect()
    }

    async fn create_notification_rule(
        &self,
        r: &NotificationRule,
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(&format!(
            "INSERT INTO notification_rules ({RULE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(r.id.to_string())
        .bind(r.org_id.to_string())
        .bind(r.name.clone())
        .bind(to_json(&r.events))
        .bind(i64::from(r.min_severity))
        .bind(to_json(&r.channels))
        .bind(r.enabled)
        .bind(r.created_at.0)
        .bind(r.updated_at.0)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?;
        crate::audit_sql::insert_audit(&mut tx, r.org_id, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_notification_rule(
        &self,
        r: &NotificationRule,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE notification_rules SET name = $1, events = $2, min_severity = $3, \
             channels = $4, enabled = $5, updated_at = $6 WHERE org_id = $7 AND id = $8",
        )
        .bind(r.name.clone())
        .bind(to_json(&r.events))
        .bind(i64::from(r.min_severity))
        .bind(to_json(&r.channels))
        .bind(r.enabled)
        .bind(r.updated_at.0)
        .bind(r.org_id.to_string())
        .bind(r.id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        crate::audit_sql::insert_audit(&mut tx, r.org_id, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_notification_rule(
        &self,
        org: OrgId,
        id: NotificationRuleId,
        audit: &AuditEntry,
    ) -> Result<bool> {
        delete_audited(self, "notification_rules", org, &id.to_string(), audit).await
    }

    async fn list_notification_rules(&self, org: OrgId) -> Result<Vec<NotificationRule>> {
        sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM notification_rules WHERE org_id = $1 ORDER BY name"
        ))
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(rule_from_row)
        .collect()
    }

    async fn notification_prefs(
        &self,
        org: OrgId,
        user: UserId,
    ) -> Result<Option<NotificationPrefs>> {
        let row =
            sqlx::query("SELECT prefs FROM notification_prefs WHERE org_id = $1 AND user_id = $2")
                .bind(org.to_string())
                .bind(user.to_string())
                .fetch_optional(self.pool())
                .await?;
        row.map(|row| json("notification_prefs.prefs", row.try_get::<&str, _>("prefs")?))
            .transpose()
    }

    async fn set_notification_prefs(
        &self,
        org: OrgId,
        user: UserId,
        prefs: &NotificationPrefs,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO notification_prefs (org_id, user_id, prefs, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, user_id) \
             DO UPDATE SET prefs = excluded.prefs, updated_at = excluded.updated_at",
        )
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(to_json(prefs))
        .bind(now.0)
        .execute(self.pool())
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    async fn list_notification_prefs(
        &self,
        org: OrgId,
    ) -> Result<Vec<(UserId, NotificationPrefs)>> {
        let rows = sqlx::query(
            "SELECT user_id, prefs FROM notification_prefs WHERE org_id = $1 ORDER BY user_id",
        )
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    parse_column(
                        "notification_prefs.user_id",
                        row.try_get::<&str, _>("user_id")?,
                    )?,
                    json("notification_prefs.prefs", row.try_get::<&str, _>("prefs")?)?,
                ))
            })
            .collect()
    }

    async fn record_deliveries(
        &self,
        org: OrgId,
        deliveries: &[Delivery],
        now: Timestamp,
    ) -> Result<usize> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let mut jobs = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
            let sql = format!(
                "INSERT INTO notification_deliveries ({DELIVERY_COLUMNS}) VALUES {} \
                 ON CONFLICT (org_id, dedupe_key) DO NOTHING",
                p.rows(1, 14)
            );
            let done = sqlx::query(&sql)
                .bind(d.id.to_string())
                .bind(org.to_string())
                .bind(d.notice.as_str())
                .bind(d.channel_id.map(|c| c.to_string()))
                .bind(d.recipient.clone())
                .bind(d.subject_ref.clone())
                .bind(to_json(&d.message))
                .bind(d.status.as_str())
                .bind(d.attempts)
                .bind(d.last_error.clone())
                .bind(d.dedupe_key.clone())
                .bind(d.created_at.0)
                .bind(d.updated_at.0)
                .bind(d.delivered_at.map(|t| t.0))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_write)?;
            if done.rows_affected() > 0 {
                jobs.push(rampart_core::NewJob {
                    org_id: Some(org),
                    ..d.job(now)
                });
            }
        }
        crate::jobs_sql::insert_jobs::<DB>(&mut tx, &jobs, now, S::NUMBERED_PARAMETERS).await?;
        tx.commit().await?;
        Ok(jobs.len())
    }

    async fn get_delivery(&self, org: OrgId, id: DeliveryId) -> Result<Option<Delivery>> {
        sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(delivery_from_row)
        .transpose()
    }

    async fn list_deliveries(&self, org: OrgId, query: &DeliveryQuery) -> Result<Vec<Delivery>> {
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let mut sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries WHERE org_id = {}",
            p.next()
        );
        let mut texts = vec![org.to_string()];
        if let Some(status) = query.status {
            sql.push_str(&format!(" AND status = {}", p.next()));
            texts.push(status.as_str().to_owned());
        }
        if let Some(channel) = query.channel {
            sql.push_str(&format!(" AND channel_id = {}", p.next()));
            texts.push(channel.to_string());
        }
        if let Some(before) = query.before {
            sql.push_str(&format!(" AND id < {}", p.next()));
            texts.push(before.to_string());
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", p.next()));
        let q = texts.into_iter().fold(sqlx::query(&sql), |q, t| q.bind(t));
        q.bind(crate::shared_sql::page_limit(query.limit))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(delivery_from_row)
            .collect()
    }

    async fn record_delivery_attempt(
        &self,
        org: OrgId,
        id: DeliveryId,
        a: &DeliveryAttempt,
    ) -> Result<bool> {
        let delivered = (a.status == DeliveryStatus::Delivered).then_some(a.at.0);
        let done = sqlx::query(
            "UPDATE notification_deliveries SET status = $1, attempts = $2, last_error = $3, \
             updated_at = $4, delivered_at = COALESCE($5, delivered_at), \
             message = COALESCE($6, message) WHERE org_id = $7 AND id = $8",
        )
        .bind(a.status.as_str())
        .bind(a.attempts)
        .bind(a.last_error.clone())
        .bind(a.at.0)
        .bind(delivered)
        .bind(a.message.as_ref().map(to_json))
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Deletes one row of an organisation's `table` with its audit entry.
async fn delete_audited<S, DB>(
    store: &S,
    table: &'static str,
    org: OrgId,
    id: &str,
    audit: &AuditEntry,
) -> Result<bool>
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
    let mut tx = store.pool().begin().await?;
    let done = sqlx::query(&format!(
        "DELETE FROM {table} WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.to_string())
    .bind(id.to_owned())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    crate::audit_sql::insert_audit(&mut tx, org, audit).await?;
    tx.commit().await?;
    Ok(true)
}
