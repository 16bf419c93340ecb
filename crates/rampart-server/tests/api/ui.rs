//! The web UI over HTTP, as a browser without JavaScript uses it: cookie
//! sessions, CSRF tokens on forms, security headers, escaping, roles and
//! tenancy. (Chromium drives the same pages in `browser.rs`.)

use std::collections::HashMap;

use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

/// A cookie-keeping client that does not follow redirects.
pub struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub csp: Option<String>,
    pub html: String,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            app,
            client,
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let response = request
            .header(COOKIE, cookie.join("; "))
            .send()
            .await
            .unwrap();
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            assert!(attributes.contains("HttpOnly"), "{text}");
            assert!(attributes.contains("SameSite=Strict"), "{text}");
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.into(), value.into());
            }
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
        };
        Page {
            status: response.status(),
            location: header(LOCATION),
            csp: header(CONTENT_SECURITY_POLICY),
            html: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.app.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self
            .client
            .post(format!("{}{path}", self.app.base))
            .form(form);
        self.send(request).await
    }

    /// Posts a `multipart/form-data` form: `(name, file name, content)`
    /// parts in the order given, as a browser sends a file upload.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> Page {
        let boundary = "----rampart-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, file_name, content) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let disposition = match file_name {
                Some(file) => format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                ),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
            };
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let request = self
            .client
            .post(format!("{}{path}", self.app.base))
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(request).await
    }

    pub fn csrf(&self) -> String {
        self.cookies
            .get("rampart_csrf")
            .cloned()
            .unwrap_or_default()
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.get("/login").await;
        let csrf = self.csrf();
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", "/incidents"),
            ],
        )
        .await
    }
}

