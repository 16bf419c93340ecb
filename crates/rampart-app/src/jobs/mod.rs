//! Background work: the durable job queue's service (list, inspect, retry,
//! cancel, enqueue), the node's workers, recurring schedules, and the jobs
//! Rampart itself runs (event retention, clean-up of finished jobs).

pub mod handler;
pub mod metrics;
pub mod schedule;
pub mod worker;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use rampart_core::{Clock, Error, Job, JobId, JobState, NewJob, Timestamp};
use rampart_store::{Enqueued, JobChange, JobQuery, JobScope, Store};
use serde::Deserialize;

use crate::api::jobs::JobView;
use crate::audit::{self, Audit};
use crate::paging::{Page, PageParams};
use crate::principal::Principal;
use handler::{Handlers, JobFailure, JobHandler, Noop};
use schedule::{CronExpr, Schedule};

pub use worker::WorkerPool;

/// Queue of Rampart's own upkeep jobs.
pub const MAINTENANCE_QUEUE: &str = "maintenance";
const DAY_MS: i64 = 86_400_000;

/// `[jobs]`: the workers of `rampart serve` and `rampart worker`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// Whether `rampart serve` runs workers too (`rampart worker` always
    /// does): turn off on nodes that should only answer requests.
    pub workers: bool,
    /// Jobs run at once, per queue this node works.
    pub queues: BTreeMap<String, usize>,
    /// How long a claimed job stays with its worker without a heartbeat.
    pub lease_secs: u64,
    /// How often an idle queue looks for ready jobs.
    pub poll_ms: u64,
    /// Longest one attempt may run.
    pub timeout_secs: u64,
    /// Backoff after a failed attempt: up to base · 2^(attempt-1), capped.
    pub backoff_base_secs: u64,
    pub backoff_cap_secs: u64,
    /// Completed and cancelled jobs are kept this long, dead ones longer.
    pub keep_finished_days: i64,
    pub keep_dead_days: i64,
    /// When event retention runs (cron, UTC).
    pub retention_cron: String,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: true,
            queues: BTreeMap::from([
                ("default".to_owned(), 4),
                (MAINTENANCE_QUEUE.to_owned(), 1),
                (rampart_core::notification::QUEUE.to_owned(), 8),
                (rampart_core::scan::QUEUE.to_owned(), 2),
                (rampart_core::phishing::QUEUE.to_owned(), 2),
            ]),
            lease_secs: 60,
            poll_ms: 200,
            timeout_secs: 300,
            backoff_base_secs: 30,
            backoff_cap_secs: 6 * 3600,
            keep_finished_days: 7,
            keep_dead_days: 30,
            retention_cron: "17 * * * *".into(),
        }
    }
}

impl JobsConfig {
    /// Checks what serde cannot: queue sizes, durations, the cron text.
    pub fn validate(&self) -> Result<(), String> {
        if self.queues.is_empty() || self.queues.values().any(|&n| n == 0 || n > 10_000) {
            return Err("jobs.queues: each queue runs 1 to 10000 jobs at once".into());
        }
        if self.lease_secs == 0 || self.poll_ms == 0 || self.timeout_secs == 0 {
            return Err("jobs: lease_secs, poll_ms and timeout_secs must be positive".into());
        }
        if self.backoff_cap_secs < self.backoff_base_secs {
            return Err("jobs: backoff_cap_secs must be at least backoff_base_secs".into());
        }
        CronExpr::parse(&self.retention_cron)
            .map(|_| ())
            .map_err(|e| format!("jobs.retention_cron: {}", e.detail))
    }
}

/// The job service of the API and the CLI.
#[derive(Clone)]
pub struct Jobs {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audit: Audit,
}

/// What `GET /jobs` filters by.
#[derive(Debug, Default)]
pub struct JobFilter {
    pub states: Vec<JobState>,
    pub queue: Option<String>,
    /// The platform's own jobs (platform admins) instead of the caller's
    /// organisation's.
    pub platform: bool,
}

