//! Rampart's own scans against real local servers started here on
//! 127.0.0.1: a misconfigured site (version banners, a session cookie
//! without flags, CORS echoing any origin with credentials, an external
//! script over HTTP, a stack trace), exposed files behind a server that
//! answers 200 to everything, a redirect to the cloud-metadata address,
//! and open and closed ports. Each scan must report exactly the expected
//! findings; targets outside the scope are refused; the scan-completed
//! notice reaches a webhook; another organisation sees none of it.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::TestApp;

const STACK_TRACE: &str = "Traceback (most recent call last):\n  File \"app.py\", line 3";

/// A site with everything the web-baseline and exposed-files scans look for.
pub async fn misconfigured_site() -> SocketAddr {
    async fn page(headers: HeaderMap) -> Response {
        let mut response = format!(
            "<!doctype html><html><head><script src=\"http://cdn.example.net/jquery.js\"></script></head>\
             <body><pre>{STACK_TRACE}</pre></body></html>"
        )
        .into_response();
        let h = response.headers_mut();
        h.insert(
            "content-type",
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert("server", HeaderValue::from_static("Apache/2.4.51 (Debian)"));
        h.insert("x-powered-by", HeaderValue::from_static("PHP/8.1.2"));
        h.insert(
            "set-cookie",
            HeaderValue::from_static("PHPSESSID=abc123; path=/"),
        );
        if let Some(origin) = headers.get("origin") {
            h.insert("access-control-allow-origin", origin.clone());
            h.insert(
                "access-control-allow-credentials",
                HeaderValue::from_static("true"),
            );
        }
        response
    }
    async fn file(uri: axum::http::Uri) -> Response {
        let body: &[u8] = match uri.path() {
            "/.env" => b"APP_ENV=production\nDB_PASSWORD=hunter2\nAPP_KEY=base64:abc\n",
            "/.git/config" => b"[core]\n\trepositoryformatversion = 0\n\tbare = false\n",
            "/.git/HEAD" => b"ref: refs/heads/main\n",
            "/server-status" => b"<html><head><title>Apache Status</title></head><body><h1>Apache Server Status for 127.0.0.1 (via 127.0.0.1)</h1></body></html>",
            "/backup.sql" => b"-- MySQL dump 10.13\nCREATE TABLE `users` (id int);\n",
            // Everything else: a friendly 200 page that only says "not found"
            // (a .git/config or an .env must be confirmed by content).
            _ => b"<!DOCTYPE html><html><body>Sorry, nothing at this address. [core] DB_PASSWORD CREATE TABLE</body></html>",
        };
        body.to_vec().into_response()
    }
    let app = axum::Router::new()
        .route("/", axum::routing::get(page))
        .fallback(axum::routing::get(file));
    serve(app).await
}

/// A site whose page redirects to the cloud-metadata address.
async fn redirecting_site() -> SocketAddr {
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async {
            Redirect::temporary("http://169.254.169.254/latest/meta-data/iam/security-credentials/")
        }),
    );
    serve(app).await
}

async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A webhook receiver: the JSON bodies posted to it.
async fn webhook_receiver() -> (SocketAddr, Arc<Mutex<Vec<Value>>>) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().fallback(axum::routing::post(move |body: axum::body::Bytes| {
        let store = store.clone();
        async move {
            if let Ok(value) = serde_json::from_slice(&body) {
                store.lock().unwrap().push(value);
            }
            StatusCode::OK.as_u16().to_string()
        }
    }));
    (serve(app).await, seen)
}

