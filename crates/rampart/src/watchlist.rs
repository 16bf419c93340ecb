//! `rampart watchlist`: watchlist feeds from the command line, imported
//! into the configured database as `POST /api/v1/watchlists/import` would
//! (one transaction, values refreshed, refusals listed) or exported as
//! CSV or a STIX 2.1 bundle. Running nodes pick the change up within
//! seconds (the watchlist version moves).

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};
use rampart_app::api::watchlists::{FeedFormat, WatchlistImportRequest};
use rampart_app::audit::Audit;
use rampart_app::watchlists::{EntryFilter, Watchlists, MAX_FEED_BYTES};
use rampart_core::SystemClock;
use rampart_server::ServeOptions;

/// What the offline commands write into the audit trail as their actor.
const OPERATOR: &str = "operator:cli";

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Stix,
}

impl From<Format> for FeedFormat {
    fn from(format: Format) -> FeedFormat {
        match format {
            Format::Csv => FeedFormat::Csv,
            Format::Stix => FeedFormat::Stix,
        }
    }
}

#[derive(Subcommand)]
pub enum WatchlistAction {
    /// Import a feed (CSV or a STIX 2.1 bundle; `-` for standard input).
    Import {
        file: PathBuf,
        /// Detected from the content when absent.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Given to every entry [default: import].
        #[arg(long)]
        source: Option<String>,
        /// Entries without an expiry of their own expire this many days on.
        #[arg(long)]
        expires_in_days: Option<i64>,
        /// The organisation (by name).
        #[arg(long, default_value = "default")]
        org: String,
        /// Print the reply as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the live entries to standard output.
    Export {
        #[arg(long, value_enum)]
        format: Format,
        /// Expired entries too.
        #[arg(long)]
        include_expired: bool,
        #[arg(long, default_value = "default")]
        org: String,
    },
}

fn read_feed(file: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_FEED_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    }
    Ok(bytes)
}

pub async fn run(options: &ServeOptions, action: WatchlistAction) -> anyhow::Result<()> {
    let accounts = crate::accounts_for(options).await?;
    let store = accounts.store.clone();
    let clock = Arc::new(SystemClock);
    let service = Watchlists::new(
        store.clone(),
        clock.clone(),
        Audit::new(store.clone(), clock),
        None,
    );
    let outcome = match action {
        WatchlistAction::Import {
            file,
            format,
            source,
            expires_in_days,
            org,
            json,
        } => {
            let org = crate::org_id(&accounts, &org).await?;
            let body = read_feed(&file)?;
            let request = WatchlistImportRequest {
                format: format.map(FeedFormat::from),
                source,
                expires_in_days,
                severity: None,
            };
            let reply = service
                .import_as(org, OPERATOR.to_owned(), &body, request)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.detail));
            reply.and_then(|reply| {
                if json {
                    println!("{}", serde_json::to_string_pretty(&reply)?);
                } else {
                    println!(
                        "{} indicators read ({}): {} added, {} refreshed, {} refused",
                        reply.read,
                        reply.format.as_str(),
                        reply.created,
                        reply.updated,
                        reply.refused
                    );
                    for e in &reply.errors {
                        eprintln!(
                            "item {}{}: {}",
                            e.index,
                            e.field
                                .as_deref()
                                .map(|f| format!(" ({f})"))
                                .unwrap_or_default(),
                            e.detail
                        );
                    }
                }
                Ok(())
            })
        }
        WatchlistAction::Export {
            format,
            include_expired,
            org,
        } => {
            let org = crate::org_id(&accounts, &org).await?;
            let filter = EntryFilter {
                include_expired,
                ..EntryFilter::default()
            };
            match service.export_of(org, &filter, format.into()).await {
                Ok(file) => std::io::stdout()
                    .write_all(&file.body)
                    .context("writing the export"),
                Err(e) => Err(anyhow::anyhow!("{}", e.detail)),
            }
        }
    };
    store.close().await;
    outcome
}
