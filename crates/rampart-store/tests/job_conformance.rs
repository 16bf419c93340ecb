//! The job queue behaves alike on both backends: claims by priority, unique
//! keys, leases, retries into the dead-letter state, cancel and retry,
//! tenancy, and schedules that run once however many nodes race.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;

use rampart_core::{JobState, NewJob, OrgId, Timestamp};
use rampart_store::{Enqueued, JobChange, JobQuery, JobScope, Store};
use serde_json::json;

rampart_store::conformance_suite!(
    claims_take_the_highest_priority_ready_jobs_once,
    unique_keys_hold_while_a_job_is_pending,
    failures_retry_then_end_dead_and_retry_brings_them_back,
    expired_leases_are_taken_back,
    jobs_are_confined_to_their_scope,
    concurrent_workers_never_claim_a_job_twice,
    schedules_advance_once_across_racing_nodes
);

const T: i64 = 1_000_000;

fn job(org: Option<OrgId>, queue: &str, priority: i32, run_at: i64) -> NewJob {
    NewJob {
        priority,
        ..NewJob::new(
            org,
            queue,
            "test",
            json!({"n": priority}),
            Timestamp(run_at),
        )
    }
}

fn added(outcomes: &[Enqueued]) -> Vec<rampart_core::JobId> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            Enqueued::Added(id) => Some(*id),
            Enqueued::Duplicate => None,
        })
        .collect()
}

async fn claims_take_the_highest_priority_ready_jobs_once(store: Arc<dyn Store>) {
    let now = Timestamp(T);
    let jobs = [
        job(None, "q", 0, T - 10),
        job(None, "q", 5, T - 5),
        job(None, "q", 5, T - 9),
        job(None, "q", 9, T + 1_000), // not yet due
        job(None, "other", 100, T),
    ];
    let ids = added(&store.enqueue_jobs(&jobs, now).await.unwrap());
    assert_eq!(ids.len(), 5);
    let first = store
        .claim_jobs("q", "w1", now, Timestamp(T + 60_000), 2)
        .await
        .unwrap();
    // Priority 5 both, the earlier run_at first.
    assert_eq!(
        first.iter().map(|j| j.id).collect::<Vec<_>>(),
        [ids[2], ids[1]]
    );
    assert!(first.iter().all(|j| j.state == JobState::Running
        && j.attempts == 1
        && j.locked_by.as_deref() == Some("w1")
        && j.locked_until == Some(Timestamp(T + 60_000))));
    assert_eq!(first[0].payload, json!({"n": 5}));
    let next = store
        .claim_jobs("q", "w2", now, Timestamp(T + 60_000), 10)
        .await
        .unwrap();
    assert_eq!(next.iter().map(|j| j.id).collect::<Vec<_>>(), [ids[0]]);
    // The future job waits for its time.
    let later = Timestamp(T + 2_000);
    let due = store
        .claim_jobs("q", "w2", later, Timestamp(T + 60_000), 10)
        .await
        .unwrap();
    assert_eq!(due.iter().map(|j| j.id).collect::<Vec<_>>(), [ids[3]]);
    // Completion only by the holder.
    assert_eq!(
        store.complete_jobs("w2", &[ids[2]], later).await.unwrap(),
        0
    );
    assert_eq!(
        store
            .complete_jobs("w1", &[ids[2], ids[1]], later)
            .await
            .unwrap(),
        2
    );
    let done = store
        .get_job(JobScope::Platform, ids[2])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (done.state, done.finished_at, done.locked_by),
        (JobState::Completed, Some(later), None)
    );
    let depths = store.queue_depths().await.unwrap();
    let count = |queue: &str, state| {
        depths
            .iter()
            .find(|d| d.queue == queue && d.state == state)
            .map_or(0, |d| d.count)
    };
    assert_eq!(count("q", JobState::Completed), 2);
    assert_eq!(count("q", JobState::Running), 2);
    assert_eq!(count("other", JobState::Available), 1);
}

async fn unique_keys_hold_while_a_job_is_pending(store: Arc<dyn Store>) {
    let now = Timestamp(T);
    let keyed = NewJob {
        unique_key: Some("digest:alice".into()),
        ..job(None, "q", 0, T)
    };
    let first = store
        .enqueue_jobs(&[keyed.clone(), keyed.clone()], now)
        .await
        .unwrap();
    assert!(matches!(first[0], Enqueued::Added(_)));
    assert_eq!(first[1], Enqueued::Duplicate);
    let Enqueued::Added(id) = first[0] else {
        unreachable!()
    };
    // Still pending while it runs.
    store
        .claim_jobs("q", "w", now, Timestamp(T + 1_000), 1)
        .await
        .unwrap();
    assert_eq!(
        store
            .enqueue_jobs(std::slice::from_ref(&keyed), now)
            .await
            .unwrap(),
        [Enqueued::Duplicate]
    );
    store.complete_jobs("w", &[id], now).await.unwrap();
    // Once it finished, the key is free again.
    let again = store
        .enqueue_jobs(std::slice::from_ref(&keyed), now)
        .await
        .unwrap();
    assert!(matches!(again[0], Enqueued::Added(_)));
    // Retrying the finished one while the new one is pending conflicts.
    let retried = store.retry_job(JobScope::Platform, id, now).await;
    assert!(retried.is_err(), "{retried:?}");
}

