//! Organisations, users, sessions, refresh tokens, API keys and login
//! throttling in SQL: the [`crate::AccountStore`] of every [`SqlBackend`].

use async_trait::async_trait;
use rampart_core::{
    ApiKey, ApiKeyId, ApiKeyScope, CreatorState, OrgId, Organisation, SessionId, Timestamp, User,
    UserId,
};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};

use crate::shared_sql::{page_limit, parse_column};
use crate::sql_backend::{RowsAffected, SqlBackend};
use crate::{
    Credentials, LoginThrottle, NewRefreshToken, NewSession, NewUser, Result, RotateOutcome,
    StoreError, ThrottlePolicy, UserUpdate,
};

pub(crate) const USER_COLUMNS: &str =
    "u.id, u.org_id, u.email, u.display_name, u.role, u.platform_admin, u.disabled, u.created_at";

/// The same columns unqualified, for `RETURNING` (SQLite rejects `u.` there).
pub(crate) const USER_RETURNING: &str =
    "id, org_id, email, display_name, role, platform_admin, disabled, created_at";

/// An API key's columns, with its creator's disabled flag (a subquery, so
/// the list also serves `UPDATE … RETURNING`).
pub(crate) const API_KEY_COLUMNS: &str =
    "id, org_id, name, prefix, scopes, created_by, created_at, last_used_at, revoked_at, \
     creator_deleted_at, \
     (SELECT CASE WHEN u.disabled THEN 1 ELSE 0 END FROM users u \
     WHERE u.id = api_keys.created_by) AS creator_disabled";

pub(crate) fn parse_scopes(value: &str) -> Result<Vec<ApiKeyScope>, StoreError> {
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| parse_column::<ApiKeyScope>("api_keys.scopes", s))
        .collect()
}

