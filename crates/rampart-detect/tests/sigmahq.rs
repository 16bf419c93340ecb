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
