//! Durability of the job queue: SIGKILL `rampart worker` while it runs
//! jobs, start it again, and every enqueued job ends completed or dead
//! (none vanishes, none is stuck), on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rampart_core::{JobState, NewJob, Timestamp};
use rampart_store::testing::TestDatabase;
use rampart_store::{JobQuery, JobScope, Store};
use serde_json::json;

const WORKING: usize = 120;
const DOOMED: usize = 10;

fn worker(
    url: &str,
    config: &std::path::Path,
    data_dir: &std::path::Path,
    probes: Option<u16>,
) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rampart"));
    if let Some(port) = probes {
        command.env("RAMPART_PROBES_LISTEN", format!("127.0.0.1:{port}"));
    }
    command
        .args(["worker", "--database-url", url, "--config"])
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("RAMPART_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn count(store: &std::sync::Arc<dyn Store>, states: &[JobState]) -> usize {
    store
        .list_jobs(
            JobScope::Platform,
            &JobQuery {
                states: states.to_vec(),
                limit: 1000,
                ..JobQuery::default()
            },
        )
        .await
        .unwrap()
        .len()
}

async fn sigkill_loses_no_job(db: TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rampart.toml");
    // Short leases, so that the restarted worker takes back the killed
    // one's jobs within seconds.
    std::fs::write(
        &config,
        "[jobs]\nlease_secs = 2\npoll_ms = 20\n[jobs.queues]\ndefault = 16\n",
    )
    .unwrap();
    let store = db.store().await;
    let now = Timestamp(rampart_core::Clock::now(&rampart_core::SystemClock).0);
    let mut jobs: Vec<NewJob> = (0..WORKING)
        .map(|n| {
            NewJob::new(
                None,
                "default",
                "noop",
                json!({"sleep_ms": 150, "n": n}),
                now,
            )
        })
        .collect();
    jobs.extend((0..DOOMED).map(|_| NewJob::new(None, "default", "no.such.kind", json!({}), now)));
    store.enqueue_jobs(&jobs, now).await.unwrap();
    store.close().await;

    let mut first = worker(db.url(), &config, dir.path(), None);
    // Wait until it is mid-work: some done, some running.
    let store = db.store().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&store, &[JobState::Completed]).await < 16 {
        assert!(Instant::now() < deadline, "the worker never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let running = count(&store, &[JobState::Running]).await;
    let completed = count(&store, &[JobState::Completed]).await;
    assert!(running > 0, "killed while jobs ran");
    assert!(completed < WORKING, "killed before the end");
    store.close().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut second = worker(db.url(), &config, dir.path(), Some(port));
    let store = db.store().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let pending = [JobState::Available, JobState::Running, JobState::Retryable];
    while count(&store, &pending).await > 0 {
        assert!(Instant::now() < deadline, "jobs left pending");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The worker-only node reports on its probes.
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"rampart_job_attempts_total{outcome="completed",queue="default"}"#),
        "{metrics}"
    );
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(count(&store, &[JobState::Completed]).await, WORKING);
    assert_eq!(count(&store, &[JobState::Dead]).await, DOOMED);
    assert_eq!(count(&store, &JobState::ALL).await, WORKING + DOOMED);
    // The jobs the killed worker held ran again, as a second attempt.
    let again = store
        .list_jobs(
            JobScope::Platform,
            &JobQuery {
                states: vec![JobState::Completed],
                limit: 1000,
                ..JobQuery::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.attempts == 2)
        .count();
    assert!(
        again >= running,
        "{again} jobs retried, {running} were held"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_job_on_sqlite() {
    sigkill_loses_no_job(TestDatabase::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_job_on_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    sigkill_loses_no_job(db).await;
}