impl Jobs {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, audit: Audit) -> Self {
        Self {
            store,
            clock,
            audit,
        }
    }

    /// The scope a caller may see: admins their organisation's jobs,
    /// platform admins also the platform's.
    fn scope(principal: &Principal, platform: bool) -> Result<JobScope, Error> {
        principal.require(rampart_core::Permission::Admin)?;
        if platform {
            principal.require_platform_admin()?;
            Ok(JobScope::Platform)
        } else {
            Ok(JobScope::Org(principal.org_id))
        }
    }

    pub async fn list(
        &self,
        principal: &Principal,
        filter: &JobFilter,
        page: &PageParams,
    ) -> Result<Page<JobView>, Error> {
        let scope = Self::scope(principal, filter.platform)?;
        let limit = page.limit()?;
        let query = JobQuery {
            states: filter.states.clone(),
            queue: filter.queue.clone(),
            before: page.cursor::<JobId>()?,
            limit,
        };
        let jobs = self.store.list_jobs(scope, &query).await?;
        Ok(Page::new(
            jobs.into_iter().map(JobView::from).collect(),
            limit,
            |j| j.id.to_string(),
        ))
    }

    pub async fn get(
        &self,
        principal: &Principal,
        id: JobId,
        platform: bool,
    ) -> Result<JobView, Error> {
        let scope = Self::scope(principal, platform)?;
        self.store
            .get_job(scope, id)
            .await?
            .map(JobView::from)
            .ok_or_else(|| Error::not_found("job"))
    }

    /// Makes a dead, cancelled, completed or waiting job run again now.
    pub async fn retry(
        &self,
        principal: &Principal,
        id: JobId,
        platform: bool,
    ) -> Result<JobView, Error> {
        let scope = Self::scope(principal, platform)?;
        let change = self.store.retry_job(scope, id, self.clock.now()).await;
        let job = match change {
            Err(rampart_store::StoreError::Conflict { .. }) => {
                return Err(Error::conflict(
                    "job_pending",
                    "another job with the same unique key is pending",
                ))
            }
            other => changed(other?, "retried")?,
        };
        self.record(principal, "job.retry", &job).await?;
        Ok(JobView::from(job))
    }

    pub async fn cancel(
        &self,
        principal: &Principal,
        id: JobId,
        platform: bool,
    ) -> Result<JobView, Error> {
        let scope = Self::scope(principal, platform)?;
        let job = changed(
            self.store.cancel_job(scope, id, self.clock.now()).await?,
            "cancelled",
        )?;
        self.record(principal, "job.cancel", &job).await?;
        Ok(JobView::from(job))
    }

    async fn record(&self, principal: &Principal, action: &str, job: &Job) -> Result<(), Error> {
        self.audit
            .record(
                principal,
                action,
                ("job", job.id.to_string()),
                None,
                audit::snapshot(&serde_json::json!({
                    "queue": job.queue, "kind": job.kind, "state": job.state.as_str()
                })),
            )
            .await
    }

    /// Enqueues jobs (each checked first); a job whose unique key a pending
    /// job holds is left out.
    pub async fn enqueue(&self, jobs: &[NewJob]) -> Result<Vec<Enqueued>, Error> {
        for (n, job) in jobs.iter().enumerate() {
            if let Some((field, reason)) = job.problem() {
                return Err(Error::invalid_field(&format!("jobs[{n}].{field}"), reason));
            }
        }
        Ok(self.store.enqueue_jobs(jobs, self.clock.now()).await?)
    }

    /// Deletes finished jobs of these states that finished before `before`.
    pub async fn purge(&self, states: &[JobState], before: Timestamp) -> Result<u64, Error> {
        if let Some(state) = states.iter().find(|s| s.is_pending()) {
            return Err(Error::invalid_field(
                "state",
                format!(
                    "{} jobs are not finished; cancel them first",
                    state.as_str()
                ),
            ));
        }
        Ok(self.store.purge_jobs(states, before).await?)
    }
}

