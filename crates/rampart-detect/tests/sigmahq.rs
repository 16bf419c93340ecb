//! Every rule of the SigmaHQ repository (../shared/data/sigmahq) loads and
//! compiles. Skipped, with a notice, when the data is not beside the project.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use rampart_detect::{load_dir, DetectorBuilder, FieldMapping, Placeholders};

fn sigmahq() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sigmahq");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "notice: {} is absent; skipping the SigmaHQ tests",
            dir.display()
        );
        None
    }
}

#[test]
fn every_sigmahq_rule_loads_and_compiles() {
    let Some(root) = sigmahq() else { return };
    let mut builder = DetectorBuilder::new(FieldMapping::default(), Placeholders::new());
    let mut failures = Vec::new();
    let mut loaded = 0;
    for folder in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        for file in load_dir(&root.join(folder)).unwrap() {
            for doc in file.documents {
                let key = format!("{}#{loaded}", file.path.display());
                match doc
                    .map_err(|e| e.to_string())
                    .and_then(|d| builder.add(&key, &d))
                {
                    Ok(()) => loaded += 1,
                    Err(e) => failures.push(format!("{}: {e}", file.path.display())),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} rules failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(loaded > 3_500, "only {loaded} rules loaded");
    let detector = builder
        .build()
        .unwrap_or_else(|(key, reason)| panic!("{key}: {reason}"));
    assert_eq!(detector.rules().len(), loaded);
}

/// The titles of the SigmaHQ rules under `folders` that the event (JSON
/// text, read as ingest reads it) matches.
fn matching_titles(root: &std::path::Path, folders: &[&str], event: &str) -> Vec<String> {
    use rampart_detect::{Document, RuleSetBuilder, Scratch};
    let mut builder = RuleSetBuilder::new(FieldMapping::default(), Placeholders::new());
    for folder in folders {
        for file in load_dir(&root.join(folder)).unwrap() {
            for doc in file.documents {
                if let Ok(Document::Rule(rule)) = doc {
                    builder.add(&rule).unwrap();
                }
            }
        }
    }
    let set = builder.build();
    let mut hits = Vec::new();
    set.evaluate_json(event, &mut Scratch::default(), &mut hits)
        .unwrap();
    hits.iter().map(|&i| set.rule(i).title.clone()).collect()
}

#[test]
fn evtx_user_data_events_raise_sigmahq_rules() {
    let Some(root) = sigmahq() else { return };
    let wmi = r##"{"Event": {
        "System": {"EventID": 5861, "Channel": "Microsoft-Windows-WMI-Activity/Operational",
                   "Provider": {"#attributes": {"Name": "Microsoft-Windows-WMI-Activity"}}},
        "UserData": {"Operation_ESStoConsumerBinding": {
            "Namespace": "//./root/subscription", "ESS": "evil",
            "CONSUMER": "CommandLineEventConsumer=\"evil\"",
            "PossibleCause": "Binding EventFilter: instance of __EventFilter ... Perm. Consumer: instance of CommandLineEventConsumer { CommandLineTemplate = \"cmd /c calc\"; }"
        }}}}"##;
    let titles = matching_titles(&root, &["rules/windows/builtin/wmi"], wmi);
    assert!(titles.iter().any(|t| t == "WMI Persistence"), "{titles:?}");

    let applocker = r#"{"Event": {
        "System": {"EventID": 8004, "Channel": "Microsoft-Windows-AppLocker/EXE and DLL"},
        "UserData": {"RuleAndFileData": {"PolicyName": "EXE",
            "FilePath": "%OSDRIVE%\\USERS\\BOB\\DOWNLOADS\\PSEXEC.EXE",
            "FullFilePath": "C:\\Users\\bob\\Downloads\\psexec.exe"}}}}"#;
    let titles = matching_titles(&root, &["rules/windows/builtin/applocker"], applocker);
    assert!(
        titles
            .iter()
            .any(|t| t == "AppLocker Prevented Application or Script from Running"),
        "{titles:?}"
    );
}
