//! Durability: SIGKILL the server during sustained ingest, restart it, and
//! every event that got a 2xx is stored, none twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

mod common;

use common::free_port;

const PASSWORD: &str = "crash-test-password-1";

fn start(dir: &std::path::Path, port: u16) -> Child {
    common::serve(dir, port, PASSWORD)
}

async fn login(client: &reqwest::Client, base: &str) -> String {
    let r: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "admin@localhost", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(dir.path(), port);
    let client = reqwest::Client::new();
    let token = login(&client, &base).await;

    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<u64>::new()));
    let mut senders = Vec::new();
    for _ in 0..4 {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let (next, stop, acknowledged) = (next.clone(), stop.clone(), acknowledged.clone());
        senders.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let first = next.fetch_add(200, Ordering::Relaxed);
                let body: String = (first..first + 200)
                    .map(|seq| json!({"message": "crash test", "seq": seq}).to_string() + "\n")
                    .collect();
                let sent = client
                    .post(format!("{base}/api/v1/events"))
                    .bearer_auth(&token)
                    .header("content-type", "application/x-ndjson")
                    .body(body)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => {
                        acknowledged.lock().unwrap().extend(first..first + 200);
                    }
                    // Killed mid-request: no answer, so no promise.
                    _ => break,
                }
            }
        }));
    }
    // Let ingest run, then kill without warning.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.await.unwrap();
    }
    let acknowledged: Vec<u64> = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 1000,
        "too little was sent before the kill: {}",
        acknowledged.len()
    );

    let mut server = start(dir.path(), port);
    let token = login(&client, &base).await;
    let mut stored: HashMap<u64, usize> = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/events?limit=1000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = client
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for item in page["items"].as_array().unwrap() {
            *stored
                .entry(item["fields"]["seq"].as_u64().unwrap())
                .or_default() += 1;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();

    let duplicates: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicates.is_empty(),
        "stored twice: {:?}",
        &duplicates[..duplicates.len().min(5)]
    );
    let stored: HashSet<u64> = stored.into_keys().collect();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|s| !stored.contains(s))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    eprintln!(
        "{} acknowledged, {} stored (unacknowledged extras may survive)",
        acknowledged.len(),
        stored.len()
    );
}
