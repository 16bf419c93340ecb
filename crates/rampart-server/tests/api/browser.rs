//! The web UI in a real browser: headless Chromium, driven over WebDriver
//! (chromedriver), against the real server. Without `chromedriver` on the
//! PATH the tests print a notice and pass, unless RAMPART_REQUIRE_BROWSER is
//! set (as `.ci/run` sets it, after installing Chromium). Screenshots of
//! the main pages go to `target/ui-screenshots/<backend>/`.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

/// A running chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver() -> Option<Driver> {
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = match Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => {
            assert!(
                std::env::var_os("RAMPART_REQUIRE_BROWSER").is_none(),
                "RAMPART_REQUIRE_BROWSER is set but chromedriver cannot start: {error}"
            );
            eprintln!("notice: chromedriver not found; browser tests skipped (apt-get install chromium chromium-driver)");
            return None;
        }
    };
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if reqwest::get(format!("{}/status", driver.url)).await.is_ok() {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn browser(driver: &Driver) -> Client {
    let mut options = json!({
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--window-size=1280,900"]
    });
    if std::path::Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

async fn screenshot(client: &Client, backend: &str, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/ui-screenshots")
        .join(backend);
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Waits (up to 10 s, as a page loads after a click) until the first
/// element matching `css` reads `expected`; returns what it last read.
async fn wait_text(client: &Client, css: &str, expected: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if let Ok(text) = element.text().await {
                if text == expected {
                    return text;
                }
                last = text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// Waits (up to 10 s) until the first element matching `css` reads
/// something starting with `prefix`; returns what it last read.
async fn wait_text_starting(client: &Client, css: &str, prefix: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if let Ok(text) = element.text().await {
                if text.starts_with(prefix) {
                    return text;
                }
                last = text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// Waits until the page's path is `path`.
async fn wait_path(client: &Client, path: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(url) = client.current_url().await {
            last = url.path().to_owned();
            if last == path {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// Fills in and sends the login form the browser is on, as the admin.
async fn sign_in_on_login_page(client: &Client) {
    for (field, value) in [("#email", ADMIN_EMAIL), ("#password", ADMIN_PASSWORD)] {
        client
            .find(Locator::Css(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    click(client, "section.login button").await;
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn an_analyst_works_an_incident_and_searches_events_in_chromium(app: &TestApp) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let backend = app.state.store.backend().as_str();
    let admin = app.admin_token().await;
    let events = "{\"user\":{\"name\":\"<img src=x onerror=alert(1)>\"},\"source\":{\"ip\":\"203.0.113.9\"},\"host\":{\"name\":\"bastion-1\"},\"event\":{\"category\":\"authentication\",\"action\":\"ssh_login\",\"outcome\":\"failure\"},\"message\":\"Failed password for <script>alert(2)</script>\"}\n";
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
    // Background traffic over the last quarter hour, for the dashboard.
    let now = app.state.clock.now().0;
    let traffic: String = (0..150)
        .map(|i: i64| {
            let at = rampart_core::Timestamp(now - i * 5_800 - (i % 7) * 700);
            let user = ["alice", "bob", "carol", "deploy"][(i % 4) as usize];
            json!({
                "@timestamp": at.to_string(),
                "event": {"category": "authentication", "action": "ssh_login",
                          "outcome": if i % 4 == 0 { "failure" } else { "success" }},
                "source": {"ip": format!("198.51.100.{}", i % 9 + 1)},
                "user": {"name": user},
                "host": {"name": format!("web-{}", i % 3 + 1)},
                "message": "sshd login"
            })
            .to_string()
                + "\n"
        })
        .collect();
    let r = app
        .post_bytes(
            "/api/v1/events",
            &admin,
            "application/x-ndjson",
            None,
            traffic.into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let r = app
        .post(
            "/api/v1/incidents",
            Some(&admin),
            json!({"title": "SSH brute force on <b>bastion-1</b>", "severity": "high",
                   "entities": {"ips": ["203.0.113.9"], "hosts": ["bastion-1"]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);

    let client = browser(&driver).await;
    client.goto(&format!("{}/", app.base)).await.unwrap();
    assert!(client
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/login"));
    screenshot(&client, backend, "login").await;
    sign_in_on_login_page(&client).await;
    assert_eq!(wait_path(&client, "/").await, "/");
    assert_eq!(wait_text(&client, "h1", "Overview").await, "Overview");
    // The overview refreshes itself: more events show without a reload.
    let counted = "#overview section p a";
    assert_eq!(
        wait_text(&client, counted, "151 events").await,
        "151 events"
    );
    let more = "{\"message\":\"later\"}\n".repeat(3);
    let r = app
        .post_bytes(
            "/api/v1/events",
            &admin,
            "application/x-ndjson",
            None,
            more.into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let mut updated = String::new();
    for _ in 0..3 {
        updated = wait_text(&client, counted, "154 events").await;
        if updated == "154 events" {
            break;
        }
    }
    assert_eq!(updated, "154 events");
    assert_eq!(client.current_url().await.unwrap().path(), "/");
    client
        .find(Locator::Css("nav a[href='/incidents']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(wait_path(&client, "/incidents").await, "/incidents");
    screenshot(&client, backend, "incidents").await;

    // The incident: the title's markup is text; change its status, comment.
    let link = client.find(Locator::Css("tbody td a")).await.unwrap();
    assert_eq!(
        link.text().await.unwrap(),
        "SSH brute force on <b>bastion-1</b>"
    );
    let href = link.attr("href").await.unwrap().unwrap();
    link.click().await.unwrap();
    assert_eq!(wait_path(&client, &href).await, href);
    assert_eq!(
        wait_text(&client, "h1", "SSH brute force on <b>bastion-1</b>").await,
        "SSH brute force on <b>bastion-1</b>"
    );
    client
        .find(Locator::Css("form.inline button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        wait_text(&client, ".facts .status", "acknowledged").await,
        "acknowledged"
    );
    client
        .find(Locator::Css("#body"))
        .await
        .unwrap()
        .send_keys("Blocked at the firewall")
        .await
        .unwrap();
    client
        .find(Locator::XPath("//button[text()='Comment']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        wait_text(&client, "article.comment p", "Blocked at the firewall").await,
        "Blocked at the firewall"
    );
    screenshot(&client, backend, "incident").await;

    // Event search by CIDR; hostile values show as text and run nothing.
    client
        .goto(&format!("{}/events?source_ip=203.0.113.0%2F24", app.base))
        .await
        .unwrap();
    assert_eq!(
        wait_text(
            &client,
            "td.message",
            "Failed password for <script>alert(2)</script>"
        )
        .await,
        "Failed password for <script>alert(2)</script>"
    );
    let user = client
        .find(Locator::XPath("//td/a[starts-with(., '<img')]"))
        .await
        .unwrap();
    assert_eq!(user.text().await.unwrap(), "<img src=x onerror=alert(1)>");
    assert!(client.get_alert_text().await.is_err(), "no script ran");
    screenshot(&client, backend, "events").await;
    let first = client.find(Locator::Css("tbody td a")).await.unwrap();
    let href = first.attr("href").await.unwrap().unwrap();
    first.click().await.unwrap();
    assert_eq!(wait_path(&client, &href).await, href);
    assert!(client.source().await.unwrap().contains("203.0.113.9"));
    screenshot(&client, backend, "event").await;

    client
        .goto(&format!("{}/?range=15m", app.base))
        .await
        .unwrap();
    assert_eq!(wait_text(&client, "h1", "Overview").await, "Overview");
    screenshot(&client, backend, "dashboard").await;
    // The theme switch: dark, kept across pages, then back to the system's.
    client
        .find(Locator::Css("form.theme button[value='dark']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(wait_text(&client, "h1", "Overview").await, "Overview");
    let html = client.find(Locator::Css("html")).await.unwrap();
    assert_eq!(
        html.attr("data-theme").await.unwrap().as_deref(),
        Some("dark")
    );
    let background = client
        .execute(
            "return getComputedStyle(document.body).backgroundColor",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(background, "rgb(20, 23, 27)", "the dark palette applies");
    screenshot(&client, backend, "dashboard-dark").await;
    client
        .find(Locator::Css("form.theme button[value='system']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(wait_text(&client, "h1", "Overview").await, "Overview");
    let html = client.find(Locator::Css("html")).await.unwrap();
    assert_eq!(html.attr("data-theme").await.unwrap(), None);

    // The live tail shows a new event without a reload.
    client
        .goto(&format!("{}/events?live=on&q=tailmarker", app.base))
        .await
        .unwrap();
    let r = app
        .post_bytes(
            "/api/v1/events",
            &admin,
            "application/x-ndjson",
            None,
            b"{\"message\":\"tailmarker arrived\"}\n".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let arrived = "tailmarker arrived";
    assert_eq!(
        wait_text(&client, "#results td.message", arrived).await,
        arrived
    );

    // A rule: tested on the editor's sample events, then saved.
    client
        .goto(&format!("{}/rules/new", app.base))
        .await
        .unwrap();
    client
        .find(Locator::Css("button[value='test']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let matched = "1 of 2 sample events matched";
    assert_eq!(
        wait_text(&client, "section.report h2", matched).await,
        matched
    );
    screenshot(&client, backend, "rule-editor").await;
    client
        .find(Locator::Css("button[value='save']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let saved = "/rules/6b0f4d4e-0000-4000-8000-000000000001";
    assert_eq!(wait_path(&client, saved).await, saved);

    // An API key, shown once.
    client
        .goto(&format!("{}/admin/api-keys", app.base))
        .await
        .unwrap();
    client
        .find(Locator::Css("#name"))
        .await
        .unwrap()
        .send_keys("syslog shipper")
        .await
        .unwrap();
    client
        .find(Locator::Css("input[name='scope_ingest']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::XPath("//button[text()='Make key']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        wait_text(&client, "section.created h2", "Key “syslog shipper” made").await,
        "Key “syslog shipper” made"
    );
    let secret = client
        .find(Locator::Css("#secret"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(secret.starts_with("rk_"));
    client
        .find(Locator::Css("button[data-copy='#secret']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let copy = "button[data-copy='#secret']";
    assert_eq!(wait_text(&client, copy, "Copied").await, "Copied");
    screenshot(&client, backend, "api-keys").await;
    client
        .goto(&format!("{}/admin/jobs", app.base))
        .await
        .unwrap();
    assert_eq!(wait_text(&client, "h1", "Jobs").await, "Jobs");
    screenshot(&client, backend, "jobs").await;
    client
        .goto(&format!("{}/admin/flags", app.base))
        .await
        .unwrap();
    assert_eq!(
        wait_text(&client, "h1", "Feature flags").await,
        "Feature flags"
    );
    screenshot(&client, backend, "flags").await;

    // A Slack channel added by form shows in the channel list.
    client
        .goto(&format!("{}/admin/notifications", app.base))
        .await
        .unwrap();
    assert_eq!(
        wait_text(&client, "h1", "Notifications").await,
        "Notifications"
    );
    client
        .find(Locator::Css("#channel-name"))
        .await
        .unwrap()
        .send_keys("team chat")
        .await
        .unwrap();
    client
        .find(Locator::Css("#kind option[value='slack']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css("#url"))
        .await
        .unwrap()
        .send_keys("https://hooks.slack.example.test/services/T0/B0/x")
        .await
        .unwrap();
    client
        .find(Locator::Css("#new-channel button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        wait_text(&client, "#channels tbody td", "team chat").await,
        "team chat"
    );
    screenshot(&client, backend, "notifications").await;

    // Setting up an authenticator shows its QR code (inline SVG under the CSP).
    client
        .goto(&format!("{}/security", app.base))
        .await
        .unwrap();
    client
        .find(Locator::Css("form[action='/security/totp'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        wait_text(&client, "h1", "Set up an authenticator app").await,
        "Set up an authenticator app"
    );
    let width = client
        .execute(
            "return document.querySelector('.qr svg').getBoundingClientRect().width",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap_or(0.0);
    assert!(width >= 200.0, "the QR code is drawn ({width} px)");
    screenshot(&client, backend, "security-totp").await;

    // Signing out returns to the login page, and pages need signing in again.
    client
        .find(Locator::Css("form.signout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(wait_path(&client, "/login").await, "/login");
    client
        .goto(&format!("{}/incidents", app.base))
        .await
        .unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/login");
    client.close().await.unwrap();
}

/// An analyst adds an asset, uploads a real Grype report from a file
/// input, reads why the top finding ranks first, and marks it a false
/// positive.
async fn an_analyst_imports_a_report_and_decides_a_finding_in_chromium(app: &TestApp) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let backend = app.state.store.backend().as_str();
    let report = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(
        report.path(),
        crate::vulns::sample("grype", "many_vulns4.json"),
    )
    .unwrap();

    let client = browser(&driver).await;
    client.goto(&format!("{}/assets", app.base)).await.unwrap();
    sign_in_on_login_page(&client).await;
    assert_eq!(wait_path(&client, "/assets").await, "/assets");
    client
        .find(Locator::Css("#name"))
        .await
        .unwrap()
        .send_keys("shop image")
        .await
        .unwrap();
    client
        .find(Locator::Css("#criticality option[value='5']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(&client, "#exposure option[value='internet']").await;
    click(&client, "form[action='/assets'] button").await;
    assert_eq!(wait_text(&client, "h1", "shop image").await, "shop image");

    // The report, from a file input.
    client
        .find(Locator::Css("#report"))
        .await
        .unwrap()
        .send_keys(&report.path().to_string_lossy())
        .await
        .unwrap();
    click(&client, "form[action='/imports/upload'] button").await;
    let summary =
        "Imported 9 findings from grype (grype): 9 new, 0 unchanged, 0 reopened, 0 closed.";
    assert_eq!(wait_text(&client, "p.result", summary).await, summary);
    screenshot(&client, backend, "asset").await;

    // The findings, highest first; the top one with its reasons.
    click(&client, "a[href^='/findings?asset_id=']").await;
    assert_eq!(wait_path(&client, "/findings").await, "/findings");
    let rows = client.find_all(Locator::Css("tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 9);
    screenshot(&client, backend, "findings").await;
    click(&client, "tbody tr:first-child td a[href^='/findings/']").await;
    let reasons = client
        .wait()
        .for_element(Locator::Css("ul.reasons"))
        .await
        .unwrap();
    let text = reasons.text().await.unwrap();
    assert!(text.contains("internet"), "{text}");
    screenshot(&client, backend, "finding").await;

    // A false positive, with its reason.
    click(&client, "#decision option[value='false_positive']").await;
    client
        .find(Locator::Css("#reason"))
        .await
        .unwrap()
        .send_keys("the vulnerable function is never called")
        .await
        .unwrap();
    click(&client, "form[action$='/status'] button").await;
    let status = "false positive — the vulnerable function is never called";
    let shown = wait_text(&client, "dl.facts dd:nth-of-type(3)", status).await;
    assert_eq!(shown, status);
    client
        .goto(&format!("{}/findings", app.base))
        .await
        .unwrap();
    let rows = client.find_all(Locator::Css("tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 8, "a false positive leaves the open list");
    client.close().await.unwrap();
}

async fn an_admin_authorises_a_target_and_follows_a_scan_in_chromium(app: &TestApp) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let backend = app.state.store.backend().as_str();
    let site = crate::scans::misconfigured_site().await;
    let client = browser(&driver).await;
    client.goto(&format!("{}/scope", app.base)).await.unwrap();
    sign_in_on_login_page(&client).await;
    assert_eq!(wait_path(&client, "/scope").await, "/scope");
    client
        .find(Locator::Css("#target"))
        .await
        .unwrap()
        .send_keys("127.0.0.1")
        .await
        .unwrap();
    click(&client, "form[action='/scope'] button").await;
    assert_eq!(
        wait_text(&client, "tbody td code", "127.0.0.1").await,
        "127.0.0.1"
    );

    client.goto(&format!("{}/scans", app.base)).await.unwrap();
    click(&client, "#kind option[value='web-baseline']").await;
    client
        .find(Locator::Css("#targets"))
        .await
        .unwrap()
        .send_keys(&format!("http://{site}/"))
        .await
        .unwrap();
    click(&client, "form[action='/scans'] button").await;
    // The page follows the scan by itself until it completes.
    assert_eq!(
        wait_text(&client, "#scan-status", "completed").await,
        "completed"
    );
    assert_eq!(wait_text(&client, "td.grade", "F").await, "F");
    screenshot(&client, backend, "scan").await;
    click(&client, "a[href*='scan_type=web-baseline']").await;
    assert_eq!(wait_path(&client, "/findings").await, "/findings");
    let rows = client.find_all(Locator::Css("tbody tr")).await.unwrap();
    assert_eq!(
        rows.len(),
        12,
        "the failed tests, the disclosures and the grade"
    );
    client.close().await.unwrap();
}

/// An analyst pastes a defanged report on the Indicators page and reads
/// the indicators with their words as written; markup in the paste stays
/// text.
async fn an_analyst_extracts_indicators_in_chromium(app: &TestApp) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let backend = app.state.store.backend().as_str();
    let client = browser(&driver).await;
    client.goto(&format!("{}/ioc", app.base)).await.unwrap();
    sign_in_on_login_page(&client).await;
    assert_eq!(wait_path(&client, "/ioc").await, "/ioc");
    client
        .find(Locator::Css("#text"))
        .await
        .unwrap()
        .send_keys(
            "<b>C2</b> hxxps://cdn-update[.]net/p.bin and 185.220.101[.]47, dropped invoice.zip",
        )
        .await
        .unwrap();
    click(&client, "form[action='/ioc'] button").await;
    assert_eq!(
        wait_text(
            &client,
            "#indicators tbody tr td code",
            "https://cdn-update.net/p.bin"
        )
        .await,
        "https://cdn-update.net/p.bin"
    );
    let rows = client
        .find_all(Locator::Css("#indicators tbody tr"))
        .await
        .unwrap();
    let mut cells = Vec::new();
    for row in &rows {
        cells.push(row.text().await.unwrap());
    }
    assert_eq!(rows.len(), 3, "{cells:?}");
    assert!(
        cells[0].contains("defanged") && cells[0].contains("hxxps://cdn-update[.]net/p.bin"),
        "{cells:?}"
    );
    assert!(
        cells.iter().any(|c| c.contains("185.220.101.47")),
        "{cells:?}"
    );
    assert!(
        client.find(Locator::Css("textarea b")).await.is_err(),
        "markup stays text"
    );
    screenshot(&client, backend, "indicators").await;
    client.close().await.unwrap();
}

/// An analyst sends the indicators of a report to the watchlist in one
/// click, an event naming one of them arrives, and the hit shows as an
/// incident and on the entry.
async fn an_analyst_watches_extracted_indicators_in_chromium(app: &TestApp) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let backend = app.state.store.backend().as_str();
    let client = browser(&driver).await;
    client.goto(&format!("{}/ioc", app.base)).await.unwrap();
    sign_in_on_login_page(&client).await;
    assert_eq!(wait_path(&client, "/ioc").await, "/ioc");
    client
        .find(Locator::Css("#text"))
        .await
        .unwrap()
        .send_keys("Beacons to hxxps://cdn-update[.]net/p.bin and 185.220.101[.]47 (CVE-2024-3094)")
        .await
        .unwrap();
    click(&client, "form[action='/ioc'] button").await;
    assert_eq!(
        wait_text(
            &client,
            "#indicators tbody tr td code",
            "https://cdn-update.net/p.bin"
        )
        .await,
        "https://cdn-update.net/p.bin"
    );
    click(&client, "#to-watchlist").await;
    assert_eq!(wait_path(&client, "/watchlists").await, "/watchlists");
    let summary = client
        .find(Locator::Css("p.ok"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(summary.contains("3 added"), "{summary}");
    let admin = app.admin_token().await;
    let event = json!({"message": "outbound to 185.220.101.47:443", "host": {"name": "ws-9"}, "destination": {"ip": "185.220.101.47", "port": 443}});
    let sent = app
        .post_bytes(
            "/api/v1/events",
            &admin,
            "application/x-ndjson",
            None,
            format!("{event}\n").into_bytes(),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{:?}", sent.body);
    client
        .goto(&format!("{}/incidents", app.base))
        .await
        .unwrap();
    let body = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("Watchlist ip 185.220.101.47 seen in destination.ip"),
        "{body}"
    );
    client
        .goto(&format!("{}/watchlists?type=ip", app.base))
        .await
        .unwrap();
    let row = client
        .find(Locator::Css("#watchlist tbody tr"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("185.220.101.47") && row.contains("indicators page"),
        "{row}"
    );
    let hits = client
        .find(Locator::Css("#watchlist tbody tr td:nth-child(7)"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(hits, "1");
    screenshot(&client, backend, "watchlists").await;
    // From the incident, one click to everything known about the address.
    client
        .goto(&format!("{}/incidents", app.base))
        .await
        .unwrap();
    click(&client, "td a[href^='/incidents/']").await;
    click(&client, "a.timeline").await;
    assert_eq!(wait_path(&client, "/entities/ip").await, "/entities/ip");
    let body = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("On the watchlist"), "{body}");
    assert!(body.contains("outbound to 185.220.101.47:443"), "{body}");
    screenshot(&client, backend, "timeline").await;
    client.close().await.unwrap();
}

/// An analyst hunts: a query with a pipe, typed on the Hunt page, gives
/// its counts; a mistyped one says where.
async fn an_analyst_hunts_in_chromium(app: &TestApp) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let backend = app.state.store.backend().as_str();
    let admin = app.admin_token().await;
    let events: String = (0..12)
        .map(|i| format!("{}\n", json!({"message": format!("Failed password for u{} from 10.3.0.{i}", i % 4), "user": {"name": format!("u{}", i % 4)}})))
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
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{:?}", sent.body);
    let client = browser(&driver).await;
    client.goto(&format!("{}/hunt", app.base)).await.unwrap();
    sign_in_on_login_page(&client).await;
    assert_eq!(wait_path(&client, "/hunt").await, "/hunt");
    client
        .find(Locator::Css("#query"))
        .await
        .unwrap()
        .send_keys("failed AND NOT user.name:u0 | stats count() by user.name | sort user.name")
        .await
        .unwrap();
    click(&client, "form[action='/hunt'] button").await;
    assert_eq!(
        wait_text(&client, "#hunt-rows tbody tr:first-child td", "u1").await,
        "u1"
    );
    let rows = client
        .find_all(Locator::Css("#hunt-rows tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    screenshot(&client, backend, "hunt").await;
    let query = client.find(Locator::Css("#query")).await.unwrap();
    query.clear().await.unwrap();
    query.send_keys("user.name:(u1").await.unwrap();
    click(&client, "form[action='/hunt'] button").await;
    assert_eq!(
        wait_text(&client, "#error-column", "At column 11.").await,
        "At column 11."
    );

    // Save a hunt from the Hunt page, then run it from its own page.
    let query = client.find(Locator::Css("#query")).await.unwrap();
    query.clear().await.unwrap();
    query.send_keys("user.name:u2").await.unwrap();
    click(&client, "form[action='/hunt'] button").await;
    let summary = wait_text_starting(&client, "#hunt-summary", "3 matched").await;
    assert!(summary.starts_with("3 matched"), "{summary}");
    click(&client, "#save-hunt summary").await;
    for (field, value) in [
        ("#saved-name", "u2 logins"),
        ("#saved-cron", "*/30 * * * *"),
    ] {
        client
            .find(Locator::Css(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    click(&client, "#save-hunt button").await;
    for _ in 0..100 {
        if client
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/hunt/saved/")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        wait_text(&client, "#saved-query-text", "user.name:u2").await,
        "user.name:u2"
    );
    click(&client, "#run-now").await;
    let summary = wait_text_starting(&client, "#hunt-summary", "3 matched").await;
    assert!(summary.starts_with("3 matched"), "{summary}");
    assert!(client
        .find(Locator::Css("#saved-last-run"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("3 matched"));
    screenshot(&client, backend, "saved-hunt").await;
    client
        .goto(&format!("{}/hunt/saved", app.base))
        .await
        .unwrap();
    assert_eq!(
        wait_text(&client, "#saved-hunts tbody td a", "u2 logins").await,
        "u2 logins"
    );
    client.close().await.unwrap();
}

async fn an_analyst_reports_a_phish_in_chromium(app: &TestApp) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let backend = app.state.store.backend().as_str();
    let admin = app.admin_token().await;
    crate::phishing::set_settings(app, &admin).await;
    let eml = tempfile::Builder::new().suffix(".eml").tempfile().unwrap();
    std::fs::write(eml.path(), crate::phishing::PHISH).unwrap();

    let client = browser(&driver).await;
    client
        .goto(&format!("{}/phishing", app.base))
        .await
        .unwrap();
    sign_in_on_login_page(&client).await;
    assert_eq!(wait_path(&client, "/phishing").await, "/phishing");
    client
        .find(Locator::Css("#message-file"))
        .await
        .unwrap()
        .send_keys(&eml.path().to_string_lossy())
        .await
        .unwrap();
    click(&client, "form[action='/phishing'] button").await;
    let status = wait_text(&client, "p.ok", "Reported: the analysis is queued.").await;
    assert_eq!(status, "Reported: the analysis is queued.");
    let page = client.current_url().await.unwrap();
    let mut verdict = String::new();
    for _ in 0..100 {
        client.goto(page.as_str()).await.unwrap();
        verdict = client
            .find(Locator::Css("#verdict"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if verdict == "phishing"
            && client
                .find(Locator::Css("a[href^='/incidents/']"))
                .await
                .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(verdict, "phishing");
    let reasons = client
        .find(Locator::Css("#reasons"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(reasons.contains("lookalike_domain"), "{reasons}");
    // Links are shown as text, never as links to follow.
    let links = client
        .find(Locator::Css("#links"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        links.contains("http://198.51.100.7/paypal/login"),
        "{links}"
    );
    assert!(client
        .find(Locator::Css("a[href*='198.51.100.7']"))
        .await
        .is_err());
    screenshot(&client, backend, "phishing-report").await;
    click(&client, "form[action$='/watchlist'] button").await;
    let added = wait_text(&client, "p.ok", "Watchlist:").await;
    assert!(added.starts_with("Watchlist: "), "{added}");
    click(&client, "a[href^='/incidents/']").await;
    let title = client
        .wait()
        .for_element(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(title.starts_with("Phishing e-mail scored"), "{title}");
    screenshot(&client, backend, "phishing-incident").await;
    client.close().await.unwrap();
}

crate::on_every_backend!(
    an_analyst_reports_a_phish_in_chromium,
    an_analyst_extracts_indicators_in_chromium,
    an_analyst_watches_extracted_indicators_in_chromium,
    an_analyst_hunts_in_chromium,
    an_analyst_works_an_incident_and_searches_events_in_chromium,
    an_analyst_imports_a_report_and_decides_a_finding_in_chromium,
    an_admin_authorises_a_target_and_follows_a_scan_in_chromium,
);
