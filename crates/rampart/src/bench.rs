//! `rampart bench`: reproducible load figures. `ingest` drives a running
//! server over HTTP with NDJSON batches from concurrent clients; `naive-*`
//! bulk-load the same rows into one plainly indexed table, the baseline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Subcommand;
use sqlx::Connection as _;

use crate::bench_events::{sample_event, sample_source_ip, sample_timestamp};
use crate::percentile::percentile;

#[derive(Subcommand)]
pub enum BenchAction {
    /// Indicator extraction speed on one core (MB/s of text): generated
    /// threat-report prose, or a file.
    Ioc {
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        /// Size of the generated prose.
        #[arg(long, default_value_t = 50)]
        megabytes: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Watchlist matching per event on one core, with a feed's entries
    /// (CSV or STIX; scripts/watchlist-feed.py makes one) against none.
    Watch {
        #[arg(long)]
        feed: std::path::PathBuf,
        #[arg(long, default_value_t = 200_000)]
        events: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Phishing analysis over real mail: accuracy and speed.
    Phish {
        /// A directory of phishing messages (one raw message a file).
        #[arg(long)]
        phishing: std::path::PathBuf,
        /// Directories of legitimate messages.
        #[arg(long, required = true)]
        legit: Vec<std::path::PathBuf>,
        /// The organisation's policy, as JSON (see `rampart phish analyze`).
        #[arg(long)]
        policy: Option<std::path::PathBuf>,
        /// List the misses and false alarms.
        #[arg(long)]
        list: bool,
    },
    /// Sustained HTTP ingest against a running server.
    Ingest {
        /// The server's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An API key with the ingest scope (or a user token).
        #[arg(long, env = "RAMPART_TOKEN", hide_env_values = true)]
        token: String,
        /// Events to send in all.
        #[arg(long, default_value_t = 2_000_000)]
        events: usize,
        /// Events per request.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Report the peak RSS (VmHWM) of this process id at the end.
        #[arg(long)]
        server_pid: Option<u32>,
        /// The first event's `@timestamp` (epoch ms); later ones advance by
        /// 1 ms per 100 events. Default: now, as from a live source. An
        /// older start sends late data (on PostgreSQL: into sealed hours).
        #[arg(long)]
        start_ms: Option<i64>,
    },
    /// The baseline: the same rows into one SQLite table with indexes on
    /// (org_id, ts) and (org_id, src_ip, ts), one transaction, prepared inserts.
    NaiveSqlite {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Database file (created fresh).
        #[arg(long, default_value = "naive-bench.db")]
        path: std::path::PathBuf,
    },
    /// Print the baseline rows as TSV (org_id, ts, src_ip, JSON document),
    /// for loading with other tools (scripts/naive-sqlite.py).
    Rows {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
    },
    /// Filtered searches against a running server: p50/p95 per query.
    Query {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, env = "RAMPART_TOKEN", hide_env_values = true)]
        token: String,
        /// Runs of each query.
        #[arg(long, default_value_t = 40)]
        runs: usize,
    },
    /// Write Sysmon-like NDJSON events (about 1 in 100 suspicious) to stdout.
    SysmonEvents {
        #[arg(long, default_value_t = 200_000)]
        events: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Single-threaded Sigma evaluation: NDJSON events in, verdicts out.
    Detect {
        /// A rule directory (e.g. ../shared/data/sigmahq/rules/windows).
        #[arg(long)]
        rules: std::path::PathBuf,
        /// Use only the first N rules, by path.
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        events: std::path::PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Write `line<TAB>rule id` per match to this file.
        #[arg(long)]
        verdicts: Option<std::path::PathBuf>,
    },
    /// Write a realistic sshd auth.log to stdout, and its ground truth
    /// (the sources brute-forcing: 5 attempts within 5 minutes) to --truth.
    AuthLog {
        #[arg(long, default_value_t = 1_000_000)]
        lines: usize,
        #[arg(long, default_value_t = 11)]
        seed: u64,
        #[arg(long, default_value = "auth-truth.txt")]
        truth: std::path::PathBuf,
    },
    /// Send an auth.log to a running server over HTTP (raw syslog lines)
    /// and compare its brute-force incidents with the ground truth.
    AuthLogSend {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An API key with the ingest and read scopes (or an admin token).
        #[arg(long, env = "RAMPART_TOKEN", hide_env_values = true)]
        token: String,
        #[arg(long)]
        file: std::path::PathBuf,
        #[arg(long, default_value = "auth-truth.txt")]
        truth: std::path::PathBuf,
        /// Lines per request.
        #[arg(long, default_value_t = 2000)]
        chunk: usize,
        #[arg(long, default_value_t = 4)]
        clients: usize,
    },
    /// Manual incident creation and incident lists, one request at a time.
    Incidents {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// A token or API key allowed to work incidents.
        #[arg(long, env = "RAMPART_TOKEN", hide_env_values = true)]
        token: String,
        #[arg(long, default_value_t = 2000)]
        count: usize,
    },
    /// The job queue: enqueue rate, claim latency and no-op jobs completed
    /// per second by the workers, on a fresh SQLite file or on the
    /// PostgreSQL database given (use an empty schema).
    Jobs {
        #[arg(long, default_value_t = 100_000)]
        jobs: usize,
        /// Jobs each node runs at once (the default queue's default).
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Worker pools (as separate nodes would run them).
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        #[arg(long, env = "RAMPART_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Feature flag evaluation in-process, through a node's flag cache.
    Flags {
        #[arg(long, default_value_t = 1_000_000)]
        evaluations: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// One rate limit check, in-process or (with --redis-url) in Redis.
    Limits {
        #[arg(long, default_value_t = 200_000)]
        checks: usize,
        #[arg(long, default_value_t = 10_000)]
        keys: usize,
        #[arg(long, default_value_t = 8)]
        tasks: usize,
        #[arg(long, env = "RAMPART_REDIS_URL", hide_env_values = true)]
        redis_url: Option<String>,
    },
    /// The baseline on PostgreSQL: COPY into one table with the same indexes.
    NaivePostgres {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        #[arg(long, env = "RAMPART_DATABASE_URL", hide_env_values = true)]
        database_url: String,
    },
}

pub async fn run(action: BenchAction) -> anyhow::Result<()> {
    match action {
        BenchAction::Ioc {
            file,
            megabytes,
            runs,
        } => crate::ioc::bench(file, megabytes, runs),
        BenchAction::Watch { feed, events, runs } => crate::bench_watch::bench(feed, events, runs),
        BenchAction::Phish {
            phishing,
            legit,
            policy,
            list,
        } => crate::bench_phish::bench(&phishing, &legit, policy.as_ref(), list),
        BenchAction::Ingest {
            url,
            token,
            events,
            batch,
            clients,
            server_pid,
            start_ms,
        } => {
            let start_ms =
                start_ms.unwrap_or_else(|| rampart_core::Clock::now(&rampart_core::SystemClock).0);
            let load = Load {
                events,
                batch,
                clients,
                start_ms,
            };
            ingest(&url, &token, &load, server_pid).await
        }
        BenchAction::NaiveSqlite { rows, path } => naive_sqlite(rows, &path).await,
        BenchAction::Rows { rows } => {
            use std::io::Write as _;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for row in baseline_rows(rows) {
                writeln!(out, "{NAIVE_ORG}\t{}\t{}\t{}", row.ts, row.src_ip, row.json)?;
            }
            Ok(())
        }
        BenchAction::Query { url, token, runs } => query(&url, &token, runs).await,
        BenchAction::SysmonEvents { events, seed } => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            crate::bench_detect::sysmon_events(events, seed, &mut out)
        }
        BenchAction::Detect {
            rules,
            limit,
            events,
            runs,
            verdicts,
        } => crate::bench_detect::detect(&rules, limit, &events, runs, verdicts),
        BenchAction::AuthLog { lines, seed, truth } => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            crate::bench_auth::auth_log(lines, seed, &mut out, &truth)
        }
        BenchAction::AuthLogSend {
            url,
            token,
            file,
            truth,
            chunk,
            clients,
        } => crate::bench_auth::send_auth_log(&url, &token, &file, &truth, chunk, clients).await,
        BenchAction::Incidents { url, token, count } => {
            crate::bench_auth::incidents(&url, &token, count).await
        }
        BenchAction::Jobs {
            jobs,
            concurrency,
            nodes,
            database_url,
        } => {
            crate::bench_jobs::run(crate::bench_jobs::JobsBench {
                jobs,
                concurrency,
                nodes,
                database_url,
            })
            .await
        }
        BenchAction::Flags { evaluations, runs } => {
            crate::bench_flags::run(evaluations, runs).await
        }
        BenchAction::Limits {
            checks,
            keys,
            tasks,
            redis_url,
        } => crate::bench_limits::run(checks, keys, tasks, redis_url).await,
        BenchAction::NaivePostgres { rows, database_url } => {
            naive_postgres(rows, &database_url).await
        }
    }
}

fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// What `bench ingest` sends.
struct Load {
    events: usize,
    batch: usize,
    clients: usize,
    /// The first `@timestamp` (epoch ms).
    start_ms: i64,
}

/// Sample events per millisecond of `@timestamp`.
const EVENTS_PER_MS: usize = 100;

async fn ingest(
    url: &str,
    token: &str,
    load: &Load,
    server_pid: Option<u32>,
) -> anyhow::Result<()> {
    let Load {
        events,
        batch,
        clients,
        start_ms: base_ms,
    } = *load;
    if batch == 0 || clients == 0 {
        bail!("--batch and --clients must be positive");
    }
    if !(1_000_000_000_000..10_000_000_000_000).contains(&base_ms) {
        bail!("--start-ms must be a 13-digit epoch millisecond time");
    }
    // Pre-built bodies, so the client spends its CPU on sending, not
    // formatting; each request stamps fresh, advancing @timestamps into a
    // copy (fixed-width epoch ms at known offsets), as a live source would.
    let bodies: Vec<(bytes::Bytes, Vec<usize>)> = (0..64)
        .map(|b| {
            let text: String = (0..batch)
                .map(|i| sample_event(b * batch + i, base_ms) + "\n")
                .collect();
            let offsets = text
                .match_indices("\"@timestamp\":")
                .map(|(at, m)| at + m.len())
                .collect();
            (bytes::Bytes::from(text), offsets)
        })
        .collect();
    let shared = Arc::new(bodies);
    let bodies = shared.clone();
    let stamp = move |n: usize| -> bytes::Bytes {
        let (body, offsets) = &shared[n % shared.len()];
        let mut copy = body.to_vec();
        for (j, at) in offsets.iter().enumerate() {
            let ts = (base_ms + ((n * batch + j) / EVENTS_PER_MS) as i64).to_string();
            copy[*at..*at + ts.len()].copy_from_slice(ts.as_bytes());
        }
        bytes::Bytes::from(copy)
    };
    let avg =
        bodies.iter().map(|b| b.0.len()).sum::<usize>() as f64 / (bodies.len() * batch) as f64;
    let requests = events.div_ceil(batch);
    let next = Arc::new(AtomicU64::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(120))
        .build()?;
    let endpoint = format!("{}/api/v1/events", url.trim_end_matches('/'));
    println!(
        "sending {} events in {requests} NDJSON requests of {batch} (~{avg:.0} bytes/event) from {clients} clients",
        requests * batch
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, endpoint, token, next) = (
            client.clone(),
            endpoint.clone(),
            token.to_owned(),
            next.clone(),
        );
        let stamp = stamp.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut refused = 0u64;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                if n >= requests {
                    break;
                }
                let body = stamp(n);
                loop {
                    let sent = Instant::now();
                    let response = client
                        .post(&endpoint)
                        .bearer_auth(&token)
                        .header("content-type", "application/x-ndjson")
                        .body(body.clone())
                        .send()
                        .await?;
                    let status = response.status();
                    let _ = response.bytes().await?;
                    if status.as_u16() == 503 || status.as_u16() == 429 {
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    if !status.is_success() {
                        anyhow::bail!("server answered {status}");
                    }
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
            }
            Ok::<_, anyhow::Error>((latencies, refused))
        }));
    }
    let mut latencies = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (l, r) = task.await.context("client task")??;
        latencies.extend(l);
        refused += r;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let sent = latencies.len() * batch;
    println!(
        "ingested {sent} events in {elapsed:.2} s: {:.0} events/s",
        sent as f64 / elapsed
    );
    println!(
        "acknowledgement latency per request: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {refused} answered 503/429 and were retried",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0.0)
    );
    if let Some(pid) = server_pid {
        match peak_rss_mib(pid) {
            Some(mib) => println!("server peak RSS (VmHWM): {mib:.0} MiB"),
            None => println!("server peak RSS: /proc/{pid}/status unreadable"),
        }
    }
    Ok(())
}

