//! The workers of a node: per queue, a loop that claims as many ready jobs
//! as it has free slots and runs each on its own task; a completer that
//! marks finished jobs in batches; and an upkeep loop that extends the
//! leases of running jobs, takes back jobs whose worker died, enqueues due
//! schedules and samples the queue depths. Jobs run at least once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rampart_core::job::backoff;
use rampart_core::{Clock, Error, Job, JobId, JobState, Timestamp};
use rampart_store::Store;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

use super::handler::{Handlers, JobFailure};
use super::metrics::JobMetrics;
use super::schedule::Schedule;
use super::JobsConfig;

/// Most completions marked in one statement.
const COMPLETION_BATCH: usize = 500;
/// On a busy queue, how long a claim waits for half the slots to be free,
/// so that each round trip claims several jobs.
const GATHER_WAIT: Duration = Duration::from_millis(2);
/// How often queue depths are read for the metrics, and schedules checked.
const UPKEEP_SLOW: Duration = Duration::from_secs(10);

/// A node's workers.
#[derive(Clone)]
pub struct WorkerPool {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    handlers: Handlers,
    schedules: Vec<Schedule>,
    config: JobsConfig,
    metrics: Option<JobMetrics>,
    /// Names this node's claims (leases are held by it).
    worker_id: String,
    /// Jobs this node is running, whose leases upkeep extends.
    running: Mutex<HashSet<JobId>>,
}

impl WorkerPool {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        handlers: Handlers,
        schedules: Vec<Schedule>,
        config: JobsConfig,
        metrics: Option<JobMetrics>,
    ) -> Self {
        let worker_id = format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple());
        WorkerPool {
            inner: Arc::new(Inner {
                store,
                clock,
                handlers,
                schedules,
                config,
                metrics,
                worker_id,
                running: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// Runs the workers until `stop` turns true; then stops claiming and
    /// waits for running jobs (up to the job timeout).
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let mut tasks = JoinSet::new();
        for (queue, &concurrency) in &self.inner.config.queues {
            tasks.spawn(self.inner.clone().queue_loop(
                queue.clone(),
                concurrency.max(1),
                stop.clone(),
            ));
        }
        tasks.spawn(self.inner.clone().upkeep_loop(stop.clone()));
        while tasks.join_next().await.is_some() {}
    }

    /// Runs every ready job of the configured queues, and the due
    /// schedules, until none is ready: tests and one-off runs use it for
    /// deterministic results. Returns how many attempts it ran.
    pub async fn run_pending(&self) -> Result<usize, Error> {
        let inner = &self.inner;
        inner.run_schedules().await?;
        inner.store.rescue_expired_jobs(inner.clock.now()).await?;
        let mut ran = 0;
        loop {
            let mut this_round = 0;
            for queue in inner.config.queues.keys() {
                let jobs = inner.claim(queue, 100).await?;
                this_round += jobs.len();
                for job in jobs {
                    let id = job.id;
                    let queue = job.queue.clone();
                    match inner.attempt(&job).await {
                        Ok(()) => {
                            let done = inner
                                .store
                                .complete_jobs(&inner.worker_id, &[id], inner.clock.now())
                                .await?;
                            if done == 1 {
                                inner.count(&queue, "completed");
                            }
                        }
                        Err(failure) => inner.record_failure(&job, &failure).await,
                    }
                }
            }
            if this_round == 0 {
                return Ok(ran);
            }
            ran += this_round;
        }
    }

    /// This node's worker name, as leases show it.
    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }
}

impl Inner {
    fn lease(&self) -> Duration {
        Duration::from_secs(self.config.lease_secs.max(1))
    }

    fn count(&self, queue: &str, outcome: &str) {
        if let Some(metrics) = &self.metrics {
            metrics.attempt(queue, outcome);
        }
    }

    async fn claim(&self, queue: &str, limit: usize) -> Result<Vec<Job>, Error> {
        let now = self.clock.now();
        let until = Timestamp(now.0 + millis(self.lease()));
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let jobs = self
            .store
            .claim_jobs(queue, &self.worker_id, now, until, limit)
            .await?;
        Ok(jobs)
    }

