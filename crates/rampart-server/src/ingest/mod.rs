//! The ingest path: admission (bounded, with a deadline), body decoding,
//! normalisation on a blocking thread, and the group-commit writer.

pub mod body;
pub mod pipeline;
pub mod retention;
pub mod sealing;
pub mod syslog;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use rampart_core::{OrgId, Timestamp};
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;
use crate::service::detection::{self, OrgDetection};
use crate::state::AppState;
use pipeline::{Decoded, ItemError};
use rampart_core::validation::RuleSet;
use writer::WriteError;

/// Most item errors listed in one answer; `rejected` still counts all.
const MAX_LISTED_ERRORS: usize = 1000;

/// Bounds the ingest requests being decoded, queued or written at once, so
/// memory stays bounded under any load: past the deadline a request is
/// answered 503 with Retry-After instead of waiting longer.
#[derive(Clone)]
pub struct Admission {
    slots: Arc<Semaphore>,
    wait: Duration,
}

impl Admission {
    pub fn new(slots: usize, wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            wait,
        }
    }

    pub async fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy()),
        }
    }
}

fn busy() -> ApiError {
    ApiError {
        retry_after_secs: Some(1),
        ..ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ingest_busy",
            "the event store is behind; nothing of this request was stored, retry it",
        )
    }
}

/// The answer to an ingest request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IngestReport {
    pub accepted: usize,
    pub rejected: usize,
    /// The first 1000 refused items, with their position.
    pub errors: Vec<ItemError>,
}

/// The organisation's detection state, or `None` when detection is off.
pub async fn detection_for(
    state: &AppState,
    org: OrgId,
    now: Timestamp,
) -> Result<Option<Arc<OrgDetection>>, ApiError> {
    if !state.config.detection.enabled {
        return Ok(None);
    }
    Ok(Some(
        state.detection.for_org(&*state.store, org, now).await?,
    ))
}

/// Decodes (on a blocking thread), scans for detection and stores one
/// request's events; once they are stored, their matches are correlated
/// and the alerts recorded.
/// With `atomic`, any refused item refuses the whole batch.
pub async fn ingest(
    state: &AppState,
    org: OrgId,
    atomic: bool,
    decode: impl for<'r> FnOnce(Timestamp, &'r RuleSet) -> Result<Decoded<'r>, ApiError>
        + Send
        + 'static,
) -> Result<IngestReport, ApiError> {
    let received = state.clock.now();
    let store = state.store.clone();
    let rules = state.validation.rules_for(&*state.store, org).await?;
    let detection = detection_for(state, org, received).await?;
    let rule_set = rules.clone();
    let scanner = detection.clone();
    let (prepared, scanned, mut errors, tallies) = tokio::task::spawn_blocking(move || {
        let decoded = decode(received, &rule_set)?;
        if atomic && !decoded.errors.is_empty() {
            return Ok((None, None, decoded.errors, Vec::new()));
        }
        let scanned = scanner.map(|d| d.scan(&decoded.events));
        let prepared =
            (!decoded.events.is_empty()).then(|| store.prepare_events(org, decoded.events));
        Ok::<_, ApiError>((prepared, scanned, decoded.errors, decoded.tallies))
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let rejected = errors.len();
    if atomic && rejected > 0 {
        errors.truncate(MAX_LISTED_ERRORS);
        return Err(ApiError {
            errors: Some(errors.into_boxed_slice()),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "batch_rejected",
                format!("{rejected} item(s) are invalid; with atomic=true nothing was stored"),
            )
        });
    }
    let accepted = prepared.as_ref().map_or(0, |p| p.len());
    if let Some(prepared) = prepared {
        let ids = state.events.write(prepared).await.map_err(|e| match e {
            WriteError::Stopped => busy(),
            WriteError::Store(e) => ApiError::internal(&e),
        })?;
        if let (Some(detection), Some(scanned)) = (detection, scanned) {
            detection::after_commit(state, org, &detection, scanned, &ids).await;
        }
    }
    // Counted once stored (or refused): what an atomic refusal did not
    // store does not count.
    state.validation.record(org, received, &rules, &tallies);
    state.metrics.events_ingested(accepted, rejected);
    errors.truncate(MAX_LISTED_ERRORS);
    Ok(IngestReport {
        accepted,
        rejected,
        errors,
    })
}
