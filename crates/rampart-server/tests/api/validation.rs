//! Validation rules over HTTP: reject and warn modes per source, live
//! pass/fail counts, admin-only changes, and isolation between tenants.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_every_backend;

on_every_backend!(
    rules_reject_or_flag_events_and_count_passes_and_failures,
    rules_are_admin_managed_and_invisible_to_other_organisations,
);

const NDJSON: &str = "application/x-ndjson";

async fn create_rule(app: &TestApp, token: &str, body: serde_json::Value) -> String {
    let r = app
        .post("/api/v1/validation-rules", Some(token), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn rules_reject_or_flag_events_and_count_passes_and_failures(app: &TestApp) {
    let admin = app.admin_token().await;
    let needs_ip = create_rule(
        app,
        &admin,
        json!({"name": "fw-needs-ip", "source": "firewall", "field": "source.ip", "check": {"type": "required"}, "mode": "reject"}),
    )
    .await;
    let env = create_rule(
        app,
        &admin,
        json!({"name": "known-env", "field": "labels.env", "check": {"type": "allowed_values", "values": ["prod", "dev"]}, "mode": "warn"}),
    )
    .await;

    let body = [
        json!({"source.ip": "10.0.0.1", "labels": {"env": "prod"}}),
        json!({"message": "no address", "labels": {"env": "prod"}}),
        json!({"source.ip": "10.0.0.2", "labels": {"env": "staging"}}),
    ]
    .iter()
    .map(|e| e.to_string() + "\n")
    .collect::<String>();
    let r = app
        .post_bytes(
            "/api/v1/events?source=firewall",
            &admin,
            NDJSON,
            None,
            body.clone().into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["accepted"], 2);
    assert_eq!(r.body["errors"][0]["index"], 1);
    assert_eq!(r.body["errors"][0]["code"], "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "source.ip");
    assert!(r.body["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("fw-needs-ip"));

    // Another source: the firewall rule does not apply.
    let r = app
        .post_bytes(
            "/api/v1/events?source=web",
            &admin,
            NDJSON,
            None,
            body.into_bytes(),
        )
        .await;
    assert_eq!(r.body["accepted"], 3, "{:?}", r.body);

    let flagged = app.get("/api/v1/events?limit=10", &admin).await;
    let warned: Vec<_> = flagged.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["warnings"] == json!(["known-env"]))
        .collect();
    assert_eq!(warned.len(), 2, "{:?}", flagged.body);

    let counts = app
        .get(
            &format!("/api/v1/validation-rules/{needs_ip}/counts"),
            &admin,
        )
        .await;
    assert_eq!(counts.status, StatusCode::OK, "{:?}", counts.body);
    assert_eq!(
        (
            counts.body["passed"].as_i64(),
            counts.body["failed"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(counts.body["buckets"].as_array().unwrap().len(), 1);
    let counts = app
        .get(
            &format!("/api/v1/validation-rules/{env}/counts?bucket_minutes=60"),
            &admin,
        )
        .await;
    // Six events checked; the rejected one was checked too.
    assert_eq!(
        (
            counts.body["passed"].as_i64(),
            counts.body["failed"].as_i64()
        ),
        (Some(4), Some(2))
    );

    // Disabling a rule takes effect at once on this node.
    let r = app
        .request(
            Method::PUT,
            &format!("/api/v1/validation-rules/{needs_ip}"),
            Some(&admin),
            Some(json!({"name": "fw-needs-ip", "source": "firewall", "field": "source.ip", "check": {"type": "required"}, "mode": "reject", "enabled": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .post_bytes(
            "/api/v1/events?source=firewall",
            &admin,
            NDJSON,
            None,
            b"{\"message\":\"x\"}\n".to_vec(),
        )
        .await;
    assert_eq!(r.body["accepted"], 1);
}

async fn rules_are_admin_managed_and_invisible_to_other_organisations(app: &TestApp) {
    let admin = app.admin_token().await;
    let id = create_rule(
        app,
        &admin,
        json!({"name": "ticket", "field": "ticket", "check": {"type": "regex", "pattern": "^T-[0-9]+$"}, "mode": "warn"}),
    )
    .await;
    let dup = app
        .post(
            "/api/v1/validation-rules",
            Some(&admin),
            json!({"name": "ticket", "field": "x", "check": {"type": "required"}, "mode": "warn"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad = app
        .post("/api/v1/validation-rules", Some(&admin), json!({"name": "bad", "field": "x", "check": {"type": "regex", "pattern": "("}, "mode": "warn"}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "check");
    let bad = app
        .post(
            "/api/v1/validation-rules",
            Some(&admin),
            json!({"name": "bad", "field": "x", "check": {"type": "sometimes"}, "mode": "warn"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    app.create_user(&admin, "viewer@example.test", "viewer")
        .await;
    let viewer = app.token("viewer@example.test", "user-password-123").await;
    assert_eq!(
        app.get("/api/v1/validation-rules", &viewer).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = app
        .post(
            "/api/v1/validation-rules",
            Some(&viewer),
            json!({"name": "v", "field": "x", "check": {"type": "required"}, "mode": "warn"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let other = app.second_org("othercorp").await;
    assert_eq!(
        app.get("/api/v1/validation-rules", &other).await.body["items"],
        json!([])
    );
    for path in [
        format!("/api/v1/validation-rules/{id}"),
        format!("/api/v1/validation-rules/{id}/counts"),
    ] {
        assert_eq!(
            app.get(&path, &other).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/validation-rules/{id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .request(
            Method::PUT,
            &format!("/api/v1/validation-rules/{id}"),
            Some(&other),
            Some(
                json!({"name": "x", "field": "x", "check": {"type": "required"}, "mode": "reject"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The other organisation's events are not checked by this rule.
    let r = app
        .post_bytes(
            "/api/v1/events",
            &other,
            NDJSON,
            None,
            b"{\"ticket\":\"nope\"}\n".to_vec(),
        )
        .await;
    let listed = app.get("/api/v1/events", &other).await;
    assert_eq!(r.body["accepted"], 1);
    assert!(listed.body["items"][0].get("warnings").is_none());

    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/validation-rules/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/v1/validation-rules/{id}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
