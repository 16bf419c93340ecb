//! The workers on both backends: handlers run, failures back off and end
//! dead after the last attempt, retry brings a dead job back, a panicking
//! handler does not stop its worker, schedules enqueue their runs, and the
//! running workers drain a queue and stop cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rampart_app::jobs::handler::{Handlers, JobFailure, JobHandler, Noop};
use rampart_app::jobs::schedule::{CronExpr, Schedule};
use rampart_app::jobs::{JobsConfig, WorkerPool};
use rampart_core::clock::ManualClock;
use rampart_core::{Clock, Job, JobState, NewJob, Timestamp};
use rampart_store::{Enqueued, JobQuery, JobScope, Store};
use serde_json::json;

rampart_store::conformance_suite!(
    failing_jobs_back_off_end_dead_and_run_again_after_retry,
    a_panicking_handler_fails_its_attempt_only,
    schedules_enqueue_each_run_once,
    running_workers_drain_the_queue_and_stop
);

/// 2026-12-03T10:20:00Z.
const START: i64 = 1_796_293_200_000;

fn config() -> JobsConfig {
    JobsConfig {
        queues: BTreeMap::from([("default".to_owned(), 4)]),
        poll_ms: 10,
        backoff_base_secs: 10,
        backoff_cap_secs: 60,
        ..JobsConfig::default()
    }
}

/// Fails every attempt, counting them.
struct AlwaysFails(Arc<AtomicUsize>);

#[async_trait]
impl JobHandler for AlwaysFails {
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        self.0.fetch_add(1, Ordering::SeqCst);
        if job.payload["fixed"] == json!(true) {
            return Ok(());
        }
        Err(JobFailure::Retry(format!(
            "attempt {} failed",
            job.attempts
        )))
    }
}

struct Panics;

#[async_trait]
impl JobHandler for Panics {
    #[allow(clippy::panic)]
    async fn run(&self, _job: &Job) -> Result<(), JobFailure> {
        panic!("handler bug")
    }
}

async fn enqueue(store: &Arc<dyn Store>, job: NewJob) -> rampart_core::JobId {
    match store.enqueue_jobs(&[job], Timestamp(START)).await.unwrap()[0] {
        Enqueued::Added(id) => id,
        Enqueued::Duplicate => panic!("duplicate"),
    }
}

async fn failing_jobs_back_off_end_dead_and_run_again_after_retry(store: Arc<dyn Store>) {
    let clock = ManualClock::new(Timestamp(START));
    let attempts = Arc::new(AtomicUsize::new(0));
    let handlers = Handlers::default().with("flaky", AlwaysFails(attempts.clone()));
    let pool = WorkerPool::new(
        store.clone(),
        Arc::new(clock.clone()),
        handlers,
        vec![],
        config(),
        None,
    );
    let id = enqueue(
        &store,
        NewJob {
            max_attempts: 4,
            ..NewJob::new(None, "default", "flaky", json!({}), Timestamp(START))
        },
    )
    .await;
    assert_eq!(pool.run_pending().await.unwrap(), 1);
    let job = store
        .get_job(JobScope::Platform, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Retryable);
    assert_eq!(job.last_error.as_deref(), Some("attempt 1 failed"));
    // Backoff: at most 10 s after the first failure, 20 s after the second.
    assert!(job.run_at.0 <= START + 10_000, "{:?}", job.run_at);
    for attempt in 2..=4 {
        clock.advance_secs(60);
        assert_eq!(pool.run_pending().await.unwrap(), 1, "attempt {attempt}");
    }
    let dead = store
        .get_job(JobScope::Platform, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((dead.state, dead.attempts), (JobState::Dead, 4));
    clock.advance_secs(3600);
    assert_eq!(pool.run_pending().await.unwrap(), 0, "dead jobs do not run");
    assert_eq!(attempts.load(Ordering::SeqCst), 4);

    // Retried (after the cause was fixed), it runs and completes.
    store
        .retry_job(JobScope::Platform, id, clock.now())
        .await
        .unwrap();
    let fixed = enqueue(
        &store,
        NewJob::new(
            None,
            "default",
            "flaky",
            json!({"fixed": true}),
            clock.now(),
        ),
    )
    .await;
    assert_eq!(pool.run_pending().await.unwrap(), 2);
    let retried = store
        .get_job(JobScope::Platform, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retried.state, JobState::Retryable, "it still fails");
    let done = store
        .get_job(JobScope::Platform, fixed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.state, JobState::Completed);

    // A kind no handler knows is dead at once.
    let unknown = enqueue(
        &store,
        NewJob::new(None, "default", "nobody", json!({}), clock.now()),
    )
    .await;
    pool.run_pending().await.unwrap();
    let unknown = store
        .get_job(JobScope::Platform, unknown)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unknown.state, JobState::Dead);
    assert!(unknown.last_error.unwrap().contains("no handler"));
}

