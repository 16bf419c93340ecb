//! The durable job queue: the [`JobStore`] interface, one SQL text for both
//! backends. Workers claim ready jobs under a lease (PostgreSQL skips rows
//! other workers hold; SQLite's single writer claims one batch at a time),
//! finish them or record their failure, and take back jobs whose lease ran
//! out (their worker died). Recurring schedules advance by compare and set,
//! so each run is enqueued once however many nodes race for it.

use async_trait::async_trait;
use rampart_core::{Job, JobId, JobState, NewJob, OrgId, Timestamp};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};

use crate::sql_backend::{Placeholders, RowsAffected, SqlBackend};
use crate::Result;

/// Whose jobs a call may see: an organisation's, or the platform's own
/// (retention, digests: jobs of no organisation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobScope {
    Org(OrgId),
    Platform,
}

impl JobScope {
    pub fn of(org: Option<OrgId>) -> JobScope {
        org.map_or(JobScope::Platform, JobScope::Org)
    }

    /// `org_id = <next parameter>` or `org_id IS NULL`, and the value to bind.
    fn condition(self, params: &mut Placeholders) -> (String, Option<String>) {
        match self {
            JobScope::Org(org) => (format!("org_id = {}", params.next()), Some(org.to_string())),
            JobScope::Platform => ("org_id IS NULL".into(), None),
        }
    }
}

/// What a listing asks for: newest first, after the cursor.
#[derive(Clone, Debug, Default)]
pub struct JobQuery {
    pub states: Vec<JobState>,
    pub queue: Option<String>,
    /// Only jobs older than this one (the last of the page before).
    pub before: Option<JobId>,
    pub limit: u32,
}

/// How an enqueue went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    Added(JobId),
    /// A pending job already holds the unique key.
    Duplicate,
}

/// How a change of one job went.
#[derive(Clone, Debug, PartialEq)]
pub enum JobChange {
    Done(Box<Job>),
    Missing,
    /// The job is in a state the change does not apply to.
    Refused(JobState),
}

/// Jobs of one queue and state, for the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueDepth {
    pub queue: String,
    pub state: JobState,
    pub count: i64,
    /// The earliest `run_at` among them (for ready jobs: how long the
    /// oldest has waited).
    pub oldest_run_at: Option<Timestamp>,
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Adds jobs in one transaction; a job whose unique key a pending job
    /// holds is left out.
    async fn enqueue_jobs(&self, jobs: &[NewJob], now: Timestamp) -> Result<Vec<Enqueued>>;
    /// Claims up to `limit` jobs of `queue` ready at `now` (highest priority,
    /// then earliest `run_at`, first) for `worker`, leased until `until`,
    /// counting an attempt each.
    async fn claim_jobs(
        &self,
        queue: &str,
        worker: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Job>>;
    /// Extends the leases `worker` holds on these jobs; how many it holds.
    async fn extend_leases(&self, worker: &str, ids: &[JobId], until: Timestamp) -> Result<u64>;
    /// Marks jobs `worker` still holds as completed; how many were.
    async fn complete_jobs(&self, worker: &str, ids: &[JobId], now: Timestamp) -> Result<u64>;
    /// Records a failed attempt of a job `worker` holds: retryable at
    /// `retry_at`, or dead when it was the last attempt (or `permanent`).
    /// `None` when the worker no longer held it (cancelled, or its lease
    /// ran out and another took it).
    async fn fail_job(
        &self,
        worker: &str,
        id: JobId,
        error: &str,
        retry_at: Timestamp,
        permanent: bool,
        now: Timestamp,
    ) -> Result<Option<JobState>>;
    /// Takes back running jobs whose lease ended before `now`: retryable
    /// at once, or dead when that was their last attempt. Returns how many.
    async fn rescue_expired_jobs(&self, now: Timestamp) -> Result<u64>;

    async fn get_job(&self, scope: JobScope, id: JobId) -> Result<Option<Job>>;
    async fn list_jobs(&self, scope: JobScope, query: &JobQuery) -> Result<Vec<Job>>;
    /// Moves one job as `transition` says, if its state allows.
    async fn transition_job(
        &self,
        scope: JobScope,
        id: JobId,
        transition: JobTransition,
        now: Timestamp,
    ) -> Result<JobChange>;
    /// Makes a finished, dead or waiting job available again at `now`
    /// with its attempts reset.
    async fn retry_job(&self, scope: JobScope, id: JobId, now: Timestamp) -> Result<JobChange> {
        self.transition_job(scope, id, JobTransition::Retry, now)
            .await
    }
    /// Cancels a job that has not finished.
    async fn cancel_job(&self, scope: JobScope, id: JobId, now: Timestamp) -> Result<JobChange> {
        self.transition_job(scope, id, JobTransition::Cancel, now)
            .await
    }
    /// Deletes jobs in these (finished) states that finished before
    /// `before`, of every scope; how many.
    async fn purge_jobs(&self, states: &[JobState], before: Timestamp) -> Result<u64>;
    /// Jobs per queue and state, of every scope.
    async fn queue_depths(&self) -> Result<Vec<QueueDepth>>;

    /// Records a schedule; a changed cron expression takes `next_run_at`.
    async fn ensure_schedule(
        &self,
        name: &str,
        cron: &str,
        next_run_at: Timestamp,
        now: Timestamp,
    ) -> Result<()>;
    /// Schedules due at `now`: `(name, due time)`.
    async fn due_schedules(&self, now: Timestamp) -> Result<Vec<(String, Timestamp)>>;
    /// Moves schedule `name` from `due` to `next` and enqueues `job` with
    /// it, in one transaction, if no other node did first. True when this
    /// call did.
    async fn advance_schedule(
        &self,
        name: &str,
        due: Timestamp,
        next: Timestamp,
        job: &NewJob,
        now: Timestamp,
    ) -> Result<bool>;
}

