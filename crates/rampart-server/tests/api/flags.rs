//! `/api/v1/flags`: organisation and platform flags, evaluation for the
//! caller, the kill switch, checks, audit, and another organisation
//! seeing none of it.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

async fn flags_target_roll_out_and_switch_off_per_organisation(app: &TestApp) {
    let admin = app.admin_token().await;
    let flag = json!({
        "key": "beta.hunting",
        "description": "the hunting pages",
        "enabled": true,
        "rules": [
            {"constraints": [{"field": "role", "operator": "in", "values": ["admin"]}]},
            {"constraints": [{"field": "client_address", "operator": "in_cidr", "values": ["10.0.0.0/8"]}],
             "rollout": 50, "stickiness": "user_id"}
        ],
        "variants": [{"name": "a", "weight": 500}, {"name": "b", "weight": 500}]
    });
    let r = app.post("/api/v1/flags", Some(&admin), flag.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["platform"], false);
    let again = app.post("/api/v1/flags", Some(&admin), flag).await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let evaluate = |token: String, body: serde_json::Value| async move {
        app.post("/api/v1/flags/evaluate", Some(&token), body).await
    };
    // The admin is let in by the first rule, with a variant.
    let r = evaluate(admin.clone(), json!({"flag": "beta.hunting"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        (r.body["enabled"].as_bool(), r.body["reason"].as_str()),
        (Some(true), Some("rule 0"))
    );
    assert!(r.body["variant"].is_string());
    // An analyst outside 10/8 matches no rule; inside, half of users do.
    app.create_user(&admin, "flag-analyst@localhost", "analyst")
        .await;
    let analyst = app
        .token("flag-analyst@localhost", "user-password-123")
        .await;
    let r = evaluate(analyst.clone(), json!({"flag": "beta.hunting"})).await;
    assert_eq!(r.body["reason"], "no_rule_matched");
    let mut on = 0;
    for n in 0..200 {
        let r = evaluate(
            analyst.clone(),
            json!({"flag": "beta.hunting", "context": {"user_id": format!("u{n}"), "client_address": "10.9.8.7"}}),
        )
        .await;
        on += usize::from(r.body["enabled"] == true);
    }
    assert!((60..140).contains(&on), "{on} of 200");
    // Kill switch.
    let off = app
        .request(
            Method::PUT,
            "/api/v1/flags/beta.hunting",
            Some(&admin),
            Some(json!({"enabled": false, "description": "paused"})),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    let r = evaluate(admin.clone(), json!({"flag": "beta.hunting"})).await;
    assert_eq!(
        (r.body["enabled"].as_bool(), r.body["reason"].as_str()),
        (Some(false), Some("disabled"))
    );
    // Checks name the field.
    for (body, field) in [
        (json!({"key": "bad key", "enabled": true}), "key"),
        (
            json!({"key": "w", "enabled": true, "variants": [{"name": "a", "weight": 10}]}),
            "variants",
        ),
        (
            json!({"key": "c", "enabled": true, "rules": [{"constraints": [{"field": "client_address", "operator": "in_cidr", "values": ["10.0.0.0/33"]}]}]}),
            "rules[0].constraints[0].values",
        ),
        (
            json!({"key": "r", "enabled": true, "rules": [{"rollout": 101}]}),
            "rules[0].rollout",
        ),
        (
            json!({"key": "s", "enabled": true, "rules": [[[], 50]]}),
            "rules",
        ),
    ] {
        let r = app.post("/api/v1/flags", Some(&admin), body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.body["field"], field, "{:?}", r.body);
    }
    // A context given as an array is refused, not read as fields in order.
    let r = app
        .post(
            "/api/v1/flags/evaluate",
            Some(&admin),
            json!({"flag": "x", "context": [null, null]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    // Analysts read but do not change.
    assert_eq!(
        app.get("/api/v1/flags", &analyst).await.status,
        StatusCode::OK
    );
    let denied = app
        .post(
            "/api/v1/flags",
            Some(&analyst),
            json!({"key": "x", "enabled": true}),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    // A platform flag applies where the organisation has none of its own.
    let platform = app
        .post(
            "/api/v1/flags",
            Some(&admin),
            json!({"key": "beta.phishing", "platform": true, "enabled": true}),
        )
        .await;
    assert_eq!(platform.status, StatusCode::CREATED, "{:?}", platform.body);
    let other = app.second_org("otherflags").await;
    let r = evaluate(other.clone(), json!({"flag": "beta.phishing"})).await;
    assert_eq!(
        (r.body["enabled"].as_bool(), r.body["reason"].as_str()),
        (Some(true), Some("no_rules"))
    );
    let own = app
        .post(
            "/api/v1/flags",
            Some(&other),
            json!({"key": "beta.phishing", "enabled": false}),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED);
    let r = evaluate(other.clone(), json!({"flag": "beta.phishing"})).await;
    assert_eq!(r.body["reason"], "disabled", "its own flag wins");
    // The other organisation sees and changes none of the first one's flags.
    assert_eq!(
        app.get("/api/v1/flags", &other)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get("/api/v1/flags/beta.hunting", &other).await.status,
        StatusCode::NOT_FOUND
    );
    let r = evaluate(other.clone(), json!({"flag": "beta.hunting"})).await;
    assert_eq!(r.body["reason"], "not_found");
    let r = app
        .request(
            Method::DELETE,
            "/api/v1/flags/beta.hunting",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Only platform admins change platform flags.
    let r = app
        .request(
            Method::DELETE,
            "/api/v1/flags/beta.phishing?platform=true",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Delete, and the trail.
    let r = app
        .request(
            Method::DELETE,
            "/api/v1/flags/beta.hunting",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let trail = app.get("/api/v1/audit?target_type=flag", &admin).await;
    let actions: Vec<&str> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["flag.delete", "flag.create", "flag.update", "flag.create"]
    );
}

crate::on_every_backend!(flags_target_roll_out_and_switch_off_per_organisation);
