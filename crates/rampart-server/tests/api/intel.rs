//! Threat intelligence reaches priorities: the real KEV catalogue and an
//! EPSS file loaded by the operator raise the findings that name their
//! CVEs in every organisation (with the reason shown), imports after the
//! load use it, and `/api/v1/intel` shows what is loaded.

use std::io::Read;

use rampart_core::intel::IntelSourceName;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::ui::Browser;
use crate::vulns::sample;

fn kev_catalogue() -> Vec<u8> {
    let path = format!(
        "{}/../rampart-scan/tests/data/cisa-kev/known_exploited_vulnerabilities.json.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The one finding of the asset that names `cve`.
async fn finding_naming(app: &TestApp, token: &str, asset: &str, cve: &str) -> Value {
    let list = app
        .get(
            &format!("/api/v1/findings?cve={cve}&asset_id={asset}&limit=10"),
            token,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let items: Vec<&Value> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["asset_id"] == asset)
        .collect();
    assert_eq!(items.len(), 1, "{:?}", list.body);
    items[0].clone()
}

fn reasons(finding: &Value) -> Vec<String> {
    finding["priority"]["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["effect"].as_str().unwrap(),
                c["reason"].as_str().unwrap()
            )
        })
        .collect()
}

async fn import_trivy(app: &TestApp, token: &str, asset: &str) -> String {
    let reply = app
        .post_bytes(
            &format!("/api/v1/imports?asset={asset}"),
            token,
            "application/json",
            None,
            sample("trivy", "scheme_2_many_vulns.json"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["asset"]["id"].as_str().unwrap().to_owned()
}

async fn intelligence_raises_the_findings_it_names(app: &TestApp) {
    let admin = app.admin_token().await;
    let other = app.second_org("other").await;
    let ours = import_trivy(app, &admin, "teamdojo").await;
    let theirs = import_trivy(app, &other, "their-image").await;
    let before = finding_naming(app, &admin, &ours, "CVE-2020-15999").await;
    assert!(
        !reasons(&before)
            .iter()
            .any(|r| r.contains("Known Exploited")),
        "{before:?}"
    );

    let sources = app.get("/api/v1/intel", &admin).await;
    assert_eq!(sources.status, StatusCode::OK);
    assert_eq!(sources.body, serde_json::json!([]));
    let mut browser = Browser::new(app);
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = browser.get("/findings").await;
    assert!(
        page.html.contains("No threat intelligence is loaded"),
        "{}",
        page.html
    );

    let load = app
        .state
        .vulnerabilities
        .load_intel(IntelSourceName::Kev, kev_catalogue())
        .await
        .unwrap();
    assert_eq!(load.source.version, "2025.08.25");
    assert_eq!(load.source.rows, 1404);
    assert_eq!(load.rescored, 2, "one finding in each organisation");

    let after = finding_naming(app, &admin, &ours, "CVE-2020-15999").await;
    let kev_reason = "+25 listed in CISA's Known Exploited Vulnerabilities \
                      (CVE-2020-15999 since 2021-11-03)";
    assert!(
        reasons(&after).contains(&kev_reason.to_owned()),
        "{:?}",
        reasons(&after)
    );
    assert!(
        after["priority"]["score"].as_u64().unwrap()
            > before["priority"]["score"].as_u64().unwrap()
    );
    let page = browser.get("/findings").await;
    assert!(
        page.html
            .contains("CISA KEV catalogue 2025.08.25 (1404 CVEs)"),
        "{}",
        page.html
    );
    let shown = browser
        .get(&format!("/findings/{}", after["id"].as_str().unwrap()))
        .await;
    assert!(
        shown
            .html
            .contains("listed in CISA&#39;s Known Exploited Vulnerabilities")
            || shown
                .html
                .contains("listed in CISA's Known Exploited Vulnerabilities"),
        "{}",
        shown.html
    );
    let theirs_after = finding_naming(app, &other, &theirs, "CVE-2020-15999").await;
    assert!(reasons(&theirs_after).contains(&kev_reason.to_owned()));

    // An EPSS file (as served: gzip) adds its probability with its percentile.
    let csv = "#model_version:v2025.03.14,score_date:2026-12-01T12:55:00Z\n\
               cve,epss,percentile\nCVE-2020-15999,0.93512,0.99843\nCVE-2021-44228,0.94358,0.99961\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, csv.as_bytes()).unwrap();
    let load = app
        .state
        .vulnerabilities
        .load_intel(IntelSourceName::Epss, gz.finish().unwrap())
        .await
        .unwrap();
    assert_eq!(load.source.rows, 2);
    assert_eq!(load.rescored, 2);
    let with_epss = finding_naming(app, &admin, &ours, "CVE-2020-15999").await;
    assert!(
        reasons(&with_epss).contains(&"+19 EPSS 0.94 (above 99% of CVEs)".to_owned()),
        "{:?}",
        reasons(&with_epss)
    );
    // Loading the same release again changes nothing.
    let again = app
        .state
        .vulnerabilities
        .load_intel(IntelSourceName::Kev, kev_catalogue())
        .await
        .unwrap();
    assert_eq!(again.rescored, 0);

    // An import after the load is scored with it from the start.
    let fresh = import_trivy(app, &admin, "teamdojo-next").await;
    let new_one = finding_naming(app, &admin, &fresh, "CVE-2020-15999").await;
    assert_eq!(new_one["priority"], with_epss["priority"]);

    // What is loaded, and what is known about a CVE, for any reader.
    app.create_user(&admin, "viewer@localhost", "viewer").await;
    let viewer = app.token("viewer@localhost", "user-password-123").await;
    let sources = app.get("/api/v1/intel", &viewer).await;
    assert_eq!(sources.status, StatusCode::OK);
    assert_eq!(sources.body[0]["source"], "kev");
    assert_eq!(sources.body[0]["version"], "2025.08.25");
    assert_eq!(sources.body[1]["source"], "epss");
    assert_eq!(sources.body[1]["version"], "v2025.03.14");
    let cve = app.get("/api/v1/intel/cves/cve-2021-44228", &viewer).await;
    assert_eq!(cve.status, StatusCode::OK);
    assert_eq!(cve.body["cve"], "CVE-2021-44228");
    assert_eq!(cve.body["kev"]["vendor"], "Apache");
    assert_eq!(cve.body["kev"]["ransomware"], true);
    assert_eq!(cve.body["epss"]["epss"], 0.94358);
    let unknown = app.get("/api/v1/intel/cves/CVE-1999-0001", &viewer).await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(unknown.body["kev"], Value::Null);
    let bad = app.get("/api/v1/intel/cves/log4shell", &viewer).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["field"], "cve");
    let anonymous = app
        .client
        .get(format!("{}/api/v1/intel", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn a_bad_file_is_named_and_changes_nothing(app: &TestApp) {
    let kev = kev_catalogue();
    app.state
        .vulnerabilities
        .load_intel(IntelSourceName::Kev, kev.clone())
        .await
        .unwrap();
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(kev.as_slice())
        .read_to_end(&mut text)
        .unwrap();
    text.truncate(text.len() / 3);
    let error = app
        .state
        .vulnerabilities
        .load_intel(IntelSourceName::Kev, text)
        .await
        .unwrap_err();
    assert_eq!(error.code, "invalid_intel");
    assert!(error.line.is_some(), "{error:?}");
    let epss = app
        .state
        .vulnerabilities
        .load_intel(
            IntelSourceName::Epss,
            b"cve,epss,percentile\nCVE-2021-44228,0.9,0.9\nCVE-2021-1,0.9,0.9\n".to_vec(),
        )
        .await
        .unwrap_err();
    assert_eq!(epss.line, Some(3));
    let admin = app.admin_token().await;
    let sources = app.get("/api/v1/intel", &admin).await;
    assert_eq!(
        sources.body.as_array().unwrap().len(),
        1,
        "the KEV release stays"
    );
    assert_eq!(sources.body[0]["rows"], 1404);
}

crate::on_every_backend!(
    intelligence_raises_the_findings_it_names,
    a_bad_file_is_named_and_changes_nothing,
);