const JOB_COLUMNS: &str = "id, org_id, queue, kind, priority, run_at, payload, attempts, \
     max_attempts, last_error, state, unique_key, locked_by, locked_until, created_at, \
     updated_at, finished_at";
const JOB_INSERT_COLUMNS: &str = "id, org_id, queue, kind, priority, run_at, payload, attempts, \
     max_attempts, state, unique_key, created_at, updated_at";
const JOB_INSERT_WIDTH: usize = 13;
/// What an operator does to one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobTransition {
    /// Available again now, attempts reset: from a finished, dead or
    /// waiting-to-retry state.
    Retry,
    /// Cancelled: from any state that has not finished.
    Cancel,
}

impl JobTransition {
    /// The `SET` list, given two placeholders bound to the time of change.
    fn set_clause(self, now: &str, also_now: &str) -> String {
        match self {
            JobTransition::Retry => format!(
                "state = 'available', attempts = 0, run_at = {now}, updated_at = {also_now}, \
                 finished_at = NULL"
            ),
            JobTransition::Cancel => format!(
                "state = 'cancelled', finished_at = {now}, updated_at = {also_now}, \
                 locked_by = NULL, locked_until = NULL"
            ),
        }
    }

    fn allowed_states(self) -> &'static str {
        match self {
            JobTransition::Retry => "('completed', 'dead', 'cancelled', 'retryable')",
            JobTransition::Cancel => "('available', 'running', 'retryable')",
        }
    }
}

fn job_from_row<R, DB>(row: &R) -> Result<Job>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'r> Decode<'r, DB>,
{
    use crate::shared_sql::parse_column;
    let state = row.try_get::<&str, _>("state")?;
    Ok(Job {
        id: parse_column("jobs.id", row.try_get::<&str, _>("id")?)?,
        org_id: row
            .try_get::<Option<&str>, _>("org_id")?
            .map(|o| parse_column("jobs.org_id", o))
            .transpose()?,
        queue: row.try_get("queue")?,
        kind: row.try_get("kind")?,
        priority: row.try_get("priority")?,
        run_at: Timestamp(row.try_get("run_at")?),
        payload: serde_json::from_str(row.try_get::<&str, _>("payload")?).map_err(|e| {
            crate::StoreError::Corrupt {
                column: "jobs.payload",
                detail: e.to_string(),
            }
        })?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        last_error: row.try_get("last_error")?,
        state: JobState::parse(state).ok_or_else(|| crate::StoreError::Corrupt {
            column: "jobs.state",
            detail: state.to_owned(),
        })?,
        unique_key: row.try_get("unique_key")?,
        locked_by: row.try_get("locked_by")?,
        locked_until: row
            .try_get::<Option<i64>, _>("locked_until")?
            .map(Timestamp),
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(Timestamp),
    })
}

/// Most jobs one insert statement carries (13 parameters each).
const INSERT_CHUNK: usize = 1000;

