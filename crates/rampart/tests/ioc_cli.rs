//! `rampart ioc` as a shell pipeline uses it: `extract --json` prints one
//! object per input line in the documented shape, plain `extract` one
//! indicator per line, and `fang`/`defang` convert text both ways.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::process::{Command, Stdio};

fn run(args: &[&str], input: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn indicators_are_extracted_line_by_line_and_converted() {
    let input = "C2 hxxps://evil-cdn[.]com/gate from 185.220.101[.]45\nnothing here\nbob[at]evil-cdn[.]com sent CVE-2024-3094\n";
    let out = run(&["ioc", "extract", "--json"], input);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let keys: Vec<&str> = lines[1]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "cve",
    ] {
        assert!(keys.contains(&key), "{keys:?}");
    }
    assert_eq!(
        lines[0]["url"],
        serde_json::json!(["https://evil-cdn.com/gate"])
    );
    assert_eq!(lines[0]["ipv4"], serde_json::json!(["185.220.101.45"]));
    assert_eq!(lines[1]["url"], serde_json::json!([]));
    assert_eq!(lines[2]["email"], serde_json::json!(["bob@evil-cdn.com"]));
    assert_eq!(lines[2]["cve"], serde_json::json!(["CVE-2024-3094"]));

    let plain = run(&["ioc", "extract"], input);
    assert!(
        plain
            .lines()
            .any(|l| l == "url\thttps://evil-cdn.com/gate\tdefanged\thxxps://evil-cdn[.]com/gate"),
        "{plain}"
    );

    let fanged = run(&["ioc", "fang"], "see hxxp://bad[.]example[.]com now");
    assert_eq!(fanged, "see http://bad.example.com now");
    let defanged = run(&["ioc", "defang"], &fanged);
    assert!(!defanged.contains("http://"), "{defanged}");
    assert_eq!(run(&["ioc", "fang"], &defanged), fanged);
}
