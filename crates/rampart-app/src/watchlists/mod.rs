//! The `Watchlists` service: entries checked (values made canonical by
//! `rampart_mail::watch`), audited and versioned by the store; feeds in
//! and out (`feeds`); hunts back in time as jobs (`hunt`). After each
//! change this node's matcher is rebuilt before the answer, so events sent
//! next are matched against it; other nodes follow within seconds.

mod feeds;
mod hunt;

use std::sync::Arc;

use rampart_core::watchlist::{IndicatorType, WatchlistEntry};
use rampart_core::{Clock, Error, Permission, Timestamp, WatchlistEntryId};
use rampart_ingest::detection::Detection;
use rampart_store::{Store, WatchlistQuery};

pub use feeds::MAX_FEED_BYTES;
pub use hunt::{Hunt, HUNT_JOB, MAX_HUNT_DAYS};

use crate::api::watchlists::{WatchlistEntryInput, WatchlistEntryPatch};
use crate::audit::{snapshot, Audit};
use crate::input::{labels, text};
use crate::paging::{Page, PageParams};
use crate::principal::Principal;

/// Up to this many entries, a change's matcher is rebuilt before the
/// change is answered.
pub const SYNC_REBUILD_ENTRIES: usize = 100_000;

/// Severity of entries that name none: high.
pub const DEFAULT_SEVERITY: u8 = 4;

#[derive(Clone)]
pub struct Watchlists {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audit: Audit,
    /// The node's detection (absent offline, in the CLI: no matcher to
    /// rebuild, no hit counts to write, no hunts run).
    detection: Option<Arc<Detection>>,
}

/// What a listing asks for, beside the page.
#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    pub kind: Option<IndicatorType>,
    pub source: Option<String>,
    pub tag: Option<String>,
    pub text: Option<String>,
    /// Expired entries too.
    pub include_expired: bool,
}

fn severity(value: Option<i64>) -> Result<Option<u8>, Error> {
    value
        .map(|s| {
            u8::try_from(s)
                .ok()
                .filter(|s| (1..=5).contains(s))
                .ok_or_else(|| Error::invalid_field("severity", "must be 1 to 5"))
        })
        .transpose()
}

fn description(value: Option<String>) -> Result<Option<String>, Error> {
    value
        .filter(|d| !d.trim().is_empty())
        .map(|d| text("description", &d, 1000))
        .transpose()
}

/// A value read as its type, canonical; the error names the field.
pub fn canonical_value(kind: IndicatorType, value: &str) -> Result<String, Error> {
    rampart_mail::watch::canonical(kind, value)
        .map_err(|why| Error::invalid_field("value", format!("`{}` {why}", value.trim())))
}