/// Inserts jobs on `conn` (a transaction of a change they are about),
/// leaving out those whose unique key a pending job holds: many rows per
/// statement, the inserted ones told apart by the ids returned.
pub(crate) async fn insert_jobs<DB>(
    conn: &mut DB::Connection,
    jobs: &[NewJob],
    now: Timestamp,
    numbered: bool,
) -> Result<Vec<Enqueued>>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    &'static str: ColumnIndex<DB::Row>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB> + Decode<'s, DB>,
    Option<String>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB>,
{
    let ids: Vec<JobId> = jobs.iter().map(|_| JobId::new()).collect();
    let mut inserted = std::collections::HashSet::with_capacity(jobs.len());
    for (chunk, chunk_ids) in jobs.chunks(INSERT_CHUNK).zip(ids.chunks(INSERT_CHUNK)) {
        let mut params = Placeholders::new(numbered);
        let sql = format!(
            "INSERT INTO jobs ({JOB_INSERT_COLUMNS}) VALUES {} ON CONFLICT DO NOTHING RETURNING id",
            params.rows(chunk.len(), JOB_INSERT_WIDTH)
        );
        let mut q = sqlx::query(&sql);
        for (job, id) in chunk.iter().zip(chunk_ids) {
            q = q
                .bind(id.to_string())
                .bind(job.org_id.map(|o| o.to_string()))
                .bind(job.queue.clone())
                .bind(job.kind.clone())
                .bind(job.priority)
                .bind(job.run_at.0)
                .bind(job.payload.to_string())
                .bind(0i32)
                .bind(job.max_attempts)
                .bind(JobState::Available.as_str())
                .bind(job.unique_key.clone())
                .bind(now.0)
                .bind(now.0);
        }
        let rows = q
            .fetch_all(&mut *conn)
            .await
            .map_err(crate::StoreError::from_write)?;
        for row in rows {
            inserted.insert(row.try_get::<String, _>("id")?);
        }
    }
    Ok(ids
        .iter()
        .map(|id| {
            if inserted.contains(&id.to_string()) {
                Enqueued::Added(*id)
            } else {
                Enqueued::Duplicate
            }
        })
        .collect())
}

/// `, ` joined placeholders for a list of ids, and the ids as text.
fn id_list(params: &mut Placeholders, ids: &[JobId]) -> (String, Vec<String>) {
    let marks: Vec<String> = ids.iter().map(|_| params.next()).collect();
    (marks.join(", "), ids.iter().map(JobId::to_string).collect())
}

/// Most ids one statement lists (SQLite allows 32,766 parameters).
const ID_CHUNK: usize = 500;

