//! `rampart rules`: check rule files and test rules against sample events,
//! offline.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Subcommand;
use rampart_core::event::normalise;
use rampart_core::{Clock as _, EventId, SystemClock};
use rampart_detect::tester::test_events;
use rampart_detect::{load_dir, Detector, DetectorBuilder, FieldMapping, Placeholders, RuleKind};
use serde_json::json;

#[derive(Subcommand)]
pub enum RulesAction {
    /// Load every rule under the given files or directories and report, per
    /// rule, what could not be loaded and why.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print every loaded rule too, not only the failures.
        #[arg(long)]
        verbose: bool,
    },
    /// Evaluate a rule file against NDJSON events: prints the matching
    /// events and a summary line.
    Test {
        rule: PathBuf,
        events: PathBuf,
        /// Print one JSON object {"matched", "total", "matches"} instead.
        #[arg(long)]
        json: bool,
        /// A field mapping to use beside the defaults, as a JSON object of
        /// Sigma field name → event paths (what
        /// GET /api/v1/detection/field-mapping shows as `mapping`).
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
    },
}

pub fn run(action: RulesAction) -> anyhow::Result<()> {
    match action {
        RulesAction::Check { paths, verbose } => check(&paths, verbose),
        RulesAction::Test {
            rule,
            events,
            json,
            mapping,
        } => {
            let mapping = match mapping {
                Some(path) => read_mapping(&path)?,
                None => FieldMapping::default(),
            };
            test(&rule, &events, json, mapping)
        }
    }
}

fn check(paths: &[PathBuf], verbose: bool) -> anyhow::Result<()> {
    let mut builder = DetectorBuilder::new(FieldMapping::default(), Placeholders::new());
    let (mut loaded, mut failed) = (0usize, 0usize);
    let mut out = std::io::stdout().lock();
    // Correlations are resolved at the end; remember where each rule came from.
    let mut origin: Vec<(String, String)> = Vec::new();
    for path in paths {
        let files = load_dir(path).with_context(|| format!("reading {}", path.display()))?;
        for file in files {
            for doc in file.documents {
                let result = doc.map_err(|e| e.to_string()).and_then(|doc| {
                    let key = origin.len().to_string();
                    let name = doc.id().unwrap_or(doc.title()).to_owned();
                    origin.push((file.path.display().to_string(), name.clone()));
                    builder
                        .add(&key, &doc)
                        .map(|()| name.clone())
                        .map_err(|reason| format!("rule {name}: {reason}"))
                });
                match result {
                    Ok(name) => {
                        loaded += 1;
                        if verbose {
                            writeln!(out, "ok    {}: {name}", file.path.display())?;
                        }
                    }
                    Err(reason) => {
                        failed += 1;
                        writeln!(out, "FAIL  {}: {reason}", file.path.display())?;
                    }
                }
            }
        }
    }
    if let Err((key, reason)) = builder.build() {
        let (path, name) = key
            .parse::<usize>()
            .ok()
            .and_then(|i| origin.get(i).cloned())
            .unwrap_or_default();
        loaded -= 1;
        failed += 1;
        writeln!(out, "FAIL  {path}: rule {name}: {reason}")?;
    }
    writeln!(out, "{loaded} rules loaded, {failed} failed")?;
    if failed > 0 {
        bail!("{failed} rules could not be loaded");
    }
    Ok(())
}

/// Reads and checks a field mapping file (JSON).
fn read_mapping(path: &Path) -> anyhow::Result<FieldMapping> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mapping: FieldMapping = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a field mapping (a JSON object of field name -> [paths])",
            path.display()
        )
    })?;
    mapping
        .check()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(mapping)
}

/// Compiles every rule of one file (detection and correlation rules).
pub fn compile_file(path: &Path, mapping: FieldMapping) -> anyhow::Result<Detector> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut builder = DetectorBuilder::new(mapping, Placeholders::new());
    for (n, doc) in rampart_detect::parse_documents(&text)
        .into_iter()
        .enumerate()
    {
        let doc = doc.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let key = doc
            .id()
            .map_or_else(|| format!("#{}", n + 1), str::to_owned);
        builder
            .add(&key, &doc)
            .map_err(|e| anyhow::anyhow!("{}: rule {key}: {e}", path.display()))?;
    }
    let detector = builder
        .build()
        .map_err(|(key, e)| anyhow::anyhow!("{}: rule {key}: {e}", path.display()))?;
    if detector.rules().is_empty() {
        bail!("{} holds no rule", path.display());
    }
    Ok(detector)
}

fn test(rule: &Path, events: &Path, json: bool, mapping: FieldMapping) -> anyhow::Result<()> {
    let detector = compile_file(rule, mapping)?;
    let file =
        std::fs::File::open(events).with_context(|| format!("reading {}", events.display()))?;
    let received = SystemClock.now();
    let (mut lines, mut originals, mut parsed) = (Vec::new(), Vec::new(), Vec::new());
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let at = || format!("{}: line {}", events.display(), n + 1);
        let line = line.with_context(at)?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("{}: not JSON", at()))?;
        let event = normalise(value.clone(), received, "rules-test")
            .map_err(|e| anyhow::anyhow!("{}: field {}: {e}", at(), e.field))?;
        lines.push(n + 1);
        originals.push((line, value));
        parsed.push(event);
    }
    let mut outcome = test_events(&detector, &parsed);
    // A detection rule's alerts are its matches, listed already.
    outcome
        .alerts
        .retain(|a| detector.rule(a.rule).kind == RuleKind::Correlation);
    let mut out = std::io::stdout().lock();
    let line_of = |id: &EventId| lines.get(id.0 as usize).copied().unwrap_or_default();
    if json {
        let matches: Vec<_> = outcome
            .matches
            .iter()
            .map(|(index, rules)| {
                let rules: Vec<_> = rules.iter().map(|&r| rule_json(&detector, r)).collect();
                json!({"line": lines[*index], "rules": rules, "event": originals[*index].1})
            })
            .collect();
        let alerts: Vec<_> = outcome
            .alerts
            .iter()
            .map(|a| {
                let group: serde_json::Map<_, _> =
                    a.group.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                let lines: Vec<usize> = a.events.iter().map(line_of).collect();
                json!({"rule": rule_json(&detector, a.rule), "group": group, "lines": lines})
            })
            .collect();
        let report = json!({
            "matched": outcome.matches.len(),
            "total": outcome.total,
            "matches": matches,
            "alerts": alerts,
        });
        writeln!(out, "{report}")?;
    } else {
        for (index, rules) in &outcome.matches {
            let titles: Vec<&str> = rules
                .iter()
                .map(|&r| detector.rule(r).title.as_str())
                .collect();
            writeln!(
                out,
                "line {}: [{}] {}",
                lines[*index],
                titles.join(", "),
                originals[*index].0
            )?;
        }
        for alert in &outcome.alerts {
            let group: Vec<String> = alert
                .group
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let lines: Vec<String> = alert
                .events
                .iter()
                .map(|e| line_of(e).to_string())
                .collect();
            writeln!(
                out,
                "alert: {} [{}] lines {}",
                detector.rule(alert.rule).title,
                group.join(" "),
                lines.join(",")
            )?;
        }
        writeln!(
            out,
            "{} rule(s); {} correlation alert(s); matched {} of {} events",
            detector.rules().len(),
            outcome.alerts.len(),
            outcome.matches.len(),
            outcome.total
        )?;
    }
    Ok(())
}

fn rule_json(detector: &Detector, index: usize) -> serde_json::Value {
    let rule = detector.rule(index);
    json!({"id": rule.key, "title": rule.title, "level": rule.level})
}
