//! Hunting an entry back in time: the `watchlist.hunt` job reads the
//! organisation's events of the last N days (newest first, a page at a
//! time), looks for the entry where ingest would, and raises the same
//! alerts ingest would have (one per page that showed it, joining the
//! entry's open incident). Hits are counted on the entry. One hunt per
//! entry is pending at a time.

use async_trait::async_trait;
use rampart_core::watchlist::WatchedIndicator;
use rampart_core::{Error, EventFilter, Job, NewJob, Permission, WatchlistEntryId};
use rampart_ingest::detection::entities_of;
use rampart_ingest::watchlists::scan;
use rampart_mail::watch::WatchMatcher;
use rampart_store::{Enqueued, EventCursor};
use serde_json::json;

use super::Watchlists;
use crate::api::watchlists::{HuntQueued, HuntRequest};
use crate::jobs::handler::{JobFailure, JobHandler};
use crate::principal::Principal;

/// The job that hunts one entry back in time.
pub const HUNT_JOB: &str = "watchlist.hunt";
/// Most days a hunt reaches back.
pub const MAX_HUNT_DAYS: i64 = 90;
/// Events read per page.
const PAGE: u32 = 1000;

impl Watchlists {
    /// Queues a hunt for the entry over the last `days` days.
    pub async fn hunt(
        &self,
        principal: &Principal,
        id: WatchlistEntryId,
        request: HuntRequest,
    ) -> Result<HuntQueued, Error> {
        principal.require(Permission::Analyse)?;
        if !(1..=MAX_HUNT_DAYS).contains(&request.days) {
            return Err(Error::invalid_field(
                "days",
                format!("must be 1 to {MAX_HUNT_DAYS}"),
            ));
        }
        let entry = self.get(principal, id).await?;
        let now = self.now();
        let mut job = NewJob::new(
            Some(principal.org_id),
            "default",
            HUNT_JOB,
            json!({"entry_id": entry.id, "days": request.days, "to": now.0}),
            now,
        );
        job.unique_key = Some(format!("watchlist.hunt:{}", entry.id));
        job.max_attempts = 3;
        match self.store.enqueue_jobs(&[job], now).await?.first() {
            Some(Enqueued::Added(job_id)) => Ok(HuntQueued { job_id: *job_id }),
            _ => Err(Error::conflict(
                "hunt_pending",
                "a hunt for this entry is queued or running already",
            )),
        }
    }
}

/// Runs `watchlist.hunt` jobs.
pub struct Hunt(pub Watchlists);

#[async_trait]
impl JobHandler for Hunt {
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let service = &self.0;
        let payload = &job.payload;
        let (Some(org), Some(id), Some(days), Some(to)) = (
            job.org_id,
            payload["entry_id"]
                .as_str()
                .and_then(|s| s.parse::<WatchlistEntryId>().ok()),
            payload["days"].as_i64(),
            payload["to"].as_i64(),
        ) else {
            return Err(JobFailure::Permanent(
                "a hunt names an entry, days and an end".into(),
            ));
        };
        let Some(entry) = service
            .store
            .get_watchlist_entry(org, id)
            .await
            .map_err(JobFailure::retry)?
        else {
            // Deleted since: nothing to hunt.
            return Ok(());
        };
        let matcher = std::sync::Arc::new(WatchMatcher::new(vec![WatchedIndicator::from(&entry)]));
        let to = rampart_core::Timestamp(to);
        let filter = EventFilter {
            from: Some(to.plus_secs(-days.clamp(1, MAX_HUNT_DAYS) * 86_400)),
            to: Some(to),
            ..EventFilter::default()
        };
        let Some(detection) = &service.detection else {
            return Err(JobFailure::Permanent(
                "hunts run on a node with detection".into(),
            ));
        };
        let watchlists = detection.watchlists();
        let (mut read, mut alerts_raised) = (0u64, 0usize);
        let mut after: Option<EventCursor> = None;
        loop {
            let page = service
                .store
                .query_events(org, &filter, after, PAGE)
                .await
                .map_err(JobFailure::retry)?;
            let full = page.len() == PAGE as usize;
            after = page.last().map(|(id, event)| EventCursor {
                timestamp: event.timestamp,
                id: *id,
            });
            read += page.len() as u64;
            let (ids, events): (Vec<_>, Vec<_>) = page.into_iter().unzip();
            let found = scan(matcher.clone(), &events, entities_of);
            if !found.is_empty() {
                let alerts = watchlists.alerts(org, found, &ids);
                alerts_raised += alerts.len();
                detection.record_alerts(org, &alerts).await;
            }
            if !full {
                break;
            }
        }
        watchlists
            .flush_hits(Some(org))
            .await
            .map_err(JobFailure::retry)?;
        tracing::info!(%org, entry = %id, events = read, alerts = alerts_raised, "watchlist hunt done");
        Ok(())
    }
}
