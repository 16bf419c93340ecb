//! Notifications end to end, with real receivers: an SMTP server
//! (aiosmtpd, with a handler that records each decoded message) and an
//! HTTP receiver that checks webhook signatures. Channels, rules, the
//! delivery log and preferences over the API; incident notices to e-mail,
//! webhook and Slack; people's own e-mail (assignment, welcome, feedback
//! answer); a failing receiver retried until its job is dead, then retried
//! by hand; private targets refused; another organisation sees nothing.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use rampart_app::notifications::sign;
use rampart_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{TestApp, ADMIN_EMAIL};

/// A real SMTP server for the test's length.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    /// Starts aiosmtpd, or says why not and returns `None` (fails instead
    /// when `RAMPART_REQUIRE_SMTP` is set, as CI does).
    pub async fn start() -> Option<SmtpSink> {
        let support = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support");
        let have = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !have {
            assert!(
                std::env::var_os("RAMPART_REQUIRE_SMTP").is_none(),
                "RAMPART_REQUIRE_SMTP is set but python3 -m aiosmtpd is not available"
            );
            eprintln!("notice: aiosmtpd not installed (pip install aiosmtpd); notification e-mail tests skipped");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "smtp_sink.Sink"])
            .arg(dir.path())
            .env("PYTHONPATH", &support)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let sink = SmtpSink { port, dir, child };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(sink);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not start on port {port}");
    }

    pub fn messages(&self) -> Vec<Value> {
        let mut out: Vec<Value> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
            .collect();
        out.sort_by_key(|m| m["subject"].as_str().unwrap_or_default().to_owned());
        out
    }

    /// Waits for a message to `to` whose subject contains `subject`.
    pub async fn wait_for(&self, to: &str, subject: &str) -> Value {
        for _ in 0..300 {
            if let Some(m) = self.messages().into_iter().find(|m| {
                m["to"].as_array().unwrap().iter().any(|t| t == to)
                    && m["subject"].as_str().unwrap_or_default().contains(subject)
            }) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no e-mail to {to} about {subject:?}: {:#?}",
            self.messages()
        );
    }
}

#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// A local HTTP receiver: records every request; `/hook` answers 500
/// while `failing` is set.
#[derive(Clone, Default)]
pub struct Receiver {
    seen: Arc<Mutex<Vec<Received>>>,
    failing: Arc<AtomicBool>,
}

impl Receiver {
    async fn start() -> (Receiver, SocketAddr) {
        async fn record(
            State(r): State<Receiver>,
            uri: axum::http::Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> AxumStatus {
            r.seen.lock().unwrap().push(Received {
                path: uri.path().to_owned(),
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect(),
                body: body.to_vec(),
            });
            if uri.path() == "/hook" && r.failing.load(Ordering::SeqCst) {
                AxumStatus::INTERNAL_SERVER_ERROR
            } else {
                AxumStatus::OK
            }
        }
        let receiver = Receiver::default();
        let app = axum::Router::new()
            .fallback(axum::routing::post(record))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, addr)
    }

    fn at(&self, path: &str) -> Vec<Received> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    async fn wait_for(&self, path: &str, count: usize) -> Vec<Received> {
        for _ in 0..300 {
            let seen = self.at(path);
            if seen.len() >= count {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{path} received {} requests, not {count}",
            self.at(path).len()
        );
    }
}

pub fn configure(smtp_port: u16, allow_private: bool) -> impl FnOnce(&mut Config) {
    move |config: &mut Config| {
        config.notifications.allow_private_targets = allow_private;
        config.notifications.base_url = "https://rampart.example.test".into();
        config.notifications.breaker_failures = 3;
        config.notifications.breaker_cooldown_secs = 1;
        config.notifications.smtp = Some(rampart_core::notification::SmtpServer {
            host: "127.0.0.1".into(),
            port: smtp_port,
            security: rampart_core::notification::SmtpSecurity::None,
            username: None,
            password: None,
            from: "rampart@example.test".into(),
        });
        // Failed attempts run again at once.
        config.jobs.backoff_base_secs = 0;
        config.jobs.backoff_cap_secs = 0;
        config.jobs.poll_ms = 20;
    }
}

/// Runs a test on SQLite and on PostgreSQL with an SMTP sink, a receiver
/// and the app configured to use them.
macro_rules! with_receivers {
    ($($name:ident: $allow_private:expr),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(smtp) = super::SmtpSink::start().await else { return };
                    let (receiver, addr) = super::Receiver::start().await;
                    let app = crate::helpers::spawn_app_with(
                        rampart_store::testing::TestDatabase::sqlite(),
                        super::configure(smtp.port, $allow_private),
                    ).await;
                    super::$name(&app, &smtp, &receiver, addr).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = rampart_store::testing::TestDatabase::postgres().await else { return };
                    let Some(smtp) = super::SmtpSink::start().await else { return };
                    let (receiver, addr) = super::Receiver::start().await;
                    let app = crate::helpers::spawn_app_with(db, super::configure(smtp.port, $allow_private)).await;
                    super::$name(&app, &smtp, &receiver, addr).await;
                    app.stop().await;
                }
            )*
        }
    };
}

