//! `rampart watchlist import|export`, run as the real binary: a feed
//! imported offline is what the server then lists and matches events
//! against; importing again refreshes; the export reads back; refused
//! rows are named and an unknown organisation fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bootstrapped, rampart, succeeded};
use serde_json::{json, Value};

#[tokio::test]
async fn a_feed_imported_offline_is_watched_by_the_server() {
    let (dir, data, port) = bootstrapped();
    let feed = dir.path().join("feed.csv");
    std::fs::write(
        &feed,
        "type,value,tags\nip,203.0.113.77,c2\ndomain,*.evil.example,phish\nip,999.1.1.1,bad\n",
    )
    .unwrap();
    let import = |extra: &[&str]| {
        let mut command = rampart(&["watchlist", "import", "--json", "--source", "offline"]);
        command.args(extra).arg("--data-dir").arg(&data).arg(&feed);
        let reply: Value = serde_json::from_str(&succeeded(&command.output().unwrap())).unwrap();
        reply
    };
    let first = import(&[]);
    assert_eq!(
        (first["created"].as_u64(), first["refused"].as_u64()),
        (Some(2), Some(1)),
        "{first}"
    );
    assert_eq!(first["errors"][0]["index"], 3);
    let again = import(&[]);
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64()),
        (Some(0), Some(2))
    );
    let out = rampart(&["watchlist", "import", "--org", "nobody", "--data-dir"])
        .arg(&data)
        .arg(&feed)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no organisation named 'nobody'"));
    let stix = succeeded(
        &rampart(&["watchlist", "export", "--format", "stix", "--data-dir"])
            .arg(&data)
            .output()
            .unwrap(),
    );
    let bundle: Value = serde_json::from_str(&stix).unwrap();
    assert_eq!(bundle["objects"].as_array().unwrap().len(), 2);

    let mut server = common::serve(&data, port, "admin-password-12345");
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"email": "admin@localhost", "password": "admin-password-12345"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"]
        .as_str()
        .expect("signed in")
        .to_owned();
    let entries: Value = client
        .get(format!("{base}/watchlists"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = entries["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items
        .iter()
        .all(|e| e["created_by"] == "operator:cli" && e["source"] == "offline"));
    let sent = client
        .post(format!("{base}/events"))
        .bearer_auth(&token)
        .header("content-type", "application/x-ndjson")
        .body("{\"message\": \"lookup cdn.evil.example\"}\n")
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 202);
    let incidents: Value = client
        .get(format!("{base}/incidents"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        incidents["items"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Watchlist domain evil.example seen in message"),
        "{incidents}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
