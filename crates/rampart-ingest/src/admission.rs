//! Admission control: bounds the ingest requests being decoded, queued or
//! written at once, so memory stays bounded under any load. Past the
//! deadline a request is refused as busy (retry later) instead of waiting
//! longer.

use std::sync::Arc;
use std::time::Duration;

use rampart_core::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The bounded slots of the ingest path.
#[derive(Clone)]
pub struct Admission {
    slots: Arc<Semaphore>,
    wait: Duration,
}

/// A slot held while one request is in the pipeline.
pub type Slot = OwnedSemaphorePermit;

impl Admission {
    pub fn new(slots: usize, wait: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            wait,
        }
    }

    /// A slot, or busy once the wait is over.
    pub async fn admit(&self) -> Result<Slot, Error> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy()),
        }
    }
}

/// Nothing of the request was stored; the client should retry.
pub(crate) fn busy() -> Error {
    Error::busy(
        "ingest_busy",
        "the event store is behind; nothing of this request was stored, retry it",
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_pipeline_answers_busy_after_the_wait() {
        let admission = Admission::new(1, Duration::from_millis(10));
        let held = admission.admit().await.unwrap();
        let refused = admission.admit().await.unwrap_err();
        assert_eq!(
            (refused.kind, refused.code, refused.retry_after_secs),
            (rampart_core::ErrorKind::Busy, "ingest_busy", Some(1))
        );
        drop(held);
        assert!(admission.admit().await.is_ok());
    }
}
