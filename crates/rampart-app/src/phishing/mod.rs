//! Phishing reports: raw messages sent in by users (high priority), in bulk
//! (low priority) or through the report mailbox are stored with a
//! `phishing.analyze` job in one transaction, once per organisation and
//! SHA-256. The job (`analysis`) judges the message with the
//! organisation's settings and opens an incident when the score reaches
//! the threshold. Extracted indicators go to the watchlist in one step.
//! `mailbox` is the SMTP report mailbox users forward suspicious mail to.

mod analysis;
pub mod mailbox;

use std::sync::Arc;

use rampart_core::phishing::{PhishSource, PhishStatus, PhishingMessage, ANALYZE_JOB, QUEUE};
use rampart_core::{Clock, Error, NewJob, OrgId, Permission, PhishingMessageId};
use rampart_ingest::detection::Detection;
use rampart_mail::phish::{is_brand_domain, read_message, url_host, Policy};
use rampart_store::{PhishingQuery, Store, Submitted};
use sha2::{Digest, Sha256};

use crate::api::phishing::{
    PhishingMessageView, PhishingReport, PhishingSettings, PhishingSubmitted,
};
use crate::api::watchlists::{FeedFormat, WatchlistImportReply, WatchlistImportRequest};
use crate::audit::Audit;
use crate::paging::{Page, PageParams};
use crate::principal::{Actor, Principal};
use crate::watchlists::Watchlists;

pub use analysis::AnalyzeMessage;

/// Largest message accepted (as mail servers commonly allow).
pub const MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;
/// Entries added to the watchlist from a message expire this many days on.
const WATCHLIST_DAYS: i64 = 90;
/// Longest list of any one setting.
const MAX_SETTING_ITEMS: usize = 500;

/// `[[report_mailbox]]`: an SMTP listener whose every message is a report
/// for one organisation (its mail server relays the report address there).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportMailbox {
    pub listen: std::net::SocketAddr,
    /// The name of the organisation whose reports these are.
    pub organisation: String,
}

/// The phishing service of the API, the UI and the report mailbox.
#[derive(Clone)]
pub struct Phishing {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audit: Audit,
    /// Where verdicts raise their alerts (absent offline).
    detection: Option<Arc<Detection>>,
    watchlists: Watchlists,
}

/// What a listing selects, beside the page.
#[derive(Clone, Debug, Default)]
pub struct PhishingFilter {
    pub verdict: Option<String>,
    pub status: Option<PhishStatus>,
}