with_receivers!(
    incident_notices_reach_email_webhook_and_slack: true,
    people_get_their_own_email: true,
    a_failing_receiver_is_retried_until_dead_then_by_hand: true,
    private_targets_are_refused_unless_allowed: false,
    a_saved_hunt_that_matches_notifies: true,
);

const SECRET: &str = "whsec-test-0123456789abcdef";

async fn channel(app: &TestApp, admin: &str, name: &str, target: Value) -> String {
    let r = app
        .post(
            "/api/v1/notifications/channels",
            Some(admin),
            json!({"name": name, "target": target}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn incident(app: &TestApp, token: &str, title: &str, severity: u8) -> String {
    let r = app
        .post(
            "/api/v1/incidents",
            Some(token),
            json!({"title": title, "severity": severity}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

/// Waits until no notification job is pending, and returns the deliveries.
async fn settled_deliveries(app: &TestApp, admin: &str) -> Vec<Value> {
    for _ in 0..300 {
        let jobs = app
            .get(
                "/api/v1/jobs?queue=notifications&state=available,running,retryable",
                admin,
            )
            .await;
        if jobs.body["items"].as_array().unwrap().is_empty() {
            let all = app
                .get("/api/v1/notifications/deliveries?limit=100", admin)
                .await;
            assert_eq!(all.status, StatusCode::OK, "{}", all.body);
            return all.body["items"].as_array().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("notification jobs never settled");
}

async fn incident_notices_reach_email_webhook_and_slack(
    app: &TestApp,
    smtp: &SmtpSink,
    receiver: &Receiver,
    addr: SocketAddr,
) {
    let admin = app.admin_token().await;
    let mail = channel(
        app,
        &admin,
        "soc mail",
        json!({"kind": "email", "recipients": ["soc@example.test", "lead@example.test"]}),
    )
    .await;
    let hook = channel(
        app,
        &admin,
        "siem hook",
        json!({"kind": "webhook", "url": format!("http://{addr}/hook"), "secret": SECRET}),
    )
    .await;
    let slack = channel(
        app,
        &admin,
        "slack",
        json!({"kind": "slack", "url": format!("http://{addr}/slack")}),
    )
    .await;
    // Secrets are write-only.
    let shown = app
        .get(&format!("/api/v1/notifications/channels/{hook}"), &admin)
        .await;
    assert_eq!(shown.body["secret_set"], true);
    assert!(!shown.body.to_string().contains(SECRET));
    let rule = app
        .post(
            "/api/v1/notifications/rules",
            Some(&admin),
            json!({"name": "serious", "events": ["incident.created", "incident.status_changed"],
                   "min_severity": 3, "channels": [mail, hook, slack]}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);

    let title = "Ransomware <script>alert(1)</script> on db-1";
    let id = incident(app, &admin, title, 4).await;
    let hooks = receiver.wait_for("/hook", 1).await;
    let body = &hooks[0].body;
    let signature = &hooks[0].headers["x-rampart-signature"];
    let now = app.state.clock.now().0 / 1000;
    assert_eq!(sign::verify(SECRET, signature, body, now), Ok(()));
    assert!(sign::verify("another-secret-entirely", signature, body, now).is_err());
    assert_eq!(hooks[0].headers["x-rampart-event"], "incident.created");
    let payload: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(payload["event"], "incident.created");
    assert_eq!(payload["incident"]["id"], id.as_str());
    assert_eq!(payload["incident"]["severity"], 4);
    assert_eq!(
        payload["incident"]["url"],
        format!("https://rampart.example.test/incidents/{id}")
    );
    assert_eq!(
        payload["id"],
        hooks[0].headers["x-rampart-delivery"].as_str()
    );
    let slacks = receiver.wait_for("/slack", 1).await;
    let slack_body: Value = serde_json::from_slice(&slacks[0].body).unwrap();
    let text = slack_body["text"].as_str().unwrap();
    assert!(text.contains("&lt;script&gt;"), "{text}");
    assert!(text.contains(&format!(
        "<https://rampart.example.test/incidents/{id}|Open>"
    )));

    let email = smtp.wait_for("soc@example.test", "New incident").await;
    assert_eq!(email["from"], "rampart@example.test");
    assert_eq!(
        email["to"],
        json!(["soc@example.test", "lead@example.test"])
    );
    assert_eq!(email["content_type"], "multipart/alternative");
    assert!(email["subject"].as_str().unwrap().contains(title));
    let plain = email["text"].as_str().unwrap();
    assert!(plain.contains(&format!(
        "Open in Rampart: https://rampart.example.test/incidents/{id}"
    )));
    assert!(plain.contains("Severity: 4"));
    let html = email["html"].as_str().unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>"));

    // Below the rule's severity nobody is told; a status change is.
    incident(app, &admin, "minor", 2).await;
    let moved = app
        .request(
            Method::PATCH,
            &format!("/api/v1/incidents/{id}"),
            Some(&admin),
            Some(json!({"status": "acknowledged"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let hooks = receiver.wait_for("/hook", 2).await;
    let second: Value = serde_json::from_slice(&hooks[1].body).unwrap();
    assert_eq!(second["event"], "incident.status_changed");
    assert_eq!(
        second["change"],
        json!({"from": "open", "to": "acknowledged"})
    );
    let deliveries = settled_deliveries(app, &admin).await;
    assert_eq!(deliveries.len(), 6, "{deliveries:#?}");
    assert!(deliveries.iter().all(|d| d["status"] == "delivered"
        && d["attempts"] == 1
        && d["subject_ref"] == format!("incident:{id}")));
    let by_channel = app
        .get(
            &format!("/api/v1/notifications/deliveries?channel={hook}"),
            &admin,
        )
        .await;
    assert_eq!(by_channel.body["items"].as_array().unwrap().len(), 2);

    // A test message goes through the queue too.
    let test = app
        .post(
            &format!("/api/v1/notifications/channels/{slack}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(test.status, StatusCode::ACCEPTED, "{}", test.body);
    receiver.wait_for("/slack", 3).await;

    // A channel a rule routes to is not deleted; the rule first.
    let refused = app
        .request(
            Method::DELETE,
            &format!("/api/v1/notifications/channels/{slack}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);

    // Another organisation sees and changes none of it; analysts neither.
    let other = app.second_org("other").await;
    for path in [
        format!("/api/v1/notifications/channels/{hook}"),
        format!(
            "/api/v1/notifications/rules/{}",
            rule.body["id"].as_str().unwrap()
        ),
        format!(
            "/api/v1/notifications/deliveries/{}",
            deliveries[0]["id"].as_str().unwrap()
        ),
    ] {
        assert_eq!(
            app.get(&path, &other).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for path in [
        "/api/v1/notifications/channels",
        "/api/v1/notifications/rules",
    ] {
        assert_eq!(app.get(path, &other).await.body, json!([]), "{path}");
    }
    let theirs = app.get("/api/v1/notifications/deliveries", &other).await;
    assert_eq!(theirs.body["items"], json!([]));
    let changed = app
        .request(
            Method::PATCH,
            &format!("/api/v1/notifications/channels/{hook}"),
            Some(&other),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NOT_FOUND);
    let test = app
        .post(
            &format!("/api/v1/notifications/channels/{hook}/test"),
            Some(&other),
            json!({}),
        )
        .await;
    assert_eq!(test.status, StatusCode::NOT_FOUND);
    // A rule cannot route to another organisation's channel.
    let other_channel = channel(
        app,
        &other,
        "theirs",
        json!({"kind": "slack", "url": format!("http://{addr}/slack")}),
    )
    .await;
    let stolen = app
        .post(
            "/api/v1/notifications/rules",
            Some(&admin),
            json!({"name": "x", "events": ["incident.created"], "channels": [other_channel]}),
        )
        .await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST);
    assert_eq!(stolen.body["field"], "channels");
    app.create_user(&admin, "analyst@example.test", "analyst")
        .await;
    let analyst = app.token("analyst@example.test", "user-password-123").await;
    assert_eq!(
        app.get("/api/v1/notifications/channels", &analyst)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Bad input names its field.
    for (body, field) in [
        (
            json!({"name": "x", "target": {"kind": "webhook", "url": "ftp://x", "secret": SECRET}}),
            "target.url",
        ),
        (
            json!({"name": "x", "target": {"kind": "webhook", "url": "https://x.test", "secret": "short"}}),
            "target.secret",
        ),
        (
            json!({"name": "x", "target": {"kind": "email", "recipients": []}}),
            "target.recipients",
        ),
    ] {
        let r = app
            .post("/api/v1/notifications/channels", Some(&admin), body)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.body["field"], field);
    }
}

async fn people_get_their_own_email(
    app: &TestApp,
    smtp: &SmtpSink,
    _receiver: &Receiver,
    _addr: SocketAddr,
) {
    let admin = app.admin_token().await;
    // A new user is welcomed.
    let user_id = app
        .create_user(&admin, "analyst@example.test", "analyst")
        .await;
    let welcome = smtp.wait_for("analyst@example.test", "Welcome").await;
    assert!(welcome["text"]
        .as_str()
        .unwrap()
        .contains("Your sign-in: analyst@example.test"));
    let analyst = app.token("analyst@example.test", "user-password-123").await;
    // Assignment reaches the assignee (on by default).
    let id = incident(app, &admin, "Suspicious login", 3).await;
    let assigned = app
        .request(
            Method::PATCH,
            &format!("/api/v1/incidents/{id}"),
            Some(&admin),
            Some(json!({"assignee": user_id})),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
    let mail = smtp
        .wait_for("analyst@example.test", "Incident assigned")
        .await;
    assert!(mail["text"].as_str().unwrap().contains(&id));
    // Preferences: the analyst asks for every new incident of severity 4+.
    let prefs = app.get("/api/v1/me/notifications", &analyst).await;
    assert_eq!(
        prefs.body,
        json!({"assigned_to_me": true, "events": [], "min_severity": 1, "weekly_digest": false})
    );
    let set = app
        .request(
            Method::PUT,
            "/api/v1/me/notifications",
            Some(&analyst),
            Some(
                json!({"assigned_to_me": false, "events": ["incident.created"],
                        "min_severity": 4, "weekly_digest": false}),
            ),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let bad = app
        .request(
            Method::PUT,
            "/api/v1/me/notifications",
            Some(&analyst),
            Some(json!({"assigned_to_me": false, "events": ["user.welcome"],
                        "min_severity": 4, "weekly_digest": false})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    incident(app, &admin, "Low one", 2).await;
    incident(app, &admin, "Critical one", 5).await;
    smtp.wait_for("analyst@example.test", "Critical one").await;
    settled_deliveries(app, &admin).await;
    let to_analyst: Vec<String> = smtp
        .messages()
        .into_iter()
        .filter(|m| m["to"] == json!(["analyst@example.test"]))
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(to_analyst.len(), 3, "{to_analyst:?}");
    assert!(!to_analyst.iter().any(|s| s.contains("Low one")));

    // An answer to feedback reaches its author.
    let sent = app
        .post(
            "/api/v1/feedback",
            Some(&analyst),
            json!({"kind": "question", "message": "Where are webhooks configured?"}),
        )
        .await;
    let feedback = sent.body["id"].as_str().unwrap();
    let answered = app
        .request(
            Method::PATCH,
            &format!("/api/v1/feedback/{feedback}"),
            Some(&admin),
            Some(json!({"answer": "Under Admin → Notifications."})),
        )
        .await;
    assert_eq!(answered.status, StatusCode::OK);
    let answer = smtp
        .wait_for("analyst@example.test", "Your feedback was answered")
        .await;
    let text = answer["text"].as_str().unwrap();
    assert!(
        text.contains("Answer: Under Admin → Notifications."),
        "{text}"
    );
    assert!(text.contains("https://rampart.example.test/feedback"));
    // The admin was not e-mailed about anything of their own choosing.
    assert!(!smtp
        .messages()
        .iter()
        .any(|m| m["to"] == json!([ADMIN_EMAIL])));

    // The weekly digest goes to whoever asked for it, once a week.
    let asked = app
        .request(
            Method::PUT,
            "/api/v1/me/notifications",
            Some(&analyst),
            Some(
                json!({"assigned_to_me": false, "events": [], "min_severity": 1,
                        "weekly_digest": true}),
            ),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK);
    let digest = || {
        rampart_core::NewJob::new(
            None,
            "maintenance",
            "notify.digest",
            json!({}),
            app.state.clock.now(),
        )
    };
    app.state.jobs.enqueue(&[digest()]).await.unwrap();
    let mail = smtp.wait_for("analyst@example.test", "Weekly digest").await;
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains(
            "Incidents opened in the last 7 days: 3 (severity 5: 1, 4: 0, 3: 1, 2: 1, 1: 0)"
        ),
        "{text}"
    );
    assert!(
        text.contains("[5] Critical one https://rampart.example.test/incidents/"),
        "{text}"
    );
    assert!(mail["html"]
        .as_str()
        .unwrap()
        .contains("Open the dashboard"));
    app.state.jobs.enqueue(&[digest()]).await.unwrap();
    settled_deliveries(app, &admin).await;
    let digests = smtp
        .messages()
        .into_iter()
        .filter(|m| m["subject"].as_str().unwrap().contains("Weekly digest"))
        .count();
    assert_eq!(digests, 1, "one digest a week");
}

async fn a_failing_receiver_is_retried_until_dead_then_by_hand(
    app: &TestApp,
    _smtp: &SmtpSink,
    receiver: &Receiver,
    addr: SocketAddr,
) {
    let admin = app.admin_token().await;
    receiver.failing.store(true, Ordering::SeqCst);
    let hook = channel(
        app,
        &admin,
        "flaky",
        json!({"kind": "webhook", "url": format!("http://{addr}/hook"), "secret": SECRET}),
    )
    .await;
    app.post(
        "/api/v1/notifications/rules",
        Some(&admin),
        json!({"name": "all", "events": ["incident.created"], "channels": [hook]}),
    )
    .await;
    incident(app, &admin, "Flaky receiver", 3).await;
    let deliveries = settled_deliveries(app, &admin).await;
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!(delivery["status"], "failed", "{delivery}");
    assert_eq!(delivery["attempts"], 8);
    // The receiver saw the attempts until the breaker opened (3 failures,
    // 1 s cool-down), and probes after each cool-down; never all 8 at once.
    let seen = receiver.at("/hook").len();
    assert!((3..8).contains(&seen), "{seen} requests");
    let dead = app
        .get("/api/v1/jobs?queue=notifications&state=dead", &admin)
        .await;
    let jobs = dead.body["items"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["attempts"], 8);
    assert!(
        jobs[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("failed repeatedly")
            || jobs[0]["last_error"].as_str().unwrap().contains("500")
    );
    // The receiver recovers; after the cool-down the dead job is retried by hand.
    receiver.failing.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let job = jobs[0]["id"].as_str().unwrap();
    let retried = app
        .post(
            &format!("/api/v1/jobs/{job}/retry"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    let after = settled_deliveries(app, &admin).await;
    assert_eq!(after[0]["status"], "delivered", "{}", after[0]);
    assert_eq!(receiver.at("/hook").len(), seen + 1);
}

async fn private_targets_are_refused_unless_allowed(
    app: &TestApp,
    _smtp: &SmtpSink,
    receiver: &Receiver,
    addr: SocketAddr,
) {
    let admin = app.admin_token().await;
    let port = addr.port();
    let mut ids = Vec::new();
    for (name, url) in [
        ("literal", format!("http://127.0.0.1:{port}/hook")),
        ("named", format!("http://localhost:{port}/hook")),
        (
            "metadata",
            "http://169.254.169.254/latest/meta-data/".to_owned(),
        ),
    ] {
        ids.push(channel(app, &admin, name, json!({"kind": "slack", "url": url})).await);
    }
    let smtp_channel = channel(
        app,
        &admin,
        "own smtp",
        json!({"kind": "email", "recipients": ["soc@example.test"],
               "smtp": {"host": "localhost", "port": 25, "security": "none", "from": "r@example.test"}}),
    )
    .await;
    ids.push(smtp_channel);
    for id in &ids {
        app.post(
            &format!("/api/v1/notifications/channels/{id}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    }
    let deliveries = settled_deliveries(app, &admin).await;
    assert_eq!(deliveries.len(), 4);
    for d in &deliveries {
        assert_eq!(d["status"], "failed", "{d}");
        assert_eq!(d["attempts"], 1, "refused at once: {d}");
        let error = d["last_error"].as_str().unwrap();
        assert!(error.contains("private targets are not allowed"), "{error}");
    }
    assert!(receiver.seen.lock().unwrap().is_empty());
}

/// A scheduled saved hunt whose action is `notify` sends `hunt.matched`
/// through the rules to a signed webhook, with its matches as lines and a
/// link to the hunt; a run below its threshold sends nothing.
async fn a_saved_hunt_that_matches_notifies(
    app: &TestApp,
    _smtp: &SmtpSink,
    receiver: &Receiver,
    addr: SocketAddr,
) {
    let admin = app.admin_token().await;
    let hook = channel(
        app,
        &admin,
        "hunt hook",
        json!({"kind": "webhook", "url": format!("http://{addr}/hunts"), "secret": SECRET}),
    )
    .await;
    let rule = app
        .post(
            "/api/v1/notifications/rules",
            Some(&admin),
            json!({"name": "hunts", "events": ["hunt.matched"], "min_severity": 1, "channels": [hook]}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);
    let events: String = (0..4)
        .map(|i| format!("{}\n", json!({"message": format!("sudo: pam_unix auth failure for u{i}"), "user": {"name": format!("u{i}")}})))
        .collect();
    let sent = app
        .post_bytes(
            "/api/v1/events",
            &admin,
            "application/x-ndjson",
            None,
            events.into_bytes(),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    for (name, threshold) in [("sudo failures", 2), ("sudo floods", 100)] {
        let saved = app
            .post(
                "/api/v1/saved-hunts",
                Some(&admin),
                json!({"name": name, "query": "sudo | stats count() by user.name | sort user.name",
                       "cron": "*/10 * * * *", "action": "notify", "threshold": threshold}),
            )
            .await;
        assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    }
    let later = app.state.clock.now().plus_secs(11 * 60);
    assert_eq!(app.state.hunts.run_due(later).await.unwrap(), 1);
    let hooks = receiver.wait_for("/hunts", 1).await;
    let body: Value = serde_json::from_slice(&hooks[0].body).unwrap();
    assert_eq!(body["event"], "hunt.matched");
    assert_eq!(body["count"], 4);
    assert_eq!(body["summary"], "Hunt 'sudo failures' matched 4 events");
    assert_eq!(body["lines"][0], "user.name=u0 count=1");
    assert!(body["hunt"]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://rampart.example.test/hunt/saved/"));
    let now = app.state.clock.now().0 / 1000;
    let signature = &hooks[0].headers["x-rampart-signature"];
    assert_eq!(sign::verify(SECRET, signature, &hooks[0].body, now), Ok(()));
    settled_deliveries(app, &admin).await;
    assert_eq!(
        receiver.at("/hunts").len(),
        1,
        "the run below its threshold sent nothing"
    );
}
