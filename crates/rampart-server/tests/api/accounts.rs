//! Roles, API-key scopes, tenant isolation, organisations and user rules.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

crate::on_every_backend!(
    roles_limit_what_users_may_do,
    api_key_scopes_limit_what_keys_may_do,
    another_organisation_sees_and_changes_nothing,
    only_platform_admins_manage_organisations,
    the_last_admin_cannot_be_removed,
    disabling_a_user_ends_their_sessions,
    lists_paginate_with_cursors,
);

async fn roles_limit_what_users_may_do(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "ana@x.test", "analyst").await;
    app.create_user(&admin, "vic@x.test", "viewer").await;
    let analyst = app.token("ana@x.test", "user-password-123").await;
    let viewer = app.token("vic@x.test", "user-password-123").await;

    for token in [&analyst, &viewer] {
        assert_eq!(app.get("/api/v1/users", token).await.status, StatusCode::OK);
        assert_eq!(app.get("/api/v1/org", token).await.status, StatusCode::OK);
        let create = app
            .post(
                "/api/v1/users",
                Some(token),
                json!({"email": "z@x.test", "role": "viewer", "password": "long-password-1"}),
            )
            .await;
        assert_eq!(create.status, StatusCode::FORBIDDEN);
        assert_eq!(create.body["code"], "forbidden");
        assert_eq!(
            app.get("/api/v1/api-keys", token).await.status,
            StatusCode::FORBIDDEN
        );
        let key = app
            .post(
                "/api/v1/api-keys",
                Some(token),
                json!({"name": "k", "scopes": ["read"]}),
            )
            .await;
        assert_eq!(key.status, StatusCode::FORBIDDEN);
    }
    // Bad input to a permitted call names the field.
    let weak = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"email": "w@x.test", "role": "viewer", "password": "short"}),
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert_eq!(weak.body["field"], "password");
    let role = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"email": "w@x.test", "role": "root", "password": "long-password-1"}),
        )
        .await;
    assert_eq!(role.status, StatusCode::BAD_REQUEST);
    let dup = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"email": "ANA@x.test", "role": "viewer", "password": "long-password-1"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
}

