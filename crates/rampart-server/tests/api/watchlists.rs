//! `/api/v1/watchlists`: entries made canonical and unique per
//! organisation, roles, another organisation sees and changes nothing;
//! ingest matches parsed values in the fields where they appear and
//! raises alerts that become incidents; STIX and CSV feeds in and out;
//! a hunt back in time finds events sent before the entry existed.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::TestApp;

const NDJSON: &str = "application/x-ndjson";
const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

async fn add(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/api/v1/watchlists", Some(token), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

async fn send(app: &TestApp, token: &str, events: &[Value]) {
    let body: String = events.iter().map(|e| format!("{e}\n")).collect();
    let r = app
        .post_bytes("/api/v1/events", token, NDJSON, None, body.into_bytes())
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["rejected"], 0, "{:?}", r.body);
}

async fn watchlist_incidents(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.get("/api/v1/incidents?limit=100", token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let mut titles: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .filter(|t| t.starts_with("Watchlist"))
        .collect();
    titles.sort();
    titles
}

async fn entries_are_canonical_unique_and_kept_per_organisation(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "wl-viewer@example.com", "viewer")
        .await;
    let viewer = app
        .token("wl-viewer@example.com", "user-password-123")
        .await;

    let ip = add(
        app,
        &admin,
        json!({"type": "ip", "value": "198.51.100[.]7", "tags": ["c2"]}),
    )
    .await;
    assert_eq!(ip["value"], "198.51.100.7");
    assert_eq!(ip["severity"], 4);
    assert_eq!(ip["source"], "manual");
    let domain = add(
        app,
        &admin,
        json!({"type": "domain", "value": "*.Evil.Example"}),
    )
    .await;
    assert_eq!(domain["value"], "evil.example");
    assert_eq!(domain["include_subdomains"], true);
    let again = app
        .post(
            "/api/v1/watchlists",
            Some(&admin),
            json!({"type": "ip", "value": "198.51.100.7"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.body);
    let bad = app
        .post(
            "/api/v1/watchlists",
            Some(&admin),
            json!({"type": "cidr", "value": "10.0.0.0/33"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.body);
    assert_eq!(bad.body["field"], "value");
    let subdomains = app
        .post(
            "/api/v1/watchlists",
            Some(&admin),
            json!({"type": "ip", "value": "192.0.2.1", "include_subdomains": true}),
        )
        .await;
    assert_eq!(subdomains.status, StatusCode::BAD_REQUEST);
    let by_viewer = app
        .post(
            "/api/v1/watchlists",
            Some(&viewer),
            json!({"type": "ip", "value": "192.0.2.1"}),
        )
        .await;
    assert_eq!(by_viewer.status, StatusCode::FORBIDDEN);

    let listed = app.get("/api/v1/watchlists?type=ip", &viewer).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let found = app.get("/api/v1/watchlists?q=EVIL", &viewer).await;
    assert_eq!(found.body["items"][0]["id"], domain["id"]);
    let id = ip["id"].as_str().unwrap();
    let patched = app
        .request(
            Method::PATCH,
            &format!("/api/v1/watchlists/{id}"),
            Some(&admin),
            Some(
                json!({"tags": ["apt", "c2"], "severity": 5, "expires_at": "2099-01-01T00:00:00Z"}),
            ),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["severity"], 5);
    let cleared = app
        .request(
            Method::PATCH,
            &format!("/api/v1/watchlists/{id}"),
            Some(&admin),
            Some(json!({"expires_at": null})),
        )
        .await;
    assert_eq!(
        cleared.body["expires_at"],
        Value::Null,
        "{:?}",
        cleared.body
    );
    assert_eq!(cleared.body["tags"], json!(["apt", "c2"]));

    // Another organisation: nothing to see, change, hunt or delete.
    let other = app.second_org("watchlists-elsewhere").await;
    let path = format!("/api/v1/watchlists/{id}");
    assert_eq!(app.get(&path, &other).await.status, StatusCode::NOT_FOUND);
    let list = app.get("/api/v1/watchlists", &other).await;
    assert_eq!(list.body["items"], json!([]));
    let export = app
        .get("/api/v1/watchlists/export?format=csv", &other)
        .await;
    assert!(!export
        .body
        .as_str()
        .unwrap_or_default()
        .contains("198.51.100.7"));
    for (method, body) in [
        (Method::PATCH, Some(json!({"tags": []}))),
        (Method::DELETE, None),
    ] {
        let r = app.request(method, &path, Some(&other), body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let hunt = app
        .post(&format!("{path}/hunt"), Some(&other), json!({"days": 1}))
        .await;
    assert_eq!(hunt.status, StatusCode::NOT_FOUND);

    let deleted = app.request(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path, &admin).await.status, StatusCode::NOT_FOUND);
}

async fn ingest_matches_parsed_values_where_they_appear(app: &TestApp) {
    let admin = app.admin_token().await;
    let domain = add(
        app,
        &admin,
        json!({"type": "domain", "value": "evil.example", "include_subdomains": true}),
    )
    .await;
    add(
        app,
        &admin,
        json!({"type": "cidr", "value": "10.0.0.0/8", "severity": 2}),
    )
    .await;
    add(
        app,
        &admin,
        json!({"type": "sha256", "value": SHA.to_uppercase()}),
    )
    .await;
    add(
        app,
        &admin,
        json!({"type": "email", "value": "boss@payroll-update.example"}),
    )
    .await;
    let near_misses = [
        json!({"message": "lookup", "dns": {"question": {"name": "evil.examples.org"}}}),
        json!({"message": "lookup", "dns": {"question": {"name": "notevil.example"}}}),
        json!({"message": "from 11.0.0.1", "source": {"ip": "11.0.0.1"}}),
        json!({"message": "hash e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"}),
    ];
    send(app, &admin, &near_misses).await;
    assert!(watchlist_incidents(app, &admin).await.is_empty());
    let hits = [
        json!({"message": "query", "dns": {"question": {"name": "CDN.Evil.Example"}}}),
        json!({"message": "query", "dns": {"question": {"name": "evil.example"}}}),
        json!({"message": "login", "source": {"ip": "10.20.30.40"}, "user": {"name": "ana"}}),
        json!({"message": format!("dropped payload sha256={SHA}")}),
        json!({"message": "mail", "email": {"from": {"address": "Boss@Payroll-Update.example"}}}),
    ];
    send(app, &admin, &hits).await;
    let titles = watchlist_incidents(app, &admin).await;
    assert_eq!(titles.len(), 4, "{titles:?}");
    assert!(
        titles
            .iter()
            .any(|t| t.contains("domain evil.example seen in dns.question.name")),
        "{titles:?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.contains("cidr 10.0.0.0/8 seen in source.ip as 10.20.30.40")),
        "{titles:?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.contains(&format!("sha256 {SHA} seen in message"))),
        "{titles:?}"
    );
    assert!(
        titles.iter().any(|t| t.contains("email.from.address")),
        "{titles:?}"
    );
    // Hit counts are on the entry.
    let entry = app
        .get(
            &format!("/api/v1/watchlists/{}", domain["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(entry.body["hits"], 2, "{:?}", entry.body);
    assert!(entry.body["last_hit_at"].is_string());

    // The same events in another organisation raise nothing: its
    // watchlist is its own.
    let other = app.second_org("watch-other").await;
    send(app, &other, &hits).await;
    assert!(watchlist_incidents(app, &other).await.is_empty());
}

async fn feeds_come_in_as_stix_or_csv_and_go_out_again(app: &TestApp) {
    let admin = app.admin_token().await;
    let bundle = json!({
        "type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [
            {"type": "identity", "id": "identity--1", "name": "feed"},
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--a",
             "pattern": "[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '203.0.113.0/24']",
             "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
             "valid_until": "2099-01-01T00:00:00Z", "labels": ["botnet"], "name": "C2 servers"},
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--b",
             "pattern": "[file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855']",
             "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"},
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--c",
             "pattern": "[domain-name:value = 'a.example' AND url:value = 'http://a.example/']",
             "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"},
            {"type": "domain-name", "id": "domain-name--d", "value": "phish.example"},
            {"type": "indicator", "id": "indicator--e", "pattern": "[ipv4-addr:value = '999.1.1.1']", "pattern_type": "stix"}
        ]
    });
    let r = app
        .post_bytes(
            "/api/v1/watchlists/import?source=threatfeed",
            &admin,
            "application/json",
            None,
            bundle.to_string().into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["format"], "stix");
    assert_eq!(
        (
            r.body["read"].as_u64(),
            r.body["created"].as_u64(),
            r.body["refused"].as_u64()
        ),
        (Some(4), Some(4), Some(2)),
        "{:?}",
        r.body
    );
    let codes: Vec<(u64, &str)> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(codes, [(3, "unsupported_pattern"), (5, "invalid_value")]);
    let cidr = app.get("/api/v1/watchlists?type=cidr", &admin).await;
    assert_eq!(cidr.body["items"][0]["value"], "203.0.113.0/24");
    assert_eq!(cidr.body["items"][0]["tags"], json!(["botnet"]));
    assert_eq!(cidr.body["items"][0]["source"], "threatfeed");
    assert_eq!(cidr.body["items"][0]["expires_at"], "2099-01-01T00:00:00Z");

    let csv = "type,value,tags,severity\nip,198.51.100.1,refreshed,5\ndomain,*.evil.example,,\nip,not-an-ip,,\n";
    let r = app
        .post_bytes(
            "/api/v1/watchlists/import?expires_in_days=30",
            &admin,
            "text/csv",
            None,
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        (r.body["created"].as_u64(), r.body["updated"].as_u64()),
        (Some(1), Some(1)),
        "{:?}",
        r.body
    );
    assert_eq!(r.body["errors"][0]["index"], 3);
    assert_eq!(r.body["errors"][0]["field"], "value");

    // Exported and imported again: every entry is refreshed, none added.
    let exported = app
        .get("/api/v1/watchlists/export?format=csv", &admin)
        .await;
    assert_eq!(exported.status, StatusCode::OK);
    assert!(exported.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = exported.body.as_str().unwrap().to_owned();
    assert_eq!(text.lines().count(), 6, "{text}");
    let again = app
        .post_bytes(
            "/api/v1/watchlists/import",
            &admin,
            "text/csv",
            None,
            text.into_bytes(),
        )
        .await;
    assert_eq!(
        (
            again.body["created"].as_u64(),
            again.body["updated"].as_u64()
        ),
        (Some(0), Some(5)),
        "{:?}",
        again.body
    );
    let stix = app
        .get("/api/v1/watchlists/export?format=stix", &admin)
        .await;
    assert_eq!(stix.status, StatusCode::OK);
    let stix: Value = match &stix.body {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        other => other.clone(),
    };
    let objects = stix["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 5);
    assert!(objects
        .iter()
        .any(|o| o["pattern"] == "[domain-name:value = 'evil.example']"));
    let back = app
        .post_bytes(
            "/api/v1/watchlists/import",
            &admin,
            "application/json",
            None,
            stix.to_string().into_bytes(),
        )
        .await;
    assert_eq!(
        (back.body["created"].as_u64(), back.body["updated"].as_u64()),
        (Some(0), Some(5)),
        "{:?}",
        back.body
    );

    let broken = app
        .post_bytes(
            "/api/v1/watchlists/import?format=stix",
            &admin,
            "application/json",
            None,
            b"{\"type\": \"bundle\",".to_vec(),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST, "{:?}", broken.body);
    assert!(
        broken.body["detail"].as_str().unwrap().contains("line 1"),
        "{:?}",
        broken.body
    );
}

async fn a_hunt_finds_events_sent_before_the_entry(app: &TestApp) {
    let admin = app.admin_token().await;
    let events: Vec<Value> = (0..5)
        .map(|i| json!({"message": format!("beacon {i} to 192.0.2.55:443"), "host": {"name": "ws-7"}}))
        .collect();
    send(app, &admin, &events).await;
    let entry = add(app, &admin, json!({"type": "ip", "value": "192.0.2.55"})).await;
    assert!(watchlist_incidents(app, &admin).await.is_empty());
    let path = format!("/api/v1/watchlists/{}/hunt", entry["id"].as_str().unwrap());
    let too_far = app.post(&path, Some(&admin), json!({"days": 91})).await;
    assert_eq!(too_far.status, StatusCode::BAD_REQUEST);
    let queued = app.post(&path, Some(&admin), json!({"days": 1})).await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{:?}", queued.body);
    let job = format!("/api/v1/jobs/{}", queued.body["job_id"].as_str().unwrap());
    let mut state = Value::Null;
    for _ in 0..600 {
        state = app.get(&job, &admin).await.body["state"].clone();
        if state == "completed" || state == "dead" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(state, "completed");
    let titles = watchlist_incidents(app, &admin).await;
    assert_eq!(titles.len(), 1, "{titles:?}");
    assert!(
        titles[0].contains("ip 192.0.2.55 seen in message"),
        "{titles:?}"
    );
    let got = app
        .get(
            &format!("/api/v1/watchlists/{}", entry["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(got.body["hits"], 5, "{:?}", got.body);
}

/// The Watchlists page: an analyst adds an entry (markup in its
/// description stays text), pastes a feed, hunts and deletes; a viewer
/// reads without forms; a forged token is refused; another organisation's
/// page shows none of it.
async fn the_watchlists_page_checks_roles_tokens_and_tenancy(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "wl-page-analyst@example.com", "analyst")
        .await;
    app.create_user(&admin, "wl-page-viewer@example.com", "viewer")
        .await;
    let mut analyst = crate::ui::Browser::new(app);
    analyst
        .sign_in("wl-page-analyst@example.com", "user-password-123")
        .await;
    let page = analyst.get("/watchlists").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("action=\"/watchlists/import\""));
    let csrf = analyst.csrf();
    let added = analyst
        .post(
            "/watchlists",
            &[
                ("csrf", &csrf),
                ("type", "domain"),
                ("value", "evil[.]example"),
                ("include_subdomains", "1"),
                ("severity", "5"),
                ("tags", "phish, c2"),
                ("expires", "2099-12-31"),
                ("description", "<script>alert(1)</script>"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let page = analyst.get("/watchlists").await;
    assert!(
        page.html
            .contains("<code>evil.example</code> and subdomains"),
        "{}",
        page.html
    );
    assert!(page.html.contains("&lt;script&gt;") && !page.html.contains("<script>alert"));
    let bad = analyst
        .post(
            "/watchlists",
            &[
                ("csrf", &csrf),
                ("type", "ip"),
                ("value", "nope"),
                ("severity", "4"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.html.contains("is not an IPv4 or IPv6 address"),
        "{}",
        bad.html
    );
    let pasted = analyst
        .post(
            "/watchlists/import",
            &[
                ("csrf", &csrf),
                ("feed", "198.51.100.9\n203.0.113.0/24\nnot a thing\n"),
                ("source", "paste"),
            ],
        )
        .await;
    assert_eq!(pasted.status, StatusCode::SEE_OTHER, "{}", pasted.html);
    let page = analyst.get(pasted.location.as_deref().unwrap()).await;
    assert!(page.html.contains("2 added"), "{}", page.html);
    assert!(page.html.contains("Item 2 (value)"), "{}", page.html);
    let forged = analyst
        .post(
            "/watchlists",
            &[
                ("csrf", "0000"),
                ("type", "ip"),
                ("value", "192.0.2.1"),
                ("severity", "4"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let csv = analyst.get("/watchlists/export/csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.html.contains("cidr,203.0.113.0/24"), "{}", csv.html);

    let listed = app.get("/api/v1/watchlists?type=ip", &admin).await;
    let id = listed.body["items"][0]["id"].as_str().unwrap().to_owned();
    let hunted = analyst
        .post(
            &format!("/watchlists/{id}/hunt"),
            &[("csrf", &csrf), ("days", "7")],
        )
        .await;
    assert_eq!(hunted.status, StatusCode::SEE_OTHER, "{}", hunted.html);
    let deleted = analyst
        .post(&format!("/watchlists/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(!analyst
        .get("/watchlists")
        .await
        .html
        .contains("198.51.100.9"));

    let mut viewer = crate::ui::Browser::new(app);
    viewer
        .sign_in("wl-page-viewer@example.com", "user-password-123")
        .await;
    let page = viewer.get("/watchlists").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("evil.example"));
    assert!(
        !page.html.contains("action=\"/watchlists/import\""),
        "a viewer gets no forms"
    );
    let csrf = viewer.csrf();
    let refused = viewer
        .post(
            "/watchlists",
            &[
                ("csrf", &csrf),
                ("type", "ip"),
                ("value", "192.0.2.1"),
                ("severity", "4"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let other_admin = app.second_org("wl-page-elsewhere").await;
    app.create_user(&other_admin, "wl-page-other@example.com", "analyst")
        .await;
    let mut other = crate::ui::Browser::new(app);
    other
        .sign_in("wl-page-other@example.com", "user-password-123")
        .await;
    let page = other.get("/watchlists").await;
    assert!(!page.html.contains("evil.example"));
    assert!(!other
        .get("/watchlists/export/csv")
        .await
        .html
        .contains("203.0.113.0"));
}

crate::on_every_backend!(
    entries_are_canonical_unique_and_kept_per_organisation,
    ingest_matches_parsed_values_where_they_appear,
    feeds_come_in_as_stix_or_csv_and_go_out_again,
    a_hunt_finds_events_sent_before_the_entry,
    the_watchlists_page_checks_roles_tokens_and_tenancy,
);
