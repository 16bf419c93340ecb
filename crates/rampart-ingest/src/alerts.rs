//! Group commit for alerts: the alerts and rule-hit counts of one
//! organisation's concurrent batches are queued in the order they were
//! correlated, and whichever batch gets to write first writes everything
//! queued by then, in one call per kind; the others only wait for it. So
//! a burst of requests costs a few transactions instead of two each, and
//! the write lock is never contended on this node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rampart_core::{Clock, OrgId, Timestamp};
use rampart_store::{NewAlert, RuleHits, Store};
use tokio::sync::oneshot;
use tokio::sync::oneshot::error::TryRecvError;

use crate::metrics::IngestMetrics;

/// Where recorded alerts go: the store (grouped into incidents) and the
/// alert counters.
#[derive(Clone)]
pub struct AlertSink {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Alerts this close to an open incident's last alert join it.
    pub incident_window_ms: i64,
    pub metrics: IngestMetrics,
}

/// One organisation's queue of alerts waiting to be written.
#[derive(Default)]
pub struct AlertRecorder {
    pending: Mutex<Vec<Pending>>,
    /// Held while a batch of queued alerts is written.
    writing: tokio::sync::Mutex<()>,
}

struct Pending {
    alerts: Vec<NewAlert>,
    hits: Vec<RuleHits>,
    written: oneshot::Sender<()>,
}

/// A queued batch, to wait on with [`AlertRecorder::written`].
pub struct Ticket(oneshot::Receiver<()>);

impl AlertRecorder {
    /// Queues a batch's alerts and hit counts. Call it in correlation
    /// order (under the correlator's lock): the queue is written in order.
    pub fn enqueue(&self, alerts: Vec<NewAlert>, hits: Vec<RuleHits>) -> Ticket {
        let (written, ticket) = oneshot::channel();
        self.lock_pending().push(Pending {
            alerts,
            hits,
            written,
        });
        Ticket(ticket)
    }

    /// Returns once the ticket's batch is written (or failed, logged).
    /// The write runs as its own task, so a request that goes away does
    /// not abandon alerts queued behind it.
    pub async fn written(self: Arc<Self>, sink: AlertSink, org: OrgId, ticket: Ticket) {
        let task = tokio::spawn(async move { self.write_queued(&sink, org, ticket).await });
        if let Err(error) = task.await {
            tracing::error!(%org, %error, "writing alerts failed");
        }
    }

    async fn write_queued(&self, sink: &AlertSink, org: OrgId, mut ticket: Ticket) {
        let _writing = self.writing.lock().await;
        match ticket.0.try_recv() {
            // Written by the batch that held the lock before.
            Ok(()) | Err(TryRecvError::Closed) => return,
            Err(TryRecvError::Empty) => {}
        }
        let queued = std::mem::take(&mut *self.lock_pending());
        let mut alerts = Vec::new();
        let mut hits = Vec::new();
        let mut done = Vec::with_capacity(queued.len());
        for pending in queued {
            alerts.extend(pending.alerts);
            hits.extend(pending.hits);
            done.push(pending.written);
        }
        write(sink, org, &alerts, merge_hits(hits)).await;
        for written in done {
            let _ = written.send(());
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn write(sink: &AlertSink, org: OrgId, alerts: &[NewAlert], hits: Vec<RuleHits>) {
    if !alerts.is_empty() {
        let now = sink.clock.now();
        let recorded = sink
            .store
            .record_alerts(org, alerts, sink.incident_window_ms, now)
            .await;
        match recorded {
            Ok(recorded) => {
                let opened = recorded.iter().filter(|r| r.opened).count();
                sink.metrics.alerts_raised(recorded.len(), opened);
            }
            Err(error) => {
                tracing::error!(%org, %error, alerts = alerts.len(), "alerts could not be stored")
            }
        }
    }
    if hits.is_empty() {
        return;
    }
    if let Err(error) = sink.store.add_rule_hits(org, &hits).await {
        tracing::warn!(%org, %error, "rule hit counts could not be stored");
    }
}

/// One entry per rule: counts summed, the latest hit kept.
fn merge_hits(hits: Vec<RuleHits>) -> Vec<RuleHits> {
    let mut merged: HashMap<String, (i64, Timestamp)> = HashMap::new();
    for hit in hits {
        let entry = merged.entry(hit.rule_id).or_insert((0, hit.last_hit_at));
        entry.0 += hit.hits;
        entry.1 = entry.1.max(hit.last_hit_at);
    }
    merged
        .into_iter()
        .map(|(rule_id, (hits, last_hit_at))| RuleHits {
            rule_id,
            hits,
            last_hit_at,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_of_queued_batches_merge_per_rule() {
        let hit = |rule: &str, hits, at| RuleHits {
            rule_id: rule.into(),
            hits,
            last_hit_at: Timestamp(at),
        };
        let mut merged = merge_hits(vec![hit("a", 2, 10), hit("b", 1, 5), hit("a", 3, 7)]);
        merged.sort_by(|x, y| x.rule_id.cmp(&y.rule_id));
        assert_eq!(merged.len(), 2);
        assert_eq!((merged[0].hits, merged[0].last_hit_at), (5, Timestamp(10)));
        assert_eq!((merged[1].hits, merged[1].last_hit_at), (1, Timestamp(5)));
    }
}
