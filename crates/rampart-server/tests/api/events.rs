//! Events over HTTP: ingest in every body form, errors with positions,
//! raw syslog, search, one event, stats, and isolation between tenants.

use std::io::Write;

use rampart_core::Clock;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_every_backend;

on_every_backend!(
    ndjson_and_json_bodies_are_stored_and_bad_items_reported_by_position,
    compressed_bodies_are_accepted_and_limits_enforced,
    atomic_batches_are_all_or_nothing,
    raw_syslog_lines_become_structured_sshd_events,
    search_filters_paginate_and_stats_count,
    events_are_invisible_to_other_organisations_and_need_the_right_scope,
    retention_removes_events_past_the_retention_period,
    retention_is_per_organisation,
);

/// The server on SQLite with a UDP and a TCP syslog listener (in that
/// order) for the organisation `default`, source `syslog`.
async fn spawn_with_syslog_listeners() -> TestApp {
    use rampart_server::config::{SyslogListener, SyslogProtocol};
    crate::helpers::spawn_app_with(rampart_store::testing::TestDatabase::sqlite(), |config| {
        for protocol in [SyslogProtocol::Udp, SyslogProtocol::Tcp] {
            config.syslog.push(SyslogListener {
                protocol,
                listen: "127.0.0.1:0".parse().unwrap(),
                organisation: "default".into(),
                source: "syslog".into(),
            });
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syslog_listeners_ingest_udp_and_tcp_for_their_organisation() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_with_syslog_listeners().await;
    let (udp, tcp) = (app.syslog_addrs[0], app.syslog_addrs[1]);
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(b"<38>Nov 22 10:00:01 bastion sshd[7]: Failed password for root from 203.0.113.50 port 4000 ssh2", udp)
        .await
        .unwrap();
    let mut stream = tokio::net::TcpStream::connect(tcp).await.unwrap();
    let framed = "<38>1 2026-11-22T10:00:02Z bastion sshd 8 - - Accepted password for alice from 198.51.100.7 port 50022 ssh2";
    stream
        .write_all(format!("{} {framed}", framed.len()).as_bytes())
        .await
        .unwrap();
    stream
        .write_all(
            b"<38>Nov 22 10:00:03 bastion sshd[9]: Invalid user bob from 203.0.113.51 port 4001\n",
        )
        .await
        .unwrap();
    stream.shutdown().await.unwrap();

    let admin = app.admin_token().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let items = loop {
        let r = app.get("/api/v1/events?limit=10", &admin).await;
        let items = r.body["items"].as_array().unwrap().clone();
        if items.len() == 3 || std::time::Instant::now() > deadline {
            break items;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(items.len(), 3, "{items:?}");
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["event.action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["ssh_invalid_user", "ssh_login", "ssh_login"]);
    assert!(items.iter().all(|e| e["source"] == "syslog"));
    assert_eq!(items[2]["source.ip"], "203.0.113.50");
    assert_eq!(items[1]["event.outcome"], "success");
    // The other organisation sees none of it.
    let other = app.second_org("syslogless").await;
    let r = app.get("/api/v1/events", &other).await;
    assert_eq!(r.body["items"], json!([]));
    app.stop().await;
}

const NDJSON: &str = "application/x-ndjson";

fn line(i: usize) -> String {
    json!({
        "@timestamp": format!("2026-11-22T10:{:02}:{:02}Z", i / 60 % 60, i % 60),
        "event": {"action": if i.is_multiple_of(2) { "ssh_login" } else { "http_request" }, "outcome": "failure", "severity": i % 5},
        "source": {"ip": format!("203.0.113.{}", i % 200), "port": 40000 + i},
        "user": {"name": format!("user{}", i % 3)},
        "host.name": "web1",
        "message": format!("event {i}"),
        "labels": {"n": i}
    })
    .to_string()
}

fn ndjson(range: std::ops::Range<usize>) -> Vec<u8> {
    range
        .map(|i| line(i) + "\n")
        .collect::<String>()
        .into_bytes()
}

async fn ingest_key(app: &TestApp, admin: &str) -> String {
    app.api_key(admin, &["ingest", "read"]).await.1
}

async fn ndjson_and_json_bodies_are_stored_and_bad_items_reported_by_position(app: &TestApp) {
    let admin = app.admin_token().await;
    let mut body = ndjson(0..3);
    body.extend_from_slice(b"{not json\n\n{\"source.ip\": \"300.1.1.1\"}\n[1,2]\n");
    body.extend_from_slice(&ndjson(3..5));
    let r = app
        .post_bytes("/api/v1/events", &admin, NDJSON, None, body)
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["accepted"], 5);
    assert_eq!(r.body["rejected"], 3);
    let errors = r.body["errors"].as_array().unwrap();
    assert_eq!(errors[0]["index"], 3);
    assert_eq!(errors[0]["code"], "invalid_json");
    assert_eq!(errors[1]["index"], 5);
    assert_eq!(errors[1]["field"], "source.ip");
    assert_eq!(errors[2]["code"], "not_an_object");

    let r = app
        .post(
            "/api/v1/events",
            Some(&admin),
            json!([{"message": "one"}, {"message": "two", "tags": ["x"]}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["accepted"], 2);
    let r = app
        .post("/api/v1/events", Some(&admin), json!({"message": "single"}))
        .await;
    assert_eq!(r.body["accepted"], 1);

    let r = app.get("/api/v1/events?limit=1000", &admin).await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    let first = items.iter().find(|e| e["message"] == "event 4").unwrap();
    assert_eq!(first["source.ip"], "203.0.113.4");
    assert_eq!(first["event.severity"], 4);
    assert_eq!(first["fields"]["labels"]["n"], 4);
    assert_eq!(first["source"], "http");

    let id = first["id"].as_str().unwrap();
    let one = app.get(&format!("/api/v1/events/{id}"), &admin).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body, *first);
    let missing = app.get("/api/v1/events/ffffffffffff", &admin).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let garbage = app.get("/api/v1/events/not-an-id", &admin).await;
    assert_eq!(garbage.status, StatusCode::NOT_FOUND);

    // A JSON body that is not JSON at all is refused whole, with its position.
    let r = app
        .post_bytes(
            "/api/v1/events",
            &admin,
            "application/json",
            None,
            b"[{\"a\":1},\n{".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], "malformed_json");
    assert_eq!(r.body["line"], 2);
}

async fn compressed_bodies_are_accepted_and_limits_enforced(app: &TestApp) {
    let admin = app.admin_token().await;
    let body = ndjson(0..20);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&body).unwrap();
    let r = app
        .post_bytes(
            "/api/v1/events",
            &admin,
            NDJSON,
            Some("gzip"),
            gz.finish().unwrap(),
        )
        .await;
    assert_eq!(r.body["accepted"], 20, "{:?}", r.body);
    let zs = zstd::bulk::compress(&body, 3).unwrap();
    let r = app
        .post_bytes("/api/v1/events", &admin, NDJSON, Some("zstd"), zs)
        .await;
    assert_eq!(r.body["accepted"], 20, "{:?}", r.body);

    // The test server allows 64 KiB: a bomb stops there, as does a plain body.
    let bomb = zstd::bulk::compress(&vec![b' '; 32 << 20], 19).unwrap();
    assert!(bomb.len() < 64 * 1024);
    let r = app
        .post_bytes("/api/v1/events", &admin, NDJSON, Some("zstd"), bomb)
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    let r = app
        .post_bytes("/api/v1/events", &admin, NDJSON, None, ndjson(0..2000))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = app
        .post_bytes("/api/v1/events", &admin, "text/csv", None, b"a,b".to_vec())
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app
        .post_bytes("/api/v1/events", &admin, NDJSON, Some("br"), b"x".to_vec())
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let listed = app.get("/api/v1/events?limit=1000", &admin).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 40);
}

async fn atomic_batches_are_all_or_nothing(app: &TestApp) {
    let admin = app.admin_token().await;
    let mut body = ndjson(0..5);
    body.extend_from_slice(b"{\"destination.port\": 99999}\n");
    let r = app
        .post_bytes("/api/v1/events?atomic=true", &admin, NDJSON, None, body)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["code"], "batch_rejected");
    assert_eq!(r.body["errors"][0]["index"], 5);
    assert_eq!(r.body["errors"][0]["field"], "destination.port");
    let listed = app.get("/api/v1/events", &admin).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 0);
    let r = app
        .post_bytes(
            "/api/v1/events?atomic=true",
            &admin,
            NDJSON,
            None,
            ndjson(0..5),
        )
        .await;
    assert_eq!(r.body["accepted"], 5);
}

async fn raw_syslog_lines_become_structured_sshd_events(app: &TestApp) {
    let admin = app.admin_token().await;
    let lines = "\
<38>Nov 22 10:00:01 bastion sshd[100]: Invalid user admin from 203.0.113.9 port 52144\n\
<38>Nov 22 10:00:01 bastion sshd[100]: Failed password for invalid user admin from 203.0.113.9 port 52144 ssh2\n\
<38>1 2026-11-22T10:00:05Z bastion sshd 101 - - Accepted publickey for alice from 198.51.100.7 port 50022 ssh2\n\
this is not syslog\n\
Nov 22 10:00:09 bastion sshd[100]: Disconnected from invalid user admin 203.0.113.9 port 52144 [preauth]\n";
    let r = app
        .post_bytes(
            "/api/v1/events/raw?format=syslog",
            &admin,
            "text/plain",
            None,
            lines.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["accepted"], 4);
    assert_eq!(r.body["errors"][0]["index"], 3);
    assert_eq!(r.body["errors"][0]["code"], "invalid_syslog");

    let failed = app
        .get(
            "/api/v1/events?action=ssh_login&outcome=failure&source_ip=203.0.113.0/24",
            &admin,
        )
        .await;
    let items = failed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", failed.body);
    assert_eq!(items[0]["user.name"], "admin");
    assert_eq!(items[0]["source.port"], 52144);
    assert_eq!(items[0]["host.name"], "bastion");
    assert_eq!(items[0]["process.name"], "sshd");
    let ok = app.get("/api/v1/events?outcome=success", &admin).await;
    assert_eq!(ok.body["items"][0]["user.name"], "alice");

    let r = app
        .post_bytes(
            "/api/v1/events/raw?format=plain&source=app",
            &admin,
            "text/plain",
            None,
            b"hello\r\nworld\n".to_vec(),
        )
        .await;
    assert_eq!(r.body["accepted"], 2);
    let found = app.get("/api/v1/events?q=WORLD", &admin).await;
    assert_eq!(found.body["items"][0]["source"], "app");
    let bad = app
        .post_bytes(
            "/api/v1/events/raw?format=csv",
            &admin,
            "text/plain",
            None,
            b"x".to_vec(),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["code"], "invalid_query");
    assert!(
        bad.body["detail"].as_str().unwrap().contains("csv"),
        "{:?}",
        bad.body
    );
    let missing = app
        .post_bytes(
            "/api/v1/events/raw",
            &admin,
            "text/plain",
            None,
            b"x".to_vec(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body["field"], "format", "{:?}", missing.body);
}

async fn search_filters_paginate_and_stats_count(app: &TestApp) {
    let admin = app.admin_token().await;
    let key = ingest_key(app, &admin).await;
    let r = app
        .post_bytes("/api/v1/events", &key, NDJSON, None, ndjson(0..250))
        .await;
    assert_eq!(r.body["accepted"], 250);

    // Newest first, page by page, each event once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/events?limit=60&cursor={c}"),
            None => "/api/v1/events?limit=60".to_string(),
        };
        let page = app.get(&path, &key).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["@timestamp"].as_str().unwrap().to_string());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 250);
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let r = app
        .get("/api/v1/events?from=2026-11-22T10:01:00Z&to=2026-11-22T10:02:00Z&min_severity=3&user=user1", &key)
        .await;
    let items = r.body["items"].as_array().unwrap();
    let want = (60..120).filter(|i| i % 5 >= 3 && i % 3 == 1).count();
    assert_eq!(items.len(), want);

    let stats = app
        .get(
            "/api/v1/events/stats?bucket=1m&top=event.action&top_limit=1&action=ssh_login",
            &key,
        )
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{:?}", stats.body);
    assert_eq!(stats.body["total"], 125);
    assert_eq!(stats.body["bucket_secs"], 60);
    assert_eq!(stats.body["buckets"].as_array().unwrap().len(), 5);
    assert_eq!(
        stats.body["top"],
        json!([{"value": "ssh_login", "count": 125}])
    );

    for bad in [
        "/api/v1/events?source_ip=10.0.0.0/99",
        "/api/v1/events?from=yesterday",
        "/api/v1/events?min_severity=loud",
        "/api/v1/events?limit=0",
        "/api/v1/events?cursor=xyz",
        "/api/v1/events/stats?bucket=5y",
        "/api/v1/events/stats?top=password",
    ] {
        let r = app.get(bad, &key).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {:?}", r.body);
        assert!(r.body["field"].is_string(), "{bad}: {:?}", r.body);
    }
}

