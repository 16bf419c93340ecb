//! `rampart intel`: threat intelligence in the configured database. The
//! operator loads CISA's KEV catalogue and FIRST's EPSS scores from their
//! published files (every organisation's findings that name a CVE are
//! scored again), and can see what is loaded and what is known about a CVE.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use rampart_app::audit::Audit;
use rampart_app::vulns::{CveReport, Vulnerabilities};
use rampart_core::intel::IntelSourceName;
use rampart_core::SystemClock;
use rampart_scan::intel::{cve_id, MAX_INTEL_BYTES};
use rampart_server::ServeOptions;
use rampart_store::Store;

#[derive(Subcommand)]
pub enum IntelAction {
    /// Replace a source's data with a release file, then score again every
    /// finding that names a CVE.
    Load {
        /// `kev` (known_exploited_vulnerabilities.json) or `epss`
        /// (epss_scores-current.csv[.gz]).
        #[arg(value_parser = parse_source)]
        source: IntelSourceName,
        /// The file (`-` for standard input) or an http(s) URL to fetch;
        /// gzip is recognised.
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The releases loaded.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// What the loaded data says about a CVE.
    Show {
        cve: String,
        #[arg(long)]
        json: bool,
    },
}

fn parse_source(name: &str) -> Result<IntelSourceName, String> {
    IntelSourceName::parse(name).ok_or_else(|| "one of: kev, epss".to_owned())
}

fn read_file(file: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let reader: Box<dyn std::io::Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(file).with_context(|| format!("reading {}", file.display()))?)
    };
    reader
        .take(MAX_INTEL_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", file.display()))?;
    Ok(bytes)
}

pub async fn run(options: &ServeOptions, action: IntelAction) -> anyhow::Result<()> {
    let store = crate::accounts_for(options).await?.store;
    let result = act(&store, action).await;
    store.close().await;
    result
}

async fn act(store: &Arc<dyn Store>, action: IntelAction) -> anyhow::Result<()> {
    match action {
        IntelAction::Load { source, file, json } => {
            let named = file.to_string_lossy();
            let bytes = if rampart_app::vulns::is_url(&named) {
                let client = rampart_app::vulns::feed_client(&Default::default())
                    .map_err(anyhow::Error::msg)?;
                rampart_app::vulns::download(&client, &named)
                    .await
                    .map_err(anyhow::Error::msg)?
            } else {
                read_file(&file)?
            };
            let clock = Arc::new(SystemClock);
            let vulns = Vulnerabilities::new(
                store.clone(),
                clock.clone(),
                Audit::new(store.clone(), clock),
            );
            let load = vulns
                .load_intel(source, bytes)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&load)?);
            } else {
                println!(
                    "{} {} loaded: {} rows in {} ms; {} findings scored again",
                    load.source.source.as_str(),
                    load.source.version,
                    load.source.rows,
                    load.load_ms,
                    load.rescored
                );
            }
        }
        IntelAction::Status { json } => {
            let sources = store.intel_sources().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&sources)?);
            } else if sources.is_empty() {
                println!("nothing loaded (rampart intel load kev|epss FILE)");
            }
            for s in sources.iter().filter(|_| !json) {
                println!(
                    "{:<5} {:<14} released {:<26} {:>8} rows, loaded {}",
                    s.source.as_str(),
                    s.version,
                    s.released.as_deref().unwrap_or("-"),
                    s.rows,
                    s.loaded_at
                );
            }
        }
        IntelAction::Show { cve, json } => {
            let cve = cve_id(&cve).context("a CVE id such as CVE-2021-44228")?;
            let mut known = store.intel_for(std::slice::from_ref(&cve)).await?;
            let report = CveReport {
                intel: known.remove(&cve).unwrap_or_default(),
                cve,
            };
            print_cve(&report, json)?;
        }
    }
    Ok(())
}

fn print_cve(report: &CveReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    match &report.intel.kev {
        Some(kev) => println!(
            "{}: in CISA KEV since {} ({} {}: {}){}",
            report.cve,
            kev.date_added,
            kev.vendor,
            kev.product,
            kev.name,
            if kev.ransomware {
                "; used in ransomware campaigns"
            } else {
                ""
            }
        ),
        None => println!("{}: not in CISA KEV", report.cve),
    }
    match &report.intel.epss {
        Some(e) => println!("EPSS {:.5}, percentile {:.5}", e.epss, e.percentile),
        None => println!("no EPSS score loaded"),
    }
    Ok(())
}
