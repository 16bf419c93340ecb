//! `/api/v1/saved-hunts` and the saved-hunt pages: checked input with
//! named fields, owners and roles, a run by hand that opens nothing,
//! scheduled runs claimed once that open (and then join) an incident
//! above their threshold and stay quiet below it; another organisation
//! sees and changes none of it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

async fn send(app: &TestApp, token: &str) {
    let events: String = (0..30)
        .map(|i| {
            let user = ["root", "admin", "bob"][i % 3];
            json!({
                "message": format!("Failed password for {user} from 10.8.0.{i} port 22 ssh2"),
                "event": {"outcome": "failure", "severity": 2},
                "source": {"ip": format!("10.8.0.{i}")},
                "host": {"name": "bastion-1"},
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

async fn save(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let r = app.post("/api/v1/saved-hunts", Some(token), body).await;
    (r.status, r.body)
}

async fn put(app: &TestApp, token: &str, id: &str, body: Value) -> StatusCode {
    app.request(
        Method::PUT,
        &format!("/api/v1/saved-hunts/{id}"),
        Some(token),
        Some(body),
    )
    .await
    .status
}

async fn saved_hunts_run_on_schedule_and_open_incidents(app: &TestApp) {
    let admin = app.admin_token().await;
    send(app, &admin).await;
    app.create_user(&admin, "hunter@example.com", "analyst")
        .await;
    app.create_user(&admin, "other-hunter@example.com", "analyst")
        .await;
    app.create_user(&admin, "hunt-reader@example.com", "viewer")
        .await;
    let hunter = app.token("hunter@example.com", "user-password-123").await;
    let other_hunter = app
        .token("other-hunter@example.com", "user-password-123")
        .await;
    let reader = app
        .token("hunt-reader@example.com", "user-password-123")
        .await;

    // Input errors name their field (and the query's column).
    for (body, field) in [
        (json!({"name": "x", "query": "user.name:(root"}), "query"),
        (
            json!({"name": "x", "query": "root", "cron": "every hour"}),
            "cron",
        ),
        (
            json!({"name": "x", "query": "root", "window_minutes": 0}),
            "window_minutes",
        ),
        (json!({"name": " ", "query": "root"}), "name"),
        (
            json!({"name": "x", "query": "root", "severity": 9}),
            "severity",
        ),
        (
            json!({"name": "x", "query": "root", "threshold": 0}),
            "threshold",
        ),
    ] {
        let (status, problem) = save(app, &hunter, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {problem}");
        assert_eq!(problem["field"], field, "{problem}");
    }
    let (_, problem) = save(
        app,
        &hunter,
        json!({"name": "x", "query": "user.name:(root"}),
    )
    .await;
    assert_eq!(problem["column"], 11, "{problem}");

    let (status, root) = save(
        app,
        &hunter,
        json!({"name": "root failures", "query": "event.outcome:failure AND user.name:root",
               "cron": "*/5 * * * *", "window_minutes": 60, "threshold": 5, "severity": 4}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{root}");
    assert_eq!(root["action"], "incident");
    assert!(root["owner"].as_str().unwrap().starts_with("user:"));
    assert!(root["next_run_at"].is_string());
    let root_id = root["id"].as_str().unwrap().to_owned();
    let (status, _) = save(app, &hunter, json!({"name": "root failures", "query": "x"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Below its threshold: counted, nothing opened.
    let (_, quiet) = save(
        app,
        &hunter,
        json!({"name": "bob floods", "query": "user.name:bob", "cron": "*/5 * * * *",
               "threshold": 1000}),
    )
    .await;
    let quiet_id = quiet["id"].as_str().unwrap().to_owned();
    // By hand only: never due.
    let (_, manual) = save(
        app,
        &hunter,
        json!({"name": "by hand", "query": "failed | stats count() by user.name"}),
    )
    .await;
    assert!(manual["next_run_at"].is_null(), "{manual}");
    let manual_id = manual["id"].as_str().unwrap().to_owned();

    // Roles: viewers read and run, do not save; only the owner or an
    // admin changes a hunt.
    let (status, _) = save(app, &reader, json!({"name": "r", "query": "root"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let listed = app.get("/api/v1/saved-hunts", &reader).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 3, "{}", listed.body);
    let change = json!({"name": "root failures", "query": "event.outcome:failure AND user.name:root",
                        "cron": "*/5 * * * *", "window_minutes": 120, "threshold": 5, "severity": 4});
    assert_eq!(
        put(app, &other_hunter, &root_id, change.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put(app, &reader, &root_id, change.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put(app, &admin, &root_id, change.clone()).await,
        StatusCode::OK
    );
    let shown = app
        .get(&format!("/api/v1/saved-hunts/{root_id}"), &hunter)
        .await;
    assert_eq!(shown.body["window_minutes"], 120);
    assert_eq!(
        shown.body["next_run_at"], root["next_run_at"],
        "the schedule kept its turn"
    );

    // A run by hand: rows and counts, recorded, nothing opened.
    let run = app
        .post(
            &format!("/api/v1/saved-hunts/{manual_id}/run"),
            Some(&reader),
            json!({}),
        )
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    assert_eq!(run.body["result"]["kind"], "aggregates");
    assert_eq!(run.body["result"]["matched"], 30);
    assert_eq!(run.body["hunt"]["last_matched"], 30);
    let incidents = app.get("/api/v1/incidents?limit=100", &admin).await;
    assert!(
        !incidents.body.to_string().contains("Saved hunt"),
        "{}",
        incidents.body
    );

    // Scheduled runs: due ones run once, above the threshold they open an
    // incident, and the next run joins it.
    let now = app.state.clock.now();
    let later = now.plus_secs(6 * 60);
    let acted = app.state.hunts.run_due(later).await.unwrap();
    assert_eq!(acted, 1);
    assert_eq!(
        app.state.hunts.run_due(later).await.unwrap(),
        0,
        "claimed once"
    );
    let root = app
        .get(&format!("/api/v1/saved-hunts/{root_id}"), &hunter)
        .await
        .body;
    assert_eq!(root["last_matched"], 10, "{root}");
    assert!(root["last_error"].is_null());
    let incident_id = root["last_incident_id"].as_str().unwrap().to_owned();
    let incident = app
        .get(&format!("/api/v1/incidents/{incident_id}"), &admin)
        .await;
    assert_eq!(incident.status, StatusCode::OK);
    assert_eq!(incident.body["rule_id"], format!("hunt:{root_id}"));
    assert_eq!(incident.body["severity"], 4);
    assert!(incident.body["title"]
        .as_str()
        .unwrap()
        .contains("root failures"));
    let entities = incident.body["entities"].to_string();
    assert!(
        entities.contains("root") && entities.contains("bastion-1"),
        "{entities}"
    );
    let quiet = app
        .get(&format!("/api/v1/saved-hunts/{quiet_id}"), &hunter)
        .await
        .body;
    assert_eq!(quiet["last_matched"], 10);
    assert!(quiet["last_incident_id"].is_null());
    assert_eq!(
        app.state
            .hunts
            .run_due(later.plus_secs(5 * 60))
            .await
            .unwrap(),
        1
    );
    let again = app
        .get(&format!("/api/v1/saved-hunts/{root_id}"), &hunter)
        .await
        .body;
    assert_eq!(again["last_incident_id"], incident_id.as_str(), "joined");

    // Another organisation sees, runs and changes none of it.
    let other = app.second_org("hunts-elsewhere").await;
    assert_eq!(app.get("/api/v1/saved-hunts", &other).await.body, json!([]));
    for (method, path) in [
        (Method::GET, format!("/api/v1/saved-hunts/{root_id}")),
        (Method::POST, format!("/api/v1/saved-hunts/{root_id}/run")),
        (Method::DELETE, format!("/api/v1/saved-hunts/{root_id}")),
    ] {
        let r = app.request(method, &path, Some(&other), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        put(app, &other, &root_id, change).await,
        StatusCode::NOT_FOUND
    );
    let (status, theirs) = save(
        app,
        &other,
        json!({"name": "root failures", "query": "root"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "names are per organisation");
    let run = app
        .post(
            &format!("/api/v1/saved-hunts/{}/run", theirs["id"].as_str().unwrap()),
            Some(&other),
            json!({}),
        )
        .await;
    assert_eq!(run.body["result"]["matched"], 0, "not our events");

    // Deleting: the owner may, and the audit trail says so.
    let deleted = app
        .request(
            Method::DELETE,
            &format!("/api/v1/saved-hunts/{quiet_id}"),
            Some(&hunter),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let audit = app
        .get("/api/v1/audit?limit=100", &admin)
        .await
        .body
        .to_string();
    for action in [
        "saved_hunt.create",
        "saved_hunt.update",
        "saved_hunt.delete",
    ] {
        assert!(audit.contains(action), "{action}");
    }
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The pages: save from the Hunt page (escaped), list, run now, change,
/// delete, with CSRF.
async fn saved_hunt_pages_save_run_and_delete(app: &TestApp) {
    let admin = app.admin_token().await;
    send(app, &admin).await;
    let mut browser = crate::ui::Browser::new(app);
    browser
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    let page = browser.get("/hunt?query=user.name%3Aroot").await;
    assert!(page.html.contains("Save this hunt"), "{}", page.html);
    let csrf = browser.csrf();
    let form = |name: &'static str, cron: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", name.to_owned()),
            ("query", "user.name:root".to_owned()),
            ("cron", cron.to_owned()),
            ("window_minutes", "30".to_owned()),
            ("threshold", "1".to_owned()),
            ("action", "notify".to_owned()),
            ("severity", "2".to_owned()),
            ("enabled", "on".to_owned()),
        ]
    };
    let bad = form("<b>roots</b>", "sometimes");
    let refused = browser.post("/hunt/saved", &pairs(&bad)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.html.contains("(cron)"), "{}", refused.html);
    let good = form("<b>roots</b>", "0 * * * *");
    let saved = browser.post("/hunt/saved", &pairs(&good)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let list = browser.get("/hunt/saved").await;
    assert!(
        list.html.contains("&lt;b&gt;roots&lt;/b&gt;"),
        "{}",
        list.html
    );
    assert!(!list.html.contains("<b>roots</b>"));
    let hunts = app.get("/api/v1/saved-hunts", &admin).await.body;
    let id = hunts[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(hunts[0]["action"], "notify");
    assert_eq!(hunts[0]["window_minutes"], 30);
    let run = browser
        .post(&format!("/hunt/saved/{id}/run"), &[("csrf", &csrf)])
        .await;
    assert_eq!(run.status, StatusCode::OK);
    assert!(run.html.contains("10 matched"), "{}", run.html);
    let changed = form("roots", "");
    let changed = browser
        .post(&format!("/hunt/saved/{id}"), &pairs(&changed))
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    let shown = app
        .get(&format!("/api/v1/saved-hunts/{id}"), &admin)
        .await
        .body;
    assert_eq!(shown["name"], "roots");
    assert!(shown["cron"].is_null() && shown["next_run_at"].is_null());
    let forged = browser
        .post(&format!("/hunt/saved/{id}/delete"), &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let gone = browser
        .post(&format!("/hunt/saved/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/api/v1/saved-hunts", &admin).await.body, json!([]));
}

crate::on_every_backend!(
    saved_hunts_run_on_schedule_and_open_incidents,
    saved_hunt_pages_save_run_and_delete,
);
