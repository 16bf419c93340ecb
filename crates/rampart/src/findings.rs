//! `rampart import` and `rampart findings parse`: scanner reports from the
//! command line, imported into the configured database as the API would
//! (de-duplicated, prioritised, one transaction), or only parsed and
//! printed.

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use rampart_app::api::vulns::{ImportReply, ImportRequest};
use rampart_app::audit::Audit;
use rampart_app::vulns::Vulnerabilities;
use rampart_core::finding::{Band, FindingStatus, ParsedFinding};
use rampart_core::{OrgId, SystemClock};
use rampart_scan::{Format, Report};
use rampart_server::ServeOptions;
use rampart_store::{FindingQuery, Store};

/// What the offline import writes into the audit trail as its actor.
const OPERATOR: &str = "operator:cli";

#[derive(Args)]
pub struct ImportArgs {
    /// The report file (`-` for standard input).
    file: PathBuf,
    /// The report's format; detected from the content when absent.
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// The asset the report is about (created when the organisation has
    /// none of that name) [default: the file's name without extension].
    #[arg(long)]
    asset: Option<String>,
    /// Reports of one scan type replace each other's findings [default: the format].
    #[arg(long)]
    scan_type: Option<String>,
    /// The report covers part of the asset: close nothing missing from it.
    #[arg(long)]
    partial: bool,
    /// The organisation (by name).
    #[arg(long, default_value = "default")]
    org: String,
    /// Print the counts as JSON.
    #[arg(long)]
    json: bool,
    /// Exit with status 3 when findings of this priority band or above
    /// (info, low, medium, high, critical) are open on the asset and scan
    /// type after the import (false positives and accepted risks aside):
    /// a gate for CI pipelines.
    #[arg(long, value_parser = parse_band)]
    fail_on: Option<Band>,
}

fn parse_band(name: &str) -> Result<Band, String> {
    Band::parse(name).ok_or_else(|| "one of: info, low, medium, high, critical".to_owned())
}

#[derive(Subcommand)]
pub enum FindingsAction {
    /// Parse a report and print its findings without storing them.
    Parse {
        /// The report file (`-` for standard input).
        file: PathBuf,
        #[arg(long, value_parser = parse_format)]
        format: Option<Format>,
        /// `{"tool", "format", "findings": N, "items": [...]}` instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn parse_format(name: &str) -> Result<Format, String> {
    Format::parse_name(name).ok_or_else(|| format!("one of: {}", Format::names()))
}

fn read_report(file: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .take(rampart_scan::formats::MAX_REPORT_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    }
    Ok(bytes)
}

/// The asset name a file stands for: `reports/shop-api.sarif` → `shop-api`.
fn asset_from_file(file: &Path) -> anyhow::Result<String> {
    let mut name = file
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|_| file.as_os_str() != "-")
        .context("name the asset with --asset")?
        .to_owned();
    while let Some((stem, _)) = name.rsplit_once('.') {
        if stem.is_empty() {
            break;
        }
        name = stem.to_owned();
    }
    Ok(name)
}

