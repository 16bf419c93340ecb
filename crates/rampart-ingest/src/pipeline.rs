//! [`Ingest`]: the pipeline every source feeds. It owns what it needs (the
//! store, the clock, the group-commit writer, admission, the validation and
//! detection caches, its counters) and nothing of HTTP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rampart_core::validation::RuleSet;
use rampart_core::{Clock, Error, ItemError, OrgId, Timestamp};
use rampart_store::Store;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::admission::{busy, Admission, Slot};
use crate::alerts::AlertSink;
use crate::config::{DetectionConfig, IngestConfig};
use crate::decode::Decoded;
use crate::detection::{entities_of, Detection, OrgDetection};
use crate::metrics::IngestMetrics;
use crate::retention::{self, RetentionRun};
use crate::validation::Validation;
use crate::watchlists;
use crate::writer::{EventWriter, WriteError, WriterHandle};

/// Most item errors listed in one answer; `rejected` still counts all.
const MAX_LISTED_ERRORS: usize = 1000;

/// The answer to an ingest request.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestReport {
    pub accepted: usize,
    pub rejected: usize,
    /// The first 1000 refused items, with their position.
    pub errors: Vec<ItemError>,
}

/// The ingest pipeline of one node; cheap to clone.
#[derive(Clone)]
pub struct Ingest(Arc<Inner>);

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: IngestConfig,
    detection_enabled: bool,
    writer: EventWriter,
    /// Stops the writer at shutdown (taken once).
    writer_handle: Mutex<Option<WriterHandle>>,
    admission: Admission,
    validation: Arc<Validation>,
    detection: Arc<Detection>,
    metrics: IngestMetrics,
}