/// The baseline rows: the same events, flattened to the typical columns.
struct Row {
    ts: i64,
    src_ip: String,
    json: String,
}

fn baseline_rows(rows: usize) -> Vec<Row> {
    let base_ms = 1_795_000_000_000;
    (0..rows)
        .map(|i| {
            let json = sample_event(i, base_ms);
            Row {
                ts: sample_timestamp(i, base_ms),
                src_ip: sample_source_ip(i),
                json,
            }
        })
        .collect()
}

const NAIVE_ORG: &str = "0190b7a2-0000-7000-8000-000000000001";

/// The searches `bench query` times: typical analyst filters.
const QUERIES: &[&str] = &[
    "limit=100",
    "limit=100&action=ssh_login&outcome=failure",
    "limit=100&source_ip=10.7.7.7",
    "limit=100&source_ip=155.227.181.46",
    "limit=100&source_ip=10.0.0.0/8&min_severity=3",
    "limit=100&source_ip=203.0.113.0/24",
    "limit=100&user=user42&action=ssh_login",
    "limit=100&host=fw-1&destination_ip=198.51.100.22",
    "limit=100&host=web-3&category=authentication",
    "limit=1000&category=network",
    "limit=100&q=user42%20from",
];

async fn query(url: &str, token: &str, runs: usize) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    println!(
        "{:<55} {:>8} {:>8} {:>6}",
        "query", "p50 ms", "p95 ms", "hits"
    );
    for q in QUERIES {
        let mut times = Vec::with_capacity(runs);
        let mut hits = 0;
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            let response = client
                .get(format!("{}/api/v1/events?{q}", url.trim_end_matches('/')))
                .bearer_auth(token)
                .send()
                .await?;
            if !response.status().is_success() {
                bail!("{q}: server answered {}", response.status());
            }
            let page: serde_json::Value = response.json().await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            hits = page["items"].as_array().map_or(0, Vec::len);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{q:<55} {:>8.1} {:>8.1} {hits:>6}",
            percentile(&times, 0.5),
            percentile(&times, 0.95)
        );
    }
    Ok(())
}

