//! `/api/v1/entities/{kind}/{value}` and the timeline page: an address's
//! events (as source and as destination), the alerts and incidents that
//! name it, open findings of the asset that names it and the watchlist
//! entry it matches, newest first; another organisation sees nothing;
//! bad kinds, addresses and ranges are problems naming the field.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

const IP: &str = "198.51.100.23";

const SARIF: &str = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"lint","rules":[{"id":"R1","shortDescription":{"text":"Weak TLS configuration"}}]}},
  "results":[{"ruleId":"R1","level":"error","message":{"text":"Weak TLS configuration"},
  "locations":[{"physicalLocation":{"artifactLocation":{"uri":"nginx.conf"},"region":{"startLine":3}}}]}]}]}"#;

async fn an_address_has_one_timeline_of_everything_known(app: &TestApp) {
    let admin = app.admin_token().await;
    let entry = app
        .post(
            "/api/v1/watchlists",
            Some(&admin),
            json!({"type": "cidr", "value": "198.51.100.0/24", "tags": ["scanner"]}),
        )
        .await;
    assert_eq!(entry.status, StatusCode::CREATED, "{:?}", entry.body);
    let asset = app
        .post(
            "/api/v1/assets",
            Some(&admin),
            json!({"name": "edge-gw", "kind": "host", "identifiers": [IP]}),
        )
        .await;
    assert_eq!(asset.status, StatusCode::CREATED, "{:?}", asset.body);
    let imported = app
        .post_bytes(
            "/api/v1/imports?asset=edge-gw",
            &admin,
            "application/octet-stream",
            None,
            SARIF.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(imported.status, StatusCode::CREATED, "{:?}", imported.body);
    let events = [
        json!({"message": "inbound probe", "source": {"ip": IP}, "destination": {"ip": "10.0.0.5"}}),
        json!({"message": "reply", "source": {"ip": "10.0.0.5"}, "destination": {"ip": IP}, "host": {"name": "fw-1"}}),
        json!({"message": "unrelated", "source": {"ip": "192.0.2.1"}}),
    ];
    let body: String = events.iter().map(|e| format!("{e}\n")).collect();
    let sent = app
        .post_bytes(
            "/api/v1/events",
            &admin,
            "application/x-ndjson",
            None,
            body.into_bytes(),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{:?}", sent.body);

    let r = app.get(&format!("/api/v1/entities/ip/{IP}"), &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let kinds: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    let count = |k: &str| kinds.iter().filter(|x| **x == k).count();
    assert_eq!(count("event"), 2, "{kinds:?}");
    assert_eq!(count("alert"), 1, "{:?}", r.body);
    assert_eq!(count("incident"), 1, "{:?}", r.body);
    assert_eq!(count("finding"), 1, "{:?}", r.body);
    // Compared as times: RFC 3339 texts with trimmed fractions do not
    // sort as text.
    let times: Vec<rampart_core::Timestamp> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| rampart_core::Timestamp::parse_rfc3339(i["at"].as_str().unwrap()).unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    assert_eq!(r.body["watchlist"][0]["value"], "198.51.100.0/24");
    assert_eq!(r.body["assets"][0]["name"], "edge-gw");

    let host = app.get("/api/v1/entities/host/fw-1", &admin).await;
    assert_eq!(
        host.body["items"].as_array().unwrap().len(),
        1,
        "{:?}",
        host.body
    );

    for (path, field) in [
        ("/api/v1/entities/mac/aa", "kind"),
        ("/api/v1/entities/ip/not-an-address", "value"),
        ("/api/v1/entities/ip/198.51.100.23?days=91", "days"),
    ] {
        let bad = app.get(path, &admin).await;
        assert_eq!(
            bad.status,
            StatusCode::BAD_REQUEST,
            "{path}: {:?}",
            bad.body
        );
        assert_eq!(bad.body["field"], field, "{path}");
    }

    let other = app.second_org("entities-elsewhere").await;
    let theirs = app.get(&format!("/api/v1/entities/ip/{IP}"), &other).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert_eq!(theirs.body["items"], json!([]));
    assert_eq!(theirs.body["watchlist"], json!([]));
    assert_eq!(theirs.body["assets"], json!([]));

    // The page: reached from the event's fields, the timeline with links.
    let mut browser = crate::ui::Browser::new(app);
    browser
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    let event_id = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "event")
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .unwrap();
    let event_page = browser.get(&format!("/events/{event_id}")).await;
    assert!(
        event_page
            .html
            .contains(&format!("href=\"/entities/ip?value={IP}\"")),
        "{}",
        event_page.html
    );
    let page = browser.get(&format!("/entities/ip?value={IP}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("On the watchlist"), "{}", page.html);
    assert!(page.html.contains("Weak TLS configuration"));
    assert!(page.html.contains("inbound probe"));
    assert!(!page.html.contains("unrelated"));
    let bad = browser.get("/entities/ip?value=%3Cscript%3E").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(!bad.html.contains("<script>"));
}

crate::on_every_backend!(an_address_has_one_timeline_of_everything_known);
