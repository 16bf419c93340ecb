//! The assets, imports and findings pages as a browser without JavaScript
//! uses them: adding an asset, uploading a real report (multipart, CSRF
//! token first), the findings list and one finding's reasons, decisions
//! by form, roles, escaping, and another organisation seeing nothing.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::ui::Browser;
use crate::vulns::sample;

/// The id at the end of a redirect such as `/assets/<id>`.
fn id_from(location: Option<&str>, prefix: &str) -> String {
    let location = location.expect("a redirect");
    location
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{location}"))
        .to_owned()
}

async fn findings_of(app: &TestApp, token: &str, filter: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/findings?limit=100&{filter}"), token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

async fn reports_are_uploaded_and_findings_decided_in_pages(app: &TestApp) {
    let admin = app.admin_token().await;
    let mut browser = Browser::new(app);
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let empty = browser.get("/assets").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.html.contains("No assets yet"), "{}", empty.html);

    // An asset by form; its name is escaped wherever it is shown.
    let csrf = browser.csrf();
    let created = browser
        .post(
            "/assets",
            &[
                ("csrf", &csrf),
                ("name", "shop <img src=x>"),
                ("kind", "container_image"),
                ("identifiers", "registry.example/shop:1.4\n\n10.0.0.7 "),
                ("criticality", "5"),
                ("exposure", "internet"),
                ("owner", "team-shop"),
                ("tags", "pci, prod,"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    let asset = id_from(created.location.as_deref(), "/assets/");
    let api_asset = app.get(&format!("/api/v1/assets/{asset}"), &admin).await;
    assert_eq!(api_asset.body["criticality"], 5);
    assert_eq!(api_asset.body["exposure"], "internet");
    assert_eq!(
        api_asset.body["identifiers"],
        serde_json::json!(["registry.example/shop:1.4", "10.0.0.7"])
    );
    assert_eq!(api_asset.body["tags"], serde_json::json!(["pci", "prod"]));
    let page = browser.get(&format!("/assets/{asset}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("shop &lt;img src=x&gt;"));
    assert!(!page.html.contains("<img src=x>"));
    assert!(page.html.contains("5 of 5"));
    assert!(page.html.contains("No imports yet"));

    // A bad criticality is named; nothing changes.
    let csrf = browser.csrf();
    let bad = browser
        .post(
            &format!("/assets/{asset}"),
            &[
                ("csrf", &csrf),
                ("name", "shop <img src=x>"),
                ("kind", "container_image"),
                ("criticality", "9"),
                ("exposure", "internet"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.html.contains("criticality"), "{}", bad.html);

    // A report cut in half is refused with its line; nothing is stored.
    let grype = sample("grype", "many_vulns4.json");
    let cut = &grype[..grype.len() / 2];
    let line = 1 + cut.iter().filter(|&&b| b == b'\n').count();
    let asset_name = "shop <img src=x>";
    let refused = browser
        .post_multipart(
            "/imports/upload",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("asset", None, asset_name.as_bytes()),
                ("format", None, b""),
                ("report", Some("grype.json"), cut),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(
        refused.html.contains(&format!("line {line}")),
        "{}",
        refused.html
    );
    assert!(findings_of(app, &admin, "").await.is_empty());

    // Without this browser's CSRF token first, the upload is refused
    // before the file is read.
    let forged = browser
        .post_multipart(
            "/imports/upload",
            &[
                ("asset", None, asset_name.as_bytes()),
                ("report", Some("grype.json"), &grype),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let forged = browser
        .post_multipart(
            "/imports/upload",
            &[
                ("csrf", None, b"not-the-token"),
                ("asset", None, asset_name.as_bytes()),
                ("report", Some("grype.json"), &grype),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(findings_of(app, &admin, "").await.is_empty());

    // The real report, detected, into the asset.
    let done = browser
        .post_multipart(
            "/imports/upload",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("asset", None, asset_name.as_bytes()),
                ("format", None, b""),
                ("scan_type", None, b"image"),
                ("report", Some("many_vulns4.json"), &grype),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert!(
        done.html
            .contains("Imported 9 findings from grype (grype): 9 new, 0 unchanged"),
        "{}",
        done.html
    );
    assert!(done.html.contains("many_vulns4.json"));
    let findings = findings_of(app, &admin, "").await;
    assert_eq!(findings.len(), 9);
    assert!(findings.iter().all(|f| f["asset_id"] == asset.as_str()));
    assert!(findings.iter().all(|f| f["scan_type"] == "image"));
    // The same file again, partial: all unchanged.
    let again = browser
        .post_multipart(
            "/imports/upload",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("asset", None, asset_name.as_bytes()),
                ("scan_type", None, b"image"),
                ("partial", None, b"true"),
                ("report", Some("many_vulns4.json"), &grype),
            ],
        )
        .await;
    assert!(
        again
            .html
            .contains("9 findings from grype (grype): 0 new, 9 unchanged"),
        "{}",
        again.html
    );
    let imports = browser.get("/imports").await;
    assert_eq!(imports.status, StatusCode::OK);
    assert_eq!(imports.html.matches("many_vulns4.json").count(), 2);

    // The list, highest priority first, with filters.
    let list = browser.get("/findings").await;
    assert_eq!(list.status, StatusCode::OK);
    let top = &findings[0];
    let top_title = top["report"]["title"].as_str().unwrap();
    assert!(list.html.contains("CVE-2021-29940"), "{}", list.html);
    let body = list.html.find("<tbody").unwrap();
    let first_row = body + list.html[body..].find("/findings/").unwrap();
    assert!(
        list.html[first_row..].starts_with(&format!("/findings/{}", top["id"].as_str().unwrap())),
        "the first row is the highest priority"
    );
    let critical = browser.get("/findings?severity=critical").await;
    let table = &critical.html[critical.html.find("<tbody").unwrap()..];
    let critical_rows = table.matches("href=\"/findings/").count();
    let critical_api = findings_of(app, &admin, "severity=critical").await.len();
    assert_eq!(critical_rows, critical_api);
    let nothing = browser.get("/findings?cve=CVE-1999-0001").await;
    assert!(nothing.html.contains("No findings match"));
    let bad_filter = browser.get("/findings?severity=urgent").await;
    assert!(
        bad_filter.html.contains("role=\"alert\""),
        "{}",
        bad_filter.html
    );

    // One finding, with every contribution to its priority.
    let id = top["id"].as_str().unwrap();
    let page = browser.get(&format!("/findings/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .html
        .contains(&format!("Why priority {}", top["priority"]["score"])));
    assert!(page
        .html
        .contains(&maud::html! { (top_title) }.into_string()));
    for c in top["priority"]["contributions"].as_array().unwrap() {
        let reason = maud::html! { (c["reason"].as_str().unwrap()) }.into_string();
        assert!(page.html.contains(&reason), "{reason}");
    }

    // Decisions: a false positive needs a reason; with one it holds.
    let csrf = browser.csrf();
    let no_reason = browser
        .post(
            &format!("/findings/{id}/status"),
            &[
                ("csrf", &csrf),
                ("status", "false_positive"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(
        no_reason.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_reason.html
    );
    let accepted = browser
        .post(
            &format!("/findings/{id}/status"),
            &[
                ("csrf", &csrf),
                ("status", "risk_accepted"),
                ("reason", "behind the WAF until the upgrade"),
                ("risk_accepted_until", "2099-03-01"),
            ],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.html);
    let f = app.get(&format!("/api/v1/findings/{id}"), &admin).await;
    assert_eq!(f.body["status"], "risk_accepted");
    assert_eq!(f.body["risk_accepted_until"], "2099-03-01T00:00:00Z");
    let page = browser.get(&format!("/findings/{id}")).await;
    assert!(page.html.contains("behind the WAF until the upgrade"));
    let forged = browser
        .post(
            &format!("/findings/{id}/status"),
            &[("csrf", "forged"), ("status", "open")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let active = findings_of(app, &admin, "status=active").await;
    assert_eq!(active.len(), 8);

    // Changing the asset's criticality changes the priorities.
    let csrf = browser.csrf();
    let changed = browser
        .post(
            &format!("/assets/{asset}"),
            &[
                ("csrf", &csrf),
                ("name", "shop"),
                ("kind", "container_image"),
                ("identifiers", ""),
                ("criticality", "1"),
                ("exposure", "internal"),
                ("owner", ""),
                ("tags", ""),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.html);
    let lowered = findings_of(app, &admin, "status=active").await;
    let before: u64 = active
        .iter()
        .map(|f| f["priority"]["score"].as_u64().unwrap())
        .sum();
    let after: u64 = lowered
        .iter()
        .map(|f| f["priority"]["score"].as_u64().unwrap())
        .sum();
    assert!(after < before, "{after} < {before}");
    let a = app.get(&format!("/api/v1/assets/{asset}"), &admin).await;
    assert_eq!(a.body["owner"], Value::Null);
    assert_eq!(a.body["name"], "shop");

    // Deleting the asset removes its findings.
    let deleted = browser
        .post(&format!("/assets/{asset}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(findings_of(
        app,
        &admin,
        "status=open,reopened,mitigated,false_positive,risk_accepted"
    )
    .await
    .is_empty());
}

async fn viewers_read_and_other_organisations_see_nothing(app: &TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post_bytes(
            "/api/v1/imports?asset=web-shop",
            &admin,
            "application/octet-stream",
            None,
            sample("grype", "many_vulns4.json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let asset = r.body["asset"]["id"].as_str().unwrap().to_owned();
    let finding = findings_of(app, &admin, "").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A viewer reads the pages, without the forms, and cannot change.
    app.create_user(&admin, "vuln-viewer@localhost", "viewer")
        .await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("vuln-viewer@localhost", "user-password-123")
        .await;
    let page = viewer.get(&format!("/assets/{asset}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("Import a report"));
    let page = viewer.get(&format!("/findings/{finding}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("action=\"/findings/"));
    let csrf = viewer.csrf();
    let refused = viewer
        .post(
            &format!("/findings/{finding}/status"),
            &[
                ("csrf", &csrf),
                ("status", "false_positive"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = viewer
        .post(&format!("/assets/{asset}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Another organisation's admin finds none of it.
    app.second_org("vulnpages").await;
    let mut other = Browser::new(app);
    other
        .sign_in("admin@vulnpages.test", "other-admin-pass-1")
        .await;
    for path in [format!("/assets/{asset}"), format!("/findings/{finding}")] {
        let page = other.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    for path in [
        "/assets".to_owned(),
        "/imports".to_owned(),
        format!("/findings?asset_id={asset}"),
        "/findings".to_owned(),
    ] {
        let page = other.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.html.contains("web-shop"), "{path}");
        assert!(!page.html.contains(&finding), "{path}");
    }
    let csrf = other.csrf();
    for (path, form) in [
        (
            format!("/findings/{finding}/status"),
            vec![
                ("csrf", csrf.as_str()),
                ("status", "false_positive"),
                ("reason", "x"),
            ],
        ),
        (
            format!("/assets/{asset}/delete"),
            vec![("csrf", csrf.as_str())],
        ),
    ] {
        let page = other.post(&path, &form).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    // The other organisation's upload under the same name is its own.
    let done = other
        .post_multipart(
            "/imports/upload",
            &[
                ("csrf", None, csrf.as_bytes()),
                ("asset", None, b"web-shop"),
                (
                    "report",
                    Some("r.json"),
                    &sample("grype", "many_vulns4.json"),
                ),
            ],
        )
        .await;
    assert!(done.html.contains("9 new"), "{}", done.html);
    let f = app
        .get(&format!("/api/v1/findings/{finding}"), &admin)
        .await;
    assert_eq!(f.body["status"], "open");
    assert_eq!(findings_of(app, &admin, "").await.len(), 9);
}

/// The findings page offers its selection as files, and an import's page
/// says what it changed; another organisation gets neither.
async fn findings_download_and_imports_show_what_changed(app: &TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post_bytes(
            "/api/v1/imports?asset=download-image",
            &admin,
            "application/json",
            None,
            sample("grype", "many_vulns4.json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let import = r.body["import_id"].as_str().unwrap().to_owned();
    let mut browser = Browser::new(app);
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let list = browser.get("/findings").await;
    assert!(
        list.html
            .contains("href=\"/findings/export/csv?status=active\""),
        "{}",
        list.html
    );
    let csv = browser.get("/findings/export/csv?status=active").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.html.starts_with("id,asset,scan_type"), "{}", csv.html);
    assert_eq!(csv.html.lines().count(), 10);
    let sarif = browser
        .get("/findings/export/sarif?status=active&band=critical")
        .await;
    assert_eq!(sarif.status, StatusCode::OK);
    assert!(sarif.html.contains("\"version\": \"2.1.0\""));
    let bad = browser.get("/findings/export/xls").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let changed = browser.get(&format!("/imports/{import}")).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert!(
        changed.html.contains("New (9)") && changed.html.contains("Fixed (0)"),
        "{}",
        changed.html
    );

    app.second_org("downloads-elsewhere").await;
    let mut other = Browser::new(app);
    other
        .sign_in("admin@downloads-elsewhere.test", "other-admin-pass-1")
        .await;
    assert_eq!(
        other.get(&format!("/imports/{import}")).await.status,
        StatusCode::NOT_FOUND
    );
    let theirs = other.get("/findings/export/csv").await;
    assert_eq!(theirs.html.lines().count(), 1, "the header only");
}

/// The findings policy page: everyone reads it, admins change it, bad
/// values are named; the findings list shows each deadline.
async fn the_findings_policy_page_edits_deadlines_and_phrases(app: &TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post_bytes(
            "/api/v1/imports?asset=policy-page",
            &admin,
            "application/json",
            None,
            sample("grype", "many_vulns4.json"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let mut browser = Browser::new(app);
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = browser.get("/findings/policy").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html.contains("8 remote code execution"),
        "{}",
        page.html
    );
    let csrf = browser.csrf();
    let form = |critical: &'static str, phrases: &'static str| {
        vec![
            ("critical", critical),
            ("high", "30"),
            ("medium", "90"),
            ("low", ""),
            ("info", ""),
            ("expiry_warning_days", "14"),
            ("phrases", phrases),
        ]
    };
    let mut bad = form("soon", "");
    bad.push(("csrf", &csrf));
    let refused = browser.post("/findings/policy", &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.html.contains("a number of days"),
        "{}",
        refused.html
    );
    let mut good = form("3", "12 buffer overflow\n5 <b>denial</b> of service");
    good.push(("csrf", &csrf));
    let saved = browser.post("/findings/policy", &good).await;
    assert_eq!(saved.status, StatusCode::OK);
    assert!(saved.html.contains("Saved."));
    assert!(
        saved
            .html
            .contains("5 &lt;b&gt;denial&lt;/b&gt; of service"),
        "escaped: {}",
        saved.html
    );
    let policy = app.get("/api/v1/findings/policy", &admin).await;
    assert_eq!(policy.body["sla_days"]["critical"], 3);
    assert_eq!(policy.body["sla_days"]["low"], serde_json::Value::Null);
    assert_eq!(policy.body["expiry_warning_days"], 14);
    let list = browser.get("/findings").await;
    assert!(list.html.contains("<th>Due</th>"));

    app.create_user(&admin, "policy-viewer@localhost", "viewer")
        .await;
    let mut viewer = Browser::new(app);
    viewer
        .sign_in("policy-viewer@localhost", "user-password-123")
        .await;
    let shown = viewer.get("/findings/policy").await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(!shown.html.contains(">Save<"));
    let mut attempt = form("1", "");
    let csrf = viewer.csrf();
    attempt.push(("csrf", &csrf));
    assert_eq!(
        viewer.post("/findings/policy", &attempt).await.status,
        StatusCode::FORBIDDEN
    );
}

crate::on_every_backend!(
    reports_are_uploaded_and_findings_decided_in_pages,
    viewers_read_and_other_organisations_see_nothing,
    findings_download_and_imports_show_what_changed,
    the_findings_policy_page_edits_deadlines_and_phrases,
);