const NAIVE_TABLE: &str = "CREATE TABLE events (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, \
     ts INTEGER NOT NULL, src_ip TEXT, doc TEXT NOT NULL)";

async fn naive_sqlite(rows: usize, path: &std::path::Path) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(path);
    let data = baseline_rows(rows);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await?;
    sqlx::query("PRAGMA journal_mode=WAL")
        .execute(&mut conn)
        .await?;
    sqlx::query("PRAGMA synchronous=FULL")
        .execute(&mut conn)
        .await?;
    sqlx::query(NAIVE_TABLE).execute(&mut conn).await?;
    sqlx::query("CREATE INDEX events_org_ts ON events (org_id, ts)")
        .execute(&mut conn)
        .await?;
    sqlx::query("CREATE INDEX events_org_ip_ts ON events (org_id, src_ip, ts)")
        .execute(&mut conn)
        .await?;
    let org = NAIVE_ORG;
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    for row in &data {
        sqlx::query("INSERT INTO events (org_id, ts, src_ip, doc) VALUES (?1, ?2, ?3, ?4)")
            .bind(org)
            .bind(row.ts)
            .bind(&row.src_ip)
            .bind(&row.json)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "naive SQLite: {rows} rows in one transaction in {elapsed:.2} s: {:.0} rows/s",
        rows as f64 / elapsed
    );
    Ok(())
}

