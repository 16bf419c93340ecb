//! `/api/v1/jobs` against the real server and its running workers: listing
//! and filtering, a job that dies and is retried, cancel, the audit trail,
//! roles, the platform's own jobs, and another organisation seeing nothing.

use std::time::Duration;

use rampart_core::{JobState, NewJob, OrgId};
use rampart_store::Enqueued;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

async fn enqueue(app: &TestApp, org: Option<OrgId>, queue: &str, kind: &str) -> String {
    let job = NewJob::new(
        org,
        queue,
        kind,
        json!({"for": "test"}),
        app.state.clock.now(),
    );
    match app.state.jobs.enqueue(&[job]).await.unwrap()[0] {
        Enqueued::Added(id) => id.to_string(),
        Enqueued::Duplicate => panic!("duplicate"),
    }
}

async fn org_of(app: &TestApp, token: &str) -> OrgId {
    let me = app.get("/api/v1/me", token).await;
    me.body["user"]["org_id"].as_str().unwrap().parse().unwrap()
}

/// Waits until the job is in `state` (the node's workers move it).
async fn wait_for(app: &TestApp, token: &str, id: &str, state: JobState) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let r = app.get(&format!("/api/v1/jobs/{id}"), token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        if r.body["state"] == state.as_str() {
            return r.body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job {id} never became {}: {}",
            state.as_str(),
            r.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn admins_see_retry_and_cancel_their_organisations_jobs(app: &TestApp) {
    let admin = app.admin_token().await;
    let org = org_of(app, &admin).await;
    // The workers run the "default" queue: a kind no handler knows dies.
    let doomed = enqueue(app, Some(org), "default", "nobody.knows").await;
    let dead = wait_for(app, &admin, &doomed, JobState::Dead).await;
    assert!(dead["last_error"]
        .as_str()
        .unwrap()
        .contains("no handler for job kind"));
    assert_eq!(dead["attempts"], 1);
    // A queue no worker here serves keeps its jobs waiting.
    let waiting = enqueue(app, Some(org), "elsewhere", "noop").await;
    let noop = enqueue(app, Some(org), "default", "noop").await;
    wait_for(app, &admin, &noop, JobState::Completed).await;

    let all = app.get("/api/v1/jobs?limit=10", &admin).await;
    assert_eq!(all.status, StatusCode::OK);
    let ids: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [noop.as_str(), waiting.as_str(), doomed.as_str()]);
    let dead_only = app.get("/api/v1/jobs?state=dead,cancelled", &admin).await;
    assert_eq!(dead_only.body["items"].as_array().unwrap().len(), 1);
    let by_queue = app.get("/api/v1/jobs?queue=elsewhere", &admin).await;
    assert_eq!(by_queue.body["items"][0]["id"], waiting.as_str());
    let page = app.get("/api/v1/jobs?limit=2", &admin).await;
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let next = app
        .get(&format!("/api/v1/jobs?limit=2&cursor={cursor}"), &admin)
        .await;
    assert_eq!(next.body["items"][0]["id"], doomed.as_str());
    let bad = app.get("/api/v1/jobs?state=sleeping", &admin).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Retry: available again, fresh attempts; it dies again (no handler).
    let retried = app
        .post(
            &format!("/api/v1/jobs/{doomed}/retry"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{:?}", retried.body);
    assert_eq!(retried.body["attempts"], 0);
    wait_for(app, &admin, &doomed, JobState::Dead).await;
    // Cancel the waiting one; cancelling it again conflicts.
    let cancelled = app
        .post(
            &format!("/api/v1/jobs/{waiting}/cancel"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(cancelled.body["state"], "cancelled");
    let again = app
        .post(
            &format!("/api/v1/jobs/{waiting}/cancel"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.body);
    // Both changes are in the audit trail.
    let trail = app.get("/api/v1/audit?target_type=job", &admin).await;
    let actions: Vec<&str> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["job.cancel", "job.retry"]);
    // The attempts are counted in the metrics.
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"rampart_job_attempts_total{outcome="dead",queue="default"}"#),
        "{metrics}"
    );

    // Another organisation sees and changes nothing of it.
    let other = app.second_org("otherjobs").await;
    let theirs = app.get("/api/v1/jobs", &other).await;
    assert_eq!(theirs.body["items"], json!([]));
    for path in [
        format!("/api/v1/jobs/{doomed}"),
        format!("/api/v1/jobs/{doomed}?platform=false"),
    ] {
        assert_eq!(app.get(&path, &other).await.status, StatusCode::NOT_FOUND);
    }
    for action in ["retry", "cancel"] {
        let r = app
            .post(
                &format!("/api/v1/jobs/{doomed}/{action}"),
                Some(&other),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
    }
    // Not for analysts, and the platform's jobs only for platform admins.
    app.create_user(&admin, "jobs-analyst@localhost", "analyst")
        .await;
    let analyst = app
        .token("jobs-analyst@localhost", "user-password-123")
        .await;
    assert_eq!(
        app.get("/api/v1/jobs", &analyst).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/jobs?platform=true", &other).await.status,
        StatusCode::FORBIDDEN
    );
    let platform_job = enqueue(app, None, "elsewhere", "noop").await;
    let platform = app.get("/api/v1/jobs?platform=true", &admin).await;
    assert_eq!(platform.status, StatusCode::OK, "{:?}", platform.body);
    assert_eq!(platform.body["items"][0]["id"], platform_job.as_str());
    assert!(platform.body["items"][0]["org_id"].is_null());
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{platform_job}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "not the organisation's"
    );
    let r = app
        .post(
            &format!("/api/v1/jobs/{platform_job}/cancel?platform=true"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.body["state"], "cancelled");
}

crate::on_every_backend!(admins_see_retry_and_cancel_their_organisations_jobs);
