//! `/api/v1/assets`, `/api/v1/imports` and `/api/v1/findings`: real
//! scanner reports (DefectDojo's test files) imported, re-imported,
//! partly fixed and back; analysts' decisions surviving imports; bad
//! reports named by line; and another organisation seeing none of it.

use std::io::Read;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

/// A DefectDojo sample report from rampart-scan's test data, unpacked.
pub fn sample(format: &str, file: &str) -> Vec<u8> {
    let path = format!(
        "{}/../rampart-scan/tests/data/defectdojo/{format}/{file}.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let packed = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(packed.as_slice())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The Grype report with the matches for which `keep` says yes.
fn grype_without(report: &[u8], drop: &[&str]) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(report).unwrap();
    doc["matches"]
        .as_array_mut()
        .unwrap()
        .retain(|m| !drop.contains(&m["vulnerability"]["id"].as_str().unwrap()));
    serde_json::to_vec(&doc).unwrap()
}

async fn import(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> Reply {
    app.post_bytes(
        &format!("/api/v1/imports?{query}"),
        token,
        "application/octet-stream",
        None,
        body,
    )
    .await
}

fn counts(reply: &Reply) -> [u64; 5] {
    ["findings", "new", "unchanged", "reopened", "closed"].map(|k| {
        reply.body[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {:?}", reply.body))
    })
}

/// Every finding of a filtered list, page after page.
async fn all_findings(app: &TestApp, token: &str, filter: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/findings?limit=4&{filter}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&path, token).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {:?}", page.body);
        out.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

async fn reports_are_imported_deduplicated_and_closed(app: &TestApp) {
    let admin = app.admin_token().await;
    let analyst_id = app
        .create_user(&admin, "vuln-analyst@localhost", "analyst")
        .await;
    let analyst = app
        .token("vuln-analyst@localhost", "user-password-123")
        .await;
    let grype = sample("grype", "many_vulns4.json");

    // The first import creates the asset (a container image, from the format).
    let first = import(
        app,
        &analyst,
        "asset=registry.local/shop:1.4&file_name=grype.json",
        grype.clone(),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["format"], "grype");
    assert_eq!(first.body["tool"], "grype");
    assert_eq!(first.body["scan_type"], "grype");
    assert_eq!(first.body["asset_created"], true);
    assert_eq!(first.body["asset"]["kind"], "container_image");
    assert_eq!(counts(&first), [9, 9, 0, 0, 0]);
    let asset_id = first.body["asset"]["id"].as_str().unwrap().to_owned();

    // The same report again changes nothing.
    let again = import(
        app,
        &analyst,
        "asset=registry.local/shop:1.4",
        grype.clone(),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.body);
    assert_eq!(again.body["asset_created"], false);
    assert_eq!(counts(&again), [9, 0, 9, 0, 0]);

    // Every finding is listed once, highest priority first, with reasons.
    let listed = all_findings(app, &analyst, &format!("asset_id={asset_id}")).await;
    assert_eq!(listed.len(), 9);
    let scores: Vec<u64> = listed
        .iter()
        .map(|f| f["priority"]["score"].as_u64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(listed.iter().all(|f| !f["priority"]["contributions"]
        .as_array()
        .unwrap()
        .is_empty()));
    let critical = all_findings(app, &analyst, "severity=critical").await;
    let mut ids: Vec<&str> = critical
        .iter()
        .map(|f| f["report"]["vulnerability_ids"][0].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["CVE-2021-29940", "GHSA-8v27-2fg9-7h62"]);
    let by_cve = all_findings(app, &analyst, "cve=cve-2021-32626").await;
    assert_eq!(by_cve.len(), 1);
    assert_eq!(by_cve[0]["report"]["component"], "redis");
    // An advisory a later report adds to a finding finds it; once the
    // report drops it again, it no longer does.
    let mut doc: Value = serde_json::from_slice(&grype).unwrap();
    let redis = doc["matches"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["vulnerability"]["id"] == "CVE-2021-32626")
        .unwrap();
    redis["relatedVulnerabilities"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"id": "CVE-2099-0001", "namespace": "nvd:cpe"}));
    let aliased = serde_json::to_vec(&doc).unwrap();
    import(app, &analyst, "asset=registry.local/shop:1.4", aliased).await;
    let by_alias = all_findings(app, &analyst, "cve=CVE-2099-0001").await;
    assert_eq!(by_alias.len(), 1);
    assert_eq!(by_alias[0]["report"]["component"], "redis");
    import(
        app,
        &analyst,
        "asset=registry.local/shop:1.4",
        grype.clone(),
    )
    .await;
    assert!(all_findings(app, &analyst, "cve=CVE-2099-0001")
        .await
        .is_empty());
    assert_eq!(
        all_findings(app, &analyst, "cve=cve-2021-32626")
            .await
            .len(),
        1
    );
    assert_eq!(all_findings(app, &analyst, "q=pdfkit").await.len(), 1);
    assert!(all_findings(app, &analyst, "q=no-such-component")
        .await
        .is_empty());

    // A fixed dependency is missing from the next full report: closed.
    let fixed = grype_without(&grype, &["CVE-2021-32626", "CVE-2007-2405"]);
    let partial = import(
        app,
        &analyst,
        "asset=registry.local/shop:1.4",
        fixed.clone(),
    )
    .await;
    assert_eq!(counts(&partial), [7, 0, 7, 0, 2]);
    assert_eq!(all_findings(app, &analyst, "status=active").await.len(), 7);
    let mitigated = all_findings(app, &analyst, "status=mitigated").await;
    assert_eq!(mitigated.len(), 2);
    assert!(mitigated.iter().all(|f| !f["closed_at"].is_null()));

    // A partial report (full=false) closes nothing.
    let one = grype_without(
        &grype,
        &[
            "CVE-1999-1338",
            "CVE-2002-1647",
            "CVE-2005-0036",
            "CVE-2005-0861",
            "CVE-2014-5509",
            "CVE-2021-29940",
            "GHSA-8v27-2fg9-7h62",
            "CVE-2021-32626",
        ],
    );
    let partial = import(
        app,
        &analyst,
        "asset=registry.local/shop:1.4&full=false",
        one,
    )
    .await;
    assert_eq!(counts(&partial), [1, 0, 0, 1, 0], "{:?}", partial.body);
    assert_eq!(
        all_findings(app, &analyst, "status=reopened").await.len(),
        1
    );

    // The regression comes back in the whole report: reopened.
    let back = import(
        app,
        &analyst,
        "asset=registry.local/shop:1.4",
        grype.clone(),
    )
    .await;
    assert_eq!(counts(&back), [9, 0, 8, 1, 0]);
    assert_eq!(all_findings(app, &analyst, "status=active").await.len(), 9);

    // Another scan type on the same asset keeps its own findings.
    let sarif = import(
        app,
        &analyst,
        "asset=registry.local/shop:1.4&scan_type=codeql",
        sample("sarif", "appendix_k1.sarif"),
    )
    .await;
    assert_eq!(sarif.status, StatusCode::CREATED, "{:?}", sarif.body);
    assert_eq!(sarif.body["format"], "sarif");
    assert_eq!(sarif.body["scan_type"], "codeql");
    assert_eq!(counts(&grype_again(app, &analyst, &grype).await)[2], 9);

    // The import log, newest first.
    let log = app
        .get(&format!("/api/v1/imports?asset_id={asset_id}"), &analyst)
        .await;
    assert_eq!(log.status, StatusCode::OK);
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 9);
    assert_eq!(items[8]["file_name"], "grype.json");
    assert_eq!(items[8]["actor"], format!("user:{analyst_id}"));
    assert_eq!(items[1]["scan_type"], "codeql");
}

async fn grype_again(app: &TestApp, token: &str, grype: &[u8]) -> Reply {
    let r = import(app, token, "asset=registry.local/shop:1.4", grype.to_vec()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r
}

async fn decisions_survive_imports(app: &TestApp) {
    let admin = app.admin_token().await;
    let grype = sample("grype", "many_vulns4.json");
    let first = import(app, &admin, "asset=api-image", grype.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let findings = all_findings(app, &admin, "").await;
    let id_of = |cve: &str| {
        findings
            .iter()
            .find(|f| f["report"]["vulnerability_ids"][0] == cve)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (fp, accepted) = (id_of("CVE-1999-1338"), id_of("CVE-2021-29940"));
    let patch = |id: &str, body: Value| {
        let path = format!("/api/v1/findings/{id}");
        let admin = admin.clone();
        async move {
            app.request(Method::PATCH, &path, Some(&admin), Some(body))
                .await
        }
    };
    // A decision needs a reason; an accepted risk a future review date.
    for (id, body, field) in [
        (&fp, json!({"status": "false_positive"}), "reason"),
        (
            &accepted,
            json!({"status": "risk_accepted", "reason": "behind the WAF"}),
            "risk_accepted_until",
        ),
        (
            &accepted,
            json!({"status": "risk_accepted", "reason": "x", "risk_accepted_until": "2001-01-01T00:00:00Z"}),
            "risk_accepted_until",
        ),
        (
            &fp,
            json!({"status": "open", "risk_accepted_until": "2999-01-01T00:00:00Z"}),
            "risk_accepted_until",
        ),
    ] {
        let r = patch(id, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.body["field"], field, "{:?}", r.body);
    }
    let r = patch(
        &fp,
        json!({"status": "false_positive", "reason": "not reachable: the binary is not shipped"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "false_positive");
    let r = patch(
        &accepted,
        json!({"status": "risk_accepted", "reason": "behind the WAF", "risk_accepted_until": "2999-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    // Seen again, and even missing then back: the decisions stay.
    let again = import(app, &admin, "asset=api-image", grype.clone()).await;
    assert_eq!(counts(&again), [9, 0, 9, 0, 0]);
    let without = grype_without(&grype, &["CVE-1999-1338"]);
    let closed = import(app, &admin, "asset=api-image", without).await;
    assert_eq!(counts(&closed)[4], 0, "a false positive is not closed");
    let back = import(app, &admin, "asset=api-image", grype).await;
    assert_eq!(counts(&back), [9, 0, 9, 0, 0]);
    let f = app.get(&format!("/api/v1/findings/{fp}"), &admin).await;
    assert_eq!(f.body["status"], "false_positive");
    assert_eq!(
        f.body["status_reason"],
        "not reachable: the binary is not shipped"
    );
    let a = app
        .get(&format!("/api/v1/findings/{accepted}"), &admin)
        .await;
    assert_eq!(a.body["status"], "risk_accepted");
    assert_eq!(a.body["risk_accepted_until"], "2999-01-01T00:00:00Z");
    assert_eq!(all_findings(app, &admin, "status=active").await.len(), 7);

    // Audited.
    let audit = app
        .get(
            &format!("/api/v1/audit?target_type=finding&target_id={fp}"),
            &admin,
        )
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{:?}", audit.body);
    assert_eq!(audit.body["items"][0]["action"], "finding.update");

    // Opened again by the analyst: active once more.
    let r = patch(&fp, json!({"status": "open"})).await;
    assert_eq!(r.body["status"], "open");
    assert!(r.body["status_reason"].is_null());
}

async fn bad_reports_are_named_and_change_nothing(app: &TestApp) {
    let admin = app.admin_token().await;
    let grype = sample("grype", "many_vulns4.json");
    // Cut in the middle: the line where it ends.
    let cut = grype[..grype.len() / 2].to_vec();
    let line = 1 + cut.iter().filter(|&&b| b == b'\n').count();
    let r = import(app, &admin, "asset=broken", cut).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.body["code"], "invalid_report");
    assert_eq!(r.body["field"], "report");
    assert_eq!(r.body["line"], line, "{:?}", r.body);
    let r = import(app, &admin, "asset=broken", b"{\"hello\": 1}".to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.body["code"], "invalid_report");
    let r = import(app, &admin, "asset=broken", Vec::new()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["field"], "report");
    let r = import(app, &admin, "asset=broken&format=nessus9", grype.clone()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["field"], "format");
    // A Grype report named as SARIF is read as SARIF, and refused.
    let r = import(app, &admin, "asset=broken&format=sarif", grype.clone()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    let r = import(app, &admin, "format=grype", grype.clone()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = import(app, &admin, "asset=%20%20", grype).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["field"], "asset");
    // Nothing was stored, not even the asset.
    let assets = app.get("/api/v1/assets", &admin).await;
    assert_eq!(assets.body["items"], json!([]));
    assert_eq!(all_findings(app, &admin, "").await.len(), 0);
    // Filters are checked too.
    for bad in [
        "status=fixed",
        "severity=urgent",
        "min_priority=101",
        "limit=0",
        "cursor=garbage",
    ] {
        let r = app.get(&format!("/api/v1/findings?{bad}"), &admin).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {:?}", r.body);
    }
}

async fn assets_are_managed_and_shape_priorities(app: &TestApp) {
    let admin = app.admin_token().await;
    let created = app
        .post(
            "/api/v1/assets",
            Some(&admin),
            json!({"name": "shop.example.com", "kind": "web_application",
                "identifiers": ["https://shop.example.com"], "criticality": 2,
                "exposure": "internal", "owner": "web team", "tags": ["pci"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let dup = app
        .post(
            "/api/v1/assets",
            Some(&admin),
            json!({"name": "shop.example.com", "kind": "host"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{:?}", dup.body);
    for (body, field) in [
        (json!({"name": "", "kind": "host"}), "name"),
        (
            json!({"name": "a", "kind": "host", "criticality": 6}),
            "criticality",
        ),
        (
            json!({"name": "a", "kind": "host", "identifiers": ["x".repeat(501)]}),
            "identifiers",
        ),
    ] {
        let r = app.post("/api/v1/assets", Some(&admin), body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.body["field"], field, "{:?}", r.body);
    }
    let r = app
        .post(
            "/api/v1/assets",
            Some(&admin),
            json!({"name": "a", "kind": "toaster"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Nuclei findings on it, while internal and minor.
    let nuclei = sample("nuclei", "many_findings.json");
    let low = import(app, &admin, "asset=shop.example.com", nuclei.clone()).await;
    assert_eq!(low.status, StatusCode::CREATED, "{:?}", low.body);
    assert_eq!(low.body["asset_created"], false);
    assert_eq!(counts(&low)[0], 16);
    let before: u64 = all_findings(app, &admin, "")
        .await
        .iter()
        .map(|f| f["priority"]["score"].as_u64().unwrap())
        .sum();

    // Internet-facing crown jewels: every finding ranks higher at once,
    // and stays so on the next import.
    let patched = app
        .request(
            Method::PATCH,
            &format!("/api/v1/assets/{id}"),
            Some(&admin),
            Some(json!({"criticality": 5, "exposure": "internet", "owner": ""})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["criticality"], 5);
    assert!(patched.body["owner"].is_null());
    assert_eq!(patched.body["tags"], json!(["pci"]));
    let rescored: u64 = all_findings(app, &admin, "")
        .await
        .iter()
        .map(|f| f["priority"]["score"].as_u64().unwrap())
        .sum();
    assert!(rescored > before, "{rescored} vs {before}");
    let again = import(app, &admin, "asset=shop.example.com", nuclei).await;
    assert_eq!(counts(&again), [16, 0, 16, 0, 0]);
    let after = all_findings(app, &admin, "").await;
    let sum: u64 = after
        .iter()
        .map(|f| f["priority"]["score"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, rescored);
    assert!(after.iter().any(|f| f["priority"]["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["reason"].as_str().unwrap().contains("internet"))));
    let high = all_findings(app, &admin, "min_priority=60").await;
    assert!(high
        .iter()
        .all(|f| f["priority"]["score"].as_u64().unwrap() >= 60));

    let listed = app.get("/api/v1/assets", &admin).await;
    assert_eq!(listed.body["items"][0]["name"], "shop.example.com");
    // Deleting the asset deletes its findings and imports.
    let gone = app
        .request(
            Method::DELETE,
            &format!("/api/v1/assets/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/v1/assets/{id}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(all_findings(app, &admin, "").await.is_empty());
    let log = app.get("/api/v1/imports", &admin).await;
    assert_eq!(log.body["items"], json!([]));
}

async fn keys_and_roles_are_respected(app: &TestApp) {
    let admin = app.admin_token().await;
    let grype = sample("grype", "many_vulns4.json");
    // A CI pipeline's ingest key imports; a read key only reads.
    let (_, ingest) = app.api_key(&admin, &["ingest"]).await;
    let r = import(app, &ingest, "asset=ci-image", grype.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["new"], 9);
    let (_, read) = app.api_key(&admin, &["read"]).await;
    assert_eq!(
        import(app, &read, "asset=ci-image", grype).await.status,
        StatusCode::FORBIDDEN
    );
    let findings = app.get("/api/v1/findings", &read).await;
    assert_eq!(findings.status, StatusCode::OK);
    let id = findings.body["items"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/v1/findings/{id}"),
            Some(&read),
            Some(json!({"status": "false_positive", "reason": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            "/api/v1/assets",
            Some(&read),
            json!({"name": "n", "kind": "host"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn another_organisation_sees_none_of_it(app: &TestApp) {
    let other = app.second_org("vulnother").await;
    let admin = app.admin_token().await;
    let grype = sample("grype", "many_vulns4.json");
    let mine = import(app, &admin, "asset=shared-name", grype.clone()).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{:?}", mine.body);
    let asset = mine.body["asset"]["id"].as_str().unwrap().to_owned();
    let import_id = mine.body["import_id"].as_str().unwrap().to_owned();
    let finding = all_findings(app, &admin, "").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The other organisation's import of the same name is its own asset.
    let theirs = import(app, &other, "asset=shared-name", grype).await;
    assert_eq!(theirs.body["asset_created"], true);
    assert_eq!(counts(&theirs), [9, 9, 0, 0, 0]);
    assert_ne!(theirs.body["asset"]["id"], asset.as_str());

    for path in [
        format!("/api/v1/assets/{asset}"),
        format!("/api/v1/findings/{finding}"),
    ] {
        let r = app.get(&path, &other).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    for path in [
        format!("/api/v1/findings?asset_id={asset}"),
        format!("/api/v1/imports?asset_id={asset}"),
    ] {
        let r = app.get(&path, &other).await;
        assert_eq!(r.body["items"], json!([]), "{path}");
    }
    let their_imports = app.get("/api/v1/imports", &other).await;
    assert!(their_imports.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["id"] != import_id.as_str()));
    let their_assets = app.get("/api/v1/assets", &other).await;
    assert_eq!(their_assets.body["items"].as_array().unwrap().len(), 1);
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/api/v1/assets/{asset}"),
            Some(json!({"criticality": 1})),
        ),
        (Method::DELETE, format!("/api/v1/assets/{asset}"), None),
        (
            Method::PATCH,
            format!("/api/v1/findings/{finding}"),
            Some(json!({"status": "false_positive", "reason": "not mine"})),
        ),
    ] {
        let r = app.request(method, &path, Some(&other), body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    // Untouched.
    let f = app
        .get(&format!("/api/v1/findings/{finding}"), &admin)
        .await;
    assert_eq!(f.body["status"], "open");
    let a = app.get(&format!("/api/v1/assets/{asset}"), &admin).await;
    assert_eq!(a.body["criticality"], 3);
}

/// Reports of the findings (CSV, SARIF that reads back, HTML, JSON) and
/// the diff of each import, for this organisation only.
async fn reports_and_diffs_say_what_is_there_and_what_changed(app: &TestApp) {
    let admin = app.admin_token().await;
    let grype = sample("grype", "many_vulns4.json");
    let first = import(app, &admin, "asset=report-image", grype.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let asset = first.body["asset"]["id"].as_str().unwrap().to_owned();
    let fixed = ["CVE-1999-1338", "CVE-2021-29940"];
    let second = import(
        app,
        &admin,
        "asset=report-image",
        grype_without(&grype, &fixed),
    )
    .await;
    assert_eq!(counts(&second), [7, 0, 7, 0, 2]);

    // The diff of each import.
    let diff = app
        .get(
            &format!(
                "/api/v1/imports/{}/diff",
                second.body["import_id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(diff.status, StatusCode::OK, "{:?}", diff.body);
    assert_eq!(diff.body["new"], json!([]));
    let mut gone: Vec<&str> = diff.body["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["report"]["vulnerability_ids"][0].as_str().unwrap())
        .collect();
    gone.sort_unstable();
    assert_eq!(gone, fixed);
    let diff = app
        .get(
            &format!(
                "/api/v1/imports/{}/diff",
                first.body["import_id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(diff.body["new"].as_array().unwrap().len(), 9);

    // CSV: every status unless asked, one row each, as a download.
    let csv = app
        .get(&format!("/api/v1/reports/csv?asset_id={asset}"), &admin)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers["content-disposition"],
        "attachment; filename=\"findings-report-image.csv\""
    );
    let text = csv.body.as_str().unwrap();
    assert_eq!(text.lines().count(), 1 + 9, "{text}");
    assert!(text.starts_with("id,asset,scan_type,status,priority"));
    assert_eq!(text.matches(",mitigated,").count(), 2);

    // SARIF of the open ones reads back as a report of the same findings.
    let sarif = app
        .get(
            &format!("/api/v1/reports/sarif?asset_id={asset}&status=active"),
            &admin,
        )
        .await;
    assert_eq!(sarif.status, StatusCode::OK);
    assert_eq!(sarif.headers["content-type"], "application/sarif+json");
    let doc = sarif.body.clone();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 7);
    assert!(
        results.iter().all(|r| r["baselineState"] == "unchanged"),
        "{results:?}"
    );
    let again = import(
        app,
        &admin,
        "asset=from-sarif",
        serde_json::to_vec(&doc).unwrap(),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.body);
    assert_eq!(again.body["format"], "sarif");
    assert_eq!(counts(&again), [7, 7, 0, 0, 0]);

    let html = app
        .get(&format!("/api/v1/reports/html?asset_id={asset}"), &admin)
        .await;
    assert_eq!(html.status, StatusCode::OK);
    let page = html.body.as_str().unwrap();
    assert!(page.contains("<h1>Findings of report-image</h1>") && page.contains("<svg"));
    assert!(!page.contains("<script"));
    let json_report = app
        .get(&format!("/api/v1/reports/json?asset_id={asset}"), &admin)
        .await;
    assert_eq!(json_report.body["count"], 9);

    for (path, field) in [
        (format!("/api/v1/reports/pdf?asset_id={asset}"), "format"),
        (
            format!("/api/v1/reports/csv?asset_id={asset}&limit=5"),
            "limit",
        ),
    ] {
        let bad = app.get(&path, &admin).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(bad.body["field"], field, "{path}");
    }

    // Another organisation: no diff, and reports without our findings.
    let other = app.second_org("reports-elsewhere").await;
    let theirs = app
        .get(
            &format!(
                "/api/v1/imports/{}/diff",
                second.body["import_id"].as_str().unwrap()
            ),
            &other,
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let theirs = app
        .get(&format!("/api/v1/reports/csv?asset_id={asset}"), &other)
        .await;
    assert_eq!(
        theirs.body.as_str().unwrap().lines().count(),
        1,
        "the header only"
    );
    let theirs = app.get("/api/v1/reports/json", &other).await;
    assert_eq!(theirs.body["count"], 0);
}

/// The findings policy: deadlines give each finding its `due_at`, admins
/// alone change it, bad values are named, and new phrases score the
/// organisation's findings again (not another organisation's).
async fn the_findings_policy_sets_deadlines_and_phrases(app: &TestApp) {
    let admin = app.admin_token().await;
    let other = app.second_org("policy-elsewhere").await;
    let grype = sample("grype", "many_vulns4.json");
    for token in [&admin, &other] {
        let r = import(app, token, "asset=policy-image", grype.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let policy = app.get("/api/v1/findings/policy", &admin).await;
    assert_eq!(policy.status, StatusCode::OK);
    assert_eq!(
        policy.body["sla_days"],
        json!({"critical": 7, "high": 30, "medium": 90, "low": 180, "info": null})
    );
    assert_eq!(policy.body["expiry_warning_days"], 7);
    assert_eq!(policy.body["phrases"].as_array().unwrap().len(), 14);
    let critical = all_findings(app, &admin, "severity=critical").await;
    for f in &critical {
        let first =
            rampart_core::Timestamp::parse_rfc3339(f["first_seen"].as_str().unwrap()).unwrap();
        let due = rampart_core::Timestamp::parse_rfc3339(f["due_at"].as_str().unwrap()).unwrap();
        assert_eq!(due.0 - first.0, 7 * 86_400_000);
    }

    app.create_user(&admin, "policy-analyst@localhost", "analyst")
        .await;
    let analyst = app
        .token("policy-analyst@localhost", "user-password-123")
        .await;
    let mut changed = policy.body.clone();
    changed["sla_days"]["critical"] = json!(3);
    changed["phrases"] = json!([{"phrase": "Buffer Overflow", "points": 12}]);
    let denied = app
        .request(
            Method::PUT,
            "/api/v1/findings/policy",
            Some(&analyst),
            Some(changed.clone()),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let mut bad = changed.clone();
    bad["sla_days"]["high"] = json!(0);
    let refused = app
        .request(
            Method::PUT,
            "/api/v1/findings/policy",
            Some(&admin),
            Some(bad),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.body["field"], "sla_days.high");

    let before: Vec<Value> = all_findings(app, &admin, "").await;
    let saved = app
        .request(
            Method::PUT,
            "/api/v1/findings/policy",
            Some(&admin),
            Some(changed),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
    assert_eq!(
        saved.body["phrases"],
        json!([{"phrase": "Buffer Overflow", "points": 12.0}])
    );
    let after: Vec<Value> = all_findings(app, &admin, "").await;
    let mentions = |fs: &[Value]| {
        fs.iter()
            .filter(|f| {
                f["priority"]["contributions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["reason"] == "mentions \"Buffer Overflow\"")
            })
            .count()
    };
    assert_eq!(mentions(&before), 0);
    let overflow = after
        .iter()
        .filter(|f| {
            let text =
                format!("{} {}", f["report"]["title"], f["report"]["description"]).to_lowercase();
            text.contains("buffer overflow")
        })
        .count();
    assert!(overflow > 0, "the sample mentions buffer overflows");
    assert_eq!(mentions(&after), overflow);
    let critical = all_findings(app, &admin, "severity=critical").await;
    let f = &critical[0];
    let first = rampart_core::Timestamp::parse_rfc3339(f["first_seen"].as_str().unwrap()).unwrap();
    let due = rampart_core::Timestamp::parse_rfc3339(f["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(due.0 - first.0, 3 * 86_400_000);
    // Theirs keep the defaults and their scores.
    assert_eq!(mentions(&all_findings(app, &other, "").await), 0);
    let theirs = app.get("/api/v1/findings/policy", &other).await;
    assert_eq!(theirs.body["sla_days"]["critical"], 7);
}

/// An Nmap XML report imported over HTTP: recognised unnamed, its open
/// ports as findings on a host asset; a broken one named by line.
async fn nmap_xml_is_imported(app: &TestApp) {
    let admin = app.admin_token().await;
    let nmap = sample("nmap", "nmap_multiple_port.xml");
    let r = import(app, &admin, "asset=scanned-host", nmap.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["format"], "nmap");
    assert_eq!(r.body["asset"]["kind"], "host");
    assert_eq!(counts(&r), [13, 13, 0, 0, 0]);
    let again = import(app, &admin, "asset=scanned-host", nmap.clone()).await;
    assert_eq!(counts(&again), [13, 0, 13, 0, 0]);
    let broken = import(
        app,
        &admin,
        "asset=scanned-host&format=nmap",
        nmap[..nmap.len() / 2].to_vec(),
    )
    .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert!(broken.body["line"].as_u64().is_some(), "{:?}", broken.body);
}

/// The other XML formats over HTTP, each recognised unnamed with the kind
/// of asset its scanner looks at, re-imports unchanged; an XXE attempt is
/// text, never a file read.
async fn xml_reports_of_every_scanner_are_imported(app: &TestApp) {
    let admin = app.admin_token().await;
    for (format, file, kind, findings) in [
        ("zap", "dvwa_baseline_dojo.xml", "web_application", 19),
        ("burp", "issue4399.xml", "web_application", 20),
        ("openvas", "many_vuln.xml", "host", 44),
        ("nessus", "nessus_with_cvssv3.nessus", "host", 48),
        ("dependency-check", "PR6439.xml", "repository", 34),
    ] {
        let asset = format!("asset=xml-{format}");
        let report = sample(format, file);
        let r = import(app, &admin, &asset, report.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{format}: {:?}", r.body);
        assert_eq!(r.body["format"], format);
        assert_eq!(r.body["asset"]["kind"], kind, "{format}");
        assert_eq!(r.body["findings"], findings, "{format}");
        // Findings of one report that share an identity are stored once.
        let stored = r.body["new"].as_u64().unwrap();
        assert!(stored > 0 && stored <= findings, "{format}: {stored}");
        let again = import(app, &admin, &asset, report).await;
        assert_eq!(
            again.body["unchanged"], stored,
            "{format}: {:?}",
            again.body
        );
        assert_eq!(again.body["new"], 0, "{format}");
    }
    let xxe = b"<?xml version=\"1.0\"?><!DOCTYPE issues [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n<issues burpVersion=\"1\"><issue><type>1</type><name>&e;</name><host>http://h</host><path>/</path><severity>High</severity></issue></issues>";
    let r = import(app, &admin, "asset=xxe", xxe.to_vec()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let list = app.get("/api/v1/findings?q=root:", &admin).await;
    assert_eq!(
        list.body["items"].as_array().map(Vec::len),
        Some(0),
        "{:?}",
        list.body
    );
}

/// Polls an upload until its import has run.
async fn finished_upload(app: &TestApp, token: &str, location: &str) -> Value {
    for _ in 0..600 {
        let r = app.get(location, token).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        if r.body["state"] == "done" || r.body["state"] == "failed" {
            return r.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{location} did not finish");
}

/// Large reports (and any, when asked) are imported by a job: 202 with the
/// upload to poll, then the same counts a direct import gives; a broken
/// report fails naming its line; another organisation sees no upload.
async fn large_reports_are_imported_by_a_job(app: &TestApp) {
    let admin = app.admin_token().await;
    let grype = sample("grype", "many_vulns4.json");
    let queued = import(
        app,
        &admin,
        "asset=bg-image&async=true&file_name=g.json",
        grype.clone(),
    )
    .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{:?}", queued.body);
    assert_eq!(queued.body["state"], "queued");
    assert_eq!(queued.body["file_name"], "g.json");
    let location = queued.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        format!(
            "/api/v1/imports/uploads/{}",
            queued.body["id"].as_str().unwrap()
        )
    );
    let done = finished_upload(app, &admin, &location).await;
    assert_eq!(done["state"], "done", "{done:?}");
    assert_eq!(done["import"]["findings"], 9);
    assert_eq!(done["import"]["new"], 9);
    assert_eq!(done["import"]["asset"]["name"], "bg-image");
    assert!(done["finished_at"].is_number() || done["finished_at"].is_string());

    // Over 16 MiB, a job without asking (the same report, padded).
    let mut padded = grype.clone();
    padded.resize(grype.len() + 17 * 1024 * 1024, b' ');
    let big = import(app, &admin, "asset=bg-image", padded).await;
    assert_eq!(big.status, StatusCode::ACCEPTED, "{:?}", big.body);
    let location = big.headers["location"].to_str().unwrap().to_owned();
    let done = finished_upload(app, &admin, &location).await;
    assert_eq!(done["import"]["unchanged"], 9, "{done:?}");

    // A broken report: the upload fails with the parser's words.
    let broken = import(
        app,
        &admin,
        "asset=bg-image&async=true&format=grype",
        grype[..grype.len() / 2].to_vec(),
    )
    .await;
    assert_eq!(broken.status, StatusCode::ACCEPTED);
    let location = broken.headers["location"].to_str().unwrap().to_owned();
    let failed = finished_upload(app, &admin, &location).await;
    assert_eq!(failed["state"], "failed");
    assert!(
        failed["error"].as_str().unwrap().contains("line"),
        "{failed:?}"
    );
    assert!(failed["import"].is_null());

    // Parameters are checked before anything is queued.
    let bad = import(
        app,
        &admin,
        "asset=bg-image&async=true&format=word",
        grype.clone(),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let long_name = format!("asset={}&async=true", "a".repeat(201));
    let bad = import(app, &admin, &long_name, grype.clone()).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.body);
    assert_eq!(bad.body["field"], "asset");

    let other = app.second_org("uploads-elsewhere").await;
    let theirs = app.get(&location, &other).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
}

crate::on_every_backend!(
    large_reports_are_imported_by_a_job,
    xml_reports_of_every_scanner_are_imported,
    reports_are_imported_deduplicated_and_closed,
    decisions_survive_imports,
    bad_reports_are_named_and_change_nothing,
    assets_are_managed_and_shape_priorities,
    keys_and_roles_are_respected,
    another_organisation_sees_none_of_it,
    reports_and_diffs_say_what_is_there_and_what_changed,
    the_findings_policy_sets_deadlines_and_phrases,
    nmap_xml_is_imported,
);
