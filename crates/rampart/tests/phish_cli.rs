//! `rampart phish analyze` offline: a phish read from a file scores high
//! with its reasons (JSON and text), the organisation's policy file is
//! honoured, and a file that is no message is refused with a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

const PHISH: &str = "From: \"PayPal Service\" <service@paypa1-security.com>\r
Reply-To: help.desk@gmail.com\r
To: alice@example-bank.com\r
Subject: Urgent: verify your account\r
Content-Type: text/html\r
\r
<p>Your account will be suspended. Verify your account within 24 hours.</p>\r
<a href=\"http://198.51.100.7/login\">https://www.paypal.com</a>\r
";

fn rampart(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_message_file_is_scored_with_its_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let eml = dir.path().join("phish.eml");
    std::fs::write(&eml, PHISH).unwrap();
    let out = rampart(&["phish", "analyze", eml.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let analysis: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(analysis["verdict"], "phishing", "{analysis:#}");
    let codes: Vec<&str> = analysis["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    for code in [
        "brand_impersonation",
        "lookalike_domain",
        "link_text_mismatch",
        "reply_to_freemail",
    ] {
        assert!(codes.contains(&code), "{code} not in {codes:?}");
    }
    let urls = analysis["iocs"]["url"].as_array().unwrap();
    assert!(
        urls.iter().any(|u| u == "http://198.51.100.7/login"),
        "{urls:?}"
    );

    // Text output, and a policy naming a simulation sender.
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"simulation_senders": ["paypa1-security.com"]}"#,
    )
    .unwrap();
    let out = rampart(&[
        "phish",
        "analyze",
        eml.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("verdict  simulation"), "{text}");
    assert!(text.contains("simulation_campaign"), "{text}");

    let junk = dir.path().join("junk.eml");
    std::fs::write(&junk, "\n\n").unwrap();
    let out = rampart(&["phish", "analyze", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("empty"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
