//! `POST /api/v1/hunt` and the Hunt page: rows and counts over the
//! organisation's events, syntax errors with their column, roles, limits,
//! escaping; another organisation's hunt finds none of these events.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

async fn send(app: &TestApp, token: &str) {
    let events: String = (0..30)
        .map(|i| {
            let user = ["root", "admin", "bob"][i % 3];
            json!({
                "message": format!("Failed password for {user} from 10.9.{}.{} port 22 ssh2", i % 2, i),
                "event": {"outcome": "failure", "severity": 1 + i % 5},
                "source": {"ip": format!("10.9.{}.{}", i % 2, i)},
                "user": {"name": user},
            })
            .to_string()
                + "\n"
        })
        .collect();
    let r = app
        .post_bytes(
            "/api/v1/events",
            token,
            "application/x-ndjson",
            None,
            events.into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
}

async fn hunt(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    let r = app
        .post("/api/v1/hunt", Some(token), json!({"query": query}))
        .await;
    (r.status, r.body)
}

async fn hunts_count_filter_and_say_where_a_query_is_wrong(app: &TestApp) {
    let admin = app.admin_token().await;
    send(app, &admin).await;
    app.create_user(&admin, "hunt-viewer@example.com", "viewer")
        .await;
    let viewer = app
        .token("hunt-viewer@example.com", "user-password-123")
        .await;

    let (status, body) = hunt(
        app,
        &viewer,
        "source.ip:10.9.1.0/24 AND NOT user.name:BOB | stats count() by user.name | sort -count",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert_eq!(body["kind"], "aggregates");
    let counts: Vec<(String, u64)> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["user.name"].as_str().unwrap().to_owned(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    // Odd i in 0..30 (15 events), users by i % 3: root 5, admin 5, bob 5.
    assert_eq!(counts.iter().map(|c| c.1).sum::<u64>(), 10, "{counts:?}");
    assert!(counts.iter().all(|(u, _)| u != "bob"));
    let (_, rows) = hunt(
        app,
        &viewer,
        "event.severity >= 5 \"from 10.9\" | fields user.name, source.ip | head 2",
    )
    .await;
    assert_eq!(rows["kind"], "events");
    assert_eq!(rows["rows"].as_array().unwrap().len(), 2, "{rows:?}");
    assert_eq!(rows["matched"], 6);
    assert!(rows["rows"][0].get("message").is_none());
    let (_, chart) = hunt(app, &viewer, "* | timechart 1h").await;
    assert_eq!(chart["rows"][0]["count"], 30, "{chart:?}");

    let (status, error) = hunt(app, &viewer, "user.name:root AND (source.ip:10.0.0.0/8").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["field"], "query");
    assert_eq!(error["column"], 20, "{error:?}");
    let (status, _) = hunt(app, &viewer, "message:/(/").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let r = app
        .post(
            "/api/v1/hunt",
            Some(&viewer),
            json!({"query": "*", "limit": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["field"], "limit");
    let r = app.post("/api/v1/hunt", None, json!({"query": "*"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let other = app.second_org("hunt-elsewhere").await;
    let (status, theirs) = hunt(app, &other, "failed | stats count()").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(theirs["matched"], 0, "{theirs:?}");

    // The page: rows with links, errors at their column, the query escaped.
    let mut browser = crate::ui::Browser::new(app);
    browser
        .sign_in("hunt-viewer@example.com", "user-password-123")
        .await;
    let page = browser
        .get("/hunt?query=user.name%3Aroot+%7C+stats+count()+by+user.name&range=24h")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("id=\"hunt-rows\""), "{}", page.html);
    assert!(page.html.contains("<td>10</td>"), "{}", page.html);
    let page = browser.get("/hunt?query=user.name%3Aroot").await;
    assert!(
        page.html.contains("href=\"/entities/ip?value=10.9.0.0\""),
        "{}",
        page.html
    );
    let bad = browser.get("/hunt?query=%3Cscript%3E+AND+(").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.html.contains("At column"), "{}", bad.html);
    assert!(!bad.html.contains("<script>"));
}

crate::on_every_backend!(hunts_count_filter_and_say_where_a_query_is_wrong);