async fn a_panicking_handler_fails_its_attempt_only(store: Arc<dyn Store>) {
    let clock = Arc::new(ManualClock::new(Timestamp(START)));
    let handlers = Handlers::default().with("bug", Panics).with("noop", Noop);
    let pool = WorkerPool::new(store.clone(), clock, handlers, vec![], config(), None);
    let bug = enqueue(
        &store,
        NewJob::new(None, "default", "bug", json!({}), Timestamp(START)),
    )
    .await;
    let fine = enqueue(
        &store,
        NewJob::new(None, "default", "noop", json!({}), Timestamp(START)),
    )
    .await;
    assert_eq!(pool.run_pending().await.unwrap(), 2);
    let bug = store
        .get_job(JobScope::Platform, bug)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bug.state, JobState::Retryable);
    assert!(bug.last_error.unwrap().contains("handler failed"));
    let fine = store
        .get_job(JobScope::Platform, fine)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fine.state, JobState::Completed);
}

async fn schedules_enqueue_each_run_once(store: Arc<dyn Store>) {
    let clock = ManualClock::new(Timestamp(START));
    let runs = Arc::new(AtomicUsize::new(0));
    let schedule = Schedule {
        name: "tick".into(),
        cron: CronExpr::parse("*/15 * * * *").unwrap(),
        job: NewJob::new(None, "default", "count", json!({}), Timestamp(START)),
    };
    // Two nodes with the same schedule.
    let nodes: Vec<WorkerPool> = (0..2)
        .map(|_| {
            WorkerPool::new(
                store.clone(),
                Arc::new(clock.clone()),
                Handlers::default().with("count", AlwaysFails(runs.clone())),
                vec![schedule.clone()],
                config(),
                None,
            )
        })
        .collect();
    // 10:20: the first run is at 10:30.
    for node in &nodes {
        node.run_pending().await.unwrap();
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    clock.advance_secs(10 * 60);
    for node in &nodes {
        node.run_pending().await.unwrap();
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one run across both nodes");
    // Down for an hour: the missed runs are made up once, not four times.
    clock.advance_secs(3600);
    for node in &nodes {
        node.run_pending().await.unwrap();
    }
    let count = store
        .list_jobs(
            JobScope::Platform,
            &JobQuery {
                limit: 100,
                ..JobQuery::default()
            },
        )
        .await
        .unwrap()
        .len();
    assert_eq!(count, 2);
}

async fn running_workers_drain_the_queue_and_stop(store: Arc<dyn Store>) {
    let clock: Arc<dyn Clock> = Arc::new(rampart_core::SystemClock);
    let now = clock.now();
    let jobs: Vec<NewJob> = (0..300)
        .map(|n| NewJob {
            priority: n % 3,
            ..NewJob::new(None, "default", "noop", json!({}), now)
        })
        .collect();
    store.enqueue_jobs(&jobs, now).await.unwrap();
    let pool = WorkerPool::new(
        store.clone(),
        clock,
        Handlers::default().with("noop", Noop),
        vec![],
        config(),
        None,
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(pool.run(stopped));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = store
            .list_jobs(
                JobScope::Platform,
                &JobQuery {
                    states: vec![JobState::Available, JobState::Running, JobState::Retryable],
                    limit: 1,
                    ..JobQuery::default()
                },
            )
            .await
            .unwrap();
        if left.is_empty() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "queue not drained");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("workers stop")
        .unwrap();
    let completed = store
        .list_jobs(
            JobScope::Platform,
            &JobQuery {
                states: vec![JobState::Completed],
                limit: 1000,
                ..JobQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(completed.len(), 300);
}