    /// One attempt of `job` by its handler, within the job timeout; a
    /// panicking handler fails the attempt, not the worker.
    async fn attempt(&self, job: &Job) -> Result<(), JobFailure> {
        let Some(handler) = self.handlers.get(&job.kind) else {
            return Err(JobFailure::Permanent(format!(
                "no handler for job kind '{}' on this node",
                job.kind
            )));
        };
        let owned = job.clone();
        let run = tokio::spawn(async move { handler.run(&owned).await });
        let timeout = Duration::from_secs(self.config.timeout_secs.max(1));
        match tokio::time::timeout(timeout, run).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(JobFailure::Retry(format!("the handler failed: {join}"))),
            Err(_) => Err(JobFailure::Retry(format!(
                "timed out after {} s",
                timeout.as_secs()
            ))),
        }
    }

    /// Records a failed attempt: retryable after a backoff, or dead.
    async fn record_failure(&self, job: &Job, failure: &JobFailure) {
        let now = self.clock.now();
        let wait = backoff(
            job.attempts,
            Duration::from_secs(self.config.backoff_base_secs),
            Duration::from_secs(self.config.backoff_cap_secs),
            fastrand::f64(),
        );
        let retry_at = Timestamp(now.0 + millis(wait));
        let permanent = matches!(failure, JobFailure::Permanent(_));
        match self
            .store
            .fail_job(
                &self.worker_id,
                job.id,
                failure.message(),
                retry_at,
                permanent,
                now,
            )
            .await
        {
            Ok(Some(state)) => {
                let outcome = if state == JobState::Dead {
                    tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = failure.message(), "job is dead");
                    "dead"
                } else {
                    tracing::info!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = failure.message(), "job failed; will retry");
                    "retry"
                };
                self.count(&job.queue, outcome);
            }
            Ok(None) => {}
            Err(error) => {
                tracing::error!(job = %job.id, %error, "recording a job failure failed; its lease will return it");
            }
        }
    }

    async fn queue_loop(
        self: Arc<Self>,
        queue: String,
        concurrency: usize,
        mut stop: watch::Receiver<bool>,
    ) {
        let slots = Arc::new(Semaphore::new(concurrency));
        let (done_tx, done_rx) = mpsc::unbounded_channel::<JobId>();
        let completer = tokio::spawn(self.clone().completer(queue.clone(), done_rx));
        let poll = Duration::from_millis(self.config.poll_ms.max(1));
        let mut busy = false;
        loop {
            if *stop.borrow() {
                break;
            }
            let first = tokio::select! {
                slot = slots.clone().acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break,
                },
                _ = stop.changed() => break,
            };
            let mut free = vec![first];
            while let Ok(slot) = slots.clone().try_acquire_owned() {
                free.push(slot);
            }
            let half = concurrency / 2;
            if busy && free.len() < half {
                let more = u32::try_from(half - free.len()).unwrap_or(1);
                if let Ok(Ok(mut gathered)) =
                    tokio::time::timeout(GATHER_WAIT, slots.clone().acquire_many_owned(more)).await
                {
                    while let Some(one) = gathered.split(1) {
                        free.push(one);
                    }
                }
            }
            let jobs = match self.claim(&queue, free.len()).await {
                Ok(jobs) => jobs,
                Err(error) => {
                    tracing::error!(%queue, error = %error.detail, "claiming jobs failed");
                    Vec::new()
                }
            };
            let full = jobs.len() == free.len();
            if jobs.is_empty() {
                drop(free);
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {},
                    _ = stop.changed() => {},
                }
                continue;
            }
            for (job, slot) in jobs.into_iter().zip(free.drain(..)) {
                let (inner, done) = (self.clone(), done_tx.clone());
                tokio::spawn(async move {
                    inner.running_insert(job.id);
                    let result = inner.attempt(&job).await;
                    inner.running_remove(job.id);
                    match result {
                        Ok(()) => {
                            let _ = done.send(job.id);
                        }
                        Err(failure) => inner.record_failure(&job, &failure).await,
                    }
                    drop(slot);
                });
            }
            busy = full;
            if !full {
                // Fewer ready than free slots: the queue is drained for now.
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {},
                    _ = stop.changed() => {},
                }
            }
        }
        // Stopping: let running jobs finish (up to the job timeout).
        let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
        let wait = Duration::from_secs(self.config.timeout_secs.max(1));
        if tokio::time::timeout(wait, slots.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!(%queue, "jobs still running at shutdown; their leases will return them");
        }
        drop(done_tx);
        let _ = completer.await;
    }

    /// Marks finished jobs completed, in batches of what has arrived.
    async fn completer(self: Arc<Self>, queue: String, mut done: mpsc::UnboundedReceiver<JobId>) {
        while let Some(first) = done.recv().await {
            let mut batch = vec![first];
            while batch.len() < COMPLETION_BATCH {
                match done.try_recv() {
                    Ok(id) => batch.push(id),
                    Err(_) => break,
                }
            }
            match self
                .store
                .complete_jobs(&self.worker_id, &batch, self.clock.now())
                .await
            {
                Ok(marked) => {
                    if let Some(metrics) = &self.metrics {
                        for _ in 0..marked {
                            metrics.attempt(&queue, "completed");
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(%queue, %error, jobs = batch.len(), "marking jobs completed failed; they will run again after their lease");
                }
            }
        }
    }

    fn running_insert(&self, id: JobId) {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id);
    }

    fn running_remove(&self, id: JobId) {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    /// Leases, rescues, schedules and metrics, until `stop`.
    async fn upkeep_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let tick = (self.lease() / 3).clamp(Duration::from_millis(100), Duration::from_secs(5));
        let mut last_slow: Option<tokio::time::Instant> = None;
        loop {
            let now = self.clock.now();
            let running: Vec<JobId> = self
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .copied()
                .collect();
            if !running.is_empty() {
                let until = Timestamp(now.0 + millis(self.lease()));
                if let Err(error) = self
                    .store
                    .extend_leases(&self.worker_id, &running, until)
                    .await
                {
                    tracing::error!(%error, "extending job leases failed");
                }
            }
            match self.store.rescue_expired_jobs(now).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(jobs = n, "took back jobs whose worker stopped"),
                Err(error) => tracing::error!(%error, "taking back expired jobs failed"),
            }
            if last_slow.is_none_or(|at| at.elapsed() >= UPKEEP_SLOW) {
                last_slow = Some(tokio::time::Instant::now());
                if let Err(error) = self.run_schedules().await {
                    tracing::error!(error = %error.detail, "enqueueing scheduled jobs failed");
                }
                if let Some(metrics) = &self.metrics {
                    match self.store.queue_depths().await {
                        Ok(depths) => metrics.record_depths(&depths, now),
                        Err(error) => tracing::error!(%error, "reading queue depths failed"),
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(tick) => {},
                _ = stop.changed() => return,
            }
        }
    }

    /// Records the schedules and enqueues each run that is due (once
    /// across nodes; a run missed while no node ran is made up once).
    async fn run_schedules(&self) -> Result<(), Error> {
        let now = self.clock.now();
        for schedule in &self.schedules {
            if let Some(next) = schedule.cron.next_after(now) {
                self.store
                    .ensure_schedule(&schedule.name, schedule.cron.as_str(), next, now)
                    .await?;
            }
        }
        for (name, due) in self.store.due_schedules(now).await? {
            let Some(schedule) = self.schedules.iter().find(|s| s.name == name) else {
                continue; // another version's schedule
            };
            let Some(next) = schedule.cron.next_after(Timestamp(now.0.max(due.0))) else {
                continue;
            };
            let job = schedule.job_for(due, now);
            if self
                .store
                .advance_schedule(&name, due, next, &job, now)
                .await?
            {
                tracing::info!(schedule = %name, "scheduled job enqueued");
            }
        }
        Ok(())
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