async fn naive_postgres(rows: usize, url: &str) -> anyhow::Result<()> {
    let data = baseline_rows(rows);
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::query("DROP TABLE IF EXISTS naive_bench_events")
        .execute(&mut conn)
        .await?;
    sqlx::query(
        "CREATE TABLE naive_bench_events (id BIGSERIAL PRIMARY KEY, org_id TEXT NOT NULL, \
         ts BIGINT NOT NULL, src_ip INET, doc TEXT NOT NULL)",
    )
    .execute(&mut conn)
    .await?;
    sqlx::query("CREATE INDEX ON naive_bench_events (org_id, ts)")
        .execute(&mut conn)
        .await?;
    sqlx::query("CREATE INDEX ON naive_bench_events (org_id, src_ip, ts)")
        .execute(&mut conn)
        .await?;
    let org = NAIVE_ORG;
    let mut text = String::with_capacity(rows * 400);
    for row in &data {
        let doc = row.json.replace('\\', "\\\\");
        text.push_str(&format!("{org}\t{}\t{}\t{doc}\n", row.ts, row.src_ip));
    }
    let started = Instant::now();
    let mut copy = conn
        .copy_in_raw("COPY naive_bench_events (org_id, ts, src_ip, doc) FROM STDIN")
        .await?;
    copy.send(text.as_bytes()).await?;
    copy.finish().await?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "naive PostgreSQL COPY: {rows} rows in {elapsed:.2} s: {:.0} rows/s",
        rows as f64 / elapsed
    );
    sqlx::query("DROP TABLE naive_bench_events")
        .execute(&mut conn)
        .await?;
    Ok(())
}