async fn events_are_invisible_to_other_organisations_and_need_the_right_scope(app: &TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post_bytes("/api/v1/events", &admin, NDJSON, None, ndjson(0..10))
        .await;
    assert_eq!(r.body["accepted"], 10);
    let listed = app.get("/api/v1/events", &admin).await;
    let id = listed.body["items"][0]["id"].as_str().unwrap().to_string();

    let other = app.second_org("othercorp").await;
    let theirs = app.get("/api/v1/events", &other).await;
    assert_eq!(theirs.body["items"], json!([]));
    let r = app.get(&format!("/api/v1/events/{id}"), &other).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let stats = app.get("/api/v1/events/stats", &other).await;
    assert_eq!(stats.body["total"], 0);
    let other_key = app.api_key(&other, &["read"]).await.1;
    let r = app.get(&format!("/api/v1/events/{id}"), &other_key).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Scopes: an ingest-only key cannot read; a read-only key cannot ingest.
    let ingest_only = app.api_key(&admin, &["ingest"]).await.1;
    assert_eq!(
        app.get("/api/v1/events", &ingest_only).await.status,
        StatusCode::FORBIDDEN
    );
    let read_only = app.api_key(&admin, &["read"]).await.1;
    let r = app
        .post_bytes("/api/v1/events", &read_only, NDJSON, None, ndjson(0..1))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let viewer = {
        app.create_user(&admin, "viewer@example.test", "viewer")
            .await;
        app.token("viewer@example.test", "user-password-123").await
    };
    assert_eq!(
        app.get("/api/v1/events", &viewer).await.status,
        StatusCode::OK
    );
    let r = app
        .post_bytes("/api/v1/events", &viewer, NDJSON, None, ndjson(0..1))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .client
        .post(format!("{}/api/v1/events", app.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn retention_removes_events_past_the_retention_period(app: &TestApp) {
    let admin = app.admin_token().await;
    let now = rampart_core::SystemClock.now().0;
    let days = app.state.config.ingest.retention_days;
    let old = now - (days + 1) * 86_400_000;
    let body = format!(
        "{}\n{}\n",
        json!({"@timestamp": old, "message": "expired"}),
        json!({"@timestamp": now - 1000, "message": "kept"})
    );
    let r = app
        .post_bytes("/api/v1/events", &admin, NDJSON, None, body.into_bytes())
        .await;
    assert_eq!(r.body["accepted"], 2);
    let run = app.state.ingest.run_retention().await.unwrap();
    assert_eq!(run.events_removed, 1);
    let left = app.get("/api/v1/events", &admin).await;
    let items = left.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["message"], "kept");
}

async fn retention_is_per_organisation(app: &TestApp) {
    let admin = app.admin_token().await;
    let other = app.second_org("keepsless").await;
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/org/settings",
            Some(&other),
            Some(json!({"retention_days": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["retention_days"], 1);
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/org/settings",
            Some(&other),
            Some(json!({"retention_days": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["field"], "retention_days");
    let mine = app.get("/api/v1/org/settings", &admin).await;
    assert_eq!(
        mine.body["retention_days"],
        mine.body["default_retention_days"]
    );
    assert!(mine.body["retention_days_override"].is_null());

    let now = rampart_core::SystemClock.now().0;
    let three_days_old =
        json!({"@timestamp": now - 3 * 86_400_000, "message": "three days old"}).to_string() + "\n";
    for token in [&admin, &other] {
        let r = app
            .post_bytes(
                "/api/v1/events",
                token,
                NDJSON,
                None,
                three_days_old.clone().into_bytes(),
            )
            .await;
        assert_eq!(r.body["accepted"], 1);
    }
    app.state.ingest.run_retention().await.unwrap();
    assert_eq!(
        app.get("/api/v1/events", &admin).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get("/api/v1/events", &other).await.body["items"],
        json!([])
    );
    // Viewers read settings but cannot change them.
    app.create_user(&admin, "viewer@example.test", "viewer")
        .await;
    let viewer = app.token("viewer@example.test", "user-password-123").await;
    assert_eq!(
        app.get("/api/v1/org/settings", &viewer).await.status,
        StatusCode::OK
    );
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/org/settings",
            Some(&viewer),
            Some(json!({"retention_days": 5})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Syslog lines for the one-pipeline test: a brute force, a user the
/// validation rules refuse, a host they flag.
fn pipeline_lines() -> Vec<String> {
    let mut lines: Vec<String> = (0..6)
        .map(|i| format!("<38>1 2026-11-22T11:00:{:02}Z bastion sshd 7 - - Failed password for root from 203.0.113.60 port {} ssh2", i * 5, 4100 + i))
        .collect();
    lines.push("<38>1 2026-11-22T11:01:00Z bastion sshd 7 - - Failed password for mallory from 203.0.113.61 port 4200 ssh2".into());
    lines.push("<38>1 2026-11-22T11:01:05Z web9 sshd 7 - - Accepted password for bob from 198.51.100.9 port 4300 ssh2".into());
    lines
}

/// What an organisation ended up with: each stored event's message and
/// warnings, the incidents with their occurrences, each validation rule's
/// pass/fail counts.
async fn pipeline_outcome(app: &TestApp, token: &str, rules: &[String]) -> serde_json::Value {
    let mut events: Vec<(String, serde_json::Value)> =
        app.get("/api/v1/events?limit=100", token).await.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["message"].as_str().unwrap().to_owned(),
                    e["warnings"].clone(),
                )
            })
            .collect();
    events.sort_by(|a, b| a.0.cmp(&b.0));
    let mut incidents: Vec<(String, i64)> = app.get("/api/v1/incidents", token).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["title"].as_str().unwrap().to_owned(),
                i["occurrences"].as_i64().unwrap(),
            )
        })
        .collect();
    incidents.sort();
    let mut counts = Vec::new();
    for rule in rules {
        let c = app
            .get(&format!("/api/v1/validation-rules/{rule}/counts"), token)
            .await;
        counts.push((c.body["passed"].clone(), c.body["failed"].clone()));
    }
    json!({"events": events, "incidents": incidents, "counts": counts})
}

async fn pipeline_rules(app: &TestApp, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for body in [
        json!({"name": "known-users", "source": "syslog", "field": "user.name", "check": {"type": "allowed_values", "values": ["root", "bob"]}, "mode": "reject"}),
        json!({"name": "known-hosts", "source": "syslog", "field": "host.name", "check": {"type": "allowed_values", "values": ["bastion"]}, "mode": "warn"}),
    ] {
        let r = app
            .post("/api/v1/validation-rules", Some(token), body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_source_takes_the_same_pipeline() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_with_syslog_listeners().await;
    let lines = pipeline_lines();

    // Over HTTP, into a second organisation.
    let http = app.second_org("over-http").await;
    let http_rules = pipeline_rules(&app, &http).await;
    let r = app
        .post_bytes(
            "/api/v1/events/raw?format=syslog&source=syslog",
            &http,
            "text/plain",
            None,
            lines.join("\n").into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(
        (r.body["accepted"].as_u64(), r.body["rejected"].as_u64()),
        (Some(7), Some(1))
    );
    assert_eq!(r.body["errors"][0]["code"], "validation_failed");
    let expected = pipeline_outcome(&app, &http, &http_rules).await;
    assert_eq!(
        expected["incidents"][0][0], "SSH brute force (source.ip=203.0.113.60)",
        "{expected}"
    );

    // Over the listeners, half by UDP and half by TCP, into the default one.
    let admin = app.admin_token().await;
    let syslog_rules = pipeline_rules(&app, &admin).await;
    let (udp, tcp) = (app.syslog_addrs[0], app.syslog_addrs[1]);
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for line in &lines[..4] {
        socket.send_to(line.as_bytes(), udp).await.unwrap();
    }
    let mut stream = tokio::net::TcpStream::connect(tcp).await.unwrap();
    for line in &lines[4..] {
        stream
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    stream.shutdown().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = pipeline_outcome(&app, &admin, &syslog_rules).await;
        if got == expected {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{got}\ninstead of\n{expected}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.stop().await;
}
