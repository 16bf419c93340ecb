//! The detection end to end: a realistic sshd auth.log (brute-forcing
//! sources, sources that stay just below the threshold, ordinary logins),
//! sent over HTTP to a running server, then the brute-force incidents
//! compared with the log's ground truth; and the incident API's latency.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use crate::bench_detect::Rng;
use crate::percentile::percentile;

/// The built-in SSH brute-force rule.
const BRUTE_FORCE_RULE: &str = "3f731da3-bfb2-4ae7-9a66-5d8a696a451f";
const WINDOW_MS: i64 = 5 * 60 * 1000;
const THRESHOLD: usize = 5;
/// 2026-11-23T00:00:00Z
const START_MS: i64 = 1_795_392_000_000;

const USERS: &[&str] = &[
    "alice", "bob", "carol", "deploy", "backup", "svc-ci", "erin", "frank",
];
const GUESSES: &[&str] = &[
    "admin",
    "oracle",
    "test",
    "ubuntu",
    "postgres",
    "git",
    "user",
    "ftpuser",
    "pi",
    "guest",
    "support",
    "minecraft",
    "hadoop",
    "jenkins",
    "ansible",
];

struct Log {
    /// `(time, sshd pid, message)`.
    lines: Vec<(i64, u32, String)>,
    /// Per source address, the times of its failed attempts.
    attempts: HashMap<String, Vec<i64>>,
}

impl Log {
    fn line(&mut self, at: i64, pid: u32, text: String) {
        self.lines.push((at, pid, text));
    }

    fn attempt(&mut self, ip: &str, at: i64) {
        self.attempts.entry(ip.to_owned()).or_default().push(at);
    }

    /// One failed attempt, written the way sshd writes it.
    fn failed_attempt(&mut self, rng: &mut Rng, ip: &str, at: i64) {
        let pid = 10_000 + rng.below(50_000) as u32;
        let port = 1024 + rng.below(60_000);
        match rng.below(10) {
            // An unknown user and the password tried for it: one attempt, two lines.
            0..=4 => {
                let user = rng.pick(GUESSES);
                self.line(
                    at,
                    pid,
                    format!("Invalid user {user} from {ip} port {port}"),
                );
                self.line(
                    at + 400,
                    pid,
                    format!("Failed password for invalid user {user} from {ip} port {port} ssh2"),
                );
            }
            // An unknown user on a key-only path: one attempt, then the close.
            5 => {
                let user = rng.pick(GUESSES);
                self.line(
                    at,
                    pid,
                    format!("Invalid user {user} from {ip} port {port}"),
                );
                self.line(
                    at + 300,
                    pid,
                    format!("Connection closed by invalid user {user} {ip} port {port} [preauth]"),
                );
            }
            _ => {
                self.line(
                    at,
                    pid,
                    format!("Failed password for root from {ip} port {port} ssh2"),
                );
            }
        }
        self.attempt(ip, at);
    }
}

