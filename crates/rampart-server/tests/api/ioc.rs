//! `POST /api/v1/ioc/extract`: any signed-in user (a viewer too) gets the
//! indicators of a pasted text with their words and confidence; nothing
//! is stored; bad bodies are problems naming the field; no token, 401.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

async fn pasted_text_gives_its_indicators(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "viewer@example.com", "viewer")
        .await;
    let viewer = app.token("viewer@example.com", "user-password-123").await;
    let text = "Stage 2 from hxxps://cdn-update[.]net/p.bin (185.220.101[.]47), \
                sha256 E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855; \
                ran invoice.zip; see CVE-2024-3094";
    let r = app
        .request(
            reqwest::Method::POST,
            "/api/v1/ioc/extract",
            Some(&viewer),
            Some(json!({ "text": text })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body["summary"]["url"],
        json!(["https://cdn-update.net/p.bin"])
    );
    assert_eq!(r.body["summary"]["domain"], json!(["cdn-update.net"]));
    assert_eq!(r.body["summary"]["ipv4"], json!(["185.220.101.47"]));
    assert_eq!(
        r.body["summary"]["sha256"],
        json!(["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"])
    );
    assert_eq!(r.body["summary"]["cve"], json!(["CVE-2024-3094"]));
    let url = &r.body["indicators"][0];
    assert_eq!(url["kind"], "url");
    assert_eq!(url["original"], "hxxps://cdn-update[.]net/p.bin");
    assert_eq!(url["confidence"], "defanged");
    let start = url["start"].as_u64().unwrap() as usize;
    let end = url["end"].as_u64().unwrap() as usize;
    assert_eq!(&text[start..end], "hxxps://cdn-update[.]net/p.bin");

    let missing = app
        .request(
            reqwest::Method::POST,
            "/api/v1/ioc/extract",
            Some(&viewer),
            Some(json!({ "txt": "x" })),
        )
        .await;
    assert_eq!(
        missing.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        missing.body
    );
    let anonymous = app
        .request(
            reqwest::Method::POST,
            "/api/v1/ioc/extract",
            None,
            Some(json!({ "text": "x" })),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

/// The Indicators page: a viewer extracts; markup in the paste is
/// escaped; a forged CSRF token is refused; signed out, the sign-in page.
async fn the_indicators_page_escapes_and_checks_its_token(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "page-viewer@example.com", "viewer")
        .await;
    let mut browser = crate::ui::Browser::new(app);
    let signed_out = browser.get("/ioc").await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    browser
        .sign_in("page-viewer@example.com", "user-password-123")
        .await;
    let form = browser.get("/ioc").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.html.contains("action=\"/ioc\""));
    let csrf = browser.csrf();
    let text = "<script>alert(1)</script> hxxp://evil[.]com/<b>";
    let page = browser
        .post("/ioc", &[("csrf", &csrf), ("text", text)])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("http://evil.com/"), "{}", page.html);
    assert!(!page.html.contains("<script>alert(1)"), "markup is escaped");
    assert!(page.html.contains("&lt;script&gt;"));
    let forged = browser
        .post("/ioc", &[("csrf", "0000"), ("text", text)])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!forged.html.contains("http://evil.com/"));
}

crate::on_every_backend!(
    pasted_text_gives_its_indicators,
    the_indicators_page_escapes_and_checks_its_token,
);