async fn failures_retry_then_end_dead_and_retry_brings_them_back(store: Arc<dyn Store>) {
    let now = Timestamp(T);
    let flaky = NewJob {
        max_attempts: 3,
        ..job(None, "q", 0, T)
    };
    let id = added(&store.enqueue_jobs(&[flaky], now).await.unwrap())[0];
    let mut at = T;
    for attempt in 1..=3 {
        let claimed = store
            .claim_jobs("q", "w", Timestamp(at), Timestamp(at + 1_000), 1)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt}");
        assert_eq!(claimed[0].attempts, attempt);
        let state = store
            .fail_job(
                "w",
                id,
                &format!("boom {attempt}"),
                Timestamp(at + 500),
                false,
                Timestamp(at),
            )
            .await
            .unwrap();
        let want = if attempt < 3 {
            JobState::Retryable
        } else {
            JobState::Dead
        };
        assert_eq!(state, Some(want));
        // Not before its retry time.
        assert!(store
            .claim_jobs("q", "w", Timestamp(at + 499), Timestamp(at + 2_000), 1)
            .await
            .unwrap()
            .is_empty());
        at += 500;
    }
    let dead = store
        .get_job(JobScope::Platform, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (dead.state, dead.last_error.as_deref(), dead.attempts),
        (JobState::Dead, Some("boom 3"), 3)
    );
    assert!(store
        .claim_jobs("q", "w", Timestamp(at + 10_000), Timestamp(at + 20_000), 1)
        .await
        .unwrap()
        .is_empty());
    // A worker that lost its job cannot fail it.
    assert_eq!(
        store
            .fail_job("w", id, "late", Timestamp(at), false, Timestamp(at))
            .await
            .unwrap(),
        None
    );
    // Retry: available again with fresh attempts, and it runs.
    let JobChange::Done(retried) = store
        .retry_job(JobScope::Platform, id, Timestamp(at))
        .await
        .unwrap()
    else {
        panic!("not retried")
    };
    assert_eq!((retried.state, retried.attempts), (JobState::Available, 0));
    let claimed = store
        .claim_jobs("q", "w", Timestamp(at), Timestamp(at + 1_000), 1)
        .await
        .unwrap();
    assert_eq!(claimed[0].id, id);
    // A permanent failure is dead at once.
    assert_eq!(
        store
            .fail_job("w", id, "bad payload", Timestamp(at), true, Timestamp(at))
            .await
            .unwrap(),
        Some(JobState::Dead)
    );
    // Cancelling a dead job is refused; retrying then cancelling works.
    assert_eq!(
        store
            .cancel_job(JobScope::Platform, id, Timestamp(at))
            .await
            .unwrap(),
        JobChange::Refused(JobState::Dead)
    );
    store
        .retry_job(JobScope::Platform, id, Timestamp(at))
        .await
        .unwrap();
    let JobChange::Done(cancelled) = store
        .cancel_job(JobScope::Platform, id, Timestamp(at))
        .await
        .unwrap()
    else {
        panic!("not cancelled")
    };
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(
        store
            .purge_jobs(&[JobState::Cancelled], Timestamp(at + 1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.get_job(JobScope::Platform, id).await.unwrap(), None);
}

async fn expired_leases_are_taken_back(store: Arc<dyn Store>) {
    let now = Timestamp(T);
    let once = NewJob {
        max_attempts: 1,
        ..job(None, "q", 1, T)
    };
    let ids = added(
        &store
            .enqueue_jobs(&[job(None, "q", 0, T), once], now)
            .await
            .unwrap(),
    );
    let claimed = store
        .claim_jobs("q", "dying", now, Timestamp(T + 1_000), 2)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    // The lease is extended while the worker lives.
    assert_eq!(
        store
            .extend_leases("dying", &ids, Timestamp(T + 2_000))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .rescue_expired_jobs(Timestamp(T + 1_500))
            .await
            .unwrap(),
        0
    );
    // It stops heartbeating; after the lease, both come back.
    assert_eq!(
        store
            .rescue_expired_jobs(Timestamp(T + 2_001))
            .await
            .unwrap(),
        2
    );
    let retried = store
        .get_job(JobScope::Platform, ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retried.state, JobState::Retryable);
    assert!(retried.last_error.unwrap().contains("lease"));
    // The job with one attempt has none left: dead.
    let dead = store
        .get_job(JobScope::Platform, ids[1])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dead.state, JobState::Dead);
    // The old worker's late completion changes nothing.
    assert_eq!(
        store
            .complete_jobs("dying", &ids, Timestamp(T + 2_002))
            .await
            .unwrap(),
        0
    );
    let again = store
        .claim_jobs("q", "alive", Timestamp(T + 2_002), Timestamp(T + 9_000), 5)
        .await
        .unwrap();
    assert_eq!(again.iter().map(|j| j.id).collect::<Vec<_>>(), [ids[0]]);
    assert_eq!(again[0].attempts, 2);
}