impl Phishing {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        audit: Audit,
        detection: Option<Arc<Detection>>,
        watchlists: Watchlists,
    ) -> Self {
        Phishing {
            store,
            clock,
            audit,
            detection,
            watchlists,
        }
    }

    /// `POST /phishing/messages`: anyone in the organisation may report a
    /// message; bulk submissions are for analysts.
    pub async fn submit(
        &self,
        principal: &Principal,
        raw: &[u8],
        source: PhishSource,
    ) -> Result<PhishingSubmitted, Error> {
        match source {
            PhishSource::Reported => principal.require(Permission::Read)?,
            PhishSource::Bulk => principal.require(Permission::Analyse)?,
            PhishSource::Mailbox => {
                return Err(Error::invalid_field(
                    "source",
                    "mailbox reports arrive through the report mailbox",
                ))
            }
        }
        self.submit_as(principal.org_id, reporter_of(principal), raw, source)
            .await
    }

    /// Stores a message sent in for `org` by `reporter` and queues its
    /// analysis (the report mailbox calls this for each message).
    pub async fn submit_as(
        &self,
        org: OrgId,
        reporter: String,
        raw: &[u8],
        source: PhishSource,
    ) -> Result<PhishingSubmitted, Error> {
        if raw.len() > MAX_MESSAGE_BYTES {
            return Err(Error::invalid_field(
                "body",
                format!("a message may have at most {MAX_MESSAGE_BYTES} bytes"),
            ));
        }
        // Reading a message is CPU work (up to 25 MiB): off the async threads.
        let owned = raw.to_vec();
        let forwarded = source == PhishSource::Mailbox;
        let facts = tokio::task::spawn_blocking(move || {
            read_message(&owned, forwarded).map(|f| (f.from.map(|m| m.address), f.subject))
        })
        .await
        .map_err(|e| Error::internal(&e))?;
        let (sender, subject) = facts.map_err(|e| Error::invalid_field("body", e.0))?;
        let now = self.clock.now();
        let message = PhishingMessage {
            id: PhishingMessageId::new(),
            org_id: org,
            sha256: format!("{:x}", Sha256::digest(raw)),
            source,
            reporter: reporter.clone(),
            size: raw.len() as u64,
            status: PhishStatus::Queued,
            sender,
            subject: Some(subject).filter(|s| !s.is_empty()),
            score: None,
            verdict: None,
            result: None,
            error: None,
            incident_id: None,
            received_at: now,
            analysed_at: None,
        };
        let job = NewJob {
            priority: source.priority(),
            max_attempts: 5,
            ..NewJob::new(
                Some(org),
                QUEUE,
                ANALYZE_JOB,
                serde_json::json!({ "message_id": message.id }),
                now,
            )
        };
        let audit = self.audit.entry_in(
            org,
            reporter,
            "phishing.submit",
            ("phishing message", message.id.to_string()),
            None,
            Some(serde_json::json!({
                "source": source.as_str(), "sha256": message.sha256, "size": message.size,
            })),
        );
        match self
            .store
            .submit_phishing_message(&message, raw, &job, &audit)
            .await?
        {
            Submitted::Queued => Ok(PhishingSubmitted {
                id: message.id,
                status: PhishStatus::Queued,
                duplicate: false,
            }),
            Submitted::Duplicate(id) => {
                let existing = self
                    .store
                    .get_phishing_message(org, id)
                    .await?
                    .ok_or_else(|| Error::not_found("phishing message"))?;
                Ok(PhishingSubmitted {
                    id,
                    status: existing.status,
                    duplicate: true,
                })
            }
        }
    }

    /// Newest first.
    pub async fn list(
        &self,
        principal: &Principal,
        filter: &PhishingFilter,
        page: &PageParams,
    ) -> Result<Page<PhishingMessageView>, Error> {
        principal.require(Permission::Read)?;
        if let Some(verdict) = &filter.verdict {
            if rampart_mail::phish::Verdict::parse(verdict).is_none() {
                return Err(Error::invalid_field(
                    "verdict",
                    "one of clean, suspicious, phishing, simulation",
                ));
            }
        }
        let limit = page.limit()?;
        let query = PhishingQuery {
            verdict: filter.verdict.clone(),
            status: filter.status,
            about: None,
            before: page.cursor::<PhishingMessageId>()?,
            limit,
        };
        let items = self
            .store
            .list_phishing_messages(principal.org_id, &query)
            .await?
            .into_iter()
            .map(PhishingMessageView::from)
            .collect();
        Ok(Page::new(items, limit, |m: &PhishingMessageView| {
            m.id.to_string()
        }))
    }

    pub async fn get(
        &self,
        principal: &Principal,
        id: PhishingMessageId,
    ) -> Result<PhishingReport, Error> {
        principal.require(Permission::Read)?;
        let message = self.message(principal.org_id, id).await?;
        let analysis = message.result.clone();
        Ok(PhishingReport {
            message: message.into(),
            analysis,
        })
    }

    /// The message as it was sent in (analysts).
    pub async fn raw(
        &self,
        principal: &Principal,
        id: PhishingMessageId,
    ) -> Result<Vec<u8>, Error> {
        principal.require(Permission::Analyse)?;
        self.store
            .phishing_raw(principal.org_id, id)
            .await?
            .ok_or_else(|| Error::not_found("phishing message"))
    }

    async fn message(&self, org: OrgId, id: PhishingMessageId) -> Result<PhishingMessage, Error> {
        self.store
            .get_phishing_message(org, id)
            .await?
            .ok_or_else(|| Error::not_found("phishing message"))
    }

    pub async fn settings(&self, principal: &Principal) -> Result<PhishingSettings, Error> {
        principal.require(Permission::Read)?;
        self.settings_of(principal.org_id).await
    }

    pub(crate) async fn settings_of(&self, org: OrgId) -> Result<PhishingSettings, Error> {
        Ok(match self.store.phishing_policy(org).await? {
            Some(value) => serde_json::from_value(value).unwrap_or_default(),
            None => PhishingSettings::default(),
        })
    }

    /// Replaces the settings (admins; audited).
    pub async fn set_settings(
        &self,
        principal: &Principal,
        settings: PhishingSettings,
    ) -> Result<PhishingSettings, Error> {
        principal.require(Permission::Admin)?;
        let settings = clean_settings(settings)?;
        let before = self.settings_of(principal.org_id).await?;
        let value = serde_json::to_value(&settings).map_err(|e| Error::internal(&e))?;
        let audit = self.audit.entry(
            principal,
            "phishing.settings",
            ("organisation", principal.org_id.to_string()),
            serde_json::to_value(&before).ok(),
            Some(value.clone()),
        );
        self.store
            .set_phishing_policy(principal.org_id, &value, self.clock.now(), &audit)
            .await?;
        Ok(settings)
    }

    /// Adds the message's indicators to the watchlist (analysts): its
    /// sender and Reply-To addresses, its links, the addresses it names and
    /// its attachments' hashes; the organisation's own domains and
    /// well-known brands' are left out.
    pub async fn add_to_watchlist(
        &self,
        principal: &Principal,
        id: PhishingMessageId,
    ) -> Result<WatchlistImportReply, Error> {
        principal.require(Permission::Analyse)?;
        let message = self.message(principal.org_id, id).await?;
        let Some(analysis) = message.result else {
            return Err(Error::conflict(
                "not_analysed",
                "the message has not been analysed yet",
            ));
        };
        let settings = self.settings_of(principal.org_id).await?;
        let own: Vec<String> = settings
            .own_domains
            .iter()
            .map(|d| d.to_lowercase())
            .collect();
        let own_domain = |host: &str| {
            own.iter()
                .any(|d| host == d || host.ends_with(&format!(".{d}")))
        };
        // Links to a brand's real site are the lure's decoration, not the trap.
        let ours = |host: &str| own_domain(host) || is_brand_domain(host);
        let mut csv = String::from("type,value,tags\n");
        let iocs = &analysis["iocs"];
        let list = |kind: &str| -> Vec<String> {
            iocs[kind]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let summary = &analysis["summary"];
        let senders = [&summary["from"]["address"], &summary["reply_to"]["address"]];
        for address in senders.iter().filter_map(|a| a.as_str()) {
            let domain = address.rsplit('@').next().unwrap_or("").to_lowercase();
            if !own_domain(&domain) {
                csv.push_str(&format!("email,{},phishing\n", csv_cell(address)));
            }
        }
        for url in list("url") {
            if url_host(&url).is_some_and(|host| !ours(&host)) {
                csv.push_str(&format!("url,{},phishing\n", csv_cell(&url)));
            }
        }
        for ip in list("ipv4").into_iter().chain(list("ipv6")) {
            csv.push_str(&format!("ip,{},phishing\n", csv_cell(&ip)));
        }
        for hash in list("sha256") {
            csv.push_str(&format!("sha256,{hash},phishing\n"));
        }
        let request = WatchlistImportRequest {
            format: Some(FeedFormat::Csv),
            source: Some(format!("phishing:{id}")),
            expires_in_days: Some(WATCHLIST_DAYS),
            severity: None,
        };
        self.watchlists
            .import(principal, csv.as_bytes(), request)
            .await
    }
}

