//! Second factors and one-time challenges: the [`AuthFactorStore`]
//! interface, one SQL text for both backends. Challenges (an e-mailed
//! code, a pending two-factor login, a password reset) are stored by the
//! digest of their secret; every attempt is counted before it is checked,
//! so no more than the allowed guesses are ever compared. TOTP records keep
//! the last step used (no replay) and recovery codes are single-use rows.

use async_trait::async_trait;
use rampart_core::{AuditEntry, OrgId, Timestamp, UserId};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};

use crate::shared_sql::parse_column;
use crate::sql_backend::{RowsAffected, SqlBackend};
use crate::{Result, StoreError};

/// What a challenge proves when answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeKind {
    /// A code e-mailed for signing in.
    EmailCode,
    /// A password was right; a second factor is due.
    Mfa,
    /// A link e-mailed to set a new password.
    PasswordReset,
}

impl ChallengeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeKind::EmailCode => "email_code",
            ChallengeKind::Mfa => "mfa",
            ChallengeKind::PasswordReset => "password_reset",
        }
    }

    fn parse(text: &str) -> Option<ChallengeKind> {
        [
            ChallengeKind::EmailCode,
            ChallengeKind::Mfa,
            ChallengeKind::PasswordReset,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// A one-time challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub id: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub kind: ChallengeKind,
    /// The digest of its secret (code or token).
    pub secret_hash: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A user's authenticator (TOTP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotpRecord {
    /// Base32, as the authenticator app has it.
    pub secret: String,
    /// Off until a first code confirms the app has it.
    pub enabled: bool,
    /// The last time step a code was accepted from.
    pub last_step: i64,
    pub created_at: Timestamp,
    pub confirmed_at: Option<Timestamp>,
}

#[async_trait]
pub trait AuthFactorStore: Send + Sync {
    async fn create_challenge(&self, challenge: &Challenge) -> Result<()>;
    /// The newest challenge of a user and kind that is unused and unexpired.
    async fn latest_challenge(
        &self,
        org: OrgId,
        user: UserId,
        kind: ChallengeKind,
        now: Timestamp,
    ) -> Result<Option<Challenge>>;
    /// The unused, unexpired challenge of a kind with this secret digest
    /// (a token names its user).
    async fn find_challenge(
        &self,
        kind: ChallengeKind,
        secret_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Challenge>>;
    /// Counts one attempt if the challenge still allows one: `false` when
    /// it is used, expired or out of attempts.
    async fn spend_challenge_attempt(&self, org: OrgId, id: &str, now: Timestamp) -> Result<bool>;
    /// Marks it used; `false` when it already was.
    async fn consume_challenge(&self, org: OrgId, id: &str, now: Timestamp) -> Result<bool>;
    /// Removes challenges that expired before `before`.
    async fn purge_challenges(&self, before: Timestamp) -> Result<u64>;

    async fn get_totp(&self, org: OrgId, user: UserId) -> Result<Option<TotpRecord>>;
    /// Stores a (new, unconfirmed) authenticator, replacing any other and
    /// its recovery codes.
    async fn put_totp(&self, org: OrgId, user: UserId, record: &TotpRecord) -> Result<()>;
    /// Confirms the authenticator at `step` and stores its recovery codes'
    /// digests, with the audit entry; `false` when there is none pending.
    async fn enable_totp(
        &self,
        org: OrgId,
        user: UserId,
        step: i64,
        recovery_hashes: &[String],
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool>;
    /// Removes the authenticator and recovery codes, with the audit entry.
    async fn delete_totp(&self, org: OrgId, user: UserId, audit: &AuditEntry) -> Result<bool>;
    /// Records a code of `step` as used: `false` when that step or a later
    /// one was used already (a replayed code).
    async fn advance_totp_step(&self, org: OrgId, user: UserId, step: i64) -> Result<bool>;
    /// Uses up one recovery code; `false` when it is unknown or used.
    async fn use_recovery_code(
        &self,
        org: OrgId,
        user: UserId,
        code_hash: &str,
        now: Timestamp,
    ) -> Result<bool>;
    async fn recovery_codes_left(&self, org: OrgId, user: UserId) -> Result<i64>;
}

const CHALLENGE_COLUMNS: &str = "id, org_id, user_id, kind, secret_hash, attempts, max_attempts, \
     expires_at, used_at, created_at";

fn challenge_from_row<R, DB>(row: &R) -> Result<Challenge>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'r> Decode<'r, DB>,
{
    let kind = row.try_get::<&str, _>("kind")?;
    Ok(Challenge {
        id: row.try_get("id")?,
        org_id: parse_column("auth_challenges.org_id", row.try_get::<&str, _>("org_id")?)?,
        user_id: parse_column(
            "auth_challenges.user_id",
            row.try_get::<&str, _>("user_id")?,
        )?,
        kind: ChallengeKind::parse(kind).ok_or_else(|| StoreError::Corrupt {
            column: "auth_challenges.kind",
            detail: kind.to_owned(),
        })?,
        secret_hash: row.try_get("secret_hash")?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        expires_at: Timestamp(row.try_get("expires_at")?),
        used_at: row.try_get::<Option<i64>, _>("used_at")?.map(Timestamp),
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

#[async_trait::async_trait]
impl<S, DB> AuthFactorStore for S
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
    async fn create_challenge(&self, c: &Challenge) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO auth_challenges ({CHALLENGE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(c.id.clone())
        .bind(c.org_id.to_string())
        .bind(c.user_id.to_string())
        .bind(c.kind.as_str())
        .bind(c.secret_hash.clone())
        .bind(c.attempts)
        .bind(c.max_attempts)
        .bind(c.expires_at.0)
        .bind(c.used_at.map(|t| t.0))
        .bind(c.created_at.0)
        .execute(self.pool())
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    async fn latest_challenge(
        &self,
        org: OrgId,
        user: UserId,
        kind: ChallengeKind,
        now: Timestamp,
    ) -> Result<Option<Challenge>> {
        sqlx::query(&format!(
            "SELECT {CHALLENGE_COLUMNS} FROM auth_challenges WHERE org_id = $1 AND user_id = $2 \
             AND kind = $3 AND used_at IS NULL AND expires_at > $4 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(kind.as_str())
        .bind(now.0)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(challenge_from_row)
        .transpose()
    }

    async fn find_challenge(
        &self,
        kind: ChallengeKind,
        secret_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Challenge>> {
        sqlx::query(&format!(
            "SELECT {CHALLENGE_COLUMNS} FROM auth_challenges WHERE secret_hash = $1 AND kind = $2 \
             AND used_at IS NULL AND expires_at > $3"
        ))
        .bind(secret_hash.to_owned())
        .bind(kind.as_str())
        .bind(now.0)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(challenge_from_row)
        .transpose()
    }

    async fn spend_challenge_attempt(&self, org: OrgId, id: &str, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE auth_challenges SET attempts = attempts + 1 WHERE id = $1 AND org_id = $2 \
             AND used_at IS NULL AND expires_at > $3 AND attempts < max_attempts",
        )
        .bind(id.to_owned())
        .bind(org.to_string())
        .bind(now.0)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn consume_challenge(&self, org: OrgId, id: &str, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE auth_challenges SET used_at = $1 WHERE id = $2 AND org_id = $3 \
             AND used_at IS NULL",
        )
        .bind(now.0)
        .bind(id.to_owned())
        .bind(org.to_string())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn purge_challenges(&self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM auth_challenges WHERE expires_at < $1")
            .bind(before.0)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    async fn get_totp(&self, org: OrgId, user: UserId) -> Result<Option<TotpRecord>> {
        let row = sqlx::query(
            "SELECT secret, enabled, last_step, created_at, confirmed_at FROM user_totp \
             WHERE org_id = $1 AND user_id = $2",
        )
        .bind(org.to_string())
        .bind(user.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(TotpRecord {
                secret: row.try_get("secret")?,
                enabled: row.try_get("enabled")?,
                last_step: row.try_get("last_step")?,
                created_at: Timestamp(row.try_get("created_at")?),
                confirmed_at: row
                    .try_get::<Option<i64>, _>("confirmed_at")?
                    .map(Timestamp),
            })
        })
        .transpose()
    }

    async fn put_totp(&self, org: OrgId, user: UserId, r: &TotpRecord) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        for table in ["user_recovery_codes", "user_totp"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE org_id = $1 AND user_id = $2"
            ))
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO user_totp (org_id, user_id, secret, enabled, last_step, created_at, \
             confirmed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(r.secret.clone())
        .bind(r.enabled)
        .bind(r.last_step)
        .bind(r.created_at.0)
        .bind(r.confirmed_at.map(|t| t.0))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?;
        tx.commit().await?;
        Ok(())
    }

    async fn enable_totp(
        &self,
        org: OrgId,
        user: UserId,
        step: i64,
        recovery_hashes: &[String],
        now: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let done = sqlx::query(
            "UPDATE user_totp SET enabled = $1, last_step = $2, confirmed_at = $3 \
             WHERE org_id = $4 AND user_id = $5 AND enabled = $6",
        )
        .bind(true)
        .bind(step)
        .bind(now.0)
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(false)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for hash in recovery_hashes {
            sqlx::query(
                "INSERT INTO user_recovery_codes (org_id, user_id, code_hash, used_at) \
                 VALUES ($1, $2, $3, NULL)",
            )
            .bind(org.to_string())
            .bind(user.to_string())
            .bind(hash.clone())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_write)?;
        }
        crate::audit_sql::insert_audit(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_totp(&self, org: OrgId, user: UserId, audit: &AuditEntry) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        sqlx::query("DELETE FROM user_recovery_codes WHERE org_id = $1 AND user_id = $2")
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM user_totp WHERE org_id = $1 AND user_id = $2")
            .bind(org.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        crate::audit_sql::insert_audit(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn advance_totp_step(&self, org: OrgId, user: UserId, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE user_totp SET last_step = $1 WHERE org_id = $2 AND user_id = $3 \
             AND last_step < $1",
        )
        .bind(step)
        .bind(org.to_string())
        .bind(user.to_string())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_recovery_code(
        &self,
        org: OrgId,
        user: UserId,
        code_hash: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE user_recovery_codes SET used_at = $1 WHERE org_id = $2 AND user_id = $3 \
             AND code_hash = $4 AND used_at IS NULL",
        )
        .bind(now.0)
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(code_hash.to_owned())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn recovery_codes_left(&self, org: OrgId, user: UserId) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM user_recovery_codes WHERE org_id = $1 AND user_id = $2 \
             AND used_at IS NULL",
        )
        .bind(org.to_string())
        .bind(user.to_string())
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("n")?)
    }
}
