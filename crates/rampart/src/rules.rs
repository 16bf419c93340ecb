//! `rampart rules`: check rule files and test rules against sample events,
//! offline.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Subcommand;
use rampart_detect::{
    load_dir, Document, FieldMapping, Placeholders, RuleSet, RuleSetBuilder, Scratch,
};

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
    },
}

pub fn run(action: RulesAction) -> anyhow::Result<()> {
    match action {
        RulesAction::Check { paths, verbose } => check(&paths, verbose),
        RulesAction::Test { rule, events, json } => test(&rule, &events, json),
    }
}

fn check(paths: &[PathBuf], verbose: bool) -> anyhow::Result<()> {
    let mut builder = RuleSetBuilder::new(FieldMapping::default(), Placeholders::new());
    let (mut loaded, mut failed) = (0usize, 0usize);
    let mut out = std::io::stdout().lock();
    for path in paths {
        let files = load_dir(path).with_context(|| format!("reading {}", path.display()))?;
        for file in files {
            for doc in file.documents {
                let result = match doc {
                    Ok(Document::Rule(rule)) => builder
                        .add(&rule)
                        .map(|_| rule.id.clone().unwrap_or(rule.title.clone()))
                        .map_err(|reason| match &rule.id {
                            Some(id) => format!("rule {id}: {reason}"),
                            None => format!("rule {:?}: {reason}", rule.title),
                        }),
                    Err(e) => Err(e.to_string()),
                };
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
    writeln!(out, "{loaded} rules loaded, {failed} failed")?;
    if failed > 0 {
        bail!("{failed} rules could not be loaded");
    }
    Ok(())
}

/// Compiles every rule of one file.
pub fn compile_file(path: &Path) -> anyhow::Result<RuleSet> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut builder = RuleSetBuilder::new(FieldMapping::default(), Placeholders::new());
    for doc in rampart_detect::parse_documents(&text) {
        match doc {
            Ok(Document::Rule(rule)) => {
                builder
                    .add(&rule)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            }
            Err(e) => bail!("{}: {e}", path.display()),
        }
    }
    let set = builder.build();
    if set.is_empty() {
        bail!("{} holds no rule", path.display());
    }
    Ok(set)
}

fn test(rule: &Path, events: &Path, json: bool) -> anyhow::Result<()> {
    let set = compile_file(rule)?;
    let file =
        std::fs::File::open(events).with_context(|| format!("reading {}", events.display()))?;
    let mut scratch = Scratch::default();
    let mut hits = Vec::new();
    let mut matches = Vec::new();
    let (mut total, mut matched) = (0usize, 0usize);
    let mut out = std::io::stdout().lock();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", events.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let event: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("{}: line {}: not JSON", events.display(), n + 1))?;
        total += 1;
        set.evaluate(&event, &mut scratch, &mut hits);
        if hits.is_empty() {
            continue;
        }
        matched += 1;
        if json {
            let rules: Vec<_> = hits.iter().map(|&i| rule_json(&set, i)).collect();
            matches.push(serde_json::json!({"line": n + 1, "rules": rules, "event": event}));
        } else {
            let titles: Vec<&str> = hits.iter().map(|&i| set.rule(i).title.as_str()).collect();
            writeln!(out, "line {}: [{}] {line}", n + 1, titles.join(", "))?;
        }
    }
    if json {
        let report = serde_json::json!({"matched": matched, "total": total, "matches": matches});
        writeln!(out, "{report}")?;
    } else {
        writeln!(
            out,
            "{} rule(s); matched {matched} of {total} events",
            set.len()
        )?;
    }
    Ok(())
}

fn rule_json(set: &RuleSet, index: usize) -> serde_json::Value {
    let meta = set.rule(index);
    serde_json::json!({"id": meta.id, "title": meta.title, "level": meta.level})
}
