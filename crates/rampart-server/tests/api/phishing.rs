//! `/api/v1/phishing`: raw messages sent in are analysed once (by SHA-256)
//! by a job, user reports before bulk; the verdict's reasons name their
//! evidence; a high score opens an incident, a simulation campaign does
//! not; a clean sender becomes known; bad messages get a problem naming
//! the body; roles; another organisation sees nothing; indicators go to
//! the watchlist in one step.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

const EML: &str = "message/rfc822";

/// A credential phish: a brand's name from a lookalike domain, failing
/// authentication at the organisation's own server, a link whose text
/// shows another domain than its target, an HTML attachment.
pub const PHISH: &str = "Authentication-Results: mx.example-bank.com; spf=fail smtp.mailfrom=bounce@paypa1-security.com; dkim=none; dmarc=fail header.from=paypa1-security.com\r
Authentication-Results: mx.example-bank.com.evil.test; spf=pass; dkim=pass header.d=paypal.com; dmarc=pass\r
From: \"PayPal Service\" <service@paypa1-security.com>\r
Reply-To: paypal.help.desk@gmail.com\r
To: alice@example-bank.com\r
Subject: Urgent: your account will be suspended\r
Message-ID: <1@paypa1-security.com>\r
Date: Thu, 3 Dec 2026 10:00:00 +0000\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary=\"b1\"\r
\r
--b1\r
Content-Type: text/html; charset=utf-8\r
\r
<html><body><p>Dear customer, unusual activity was found. Verify your account within 24 hours.</p>\r
<a href=\"http://198.51.100.7/paypal/login\">https://www.paypal.com/signin</a>\r
<script>alert('never run')</script></body></html>\r
--b1\r
Content-Type: application/octet-stream; name=\"invoice.html\"\r
Content-Disposition: attachment; filename=\"invoice.html\"\r
Content-Transfer-Encoding: base64\r
\r
PGh0bWw+PGZvcm0+PGlucHV0IHR5cGU9cGFzc3dvcmQ+PC9mb3JtPjwvaHRtbD4=\r
--b1--\r
";

/// A colleague's note, signed and aligned.
fn clean(n: u32) -> String {
    format!(
        "Authentication-Results: mx.example-bank.com; spf=pass smtp.mailfrom=bob@example-bank.com; dkim=pass header.d=example-bank.com; dmarc=pass\r
From: Bob <bob@example-bank.com>\r
To: alice@example-bank.com\r
Subject: Lunch {n}\r
Message-ID: <{n}@example-bank.com>\r
Content-Type: text/plain; charset=utf-8\r
\r
Shall we have lunch at noon? Note {n}.\r
"
    )
}

const SIMULATION: &str = "From: IT Security <it@phishtest.example>\r
To: alice@example-bank.com\r
Subject: Verify your account immediately\r
X-Phish-Campaign: q4\r
Content-Type: text/plain\r
\r
Verify your account within 24 hours: http://198.51.100.9/login\r
";

pub async fn submit(app: &TestApp, token: &str, raw: &[u8], source: &str) -> crate::helpers::Reply {
    app.post_bytes(
        &format!("/api/v1/phishing/messages?source={source}"),
        token,
        EML,
        None,
        raw.to_vec(),
    )
    .await
}

