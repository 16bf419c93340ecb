//! Caches with invalidation across nodes: two nodes on one PostgreSQL
//! database and one Redis. What one node changes (a revoked API key, a
//! disabled user, a new incident) reaches the other's cache within a
//! second; the metrics count hits, misses and remote invalidations.

use std::sync::Arc;
use std::time::Duration;

use rampart_core::SystemClock;
use rampart_server::{Application, Config};
use rampart_store::testing::TestDatabase;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::spawn_app_with;

/// Polls `check` for up to a second; true once it holds.
async fn within_a_second(mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidations_reach_the_other_node_within_a_second() {
    let Ok(redis_url) = std::env::var("RAMPART_TEST_REDIS_URL") else {
        eprintln!(
            "notice: RAMPART_TEST_REDIS_URL is not set; the cross-node cache test is skipped"
        );
        return;
    };
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let channel = format!("rampart-test:{}:invalidate", uuid::Uuid::now_v7());
    let shared = {
        let channel = channel.clone();
        move |config: &mut Config| {
            config.redis_url = Some(SecretString::from(redis_url));
            config.rate_limits.redis_key_prefix = format!("{channel}:rl");
            config.cache.redis_channel = channel;
            // Long enough that only an invalidation can explain a change.
            config.cache.auth_ttl_secs = 300;
            config.cache.overview_ttl_secs = 300;
            config.jwt_secret = Some(SecretString::from(
                "a-jwt-secret-shared-by-both-nodes-0123456789",
            ));
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let mut second_config = crate::helpers::test_config(&db, &dir);
    shared.clone()(&mut second_config);
    let a = spawn_app_with(db, shared).await;
    let node_b = Application::build_with_clock(second_config, Arc::new(SystemClock))
        .await
        .expect("second node builds");
    let b = format!("http://127.0.0.1:{}", node_b.port());
    let stop_b = node_b.shutdown_handle();
    let server_b = tokio::spawn(node_b.run_until_stopped());
    let client = reqwest::Client::new();
    let get = |base: String, path: &'static str, token: String| {
        let client = client.clone();
        async move {
            let r = client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (
                status,
                r.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };

    let admin = a.admin_token().await;
    // An API key, used (and so cached) on node B, revoked on node A.
    let (key_id, key) = a.api_key(&admin, &["read"]).await;
    for _ in 0..3 {
        assert_eq!(
            get(b.clone(), "/api/v1/me", key.clone()).await.0,
            StatusCode::OK
        );
    }
    let revoked = a
        .request(
            Method::DELETE,
            &format!("/api/v1/api-keys/{key_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert!(revoked.status.is_success(), "{}", revoked.body);
    assert!(
        within_a_second(
            async || get(b.clone(), "/api/v1/me", key.clone()).await.0 == StatusCode::UNAUTHORIZED
        )
        .await,
        "node B still accepts the revoked key"
    );

    // A user signed in through node B, disabled on node A.
    let user_id = a.create_user(&admin, "cached@localhost", "analyst").await;
    let token = a.token("cached@localhost", "user-password-123").await;
    assert_eq!(
        get(b.clone(), "/api/v1/me", token.clone()).await.0,
        StatusCode::OK
    );
    let disabled = a
        .request(
            Method::PATCH,
            &format!("/api/v1/users/{user_id}"),
            Some(&admin),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert!(
        within_a_second(async || get(b.clone(), "/api/v1/me", token.clone()).await.0
            == StatusCode::UNAUTHORIZED)
        .await,
        "node B still accepts the disabled user's token"
    );

    // The dashboard's figures, cached on node B, follow an incident made on A.
    let open = |body: &serde_json::Value| {
        body["incidents_by_status"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["status"] == "open")
            .map(|s| s["count"].as_i64().unwrap())
            .unwrap()
    };
    let (status, before) = get(b.clone(), "/api/v1/overview", admin.clone()).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    let (_, again) = get(b.clone(), "/api/v1/overview", admin.clone()).await;
    assert_eq!(
        before["at"], again["at"],
        "the second read is the cached one"
    );
    a.post(
        "/api/v1/incidents",
        Some(&admin),
        json!({"title": "seen on A", "severity": 3}),
    )
    .await;
    let expected = open(&before) + 1;
    assert!(
        within_a_second(
            async || open(&get(b.clone(), "/api/v1/overview", admin.clone()).await.1) == expected
        )
        .await,
        "node B's overview did not follow"
    );

    // Node B counted hits, misses and invalidations from A.
    let metrics = client
        .get(format!("{b}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "rampart_cache_requests_total{cache=\"api_keys\",outcome=\"hit\"}",
        "rampart_cache_requests_total{cache=\"overview\",outcome=\"miss\"}",
        "rampart_cache_invalidations_total{cache=\"api_keys\",origin=\"remote\"}",
        "rampart_cache_invalidations_total{cache=\"overview\",origin=\"remote\"}",
    ] {
        assert!(metrics.contains(needle), "{needle} in\n{metrics}");
    }
    stop_b.shutdown();
    let _ = server_b.await;
    a.stop().await;
}
