//! Watchlist feeds: STIX 2.1 bundles and CSV read into entries (added or
//! refreshed in one transaction, one audit entry), and the organisation's
//! entries written out in either form.

use std::collections::HashSet;

use rampart_core::watchlist::{IndicatorType, WatchlistEntry};
use rampart_core::{Error, OrgId, Permission, WatchlistEntryId};
use rampart_mail::watch::{parse_csv, parse_stix, stix_bundle, to_csv, ParsedFeed};
use rampart_store::WatchlistQuery;
use serde_json::json;

use super::{severity, EntryFilter, Watchlists, DEFAULT_SEVERITY};
use crate::api::watchlists::{FeedFormat, WatchlistImportReply, WatchlistImportRequest};
use crate::input::text;
use crate::principal::Principal;
use crate::vulns::RenderedReport;

/// Largest feed file read (a million CSV rows fit).
pub const MAX_FEED_BYTES: usize = 128 * 1024 * 1024;
/// Most refused items listed in a reply.
const MAX_LISTED_ERRORS: usize = 1000;
/// Most days an import may set entries to expire in.
const MAX_EXPIRY_DAYS: i64 = 3650;

/// A file's format from its first bytes: JSON is STIX, anything else CSV.
fn detect(body: &str) -> FeedFormat {
    match body
        .trim_start_matches('\u{feff}')
        .trim_start()
        .as_bytes()
        .first()
    {
        Some(b'{' | b'[') => FeedFormat::Stix,
        _ => FeedFormat::Csv,
    }
}

impl Watchlists {
    /// Imports a feed file: every indicator it holds is added, or refreshed
    /// when the organisation has it already (hits kept).
    pub async fn import(
        &self,
        principal: &Principal,
        body: &[u8],
        request: WatchlistImportRequest,
    ) -> Result<WatchlistImportReply, Error> {
        principal.require(Permission::Analyse)?;
        self.import_as(principal.org_id, principal.audit_actor(), body, request)
            .await
    }

    /// [`Watchlists::import`] for `org` by `actor` (the offline CLI's
    /// operator), without a caller to check.
    pub async fn import_as(
        &self,
        org: OrgId,
        actor: String,
        body: &[u8],
        request: WatchlistImportRequest,
    ) -> Result<WatchlistImportReply, Error> {
        if body.len() > MAX_FEED_BYTES {
            return Err(Error::invalid_field(
                "body",
                format!("a feed may have at most {MAX_FEED_BYTES} bytes"),
            ));
        }
        let body = std::str::from_utf8(body)
            .map_err(|e| Error::invalid_field("body", format!("is not UTF-8: {e}")))?
            .to_owned();
        let source = request
            .source
            .filter(|s| !s.trim().is_empty())
            .map(|s| text("source", &s, 200))
            .transpose()?
            .unwrap_or_else(|| "import".into());
        let default_severity = severity(request.severity)?.unwrap_or(DEFAULT_SEVERITY);
        let now = self.now();
        let default_expiry = match request.expires_in_days {
            None => None,
            Some(days @ 1..=MAX_EXPIRY_DAYS) => Some(now.plus_secs(days * 86_400)),
            Some(_) => {
                return Err(Error::invalid_field(
                    "expires_in_days",
                    format!("must be 1 to {MAX_EXPIRY_DAYS}"),
                ))
            }
        };
        let format = request.format.unwrap_or_else(|| detect(&body));
        let feed: ParsedFeed = tokio::task::spawn_blocking(move || match format {
            FeedFormat::Stix => parse_stix(&body),
            FeedFormat::Csv => parse_csv(&body),
        })
        .await
        .map_err(|e| Error::internal(&e))?
        .map_err(|why| Error::invalid_field("body", why))?;
        let mut seen: HashSet<(IndicatorType, String)> = HashSet::with_capacity(feed.items.len());
        let mut entries = Vec::with_capacity(feed.items.len());
        for item in feed.items {
            if !seen.insert((item.kind, item.value.clone())) {
                continue;
            }
            let tags = crate::input::labels("tags", item.tags).unwrap_or_default();
            entries.push(WatchlistEntry {
                id: WatchlistEntryId::new(),
                org_id: org,
                kind: item.kind,
                value: item.value,
                include_subdomains: item.include_subdomains,
                source: source.clone(),
                tags,
                description: item.description,
                severity: item.severity.unwrap_or(default_severity),
                expires_at: item.expires_at.or(default_expiry),
                hits: 0,
                last_hit_at: None,
                created_by: actor.clone(),
                created_at: now,
                updated_at: now,
            });
        }
        drop(seen);
        let refused = feed.errors.len() as u64;
        let audit = self.audit.entry_in(
            org,
            actor.clone(),
            "watchlist.import",
            ("watchlist", source.clone()),
            None,
            Some(json!({"format": format.as_str(), "read": entries.len(), "refused": refused})),
        );
        let counts = self
            .store
            .import_watchlist_entries(org, &entries, &audit)
            .await?;
        let read = entries.len() as u64;
        // Gone before the matcher is rebuilt: a large feed is not held
        // twice.
        drop(entries);
        self.changed(org).await?;
        let mut errors = feed.errors;
        errors.truncate(MAX_LISTED_ERRORS);
        Ok(WatchlistImportReply {
            format,
            read,
            created: counts.created,
            updated: counts.updated,
            refused,
            errors,
        })
    }

    /// Every entry the filter selects, newest first, as a feed file.
    pub async fn export(
        &self,
        principal: &Principal,
        filter: &EntryFilter,
        format: FeedFormat,
    ) -> Result<RenderedReport, Error> {
        principal.require(Permission::Read)?;
        self.export_of(principal.org_id, filter, format).await
    }

    /// [`Watchlists::export`] of `org`, without a caller to check (the
    /// offline CLI).
    pub async fn export_of(
        &self,
        org: OrgId,
        filter: &EntryFilter,
        format: FeedFormat,
    ) -> Result<RenderedReport, Error> {
        let mut query = WatchlistQuery {
            kind: filter.kind,
            source: filter.source.clone(),
            tag: filter.tag.clone(),
            text: filter.text.clone(),
            live_at: (!filter.include_expired).then(|| self.now()),
            before: None,
            limit: 1000,
        };
        let mut entries = Vec::new();
        loop {
            let page = self.store.list_watchlist_entries(org, &query).await?;
            let full = page.len() == query.limit as usize;
            query.before = page.last().map(|e| e.id);
            entries.extend(page);
            if !full {
                break;
            }
        }
        Ok(match format {
            FeedFormat::Csv => RenderedReport {
                content_type: "text/csv; charset=utf-8",
                file_name: "watchlist.csv".into(),
                body: to_csv(&entries).into_bytes(),
            },
            FeedFormat::Stix => RenderedReport {
                content_type: "application/stix+json;version=2.1",
                file_name: "watchlist.stix.json".into(),
                body: stix_bundle(&entries, &uuid::Uuid::now_v7().to_string())
                    .to_string()
                    .into_bytes(),
            },
        })
    }
}