impl Ingest {
    /// Starts the pipeline (its writer task runs on the current runtime).
    pub fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: IngestConfig,
        detection: &DetectionConfig,
        metrics: IngestMetrics,
    ) -> Self {
        let (writer, writer_handle) = EventWriter::start(store.clone(), config.max_requests);
        let admission = Admission::new(
            config.max_requests,
            Duration::from_millis(config.queue_wait_ms),
        );
        let alerts = AlertSink {
            store: store.clone(),
            clock: clock.clone(),
            incident_window_ms: detection.incident_window_secs.saturating_mul(1000),
            metrics: metrics.clone(),
        };
        Self(Arc::new(Inner {
            detection: Arc::new(Detection::new(
                store.clone(),
                detection.correlation_limits(),
                alerts,
            )),
            validation: Arc::new(Validation::new(store.clone())),
            detection_enabled: detection.enabled,
            store,
            clock,
            config,
            writer,
            writer_handle: Mutex::new(Some(writer_handle)),
            admission,
            metrics,
        }))
    }

    /// A slot in the pipeline, or busy once the configured wait is over.
    pub async fn admit(&self) -> Result<Slot, Error> {
        self.0.admission.admit().await
    }

    /// The validation rule sets and their tallies.
    pub fn validation(&self) -> &Arc<Validation> {
        &self.0.validation
    }

    /// Compiled detection rules and correlation state per organisation.
    pub fn detection(&self) -> &Arc<Detection> {
        &self.0.detection
    }

    /// The pipeline's counters.
    pub fn metrics(&self) -> &IngestMetrics {
        &self.0.metrics
    }

    /// The organisation's detection state, or `None` when detection is off.
    pub async fn detection_for(
        &self,
        org: OrgId,
        now: Timestamp,
    ) -> Result<Option<Arc<OrgDetection>>, Error> {
        if !self.0.detection_enabled {
            return Ok(None);
        }
        Ok(Some(self.0.detection.for_org(org, now).await?))
    }

    /// Decodes (on a blocking thread), scans for detection and stores one
    /// request's events; once they are stored, their matches are
    /// correlated and the alerts recorded. With `atomic`, any refused item
    /// refuses the whole batch. The caller holds a [`Slot`].
    pub async fn ingest(
        &self,
        org: OrgId,
        atomic: bool,
        decode: impl for<'r> FnOnce(Timestamp, &'r RuleSet) -> Result<Decoded<'r>, Error>
            + Send
            + 'static,
    ) -> Result<IngestReport, Error> {
        let inner = &*self.0;
        let received = inner.clock.now();
        let store = inner.store.clone();
        let rules = inner.validation.rules_for(org).await?;
        let detection = self.detection_for(org, received).await?;
        let matcher = match &detection {
            Some(_) => Some(
                inner
                    .detection
                    .watchlists()
                    .matcher_for(org, received)
                    .await?,
            ),
            None => None,
        };
        let rule_set = rules.clone();
        let scanner = detection.clone();
        let (prepared, scanned, mut errors, tallies) = tokio::task::spawn_blocking(move || {
            let decoded = decode(received, &rule_set)?;
            if atomic && !decoded.errors.is_empty() {
                return Ok((None, None, decoded.errors, Vec::new()));
            }
            let scanned = scanner.map(|d| {
                let watched = matcher
                    .map(|m| watchlists::scan(m, &decoded.events, entities_of))
                    .unwrap_or_default();
                (d.scan(&decoded.events), watched)
            });
            let prepared =
                (!decoded.events.is_empty()).then(|| store.prepare_events(org, decoded.events));
            Ok::<_, Error>((prepared, scanned, decoded.errors, decoded.tallies))
        })
        .await
        .map_err(|e| Error::internal(&e))??;
        let rejected = errors.len();
        if atomic && rejected > 0 {
            errors.truncate(MAX_LISTED_ERRORS);
            return Err(Error::rejected(
                format!("{rejected} item(s) are invalid; with atomic=true nothing was stored"),
                errors,
            ));
        }
        let accepted = prepared.as_ref().map_or(0, |p| p.len());
        if let Some(prepared) = prepared {
            let ids = inner.writer.write(prepared).await.map_err(|e| match e {
                WriteError::Stopped => busy(),
                WriteError::Store(e) => Error::from(e),
            })?;
            if let (Some(detection), Some((scanned, watched))) = (detection, scanned) {
                inner
                    .detection
                    .after_commit(org, &detection, scanned, watched, &ids)
                    .await;
            }
        }
        // Counted once stored (or refused): what an atomic refusal did not
        // store does not count.
        inner.validation.record(org, received, &rules, &tallies);
        inner.metrics.events_ingested(accepted, rejected);
        errors.truncate(MAX_LISTED_ERRORS);
        Ok(IngestReport {
            accepted,
            rejected,
            errors,
        })
    }

    /// Removes expired events once, at the clock's time (tests call it).
    pub async fn run_retention(&self) -> Result<RetentionRun, rampart_store::StoreError> {
        retention::run_once(
            &*self.0.store,
            self.0.clock.now(),
            self.0.config.retention_days,
        )
        .await
    }

    /// Starts the pipeline's background jobs: retention, sealing, and
    /// writing validation tallies and rule hit counts.
    pub fn spawn_background(&self, tasks: &mut JoinSet<()>) {
        let (store, clock) = (self.0.store.clone(), self.0.clock.clone());
        tasks.spawn(crate::sealing::run_forever(store, clock));
        tasks.spawn(self.0.validation.clone().flush_forever());
        tasks.spawn(self.0.detection.clone().flush_hits_forever());
    }

    /// Stores what is queued, refuses more, and writes the tallies; call
    /// once the sources have stopped.
    pub async fn stop(&self) {
        let writer = self.0.writer_handle.lock().ok().and_then(|mut w| w.take());
        if let Some(writer) = writer {
            writer.stop().await;
        }
        if let Err(error) = self.0.validation.flush().await {
            tracing::error!(%error, "storing validation counts at shutdown failed");
        }
        if let Err(error) = self.0.detection.flush_hits(None).await {
            tracing::error!(%error, "storing rule hit counts at shutdown failed");
        }
    }
}
