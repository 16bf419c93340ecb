//! Phishing analysis of one raw e-mail (pure, no I/O): the message is read
//! (`message`), each signal adds a weighted reason with its evidence
//! (`signals`), and the sum, capped at 100, gives the verdict. What the
//! organisation knows (its domains, its receiving server, its simulation
//! campaigns, whether it has seen the sender) arrives as a [`Policy`].

mod attachment;
mod auth;
mod html;
mod language;
mod lookalike;
mod message;
mod signals;

use serde::{Deserialize, Serialize};

use crate::ioc::IndicatorSet;
pub use auth::AuthResults;
pub use lookalike::is_brand_domain;
pub use message::{domain_of, read as read_message, Attachment, Facts, Link, Mailbox, Unreadable};
pub use signals::url_host;

/// A verdict's thresholds: a score at or above `SUSPICIOUS` is suspicious,
/// at or above `PHISHING` phishing.
pub const SUSPICIOUS: u32 = 40;
pub const PHISHING: u32 = 70;

/// What the analysis concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Clean,
    Suspicious,
    Phishing,
    /// Sent by the organisation's own phishing-simulation campaign.
    Simulation,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Suspicious => "suspicious",
            Verdict::Phishing => "phishing",
            Verdict::Simulation => "simulation",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Verdict::Clean,
            Verdict::Suspicious,
            Verdict::Phishing,
            Verdict::Simulation,
        ]
        .into_iter()
        .find(|v| v.as_str() == text)
    }

    fn of(score: u32) -> Self {
        if score >= PHISHING {
            Verdict::Phishing
        } else if score >= SUSPICIOUS {
            Verdict::Suspicious
        } else {
            Verdict::Clean
        }
    }
}

/// One signal that counted, with what showed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    pub code: String,
    pub weight: u32,
    pub evidence: String,
}

/// What the organisation tells the analysis.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The organisation's own domains: mail that imitates them is suspect.
    pub own_domains: Vec<String>,
    /// Authserv-ids of the receiving servers whose `Authentication-Results`
    /// count (`mx.example.com`; `outlook.com` for Microsoft 365, which writes
    /// none).
    pub trusted_authserv_ids: Vec<String>,
    /// Sender domains of phishing-simulation campaigns.
    pub simulation_senders: Vec<String>,
    /// Headers a simulation campaign stamps, as `Name: value` (or `Name`
    /// for any value).
    pub simulation_headers: Vec<String>,
}

/// The result of one analysis.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Analysis {
    /// 0–100: the sum of the reasons' weights, capped.
    pub score: u32,
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    pub iocs: IndicatorSet,
    pub summary: Summary,
}

/// What the message says about itself, as text (never rendered).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub return_path: Option<String>,
    pub to: Vec<String>,
    pub subject: String,
    pub date: Option<String>,
    pub message_id: Option<String>,
    /// The trusted receiving server's verdicts, when there are any.
    pub authentication: Option<AuthResults>,
    /// The first 64 KiB of the text a reader sees.
    pub text: String,
    pub links: Vec<Link>,
    pub attachments: Vec<Attachment>,
    /// The analysed message came forwarded as an attachment.
    pub forwarded: bool,
}

/// Most text a summary keeps.
const SUMMARY_TEXT: usize = 64 << 10;

/// Analyses `raw`. `known_sender` says whether the organisation has had
/// mail from this From address before (`None`: unknown, not judged).
pub fn analyze(
    raw: &[u8],
    policy: &Policy,
    known_sender: Option<bool>,
    unwrap_forwarded: bool,
) -> Result<Analysis, Unreadable> {
    let facts = message::read(raw, unwrap_forwarded)?;
    Ok(judge(facts, policy, known_sender))
}

/// Judges facts already read (the service reads once to learn the sender,
/// then judges).
pub fn judge(facts: Facts, policy: &Policy, known_sender: Option<bool>) -> Analysis {
    let authentication = auth::trusted_results(
        facts
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
            .map(|(_, value)| value.as_str()),
        &policy.trusted_authserv_ids,
    );
    let simulation = signals::simulation(&facts, policy);
    let mut reasons = signals::reasons(&facts, policy, authentication.as_ref(), known_sender);
    reasons.sort_by_key(|r| std::cmp::Reverse(r.weight));
    let score = reasons.iter().map(|r| r.weight).sum::<u32>().min(100);
    let verdict = match simulation {
        Some(evidence) => {
            reasons.insert(
                0,
                Reason {
                    code: "simulation_campaign".into(),
                    weight: 0,
                    evidence,
                },
            );
            Verdict::Simulation
        }
        None => Verdict::of(score),
    };
    let iocs = signals::indicators(&facts);
    let mut text = facts.text;
    let kept = message::prefix(&text, SUMMARY_TEXT).len();
    text.truncate(kept);
    Analysis {
        score,
        verdict,
        reasons,
        iocs,
        summary: Summary {
            from: facts.from,
            reply_to: facts.reply_to,
            return_path: facts.return_path,
            to: facts.to,
            subject: facts.subject,
            date: facts.date,
            message_id: facts.message_id,
            authentication,
            text,
            links: facts.links,
            attachments: facts.attachments,
            forwarded: facts.forwarded,
        },
    }
}
