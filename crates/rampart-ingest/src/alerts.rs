//! Group commit for alerts: the alerts of one organisation's concurrent
//! batches are queued in the order they were correlated, and whichever
//! batch gets to write first writes everything queued by then, in one
//! call; the others only wait for it. So a burst of requests costs a few
//! transactions instead of one each, and the write lock is never contended
//! on this node. (Rule hit counts are summed in memory and written every
//! few seconds: see `detection`.)

use std::sync::{Arc, Mutex};

use rampart_core::alert_grouping::RecordedAlert;
use rampart_core::{Clock, OrgId};
use rampart_store::{NewAlert, Store};
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
    written: oneshot::Sender<()>,
}

/// A queued batch, to wait on with [`AlertRecorder::written`].
pub struct Ticket(oneshot::Receiver<()>);

impl AlertRecorder {
    /// Queues a batch's alerts. Call it in correlation order (under the
    /// correlator's lock): the queue is written in order.
    pub fn enqueue(&self, alerts: Vec<NewAlert>) -> Ticket {
        let (written, ticket) = oneshot::channel();
        self.lock_pending().push(Pending { alerts, written });
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
        let mut done = Vec::with_capacity(queued.len());
        for pending in queued {
            alerts.extend(pending.alerts);
            done.push(pending.written);
        }
        write(sink, org, &alerts).await;
        for written in done {
            let _ = written.send(());
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Writes alerts (grouped into incidents) and counts them; a failure is
/// logged and leaves nothing recorded.
pub(crate) async fn write(sink: &AlertSink, org: OrgId, alerts: &[NewAlert]) -> Vec<RecordedAlert> {
    if alerts.is_empty() {
        return Vec::new();
    }
    let now = sink.clock.now();
    let recorded = sink
        .store
        .record_alerts(org, alerts, sink.incident_window_ms, now)
        .await;
    match recorded {
        Ok(recorded) => {
            let opened = recorded.iter().filter(|r| r.opened).count();
            sink.metrics.alerts_raised(recorded.len(), opened);
            recorded
        }
        Err(error) => {
            tracing::error!(%org, %error, alerts = alerts.len(), "alerts could not be stored");
            Vec::new()
        }
    }
}
