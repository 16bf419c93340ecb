//! `rampart phish analyze FILE.eml`: one raw message judged offline, as the
//! server would judge it for an organisation with the policy given (a JSON
//! file: own domains, trusted receiving servers, simulation senders).

use std::io::{Read as _, Write as _};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use rampart_mail::phish::{analyze, Policy};

/// Largest message read, as the API accepts.
pub const MAX_MESSAGE_BYTES: u64 = 25 << 20;

#[derive(Subcommand)]
pub enum PhishAction {
    /// Score one message (a file, or standard input when absent or `-`).
    Analyze {
        file: Option<PathBuf>,
        /// The whole result as JSON.
        #[arg(long)]
        json: bool,
        /// The organisation's policy, as JSON (`{"own_domains": [...],
        /// "trusted_authserv_ids": [...], "simulation_senders": [...],
        /// "simulation_headers": [...]}`).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Judge the message a forwarded report carries as an attachment.
        #[arg(long)]
        forwarded: bool,
    },
}

/// The policy file's contents, or the empty policy.
pub fn load_policy(path: Option<&PathBuf>) -> anyhow::Result<Policy> {
    let Some(path) = path else {
        return Ok(Policy::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a phishing policy", path.display()))
}

pub fn run(action: PhishAction) -> anyhow::Result<()> {
    let PhishAction::Analyze {
        file,
        json,
        policy,
        forwarded,
    } = action;
    let policy = load_policy(policy.as_ref())?;
    let mut raw = Vec::new();
    match &file {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::File::open(path)
                .with_context(|| format!("reading {}", path.display()))?
                .take(MAX_MESSAGE_BYTES + 1)
                .read_to_end(&mut raw)?;
        }
        _ => {
            std::io::stdin()
                .take(MAX_MESSAGE_BYTES + 1)
                .read_to_end(&mut raw)?;
        }
    }
    if raw.len() as u64 > MAX_MESSAGE_BYTES {
        anyhow::bail!("the message is larger than {} MiB", MAX_MESSAGE_BYTES >> 20);
    }
    let analysis =
        analyze(&raw, &policy, None, forwarded).map_err(|e| anyhow::anyhow!("{}", e.0))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer_pretty(&mut out, &analysis)?;
        writeln!(out)?;
        return Ok(());
    }
    let summary = &analysis.summary;
    writeln!(out, "score    {}", analysis.score)?;
    writeln!(out, "verdict  {}", analysis.verdict.as_str())?;
    if let Some(from) = &summary.from {
        writeln!(
            out,
            "from     {} <{}>",
            from.name.as_deref().unwrap_or(""),
            from.address
        )?;
    }
    writeln!(out, "subject  {}", summary.subject)?;
    for reason in &analysis.reasons {
        writeln!(
            out,
            "  +{:<3} {:<26} {}",
            reason.weight, reason.code, reason.evidence
        )?;
    }
    for attachment in &summary.attachments {
        writeln!(
            out,
            "attachment {} ({}, {} bytes) sha256 {}{}",
            attachment.name,
            attachment.content_type,
            attachment.size,
            attachment.sha256,
            attachment
                .risk
                .as_deref()
                .map(|r| format!(" [{r}]"))
                .unwrap_or_default()
        )?;
    }
    writeln!(out, "indicators {}", analysis.iocs.len())?;
    Ok(())
}