pub(crate) fn join_scopes(scopes: &[ApiKeyScope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn user_from_row<R, DB>(row: &R) -> Result<User>
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
    Ok(User {
        id: parse_column("users.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("users.org_id", row.try_get::<&str, _>("org_id")?)?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: parse_column("users.role", row.try_get::<&str, _>("role")?)?,
        platform_admin: row.try_get("platform_admin")?,
        disabled: row.try_get("disabled")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn org_from_row<R, DB>(row: &R) -> Result<Organisation>
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
    Ok(Organisation {
        id: parse_column("organisations.id", row.try_get::<&str, _>("id")?)?,
        name: row.try_get("name")?,
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

fn api_key_from_row<R, DB>(row: &R) -> Result<ApiKey>
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
    let created_by: Option<&str> = row.try_get("created_by")?;
    Ok(ApiKey {
        id: parse_column("api_keys.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("api_keys.org_id", row.try_get::<&str, _>("org_id")?)?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        scopes: parse_scopes(row.try_get::<&str, _>("scopes")?)?,
        created_by: created_by
            .map(|s| parse_column("api_keys.created_by", s))
            .transpose()?,
        created_at: Timestamp(row.try_get("created_at")?),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(Timestamp),
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(Timestamp),
        creator_state: if row
            .try_get::<Option<i64>, _>("creator_deleted_at")?
            .is_some()
        {
            Some(CreatorState::Deleted)
        } else {
            match (
                created_by,
                row.try_get::<Option<i32>, _>("creator_disabled")?,
            ) {
                (None, _) => None,
                (Some(_), Some(1)) => Some(CreatorState::Disabled),
                (Some(_), _) => Some(CreatorState::Active),
            }
        },
    })
}

fn throttle_from_row<R, DB>(row: &R) -> Result<LoginThrottle>
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
    Ok(LoginThrottle {
        failures: row.try_get("failures")?,
        window_start: Timestamp(row.try_get("window_start")?),
        locked_until: row
            .try_get::<Option<i64>, _>("locked_until")?
            .map(Timestamp),
    })
}

const INSERT_USER: &str = "INSERT INTO users (id, org_id, email, display_name, role, \
     platform_admin, disabled, password_hash, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8, $8)";
#[async_trait]
impl<S, DB> crate::AccountStore for S
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
    async fn create_org_with_admin(&self, org: &Organisation, admin: &NewUser) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(org.id.to_string())
            .bind(&org.name)
            .bind(org.created_at.0)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_write)?;
        insert_user(&mut *tx, org.id, admin).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn count_orgs(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organisations")
            .fetch_one(self.pool())
            .await?)
    }

    async fn list_orgs(&self, after: Option<OrgId>, limit: u32) -> Result<Vec<Organisation>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at FROM organisations \
             WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
        )
        .bind(after.map(|id| id.to_string()))
        .bind(page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(org_from_row).collect()
    }

    async fn get_org(&self, org: OrgId) -> Result<Option<Organisation>> {
        let row = sqlx::query("SELECT id, name, created_at FROM organisations WHERE id = $1")
            .bind(org.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    async fn create_user(&self, org: OrgId, user: &NewUser) -> Result<()> {
        insert_user(self.pool(), org, user).await
    }

    async fn get_user(&self, org: OrgId, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.id = $2");
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn get_user_by_email(&self, org: OrgId, email: &str) -> Result<Option<User>> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.email = $2");
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(email)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self, org: OrgId, after: Option<UserId>, limit: u32) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 \
             AND ($2 IS NULL OR u.id > $2) ORDER BY u.id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(after.map(|id| id.to_string()))
            .bind(page_limit(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn update_user(
        &self,
        org: OrgId,
        id: UserId,
        update: &UserUpdate,
        now: Timestamp,
    ) -> Result<Option<User>> {
        let sql = format!(
            "UPDATE users SET display_name = COALESCE($3, display_name), \
             role = COALESCE($4, role), disabled = COALESCE($5, disabled), \
             password_hash = COALESCE($6, password_hash), updated_at = $7 \
             WHERE org_id = $1 AND id = $2 RETURNING {USER_RETURNING}"
        );
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(id.to_string())
            .bind(update.display_name.as_deref())
            .bind(update.role.map(rampart_core::Role::as_str))
            .bind(update.disabled)
            .bind(update.password_hash.as_deref())
            .bind(now.0)
            .fetch_optional(self.pool())
            .await
            .map_err(StoreError::from_write)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn delete_user(&self, org: OrgId, id: UserId, now: Timestamp) -> Result<bool> {
        // The user's keys stop working with the user, in one step.
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE api_keys SET creator_deleted_at = $3 WHERE org_id = $1 AND created_by = $2",
        )
        .bind(org.to_string())
        .bind(id.to_string())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM users WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn count_active_admins(&self, org: OrgId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE org_id = $1 AND role = 'admin' AND NOT disabled",
        )
        .bind(org.to_string())
        .fetch_one(self.pool())
        .await?)
    }

    async fn find_credentials(&self, email: &str) -> Result<Option<Credentials>> {
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1");
        let row = sqlx::query(&sql)
            .bind(email)
            .fetch_optional(self.pool())
            .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(Credentials {
                user: user_from_row(&row)?,
                password_hash: row.try_get("password_hash")?,
            })),
        }
    }

    async fn create_session(&self, session: &NewSession, token: &NewRefreshToken) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, org_id, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session.id.to_string())
        .bind(session.org_id.to_string())
        .bind(session.user_id.to_string())
        .bind(session.created_at.0)
        .bind(session.expires_at.0)
        .execute(&mut *tx)
        .await?;
        insert_refresh_token(&mut *tx, session.id, token).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: &NewRefreshToken,
        now: Timestamp,
    ) -> Result<RotateOutcome> {
        let mut tx = self.pool().begin().await?;
        let outcome = rotate_in(&mut tx, presented_hash, next, now).await?;
        // Every path ends the transaction explicitly: a dropped one
        // would hold its row locks until the connection is reused.
        match outcome {
            RotateOutcome::Invalid => tx.rollback().await?,
            _ => tx.commit().await?,
        }
        Ok(outcome)
    }

    async fn revoke_session(&self, org: OrgId, session: SessionId, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $3 \
             WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(org.to_string())
        .bind(session.to_string())
        .bind(now.0)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_user_sessions(&self, org: OrgId, user: UserId, now: Timestamp) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $3 \
             WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL",
        )
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(now.0)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    async fn session_user(
        &self,
        org: OrgId,
        session: SessionId,
        user: UserId,
        now: Timestamp,
    ) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.org_id = $1 AND s.id = $2 AND s.user_id = $3 AND u.org_id = $1 \
             AND s.revoked_at IS NULL AND s.expires_at > $4 AND NOT u.disabled"
        );
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(session.to_string())
            .bind(user.to_string())
            .bind(now.0)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn create_api_key(&self, org: OrgId, key: &ApiKey, key_hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, org_id, name, prefix, key_hash, scopes, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(key.id.to_string())
        .bind(org.to_string())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(key_hash)
        .bind(join_scopes(&key.scopes))
        .bind(key.created_by.map(|u| u.to_string()))
        .bind(key.created_at.0)
        .execute(self.pool())
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    async fn list_api_keys(
        &self,
        org: OrgId,
        after: Option<ApiKeyId>,
        limit: u32,
    ) -> Result<Vec<ApiKey>> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE org_id = $1 \
             AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(after.map(|id| id.to_string()))
            .bind(page_limit(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(api_key_from_row).collect()
    }

    async fn get_api_key(&self, org: OrgId, id: ApiKeyId) -> Result<Option<ApiKey>> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    async fn revoke_api_key(
        &self,
        org: OrgId,
        id: ApiKeyId,
        now: Timestamp,
    ) -> Result<Option<ApiKey>> {
        let sql = format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) \
             WHERE org_id = $1 AND id = $2 RETURNING {API_KEY_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(id.to_string())
            .bind(now.0)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1");
        let row = sqlx::query(&sql)
            .bind(key_hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    async fn touch_api_key(
        &self,
        org: OrgId,
        id: ApiKeyId,
        now: Timestamp,
        granularity_secs: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $3 WHERE org_id = $1 AND id = $2 \
             AND (last_used_at IS NULL OR last_used_at <= $4)",
        )
        .bind(org.to_string())
        .bind(id.to_string())
        .bind(now.0)
        .bind(now.plus_secs(-granularity_secs).0)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn login_throttle(&self, key: &str) -> Result<Option<LoginThrottle>> {
        let row = sqlx::query(
            "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(throttle_from_row).transpose()
    }

    async fn record_login_failure(
        &self,
        key: &str,
        now: Timestamp,
        policy: &ThrottlePolicy,
    ) -> Result<LoginThrottle> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(
            "INSERT INTO login_throttle (key, failures, window_start) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 \
                               ELSE login_throttle.failures + 1 END, \
               window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 \
                                   ELSE login_throttle.window_start END \
             RETURNING failures, window_start, locked_until",
        )
        .bind(key)
        .bind(now.0)
        .bind(now.plus_secs(-policy.window_secs).0)
        .fetch_one(&mut *tx)
        .await?;
        let mut state = throttle_from_row(&row)?;
        if state.failures >= policy.lock_after {
            let until = now.plus_secs(policy.lock_secs);
            sqlx::query("UPDATE login_throttle SET locked_until = $2 WHERE key = $1")
                .bind(key)
                .bind(until.0)
                .execute(&mut *tx)
                .await?;
            state.locked_until = Some(until);
        }
        tx.commit().await?;
        Ok(state)
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

async fn insert_user<'e, E, DB>(executor: E, org: OrgId, user: &NewUser) -> Result<()>
where
    E: sqlx::Executor<'e, Database = DB>,
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
    sqlx::query(INSERT_USER)
        .bind(user.id.to_string())
        .bind(org.to_string())
        .bind(&user.email)
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(user.platform_admin)
        .bind(&user.password_hash)
        .bind(user.created_at.0)
        .execute(executor)
        .await
        .map_err(StoreError::from_write)?;
    Ok(())
}

async fn insert_refresh_token<'e, E, DB>(
    executor: E,
    session: SessionId,
    token: &NewRefreshToken,
) -> Result<()>
where
    E: sqlx::Executor<'e, Database = DB>,
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
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&token.token_hash)
    .bind(session.to_string())
    .bind(token.created_at.0)
    .bind(token.expires_at.0)
    .execute(executor)
    .await?;
    Ok(())
}

/// The body of [`crate::AccountStore::rotate_refresh_token`], inside its transaction.
async fn rotate_in<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    presented_hash: &str,
    next: &NewRefreshToken,
    now: Timestamp,
) -> Result<RotateOutcome>
where
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
    // Claim the token first: the write lock comes before any read,
    // and of two concurrent presentations exactly one wins.
    let claimed = sqlx::query(
        "UPDATE refresh_tokens SET used_at = $2 \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(presented_hash)
    .bind(now.0)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    let found = sqlx::query(
        "SELECT t.session_id, t.used_at, s.org_id, s.user_id, s.expires_at, s.revoked_at \
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
         WHERE t.token_hash = $1",
    )
    .bind(presented_hash)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(found) = found else {
        return Ok(RotateOutcome::Invalid);
    };
    let session: SessionId = parse_column(
        "refresh_tokens.session_id",
        found.try_get::<&str, _>("session_id")?,
    )?;
    let org: OrgId = parse_column("sessions.org_id", found.try_get::<&str, _>("org_id")?)?;
    let user_id: UserId = parse_column("sessions.user_id", found.try_get::<&str, _>("user_id")?)?;
    let session_revoked = found.try_get::<Option<i64>, _>("revoked_at")?.is_some();
    let session_expired = found.try_get::<i64, _>("expires_at")? <= now.0;
    let used_before = found.try_get::<Option<i64>, _>("used_at")?.is_some();

    if !claimed {
        if !used_before {
            return Ok(RotateOutcome::Invalid); // expired
        }
        sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(session.to_string())
            .bind(now.0)
            .execute(&mut **tx)
            .await?;
        return Ok(RotateOutcome::Reused { session });
    }
    if session_revoked || session_expired {
        return Ok(RotateOutcome::Invalid);
    }
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.id = $2");
    let user_row = sqlx::query(&sql)
        .bind(org.to_string())
        .bind(user_id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    let user = match user_row.as_ref().map(user_from_row).transpose()? {
        Some(user) if !user.disabled => user,
        _ => return Ok(RotateOutcome::Invalid),
    };
    insert_refresh_token(&mut **tx, session, next).await?;
    Ok(RotateOutcome::Rotated { session, user })
}