async fn add_scope(app: &TestApp, token: &str, target: &str) -> Value {
    let reply = app
        .post("/api/v1/scope", Some(token), json!({"target": target}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body
}

async fn start(app: &TestApp, token: &str, body: Value) -> crate::helpers::Reply {
    app.post("/api/v1/scans", Some(token), body).await
}

/// Waits for the scan to finish and returns it.
async fn finished(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..600 {
        let scan = app.get(&format!("/api/v1/scans/{id}"), token).await;
        assert_eq!(scan.status, StatusCode::OK, "{:?}", scan.body);
        if ["completed", "failed", "cancelled"].contains(&scan.body["status"].as_str().unwrap()) {
            return scan.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("scan {id} did not finish");
}

/// The rule ids of the asset's findings of a scan type.
async fn rules_found(app: &TestApp, token: &str, asset: &str, scan_type: &str) -> BTreeSet<String> {
    let list = app
        .get(
            &format!("/api/v1/findings?asset_id={asset}&scan_type={scan_type}&limit=1000"),
            token,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["report"]["rule_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn scans_find_exactly_what_is_there(app: &TestApp) {
    let admin = app.admin_token().await;
    let site = misconfigured_site().await;
    let (hook, received) = webhook_receiver().await;
    let channel = app
        .post(
            "/api/v1/notifications/channels",
            Some(&admin),
            json!({"name": "scans", "target": {"kind": "webhook", "url": format!("http://{hook}/hook"), "secret": "whsec-test-0123456789abcdef"}}),
        )
        .await;
    assert_eq!(channel.status, StatusCode::CREATED, "{:?}", channel.body);
    let rule = app
        .post(
            "/api/v1/notifications/rules",
            Some(&admin),
            json!({"name": "scans done", "events": ["scan.completed"], "min_severity": 1,
                   "channels": [channel.body["id"]]}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{:?}", rule.body);

    // Nothing may be scanned before an admin names it.
    let url = format!("http://{site}/");
    let refused = start(
        app,
        &admin,
        json!({"kind": "web-baseline", "targets": [url]}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.body["code"], "scope_empty");
    add_scope(app, &admin, "127.0.0.1").await;

    let scan = start(
        app,
        &admin,
        json!({"kind": "web-baseline", "targets": [url], "asset": "shop"}),
    )
    .await;
    assert_eq!(scan.status, StatusCode::ACCEPTED, "{:?}", scan.body);
    assert_eq!(scan.body["status"], "queued");
    let asset = scan.body["asset_id"].as_str().unwrap().to_owned();
    let done = finished(app, &admin, scan.body["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["summary"]["targets"][0]["grade"], "F");
    assert_eq!(done["summary"]["targets"][0]["score"], 0);
    let expected: BTreeSet<String> = [
        "csp-not-implemented",
        "cookies-session-without-secure-flag",
        "cross-origin-resource-sharing-implemented-with-universal-access",
        "redirection-missing",
        "hsts-not-implemented-no-https",
        "sri-not-implemented-and-external-scripts-not-loaded-securely",
        "x-content-type-options-not-implemented",
        "x-frame-options-not-implemented",
        "server-version-disclosed",
        "x-powered-by-disclosed",
        "debug-page-or-stack-trace",
        "observatory-grade",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(
        rules_found(app, &admin, &asset, "web-baseline").await,
        expected
    );
    assert_eq!(done["counts"]["new"], 12);

    // Exposed files: exactly the five served, though every path answers 200.
    let files = start(
        app,
        &admin,
        json!({"kind": "exposed-files", "targets": [url], "asset": "shop"}),
    )
    .await;
    assert_eq!(files.status, StatusCode::ACCEPTED, "{:?}", files.body);
    let done = finished(app, &admin, files.body["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(
        done["checks_total"].as_u64().unwrap(),
        rampart_scan::checks::exposed_files::PATHS.len() as u64
    );
    let expected: BTreeSet<String> = [
        "/.env",
        "/.git/config",
        "/.git/HEAD",
        "/server-status",
        "/backup.sql",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(
        rules_found(app, &admin, &asset, "exposed-files").await,
        expected
    );

    // Ports: one open, one closed.
    let open = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open_port = open.local_addr().unwrap().port();
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ports = start(
        app,
        &admin,
        json!({"kind": "ports", "targets": ["127.0.0.1"], "ports": format!("{open_port},{closed_port}")}),
    )
    .await;
    assert_eq!(ports.status, StatusCode::ACCEPTED, "{:?}", ports.body);
    let host_asset = ports.body["asset_id"].as_str().unwrap().to_owned();
    let done = finished(app, &admin, ports.body["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(
        rules_found(app, &admin, &host_asset, "ports").await,
        BTreeSet::from([open_port.to_string()])
    );
    drop(open);

    // Each finished scan told the webhook.
    for _ in 0..200 {
        if received.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let notices = received.lock().unwrap().clone();
    assert_eq!(notices.len(), 3, "{notices:#?}");
    assert!(notices.iter().all(|n| n["event"] == "scan.completed"));
    assert!(notices
        .iter()
        .any(|n| n["scan"]["kind"] == "exposed-files" && n["scan"]["counts"]["new"] == 5));
}

async fn targets_outside_the_scope_are_refused(app: &TestApp) {
    let admin = app.admin_token().await;
    let site = misconfigured_site().await;
    let redirecting = redirecting_site().await;
    add_scope(app, &admin, "127.0.0.1").await;
    add_scope(app, &admin, "0.0.0.0/0").await;

    for (target, why) in [
        (format!("http://127.0.0.2:{}/", site.port()), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "cloud metadata",
        ),
        ("http://10.0.0.1/".to_owned(), "private"),
        ("ftp://127.0.0.1/".to_owned(), "only http and https"),
    ] {
        let refused = start(
            app,
            &admin,
            json!({"kind": "web-baseline", "targets": [format!("http://{site}/"), target]}),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{target}: {:?}",
            refused.body
        );
        assert_eq!(refused.body["field"], "targets[1]", "{target}");
        let detail = refused.body["detail"].as_str().unwrap();
        assert!(detail.contains(why), "{target}: {detail}");
    }
    let bad_port = start(
        app,
        &admin,
        json!({"kind": "ports", "targets": ["127.0.0.1"], "ports": "22,0"}),
    )
    .await;
    assert_eq!(bad_port.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_port.body["field"], "ports");

    // In scope itself, the site redirects to the metadata address: the
    // redirect is refused and nothing is fetched from it.
    let scan = start(
        app,
        &admin,
        json!({"kind": "web-baseline", "targets": [format!("http://{redirecting}/")]}),
    )
    .await;
    assert_eq!(scan.status, StatusCode::ACCEPTED, "{:?}", scan.body);
    let done = finished(app, &admin, scan.body["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done:#}");
    let failure = &done["summary"]["failures"][0];
    assert_eq!(failure["refused"], true, "{done:#}");
    assert!(
        failure["error"]
            .as_str()
            .unwrap()
            .contains("169.254.169.254"),
        "{failure}"
    );

    // Only admins change the scope; analysts scan; viewers only look.
    app.create_user(&admin, "scan-analyst@localhost", "analyst")
        .await;
    app.create_user(&admin, "scan-viewer@localhost", "viewer")
        .await;
    let analyst = app
        .token("scan-analyst@localhost", "user-password-123")
        .await;
    let viewer = app
        .token("scan-viewer@localhost", "user-password-123")
        .await;
    let denied = app
        .post(
            "/api/v1/scope",
            Some(&analyst),
            json!({"target": "10.0.0.0/8"}),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let by_viewer = start(
        app,
        &viewer,
        json!({"kind": "web-baseline", "targets": [format!("http://{site}/")]}),
    )
    .await;
    assert_eq!(by_viewer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/scans", &viewer).await.status,
        StatusCode::OK
    );
    let by_analyst = start(
        app,
        &analyst,
        json!({"kind": "web-baseline", "targets": [format!("http://{site}/")]}),
    )
    .await;
    assert_eq!(
        by_analyst.status,
        StatusCode::ACCEPTED,
        "{:?}",
        by_analyst.body
    );

    // Another organisation sees none of it and cannot touch it.
    let other = app.second_org("elsewhere").await;
    let id = by_analyst.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/scans/{id}"), &other).await.status,
        StatusCode::NOT_FOUND
    );
    let cancel = app
        .post(
            &format!("/api/v1/scans/{id}/cancel"),
            Some(&other),
            json!({}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/scans", &other).await.body["items"],
        json!([])
    );
    assert_eq!(app.get("/api/v1/scope", &other).await.body, json!([]));
    let theirs = start(
        app,
        &other,
        json!({"kind": "web-baseline", "targets": [format!("http://{site}/")]}),
    )
    .await;
    assert_eq!(
        theirs.status,
        StatusCode::BAD_REQUEST,
        "our scope is not theirs"
    );
    let entry = app.get("/api/v1/scope", &admin).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let remove = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/scope/{entry}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(remove.status, StatusCode::NOT_FOUND);
    let remove = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/scope/{entry}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(remove.status, StatusCode::NO_CONTENT);
}

async fn a_scan_can_be_cancelled(app: &TestApp) {
    let admin = app.admin_token().await;
    add_scope(app, &admin, "127.0.0.1").await;
    // 2,000 closed ports at 10 connects a second: minutes unless cancelled.
    let scan = start(
        app,
        &admin,
        json!({"kind": "ports", "targets": ["127.0.0.1"], "ports": "40000-41999"}),
    )
    .await;
    assert_eq!(scan.status, StatusCode::ACCEPTED, "{:?}", scan.body);
    let id = scan.body["id"].as_str().unwrap();
    for _ in 0..200 {
        let now = app.get(&format!("/api/v1/scans/{id}"), &admin).await;
        if now.body["status"] == "running" && now.body["checks_done"].as_u64().unwrap() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cancel = app
        .post(
            &format!("/api/v1/scans/{id}/cancel"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{:?}", cancel.body);
    assert_eq!(cancel.body["cancel_requested"], true);
    let done = finished(app, &admin, id).await;
    assert_eq!(done["status"], "cancelled");
    assert!(done["checks_done"].as_u64().unwrap() < 2000);
    assert!(done["progress"].as_u64().unwrap() < 100);
}

/// A TLS server on 127.0.0.1 with a self-signed certificate for
/// `names`, valid for `days` more days.
async fn tls_server(app: &TestApp, names: Vec<String>, days: i64) -> SocketAddr {
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    let now = time::OffsetDateTime::from_unix_timestamp(app.state.clock.now().0 / 1000).unwrap();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(days);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(stream).await;
            });
        }
    });
    addr
}

async fn tls_scans_judge_versions_and_certificates(app: &TestApp) {
    let admin = app.admin_token().await;
    add_scope(app, &admin, "127.0.0.1").await;
    // For another host, self-signed, expiring in ten days.
    let bad = tls_server(app, vec!["wrong.example".into()], 10).await;
    // For this address, self-signed, valid for a year.
    let fair = tls_server(app, vec!["127.0.0.1".into()], 365).await;
    let scan = start(
        app,
        &admin,
        json!({"kind": "tls", "targets": [bad.to_string(), format!("https://{fair}/")], "asset": "tls-lab"}),
    )
    .await;
    assert_eq!(scan.status, StatusCode::ACCEPTED, "{:?}", scan.body);
    assert_eq!(
        scan.body["targets"],
        json!([bad.to_string(), fair.to_string()])
    );
    let asset = scan.body["asset_id"].as_str().unwrap().to_owned();
    let done = finished(app, &admin, scan.body["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done:#}");
    let targets = done["summary"]["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    let mut browser = crate::ui::Browser::new(app);
    browser
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    let page = browser
        .get(&format!("/scans/{}", done["id"].as_str().unwrap()))
        .await;
    assert!(
        page.html.contains("<td>TLS 1.3, TLS 1.2</td>"),
        "{}",
        page.html
    );
    assert!(page.html.contains("<td>EC P-256</td>"));
    for t in targets {
        let versions: Vec<(String, bool)> = t["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["version"].as_str().unwrap().to_owned(),
                    v["accepted"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            versions,
            [
                ("TLS 1.3".into(), true),
                ("TLS 1.2".into(), true),
                ("TLS 1.1".into(), false),
                ("TLS 1.0".into(), false)
            ],
            "rustls offers 1.2 and 1.3 only"
        );
        assert_eq!(t["certificate"]["key"], "EC P-256");
        assert_eq!(t["certificate"]["self_signed"], true);
    }
    let list = app
        .get(
            &format!("/api/v1/findings?asset_id={asset}&scan_type=tls&limit=100"),
            &admin,
        )
        .await;
    let mut found: Vec<(String, String)> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["report"]["endpoints"][0].as_str().unwrap().to_owned(),
                f["report"]["rule_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    let mut expected = vec![
        (bad.to_string(), "tls-certificate-expiring".to_owned()),
        (bad.to_string(), "tls-certificate-name-mismatch".to_owned()),
        (bad.to_string(), "tls-certificate-self-signed".to_owned()),
        (fair.to_string(), "tls-certificate-self-signed".to_owned()),
    ];
    expected.sort();
    assert_eq!(found, expected);

    // Outside the scope, or not a TLS endpoint: refused or named.
    let outside = start(
        app,
        &admin,
        json!({"kind": "tls", "targets": ["127.0.0.2:443"]}),
    )
    .await;
    assert_eq!(outside.status, StatusCode::BAD_REQUEST);
    assert_eq!(outside.body["field"], "targets[0]");
    let plain = misconfigured_site().await;
    let scan = start(
        app,
        &admin,
        json!({"kind": "tls", "targets": [plain.to_string()]}),
    )
    .await;
    let done = finished(app, &admin, scan.body["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done:#}");
    assert!(done["summary"]["failures"][0]["error"]
        .as_str()
        .unwrap()
        .contains("no TLS handshake succeeded"));
}

/// OpenSSL's own server offering TLS 1.0 only, with a 1024-bit RSA
/// certificate for another name (skipped, with a notice, without the
/// `openssl` binary).
async fn a_legacy_tls_server_is_caught(app: &TestApp) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let generated = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:1024",
            "-nodes",
            "-days",
            "5",
            "-subj",
            "/CN=legacy.test",
        ])
        .arg("-keyout")
        .arg(dir.path().join("k.pem"))
        .arg("-out")
        .arg(dir.path().join("c.pem"))
        .output();
    if !generated.is_ok_and(|o| o.status.success()) {
        eprintln!("notice: no openssl binary; the legacy TLS test is skipped");
        return;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = std::process::Command::new("openssl")
        .args([
            "s_server",
            "-tls1",
            "-cipher",
            "DEFAULT@SECLEVEL=0",
            "-www",
            "-quiet",
        ])
        .arg("-accept")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(dir.path().join("c.pem"))
        .arg("-key")
        .arg(dir.path().join("k.pem"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let admin = app.admin_token().await;
    add_scope(app, &admin, "127.0.0.1").await;
    let target = format!("127.0.0.1:{port}");
    let scan = start(
        app,
        &admin,
        json!({"kind": "tls", "targets": [target], "asset": "legacy"}),
    )
    .await;
    assert_eq!(scan.status, StatusCode::ACCEPTED, "{:?}", scan.body);
    let asset = scan.body["asset_id"].as_str().unwrap().to_owned();
    let done = finished(app, &admin, scan.body["id"].as_str().unwrap()).await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(done["status"], "completed", "{done:#}");
    assert_eq!(
        done["summary"]["targets"][0]["certificate"]["key"],
        "RSA 1024"
    );
    assert_eq!(
        rules_found(app, &admin, &asset, "tls").await,
        BTreeSet::from(
            [
                "tls-deprecated-protocol",
                "tls-no-modern-protocol",
                "tls-certificate-expiring",
                "tls-certificate-name-mismatch",
                "tls-certificate-self-signed",
                "tls-weak-key",
            ]
            .map(String::from)
        )
    );
}

/// Recurring scans by API and page: checked like a scan when saved,
/// named errors, roles, and another organisation seeing none of them.
async fn scans_are_scheduled(app: &TestApp) {
    let admin = app.admin_token().await;
    let site = misconfigured_site().await;
    add_scope(app, &admin, "127.0.0.1").await;
    let body = |cron: &str, target: String| {
        json!({"name": "nightly", "cron": cron,
               "scan": {"kind": "web-baseline", "targets": [target], "asset": "shop"}})
    };
    let bad_cron = app
        .post(
            "/api/v1/scan-schedules",
            Some(&admin),
            body("every night", format!("http://{site}/")),
        )
        .await;
    assert_eq!(bad_cron.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_cron.body["field"], "cron");
    let outside = app
        .post(
            "/api/v1/scan-schedules",
            Some(&admin),
            body("0 3 * * *", "http://127.0.0.2/".into()),
        )
        .await;
    assert_eq!(outside.status, StatusCode::BAD_REQUEST);
    assert_eq!(outside.body["field"], "targets[0]");
    let created = app
        .post(
            "/api/v1/scan-schedules",
            Some(&admin),
            body("0 3 * * *", format!("http://{site}/")),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert!(created.body["next_run_at"]
        .as_str()
        .unwrap()
        .ends_with("T03:00:00Z"));
    let again = app
        .post(
            "/api/v1/scan-schedules",
            Some(&admin),
            body("0 4 * * *", format!("http://{site}/")),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let mut browser = crate::ui::Browser::new(app);
    browser
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    let page = browser.get("/scans").await;
    assert!(
        page.html.contains("<code>0 3 * * *</code>"),
        "{}",
        page.html
    );
    let csrf = browser.csrf();
    let target = format!("http://{site}/");
    let by_form = browser
        .post(
            "/scans/schedules",
            &[
                ("csrf", &csrf),
                ("name", "weekly <tls>"),
                ("cron", "0 5 * * 1"),
                ("kind", "tls"),
                ("targets", "127.0.0.1:443"),
                ("ports", ""),
                ("asset", ""),
            ],
        )
        .await;
    assert_eq!(by_form.status, StatusCode::SEE_OTHER, "{}", by_form.html);
    let page = browser.get("/scans").await;
    assert!(page.html.contains("weekly &lt;tls&gt;"));
    let bad = browser
        .post(
            "/scans/schedules",
            &[
                ("csrf", &csrf),
                ("name", "x"),
                ("cron", "nope"),
                ("kind", "web-baseline"),
                ("targets", &target),
                ("ports", ""),
                ("asset", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    app.create_user(&admin, "schedule-viewer@localhost", "viewer")
        .await;
    let viewer = app
        .token("schedule-viewer@localhost", "user-password-123")
        .await;
    let denied = app
        .post(
            "/api/v1/scan-schedules",
            Some(&viewer),
            body("0 6 * * *", target.clone()),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/scan-schedules", &viewer)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let other = app.second_org("schedules-elsewhere").await;
    assert_eq!(
        app.get("/api/v1/scan-schedules", &other).await.body,
        json!([])
    );
    let id = created.body["id"].as_str().unwrap();
    let theirs = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/scan-schedules/{id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let ours = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/scan-schedules/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(ours.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/scan-schedules", &admin)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn with_private_webhooks(config: &mut rampart_server::Config) {
    config.notifications.allow_private_targets = true;
    config.jobs.poll_ms = 20;
}

macro_rules! scan_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = crate::helpers::spawn_app_with(
                        rampart_store::testing::TestDatabase::sqlite(),
                        super::with_private_webhooks,
                    ).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = rampart_store::testing::TestDatabase::postgres().await else { return };
                    let app = crate::helpers::spawn_app_with(
                        db,
                        super::with_private_webhooks,
                    ).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}

scan_tests!(
    scans_find_exactly_what_is_there,
    tls_scans_judge_versions_and_certificates,
    a_legacy_tls_server_is_caught,
    scans_are_scheduled,
    scans_are_run_and_followed_in_pages,
    targets_outside_the_scope_are_refused,
    a_scan_can_be_cancelled,
);

/// The pages: an admin authorises a target, an analyst's scan runs and
/// its page shows progress, grade and findings link; a viewer and a
/// forged token change nothing; another organisation finds nothing.
async fn scans_are_run_and_followed_in_pages(app: &TestApp) {
    use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD};
    use crate::ui::Browser;

    let site = misconfigured_site().await;
    let mut browser = Browser::new(app);
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let empty = browser.get("/scope").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(
        empty.html.contains("The scope names nothing yet"),
        "{}",
        empty.html
    );
    let csrf = browser.csrf();
    let bad = browser
        .post(
            "/scope",
            &[
                ("csrf", &csrf),
                ("target", "<b>not a host</b>"),
                ("ports", ""),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.html.contains("&lt;b&gt;not a host&lt;/b&gt;"),
        "escaped: {}",
        bad.html
    );
    let forged = browser
        .post(
            "/scope",
            &[
                ("csrf", "forged"),
                ("target", "127.0.0.1"),
                ("ports", ""),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let added = browser
        .post(
            "/scope",
            &[
                ("csrf", &csrf),
                ("target", "127.0.0.1"),
                ("ports", ""),
                ("note", "<i>lab</i>"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    let scope = browser.get("/scope").await;
    assert!(scope.html.contains("<code>127.0.0.1</code>"));
    assert!(scope.html.contains("&lt;i&gt;lab&lt;/i&gt;"));

    let outside = browser
        .post(
            "/scans",
            &[
                ("csrf", &csrf),
                ("kind", "web-baseline"),
                ("targets", "http://127.0.0.2/"),
                ("ports", ""),
                ("asset", ""),
            ],
        )
        .await;
    assert_eq!(outside.status, StatusCode::BAD_REQUEST);
    assert!(outside.html.contains("loopback"), "{}", outside.html);
    let target = format!("http://{site}/");
    let started = browser
        .post(
            "/scans",
            &[
                ("csrf", &csrf),
                ("kind", "web-baseline"),
                ("targets", &target),
                ("ports", ""),
                ("asset", "shop"),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.html);
    let page_path = started.location.clone().unwrap();
    let mut page = browser.get(&page_path).await;
    for _ in 0..200 {
        if page.html.contains("id=\"scan-status\">completed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        page = browser.get(&page_path).await;
    }
    assert!(
        page.html.contains("id=\"scan-status\">completed"),
        "{}",
        page.html
    );
    assert!(
        page.html.contains("<td class=\"grade\">F</td>"),
        "{}",
        page.html
    );
    assert!(page.html.contains("scan_type=web-baseline"));
    let list = browser.get("/scans").await;
    assert!(list.html.contains(&target));

    app.create_user(
        &app.admin_token().await,
        "scan-page-viewer@localhost",
        "viewer",
    )
    .await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("scan-page-viewer@localhost", "user-password-123")
        .await;
    let csrf = viewer.csrf();
    let shown = viewer.get("/scope").await;
    assert!(!shown.html.contains("Authorise a target"));
    let refused = viewer
        .post(
            "/scope",
            &[
                ("csrf", &csrf),
                ("target", "10.0.0.0/8"),
                ("ports", ""),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = viewer
        .post(
            "/scans",
            &[
                ("csrf", &csrf),
                ("kind", "ports"),
                ("targets", "127.0.0.1"),
                ("ports", "22"),
                ("asset", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    app.second_org("scanpages").await;
    let mut other = Browser::new(app);
    other
        .sign_in("admin@scanpages.test", "other-admin-pass-1")
        .await;
    assert_eq!(other.get(&page_path).await.status, StatusCode::NOT_FOUND);
    assert!(!other.get("/scans").await.html.contains(&target));
    assert!(!other
        .get("/scope")
        .await
        .html
        .contains("<code>127.0.0.1</code>"));
}
