//! Rate limits against the real server: reads and writes per caller,
//! sign-in per client address, ingest per organisation by events, the
//! `RateLimit-Policy`/`RateLimit` headers and 429 with `Retry-After`, the
//! metrics; and with Redis, one count shared by two nodes.

use std::sync::Arc;

use rampart_core::rate_limit::Quota;
use rampart_core::SystemClock;
use rampart_server::{Application, Config};
use rampart_store::testing::TestDatabase;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{spawn_app_with, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

fn quota(limit: u64, period_secs: u64, burst: u64) -> Quota {
    Quota {
        limit,
        period_secs,
        burst,
    }
}

fn small_limits(config: &mut Config) {
    config.rate_limits.read = quota(5, 60, 5);
    config.rate_limits.write = quota(5, 60, 5);
    config.rate_limits.login = quota(8, 60, 8);
    config.rate_limits.ingest = quota(100, 1, 100);
}

fn header(reply: &crate::helpers::Reply, name: &str) -> String {
    reply
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn limits_apply_per_caller_address_and_organisation(app: &TestApp) {
    // Four sign-ins set the scene: two admins, an analyst.
    let admin = app.admin_token().await;
    app.create_user(&admin, "rl-analyst@localhost", "analyst")
        .await;
    let analyst = app.token("rl-analyst@localhost", "user-password-123").await;
    let other = app.second_org("rl-other").await;
    let (_, key) = app.api_key(&admin, &["ingest"]).await;
    let (_, other_key) = app.api_key(&other, &["ingest"]).await;

    // Sign-ins: 8 from this address pass (whatever their outcome), then 429.
    let wrong = app.login(ADMIN_EMAIL, "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(header(&wrong, "ratelimit-policy"), "\"login\";q=8;w=60");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let refused = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.body["code"], "too_many_requests");
    assert!(refused.body["detail"].as_str().unwrap().contains("login"));
    let retry: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((1..=8).contains(&retry), "{retry}");
    assert_eq!(header(&refused, "ratelimit"), "\"login\";r=0;t=60");

    // Reads: 5 per caller, the sixth refused; another caller has its own.
    for n in 0..5 {
        let r = app.get("/api/v1/me", &admin).await;
        assert_eq!(r.status, StatusCode::OK, "read {n}");
        assert_eq!(header(&r, "ratelimit-policy"), "\"read\";q=5;w=60");
        assert_eq!(
            header(&r, "ratelimit"),
            format!("\"read\";r={};t={}", 4 - n, 12 * (n + 1))
        );
    }
    let sixth = app.get("/api/v1/me", &admin).await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&sixth, "retry-after"), "12");
    assert_eq!(app.get("/api/v1/me", &analyst).await.status, StatusCode::OK);
    // Writes count apart from reads.
    for _ in 0..5 {
        let r = app
            .post(
                "/api/v1/feedback",
                Some(&analyst),
                json!({"kind": "idea", "message": "limits"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert!(header(&r, "ratelimit").starts_with("\"write\";"));
    }
    let sixth = app
        .post(
            "/api/v1/feedback",
            Some(&analyst),
            json!({"kind": "idea", "message": "limits"}),
        )
        .await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);

    // Ingest: an organisation's events per second. An idle organisation
    // may send one batch larger than its burst; the next waits.
    let lines: String = (0..150)
        .map(|i| format!("{{\"message\":\"event {i}\",\"@timestamp\":\"2026-01-01T00:00:00Z\"}}\n"))
        .collect();
    let first = app
        .post_bytes(
            "/api/v1/events",
            &key,
            "application/x-ndjson",
            None,
            lines.clone().into_bytes(),
        )
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    assert_eq!(first.body["accepted"], 150);
    assert!(header(&first, "ratelimit").starts_with("\"ingest\";r=0;"));
    let second = app
        .post_bytes(
            "/api/v1/events",
            &key,
            "application/x-ndjson",
            None,
            lines.into_bytes(),
        )
        .await;
    assert_eq!(
        second.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        second.body
    );
    assert_eq!(header(&second, "retry-after"), "1");
    // Another organisation's ingest is its own.
    let theirs = app
        .post_bytes(
            "/api/v1/events",
            &other_key,
            "application/x-ndjson",
            None,
            b"{\"message\":\"x\"}\n".to_vec(),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::ACCEPTED, "{}", theirs.body);

    // The metrics count both outcomes per policy.
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "rampart_rate_limit_decisions_total{outcome=\"limited\",policy=\"read\"} 1",
        "rampart_rate_limit_decisions_total{outcome=\"limited\",policy=\"login\"} 2",
        "rampart_rate_limit_decisions_total{outcome=\"limited\",policy=\"ingest\"} 1",
        "rampart_rate_limit_decisions_total{outcome=\"limited\",policy=\"write\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

mod sqlite {
    use std::sync::Arc;

    use rampart_core::clock::ManualClock;
    use rampart_core::{Clock, SystemClock};

    /// Time stands still: on a busy machine the sign-ins alone may take
    /// longer than one login's share of the window, and a moving clock
    /// would hand out another.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn limits_apply_per_caller_address_and_organisation() {
        let clock = ManualClock::new(SystemClock.now());
        let app = crate::helpers::spawn_app_with_clock(
            rampart_store::testing::TestDatabase::sqlite(),
            super::small_limits,
            Arc::new(clock),
        )
        .await;
        super::limits_apply_per_caller_address_and_organisation(&app).await;
        app.stop().await;
    }
}

/// Two nodes on one PostgreSQL database and one Redis share their counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_their_counts_through_redis() {
    let Ok(redis_url) = std::env::var("RAMPART_TEST_REDIS_URL") else {
        eprintln!(
            "notice: RAMPART_TEST_REDIS_URL is not set; the shared rate limit test is skipped"
        );
        return;
    };
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let prefix = format!("rampart-test:{}", uuid::Uuid::now_v7());
    let shared = {
        let redis_url = redis_url.clone();
        let prefix = prefix.clone();
        move |config: &mut Config| {
            small_limits(config);
            config.redis_url = Some(SecretString::from(redis_url));
            config.rate_limits.redis_key_prefix = prefix;
            // Both nodes sign tokens with the same key.
            config.jwt_secret = Some(SecretString::from(
                "a-jwt-secret-shared-by-both-nodes-0123456789",
            ));
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let mut second_config = crate::helpers::test_config(&db, &dir);
    shared.clone()(&mut second_config);
    let node_a = spawn_app_with(db, shared).await;
    let node_b = Application::build_with_clock(second_config, Arc::new(SystemClock))
        .await
        .expect("second node builds");
    let base_b = format!("http://127.0.0.1:{}", node_b.port());
    let stop_b = node_b.shutdown_handle();
    let server_b = tokio::spawn(node_b.run_until_stopped());

    let token = node_a.admin_token().await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for n in 0..6 {
        let base = if n % 2 == 0 { &node_a.base } else { &base_b };
        let r = client
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
    // The count lives in Redis under the configured prefix.
    let client_redis = redis::Client::open(redis_url.as_str()).unwrap();
    let mut conn = client_redis
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("{prefix}:read:user:"))),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("{prefix}:login:"))),
        "{keys:?}"
    );
    stop_b.shutdown();
    let _ = server_b.await;
    node_a.stop().await;
}
