//! Regressions of defects found by probing the API as an attacker would:
//! hostile rules that once overflowed the stack, a takeover of the platform
//! admin by an organisation admin, API keys that outlived their creator.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, ADMIN_EMAIL};
use crate::on_every_backend;

on_every_backend!(
    deeply_nested_rules_are_refused_and_the_server_stays_up,
    only_a_platform_admin_may_change_a_platform_admin,
    api_keys_stop_working_with_their_creator,
    nul_in_text_is_refused_or_stored_alike_on_every_backend,
    input_errors_name_the_field_and_lists_refuse_foreign_cursors,
    oversized_headers_get_a_problem_document,
);

fn rule_with_condition(condition: &str) -> String {
    format!(
        "title: deep\nlogsource:\n  product: linux\ndetection:\n  a:\n    x: 1\n  condition: {condition}\n"
    )
}

async fn deeply_nested_rules_are_refused_and_the_server_stays_up(app: &TestApp) {
    let admin = app.admin_token().await;
    let hostile = [
        rule_with_condition(&format!("{}a{}", "(".repeat(4_000), ")".repeat(4_000))),
        rule_with_condition(&format!("{}a", "not ".repeat(12_000))),
        format!(
            "title: deep\ndetection: {}1{}\n",
            "[".repeat(20_000),
            "]".repeat(20_000)
        ),
    ];
    for yaml in &hostile {
        for path in [
            "/api/v1/rules/validate",
            "/api/v1/rules/test",
            "/api/v1/rules",
        ] {
            let body = if path.ends_with("test") {
                json!({"yaml": yaml, "events": [{"x": 1}]})
            } else {
                json!({"yaml": yaml})
            };
            let r = app.post(path, Some(&admin), body).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {:?}", r.body);
            assert_eq!(r.body["field"], "yaml", "{:?}", r.body);
            let detail = r.body["detail"].as_str().unwrap();
            assert!(detail.contains("deeper than"), "{detail}");
        }
    }
    let r = app.get("/api/v1/me", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "the server still answers");
}

