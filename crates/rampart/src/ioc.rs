//! `rampart ioc`: indicators of compromise in text, offline. `extract`
//! reads a file or standard input; with `--json`, one object per input
//! line (`{"ipv4": [...], ..., "cve": [...]}`), otherwise one indicator a
//! line (kind, value, confidence, as written). `fang` and `defang`
//! convert text for reading and for sharing.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use rampart_mail::ioc::{defang, extract, fang, IndicatorSet};

/// With `--json`, a line is read up to this many bytes at a time.
const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Subcommand)]
pub enum IocAction {
    /// The indicators of a file (standard input when absent or `-`).
    Extract {
        file: Option<PathBuf>,
        /// One JSON object per input line.
        #[arg(long)]
        json: bool,
    },
    /// Defanged indicators back to what they stand for (`hxxp`, `[.]`, …).
    Fang { file: Option<PathBuf> },
    /// Indicators made safe to paste (`hxxp`, `[.]`, `[@]`, `[://]`).
    Defang { file: Option<PathBuf> },
}

fn input(file: Option<&PathBuf>) -> anyhow::Result<Box<dyn std::io::BufRead>> {
    Ok(match file {
        Some(path) if path.as_os_str() != "-" => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?,
        )),
        _ => Box::new(std::io::BufReader::new(std::io::stdin())),
    })
}

pub fn run(action: IocAction) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match action {
        IocAction::Extract { file, json } => {
            let mut reader = input(file.as_ref())?;
            if json {
                let mut line = String::new();
                loop {
                    line.clear();
                    let read = (&mut reader)
                        .take(MAX_LINE_BYTES as u64)
                        .read_line(&mut line)
                        .context("reading the input")?;
                    if read == 0 {
                        break;
                    }
                    let set = IndicatorSet::of(&extract(&line));
                    serde_json::to_writer(&mut out, &set)?;
                    out.write_all(b"\n")?;
                }
            } else {
                let mut text = String::new();
                reader
                    .read_to_string(&mut text)
                    .context("reading the input")?;
                for found in extract(&text) {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        found.kind.as_str(),
                        found.value,
                        found.confidence.as_str(),
                        found.original
                    )?;
                }
            }
        }
        IocAction::Fang { file } => {
            let mut text = String::new();
            input(file.as_ref())?.read_to_string(&mut text)?;
            out.write_all(fang(&text).as_bytes())?;
        }
        IocAction::Defang { file } => {
            let mut text = String::new();
            input(file.as_ref())?.read_to_string(&mut text)?;
            out.write_all(defang(&text).as_bytes())?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Words of threat-report prose, for `rampart bench ioc`.
const WORDS: &[&str] = &[
    "the",
    "actor",
    "used",
    "a",
    "loader",
    "to",
    "deliver",
    "payload",
    "which",
    "then",
    "contacted",
    "its",
    "command",
    "and",
    "control",
    "server",
    "over",
    "HTTPS",
    "after",
    "initial",
    "access",
    "through",
    "phishing",
    "e-mail",
    "with",
    "an",
    "attachment",
    "named",
    "invoice.zip",
    "that",
    "dropped",
    "setup.exe",
    "in",
    "%TEMP%",
    "persistence",
    "was",
    "achieved",
    "by",
    "scheduled",
    "task",
    "we",
    "observed",
    "lateral",
    "movement",
    "using",
    "PsExec",
    "credentials",
    "dumped",
    "from",
    "LSASS",
    "memory",
    "data",
    "exfiltrated",
    "archive",
    "(see",
    "Figure",
    "3).",
    "In",
    "2024,",
    "campaign",
    "targeted",
    "finance",
    "sector",
    "organisations",
    "across",
    "Europe.",
    "Detection:",
    "Trojan.Win32.Agent.xyz",
    "calls",
    "os.path.join",
    "version",
    "1.2.3",
    "of",
];

/// Indicators sprinkled into the prose, defanged and bare.
const SPRINKLES: &[&str] = &[
    "hxxps://update-check[.]net/api/v2/beacon",
    "185.220.101[.]47",
    "cdn.example-telemetry.com",
    "d41d8cd98f00b204e9800998ecf8427e",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "payroll[at]corp-mail[.]org",
    "CVE-2024-3094",
    "http://45.77.12.9:8080/gate.php",
    "2001:db8:85a3::8a2e:370:7334",
];

/// Threat-report-like prose of about `bytes` bytes (one indicator in
/// roughly every 40 words), the same every time.
fn prose(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 128);
    let mut state: u64 = 0x5eed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut words = 0;
    while text.len() < bytes {
        let r = next();
        if r % 40 == 0 {
            text.push_str(SPRINKLES[next() % SPRINKLES.len()]);
        } else {
            text.push_str(WORDS[r % WORDS.len()]);
        }
        words += 1;
        text.push(if words % 18 == 0 { '\n' } else { ' ' });
    }
    text
}

/// `rampart bench ioc`: extraction speed on one core, in MB/s of text.
pub fn bench(file: Option<PathBuf>, megabytes: usize, runs: usize) -> anyhow::Result<()> {
    let (label, text) = match &file {
        Some(path) => (
            path.display().to_string(),
            String::from_utf8_lossy(
                &std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
            )
            .into_owned(),
        ),
        None => (
            "generated threat-report prose".to_owned(),
            prose(megabytes * 1_000_000),
        ),
    };
    let mb = text.len() as f64 / 1e6;
    let mut rates = Vec::new();
    let mut count = 0;
    for _ in 0..runs.max(1) {
        let started = std::time::Instant::now();
        count = extract(&text).len();
        rates.push(mb / started.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!(
        "{label}: {mb:.1} MB, {count} indicators; {runs} runs: median {median:.0} MB/s (min {:.0}, max {:.0}), one core",
        rates[0],
        rates[rates.len() - 1]
    );
    Ok(())
}