pub async fn import(options: &ServeOptions, args: ImportArgs) -> anyhow::Result<()> {
    let bytes = read_report(&args.file)?;
    let asset = match args.asset {
        Some(asset) => asset,
        None => asset_from_file(&args.file)?,
    };
    let accounts = crate::accounts_for(options).await?;
    let org = crate::org_id(&accounts, &args.org).await?;
    let store = accounts.store.clone();
    let clock = Arc::new(SystemClock);
    let vulns = Vulnerabilities::new(
        store.clone(),
        clock.clone(),
        Audit::new(store.clone(), clock),
    );
    let request = ImportRequest {
        asset,
        format: args.format.map(|f| f.as_str().to_owned()),
        scan_type: args.scan_type,
        file_name: args
            .file
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned),
        full_report: !args.partial,
    };
    let reply = vulns
        .import_as(org, OPERATOR.to_owned(), request, bytes)
        .await;
    let gate = match (&reply, args.fail_on) {
        (Ok(reply), Some(band)) => Some((band, open_at_or_above(&store, org, reply, band).await)),
        _ => None,
    };
    store.close().await;
    let reply = reply?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reply)?);
    } else {
        let c = &reply.counts;
        println!(
            "{} report ({}, scan type {}): {} findings on {}{}: {} new, {} unchanged, {} reopened, {} closed",
            reply.tool,
            reply.format,
            reply.scan_type,
            c.findings,
            reply.asset.name,
            if reply.asset_created { " (new asset)" } else { "" },
            c.new,
            c.unchanged,
            c.reopened,
            c.closed,
        );
    }
    if let Some((band, open)) = gate {
        let open = open?;
        if open > 0 {
            let more = if open >= GATE_COUNT_LIMIT {
                " or more"
            } else {
                ""
            };
            eprintln!(
                "{open}{more} open findings of priority {} or above on {}",
                band.as_str(),
                reply.asset.name
            );
            std::process::exit(3);
        }
    }
    Ok(())
}

/// Counted up to this many by `--fail-on`.
const GATE_COUNT_LIMIT: usize = 1000;

/// Open or reopened findings of the imported asset and scan type with a
/// priority in `band` or above.
async fn open_at_or_above(
    store: &Arc<dyn Store>,
    org: OrgId,
    reply: &ImportReply,
    band: Band,
) -> anyhow::Result<usize> {
    let query = FindingQuery {
        statuses: vec![FindingStatus::Open, FindingStatus::Reopened],
        asset: Some(reply.asset.id),
        scan_type: Some(reply.scan_type.clone()),
        min_priority: Some(band.lowest_score()),
        limit: GATE_COUNT_LIMIT as u32,
        ..FindingQuery::default()
    };
    Ok(store.list_findings(org, &query).await?.len())
}

pub fn run(action: FindingsAction) -> anyhow::Result<()> {
    match action {
        FindingsAction::Parse { file, format, json } => {
            let bytes = read_report(&file)?;
            let report = rampart_scan::parse(&bytes, format)?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = if json {
                serde_json::to_writer(&mut out, &as_json(&report))
                    .map_err(std::io::Error::from)
                    .and_then(|()| writeln!(out))
            } else {
                print_table(&mut out, &report)
            };
            match written.and_then(|()| out.flush()) {
                // `| head` closed the pipe: the reader has what it wanted.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => Ok(other?),
            }
        }
    }
}

/// `{"tool", "format", "findings": N, "items": [...]}`.
fn as_json(report: &Report) -> serde_json::Value {
    serde_json::json!({
        "tool": report.tool,
        "format": report.format.as_str(),
        "findings": report.findings.len(),
        "items": report.findings,
    })
}

fn print_table(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {} report: {} findings",
        report.tool,
        report.format.as_str(),
        report.findings.len()
    )?;
    for finding in &report.findings {
        writeln!(
            out,
            "{:<8}  {}  {}  {}",
            finding.severity.map_or("-", |s| s.as_str()),
            finding.title,
            finding.vulnerability_ids.join(","),
            location(finding)
        )?;
    }
    Ok(())
}

/// Where a finding is: its component and version, file and line, or endpoint.
fn location(finding: &ParsedFinding) -> String {
    if let Some(component) = &finding.component {
        let version = finding.component_version.as_deref().unwrap_or("");
        return format!("{component} {version}").trim_end().to_owned();
    }
    if let Some(path) = &finding.file_path {
        return match finding.line {
            Some(line) => format!("{path}:{line}"),
            None => path.clone(),
        };
    }
    finding.endpoints.first().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_named_after_files() {
        assert_eq!(
            asset_from_file(Path::new("reports/shop-api.sarif.json")).unwrap(),
            "shop-api"
        );
        assert_eq!(asset_from_file(Path::new(".env")).unwrap(), ".env");
        assert!(asset_from_file(Path::new("-")).is_err());
    }
}