fn changed(change: JobChange, verb: &str) -> Result<Job, Error> {
    match change {
        JobChange::Done(job) => Ok(*job),
        JobChange::Missing => Err(Error::not_found("job")),
        JobChange::Refused(state) => Err(Error::conflict(
            "invalid_job_state",
            format!("a {} job cannot be {verb}", state.as_str()),
        )
        .with_field("state")),
    }
}

/// The jobs Rampart runs on every node with workers, and their schedules.
pub fn builtin(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: &JobsConfig,
    default_retention_days: i64,
) -> Result<(Handlers, Vec<Schedule>), Error> {
    let handlers = Handlers::default()
        .with("noop", Noop)
        .with(
            "events.retention",
            Retention {
                store: store.clone(),
                clock: clock.clone(),
                default_days: default_retention_days,
            },
        )
        .with(
            "jobs.cleanup",
            Cleanup {
                store,
                clock: clock.clone(),
                keep_finished_days: config.keep_finished_days,
                keep_dead_days: config.keep_dead_days,
            },
        );
    let now = clock.now();
    let schedules = vec![
        maintenance_schedule(
            "events.retention",
            &config.retention_cron,
            "events.retention",
            now,
        )?,
        maintenance_schedule("jobs.cleanup", "41 * * * *", "jobs.cleanup", now)?,
    ];
    Ok((handlers, schedules))
}

/// A recurring platform job on the maintenance queue (three attempts).
pub fn maintenance_schedule(
    name: &str,
    cron: &str,
    kind: &str,
    now: rampart_core::Timestamp,
) -> Result<Schedule, Error> {
    Ok(Schedule {
        name: name.to_owned(),
        cron: CronExpr::parse(cron)?,
        job: NewJob {
            max_attempts: 3,
            ..NewJob::new(None, MAINTENANCE_QUEUE, kind, serde_json::json!({}), now)
        },
    })
}

/// `events.retention`: removes events past each organisation's retention.
struct Retention {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    default_days: i64,
}

#[async_trait]
impl JobHandler for Retention {
    async fn run(&self, _job: &Job) -> Result<(), JobFailure> {
        rampart_ingest::retention::run_once(&*self.store, self.clock.now(), self.default_days)
            .await
            .map(|_| ())
            .map_err(JobFailure::retry)
    }
}

/// `jobs.cleanup`: deletes finished jobs past their keeping time, and
/// sign-in challenges a day past their expiry.
struct Cleanup {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keep_finished_days: i64,
    keep_dead_days: i64,
}

#[async_trait]
impl JobHandler for Cleanup {
    async fn run(&self, _job: &Job) -> Result<(), JobFailure> {
        let now = self.clock.now().0;
        let purge = |states: &'static [JobState], days: i64| {
            let store = self.store.clone();
            async move {
                store
                    .purge_jobs(states, Timestamp(now - days.saturating_mul(DAY_MS)))
                    .await
            }
        };
        let fail = |e: rampart_store::StoreError| JobFailure::retry(e);
        let finished = purge(
            &[JobState::Completed, JobState::Cancelled],
            self.keep_finished_days,
        )
        .await
        .map_err(fail)?;
        let dead = purge(&[JobState::Dead], self.keep_dead_days)
            .await
            .map_err(fail)?;
        if finished + dead > 0 {
            tracing::info!(finished, dead, "old jobs removed");
        }
        // Sign-in codes, two-factor steps and reset links a day past expiry.
        let challenges = self
            .store
            .purge_challenges(Timestamp(now - DAY_MS))
            .await
            .map_err(fail)?;
        if challenges > 0 {
            tracing::info!(challenges, "expired sign-in challenges removed");
        }
        Ok(())
    }
}