async fn jobs_are_confined_to_their_scope(store: Arc<dyn Store>) {
    let a = rampart_store::testing::org_with_admin(&store, "a")
        .await
        .unwrap();
    let b = rampart_store::testing::org_with_admin(&store, "b")
        .await
        .unwrap();
    let now = Timestamp(T);
    let ids = added(
        &store
            .enqueue_jobs(
                &[
                    job(Some(a), "q", 0, T),
                    job(Some(b), "q", 0, T),
                    job(None, "q", 0, T),
                ],
                now,
            )
            .await
            .unwrap(),
    );
    let listed = |scope| {
        let store = store.clone();
        async move {
            store
                .list_jobs(
                    scope,
                    &JobQuery {
                        limit: 50,
                        ..JobQuery::default()
                    },
                )
                .await
                .unwrap()
                .into_iter()
                .map(|j| j.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(JobScope::Org(a)).await, [ids[0]]);
    assert_eq!(listed(JobScope::Org(b)).await, [ids[1]]);
    assert_eq!(listed(JobScope::Platform).await, [ids[2]]);
    assert_eq!(store.get_job(JobScope::Org(b), ids[0]).await.unwrap(), None);
    assert_eq!(
        store
            .cancel_job(JobScope::Org(b), ids[0], now)
            .await
            .unwrap(),
        JobChange::Missing
    );
    assert_eq!(
        store
            .retry_job(JobScope::Org(b), ids[0], now)
            .await
            .unwrap(),
        JobChange::Missing
    );
    assert_eq!(
        store
            .get_job(JobScope::Org(a), ids[0])
            .await
            .unwrap()
            .unwrap()
            .state,
        JobState::Available
    );
    // Filters and paging.
    let mut more = Vec::new();
    for n in 0..5 {
        more.push(job(Some(a), if n % 2 == 0 { "even" } else { "odd" }, 0, T));
    }
    store.enqueue_jobs(&more, now).await.unwrap();
    let evens = store
        .list_jobs(
            JobScope::Org(a),
            &JobQuery {
                queue: Some("even".into()),
                states: vec![JobState::Available],
                limit: 2,
                ..JobQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(evens.len(), 2);
    let rest = store
        .list_jobs(
            JobScope::Org(a),
            &JobQuery {
                queue: Some("even".into()),
                before: Some(evens[1].id),
                limit: 10,
                ..JobQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert!(rest[0].id < evens[1].id && evens[1].id < evens[0].id);
}

async fn concurrent_workers_never_claim_a_job_twice(store: Arc<dyn Store>) {
    let now = Timestamp(T);
    let jobs: Vec<NewJob> = (0..400).map(|n| job(None, "q", n % 7, T)).collect();
    let ids = added(&store.enqueue_jobs(&jobs, now).await.unwrap());
    let mut workers = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let name = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let claimed = store
                    .claim_jobs("q", &name, now, Timestamp(T + 60_000), 16)
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                let ids: Vec<_> = claimed.iter().map(|j| j.id).collect();
                assert_eq!(
                    store.complete_jobs(&name, &ids, now).await.unwrap(),
                    ids.len() as u64
                );
                mine.extend(ids);
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for worker in workers {
        let mine = worker.await.unwrap();
        total += mine.len();
        seen.extend(mine);
    }
    assert_eq!(total, ids.len(), "each job claimed exactly once");
    assert_eq!(seen, ids.into_iter().collect::<HashSet<_>>());
}

async fn schedules_advance_once_across_racing_nodes(store: Arc<dyn Store>) {
    let now = Timestamp(T);
    store
        .ensure_schedule("retention", "0 * * * *", Timestamp(T - 1), now)
        .await
        .unwrap();
    // The same cron again keeps the next run; a new cron resets it.
    store
        .ensure_schedule("retention", "0 * * * *", Timestamp(T + 99), now)
        .await
        .unwrap();
    assert_eq!(
        store.due_schedules(now).await.unwrap(),
        [("retention".to_owned(), Timestamp(T - 1))]
    );
    let mut racers = Vec::new();
    for node in 0..6 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            let job = NewJob {
                unique_key: Some(format!("schedule:retention:{}", T - 1)),
                ..NewJob::new(None, "maintenance", "retention", json!({"node": node}), now)
            };
            store
                .advance_schedule(
                    "retention",
                    Timestamp(T - 1),
                    Timestamp(T + 3_600_000),
                    &job,
                    now,
                )
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for racer in racers {
        won += usize::from(racer.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one node enqueues the run");
    assert!(store.due_schedules(now).await.unwrap().is_empty());
    let queued = store
        .list_jobs(
            JobScope::Platform,
            &JobQuery {
                queue: Some("maintenance".into()),
                limit: 10,
                ..JobQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    store
        .ensure_schedule("retention", "30 2 * * *", Timestamp(T + 5), now)
        .await
        .unwrap();
    assert_eq!(
        store.due_schedules(Timestamp(T + 5)).await.unwrap(),
        [("retention".to_owned(), Timestamp(T + 5))]
    );
}
