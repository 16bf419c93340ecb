//! Login, refresh rotation and reuse detection, logout, lockout.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

crate::on_every_backend!(
    login_issues_tokens_that_authenticate,
    refresh_rotates_and_reuse_revokes_the_family,
    logout_ends_the_session,
    repeated_failures_are_refused_without_revealing_the_account,
    bad_credentials_are_401_problems,
);

async fn login_issues_tokens_that_authenticate(app: &TestApp) {
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["expires_in"], 900);
    assert!(r.body["refresh_token"].as_str().unwrap().starts_with("rt_"));
    let me = app
        .get("/api/v1/me", r.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["email"], ADMIN_EMAIL);
    assert_eq!(me.body["user"]["role"], "admin");
    // E-mail is matched case-insensitively.
    assert_eq!(
        app.login("Admin@LOCALHOST", ADMIN_PASSWORD).await.status,
        StatusCode::OK
    );
}

async fn refresh_rotates_and_reuse_revokes_the_family(app: &TestApp) {
    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let r1 = first["refresh_token"].as_str().unwrap();
    let second = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}))
        .await;
    assert_eq!(second.status, StatusCode::OK);
    let r2 = second.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    let access2 = second.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/me", &access2).await.status, StatusCode::OK);

    // Presenting r1 again: reuse. The whole family dies, r2 and its access token too.
    let reuse = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}))
        .await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reuse.body["code"], "refresh_token_reused");
    let after = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r2}))
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/me", &access2).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Another login is unaffected.
    assert_eq!(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status,
        StatusCode::OK
    );
    let junk = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": "rt_nonsense"}),
        )
        .await;
    assert_eq!(junk.body["code"], "invalid_refresh_token");
}

async fn logout_ends_the_session(app: &TestApp) {
    let pair = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.body;
    let access = pair["access_token"].as_str().unwrap();
    let out = app
        .request(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            Some(access),
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
}

async fn repeated_failures_are_refused_without_revealing_the_account(app: &TestApp) {
    // The test policy locks an account after 4 failures.
    for email in [ADMIN_EMAIL, "nobody@nowhere.test"] {
        for _ in 0..4 {
            let r = app.login(email, "wrong-password-x").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            assert_eq!(r.body["code"], "invalid_credentials");
        }
        let locked = app.login(email, "wrong-password-x").await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{email}");
        let retry: i64 = locked.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry > 0 && retry <= 900);
        assert_eq!(locked.headers["content-type"], "application/problem+json");
    }
    // Locked even with the right password, until the lock ends.
    assert_eq!(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn bad_credentials_are_401_problems(app: &TestApp) {
    let none = app
        .request(reqwest::Method::GET, "/api/v1/me", None, None)
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.body["code"], "missing_credentials");
    assert_eq!(none.headers["www-authenticate"], "Bearer");
    for token in ["garbage", "rk_unknownkey", "eyJhbGciOiJIUzI1NiJ9.e30.x"] {
        let r = app.get("/api/v1/me", token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(r.body["code"], "invalid_credentials");
    }
    let basic = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}