/// Writes an auth.log of about `lines` lines and the ground truth: every
/// source with at least 5 attempts inside some 5-minute window.
pub fn auth_log(lines: usize, seed: u64, out: &mut impl Write, truth: &Path) -> anyhow::Result<()> {
    let mut rng = Rng(seed.max(1));
    let span_ms = (lines as i64 / 70).max(600) * 1000; // about 70 lines per second
    let mut log = Log {
        lines: Vec::with_capacity(lines + 1000),
        attempts: HashMap::new(),
    };
    let attackers = (lines / 5000).max(4);
    let near_misses = (lines / 3000).max(4);
    for a in 0..attackers {
        let ip = format!("45.{}.{}.{}", 10 + a / 250, a % 250, 7 + a % 200);
        for _ in 0..1 + rng.below(3) {
            let mut at = START_MS + rng.below(span_ms as usize) as i64;
            for _ in 0..6 + rng.below(35) {
                log.failed_attempt(&mut rng, &ip, at);
                at += 2_000 + rng.below(8_000) as i64;
            }
        }
    }
    for n in 0..near_misses {
        // Four attempts in three minutes, and maybe four more at least six
        // minutes later: never five inside five minutes.
        let ip = format!("198.18.{}.{}", n / 250, 1 + n % 250);
        let mut at = START_MS + rng.below((span_ms - 3_600_000).max(1) as usize) as i64;
        for burst in 0..1 + rng.below(2) {
            if burst == 1 {
                at += 6 * 60_000 + rng.below(600_000) as i64;
            }
            let first = at;
            for step in 0..4 {
                log.failed_attempt(&mut rng, &ip, at);
                at = first + (step + 1) * (10_000 + rng.below(40_000) as i64);
            }
        }
    }
    // Everything else: people logging in and out, and the odd typo.
    while log.lines.len() < lines {
        let at = START_MS + rng.below(span_ms as usize) as i64;
        let ip = format!("10.20.{}.{}", rng.below(4), 1 + rng.below(250));
        let user = rng.pick(USERS);
        let pid = 10_000 + rng.below(50_000) as u32;
        let port = 1024 + rng.below(60_000);
        if rng.below(200) == 0 {
            log.line(
                at,
                pid,
                format!("Failed password for {user} from {ip} port {port} ssh2"),
            );
            log.attempt(&ip, at);
        }
        let method = if rng.below(3) == 0 {
            "password"
        } else {
            "publickey"
        };
        log.line(
            at + 500,
            pid,
            format!("Accepted {method} for {user} from {ip} port {port} ssh2"),
        );
        log.line(
            at + 600,
            pid,
            format!("pam_unix(sshd:session): session opened for user {user}(uid=1000) by (uid=0)"),
        );
        let end = at + 60_000 + rng.below(3_600_000) as i64;
        log.line(
            end,
            pid,
            format!("Received disconnect from {ip} port {port}:11: disconnected by user"),
        );
        log.line(
            end + 5,
            pid,
            format!("Disconnected from user {user} {ip} port {port}"),
        );
        log.line(
            end + 10,
            pid,
            format!("pam_unix(sshd:session): session closed for user {user}"),
        );
    }
    log.lines.sort_by_key(|(at, _, _)| *at);
    for (at, pid, text) in &log.lines {
        let stamp = rampart_core::Timestamp(*at).to_rfc3339();
        // "2026-11-23T10:00:00Z" → "Nov 23 10:00:00"
        let clock = stamp.get(11..19).unwrap_or("00:00:00");
        let day = stamp.get(8..10).unwrap_or("23").trim_start_matches('0');
        writeln!(out, "Nov {day:>2} {clock} bastion sshd[{pid}]: {text}")?;
    }
    let mut flagged: Vec<&String> = log
        .attempts
        .iter()
        .filter(|(_, times)| brute_forcing(times))
        .map(|(ip, _)| ip)
        .collect();
    flagged.sort();
    let mut file = std::io::BufWriter::new(std::fs::File::create(truth)?);
    for ip in &flagged {
        writeln!(file, "{ip}")?;
    }
    file.flush()?;
    eprintln!(
        "{} lines; {} sources attempted logins and failed; {} of them brute-force (in {})",
        log.lines.len(),
        log.attempts.len(),
        flagged.len(),
        truth.display()
    );
    Ok(())
}

/// The reference definition: at least 5 attempts within 5 minutes.
fn brute_forcing(times: &[i64]) -> bool {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted
        .windows(THRESHOLD)
        .any(|w| w[THRESHOLD - 1] - w[0] <= WINDOW_MS)
}

/// Sends an auth.log over HTTP (raw syslog lines, in order, `clients` at a
/// time), then compares the brute-force incidents with the ground truth.
pub async fn send_auth_log(
    url: &str,
    token: &str,
    file: &Path,
    truth: &Path,
    chunk: usize,
    clients: usize,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let lines: Vec<&str> = text.lines().collect();
    let chunks: Arc<Vec<String>> =
        Arc::new(lines.chunks(chunk.max(1)).map(|c| c.join("\n")).collect());
    let expected: BTreeSet<String> = std::fs::read_to_string(truth)
        .with_context(|| format!("reading {}", truth.display()))?
        .lines()
        .map(str::to_owned)
        .collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()?;
    let base = url.trim_end_matches('/').to_owned();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, base, token, next, chunks) = (
            client.clone(),
            base.clone(),
            token.to_owned(),
            next.clone(),
            chunks.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rejected = 0u64;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = chunks.get(n) else { break };
                loop {
                    let response = client
                        .post(format!(
                            "{base}/api/v1/events/raw?format=syslog&source=auth.log"
                        ))
                        .bearer_auth(&token)
                        .header("content-type", "text/plain")
                        .body(body.clone())
                        .send()
                        .await?;
                    let status = response.status();
                    let answer: Value = response.json().await.unwrap_or(Value::Null);
                    if status.as_u16() == 503 {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    if !status.is_success() {
                        bail!("chunk {n}: server answered {status}: {answer}");
                    }
                    rejected += answer["rejected"].as_u64().unwrap_or(0);
                    break;
                }
            }
            Ok::<_, anyhow::Error>(rejected)
        }));
    }
    let mut rejected = 0;
    for task in tasks {
        rejected += task.await.context("client task")??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "sent {} lines in {} requests from {clients} clients in {elapsed:.2} s: {:.0} lines/s ({rejected} lines refused)",
        lines.len(),
        chunks.len(),
        lines.len() as f64 / elapsed
    );
    let flagged = brute_force_sources(&client, &base, token).await?;
    let missed: Vec<&String> = expected.difference(&flagged).collect();
    let wrong: Vec<&String> = flagged.difference(&expected).collect();
    println!(
        "brute-force incidents: {} sources flagged; ground truth {}; missed {}; flagged below the threshold {}",
        flagged.len(),
        expected.len(),
        missed.len(),
        wrong.len()
    );
    if !missed.is_empty() || !wrong.is_empty() {
        bail!("missed {missed:?}; wrongly flagged {wrong:?}");
    }
    Ok(())
}