async fn only_a_platform_admin_may_change_a_platform_admin(app: &TestApp) {
    let platform = app.admin_token().await;
    let me = app.get("/api/v1/me", &platform).await;
    let platform_id = me.body["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(me.body["user"]["platform_admin"], true);

    // A second admin of the same organisation, and an admin-scoped key.
    app.create_user(&platform, "second-admin@example.test", "admin")
        .await;
    let org_admin = app
        .token("second-admin@example.test", "user-password-123")
        .await;
    let (_, admin_key) = app.api_key(&org_admin, &["admin"]).await;

    let path = format!("/api/v1/users/{platform_id}");
    for caller in [&org_admin, &admin_key] {
        for change in [
            json!({"password": "taken-over-password-1"}),
            json!({"role": "viewer"}),
            json!({"disabled": true}),
            json!({"display_name": "Mallory"}),
        ] {
            let r = app
                .request(Method::PATCH, &path, Some(caller), Some(change))
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
        }
        let r = app.request(Method::DELETE, &path, Some(caller), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    }
    // Nothing changed: the platform admin still logs in with the old password.
    let again = app.admin_token().await;
    let me = app.get("/api/v1/me", &again).await;
    assert_eq!(me.body["user"]["role"], "admin");
    assert_eq!(me.body["user"]["disabled"], false);
    assert_ne!(me.body["user"]["display_name"], "Mallory");
    assert!(app
        .login(ADMIN_EMAIL, "taken-over-password-1")
        .await
        .status
        .is_client_error());

    // The platform admin may change itself, and org admins still manage
    // everyone else.
    let r = app
        .request(
            Method::PATCH,
            &path,
            Some(&again),
            Some(json!({"display_name": "Operator"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let analyst = app
        .create_user(&org_admin, "ana@example.test", "analyst")
        .await;
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/v1/users/{analyst}"),
            Some(&org_admin),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

async fn api_keys_stop_working_with_their_creator(app: &TestApp) {
    let platform = app.admin_token().await;
    let creator = app
        .create_user(&platform, "shipper-admin@example.test", "admin")
        .await;
    let creator_token = app
        .token("shipper-admin@example.test", "user-password-123")
        .await;
    let (key_id, key) = app.api_key(&creator_token, &["read", "ingest"]).await;
    assert_eq!(app.get("/api/v1/me", &key).await.status, StatusCode::OK);
    let key_state = |body: &serde_json::Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == key_id.as_str())
            .map(|k| k["creator_state"].clone())
            .unwrap()
    };
    let list = app.get("/api/v1/api-keys", &platform).await;
    assert_eq!(key_state(&list.body), "active");

    // Disabled: the key stops at once, and the list says why.
    let user_path = format!("/api/v1/users/{creator}");
    let r = app
        .request(
            Method::PATCH,
            &user_path,
            Some(&platform),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        app.get("/api/v1/me", &key).await.status,
        StatusCode::UNAUTHORIZED
    );
    let list = app.get("/api/v1/api-keys", &platform).await;
    assert_eq!(key_state(&list.body), "disabled");

    // Re-enabled, then deleted: deleted is for good.
    let r = app
        .request(
            Method::PATCH,
            &user_path,
            Some(&platform),
            Some(json!({"disabled": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/me", &key).await.status, StatusCode::OK);
    let r = app
        .request(Method::DELETE, &user_path, Some(&platform), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert_eq!(
        app.get("/api/v1/me", &key).await.status,
        StatusCode::UNAUTHORIZED
    );
    let list = app.get("/api/v1/api-keys", &platform).await;
    assert_eq!(key_state(&list.body), "deleted");

    // Keys made at the command line (no creator) are unaffected: the
    // platform admin's own key keeps working.
    let (_, own) = app.api_key(&platform, &["read"]).await;
    assert_eq!(app.get("/api/v1/me", &own).await.status, StatusCode::OK);
}

async fn nul_in_text_is_refused_or_stored_alike_on_every_backend(app: &TestApp) {
    let admin = app.admin_token().await;
    // Text input with NUL is a 400 naming the field, never a 500.
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "admin\u{0}@localhost", "password": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.body["field"], "email");
    for (path, body, field) in [
        (
            "/api/v1/incidents",
            json!({"title": "a\u{0}b", "severity": "high"}),
            "title",
        ),
        (
            "/api/v1/users",
            json!({"email": "n@example.test", "role": "viewer", "password": "user-password-123", "display_name": "x\u{0}"}),
            "display_name",
        ),
        (
            "/api/v1/rules/validate",
            json!({"yaml": "title: t\u{0}"}),
            "yaml",
        ),
    ] {
        let r = app.post(path, Some(&admin), body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {:?}", r.body);
        assert_eq!(r.body["field"], field, "{path}");
    }
    for path in [
        "/api/v1/incidents?q=a%00b",
        "/api/v1/events?q=a%00b",
        "/api/v1/users?cursor=%00",
    ] {
        let r = app.get(path, &admin).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {:?}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json");
    }
    // Events keep their data: NUL becomes U+FFFD on both backends.
    let (_, key) = app.api_key(&admin, &["ingest", "read"]).await;
    let r = app
        .post_bytes(
            "/api/v1/events",
            &key,
            "application/x-ndjson",
            None,
            b"{\"message\":\"a\\u0000b\",\"host\":{\"name\":\"h\\u0000\"}}\n".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["accepted"], 1);
    let found = app.get("/api/v1/events", &key).await;
    let event = &found.body["items"][0];
    assert_eq!(event["message"], "a\u{fffd}b", "{event:?}");
    assert_eq!(
        event["host.name"]
            .as_str()
            .or(event["host"]["name"].as_str()),
        Some("h\u{fffd}"),
        "{event:?}"
    );
}

async fn input_errors_name_the_field_and_lists_refuse_foreign_cursors(app: &TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/incidents",
            Some(&admin),
            json!({"title": 5, "severity": "high"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["field"], "title", "{:?}", r.body);

    // Rule pages: the cursor handed out works, any other is a 400.
    let first = app.get("/api/v1/rules?limit=3", &admin).await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let next = app
        .get(&format!("/api/v1/rules?limit=3&cursor={cursor}"), &admin)
        .await;
    assert_eq!(next.status, StatusCode::OK);
    assert_ne!(next.body["items"][0]["id"], first.body["items"][0]["id"]);
    assert_eq!(next.body["items"].as_array().unwrap().len(), 3);
    let r = app.get("/api/v1/rules?cursor=not*a*cursor", &admin).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["field"], "cursor");

    // A manual incident links only this organisation's existing events.
    let (_, key) = app.api_key(&admin, &["ingest", "read"]).await;
    let r = app
        .post_bytes(
            "/api/v1/events",
            &key,
            "application/json",
            None,
            br#"{"message":"mine"}"#.to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let mine = app.get("/api/v1/events", &key).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.second_org("nosy").await;
    for (ids, status) in [
        (json!(["00000000ffffffff"]), StatusCode::BAD_REQUEST),
        (json!([mine.clone()]), StatusCode::BAD_REQUEST),
    ] {
        let r = app
            .post(
                "/api/v1/incidents",
                Some(&other),
                json!({"title": "t", "severity": "low", "event_ids": ids}),
            )
            .await;
        assert_eq!(r.status, status, "{:?}", r.body);
        assert_eq!(r.body["field"], "event_ids[0]");
    }
    let r = app
        .post(
            "/api/v1/incidents",
            Some(&admin),
            json!({"title": "t", "severity": "low", "event_ids": [mine]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

async fn oversized_headers_get_a_problem_document(app: &TestApp) {
    let url = format!("{}/health", app.base);
    let mut many = app.client.get(&url);
    for i in 0..150 {
        many = many.header(format!("x-padding-{i}"), "v");
    }
    let big = app.client.get(&url).header("x-big", "a".repeat(70 * 1024));
    for request in [many, big] {
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "headers_too_large");
    }
    let fine = app
        .client
        .get(&url)
        .header("x-one", "v")
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
}
