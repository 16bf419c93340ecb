//! Signing in with e-mailed codes, authenticator apps and recovery codes,
//! password reset and change, against the real server and a real SMTP
//! server (aiosmtpd): codes and links arrive by e-mail, work once, expire
//! after their tries, and are not kept in the delivery log; TOTP codes are
//! checked against oathtool where it is installed.

use std::time::Duration;

use rampart_app::auth::totp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::notifications::SmtpSink;

macro_rules! with_smtp {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(smtp) = crate::notifications::SmtpSink::start().await else { return };
                    let app = crate::helpers::spawn_app_with(
                        rampart_store::testing::TestDatabase::sqlite(),
                        crate::notifications::configure(smtp.port, true),
                    ).await;
                    super::$name(&app, &smtp).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = rampart_store::testing::TestDatabase::postgres().await else { return };
                    let Some(smtp) = crate::notifications::SmtpSink::start().await else { return };
                    let app = crate::helpers::spawn_app_with(db, crate::notifications::configure(smtp.port, true)).await;
                    super::$name(&app, &smtp).await;
                    app.stop().await;
                }
            )*
        }
    };
}

with_smtp!(
    the_pages_enrol_an_authenticator_and_sign_in_with_codes_and_links,
    email_codes_sign_in_once_when_the_organisation_allows_them,
    authenticators_add_a_second_step_with_recovery_codes,
    passwords_are_reset_by_email_and_changed,
    organisations_can_require_two_factors_of_every_user,
);

/// The 6-digit code in an e-mail's text.
fn code_in(email: &Value) -> String {
    let text = email["text"].as_str().unwrap();
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_owned()
}

