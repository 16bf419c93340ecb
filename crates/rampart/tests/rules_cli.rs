//! `rampart rules check` and `rampart rules test`, run as a user would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

const RULE: &str = "title: Certutil download
id: 3c0a1f2e-0000-4000-8000-000000000001
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\\certutil.exe'
    CommandLine|contains|windash: ' -urlcache '
  condition: selection
level: high
";

fn rampart(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn rules_test_prints_matches_and_a_json_summary() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("rule.yml");
    let events = dir.path().join("events.ndjson");
    std::fs::write(&rule, RULE).unwrap();
    std::fs::write(
        &events,
        concat!(
            r#"{"Image":"C:\\Windows\\System32\\certutil.exe","CommandLine":"certutil /urlcache -f http://x/a.exe"}"#, "\n",
            r#"{"Image":"C:\\Windows\\System32\\notepad.exe","CommandLine":"notepad"}"#, "\n",
            "\n",
            r#"{"Image":"C:\\Windows\\System32\\CERTUTIL.EXE","CommandLine":"certutil -urlcache -split"}"#, "\n",
        ),
    )
    .unwrap();
    let out = rampart(&[
        "rules",
        "test",
        rule.to_str().unwrap(),
        events.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["matched"], 2);
    assert_eq!(report["total"], 3);
    assert_eq!(report["matches"][0]["line"], 1);
    assert_eq!(report["matches"][1]["line"], 4);
    assert_eq!(
        report["matches"][0]["rules"][0]["title"],
        "Certutil download"
    );

    let out = rampart(&[
        "rules",
        "test",
        rule.to_str().unwrap(),
        events.to_str().unwrap(),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.ends_with("matched 2 of 3 events\n"), "{text}");
}

#[test]
fn rules_test_reads_fields_where_a_mapping_file_says() {
    let dir = tempfile::tempdir().unwrap();
    let (rule, events, mapping) = (
        dir.path().join("rule.yml"),
        dir.path().join("events.ndjson"),
        dir.path().join("mapping.json"),
    );
    std::fs::write(&rule, RULE).unwrap();
    std::fs::write(
        &events,
        concat!(
            r#"{"proc":{"path":"C:\\Windows\\certutil.exe","cmd":"certutil -urlcache x"}}"#,
            "\n"
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "rules",
            "test",
            rule.to_str().unwrap(),
            events.to_str().unwrap(),
            "--json",
        ];
        args.extend_from_slice(extra);
        rampart(&args)
    };
    let report = |out: std::process::Output| -> serde_json::Value {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(report(run(&[]))["matched"], 0);
    std::fs::write(
        &mapping,
        r#"{"Image": ["proc.path"], "CommandLine": ["proc.cmd"]}"#,
    )
    .unwrap();
    assert_eq!(
        report(run(&["--mapping", mapping.to_str().unwrap()]))["matched"],
        1
    );
    std::fs::write(&mapping, r#"{"Image": []}"#).unwrap();
    let out = run(&["--mapping", mapping.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Image"));
}

#[test]
fn rules_test_names_the_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("rule.yml");
    let events = dir.path().join("events.ndjson");
    std::fs::write(&rule, RULE).unwrap();
    std::fs::write(&events, "{\"a\":1}\n{not json\n").unwrap();
    let out = rampart(&[
        "rules",
        "test",
        rule.to_str().unwrap(),
        events.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}

#[test]
fn rules_check_reports_each_rule_that_cannot_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yml"), RULE).unwrap();
    std::fs::write(
        dir.path().join("bad.yml"),
        "title: Bad\nid: bad-rule-1\ndetection:\n  sel:\n    Image|sorcery: x\n  condition: sel\n",
    )
    .unwrap();
    let out = rampart(&["rules", "check", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("bad.yml: rule bad-rule-1:"), "{text}");
    assert!(text.contains("sorcery"), "{text}");
    assert!(text.contains("1 rules loaded, 1 failed"), "{text}");

    std::fs::remove_file(dir.path().join("bad.yml")).unwrap();
    let out = rampart(&["rules", "check", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
}

#[test]
fn rules_test_reports_correlation_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("brute.yml");
    std::fs::write(
        &rule,
        "title: fail\nname: fail\ndetection:\n  s:\n    event.outcome: failure\n  condition: s\n---\n\
         title: Three failures\nid: c0ffee00-0000-4000-8000-000000000001\ncorrelation:\n  type: event_count\n  rules: [fail]\n  group-by: [source.ip]\n  timespan: 1m\n  condition: {gte: 3}\nlevel: high\n",
    )
    .unwrap();
    let events = dir.path().join("events.ndjson");
    let line = |secs: u32, ip: &str| {
        format!(
            r#"{{"@timestamp":"2026-11-23T10:00:{secs:02}Z","event":{{"outcome":"failure"}},"source":{{"ip":"{ip}"}}}}"#
        )
    };
    let body = [
        line(0, "192.0.2.1"),
        line(1, "192.0.2.2"),
        line(2, "192.0.2.1"),
        line(3, "192.0.2.1"),
    ]
    .join("\n");
    std::fs::write(&events, body).unwrap();
    let out = rampart(&[
        "rules",
        "test",
        rule.to_str().unwrap(),
        events.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["matched"], 4);
    assert_eq!(report["alerts"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["alerts"][0]["rule"]["title"], "Three failures");
    assert_eq!(report["alerts"][0]["group"]["source.ip"], "192.0.2.1");
    assert_eq!(report["alerts"][0]["lines"], serde_json::json!([1, 3, 4]));
}

#[test]
fn rules_check_loads_the_built_in_pack() {
    let pack = concat!(env!("CARGO_MANIFEST_DIR"), "/../rampart-detect/pack");
    let out = rampart(&["rules", "check", pack]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("8 rules loaded, 0 failed"));
}
