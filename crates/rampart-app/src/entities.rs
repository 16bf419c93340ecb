//! Entity timelines: everything known about an address, a user or a host
//! in time order: its events (an address as source or destination), the
//! alerts and incidents that name it, the findings of assets that name it,
//! and the watchlist entries it matches. Read-only; every read takes the
//! caller's organisation.

use std::net::IpAddr;
use std::sync::Arc;

use rampart_core::event::IpMatch;
use rampart_core::finding::{Asset, FindingStatus};
use rampart_core::{Clock, Error, EventFilter, Permission, Timestamp};
use rampart_ingest::detection::Detection;
use rampart_mail::watch::Sightings;
use rampart_store::{AssetQuery, FindingQuery, Store};

use crate::api::entities::{EntityKind, EntityTimeline, ItemKind, TimelineItem};
use crate::principal::Principal;

/// Most days of events a timeline reaches back.
pub const MAX_DAYS: i64 = 90;
const EVENTS: u32 = 100;
const ALERTS: u32 = 100;
const INCIDENTS: u32 = 50;
const FINDINGS: u32 = 100;
/// Most phishing reports a user's timeline lists.
const PHISHING_REPORTS: u32 = 50;
/// Most assets read when looking for those that name the entity.
const MAX_ASSETS: usize = 10_000;

#[derive(Clone)]
pub struct EntityTimelines {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    detection: Arc<Detection>,
}