#[async_trait::async_trait]
impl<S, DB> JobStore for S
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
    async fn enqueue_jobs(&self, jobs: &[NewJob], now: Timestamp) -> Result<Vec<Enqueued>> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let outcomes = insert_jobs::<DB>(&mut tx, jobs, now, S::NUMBERED_PARAMETERS).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn claim_jobs(
        &self,
        queue: &str,
        worker: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Job>> {
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let (worker_p, until_p, now_p) = (p.next(), p.next(), p.next());
        let (queue_p, ready_p, limit_p) = (p.next(), p.next(), p.next());
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = {worker_p}, \
             locked_until = {until_p}, updated_at = {now_p} \
             WHERE id IN (SELECT id FROM jobs WHERE state IN ('available', 'retryable') \
             AND queue = {queue_p} AND run_at <= {ready_p} \
             ORDER BY priority DESC, run_at, id LIMIT {limit_p}{}) \
             RETURNING {JOB_COLUMNS}",
            S::SKIP_LOCKED
        );
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(until.0)
            .bind(now.0)
            .bind(queue)
            .bind(now.0)
            .bind(i64::from(limit.max(1)))
            .fetch_all(self.pool())
            .await?;
        let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        jobs.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.run_at.cmp(&b.run_at))
                .then(a.id.cmp(&b.id))
        });
        Ok(jobs)
    }

    async fn extend_leases(&self, worker: &str, ids: &[JobId], until: Timestamp) -> Result<u64> {
        let mut held = 0;
        for chunk in ids.chunks(ID_CHUNK) {
            let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
            let (until_p, worker_p) = (p.next(), p.next());
            let (marks, texts) = id_list(&mut p, chunk);
            let sql = format!(
                "UPDATE jobs SET locked_until = {until_p} WHERE state = 'running' \
                 AND locked_by = {worker_p} AND id IN ({marks})"
            );
            let mut q = sqlx::query(&sql).bind(until.0).bind(worker);
            for id in texts {
                q = q.bind(id);
            }
            held += q.execute(self.pool()).await?.rows_affected();
        }
        Ok(held)
    }

    async fn complete_jobs(&self, worker: &str, ids: &[JobId], now: Timestamp) -> Result<u64> {
        let mut done = 0;
        for chunk in ids.chunks(ID_CHUNK) {
            let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
            let (now_p, now2_p, worker_p) = (p.next(), p.next(), p.next());
            let (marks, texts) = id_list(&mut p, chunk);
            let sql = format!(
                "UPDATE jobs SET state = 'completed', finished_at = {now_p}, updated_at = {now2_p}, \
                 locked_by = NULL, locked_until = NULL \
                 WHERE state = 'running' AND locked_by = {worker_p} AND id IN ({marks})"
            );
            let mut q = sqlx::query(&sql).bind(now.0).bind(now.0).bind(worker);
            for id in texts {
                q = q.bind(id);
            }
            done += q.execute(self.pool()).await?.rows_affected();
        }
        Ok(done)
    }

    async fn fail_job(
        &self,
        worker: &str,
        id: JobId,
        error: &str,
        retry_at: Timestamp,
        permanent: bool,
        now: Timestamp,
    ) -> Result<Option<JobState>> {
        let last = if permanent {
            "1 = 1"
        } else {
            "attempts >= max_attempts"
        };
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let (now_p, error_p, retry_p, updated_p) = (p.next(), p.next(), p.next(), p.next());
        let (id_p, worker_p) = (p.next(), p.next());
        let sql = format!(
            "UPDATE jobs SET \
             state = CASE WHEN {last} THEN 'dead' ELSE 'retryable' END, \
             finished_at = CASE WHEN {last} THEN {now_p} ELSE NULL END, \
             last_error = {error_p}, run_at = {retry_p}, updated_at = {updated_p}, \
             locked_by = NULL, locked_until = NULL \
             WHERE id = {id_p} AND state = 'running' AND locked_by = {worker_p} \
             RETURNING state"
        );
        let row = sqlx::query(&sql)
            .bind(now.0)
            .bind(rampart_core::job::stored_error(error))
            .bind(retry_at.0)
            .bind(now.0)
            .bind(id.to_string())
            .bind(worker)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| {
            let state = row.try_get::<&str, _>("state")?;
            JobState::parse(state).ok_or_else(|| crate::StoreError::Corrupt {
                column: "jobs.state",
                detail: state.to_owned(),
            })
        })
        .transpose()
    }

    async fn rescue_expired_jobs(&self, now: Timestamp) -> Result<u64> {
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let (finished_p, run_p, updated_p, expired_p) = (p.next(), p.next(), p.next(), p.next());
        let sql = format!(
            "UPDATE jobs SET \
             state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'retryable' END, \
             finished_at = CASE WHEN attempts >= max_attempts THEN {finished_p} ELSE NULL END, \
             last_error = 'the worker stopped before the job finished (its lease ran out)', \
             run_at = {run_p}, updated_at = {updated_p}, locked_by = NULL, locked_until = NULL \
             WHERE state = 'running' AND locked_until < {expired_p}"
        );
        Ok(sqlx::query(&sql)
            .bind(now.0)
            .bind(now.0)
            .bind(now.0)
            .bind(now.0)
            .execute(self.pool())
            .await?
            .rows_affected())
    }

    async fn get_job(&self, scope: JobScope, id: JobId) -> Result<Option<Job>> {
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let id_p = p.next();
        let (condition, org) = scope.condition(&mut p);
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = {id_p} AND {condition}");
        let mut q = sqlx::query(&sql).bind(id.to_string());
        if let Some(org) = org {
            q = q.bind(org);
        }
        q.fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(job_from_row)
            .transpose()
    }

    async fn list_jobs(&self, scope: JobScope, query: &JobQuery) -> Result<Vec<Job>> {
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let (condition, org) = scope.condition(&mut p);
        let mut sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE {condition}");
        let mut texts: Vec<String> = org.into_iter().collect();
        if !query.states.is_empty() {
            let marks: Vec<String> = query.states.iter().map(|_| p.next()).collect();
            sql.push_str(&format!(" AND state IN ({})", marks.join(", ")));
            texts.extend(query.states.iter().map(|s| s.as_str().to_owned()));
        }
        if let Some(queue) = &query.queue {
            sql.push_str(&format!(" AND queue = {}", p.next()));
            texts.push(queue.clone());
        }
        if let Some(before) = query.before {
            sql.push_str(&format!(" AND id < {}", p.next()));
            texts.push(before.to_string());
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", p.next()));
        let mut q = sqlx::query(&sql);
        for text in texts {
            q = q.bind(text);
        }
        let rows = q
            .bind(crate::shared_sql::page_limit(query.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    async fn transition_job(
        &self,
        scope: JobScope,
        id: JobId,
        transition: JobTransition,
        now: Timestamp,
    ) -> Result<JobChange> {
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let set = transition.set_clause(&p.next(), &p.next());
        let id_p = p.next();
        let (condition, org) = scope.condition(&mut p);
        let sql = format!(
            "UPDATE jobs SET {set} WHERE id = {id_p} AND {condition} AND state IN {} \
             RETURNING {JOB_COLUMNS}",
            transition.allowed_states()
        );
        let mut q = sqlx::query(&sql)
            .bind(now.0)
            .bind(now.0)
            .bind(id.to_string());
        if let Some(org) = org {
            q = q.bind(org);
        }
        // A retried job may collide with a pending one's unique key.
        let row = q
            .fetch_optional(self.pool())
            .await
            .map_err(crate::StoreError::from_write)?;
        match row {
            Some(row) => Ok(JobChange::Done(Box::new(job_from_row(&row)?))),
            None => Ok(match self.get_job(scope, id).await? {
                Some(job) => JobChange::Refused(job.state),
                None => JobChange::Missing,
            }),
        }
    }

    async fn purge_jobs(&self, states: &[JobState], before: Timestamp) -> Result<u64> {
        if states.is_empty() {
            return Ok(0);
        }
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let marks: Vec<String> = states.iter().map(|_| p.next()).collect();
        let sql = format!(
            "DELETE FROM jobs WHERE state IN ({}) AND finished_at < {}",
            marks.join(", "),
            p.next()
        );
        let mut q = sqlx::query(&sql);
        for state in states {
            q = q.bind(state.as_str());
        }
        Ok(q.bind(before.0).execute(self.pool()).await?.rows_affected())
    }

    async fn queue_depths(&self) -> Result<Vec<QueueDepth>> {
        let rows = sqlx::query(
            "SELECT queue, state, COUNT(*) AS n, MIN(run_at) AS oldest FROM jobs \
             GROUP BY queue, state ORDER BY queue, state",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let state = row.try_get::<&str, _>("state")?;
                Ok(QueueDepth {
                    queue: row.try_get("queue")?,
                    state: JobState::parse(state).ok_or_else(|| crate::StoreError::Corrupt {
                        column: "jobs.state",
                        detail: state.to_owned(),
                    })?,
                    count: row.try_get("n")?,
                    oldest_run_at: row.try_get::<Option<i64>, _>("oldest")?.map(Timestamp),
                })
            })
            .collect()
    }

    async fn ensure_schedule(
        &self,
        name: &str,
        cron: &str,
        next_run_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO job_schedules (name, cron, next_run_at, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET \
             next_run_at = CASE WHEN job_schedules.cron = excluded.cron \
             THEN job_schedules.next_run_at ELSE excluded.next_run_at END, \
             cron = excluded.cron, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(cron)
        .bind(next_run_at.0)
        .bind(now.0)
        .execute(self.pool())
        .await
        .map_err(crate::StoreError::from_write)?;
        Ok(())
    }

    async fn due_schedules(&self, now: Timestamp) -> Result<Vec<(String, Timestamp)>> {
        let rows = sqlx::query(
            "SELECT name, next_run_at FROM job_schedules WHERE next_run_at <= $1 ORDER BY name",
        )
        .bind(now.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("name")?, Timestamp(row.try_get("next_run_at")?))))
            .collect()
    }

    async fn advance_schedule(
        &self,
        name: &str,
        due: Timestamp,
        next: Timestamp,
        job: &NewJob,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let moved = sqlx::query(
            "UPDATE job_schedules SET next_run_at = $1, updated_at = $2 \
             WHERE name = $3 AND next_run_at = $4",
        )
        .bind(next.0)
        .bind(now.0)
        .bind(name)
        .bind(due.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_jobs::<DB>(
            &mut tx,
            std::slice::from_ref(job),
            now,
            S::NUMBERED_PARAMETERS,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
