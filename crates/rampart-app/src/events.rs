//! Stored events as analysts read them: searches with filters and keyset
//! pages (newest first), one event, and counts over time with the top
//! values of a field.

use std::sync::Arc;

use rampart_core::event::event_view;
use rampart_core::{Error, EventFilter, EventId, OrgId};
use rampart_store::{EventCursor, StatsRequest, Store, STATS_FIELDS};

use crate::api::events::{Bucket, EventPage, EventStatsView, TopValue};

/// What to count: the filter, the bucket width, and the field whose top
/// values to list.
pub struct StatsQuery<'f> {
    pub filter: &'f EventFilter,
    pub bucket_secs: i64,
    pub top: Option<String>,
    pub top_limit: usize,
    /// Approximate top values will do (see [`EventStatsView::top_approximate`]).
    pub approximate_top: bool,
}

/// How many points a chart of events over time has at most.
const CHART_POINTS: i64 = 60;

/// The bucket width, in seconds, of a chart over `range_secs`: whole
/// minutes (which stored pre-aggregates answer without reading events),
/// about [`CHART_POINTS`] of them, fewer over ranges under an hour.
pub fn chart_bucket_secs(range_secs: i64) -> i64 {
    (range_secs / CHART_POINTS / 60).max(1) * 60
}

/// The events service.
#[derive(Clone)]
pub struct Events {
    store: Arc<dyn Store>,
}

impl Events {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// One page of matching events, newest first, after `cursor`.
    pub async fn search(
        &self,
        org: OrgId,
        filter: &EventFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<EventPage, Error> {
        let after = cursor
            .map(|c| {
                EventCursor::decode(c)
                    .ok_or_else(|| Error::invalid_field("cursor", "not a cursor this API returned"))
            })
            .transpose()?;
        let events = self.store.query_events(org, filter, after, limit).await?;
        let next_cursor = (events.len() == limit as usize)
            .then(|| events.last())
            .flatten()
            .map(|(id, e)| {
                EventCursor {
                    timestamp: e.timestamp,
                    id: *id,
                }
                .encode()
            });
        Ok(EventPage {
            items: events.iter().map(|(id, e)| event_view(*id, e)).collect(),
            next_cursor,
        })
    }

    pub async fn get(&self, org: OrgId, id: EventId) -> Result<serde_json::Value, Error> {
        let event = self
            .store
            .get_event(org, id)
            .await?
            .ok_or_else(|| Error::not_found("event"))?;
        Ok(event_view(id, &event))
    }

    /// Counts per bucket and the top values of `query.top`.
    pub async fn stats(&self, org: OrgId, query: StatsQuery<'_>) -> Result<EventStatsView, Error> {
        if let Some(field) = &query.top {
            if !STATS_FIELDS.contains(&field.as_str()) {
                return Err(Error::invalid_field(
                    "top",
                    format!("must be one of {}", STATS_FIELDS.join(", ")),
                ));
            }
        }
        let stats = self
            .store
            .event_stats(
                org,
                &StatsRequest {
                    filter: query.filter,
                    bucket_ms: query.bucket_secs * 1000,
                    top_field: query.top.as_deref(),
                    top_limit: query.top_limit,
                    approximate_top: query.approximate_top,
                },
            )
            .await?;
        Ok(EventStatsView {
            total: stats.total,
            bucket_secs: query.bucket_secs,
            buckets: stats
                .buckets
                .into_iter()
                .map(|(start, count)| Bucket { start, count })
                .collect(),
            top_field: query.top,
            top: stats
                .top
                .into_iter()
                .map(|(value, count)| TopValue { value, count })
                .collect(),
            top_approximate: stats.top_approximate,
        })
    }
}