impl EntityTimelines {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, detection: Arc<Detection>) -> Self {
        Self {
            store,
            clock,
            detection,
        }
    }

    /// The entity's timeline over the last `days` days of events.
    pub async fn timeline(
        &self,
        principal: &Principal,
        kind: EntityKind,
        value: &str,
        days: i64,
    ) -> Result<EntityTimeline, Error> {
        principal.require(Permission::Read)?;
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(Error::invalid_field(
                "days",
                format!("must be 1 to {MAX_DAYS}"),
            ));
        }
        let value = value.trim();
        if value.is_empty() || value.len() > 512 {
            return Err(Error::invalid_field("value", "must have 1 to 512 bytes"));
        }
        let ip =
            match kind {
                EntityKind::Ip => Some(value.parse::<IpAddr>().map_err(|_| {
                    Error::invalid_field("value", "is not an IPv4 or IPv6 address")
                })?),
                _ => None,
            };
        // Addresses in their canonical form, as stored.
        let value = ip.map_or_else(|| value.to_owned(), |ip| ip.to_string());
        let org = principal.org_id;
        let to = self.clock.now();
        let from = to.plus_secs(-days * 86_400);
        let mut items = self.events(principal, kind, &value, ip, from, to).await?;
        for alert in self.store.alerts_about(org, &value, ALERTS).await? {
            items.push(TimelineItem {
                at: alert.ts,
                kind: ItemKind::Alert,
                id: alert.id.to_string(),
                title: alert.rule_title,
                severity: Some(alert.severity),
                detail: Some(format!("in incident {}", alert.incident_id)),
                incident: Some(alert.incident_id.to_string()),
            });
        }
        for incident in self.store.incidents_about(org, &value, INCIDENTS).await? {
            items.push(TimelineItem {
                at: incident.last_seen,
                kind: ItemKind::Incident,
                id: incident.id.to_string(),
                title: incident.title,
                severity: Some(incident.severity),
                detail: Some(format!(
                    "{}, {} alert(s), first seen {}",
                    incident.status.as_str(),
                    incident.occurrences,
                    incident.first_seen
                )),
                incident: None,
            });
        }
        let assets = self.assets_naming(principal, &value).await?;
        for asset in &assets {
            let query = FindingQuery {
                statuses: vec![FindingStatus::Open, FindingStatus::Reopened],
                asset: Some(asset.id),
                limit: FINDINGS,
                ..FindingQuery::default()
            };
            for finding in self.store.list_findings(org, &query).await? {
                items.push(TimelineItem {
                    at: finding.last_seen,
                    kind: ItemKind::Finding,
                    id: finding.id.to_string(),
                    title: finding.report.title.clone(),
                    severity: None,
                    detail: Some(format!(
                        "{} on {}, priority {} ({})",
                        finding.severity.as_str(),
                        asset.name,
                        finding.priority.score,
                        finding.priority.band.as_str()
                    )),
                    incident: None,
                });
            }
        }
        if kind == EntityKind::User && value.contains('@') {
            let query = rampart_store::PhishingQuery {
                about: Some(value.clone()),
                limit: PHISHING_REPORTS,
                ..rampart_store::PhishingQuery::default()
            };
            for m in self.store.list_phishing_messages(org, &query).await? {
                let role = if m.reporter.eq_ignore_ascii_case(&value) {
                    "reported by them"
                } else {
                    "sent by them"
                };
                items.push(TimelineItem {
                    at: m.received_at,
                    kind: ItemKind::Phishing,
                    id: m.id.to_string(),
                    title: m.subject.unwrap_or_else(|| "(no subject)".into()),
                    severity: None,
                    detail: Some(match (m.verdict, m.score) {
                        (Some(verdict), Some(score)) => format!("{role}: {verdict}, score {score}"),
                        _ => format!("{role}: {}", m.status.as_str()),
                    }),
                    incident: m.incident_id.map(|i| i.to_string()),
                });
            }
        }
        items.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
        let watchlist = self.watched(principal, kind, &value, ip, to).await?;
        Ok(EntityTimeline {
            kind,
            value,
            from,
            to,
            watchlist,
            assets,
            items,
        })
    }

    /// The newest events about the entity in the range: an address as
    /// source or destination, a host or a user by name.
    async fn events(
        &self,
        principal: &Principal,
        kind: EntityKind,
        value: &str,
        ip: Option<IpAddr>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<TimelineItem>, Error> {
        let range = EventFilter {
            from: Some(from),
            to: Some(to),
            ..EventFilter::default()
        };
        let filters = match (kind, ip) {
            (EntityKind::Ip, Some(ip)) => vec![
                EventFilter {
                    source_ip: Some(IpMatch::Exact(ip)),
                    ..range.clone()
                },
                EventFilter {
                    destination_ip: Some(IpMatch::Exact(ip)),
                    ..range
                },
            ],
            (EntityKind::Host, _) => vec![EventFilter {
                host: Some(value.to_owned()),
                ..range
            }],
            _ => vec![EventFilter {
                user: Some(value.to_owned()),
                ..range
            }],
        };
        let mut seen = std::collections::HashSet::new();
        let mut items = Vec::new();
        for filter in filters {
            for (id, event) in self
                .store
                .query_events(principal.org_id, &filter, None, EVENTS)
                .await?
            {
                if !seen.insert(id) {
                    continue;
                }
                let title = event
                    .message
                    .clone()
                    .or_else(|| event.action.clone())
                    .or_else(|| event.category.clone())
                    .unwrap_or_else(|| event.source.clone());
                let addresses = [event.source_ip, event.destination_ip]
                    .map(|ip| ip.map(|ip| ip.to_string()).unwrap_or_else(|| "-".into()));
                items.push(TimelineItem {
                    at: event.timestamp,
                    kind: ItemKind::Event,
                    id: id.to_string(),
                    title: title.chars().take(300).collect(),
                    severity: event.severity,
                    detail: Some(format!(
                        "{} → {}{}{}",
                        addresses[0],
                        addresses[1],
                        event
                            .host
                            .map(|h| format!(", host {h}"))
                            .unwrap_or_default(),
                        event
                            .user
                            .map(|u| format!(", user {u}"))
                            .unwrap_or_default()
                    )),
                    incident: None,
                });
            }
        }
        items.sort_by_key(|item| std::cmp::Reverse(item.at));
        items.truncate(EVENTS as usize);
        Ok(items)
    }

    /// The organisation's assets whose name or an identifier is the value
    /// (any case).
    async fn assets_naming(&self, principal: &Principal, value: &str) -> Result<Vec<Asset>, Error> {
        let mut query = AssetQuery {
            kind: None,
            after_name: None,
            limit: 1000,
        };
        let mut found = Vec::new();
        let mut read = 0;
        loop {
            let page = self.store.list_assets(principal.org_id, &query).await?;
            let full = page.len() == query.limit as usize;
            read += page.len();
            query.after_name = page.last().map(|a| a.name.clone());
            found.extend(page.into_iter().filter(|a| {
                a.name.eq_ignore_ascii_case(value)
                    || a.identifiers.iter().any(|i| i.eq_ignore_ascii_case(value))
            }));
            if !full || read >= MAX_ASSETS {
                return Ok(found);
            }
        }
    }

    /// The watchlist entries the value matches, by the organisation's
    /// compiled watchlist.
    async fn watched(
        &self,
        principal: &Principal,
        kind: EntityKind,
        value: &str,
        ip: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<Vec<rampart_core::watchlist::WatchlistEntry>, Error> {
        let matcher = self
            .detection
            .watchlists()
            .matcher_for(principal.org_id, now)
            .await?;
        let mut sightings = Sightings::default();
        match (kind, ip) {
            (EntityKind::Ip, Some(ip)) => matcher.match_ip(ip, "entity", &mut sightings),
            (EntityKind::Host, _) => matcher.match_host(value, "entity", &mut sightings),
            _ => matcher.match_text(value, "entity", &mut sightings),
        }
        let mut entries = Vec::new();
        for sighting in &sightings.found {
            if let Some(watched) = matcher.entry(sighting.entry) {
                if let Some(entry) = self
                    .store
                    .get_watchlist_entry(principal.org_id, watched.id)
                    .await?
                {
                    entries.push(entry);
                }
            }
        }
        Ok(entries)
    }
}