impl Watchlists {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        audit: Audit,
        detection: Option<Arc<Detection>>,
    ) -> Self {
        Self {
            store,
            clock,
            audit,
            detection,
        }
    }

    /// Rebuilds this node's matcher of the organisation after a change:
    /// before answering, so the next events are matched against it; for
    /// watchlists of more than [`SYNC_REBUILD_ENTRIES`] (seconds to load)
    /// beside the answer instead, within seconds.
    async fn changed(&self, org: rampart_core::OrgId) -> Result<(), Error> {
        let Some(detection) = &self.detection else {
            return Ok(());
        };
        let watchlists = detection.watchlists().clone();
        let now = self.clock.now();
        if watchlists.loaded_entries(org) <= SYNC_REBUILD_ENTRIES {
            return watchlists.refresh(org, now).await;
        }
        tokio::spawn(async move {
            if let Err(error) = watchlists.refresh(org, now).await {
                tracing::warn!(%org, %error, "watchlist could not be reloaded");
            }
        });
        Ok(())
    }

    pub async fn create(
        &self,
        principal: &Principal,
        input: WatchlistEntryInput,
    ) -> Result<WatchlistEntry, Error> {
        principal.require(Permission::Analyse)?;
        let now = self.clock.now();
        let value = canonical_value(input.kind, &input.value)?;
        let include_subdomains = input.kind == IndicatorType::Domain
            && (input.include_subdomains || input.value.trim().starts_with("*."));
        if input.include_subdomains && input.kind != IndicatorType::Domain {
            return Err(Error::invalid_field(
                "include_subdomains",
                "only domains have subdomains",
            ));
        }
        let entry = WatchlistEntry {
            id: WatchlistEntryId::new(),
            org_id: principal.org_id,
            kind: input.kind,
            value,
            include_subdomains,
            source: input
                .source
                .filter(|s| !s.trim().is_empty())
                .map(|s| text("source", &s, 200))
                .transpose()?
                .unwrap_or_else(|| "manual".into()),
            tags: labels("tags", input.tags)?,
            description: description(input.description)?,
            severity: severity(input.severity)?.unwrap_or(DEFAULT_SEVERITY),
            expires_at: input.expires_at,
            hits: 0,
            last_hit_at: None,
            created_by: principal.audit_actor(),
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit.entry(
            principal,
            "watchlist.create",
            ("watchlist_entry", entry.id.to_string()),
            None,
            snapshot(&entry),
        );
        if !self.store.create_watchlist_entry(&entry, &audit).await? {
            return Err(Error::conflict(
                "watchlist_entry_exists",
                format!(
                    "the watchlist already holds {} {}",
                    entry.kind.as_str(),
                    entry.value
                ),
            ));
        }
        self.changed(principal.org_id).await?;
        Ok(entry)
    }

    /// Writes this node's hit counts of the organisation first, so reads
    /// show them current (other nodes' within seconds).
    async fn flush_hits(&self, principal: &Principal) -> Result<(), Error> {
        match &self.detection {
            Some(detection) => Ok(detection
                .watchlists()
                .flush_hits(Some(principal.org_id))
                .await?),
            None => Ok(()),
        }
    }

    pub async fn get(
        &self,
        principal: &Principal,
        id: WatchlistEntryId,
    ) -> Result<WatchlistEntry, Error> {
        principal.require(Permission::Read)?;
        self.flush_hits(principal).await?;
        self.store
            .get_watchlist_entry(principal.org_id, id)
            .await?
            .ok_or_else(|| Error::not_found("watchlist entry"))
    }

    /// Newest first.
    pub async fn list(
        &self,
        principal: &Principal,
        filter: &EntryFilter,
        page: &PageParams,
    ) -> Result<Page<WatchlistEntry>, Error> {
        principal.require(Permission::Read)?;
        self.flush_hits(principal).await?;
        let limit = page.limit()?;
        let query = WatchlistQuery {
            kind: filter.kind,
            source: filter.source.clone(),
            tag: filter.tag.clone(),
            text: filter.text.clone(),
            live_at: (!filter.include_expired).then(|| self.clock.now()),
            before: page.cursor::<WatchlistEntryId>()?,
            limit,
        };
        let items = self
            .store
            .list_watchlist_entries(principal.org_id, &query)
            .await?;
        Ok(Page::new(items, limit, |e| e.id.to_string()))
    }

    pub async fn update(
        &self,
        principal: &Principal,
        id: WatchlistEntryId,
        patch: WatchlistEntryPatch,
    ) -> Result<WatchlistEntry, Error> {
        principal.require(Permission::Analyse)?;
        let before = self.get(principal, id).await?;
        let mut entry = before.clone();
        if let Some(subdomains) = patch.include_subdomains {
            if subdomains && entry.kind != IndicatorType::Domain {
                return Err(Error::invalid_field(
                    "include_subdomains",
                    "only domains have subdomains",
                ));
            }
            entry.include_subdomains = subdomains;
        }
        if let Some(source) = patch.source {
            entry.source = text("source", &source, 200)?;
        }
        if let Some(tags) = patch.tags {
            entry.tags = labels("tags", tags)?;
        }
        if let Some(d) = patch.description {
            entry.description = description(Some(d))?;
        }
        if let Some(s) = severity(patch.severity)? {
            entry.severity = s;
        }
        if let Some(expires_at) = patch.expires_at {
            entry.expires_at = expires_at;
        }
        entry.updated_at = self.clock.now();
        let audit = self.audit.entry(
            principal,
            "watchlist.update",
            ("watchlist_entry", id.to_string()),
            snapshot(&before),
            snapshot(&entry),
        );
        if !self.store.update_watchlist_entry(&entry, &audit).await? {
            return Err(Error::not_found("watchlist entry"));
        }
        self.changed(principal.org_id).await?;
        Ok(entry)
    }

    pub async fn delete(&self, principal: &Principal, id: WatchlistEntryId) -> Result<(), Error> {
        principal.require(Permission::Analyse)?;
        let before = self.get(principal, id).await?;
        let audit = self.audit.entry(
            principal,
            "watchlist.delete",
            ("watchlist_entry", id.to_string()),
            snapshot(&before),
            None,
        );
        if !self
            .store
            .delete_watchlist_entry(principal.org_id, id, &audit)
            .await?
        {
            return Err(Error::not_found("watchlist entry"));
        }
        self.changed(principal.org_id).await
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
