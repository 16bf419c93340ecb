//! `rampart bench phish`: the analysis over corpora of real mail, one
//! directory of phishing and one of legitimate messages. Reports how many
//! of each score at least 50 (and the verdicts), which reasons fire, and
//! the time per message (p50, p95, max) and messages per second on all
//! cores. Files are split by position into halves (even, odd) so a rule
//! tuned on one half can be checked on the other. As on the server, a
//! sender counts as known once an earlier message of theirs was judged
//! clean (the legitimate corpus is read first, as the mailbox's history).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use std::collections::HashSet;

use rampart_mail::phish::{analyze, judge, read_message, Policy, Verdict};

use crate::percentile::percentile;

/// A score at or above this counts as flagged in the accuracy figures.
const FLAGGED: u32 = 50;

struct Outcome {
    score: u32,
    verdict: Option<Verdict>,
    codes: Vec<String>,
    micros: f64,
}

fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn run_corpus(
    files: &[PathBuf],
    policy: &Policy,
    senders: &mut HashSet<String>,
) -> anyhow::Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(files.len());
    for path in files {
        let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let started = Instant::now();
        let analysis = read_message(&raw, false).map(|facts| {
            let sender = facts.from.as_ref().map(|f| f.address.to_lowercase());
            let known = sender.as_ref().map(|s| senders.contains(s));
            (sender, judge(facts, policy, known))
        });
        let micros = started.elapsed().as_secs_f64() * 1e6;
        outcomes.push(match analysis {
            Ok((sender, a)) => {
                if let Some(sender) = sender.filter(|_| a.verdict == Verdict::Clean) {
                    senders.insert(sender);
                }
                Outcome {
                    score: a.score,
                    verdict: Some(a.verdict),
                    codes: a.reasons.into_iter().map(|r| r.code).collect(),
                    micros,
                }
            }
            Err(_) => Outcome {
                score: 0,
                verdict: None,
                codes: vec![],
                micros,
            },
        });
    }
    Ok(outcomes)
}

fn report(label: &str, outcomes: &[Outcome]) {
    let flagged = |part: &mut dyn Iterator<Item = &Outcome>| {
        let (mut n, mut hit) = (0usize, 0usize);
        for o in part {
            n += 1;
            hit += usize::from(o.score >= FLAGGED);
        }
        (hit, n)
    };
    let (hit, n) = flagged(&mut outcomes.iter());
    let (even_hit, even_n) = flagged(&mut outcomes.iter().step_by(2));
    let (odd_hit, odd_n) = flagged(&mut outcomes.iter().skip(1).step_by(2));
    let pct = |h: usize, n: usize| {
        if n == 0 {
            0.0
        } else {
            100.0 * h as f64 / n as f64
        }
    };
    println!(
        "{label}: {n} messages, {hit} score >= {FLAGGED} ({:.1}%); even half {:.1}%, odd half {:.1}%",
        pct(hit, n),
        pct(even_hit, even_n),
        pct(odd_hit, odd_n)
    );
    let unreadable = outcomes.iter().filter(|o| o.verdict.is_none()).count();
    let mut verdicts = std::collections::BTreeMap::new();
    for o in outcomes {
        *verdicts
            .entry(o.verdict.map_or("unreadable", |v| v.as_str()))
            .or_insert(0usize) += 1;
    }
    println!("  verdicts {verdicts:?} (unreadable {unreadable})");
    let mut codes = std::collections::BTreeMap::new();
    for o in outcomes {
        for code in &o.codes {
            *codes.entry(code.as_str()).or_insert(0usize) += 1;
        }
    }
    let mut codes: Vec<_> = codes.into_iter().collect();
    codes.sort_by_key(|c| std::cmp::Reverse(c.1));
    let listed: Vec<String> = codes.iter().map(|(c, n)| format!("{c} {n}")).collect();
    println!("  reasons: {}", listed.join(", "));
    let mut times: Vec<f64> = outcomes.iter().map(|o| o.micros).collect();
    times.sort_by(f64::total_cmp);
    println!(
        "  time per message: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        percentile(&times, 0.5) / 1e3,
        percentile(&times, 0.95) / 1e3,
        times.last().copied().unwrap_or(0.0) / 1e3
    );
}

/// Messages per second with one thread per core over every file.
fn throughput(files: &[PathBuf], policy: &Policy) -> anyhow::Result<(f64, usize)> {
    let raws: Vec<Vec<u8>> = files.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let raws = &raws;
            scope.spawn(move || {
                for raw in raws.iter().skip(t).step_by(threads) {
                    let _ = analyze(raw, policy, None, false);
                }
            });
        }
    });
    Ok((raws.len() as f64 / started.elapsed().as_secs_f64(), threads))
}

pub fn bench(
    phishing: &Path,
    legit: &[PathBuf],
    policy: Option<&PathBuf>,
    list: bool,
) -> anyhow::Result<()> {
    let policy = crate::phish::load_policy(policy)?;
    let phishing_files = files(phishing)?;
    let mut legit_files = Vec::new();
    for dir in legit {
        legit_files.extend(files(dir)?);
    }
    let mut senders = HashSet::new();
    let legit_outcomes = run_corpus(&legit_files, &policy, &mut senders)?;
    let phishing_outcomes = run_corpus(&phishing_files, &policy, &mut senders)?;
    report("phishing", &phishing_outcomes);
    report("legitimate", &legit_outcomes);
    if list {
        for (path, o) in phishing_files
            .iter()
            .zip(&phishing_outcomes)
            .filter(|(_, o)| o.score < FLAGGED)
        {
            println!("missed {} {} {:?}", o.score, path.display(), o.codes);
        }
        for (path, o) in legit_files
            .iter()
            .zip(&legit_outcomes)
            .filter(|(_, o)| o.score >= FLAGGED)
        {
            println!("false {} {} {:?}", o.score, path.display(), o.codes);
        }
    }
    let mut all = phishing_files;
    all.extend(legit_files);
    let (rate, threads) = throughput(&all, &policy)?;
    println!(
        "throughput: {rate:.0} messages/s on {threads} threads over {} messages",
        all.len()
    );
    Ok(())
}