async fn api_key_scopes_limit_what_keys_may_do(app: &TestApp) {
    let admin = app.admin_token().await;
    let (_, ingest) = app.api_key(&admin, &["ingest"]).await;
    let (read_id, read) = app.api_key(&admin, &["read"]).await;
    let (_, admin_key) = app.api_key(&admin, &["admin"]).await;
    assert!(ingest.starts_with("rk_"));

    assert_eq!(
        app.get("/api/v1/users", &ingest).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/org", &ingest).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get("/api/v1/users", &read).await.status, StatusCode::OK);
    let me = app.get("/api/v1/me", &read).await;
    assert_eq!(me.body["kind"], "api_key");
    assert_eq!(me.body["api_key"]["scopes"], json!(["read"]));
    assert!(
        me.body["api_key"].get("key").is_none(),
        "the secret is never shown again"
    );
    let create = app
        .post(
            "/api/v1/users",
            Some(&read),
            json!({"email": "k@x.test", "role": "viewer", "password": "long-password-1"}),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    let create = app
        .post(
            "/api/v1/users",
            Some(&admin_key),
            json!({"email": "k@x.test", "role": "viewer", "password": "long-password-1"}),
        )
        .await;
    assert_eq!(create.status, StatusCode::CREATED);

    // The list shows last use; revoking stops the key at once.
    let listed = app.get("/api/v1/api-keys", &admin).await;
    let entry = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == read_id.as_str())
        .unwrap()
        .clone();
    assert!(entry["last_used_at"].is_string());
    assert!(entry.get("key").is_none());
    let revoked = app
        .request(
            Method::DELETE,
            &format!("/api/v1/api-keys/{read_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert!(revoked.body["revoked_at"].is_string());
    assert_eq!(
        app.get("/api/v1/users", &read).await.status,
        StatusCode::UNAUTHORIZED
    );

    let empty = app
        .post(
            "/api/v1/api-keys",
            Some(&admin),
            json!({"name": "k", "scopes": []}),
        )
        .await;
    assert_eq!(empty.body["field"], "scopes");
    let bad = app
        .post(
            "/api/v1/api-keys",
            Some(&admin),
            json!({"name": "k", "scopes": ["root"]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn another_organisation_sees_and_changes_nothing(app: &TestApp) {
    let admin_a = app.admin_token().await;
    let user_a = app.create_user(&admin_a, "ana@a.test", "analyst").await;
    let (key_a, _) = app.api_key(&admin_a, &["read"]).await;
    let admin_b = app.second_org("beta").await;
    let (_, admin_key_b) = app.api_key(&admin_b, &["admin"]).await;

    for token in [&admin_b, &admin_key_b] {
        let users = app.get("/api/v1/users", token).await;
        assert!(users.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["email"] != "ana@a.test"));
        assert_eq!(
            app.get(&format!("/api/v1/users/{user_a}"), token)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let patch = app
            .request(
                Method::PATCH,
                &format!("/api/v1/users/{user_a}"),
                Some(token),
                Some(json!({"role": "viewer"})),
            )
            .await;
        assert_eq!(patch.status, StatusCode::NOT_FOUND);
        let delete = app
            .request(
                Method::DELETE,
                &format!("/api/v1/users/{user_a}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(delete.status, StatusCode::NOT_FOUND);
        let keys = app.get("/api/v1/api-keys", token).await;
        assert!(keys.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["id"] != key_a.as_str()));
        assert_eq!(
            app.get(&format!("/api/v1/api-keys/{key_a}"), token)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let revoke = app
            .request(
                Method::DELETE,
                &format!("/api/v1/api-keys/{key_a}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(revoke.status, StatusCode::NOT_FOUND);
        let org = app.get("/api/v1/org", token).await;
        assert_eq!(org.body["name"], "beta");
    }
    // Nothing of A changed.
    let still = app.get(&format!("/api/v1/users/{user_a}"), &admin_a).await;
    assert_eq!(still.body["role"], "analyst");
    let key = app
        .get(&format!("/api/v1/api-keys/{key_a}"), &admin_a)
        .await;
    assert!(key.body["revoked_at"].is_null());
}

async fn only_platform_admins_manage_organisations(app: &TestApp) {
    let admin_b = app.second_org("gamma").await;
    assert_eq!(
        app.get("/api/v1/orgs", &admin_b).await.status,
        StatusCode::FORBIDDEN
    );
    let create = app
        .post(
            "/api/v1/orgs",
            Some(&admin_b),
            json!({"name": "delta", "admin": {"email": "d@d.test", "password": "long-password-1"}}),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    let platform = app.admin_token().await;
    let orgs = app.get("/api/v1/orgs", &platform).await;
    assert_eq!(orgs.body["items"].as_array().unwrap().len(), 2);
    let dup = app
        .post("/api/v1/orgs", Some(&platform), json!({"name": "gamma", "admin": {"email": "g2@g.test", "password": "long-password-1"}}))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
}

async fn the_last_admin_cannot_be_removed(app: &TestApp) {
    let admin = app.admin_token().await;
    let me = app.get("/api/v1/me", &admin).await;
    let id = me.body["user"]["id"].as_str().unwrap().to_string();
    let demote = app
        .request(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(demote.status, StatusCode::CONFLICT);
    assert_eq!(demote.body["code"], "last_admin");
    let delete = app
        .request(
            Method::DELETE,
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(delete.status, StatusCode::CONFLICT);
    // With a second admin it is allowed.
    let other = app.create_user(&admin, "second@x.test", "admin").await;
    let demote = app
        .request(
            Method::PATCH,
            &format!("/api/v1/users/{other}"),
            Some(&admin),
            Some(json!({"role": "analyst"})),
        )
        .await;
    assert_eq!(demote.status, StatusCode::OK);
    assert_eq!(demote.body["role"], "analyst");
}

async fn disabling_a_user_ends_their_sessions(app: &TestApp) {
    let admin = app.admin_token().await;
    let id = app.create_user(&admin, "gone@x.test", "analyst").await;
    let token = app.token("gone@x.test", "user-password-123").await;
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("gone@x.test", "user-password-123").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(json!({"disabled": false, "password": "a-new-password-9"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.login("gone@x.test", "a-new-password-9").await.status,
        StatusCode::OK
    );
}

async fn lists_paginate_with_cursors(app: &TestApp) {
    let admin = app.admin_token().await;
    for i in 0..4 {
        app.create_user(&admin, &format!("p{i}@x.test"), "viewer")
            .await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_string();
    loop {
        let page = app.get(&path, &admin).await;
        assert_eq!(page.status, StatusCode::OK);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_string()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/users?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let bad = app.get("/api/v1/users?limit=5000", &admin).await;
    assert_eq!(bad.body["field"], "limit");
    let bad = app.get("/api/v1/users?cursor=zzz", &admin).await;
    assert_eq!(bad.body["field"], "cursor");
}