/// The report once its job has run.
pub async fn analysed(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..400 {
        let r = app
            .get(&format!("/api/v1/phishing/messages/{id}"), token)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        if r.body["status"] != "queued"
            && (r.body["score"].as_u64().unwrap_or(0) < 70
                || !r.body["incident_id"].is_null()
                || r.body["verdict"] == "simulation")
        {
            return r.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("message {id} was not analysed");
}

fn codes(report: &Value) -> Vec<String> {
    report["analysis"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn set_settings(app: &TestApp, admin: &str) {
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/phishing/settings",
            Some(admin),
            Some(json!({
                "own_domains": ["Example-Bank.com"],
                "trusted_authserv_ids": ["mx.example-bank.com"],
                "simulation_senders": ["phishtest.example"],
                "simulation_headers": [],
                "incident_threshold": 70
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["own_domains"], json!(["example-bank.com"]));
}

async fn messages_are_analysed_once_and_high_scores_open_incidents(app: &TestApp) {
    let admin = app.admin_token().await;
    set_settings(app, &admin).await;

    let queued = submit(app, &admin, PHISH.as_bytes(), "reported").await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{:?}", queued.body);
    let id = queued.body["id"].as_str().unwrap().to_owned();
    let report = analysed(app, &admin, &id).await;
    assert_eq!(report["status"], "analysed");
    assert_eq!(report["verdict"], "phishing", "{report:#}");
    assert!(report["score"].as_u64().unwrap() >= 70);
    assert_eq!(report["sender"], "service@paypa1-security.com");
    let found = codes(&report);
    for code in [
        "spf_fail",
        "dmarc_fail",
        "brand_impersonation",
        "lookalike_domain",
        "reply_to_freemail",
        "link_text_mismatch",
        "address_literal_link",
        "risky_attachment",
        "credential_language",
        "urgency_language",
        "new_sender",
    ] {
        assert!(
            found.iter().any(|c| c == code),
            "{code} missing from {found:?}"
        );
    }
    // Only the organisation's own server is believed: the forged header
    // (a name under another domain) says pass and is ignored.
    assert_eq!(
        report["analysis"]["summary"]["authentication"]["spf"],
        "fail"
    );
    let reasons = report["analysis"]["reasons"].as_array().unwrap();
    let link = reasons
        .iter()
        .find(|r| r["code"] == "link_text_mismatch")
        .unwrap();
    assert!(link["evidence"].as_str().unwrap().contains("198.51.100.7"));
    // The HTML is never passed on: text and links as text only.
    let summary = &report["analysis"]["summary"];
    assert!(!summary.to_string().contains("<script"));
    assert!(summary["text"]
        .as_str()
        .unwrap()
        .contains("Verify your account"));
    assert_eq!(
        summary["links"][0]["url"],
        "http://198.51.100.7/paypal/login"
    );
    let attachment = &summary["attachments"][0];
    assert_eq!(attachment["name"], "invoice.html");
    assert_eq!(attachment["risk"], "html");
    assert_eq!(attachment["sha256"].as_str().unwrap().len(), 64);
    assert!(report["analysis"]["iocs"]["url"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u == "http://198.51.100.7/paypal/login"));

    // The verdict opened an incident.
    let incident = report["incident_id"].as_str().expect("an incident");
    let r = app
        .get(&format!("/api/v1/incidents/{incident}"), &admin)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body["title"]
            .as_str()
            .unwrap()
            .starts_with("Phishing e-mail scored"),
        "{:?}",
        r.body
    );

    // The reporter's and the sender's timelines list the report.
    for user in ["admin@localhost", "SERVICE@paypa1-security.com"] {
        let timeline = app
            .get(&format!("/api/v1/entities/user/{user}"), &admin)
            .await;
        assert_eq!(timeline.status, StatusCode::OK, "{:?}", timeline.body);
        let listed = timeline.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "phishing" && i["id"] == id.as_str());
        assert!(listed, "{user}: {:?}", timeline.body["items"]);
    }

    // The same message again: the first one, not a second analysis.
    let again = submit(app, &admin, PHISH.as_bytes(), "bulk").await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["duplicate"], true);
    assert_eq!(again.body["id"], id.as_str());
    let listed = app
        .get("/api/v1/phishing/messages?verdict=phishing", &admin)
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);

    // A clean sender becomes known: the second note has no new_sender.
    let first = submit(app, &admin, clean(1).as_bytes(), "reported").await;
    let first = analysed(app, &admin, first.body["id"].as_str().unwrap()).await;
    assert_eq!(first["verdict"], "clean", "{first:#}");
    assert!(first["score"].as_u64().unwrap() < 40);
    assert!(codes(&first).contains(&"new_sender".to_owned()));
    assert!(first["incident_id"].is_null());
    let second = submit(app, &admin, clean(2).as_bytes(), "reported").await;
    let second = analysed(app, &admin, second.body["id"].as_str().unwrap()).await;
    assert!(
        !codes(&second).contains(&"new_sender".to_owned()),
        "{second:#}"
    );

    // A simulation campaign is recognised and opens nothing.
    let sim = submit(app, &admin, SIMULATION.as_bytes(), "reported").await;
    let sim = analysed(app, &admin, sim.body["id"].as_str().unwrap()).await;
    assert_eq!(sim["verdict"], "simulation", "{sim:#}");
    assert!(sim["incident_id"].is_null());

    // User reports run before bulk ones: their jobs carry the priority.
    let bulk = submit(app, &admin, clean(3).as_bytes(), "bulk").await;
    assert_eq!(bulk.status, StatusCode::ACCEPTED);
    analysed(app, &admin, bulk.body["id"].as_str().unwrap()).await;
    let jobs = app
        .get("/api/v1/jobs?queue=phishing&limit=100", &admin)
        .await;
    assert_eq!(jobs.status, StatusCode::OK, "{:?}", jobs.body);
    let priorities: Vec<i64> = jobs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["priority"].as_i64().unwrap())
        .collect();
    assert_eq!(
        priorities.iter().filter(|p| **p == 0).count(),
        1,
        "{priorities:?}"
    );
    assert_eq!(
        priorities.iter().filter(|p| **p == 10).count(),
        4,
        "{priorities:?}"
    );
}

async fn bad_messages_roles_and_tenancy(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "ph-viewer@example.com", "viewer")
        .await;
    let viewer = app
        .token("ph-viewer@example.com", "user-password-123")
        .await;

    for (body, what) in [
        (&b""[..], "empty"),
        (&b"\x00\x01\x02 not a message at all"[..], "no headers"),
    ] {
        let r = submit(app, &admin, body, "reported").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {:?}", r.body);
        assert_eq!(r.body["field"], "body", "{what}: {:?}", r.body);
    }
    let r = submit(app, &admin, PHISH.as_bytes(), "mailbox").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Anyone may report; bulk, downloads and settings are for others.
    let reported = submit(app, &viewer, clean(7).as_bytes(), "reported").await;
    assert_eq!(reported.status, StatusCode::ACCEPTED, "{:?}", reported.body);
    let id = reported.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        submit(app, &viewer, clean(8).as_bytes(), "bulk")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let raw = app
        .get(&format!("/api/v1/phishing/messages/{id}/raw"), &viewer)
        .await;
    assert_eq!(raw.status, StatusCode::FORBIDDEN);
    let raw = app
        .client
        .get(format!("{}/api/v1/phishing/messages/{id}/raw", app.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::OK);
    assert_eq!(raw.headers()["content-type"], "message/rfc822");
    assert_eq!(raw.bytes().await.unwrap(), clean(7).as_bytes());
    let put = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/phishing/settings",
            Some(&viewer),
            Some(json!({"own_domains": ["x.test"]})),
        )
        .await;
    assert_eq!(put.status, StatusCode::FORBIDDEN);
    let bad = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/phishing/settings",
            Some(&admin),
            Some(json!({"incident_threshold": 0})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "incident_threshold");
    let r = app
        .get("/api/v1/phishing/messages?verdict=bogus", &admin)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    analysed(app, &admin, &id).await;
    let r = app
        .post(
            &format!("/api/v1/phishing/messages/{id}/watchlist"),
            Some(&viewer),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Another organisation sees, downloads and changes nothing.
    let other = app.second_org("phishing-elsewhere").await;
    for path in [
        format!("/api/v1/phishing/messages/{id}"),
        format!("/api/v1/phishing/messages/{id}/raw"),
    ] {
        assert_eq!(
            app.get(&path, &other).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = app
        .post(
            &format!("/api/v1/phishing/messages/{id}/watchlist"),
            Some(&other),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let listed = app.get("/api/v1/phishing/messages", &other).await;
    assert_eq!(listed.body["items"], json!([]));
    let timeline = app
        .get("/api/v1/entities/user/ph-viewer@example.com", &other)
        .await;
    assert!(!timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["kind"] == "phishing"));
    let settings = app.get("/api/v1/phishing/settings", &other).await;
    assert_eq!(settings.body["incident_threshold"], 70);
    // The same bytes in another organisation are its own message.
    let theirs = submit(app, &other, clean(7).as_bytes(), "reported").await;
    assert_eq!(theirs.status, StatusCode::ACCEPTED);
    assert_ne!(theirs.body["id"], id.as_str());
}

async fn indicators_go_to_the_watchlist_in_one_step(app: &TestApp) {
    let admin = app.admin_token().await;
    set_settings(app, &admin).await;
    let queued = submit(app, &admin, PHISH.as_bytes(), "reported").await;
    let id = queued.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.post(
            &format!("/api/v1/phishing/messages/{id}/watchlist"),
            Some(&admin),
            json!({})
        )
        .await
        .status,
        StatusCode::CONFLICT,
        "not analysed yet"
    );
    analysed(app, &admin, &id).await;
    let r = app
        .post(
            &format!("/api/v1/phishing/messages/{id}/watchlist"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.body["created"].as_u64().unwrap() >= 4, "{:?}", r.body);
    let entries = app
        .get(
            &format!("/api/v1/watchlists?source=phishing:{id}&limit=100"),
            &admin,
        )
        .await;
    let values: Vec<&str> = entries.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    for expected in [
        "service@paypa1-security.com",
        "paypal.help.desk@gmail.com",
        "http://198.51.100.7/paypal/login",
    ] {
        assert!(values.contains(&expected), "{expected} not in {values:?}");
    }
    // The recipient's own domain and the brand's real site are left out.
    assert!(
        !values
            .iter()
            .any(|v| v.contains("example-bank.com") || v.contains("www.paypal.com")),
        "{values:?}"
    );
}

async fn the_phishing_pages_escape_check_roles_and_tenancy(app: &TestApp) {
    let admin = app.admin_token().await;
    set_settings(app, &admin).await;
    let hostile = PHISH.replace(
        "Subject: Urgent: your account will be suspended",
        "Subject: <img src=x onerror=alert(1)> urgent",
    );
    let queued = submit(app, &admin, hostile.as_bytes(), "reported").await;
    let id = queued.body["id"].as_str().unwrap().to_owned();
    analysed(app, &admin, &id).await;

    app.create_user(&admin, "ph-page-viewer@example.com", "viewer")
        .await;
    let mut viewer = crate::ui::Browser::new(app);
    viewer
        .sign_in("ph-page-viewer@example.com", "user-password-123")
        .await;
    let list = viewer.get("/phishing").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list
        .html
        .contains("&lt;img src=x onerror=alert(1)&gt; urgent"));
    assert!(!list.html.contains("<img src=x"));
    assert!(
        !list.html.contains("Save settings"),
        "viewers do not get the settings"
    );
    let page = viewer.get(&format!("/phishing/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("brand_impersonation"));
    assert!(page.html.contains("Verify your account"));
    // The message's HTML never reaches the page: no script, no link to follow.
    assert!(!page.html.contains("alert('never run')"));
    assert!(!page.html.contains("href=\"http://198.51.100.7"));
    assert!(!page.html.contains("Add these to the watchlist"));
    assert!(!page.html.contains("Download the message"));
    let raw = viewer.get(&format!("/phishing/{id}/raw")).await;
    assert_eq!(raw.status, StatusCode::FORBIDDEN);

    let mut admin_page = crate::ui::Browser::new(app);
    admin_page
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    assert!(admin_page
        .get("/phishing")
        .await
        .html
        .contains("Save settings"));
    let csrf = admin_page.csrf();
    let refused = admin_page
        .post(&format!("/phishing/{id}/watchlist"), &[("csrf", "forged")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let saved = admin_page
        .post(
            "/phishing/settings",
            &[
                ("csrf", &csrf),
                ("own_domains", "example-bank.com\nexample-bank.de"),
                ("trusted_authserv_ids", "mx.example-bank.com"),
                ("simulation_senders", ""),
                ("simulation_headers", "X-Phish-Campaign"),
                ("incident_threshold", "60"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let settings = app.get("/api/v1/phishing/settings", &admin).await;
    assert_eq!(settings.body["incident_threshold"], 60);
    assert_eq!(
        settings.body["own_domains"],
        json!(["example-bank.com", "example-bank.de"])
    );

    let other_admin = app.second_org("ph-page-elsewhere").await;
    app.create_user(&other_admin, "ph-page-other@example.com", "analyst")
        .await;
    let mut other = crate::ui::Browser::new(app);
    other
        .sign_in("ph-page-other@example.com", "user-password-123")
        .await;
    assert!(!other.get("/phishing").await.html.contains("urgent"));
    assert_eq!(
        other.get(&format!("/phishing/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

crate::on_every_backend!(
    the_phishing_pages_escape_check_roles_and_tenancy,
    messages_are_analysed_once_and_high_scores_open_incidents,
    bad_messages_roles_and_tenancy,
    indicators_go_to_the_watchlist_in_one_step,
);

/// The server on SQLite with a report mailbox for the organisation `default`.
async fn spawn_with_mailbox() -> TestApp {
    crate::helpers::spawn_app_with(rampart_store::testing::TestDatabase::sqlite(), |config| {
        config
            .report_mailbox
            .push(rampart_app::phishing::ReportMailbox {
                listen: "127.0.0.1:0".parse().unwrap(),
                organisation: "default".into(),
            });
    })
    .await
}

/// Python's `smtplib` (a client Rampart did not write) sends a user's
/// report: the suspicious message forwarded as an attachment, then a
/// message with no headers, which is refused.
const SMTP_CLIENT: &str = r#"
import json, smtplib, sys
from email.message import EmailMessage
from email import message_from_string, policy
host, port, phish = sys.argv[1], int(sys.argv[2]), open(sys.argv[3]).read()
report = EmailMessage()
report["From"] = "alice@example-bank.com"
report["To"] = "phish-report@example-bank.com"
report["Subject"] = "Fwd: Urgent: your account will be suspended"
report.set_content("This looks wrong, please check.")
report.add_attachment(message_from_string(phish, policy=policy.SMTP))
out = {}
with smtplib.SMTP(host, port, timeout=10) as smtp:
    out["ehlo"] = smtp.ehlo()[0]
    out["refused"] = smtp.sendmail("alice@example-bank.com", ["phish-report@example-bank.com"], report.as_bytes())
    try:
        smtp.sendmail("bob@example-bank.com", ["phish-report@example-bank.com"], b"\r\n\r\n")
        out["junk"] = 250
    except smtplib.SMTPDataError as e:
        out["junk"] = e.smtp_code
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_mailbox_takes_mail_forwarded_by_a_real_smtp_client() {
    let app = spawn_with_mailbox().await;
    let addr = app.mailbox_addrs[0];
    let admin = app.admin_token().await;
    set_settings(&app, &admin).await;
    let dir = tempfile::tempdir().unwrap();
    let phish = dir.path().join("phish.eml");
    std::fs::write(&phish, PHISH).unwrap();
    let args = [
        "-c".to_owned(),
        SMTP_CLIENT.to_owned(),
        "127.0.0.1".to_owned(),
        addr.port().to_string(),
        phish.to_string_lossy().into_owned(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3").args(args).output()
    })
    .await
    .unwrap();
    let output = match output {
        Ok(output) => output,
        Err(error) => {
            eprintln!(
                "NOTICE: python3 is not available ({error}); the report mailbox test is skipped"
            );
            return;
        }
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let replies: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(replies["ehlo"], 250);
    assert_eq!(replies["refused"], json!({}));
    assert_eq!(replies["junk"], 554, "a message with no headers is refused");

    let listed = app.get("/api/v1/phishing/messages", &admin).await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["source"], "mailbox");
    assert_eq!(items[0]["reporter"], "alice@example-bank.com");
    let report = analysed(&app, &admin, items[0]["id"].as_str().unwrap()).await;
    // The forwarded message is the one judged, not the user's note.
    assert_eq!(
        report["sender"], "service@paypa1-security.com",
        "{report:#}"
    );
    assert_eq!(report["analysis"]["summary"]["forwarded"], true);
    assert_eq!(report["verdict"], "phishing");
    assert!(!report["incident_id"].is_null());
}