async fn email_codes_sign_in_once_when_the_organisation_allows_them(
    app: &TestApp,
    smtp: &SmtpSink,
) {
    let admin = app.admin_token().await;
    let request = |email: &'static str| async move {
        app.post("/api/v1/auth/otp/request", None, json!({"email": email}))
            .await
    };
    // Off by default: the same answer, and no e-mail.
    let off = request(ADMIN_EMAIL).await;
    assert_eq!(off.status, StatusCode::ACCEPTED);
    let unknown = request("nobody@example.test").await;
    assert_eq!((unknown.status, &unknown.body), (off.status, &off.body));
    let flag = app
        .post(
            "/api/v1/flags",
            Some(&admin),
            json!({"key": "login.email_code", "enabled": true, "description": "sign-in codes"}),
        )
        .await;
    assert_eq!(flag.status, StatusCode::CREATED, "{}", flag.body);
    let on = request(ADMIN_EMAIL).await;
    assert_eq!((on.status, &on.body), (off.status, &off.body));
    let email = smtp.wait_for(ADMIN_EMAIL, "sign-in code").await;
    assert_eq!(
        smtp.messages().len(),
        1,
        "only the request with the flag on sent one"
    );
    let code = code_in(&email);
    let verify = |code: String| async move {
        app.post(
            "/api/v1/auth/otp/verify",
            None,
            json!({"email": ADMIN_EMAIL, "code": code}),
        )
        .await
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = verify(wrong.into()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.body["code"], "invalid_code");
    let signed_in = verify(code.clone()).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    let token = signed_in.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", token).await.status, StatusCode::OK);
    // Once only.
    assert_eq!(verify(code).await.status, StatusCode::UNAUTHORIZED);

    // Five tries, then even the right code is refused.
    request(ADMIN_EMAIL).await;
    let mut second = None;
    for _ in 0..100 {
        let mails: Vec<Value> = smtp
            .messages()
            .into_iter()
            .filter(|m| m["subject"].as_str().unwrap().contains("sign-in code"))
            .collect();
        if mails.len() == 2 {
            second = mails
                .into_iter()
                .map(|m| code_in(&m))
                .find(|c| *c != code_in(&email));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = second.expect("a second code");
    let wrong = if second == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        assert_eq!(verify(wrong.into()).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(verify(second).await.status, StatusCode::UNAUTHORIZED);

    // The delivery log keeps that a code was sent, not the code.
    let mut kept = Value::Null;
    for _ in 0..100 {
        let log = app
            .get("/api/v1/notifications/deliveries?status=delivered", &admin)
            .await;
        if log.body["items"].as_array().unwrap().len() == 2 {
            kept = log.body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(kept["items"][0]["notice"], "user.login_code", "{kept}");
    let id = kept["items"][0]["id"].as_str().unwrap();
    let one = app
        .get(&format!("/api/v1/notifications/deliveries/{id}"), &admin)
        .await;
    assert_eq!(one.body["subject"], "Your Rampart sign-in code");
    // The stored message was replaced; read it from the store to be sure.
    let org: rampart_core::OrgId = app.get("/api/v1/me", &admin).await.body["user"]["org_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let stored =
        rampart_store::NotificationStore::get_delivery(&*app.state.store, org, id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(stored.message.text, "(held a one-time secret; not kept)");
}

/// The current code of a base32 secret, and oathtool's where installed.
fn current_code(secret: &str, now_secs: i64, offset_steps: i64) -> String {
    let bytes = totp::base32_decode(secret).unwrap();
    let code = totp::code_at(&bytes, totp::step_of(now_secs) + offset_steps);
    if offset_steps == 0 {
        if let Ok(out) = std::process::Command::new("oathtool")
            .args(["--totp", "-b", secret, "--now"])
            .arg(format!("@{now_secs}"))
            .output()
        {
            if out.status.success() {
                assert_eq!(
                    String::from_utf8_lossy(&out.stdout).trim(),
                    code,
                    "oathtool agrees"
                );
            }
        }
    }
    code
}

async fn authenticators_add_a_second_step_with_recovery_codes(app: &TestApp, _smtp: &SmtpSink) {
    let admin = app.admin_token().await;
    let user_id = app
        .create_user(&admin, "mfa-user@localhost", "analyst")
        .await;
    let token = app.token("mfa-user@localhost", "user-password-123").await;
    let status = app.get("/api/v1/me/totp", &token).await;
    assert_eq!(
        status.body,
        json!({"enabled": false, "pending": false, "recovery_codes_left": 0})
    );
    let setup = app.post("/api/v1/me/totp", Some(&token), json!({})).await;
    assert_eq!(setup.status, StatusCode::CREATED, "{}", setup.body);
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    let uri = setup.body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Rampart:mfa-user@localhost?secret="));
    assert!(uri.contains(&secret));
    let now = || app.state.clock.now().0 / 1000;
    let bad = app
        .post(
            "/api/v1/me/totp/confirm",
            Some(&token),
            json!({"code": "12345x"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "code");
    let confirmed = app
        .post(
            "/api/v1/me/totp/confirm",
            Some(&token),
            json!({"code": current_code(&secret, now(), 0)}),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let recovery: Vec<String> = confirmed.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);

    // A password alone no longer signs in.
    let login = || app.login("mfa-user@localhost", "user-password-123");
    let first = login().await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["mfa_required"], true);
    assert!(first.body.get("access_token").is_none());
    let mfa = |mfa_token: Value, code: String| async move {
        app.post(
            "/api/v1/auth/mfa",
            None,
            json!({"mfa_token": mfa_token, "code": code}),
        )
        .await
    };
    // The code the set-up used is spent; the next step's passes once.
    let reused = mfa(
        first.body["mfa_token"].clone(),
        current_code(&secret, now(), 0),
    )
    .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED, "{}", reused.body);
    let next = current_code(&secret, now(), 1);
    let passed = mfa(first.body["mfa_token"].clone(), next.clone()).await;
    assert_eq!(passed.status, StatusCode::OK, "{}", passed.body);
    let access = passed.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/api/v1/me", &access).await.status, StatusCode::OK);
    // The token of a finished login is spent.
    assert_eq!(
        mfa(first.body["mfa_token"].clone(), next.clone())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // A replayed code fails on a new login; a recovery code works once.
    let second = login().await;
    assert_eq!(
        mfa(second.body["mfa_token"].clone(), next).await.status,
        StatusCode::UNAUTHORIZED
    );
    let by_recovery = mfa(second.body["mfa_token"].clone(), recovery[0].to_uppercase()).await;
    assert_eq!(by_recovery.status, StatusCode::OK, "{}", by_recovery.body);
    let third = login().await;
    assert_eq!(
        mfa(third.body["mfa_token"].clone(), recovery[0].clone())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Five wrong codes end a login's second step.
    let fourth = login().await;
    for _ in 0..5 {
        mfa(fourth.body["mfa_token"].clone(), "000000".into()).await;
    }
    let late = mfa(fourth.body["mfa_token"].clone(), recovery[1].clone()).await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    assert_eq!(late.body["code"], "invalid_mfa_token");
    let status = app.get("/api/v1/me/totp", &access).await;
    assert_eq!(
        status.body,
        json!({"enabled": true, "pending": false, "recovery_codes_left": 9})
    );

    // Another organisation's admin cannot reset it; this one's can.
    let other = app.second_org("mfa-other").await;
    let foreign = app
        .request(
            Method::DELETE,
            &format!("/api/v1/users/{user_id}/totp"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let reset = app
        .request(
            Method::DELETE,
            &format!("/api/v1/users/{user_id}/totp"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.body);
    let plain = login().await;
    assert!(plain.body["access_token"].is_string(), "{}", plain.body);
    let audit = app.get("/api/v1/audit?limit=50", &admin).await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "user.totp_enable",
        "user.recovery_code_used",
        "user.totp_reset",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }

    // Set up again and removed by the user with a code.
    let token = plain.body["access_token"].as_str().unwrap().to_owned();
    let setup = app.post("/api/v1/me/totp", Some(&token), json!({})).await;
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    app.post(
        "/api/v1/me/totp/confirm",
        Some(&token),
        json!({"code": current_code(&secret, now(), 0)}),
    )
    .await;
    let again = app.post("/api/v1/me/totp", Some(&token), json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let removed = app
        .request(
            Method::DELETE,
            "/api/v1/me/totp",
            Some(&token),
            Some(json!({"code": current_code(&secret, now(), 1)})),
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    // API keys have no second factor.
    let (_, key) = app.api_key(&admin, &["read"]).await;
    assert_eq!(
        app.post("/api/v1/me/totp", Some(&key), json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// Sets up an authenticator for the holder of `token`; its secret.
async fn enable_totp(app: &TestApp, token: &str) -> String {
    let setup = app.post("/api/v1/me/totp", Some(token), json!({})).await;
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    let now = app.state.clock.now().0 / 1000;
    let confirmed = app
        .post(
            "/api/v1/me/totp/confirm",
            Some(token),
            json!({"code": current_code(&secret, now, 0)}),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    secret
}

/// Posts a form whose values are owned strings.
async fn post_owned(
    browser: &mut crate::ui::Browser<'_>,
    path: &str,
    form: &[(&str, String)],
) -> crate::ui::Page {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post(path, &pairs).await
}

async fn organisations_can_require_two_factors_of_every_user(app: &TestApp, _smtp: &SmtpSink) {
    let admin = app.admin_token().await;
    let user_id = app
        .create_user(&admin, "req-user@localhost", "analyst")
        .await;
    app.create_user(&admin, "later-user@localhost", "viewer")
        .await;
    // (Made first: making it signs the platform admin in, who will have an app.)
    let other = app.second_org("mfa-required-other").await;
    let admin_ref = &admin;
    let require = move |on: bool| async move {
        app.request(
            Method::PUT,
            "/api/v1/org/settings",
            Some(admin_ref),
            Some(json!({"retention_days": 45, "require_mfa": on})),
        )
        .await
    };
    // The admin has no authenticator: requiring one of everyone is refused.
    let refused = require(true).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.body["code"], "authenticator_needed");
    enable_totp(app, &admin).await;
    let on = require(true).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert_eq!(on.body["require_mfa"], true);
    assert_eq!(on.body["retention_days"], 45);
    // Leaving the field out leaves it as it is.
    let kept = app
        .request(
            Method::PUT,
            "/api/v1/org/settings",
            Some(&admin),
            Some(json!({"retention_days": 60})),
        )
        .await;
    assert_eq!(kept.body["require_mfa"], true, "{}", kept.body);

    // Another organisation is untouched: its users sign in with a password.
    let theirs = app.get("/api/v1/org/settings", &other).await;
    assert_eq!(theirs.body["require_mfa"], false);
    let other_login = app
        .login("admin@mfa-required-other.test", "other-admin-pass-1")
        .await;
    assert!(
        other_login.body["access_token"].is_string(),
        "{}",
        other_login.body
    );

    // A user without an authenticator sets one up while signing in.
    let login = || app.login("req-user@localhost", "user-password-123");
    let first = login().await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first.body["mfa_enrollment_required"], true,
        "{}",
        first.body
    );
    assert!(first.body.get("access_token").is_none());
    let mfa_token = first.body["mfa_token"].clone();
    let no_code = app
        .post(
            "/api/v1/auth/mfa",
            None,
            json!({"mfa_token": mfa_token, "code": "000000"}),
        )
        .await;
    assert_eq!(
        no_code.status,
        StatusCode::UNAUTHORIZED,
        "no authenticator yet"
    );
    let setup = app
        .post(
            "/api/v1/auth/mfa/enroll",
            None,
            json!({"mfa_token": mfa_token}),
        )
        .await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    assert!(setup.body["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/Rampart:req-user@localhost?secret="));
    let confirm = |code: String| {
        let mfa_token = mfa_token.clone();
        async move {
            app.post(
                "/api/v1/auth/mfa/enroll/confirm",
                None,
                json!({"mfa_token": mfa_token, "code": code}),
            )
            .await
        }
    };
    let wrong = confirm("12345x".into()).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    assert_eq!(wrong.body["field"], "code");
    let now = app.state.clock.now().0 / 1000;
    let enrolled = confirm(current_code(&secret, now, 0)).await;
    assert_eq!(enrolled.status, StatusCode::OK, "{}", enrolled.body);
    assert_eq!(
        enrolled.body["recovery_codes"].as_array().unwrap().len(),
        10
    );
    let access = enrolled.body["tokens"]["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/me", access).await;
    assert_eq!(me.body["user"]["email"], "req-user@localhost");
    // The sign-in is finished: its token does nothing more.
    let spent = confirm(current_code(&secret, now, 1)).await;
    assert_eq!(spent.status, StatusCode::UNAUTHORIZED);
    assert_eq!(spent.body["code"], "invalid_mfa_token");
    // From now on the user has a second step like anyone with an app.
    let second = login().await;
    assert_eq!(second.body["mfa_required"], true, "{}", second.body);
    // ... whose token cannot set up a second authenticator.
    let again = app
        .post(
            "/api/v1/auth/mfa/enroll",
            None,
            json!({"mfa_token": second.body["mfa_token"]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let status = app.get("/api/v1/me/totp", access).await;
    assert_eq!(status.body["enabled"], true);

    // The pages: the settings box is ticked, and signing in shows the QR
    // code, then the recovery codes, then the application.
    use crate::ui::Browser;
    app.create_user(&admin, "page-enrol@localhost", "viewer")
        .await;
    let mut browser = Browser::new(app);
    let page = browser
        .sign_in("page-enrol@localhost", "user-password-123")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html.contains("Set up two-factor sign-in"),
        "{}",
        page.html
    );
    assert!(page.html.contains("<svg"), "a QR code");
    let field = |html: &str, name: &str| {
        html.split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .replace("&amp;", "&")
    };
    let (page_token, page_secret, page_uri) = (
        field(&page.html, "mfa_token"),
        field(&page.html, "secret"),
        field(&page.html, "uri"),
    );
    let csrf = browser.csrf();
    let enrol = |code: String| {
        [
            ("csrf", csrf.clone()),
            ("mfa_token", page_token.clone()),
            ("secret", page_secret.clone()),
            ("uri", page_uri.clone()),
            ("next", "/incidents".to_owned()),
            ("code", code),
        ]
    };
    let wrong_page = post_owned(&mut browser, "/login/enroll", &enrol("000000".into())).await;
    assert_eq!(wrong_page.status, StatusCode::BAD_REQUEST);
    assert!(
        wrong_page.html.contains(&page_secret),
        "the form is shown again"
    );
    let now = app.state.clock.now().0 / 1000;
    let done = post_owned(
        &mut browser,
        "/login/enroll",
        &enrol(current_code(&page_secret, now, 0)),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert_eq!(done.html.matches("<li><code>").count(), 10);
    assert!(done.html.contains("href=\"/incidents\""));
    assert_eq!(
        browser.get("/incidents").await.status,
        StatusCode::OK,
        "signed in"
    );
    let mut admin_browser = Browser::new(app);
    let admin_page = admin_browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(
        admin_page.html.contains("Two-factor sign-in"),
        "the admin has an app"
    );

    // Turned off again, a user without an app signs in with a password.
    let later = || app.login("later-user@localhost", "user-password-123");
    assert_eq!(later().await.body["mfa_enrollment_required"], true);
    let off = require(false).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["require_mfa"], false);
    assert!(later().await.body["access_token"].is_string());

    let audit = app.get("/api/v1/audit?limit=50", &admin).await;
    let entries = audit.body["items"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "settings.update"
        && e["after"]["require_mfa"] == true
        && e["before"]["require_mfa"] == false));
    let user_actor = format!("user:{user_id}");
    assert!(entries.iter().any(|e| e["action"] == "user.totp_enable"
        && e["actor"] == user_actor.as_str()
        && e["target_id"] == user_id.to_string().as_str()));
}

async fn passwords_are_reset_by_email_and_changed(app: &TestApp, smtp: &SmtpSink) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "forgetful@localhost", "analyst")
        .await;
    let old = app.token("forgetful@localhost", "user-password-123").await;
    let forgot = |email: &'static str| async move {
        app.post(
            "/api/v1/auth/password/forgot",
            None,
            json!({"email": email}),
        )
        .await
    };
    let known = forgot("forgetful@localhost").await;
    let unknown = forgot("nobody@example.test").await;
    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    let email = smtp
        .wait_for("forgetful@localhost", "Reset your Rampart password")
        .await;
    let text = email["text"].as_str().unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("https://rampart.example.test/reset-password?token="))
        .unwrap();
    let token = link.split("token=").nth(1).unwrap().to_owned();
    assert!(email["html"].as_str().unwrap().contains(&token));
    let reset = |token: String, password: &'static str| async move {
        app.post(
            "/api/v1/auth/password/reset",
            None,
            json!({"token": token, "password": password}),
        )
        .await
    };
    let short = reset(token.clone(), "short").await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert_eq!(short.body["field"], "password");
    let done = reset(token.clone(), "a-brand-new-password").await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    // Single use; every old session ended; the new password works.
    assert_eq!(
        reset(token, "another-new-password").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/me", &old).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("forgetful@localhost", "user-password-123")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let fresh = app
        .token("forgetful@localhost", "a-brand-new-password")
        .await;
    assert_eq!(
        reset("pr_made-up".into(), "a-brand-new-password")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // A change needs the current password and ends the sessions too.
    let change = |current: &'static str| {
        let fresh = fresh.clone();
        async move {
            app.post(
                "/api/v1/me/password",
                Some(&fresh),
                json!({"current_password": current, "new_password": "the-third-password"}),
            )
            .await
        }
    };
    let wrong = change("not-my-password-at-all").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.body["field"], "current_password");
    assert_eq!(
        change("a-brand-new-password").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/v1/me", &fresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.token("forgetful@localhost", "the-third-password").await;
    let audit = app.get("/api/v1/audit?limit=50", &admin).await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"user.password_reset"), "{actions:?}");
    assert!(actions.contains(&"user.password_change"), "{actions:?}");
    // The admin's own password still works (nothing else changed).
    app.token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
}

async fn the_pages_enrol_an_authenticator_and_sign_in_with_codes_and_links(
    app: &TestApp,
    smtp: &SmtpSink,
) {
    use crate::ui::Browser;
    let admin = app.admin_token().await;
    app.create_user(&admin, "page-user@localhost", "viewer")
        .await;
    let mut browser = Browser::new(app);
    let signed = browser
        .sign_in("page-user@localhost", "user-password-123")
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let security = browser.get("/security").await;
    assert!(security
        .html
        .contains("Off: a password alone signs you in."));
    let csrf = browser.csrf();
    let setup = browser.post("/security/totp", &[("csrf", &csrf)]).await;
    assert_eq!(setup.status, StatusCode::OK);
    assert!(setup.html.contains("<svg"), "a QR code");
    let secret = setup
        .html
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let uri_field = format!("otpauth://totp/Rampart:page-user@localhost?secret={secret}");
    assert!(setup.html.contains(&uri_field.replace('&', "&amp;")));
    let now = app.state.clock.now().0 / 1000;
    let wrong = browser
        .post(
            "/security/totp/confirm",
            &[
                ("csrf", &csrf),
                ("code", "000000"),
                ("secret", &secret),
                ("uri", &uri_field),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.html.contains(&secret), "the form is shown again");
    let code = current_code(&secret, now, 0);
    let on = browser
        .post(
            "/security/totp/confirm",
            &[
                ("csrf", &csrf),
                ("code", &code),
                ("secret", &secret),
                ("uri", &uri_field),
            ],
        )
        .await;
    assert!(on.html.contains("recovery-codes"), "{}", on.html);
    assert_eq!(on.html.matches("<li><code>").count(), 10);

    // Signing in now asks for the second step.
    let mut fresh = Browser::new(app);
    let first = fresh
        .sign_in("page-user@localhost", "user-password-123")
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.html.contains("Two-factor sign-in"));
    let mfa_token = first
        .html
        .split("name=\"mfa_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let fresh_csrf = fresh.csrf();
    let bad = fresh
        .post(
            "/login/mfa",
            &[
                ("csrf", &fresh_csrf),
                ("mfa_token", &mfa_token),
                ("code", "000000"),
                ("next", "/incidents"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.html.contains("That code did not work"));
    let next_code = current_code(&secret, now, 1);
    let good = fresh
        .post(
            "/login/mfa",
            &[
                ("csrf", &fresh_csrf),
                ("mfa_token", &mfa_token),
                ("code", &next_code),
                ("next", "/incidents"),
            ],
        )
        .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.html);
    assert_eq!(good.location.as_deref(), Some("/incidents"));
    assert_eq!(fresh.get("/security").await.status, StatusCode::OK);

    // Sign-in by e-mailed code, with the organisation's flag on.
    app.post(
        "/api/v1/flags",
        Some(&admin),
        json!({"key": "login.email_code", "enabled": true}),
    )
    .await;
    app.create_user(&admin, "code-user@localhost", "viewer")
        .await;
    let mut by_code = Browser::new(app);
    let form = by_code.get("/login/code").await;
    assert!(form.html.contains("E-mail me a code"));
    let code_csrf = by_code.csrf();
    let asked = by_code
        .post(
            "/login/code",
            &[("csrf", &code_csrf), ("email", "code-user@localhost")],
        )
        .await;
    assert!(asked.html.contains("6-digit code is on its way"));
    let mail = smtp.wait_for("code-user@localhost", "sign-in code").await;
    let code = code_in(&mail);
    let entered = by_code
        .post(
            "/login/code",
            &[
                ("csrf", &code_csrf),
                ("email", "code-user@localhost"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(entered.status, StatusCode::SEE_OTHER, "{}", entered.html);
    assert_eq!(by_code.get("/incidents").await.status, StatusCode::OK);

    // Forgotten password: a link by e-mail, a new password, then sign in.
    let mut forgetful = Browser::new(app);
    forgetful.get("/forgot-password").await;
    let forgot_csrf = forgetful.csrf();
    let sent = forgetful
        .post(
            "/forgot-password",
            &[("csrf", &forgot_csrf), ("email", "code-user@localhost")],
        )
        .await;
    assert!(sent
        .html
        .contains("a link to set a new password is on its way"));
    let mail = smtp
        .wait_for("code-user@localhost", "Reset your Rampart password")
        .await;
    let link = mail["text"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find(|w| w.contains("/reset-password?token="))
        .unwrap()
        .to_owned();
    let path = link.trim_start_matches("https://rampart.example.test");
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let form = forgetful.get(path).await;
    assert!(form.html.contains(&format!("value=\"{token}\"")));
    let forged = forgetful
        .post(
            "/reset-password",
            &[
                ("csrf", "forged"),
                ("token", &token),
                ("password", "whatever-long-enough"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let done = forgetful
        .post(
            "/reset-password",
            &[
                ("csrf", &forgot_csrf),
                ("token", &token),
                ("password", "reset-by-the-page-1"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(done.location.as_deref(), Some("/login?reset=done"));
    assert!(forgetful
        .get("/login?reset=done")
        .await
        .html
        .contains("Your password was changed"));
    assert_eq!(
        forgetful
            .sign_in("code-user@localhost", "reset-by-the-page-1")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The code user's earlier session ended with the reset.
    assert_eq!(
        by_code.get("/incidents").await.status,
        StatusCode::SEE_OTHER
    );

    // Turning the authenticator off needs a code.
    let csrf = browser.csrf();
    let refused = browser
        .post(
            "/security/totp/disable",
            &[("csrf", &csrf), ("code", "000000")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let off = browser
        .post(
            "/security/totp/disable",
            &[("csrf", &csrf), ("code", &current_code(&secret, now, -1))],
        )
        .await;
    // A step before the last one used is a replay; a recovery code works.
    assert_eq!(off.status, StatusCode::BAD_REQUEST);
    let recovery = on
        .html
        .split("<li><code>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let off = browser
        .post(
            "/security/totp/disable",
            &[("csrf", &csrf), ("code", &recovery)],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.html);
    assert!(browser
        .get("/security")
        .await
        .html
        .contains("Off: a password alone"));
}