/// The source addresses of every brute-force incident.
async fn brute_force_sources(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = client
            .get(format!("{base}/api/v1/incidents"))
            .bearer_auth(token)
            .query(&[("rule_id", BRUTE_FORCE_RULE), ("limit", "1000")]);
        if let Some(c) = &cursor {
            request = request.query(&[("cursor", c)]);
        }
        let page: Value = request.send().await?.error_for_status()?.json().await?;
        for item in page["items"].as_array().into_iter().flatten() {
            if let Some(ip) = item["group_key"]
                .as_str()
                .and_then(|k| k.strip_prefix("source.ip="))
            {
                out.insert(ip.to_owned());
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(out),
        }
    }
}

/// Manual incident creation and incident listing, one request at a time:
/// p50/p95/p99 of each.
pub async fn incidents(url: &str, token: &str, count: usize) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let base = url.trim_end_matches('/');
    let mut create = Vec::with_capacity(count);
    for n in 0..count {
        let body = json!({
            "title": format!("Benchmark case {n}"),
            "severity": 1 + n % 5,
            "entities": {"ips": [format!("192.0.2.{}", n % 250)], "users": ["alice"]},
        });
        let started = Instant::now();
        let response = client
            .post(format!("{base}/api/v1/incidents"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let _ = response.bytes().await?;
        create.push(started.elapsed().as_secs_f64() * 1000.0);
        if status.as_u16() != 201 {
            bail!("create answered {status}");
        }
    }
    let queries = [
        "limit=100",
        "limit=100&sort=-severity",
        "limit=100&status=open&min_severity=high",
        "limit=50&q=case%2012",
    ];
    let mut list = Vec::new();
    for n in 0..count.max(4) {
        let q = queries[n % queries.len()];
        let started = Instant::now();
        let response = client
            .get(format!("{base}/api/v1/incidents?{q}"))
            .bearer_auth(token)
            .send()
            .await?;
        let status = response.status();
        let _ = response.bytes().await?;
        list.push(started.elapsed().as_secs_f64() * 1000.0);
        if !status.is_success() {
            bail!("list answered {status}");
        }
    }
    for (name, times) in [("create", &mut create), ("list", &mut list)] {
        times.sort_by(f64::total_cmp);
        println!(
            "incident {name}: {} requests, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
            times.len(),
            percentile(times, 0.50),
            percentile(times, 0.95),
            percentile(times, 0.99)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    fn read_lines(path: &Path) -> Vec<String> {
        let file = std::fs::File::open(path).unwrap();
        std::io::BufReader::new(file)
            .lines()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn the_reference_window_counts_five_within_five_minutes() {
        let m = 60_000;
        assert!(brute_forcing(&[0, m, 2 * m, 3 * m, 5 * m]));
        assert!(!brute_forcing(&[0, m, 2 * m, 3 * m, 5 * m + 1]));
        assert!(!brute_forcing(&[0, 1, 2, 3]));
    }

    #[test]
    fn the_generated_log_has_attackers_and_near_misses() {
        let dir = tempfile::tempdir().unwrap();
        let truth = dir.path().join("truth");
        let mut out = Vec::new();
        auth_log(20_000, 3, &mut out, &truth).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().count() >= 20_000);
        assert!(
            text.lines().all(|l| l.starts_with("Nov 23 ")),
            "{}",
            &text[..200]
        );
        let flagged = read_lines(&truth);
        assert!(
            flagged.iter().all(|ip| ip.starts_with("45.")),
            "only designed attackers: {flagged:?}"
        );
        assert!(flagged.len() >= 4);
        assert!(text.contains("Failed password for invalid user"));
    }
}
