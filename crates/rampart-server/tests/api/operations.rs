//! Health, readiness, metrics, OpenAPI, request ids and problem documents.

use reqwest::{Method, StatusCode};

use crate::helpers::TestApp;

crate::on_every_backend!(
    health_ready_and_metrics_answer,
    bad_input_gets_problem_documents_never_500,
    request_ids_are_echoed,
    openapi_lists_the_routes,
);

async fn health_ready_and_metrics_answer(app: &TestApp) {
    let health = app.request(Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    let ready = app.request(Method::GET, "/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["migrations"], "current");
    app.request(Method::GET, "/no/such/route", None, None).await;
    let metrics = app.request(Method::GET, "/metrics", None, None).await;
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains(r#"rampart_http_requests_total{method="GET",route="/ready",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"route="unmatched",status="404""#));
    assert!(text.contains("rampart_http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"rampart_db_pool_connections{state="idle"}"#));
    assert!(text.contains("rampart_build_info{version="));
}

async fn bad_input_gets_problem_documents_never_500(app: &TestApp) {
    let admin = app.admin_token().await;
    let is_problem = |r: &crate::helpers::Reply, status: StatusCode, code: &str| {
        assert_eq!(r.status, status, "{:?}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert_eq!(r.body["code"], code);
        assert_eq!(r.body["status"], status.as_u16());
    };
    is_problem(
        &app.request(Method::GET, "/api/v1/nothing", None, None)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    is_problem(
        &app.request(Method::PUT, "/api/v1/users", Some(&admin), None)
            .await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );

    let raw = |body: &'static str, ctype: &'static str| {
        app.client
            .post(format!("{}/api/v1/users", app.base))
            .bearer_auth(&admin)
            .header("content-type", ctype)
            .body(body)
    };
    let malformed = raw(
        "{\n \"email\": \"a@b.c\",\n \"role\": }",
        "application/json",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = malformed.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");
    assert_eq!(body["line"], 3);
    let wrong_type = raw("{\"email\": 5}", "text/plain").send().await.unwrap();
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let unknown = raw(
        r#"{"email":"a@b.c","role":"viewer","password":"long-password-1","admin":true}"#,
        "application/json",
    )
    .send()
    .await
    .unwrap();
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["field"], "admin");

    let huge = format!("{{\"email\": \"{}\"}}", "a".repeat(100 * 1024));
    let big = app
        .client
        .post(format!("{}/api/v1/users", app.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(big.headers()["content-type"], "application/problem+json");

    let odd_id = app.get("/api/v1/users/not-a-uuid", &admin).await;
    is_problem(&odd_id, StatusCode::NOT_FOUND, "not_found");
    let binary = app
        .client
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, 0x00, 0x80])
        .send()
        .await
        .unwrap();
    assert_eq!(binary.status(), StatusCode::BAD_REQUEST);
}

async fn request_ids_are_echoed(app: &TestApp) {
    let given = app
        .client
        .get(format!("{}/health", app.base))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-123");
    let generated = app.request(Method::GET, "/health", None, None).await;
    assert_eq!(
        generated.headers["x-request-id"].to_str().unwrap().len(),
        36
    );
}

async fn openapi_lists_the_routes(app: &TestApp) {
    let doc = app
        .request(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/auth/login",
        "/api/v1/users/{id}",
        "/api/v1/api-keys",
        "/api/v1/orgs",
        "/ready",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
}
