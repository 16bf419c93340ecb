//! The `intel.refresh` job against a real HTTP server on 127.0.0.1: the
//! KEV catalogue (gzip) and an EPSS file are fetched and loaded, fetching
//! the same releases again loads nothing, and a feed that answers 404 or
//! is not a release fails the job (to be retried) naming the URL, leaving
//! what was loaded alone. Runs on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rampart_app::audit::Audit;
use rampart_app::jobs::handler::{JobFailure, JobHandler};
use rampart_app::vulns::{feed_client, IntelConfig, IntelRefresh, Vulnerabilities};
use rampart_core::clock::ManualClock;
use rampart_core::intel::IntelSourceName;
use rampart_core::{Job, JobId, JobState, Timestamp};
use rampart_store::Store;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

rampart_store::conformance_suite!(feeds_are_fetched_and_loaded_once_per_release);

const START: i64 = 1_780_000_000_000;

/// Serves `files` by path (404 otherwise) over HTTP/1.1; counts requests.
async fn serve(files: HashMap<&'static str, Vec<u8>>) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    let files = Arc::new(files);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let files = files.clone();
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let line = String::from_utf8_lossy(&head);
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, body) = match files.get(path.as_str()) {
                    Some(body) => ("200 OK", body.clone()),
                    None => ("404 Not Found", b"not here".to_vec()),
                };
                let header = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(header.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    (base, requests)
}

fn job() -> Job {
    Job {
        id: JobId::new(),
        org_id: None,
        queue: "maintenance".into(),
        kind: rampart_app::vulns::INTEL_REFRESH_JOB.into(),
        priority: 0,
        run_at: Timestamp(START),
        payload: serde_json::json!({}),
        attempts: 1,
        max_attempts: 3,
        last_error: None,
        state: JobState::Running,
        unique_key: None,
        locked_by: None,
        locked_until: None,
        created_at: Timestamp(START),
        updated_at: Timestamp(START),
        finished_at: None,
    }
}

async fn feeds_are_fetched_and_loaded_once_per_release(store: Arc<dyn Store>) {
    let kev = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rampart-scan/tests/data/cisa-kev/known_exploited_vulnerabilities.json.gz"
    ))
    .unwrap();
    let epss = b"#model_version:v2025.03.14,score_date:2026-12-01T12:55:00Z\n\
                 cve,epss,percentile\nCVE-2020-15999,0.93512,0.99843\n"
        .to_vec();
    let (base, requests) = serve(HashMap::from([
        ("/feeds/kev.json.gz", kev),
        ("/feeds/epss.csv", epss),
        ("/feeds/not-a-release", b"<html>maintenance</html>".to_vec()),
    ]))
    .await;
    let clock = Arc::new(ManualClock::new(Timestamp(START)));
    let vulnerabilities = Vulnerabilities::new(
        store.clone(),
        clock.clone(),
        Audit::new(store.clone(), clock.clone()),
    );
    let config = IntelConfig {
        kev_url: Some(format!("{base}/feeds/kev.json.gz")),
        epss_url: Some(format!("{base}/feeds/epss.csv")),
        ..IntelConfig::default()
    };
    config.validate().unwrap();
    let refresh = |config: IntelConfig| IntelRefresh {
        vulnerabilities: vulnerabilities.clone(),
        client: feed_client(&config).unwrap(),
        config,
    };

    refresh(config.clone()).run(&job()).await.unwrap();
    let loaded = store.intel_sources().await.unwrap();
    assert_eq!(loaded.len(), 2, "{loaded:?}");
    let kev_source = loaded
        .iter()
        .find(|s| s.source == IntelSourceName::Kev)
        .unwrap();
    assert!(kev_source.rows > 1000, "{kev_source:?}");
    let epss_source = loaded
        .iter()
        .find(|s| s.source == IntelSourceName::Epss)
        .unwrap();
    assert_eq!(epss_source.rows, 1);
    assert_eq!(requests.load(Ordering::SeqCst), 2);

    // The same releases a day later: fetched, not loaded again.
    clock.advance_secs(86_400);
    refresh(config.clone()).run(&job()).await.unwrap();
    assert_eq!(requests.load(Ordering::SeqCst), 4);
    assert_eq!(store.intel_sources().await.unwrap(), loaded);

    // A feed that is gone, or answers with something else: the job fails
    // naming it, and what was loaded stays.
    for path in ["/feeds/gone.json", "/feeds/not-a-release"] {
        let broken = IntelConfig {
            kev_url: Some(format!("{base}{path}")),
            epss_url: None,
            ..IntelConfig::default()
        };
        match refresh(broken).run(&job()).await {
            Err(JobFailure::Retry(message)) => assert!(message.contains(path), "{message}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    assert_eq!(store.intel_sources().await.unwrap(), loaded);

    // Settings that are not URLs are refused at start-up.
    let bad = IntelConfig {
        kev_url: Some("file:///etc/passwd".into()),
        ..IntelConfig::default()
    };
    assert!(bad.validate().unwrap_err().contains("intel.kev_url"));
}
