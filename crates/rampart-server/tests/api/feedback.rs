//! `/api/v1/feedback`: users send and read their own, admins answer and
//! close (audited), the hourly limit, and another organisation seeing none.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

async fn users_send_feedback_and_admins_answer_it(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "fb-analyst@localhost", "analyst")
        .await;
    let analyst = app.token("fb-analyst@localhost", "user-password-123").await;
    let sent = app
        .post(
            "/api/v1/feedback",
            Some(&analyst),
            json!({"kind": "bug", "message": "  The chart <b>overlaps</b>  ", "page": "/events"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    assert_eq!(sent.body["message"], "The chart <b>overlaps</b>");
    assert_eq!(sent.body["status"], "open");
    let id = sent.body["id"].as_str().unwrap().to_owned();
    for (body, field) in [
        (json!({"kind": "idea", "message": "   "}), "message"),
        (
            json!({"kind": "idea", "message": "x".repeat(5001)}),
            "message",
        ),
        (
            json!({"kind": "idea", "message": "ok", "page": "p".repeat(501)}),
            "page",
        ),
    ] {
        let r = app.post("/api/v1/feedback", Some(&analyst), body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.body["field"], field);
    }
    let r = app
        .post(
            "/api/v1/feedback",
            Some(&analyst),
            json!({"kind": "rant", "message": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // API keys are not people.
    let (_, key) = app.api_key(&admin, &["read"]).await;
    let r = app
        .post(
            "/api/v1/feedback",
            Some(&key),
            json!({"kind": "idea", "message": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Analysts do not list everyone's, nor answer.
    assert_eq!(
        app.get("/api/v1/feedback", &analyst).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/v1/feedback/{id}"),
            Some(&analyst),
            Some(json!({"answer": "self-serve"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The admin answers; the author reads it.
    let listed = app.get("/api/v1/feedback?status=open", &admin).await;
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
    let answered = app
        .request(
            Method::PATCH,
            &format!("/api/v1/feedback/{id}"),
            Some(&admin),
            Some(json!({"answer": "Fixed in the next release."})),
        )
        .await;
    assert_eq!(answered.status, StatusCode::OK, "{:?}", answered.body);
    assert_eq!(answered.body["status"], "answered");
    let mine = app.get("/api/v1/feedback/mine", &analyst).await;
    assert_eq!(
        mine.body["items"][0]["answer"],
        "Fixed in the next release."
    );
    let closed = app
        .request(
            Method::PATCH,
            &format!("/api/v1/feedback/{id}"),
            Some(&admin),
            Some(json!({"status": "closed"})),
        )
        .await;
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["answer"], "Fixed in the next release.");
    let trail = app.get("/api/v1/audit?target_type=feedback", &admin).await;
    let actions: Vec<&str> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["feedback.update", "feedback.answer"]);
    // Another organisation sees and answers none of it.
    let other = app.second_org("otherfeedback").await;
    assert_eq!(
        app.get("/api/v1/feedback", &other).await.body["items"],
        json!([])
    );
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/v1/feedback/{id}"),
            Some(&other),
            Some(json!({"status": "open"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/feedback/mine", &other).await.body["items"],
        json!([])
    );
    // At most 20 an hour per user.
    for n in 1..20 {
        let r = app
            .post(
                "/api/v1/feedback",
                Some(&analyst),
                json!({"kind": "idea", "message": format!("idea {n}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{n}");
    }
    let r = app
        .post(
            "/api/v1/feedback",
            Some(&analyst),
            json!({"kind": "idea", "message": "one more"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert!(r.headers.get("retry-after").is_some());
    let r = app
        .post(
            "/api/v1/feedback",
            Some(&admin),
            json!({"kind": "idea", "message": "others still may"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

crate::on_every_backend!(users_send_feedback_and_admins_answer_it);