async fn manual_incident(app: &TestApp, token: &str, title: &str) -> String {
    let r = app
        .post(
            "/api/v1/incidents",
            Some(token),
            json!({"title": title, "severity": "high", "entities": {"users": ["<b>bob</b>"]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn pages_need_a_session_and_carry_security_headers(app: &TestApp) {
    let mut browser = Browser::new(app);
    let page = browser.get("/incidents?status=open").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/login?next=%2Fincidents%3Fstatus%3Dopen")
    );
    let login = browser.get("/login").await;
    assert_eq!(login.status, StatusCode::OK);
    let csp = login.csp.unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    // Scripts only from files of this server, never inline.
    let scripts: Vec<&str> = login.html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty());
    for script in &scripts {
        assert!(
            script.trim_start().starts_with("src=\"/static/"),
            "{script}"
        );
        let path = script.split('"').nth(1).unwrap();
        let file = browser.get(path).await;
        assert_eq!(file.status, StatusCode::OK, "{path}");
    }
    // HSTS only where the browser came over TLS (through a proxy).
    let client = reqwest::Client::new();
    let plain = client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("strict-transport-security").is_none());
    assert_eq!(
        plain.headers()["cross-origin-resource-policy"],
        "same-origin"
    );
    let proxied = client
        .get(format!("{}/login", app.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let hsts = proxied.headers()["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.starts_with("max-age=63072000"), "{hsts}");
    // An API key is not a browser session.
    let admin = app.admin_token().await;
    let (_, key) = app.api_key(&admin, &["read"]).await;
    let mut with_key = Browser::new(app);
    with_key.cookies.insert("rampart_access".into(), key);
    assert_eq!(
        with_key.get("/incidents").await.status,
        StatusCode::SEE_OTHER
    );
}

async fn signing_in_needs_the_form_token_and_the_right_password(app: &TestApp) {
    let mut browser = Browser::new(app);
    browser.get("/login").await;
    let forged = browser
        .post(
            "/login",
            &[
                ("csrf", "0000"),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let wrong = browser.sign_in(ADMIN_EMAIL, "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html.contains("Wrong e-mail or password."));
    let ok = browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.html);
    assert_eq!(ok.location.as_deref(), Some("/incidents"));
    let list = browser.get("/incidents").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.html.contains("No incidents match"),
        "the empty state says what to do"
    );
    // Signing out ends the session on the server: the old cookies no
    // longer open a page.
    let kept = browser.cookies.clone();
    let csrf = browser.csrf();
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some("/login"));
    let mut replay = Browser::new(app);
    replay.cookies = kept;
    replay.cookies.remove("rampart_refresh");
    assert_eq!(replay.get("/incidents").await.status, StatusCode::SEE_OTHER);
}

async fn incidents_are_worked_by_form_with_roles_and_tenancy(app: &TestApp) {
    let admin = app.admin_token().await;
    let id = manual_incident(app, &admin, "<script>alert(1)</script> on host").await;
    let mut analyst = Browser::new(app);
    assert_eq!(
        analyst.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let page = analyst.get(&format!("/incidents/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .html
        .contains("&lt;script&gt;alert(1)&lt;/script&gt; on host"));
    assert!(!page.html.contains("<script>alert(1)"));
    assert!(page.html.contains("&lt;b&gt;bob&lt;/b&gt;"));
    // Only the workflow's next states are offered.
    assert!(page.html.contains("value=\"acknowledged\""));
    assert!(!page.html.contains("<option value=\"open\""));
    let csrf = analyst.csrf();
    let forged = analyst
        .post(
            &format!("/incidents/{id}/status"),
            &[("csrf", "bad"), ("status", "acknowledged")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let moved = analyst
        .post(
            &format!("/incidents/{id}/status"),
            &[("csrf", &csrf), ("status", "acknowledged")],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.html);
    let commented = analyst
        .post(
            &format!("/incidents/{id}/comments"),
            &[("csrf", &csrf), ("body", "<i>looking</i>")],
        )
        .await;
    assert_eq!(commented.status, StatusCode::SEE_OTHER);
    let page = analyst.get(&format!("/incidents/{id}")).await;
    assert!(page.html.contains("status-acknowledged"));
    assert!(page.html.contains("&lt;i&gt;looking&lt;/i&gt;"));

    // A viewer sees no write actions, and a forged change is refused.
    app.create_user(&admin, "viewer@localhost", "viewer").await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("viewer@localhost", "user-password-123")
        .await;
    let page = viewer.get(&format!("/incidents/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("Change status") && !page.html.contains("Add a comment"));
    let csrf = viewer.csrf();
    let refused = viewer
        .post(
            &format!("/incidents/{id}/status"),
            &[("csrf", &csrf), ("status", "resolved")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Another organisation's admin cannot see it.
    let other = app.second_org("otherui").await;
    let other_user = app
        .create_user(&other, "other-analyst@localhost", "analyst")
        .await;
    assert!(!other_user.is_empty());
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("other-analyst@localhost", "user-password-123")
        .await;
    assert_eq!(
        outsider.get(&format!("/incidents/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!outsider.get("/incidents").await.html.contains("on host"));
}

async fn event_search_filters_by_cidr_and_escapes_values(app: &TestApp) {
    let admin = app.admin_token().await;
    let events = "{\"user\":{\"name\":\"<img src=x onerror=alert(1)>\"},\"source\":{\"ip\":\"203.0.113.9\"},\"message\":\"first\"}\n\
                  {\"source\":{\"ip\":\"198.51.100.7\"},\"message\":\"second\"}\n";
    let r = app
        .post_bytes(
            "/api/v1/events",
            &admin,
            "application/x-ndjson",
            None,
            events.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let mut browser = Browser::new(app);
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = browser.get("/events?source_ip=203.0.113.0%2F24").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains(">first<") && !page.html.contains(">second<"));
    assert!(page.html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!page.html.contains("<img src=x"));
    // The facet panel (loaded after the results: it scans the whole
    // range): counts over time and the top values of a field, each a filter.
    assert!(page.html.contains("panel=1") && !page.html.contains("by source.ip"));
    let facet = browser.get("/events?facet=source.ip&panel=1").await;
    assert!(facet.html.contains("by source.ip"));
    assert!(
        facet.html.contains("source_ip=198.51.100.7"),
        "{}",
        facet.html
    );
    let bad = browser.get("/events?facet=no.such.field&panel=1").await;
    assert!(bad.html.contains("must be one of"));
    // A preset range ends now; a custom one may hold nothing.
    let recent = browser.get("/events?range=15m&source_ip=203.0.113.9").await;
    assert!(recent.html.contains(">first<"));
    let old = browser
        .get("/events?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z")
        .await;
    assert!(old.html.contains("No events match."));
    let bad = browser.get("/events?source_ip=not-an-address").await;
    assert!(
        bad.html.contains("source_ip"),
        "the problem names the field"
    );
    let id = page
        .html
        .split("href=\"/events/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let event = browser.get(&format!("/events/{id}")).await;
    assert_eq!(event.status, StatusCode::OK);
    assert!(event.html.contains("203.0.113.9"));
    // Another organisation cannot open it.
    let other = app.second_org("otherevents").await;
    app.create_user(&other, "other-viewer@localhost", "viewer")
        .await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("other-viewer@localhost", "user-password-123")
        .await;
    assert_eq!(
        outsider.get(&format!("/events/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!outsider.get("/events").await.html.contains("203.0.113.9"));
}

async fn the_overview_counts_its_organisation_only(app: &TestApp) {
    let admin = app.admin_token().await;
    manual_incident(app, &admin, "first case").await;
    manual_incident(app, &admin, "second case").await;
    let rule = "title: Carol seen\nlogsource:\n  product: any\ndetection:\n  selection:\n    user.name: carol\n  condition: selection\n";
    let r = app
        .post("/api/v1/rules", Some(&admin), json!({"yaml": rule}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .post(
            "/api/v1/validation-rules",
            Some(&admin),
            json!({"name": "has a user", "field": "user.name", "check": {"type": "required"}, "mode": "warn"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let events =
        "{\"source\":{\"ip\":\"192.0.2.44\"},\"user\":{\"name\":\"carol\"},\"message\":\"a\"}\n\
                  {\"source\":{\"ip\":\"192.0.2.44\"},\"message\":\"b\"}\n";
    let r = app
        .post_bytes(
            "/api/v1/events",
            &admin,
            "application/x-ndjson",
            None,
            events.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = app.get("/api/v1/overview?range=15m", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["incidents_by_status"][0]["status"], "open");
    // The two by hand and the one the rule's alert opened.
    assert_eq!(r.body["incidents_by_status"][0]["count"], 3);
    assert_eq!(
        r.body["open_by_severity"][3]["count"], 2,
        "both by hand are high (4)"
    );
    assert_eq!(r.body["open_by_age"][0]["count"], 3);
    assert_eq!(r.body["events_total"], 2);
    assert_eq!(r.body["top_sources"][0]["value"], "192.0.2.44");
    assert_eq!(r.body["top_users"][0]["value"], "carol");
    assert_eq!(r.body["top_rules"][0]["title"], "Carol seen");
    assert_eq!(r.body["top_rules"][0]["hits"], 1);
    app.state.ingest.validation().flush().await.unwrap();
    let r = app.get("/api/v1/overview?range=15m", &admin).await;
    assert_eq!(r.body["validation_passed"], 1);
    assert_eq!(r.body["validation_failed"], 1);
    assert_eq!(
        app.get("/api/v1/overview?range=1w", &admin).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(r.body["validation"][0]["name"], "has a user");
    assert_eq!(r.body["validation"][0]["failed"], 1);
    assert_eq!(r.body["events_last_minute"], 2);
    assert_eq!(r.body["acknowledged"], 0);
    assert!(r.body["mean_time_to_acknowledge_secs"].is_null());
    // Taking an incident up and closing it is timed.
    let first = manual_incident(app, &admin, "third case").await;
    for status in ["acknowledged", "resolved"] {
        let r = app
            .request(
                Method::PATCH,
                &format!("/api/v1/incidents/{first}"),
                Some(&admin),
                Some(json!({ "status": status })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    let r = app.get(&format!("/api/v1/incidents/{first}"), &admin).await;
    let incident = &r.body;
    assert!(
        incident["acknowledged_at"].is_string() && incident["resolved_at"].is_string(),
        "{incident}"
    );
    let r = app.get("/api/v1/overview?range=15m", &admin).await;
    assert_eq!(
        (r.body["acknowledged"].as_i64(), r.body["closed"].as_i64()),
        (Some(1), Some(1))
    );
    assert!(r.body["mean_time_to_close_secs"].as_i64().is_some());
    let mut browser = Browser::new(app);
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = browser.get("/?range=15m").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("192.0.2.44") && page.html.contains("<svg"));
    assert!(page.html.contains("mean time to acknowledge") && page.html.contains("0 s"));
    assert!(page.html.contains("has a user"));
    // Another organisation sees its own nothing.
    let other = app.second_org("otheroverview").await;
    let r = app.get("/api/v1/overview", &other).await;
    assert_eq!(r.body["incidents_by_status"][0]["count"], 0);
    assert_eq!(r.body["events_total"], 0);
}

async fn api_keys_are_made_shown_once_and_revoked_by_admins_only(app: &TestApp) {
    let mut admin = Browser::new(app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.get("/admin/api-keys").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("No API keys yet"));
    let csrf = admin.csrf();
    let forged = admin
        .post(
            "/admin/api-keys",
            &[
                ("csrf", "x"),
                ("name", "acme-forwarder"),
                ("scope_ingest", "on"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let none = admin
        .post(
            "/admin/api-keys",
            &[("csrf", &csrf), ("name", "acme-forwarder")],
        )
        .await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    let made = admin
        .post(
            "/admin/api-keys",
            &[
                ("csrf", &csrf),
                ("name", "acme-forwarder"),
                ("scope_ingest", "on"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.html);
    let secret = made
        .html
        .split("id=\"secret\"")
        .nth(1)
        .and_then(|rest| rest.split("value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("rk_"), "{secret}");
    let sent = app
        .post_bytes(
            "/api/v1/events",
            &secret,
            "application/x-ndjson",
            None,
            b"{\"message\":\"x\"}\n".to_vec(),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    let list = admin.get("/admin/api-keys").await;
    assert!(
        list.html.contains("acme-forwarder") && !list.html.contains(&secret),
        "shown once"
    );
    let id = list
        .html
        .split("action=\"/admin/api-keys/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();

    // Others: a viewer has no such page, another organisation no such key.
    let token = app.admin_token().await;
    app.create_user(&token, "keys-viewer@localhost", "viewer")
        .await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("keys-viewer@localhost", "user-password-123")
        .await;
    assert_eq!(
        viewer.get("/admin/api-keys").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(!viewer.get("/").await.html.contains("/admin/api-keys"));
    let other = app.second_org("otherkeys").await;
    assert!(!other.is_empty());
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@otherkeys.test", "other-admin-pass-1")
        .await;
    assert!(!outsider
        .get("/admin/api-keys")
        .await
        .html
        .contains("acme-forwarder"));
    let csrf_out = outsider.csrf();
    let refused = outsider
        .post(
            &format!("/admin/api-keys/{id}/revoke"),
            &[("csrf", &csrf_out)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    let revoked = admin
        .post(&format!("/admin/api-keys/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let sent = app
        .post_bytes(
            "/api/v1/events",
            &secret,
            "application/x-ndjson",
            None,
            b"{\"message\":\"x\"}\n".to_vec(),
        )
        .await;
    assert_eq!(sent.status, StatusCode::UNAUTHORIZED);
    assert!(admin.get("/admin/api-keys").await.html.contains("revoked"));
}

async fn admins_add_users_change_roles_disable_and_reset_passwords(app: &TestApp) {
    let mut admin = Browser::new(app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = admin.csrf();
    let page = admin.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains(ADMIN_EMAIL));
    let short = admin
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("email", "dana@example.test"),
                ("role", "viewer"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST, "{}", short.html);
    let added = admin
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("email", "dana@example.test"),
                ("display_name", "<i>Dana</i>"),
                ("role", "viewer"),
                ("password", "dana-password-123"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let page = admin.get("/admin/users").await;
    assert!(page.html.contains("&lt;i&gt;Dana&lt;/i&gt;"));
    // Find Dana's id through the API, to change her.
    let token = app.admin_token().await;
    let users = app.get("/api/v1/users", &token).await;
    let dana = users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "dana@example.test")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut dana_browser = Browser::new(app);
    assert_eq!(
        dana_browser
            .sign_in("dana@example.test", "dana-password-123")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        dana_browser.get("/admin/users").await.status,
        StatusCode::FORBIDDEN
    );
    let promoted = admin
        .post(
            &format!("/admin/users/{dana}"),
            &[("csrf", &csrf), ("role", "analyst")],
        )
        .await;
    assert_eq!(promoted.status, StatusCode::SEE_OTHER);
    let reset = admin
        .post(
            &format!("/admin/users/{dana}"),
            &[("csrf", &csrf), ("password", "dana-new-password-1")],
        )
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    let disabled = admin
        .post(
            &format!("/admin/users/{dana}"),
            &[("csrf", &csrf), ("disabled", "true")],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    let r = app.get(&format!("/api/v1/users/{dana}"), &token).await;
    assert_eq!(r.body["role"], "analyst");
    assert_eq!(r.body["disabled"], true);
    let mut again = Browser::new(app);
    assert_eq!(
        again
            .sign_in("dana@example.test", "dana-new-password-1")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Another organisation's admin cannot change her.
    app.second_org("otherusers").await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@otherusers.test", "other-admin-pass-1")
        .await;
    let csrf_out = outsider.csrf();
    let refused = outsider
        .post(
            &format!("/admin/users/{dana}"),
            &[("csrf", &csrf_out), ("disabled", "false")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert!(!outsider
        .get("/admin/users")
        .await
        .html
        .contains("dana@example.test"));
}

async fn rules_are_validated_tested_saved_and_switched_in_the_editor(app: &TestApp) {
    let mut admin = Browser::new(app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = admin.csrf();
    let list = admin.get("/rules").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html.contains("(built-in)"), "the pack is listed");
    let rule = "title: Root login\nid: 0b3d6c1e-1111-4222-8333-944455556666\nlevel: high\nlogsource:\n  product: linux\ndetection:\n  selection:\n    user.name: root\n  condition: selection\n";
    let bad = admin
        .post(
            "/rules/new",
            &[
                ("csrf", &csrf),
                ("yaml", "title: x\ndetection: [\n"),
                ("action", "validate"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.html.contains("line "),
        "the error names its line: {}",
        bad.html
    );
    let valid = admin
        .post(
            "/rules/new",
            &[("csrf", &csrf), ("yaml", rule), ("action", "validate")],
        )
        .await;
    assert!(
        valid.html.contains("Valid detection rule"),
        "{}",
        valid.html
    );
    let events = "{\"user\":{\"name\":\"root\"}}\n{\"user\":{\"name\":\"alice\"}}";
    let tested = admin
        .post(
            "/rules/new",
            &[
                ("csrf", &csrf),
                ("yaml", rule),
                ("events", events),
                ("action", "test"),
            ],
        )
        .await;
    assert!(
        tested.html.contains("1 of 2 sample events matched"),
        "{}",
        tested.html
    );
    let saved = admin
        .post(
            "/rules/new",
            &[("csrf", &csrf), ("yaml", rule), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let path = saved.location.unwrap();
    assert_eq!(path, "/rules/0b3d6c1e-1111-4222-8333-944455556666");
    assert!(admin.get(&path).await.html.contains("Root login"));
    let off = admin
        .post(
            &format!("{path}/enabled"),
            &[("csrf", &csrf), ("enabled", "false")],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let token = app.admin_token().await;
    let r = app
        .get("/api/v1/rules/0b3d6c1e-1111-4222-8333-944455556666", &token)
        .await;
    assert_eq!(r.body["enabled"], false);

    app.create_user(&token, "rules-viewer@localhost", "viewer")
        .await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("rules-viewer@localhost", "user-password-123")
        .await;
    let page = viewer.get("/rules").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("New Sigma rule") && !page.html.contains("Switch off"));
    let csrf_viewer = viewer.csrf();
    let refused = viewer
        .post(
            "/rules/new",
            &[("csrf", &csrf_viewer), ("yaml", rule), ("action", "save")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    app.second_org("otherrules").await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@otherrules.test", "other-admin-pass-1")
        .await;
    assert_eq!(outsider.get(&path).await.status, StatusCode::NOT_FOUND);
}

async fn the_audit_trail_shows_changes_to_admins_of_the_organisation(app: &TestApp) {
    let token = app.admin_token().await;
    manual_incident(app, &token, "audited case").await;
    let mut admin = Browser::new(app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.get("/admin/audit?action=incident.create").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("incident.create") && page.html.contains("audited case"));
    assert!(!admin
        .get("/admin/audit?action=user.delete")
        .await
        .html
        .contains("audited case"));
    app.create_user(&token, "audit-analyst@localhost", "analyst")
        .await;
    let mut analyst = Browser::new(app);
    analyst
        .sign_in("audit-analyst@localhost", "user-password-123")
        .await;
    assert_eq!(
        analyst.get("/admin/audit").await.status,
        StatusCode::FORBIDDEN
    );
    app.second_org("otheraudit").await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@otheraudit.test", "other-admin-pass-1")
        .await;
    assert!(!outsider
        .get("/admin/audit")
        .await
        .html
        .contains("audited case"));
}

async fn incidents_are_opened_assigned_and_moved_in_bulk(app: &TestApp) {
    let mut analyst = Browser::new(app);
    analyst.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = analyst.csrf();
    assert_eq!(analyst.get("/incidents/new").await.status, StatusCode::OK);
    let opened = analyst
        .post(
            "/incidents/new",
            &[
                ("csrf", &csrf),
                ("title", "Phishing wave"),
                ("severity", "4"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.html);
    let path = opened.location.unwrap();
    let id = path.trim_start_matches("/incidents/").to_owned();
    let token = app.admin_token().await;
    let me = app.get("/api/v1/me", &token).await;
    let my_id = me.body["user"]["id"].as_str().unwrap().to_owned();
    let assigned = analyst
        .post(
            &format!("{path}/assign"),
            &[("csrf", &csrf), ("assignee", &my_id)],
        )
        .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{}", assigned.html);
    assert!(analyst
        .get(&path)
        .await
        .html
        .contains(&format!("<dd>{ADMIN_EMAIL}</dd>")));
    let second = manual_incident(app, &token, "second of the wave").await;
    let moved = analyst
        .post(
            "/incidents/bulk",
            &[
                ("csrf", &csrf),
                ("status", "resolved"),
                ("id", &id),
                ("id", &second),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.html);
    for incident in [&id, &second] {
        let r = app
            .get(&format!("/api/v1/incidents/{incident}"), &token)
            .await;
        assert_eq!(r.body["status"], "resolved");
    }
    // The workflow holds in bulk too: a resolved incident is only reopened.
    let refused = analyst
        .post(
            "/incidents/bulk",
            &[("csrf", &csrf), ("status", "investigating"), ("id", &id)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    // Others: a viewer may not, another organisation finds nothing.
    app.create_user(&token, "bulk-viewer@localhost", "viewer")
        .await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("bulk-viewer@localhost", "user-password-123")
        .await;
    assert!(!viewer
        .get("/incidents")
        .await
        .html
        .contains("Move ticked incidents"));
    let csrf_viewer = viewer.csrf();
    let denied = viewer
        .post(
            "/incidents/bulk",
            &[("csrf", &csrf_viewer), ("status", "open"), ("id", &id)],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    app.second_org("otherbulk").await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@otherbulk.test", "other-admin-pass-1")
        .await;
    let csrf_out = outsider.csrf();
    let missing = outsider
        .post(
            "/incidents/bulk",
            &[("csrf", &csrf_out), ("status", "open"), ("id", &id)],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn admins_set_the_retention_of_their_organisation(app: &TestApp) {
    let mut admin = Browser::new(app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = admin.csrf();
    assert_eq!(admin.get("/admin/settings").await.status, StatusCode::OK);
    let saved = admin
        .post(
            "/admin/settings",
            &[("csrf", &csrf), ("retention_days", "45")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let token = app.admin_token().await;
    assert_eq!(
        app.get("/api/v1/org/settings", &token).await.body["retention_days"],
        45
    );
    let bad = admin
        .post(
            "/admin/settings",
            &[("csrf", &csrf), ("retention_days", "0")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let reset = admin
        .post(
            "/admin/settings",
            &[("csrf", &csrf), ("retention_days", "")],
        )
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    assert!(
        app.get("/api/v1/org/settings", &token).await.body["retention_days_override"].is_null()
    );
    app.create_user(&token, "settings-analyst@localhost", "analyst")
        .await;
    let mut analyst = Browser::new(app);
    analyst
        .sign_in("settings-analyst@localhost", "user-password-123")
        .await;
    let csrf_analyst = analyst.csrf();
    let denied = analyst
        .post(
            "/admin/settings",
            &[("csrf", &csrf_analyst), ("retention_days", "1")],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let other = app.second_org("othersettings").await;
    assert!(
        app.get("/api/v1/org/settings", &other).await.body["retention_days_override"].is_null()
    );
}

async fn validation_rules_are_added_counted_and_deleted(app: &TestApp) {
    let mut admin = Browser::new(app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = admin.csrf();
    let bad = admin
        .post(
            "/validation",
            &[
                ("csrf", &csrf),
                ("name", "bad"),
                ("field", "host.name"),
                ("check", "regex"),
                ("argument", "("),
                ("mode", "warn"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.html);
    let added = admin
        .post(
            "/validation",
            &[
                ("csrf", &csrf),
                ("name", "hosts named"),
                ("field", "host.name"),
                ("check", "required"),
                ("mode", "reject"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let token = app.admin_token().await;
    let events = "{\"host\":{\"name\":\"a\"},\"message\":\"ok\"}\n{\"message\":\"no host\"}\n";
    let r = app
        .post_bytes(
            "/api/v1/events",
            &token,
            "application/x-ndjson",
            None,
            events.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.body["accepted"], 1);
    assert_eq!(r.body["rejected"], 1);
    app.state.ingest.validation().flush().await.unwrap();
    let page = admin.get("/validation").await;
    assert!(
        page.html.contains("hosts named") && page.html.contains("1 passed, 1 failed"),
        "{}",
        page.html
    );
    let id = page
        .html
        .split("action=\"/validation/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    app.create_user(&token, "validation-viewer@localhost", "viewer")
        .await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("validation-viewer@localhost", "user-password-123")
        .await;
    let seen = viewer.get("/validation").await;
    assert!(seen.html.contains("hosts named") && !seen.html.contains("Add rule"));
    let csrf_viewer = viewer.csrf();
    let denied = viewer
        .post(
            &format!("/validation/{id}/delete"),
            &[("csrf", &csrf_viewer)],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    app.second_org("othervalidation").await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@othervalidation.test", "other-admin-pass-1")
        .await;
    assert!(!outsider
        .get("/validation")
        .await
        .html
        .contains("hosts named"));
    let csrf_out = outsider.csrf();
    let missing = outsider
        .post(&format!("/validation/{id}/delete"), &[("csrf", &csrf_out)])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let deleted = admin
        .post(&format!("/validation/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(!admin.get("/validation").await.html.contains("hosts named"));
}

async fn the_field_mapping_is_edited_as_lines(app: &TestApp) {
    let mut admin = Browser::new(app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = admin.csrf();
    let page = admin.get("/rules/field-mapping").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Defaults"));
    let bad = admin
        .post(
            "/rules/field-mapping",
            &[("csrf", &csrf), ("mapping", "CommandLine proc.cmdline")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.html.contains("line 1"));
    let saved = admin
        .post(
            "/rules/field-mapping",
            &[
                ("csrf", &csrf),
                ("mapping", "CommandLine = proc.cmdline, x.cmd\n"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let token = app.admin_token().await;
    let r = app.get("/api/v1/detection/field-mapping", &token).await;
    assert_eq!(
        r.body["mapping"]["CommandLine"],
        json!(["proc.cmdline", "x.cmd"])
    );
    app.create_user(&token, "mapping-viewer@localhost", "viewer")
        .await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("mapping-viewer@localhost", "user-password-123")
        .await;
    let csrf_viewer = viewer.csrf();
    let denied = viewer
        .post(
            "/rules/field-mapping",
            &[("csrf", &csrf_viewer), ("mapping", "")],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    app.second_org("othermapping").await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@othermapping.test", "other-admin-pass-1")
        .await;
    assert!(!outsider
        .get("/rules/field-mapping")
        .await
        .html
        .contains("x.cmd"));
}

async fn platform_admins_add_organisations(app: &TestApp) {
    let mut platform = Browser::new(app);
    platform.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let csrf = platform.csrf();
    let page = platform.get("/platform/organisations").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("default"));
    let added = platform
        .post(
            "/platform/organisations",
            &[
                ("csrf", &csrf),
                ("name", "Acme SOC"),
                ("admin_email", "lead@acme.test"),
                ("admin_password", "acme-password-123"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    assert!(platform
        .get("/platform/organisations")
        .await
        .html
        .contains("Acme SOC"));
    // Its admin signs in to their own organisation, and is no platform admin.
    let mut lead = Browser::new(app);
    assert_eq!(
        lead.sign_in("lead@acme.test", "acme-password-123")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert!(!lead.get("/").await.html.contains("/platform/organisations"));
    assert_eq!(
        lead.get("/platform/organisations").await.status,
        StatusCode::FORBIDDEN
    );
    let csrf_lead = lead.csrf();
    let denied = lead
        .post(
            "/platform/organisations",
            &[
                ("csrf", &csrf_lead),
                ("name", "Sneaky"),
                ("admin_email", "x@sneaky.test"),
                ("admin_password", "sneaky-password-1"),
            ],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

async fn the_theme_switch_keeps_its_choice_and_returns_to_the_page(app: &TestApp) {
    let mut browser = Browser::new(app);
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = browser.get("/incidents?status=open").await;
    assert!(
        !page.html.contains("data-theme="),
        "the system's theme by default"
    );
    assert!(page
        .html
        .contains(r#"name="next" value="/incidents?status=open""#));
    let csrf = browser.csrf();
    let chosen = browser
        .post(
            "/theme",
            &[
                ("csrf", &csrf),
                ("theme", "dark"),
                ("next", "/incidents?status=open"),
            ],
        )
        .await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER);
    assert_eq!(chosen.location.as_deref(), Some("/incidents?status=open"));
    let page = browser.get("/").await;
    assert!(page.html.contains(r#"<html lang="en" data-theme="dark">"#));
    assert!(page.html.contains(r#"value="dark" aria-pressed="true""#));
    // Forged, unknown or off-site: refused or kept on this site.
    let forged = browser
        .post("/theme", &[("csrf", "forged"), ("theme", "light")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let unknown = browser
        .post("/theme", &[("csrf", &csrf), ("theme", "<b>neon</b>")])
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(!unknown.html.contains("<b>neon"));
    let away = browser
        .post(
            "/theme",
            &[
                ("csrf", &csrf),
                ("theme", "light"),
                ("next", "//evil.example"),
            ],
        )
        .await;
    assert_eq!(away.location.as_deref(), Some("/"));
    assert!(browser
        .get("/")
        .await
        .html
        .contains(r#"data-theme="light""#));
    // "system" removes the choice.
    browser
        .post("/theme", &[("csrf", &csrf), ("theme", "system")])
        .await;
    assert!(!browser.get("/").await.html.contains("data-theme="));
}

async fn incidents_are_opened_from_an_event_with_its_entities(app: &TestApp) {
    let token = app.admin_token().await;
    let event = r#"{"source":{"ip":"198.51.100.7"},"destination":{"ip":"10.1.2.3"},"user":{"name":"mallory"},"host":{"name":"db-1"},"message":"sudo <script>x</script> by mallory"}"#;
    let r = app
        .post_bytes(
            "/api/v1/events",
            &token,
            "application/json",
            None,
            event.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let found = app.get("/api/v1/events?user=mallory", &token).await;
    let event_id = found.body["items"][0]["id"].as_str().unwrap().to_owned();

    let mut analyst = Browser::new(app);
    analyst.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let shown = analyst.get(&format!("/events/{event_id}")).await;
    assert!(shown
        .html
        .contains(&format!("/incidents/new?event={event_id}")));
    let form = analyst
        .get(&format!("/incidents/new?event={event_id}"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    for value in [
        "198.51.100.7\n10.1.2.3",
        "mallory</textarea>",
        "db-1",
        &event_id,
    ] {
        assert!(form.html.contains(value), "{value}: {}", form.html);
    }
    assert!(form
        .html
        .contains("sudo &lt;script&gt;x&lt;/script&gt; by mallory"));
    let csrf = analyst.csrf();
    let opened = analyst
        .post(
            "/incidents/new",
            &[
                ("csrf", &csrf),
                ("title", "Mallory on db-1"),
                ("severity", "5"),
                ("ips", "198.51.100.7\n10.1.2.3"),
                ("users", "mallory"),
                ("hosts", "db-1, db-2"),
                ("event_ids", &event_id),
            ],
        )
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.html);
    let id = opened
        .location
        .unwrap()
        .trim_start_matches("/incidents/")
        .to_owned();
    let r = app.get(&format!("/api/v1/incidents/{id}"), &token).await;
    assert_eq!(
        r.body["entities"]["ips"],
        json!(["198.51.100.7", "10.1.2.3"])
    );
    assert_eq!(r.body["entities"]["hosts"], json!(["db-1", "db-2"]));
    assert_eq!(r.body["event_ids"], json!([event_id]));
    // An event id that is not the organisation's is refused, with its field.
    let bad = analyst
        .post(
            "/incidents/new",
            &[
                ("csrf", &csrf),
                ("title", "x"),
                ("severity", "3"),
                ("event_ids", "00000000000000ff"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.html);
    assert!(bad
        .html
        .contains("no such event in this organisation (event_ids[0])"));
    // Another organisation cannot open the form from this event.
    app.second_org("otherfromevent").await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@otherfromevent.test", "other-admin-pass-1")
        .await;
    let foreign = outsider
        .get(&format!("/incidents/new?event={event_id}"))
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(!foreign.html.contains("mallory"));
}

async fn admins_retry_and_cancel_jobs_by_form(app: &TestApp) {
    use rampart_core::{JobState, NewJob};
    let token = app.admin_token().await;
    let me = app.get("/api/v1/me", &token).await;
    let org: rampart_core::OrgId = me.body["user"]["org_id"].as_str().unwrap().parse().unwrap();
    let now = app.state.clock.now();
    let enqueue = |queue: &str, kind: &str| NewJob::new(Some(org), queue, kind, json!({}), now);
    let added = app
        .state
        .jobs
        .enqueue(&[
            enqueue("default", "<b>nobody</b>"),
            enqueue("elsewhere", "noop"),
        ])
        .await
        .unwrap();
    let ids: Vec<String> = added
        .iter()
        .map(|a| match a {
            rampart_store::Enqueued::Added(id) => id.to_string(),
            rampart_store::Enqueued::Duplicate => unreachable!(),
        })
        .collect();
    // The node's workers make the first one dead (no handler).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let r = app.get(&format!("/api/v1/jobs/{}", ids[0]), &token).await;
        if r.body["state"] == "dead" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", r.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut admin = Browser::new(app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.get("/admin/jobs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains(r#"href="/admin/jobs""#));
    assert!(page.html.contains("&lt;b&gt;nobody&lt;/b&gt;") && !page.html.contains("<b>nobody"));
    assert!(page.html.contains(&format!("/admin/jobs/{}/retry", ids[0])));
    assert!(page
        .html
        .contains(&format!("/admin/jobs/{}/cancel", ids[1])));
    let dead_only = admin.get("/admin/jobs?state=dead").await;
    assert!(dead_only.html.contains(&ids[0]) && !dead_only.html.contains(&ids[1]));
    let csrf = admin.csrf();
    let forged = admin
        .post(
            &format!("/admin/jobs/{}/cancel", ids[1]),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let cancelled = admin
        .post(
            &format!("/admin/jobs/{}/cancel", ids[1]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        cancelled.status,
        StatusCode::SEE_OTHER,
        "{}",
        cancelled.html
    );
    let job = app.get(&format!("/api/v1/jobs/{}", ids[1]), &token).await;
    assert_eq!(job.body["state"], JobState::Cancelled.as_str());
    let retried = admin
        .post(&format!("/admin/jobs/{}/retry", ids[0]), &[("csrf", &csrf)])
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER, "{}", retried.html);
    let again = admin
        .post(
            &format!("/admin/jobs/{}/cancel", ids[1]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // Not for analysts; another organisation sees none of it.
    app.create_user(&token, "jobs-ui-analyst@localhost", "analyst")
        .await;
    let mut analyst = Browser::new(app);
    analyst
        .sign_in("jobs-ui-analyst@localhost", "user-password-123")
        .await;
    assert!(!analyst.get("/incidents").await.html.contains("/admin/jobs"));
    assert_eq!(
        analyst.get("/admin/jobs").await.status,
        StatusCode::FORBIDDEN
    );
    let analyst_csrf = analyst.csrf();
    let denied = analyst
        .post(
            &format!("/admin/jobs/{}/retry", ids[0]),
            &[("csrf", &analyst_csrf)],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    app.second_org("otherjobsui").await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@otherjobsui.test", "other-admin-pass-1")
        .await;
    let theirs = outsider.get("/admin/jobs").await;
    assert!(!theirs.html.contains(&ids[0]) && theirs.html.contains("No jobs match"));
    let outsider_csrf = outsider.csrf();
    let foreign = outsider
        .post(
            &format!("/admin/jobs/{}/retry", ids[0]),
            &[("csrf", &outsider_csrf)],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

async fn flags_are_made_evaluated_switched_off_and_deleted_by_form(app: &TestApp) {
    let mut admin = Browser::new(app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.get("/admin/flags").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("No flags yet") && page.html.contains(r#"action="/admin/flags""#));
    let csrf = admin.csrf();
    let rules = r#"[{"constraints": [{"field": "client_address", "operator": "in_cidr", "values": ["10.0.0.0/8"]}]}]"#;
    let bad = admin
        .post(
            "/admin/flags",
            &[
                ("csrf", &csrf),
                ("key", "beta.ui"),
                ("description", "<i>x</i>"),
                ("enabled", "true"),
                ("rules", "[{"),
                ("variants", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.html.contains("(rules)") && bad.html.contains("[{</textarea>"));
    let made = admin
        .post(
            "/admin/flags",
            &[
                ("csrf", &csrf),
                ("key", "beta.ui"),
                ("description", "<i>x</i>"),
                ("enabled", "true"),
                ("rules", rules),
                ("variants", ""),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    let listed = admin.get("/admin/flags").await;
    assert!(listed.html.contains("beta.ui") && listed.html.contains("&lt;i&gt;x&lt;/i&gt;"));
    let inside = admin
        .get("/admin/flags?flag=beta.ui&user=u1&address=10.2.3.4")
        .await;
    assert!(
        inside.html.contains("is <strong>on</strong> (rule 0)"),
        "{}",
        inside.html
    );
    let outside = admin
        .get("/admin/flags?flag=beta.ui&address=192.0.2.1")
        .await;
    assert!(outside
        .html
        .contains("is <strong>off</strong> (no_rule_matched)"));
    // Switched off in the editor.
    let editor = admin.get("/admin/flags/beta.ui").await;
    assert!(editor.html.contains("10.0.0.0/8"));
    let off = admin
        .post(
            "/admin/flags/beta.ui",
            &[
                ("csrf", &csrf),
                ("description", "paused"),
                ("rules", rules),
                ("variants", ""),
            ],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.html);
    let inside = admin
        .get("/admin/flags?flag=beta.ui&address=10.2.3.4")
        .await;
    assert!(inside.html.contains("(disabled)"));
    let forged = admin
        .post("/admin/flags/beta.ui/delete", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Analysts read; another organisation sees nothing and deletes nothing.
    let token = app.admin_token().await;
    app.create_user(&token, "flags-viewer@localhost", "viewer")
        .await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("flags-viewer@localhost", "user-password-123")
        .await;
    let seen = viewer.get("/admin/flags").await;
    assert!(seen.html.contains("beta.ui") && !seen.html.contains("New flag"));
    let viewer_csrf = viewer.csrf();
    let denied = viewer
        .post("/admin/flags/beta.ui/delete", &[("csrf", &viewer_csrf)])
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    app.second_org("otherflagsui").await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@otherflagsui.test", "other-admin-pass-1")
        .await;
    assert!(!outsider.get("/admin/flags").await.html.contains("beta.ui"));
    let outsider_csrf = outsider.csrf();
    let foreign = outsider
        .post("/admin/flags/beta.ui/delete", &[("csrf", &outsider_csrf)])
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let gone = admin
        .post("/admin/flags/beta.ui/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert!(admin
        .get("/admin/flags")
        .await
        .html
        .contains("No flags yet"));
}

async fn feedback_is_sent_answered_and_read_in_the_browser(app: &TestApp) {
    let token = app.admin_token().await;
    app.create_user(&token, "fb-viewer@localhost", "viewer")
        .await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("fb-viewer@localhost", "user-password-123")
        .await;
    let incidents = viewer.get("/incidents?status=open").await;
    assert!(incidents
        .html
        .contains(r#"href="/feedback?from=%2Fincidents%3Fstatus%3Dopen""#));
    let form = viewer
        .get("/feedback?from=%2Fincidents%3Fstatus%3Dopen")
        .await;
    assert!(form
        .html
        .contains(r#"name="page" value="/incidents?status=open""#));
    let csrf = viewer.csrf();
    let sent = viewer
        .post(
            "/feedback",
            &[
                ("csrf", &csrf),
                ("kind", "question"),
                ("message", "Why <script>x</script>?"),
                ("page", "/incidents?status=open"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
    let mine = viewer.get("/feedback").await;
    assert!(mine.html.contains("Why &lt;script&gt;x&lt;/script&gt;?"));
    assert!(!mine.html.contains("Answer your organisation"));
    assert_eq!(
        viewer.get("/admin/feedback").await.status,
        StatusCode::FORBIDDEN
    );
    let mut admin = Browser::new(app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let listed = admin.get("/admin/feedback?status=open").await;
    assert!(listed.html.contains("Why &lt;script&gt;"));
    let r = app.get("/api/v1/feedback", &token).await;
    let id = r.body["items"][0]["id"].as_str().unwrap().to_owned();
    let admin_csrf = admin.csrf();
    let answered = admin
        .post(
            &format!("/admin/feedback/{id}"),
            &[
                ("csrf", &admin_csrf),
                ("action", "answer"),
                ("answer", "Because <b>reasons</b>."),
            ],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.html);
    let mine = viewer.get("/feedback").await;
    assert!(mine.html.contains("Because &lt;b&gt;reasons&lt;/b&gt;."));
    let forged = admin
        .post(
            &format!("/admin/feedback/{id}"),
            &[("csrf", "forged"), ("action", "close")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    app.second_org("otherfeedbackui").await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@otherfeedbackui.test", "other-admin-pass-1")
        .await;
    assert!(!outsider
        .get("/admin/feedback")
        .await
        .html
        .contains("Why &lt;script"));
    let outsider_csrf = outsider.csrf();
    let foreign = outsider
        .post(
            &format!("/admin/feedback/{id}"),
            &[("csrf", &outsider_csrf), ("action", "close")],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

async fn notifications_are_set_up_by_form_and_preferences_saved(app: &TestApp) {
    let token = app.admin_token().await;
    let mut admin = Browser::new(app);
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let empty = admin.get("/admin/notifications").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.html.contains("No channels yet."));
    let csrf = admin.csrf();
    let short = admin
        .post(
            "/admin/notifications/channels",
            &[
                ("csrf", &csrf),
                ("name", "hook"),
                ("kind", "webhook"),
                ("url", "https://hooks.example.test/x"),
                ("secret", "short"),
                ("recipients", ""),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.html.contains("(target.secret)"), "{}", short.html);
    let added = admin
        .post(
            "/admin/notifications/channels",
            &[
                ("csrf", &csrf),
                ("name", "<b>ops</b>"),
                ("kind", "webhook"),
                ("url", "https://hooks.example.test/x"),
                ("secret", "0123456789abcdefXYZ"),
                ("recipients", ""),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let mail = admin
        .post(
            "/admin/notifications/channels",
            &[
                ("csrf", &csrf),
                ("name", "mail"),
                ("kind", "email"),
                ("url", ""),
                ("secret", ""),
                ("recipients", "soc@example.test, lead@example.test"),
            ],
        )
        .await;
    assert_eq!(mail.status, StatusCode::SEE_OTHER, "{}", mail.html);
    let channels = app.get("/api/v1/notifications/channels", &token).await;
    let ids: Vec<String> = channels
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        channels.body[1]["target"]["recipients"],
        json!(["soc@example.test", "lead@example.test"])
    );
    let rule = admin
        .post(
            "/admin/notifications/rules",
            &[
                ("csrf", &csrf),
                ("name", "serious"),
                ("events", "incident.created"),
                ("events", "incident.escalated"),
                ("min_severity", "4"),
                ("channels", &ids[0]),
                ("channels", &ids[1]),
            ],
        )
        .await;
    assert_eq!(rule.status, StatusCode::SEE_OTHER, "{}", rule.html);
    let rules = app.get("/api/v1/notifications/rules", &token).await;
    assert_eq!(
        rules.body[0]["events"],
        json!(["incident.created", "incident.escalated"])
    );
    assert_eq!(rules.body[0]["min_severity"], 4);
    assert_eq!(rules.body[0]["channels"].as_array().unwrap().len(), 2);
    let tested = admin
        .post(
            &format!("/admin/notifications/channels/{}/test", ids[0]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(tested.status, StatusCode::SEE_OTHER);
    let page = admin.get("/admin/notifications").await;
    assert!(page.html.contains("&lt;b&gt;ops&lt;/b&gt;"));
    assert!(!page.html.contains("<b>ops</b>"));
    assert!(page.html.contains("incident.created, incident.escalated"));
    assert!(
        !page.html.contains("0123456789abcdefXYZ"),
        "the secret is never shown"
    );
    // A channel a rule uses is not deleted; a forged form changes nothing.
    let in_use = admin
        .post(
            &format!("/admin/notifications/channels/{}/delete", ids[0]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    let forged = admin
        .post(
            &format!("/admin/notifications/channels/{}/delete", ids[1]),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Viewers keep out of the admin page but set their own preferences.
    app.create_user(&token, "nt-viewer@localhost", "viewer")
        .await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("nt-viewer@localhost", "user-password-123")
        .await;
    assert_eq!(
        viewer.get("/admin/notifications").await.status,
        StatusCode::FORBIDDEN
    );
    let viewer_csrf = viewer.csrf();
    let denied = viewer
        .post(
            &format!("/admin/notifications/channels/{}/test", ids[1]),
            &[("csrf", &viewer_csrf)],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let mine = viewer.get("/notifications").await;
    assert!(
        mine.html
            .contains(r#"name="assigned_to_me" value="true" checked"#),
        "{}",
        mine.html
    );
    let saved = viewer
        .post(
            "/notifications",
            &[
                ("csrf", &viewer_csrf),
                ("events", "incident.created"),
                ("min_severity", "5"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    assert!(saved.html.contains("Saved."));
    let viewer_token = app.token("nt-viewer@localhost", "user-password-123").await;
    let prefs = app.get("/api/v1/me/notifications", &viewer_token).await;
    assert_eq!(
        prefs.body,
        json!({"assigned_to_me": false, "events": ["incident.created"], "min_severity": 5, "weekly_digest": false})
    );

    // Another organisation sees none of it and cannot delete it.
    app.second_org("othernotifyui").await;
    let mut outsider = Browser::new(app);
    outsider
        .sign_in("admin@othernotifyui.test", "other-admin-pass-1")
        .await;
    let theirs = outsider.get("/admin/notifications").await;
    assert!(theirs.html.contains("No channels yet."));
    let outsider_csrf = outsider.csrf();
    let foreign = outsider
        .post(
            &format!("/admin/notifications/channels/{}/delete", ids[1]),
            &[("csrf", &outsider_csrf)],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    // The rule first, then its channels.
    let rule_id = rules.body[0]["id"].as_str().unwrap();
    let gone = admin
        .post(
            &format!("/admin/notifications/rules/{rule_id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    for id in &ids {
        let gone = admin
            .post(
                &format!("/admin/notifications/channels/{id}/delete"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.html);
    }
    assert!(admin
        .get("/admin/notifications")
        .await
        .html
        .contains("No channels yet."));
}

crate::on_every_backend!(
    notifications_are_set_up_by_form_and_preferences_saved,
    platform_admins_add_organisations,
    the_theme_switch_keeps_its_choice_and_returns_to_the_page,
    incidents_are_opened_from_an_event_with_its_entities,
    admins_retry_and_cancel_jobs_by_form,
    flags_are_made_evaluated_switched_off_and_deleted_by_form,
    feedback_is_sent_answered_and_read_in_the_browser,
    the_field_mapping_is_edited_as_lines,
    validation_rules_are_added_counted_and_deleted,
    admins_set_the_retention_of_their_organisation,
    incidents_are_opened_assigned_and_moved_in_bulk,
    the_audit_trail_shows_changes_to_admins_of_the_organisation,
    rules_are_validated_tested_saved_and_switched_in_the_editor,
    admins_add_users_change_roles_disable_and_reset_passwords,
    api_keys_are_made_shown_once_and_revoked_by_admins_only,
    the_overview_counts_its_organisation_only,
    pages_need_a_session_and_carry_security_headers,
    signing_in_needs_the_form_token_and_the_right_password,
    incidents_are_worked_by_form_with_roles_and_tenancy,
    event_search_filters_by_cidr_and_escapes_values,
);
