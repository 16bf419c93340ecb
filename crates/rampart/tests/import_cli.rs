//! `rampart import` and `rampart findings parse`, run as the real binary:
//! an import into the database a server made is what the server then
//! lists; parsing prints the findings without a database; a broken report
//! names its line and fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{bootstrapped, rampart, succeeded};

use serde_json::Value;

/// DefectDojo's Grype sample (9 findings), unpacked into `dir`.
fn grype_sample(dir: &Path) -> PathBuf {
    let packed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rampart-scan/tests/data/defectdojo/grype/many_vulns4.json.gz"
    ))
    .unwrap();
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(packed.as_slice())
        .read_to_end(&mut text)
        .unwrap();
    let path = dir.join("shop-image.grype.json");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn findings_parse_prints_the_findings_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let report = grype_sample(dir.path());
    let json = succeeded(
        &rampart(&["findings", "parse", "--json"])
            .arg(&report)
            .output()
            .unwrap(),
    );
    let parsed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["tool"], "grype");
    assert_eq!(parsed["format"], "grype");
    assert_eq!(parsed["findings"], 9);
    assert_eq!(parsed["items"].as_array().unwrap().len(), 9);
    assert!(parsed["items"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("v1:"));
    // From standard input, as a table.
    let mut child = rampart(&["findings", "parse", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&report).unwrap())
        .unwrap();
    let table = succeeded(&child.wait_with_output().unwrap());
    assert!(
        table.starts_with("grype grype report: 9 findings\n"),
        "{table}"
    );
    assert!(table.contains("critical  CVE-2021-29940"), "{table}");

    // A cut report: an error with its line, and a failure status.
    let cut = dir.path().join("cut.json");
    let text = std::fs::read(&report).unwrap();
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let out = rampart(&["findings", "parse"]).arg(&cut).output().unwrap();
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("line "), "{error}");
    let out = rampart(&["findings", "parse", "--format", "nessus9"])
        .arg(&report)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn an_import_from_the_command_line_is_what_the_server_lists() {
    let (dir, data, port) = bootstrapped();
    let report = grype_sample(dir.path());

    let import = |extra: &[&str]| {
        let mut command = rampart(&["import", "--json"]);
        command
            .args(extra)
            .arg("--data-dir")
            .arg(&data)
            .arg(&report);
        let reply: Value = serde_json::from_str(&succeeded(&command.output().unwrap())).unwrap();
        reply
    };
    let first = import(&[]);
    assert_eq!(first["asset"]["name"], "shop-image", "named after the file");
    assert_eq!(first["asset_created"], true);
    assert_eq!(
        (first["findings"].as_u64(), first["new"].as_u64()),
        (Some(9), Some(9))
    );
    let again = import(&["--asset", "shop-image", "--scan-type", "grype"]);
    assert_eq!(again["unchanged"], 9);
    assert_eq!(again["asset_created"], false);
    let out = rampart(&["import", "--org", "nobody", "--data-dir"])
        .arg(&data)
        .arg(&report)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no organisation named 'nobody'"));

    let mut server = common::serve(&data, port, "admin-password-12345");
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({"email": "admin@localhost", "password": "admin-password-12345"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"]
        .as_str()
        .expect("signed in")
        .to_owned();
    let findings: Value = client
        .get(format!("{base}/findings?limit=100"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(findings["items"].as_array().unwrap().len(), 9);
    let imports: Value = client
        .get(format!("{base}/imports"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(imports["items"][0]["actor"], "operator:cli");
    assert_eq!(imports["items"][1]["file_name"], "shop-image.grype.json");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn fail_on_gates_a_pipeline_on_open_findings() {
    let (dir, data, _) = bootstrapped();
    let report = grype_sample(dir.path());
    let gate = |file: &Path, band: &str| {
        rampart(&[
            "import",
            "--asset",
            "gate",
            "--scan-type",
            "image",
            "--fail-on",
            band,
        ])
        .arg("--data-dir")
        .arg(&data)
        .arg(file)
        .output()
        .unwrap()
    };

    // Nine open findings: any band at all fails the build, with status 3.
    let out = gate(&report, "info");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("9 open findings of priority info or above on gate"),
        "{said}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("9 new"));
    let out = rampart(&["import", "--fail-on", "severe"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown band");

    // All fixed (an empty report of the same scan type): the gate passes.
    let empty = dir.path().join("fixed.json");
    std::fs::write(
        &empty,
        r#"{"matches": [], "source": {"type": "image"}, "descriptor": {"name": "grype", "version": "0.34.4"}}"#,
    )
    .unwrap();
    let out = gate(&empty, "info");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("9 closed"));
}

#[test]
fn intel_loads_from_the_command_line_rescore_what_was_imported() {
    let (dir, data, _port) = bootstrapped();
    let packed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rampart-scan/tests/data/defectdojo/trivy/scheme_2_many_vulns.json.gz"
    ))
    .unwrap();
    let report = dir.path().join("teamdojo.json");
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(packed.as_slice())
        .read_to_end(&mut text)
        .unwrap();
    std::fs::write(&report, text).unwrap();
    let with_data = |args: &[&str]| {
        let mut command = rampart(args);
        command.arg("--data-dir").arg(&data);
        command
    };
    succeeded(&with_data(&["import"]).arg(&report).output().unwrap());

    let kev = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../rampart-scan/tests/data/cisa-kev/known_exploited_vulnerabilities.json.gz"
    );
    let load: Value = serde_json::from_str(&succeeded(
        &with_data(&["intel", "load", "kev", "--json", kev])
            .output()
            .unwrap(),
    ))
    .unwrap();
    assert_eq!(load["source"], "kev");
    assert_eq!(load["version"], "2025.08.25");
    assert_eq!(load["rows"], 1404);
    assert_eq!(load["rescored"], 1, "the finding naming CVE-2020-15999");

    // EPSS from standard input.
    let mut child = with_data(&["intel", "load", "epss", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"#model_version:v2025.03.14,score_date:2026-12-01\ncve,epss,percentile\nCVE-2020-15999,0.93512,0.99843\n")
        .unwrap();
    let out = succeeded(&child.wait_with_output().unwrap());
    assert!(out.contains("epss v2025.03.14 loaded: 1 rows"), "{out}");
    assert!(out.contains("1 findings scored again"), "{out}");

    let status = succeeded(&with_data(&["intel", "status"]).output().unwrap());
    assert!(status.contains("kev   2025.08.25"), "{status}");
    assert!(status.contains("epss  v2025.03.14"), "{status}");
    let show = succeeded(
        &with_data(&["intel", "show", "cve-2020-15999"])
            .output()
            .unwrap(),
    );
    assert!(
        show.contains("CVE-2020-15999: in CISA KEV since 2021-11-03 (Google"),
        "{show}"
    );
    assert!(show.contains("EPSS 0.93512, percentile 0.99843"), "{show}");

    // A broken file names its line, fails, and leaves the loaded release.
    let broken = dir.path().join("epss.csv");
    std::fs::write(&broken, "cve,epss,percentile\nCVE-2020-15999,2.5,0.9\n").unwrap();
    let out = with_data(&["intel", "load", "epss"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
    let status = succeeded(&with_data(&["intel", "status", "--json"]).output().unwrap());
    let sources: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(sources[1]["version"], "v2025.03.14");
}