/// Who sent a message in, as the report shows it.
fn reporter_of(principal: &Principal) -> String {
    match &principal.actor {
        Actor::User { user, .. } => user.email.clone(),
        Actor::ApiKey { key } => format!("api key {}", key.name),
    }
}

fn csv_cell(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Settings trimmed and bounded; a bad threshold named.
fn clean_settings(mut settings: PhishingSettings) -> Result<PhishingSettings, Error> {
    if !(1..=100).contains(&settings.incident_threshold) {
        return Err(Error::invalid_field(
            "incident_threshold",
            "must be between 1 and 100",
        ));
    }
    for (field, list) in [
        ("own_domains", &mut settings.own_domains),
        ("trusted_authserv_ids", &mut settings.trusted_authserv_ids),
        ("simulation_senders", &mut settings.simulation_senders),
        ("simulation_headers", &mut settings.simulation_headers),
    ] {
        if list.len() > MAX_SETTING_ITEMS {
            return Err(Error::invalid_field(
                field,
                format!("at most {MAX_SETTING_ITEMS} items"),
            ));
        }
        for item in list.iter_mut() {
            *item = item.trim().to_owned();
            if item.is_empty() || item.len() > 253 || item.chars().any(char::is_control) {
                return Err(Error::invalid_field(
                    field,
                    "items are 1 to 253 characters without control characters",
                ));
            }
            if field != "simulation_headers" {
                *item = item.to_lowercase();
            }
        }
        list.sort();
        list.dedup();
    }
    Ok(settings)
}

impl PhishingSettings {
    /// What the analysis is told.
    pub fn policy(&self) -> Policy {
        Policy {
            own_domains: self.own_domains.clone(),
            trusted_authserv_ids: self.trusted_authserv_ids.clone(),
            simulation_senders: self.simulation_senders.clone(),
            simulation_headers: self.simulation_headers.clone(),
        }
    }
}
