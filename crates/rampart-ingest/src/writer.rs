//! The group-commit writer: one task stores the batches of all concurrent
//! ingest requests together, in one durable transaction per round, and
//! answers each request only after its batch is committed.

use std::sync::Arc;
use std::time::Duration;

use rampart_core::EventId;
use rampart_store::{PreparedEvents, Store, StoreError};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// Most events stored in one transaction.
const MAX_GROUP_EVENTS: usize = 64 * 1024;

/// Why a batch was not stored.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the event writer has stopped")]
    Stopped,
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Job {
    batch: PreparedEvents,
    done: oneshot::Sender<Result<Vec<EventId>, StoreError>>,
}

/// The sending side; cheap to clone.
#[derive(Clone)]
pub struct EventWriter {
    jobs: mpsc::Sender<Job>,
}

impl EventWriter {
    /// Starts the writer task; it runs until [`WriterHandle::stop`].
    pub fn start(store: Arc<dyn Store>, queue_batches: usize) -> (Self, WriterHandle) {
        let (jobs, receiver) = mpsc::channel(queue_batches.max(1));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(store, receiver, stopped));
        (Self { jobs }, WriterHandle { stop, task })
    }

    /// Stores one batch durably; returns its events' ids once committed.
    pub async fn write(&self, batch: PreparedEvents) -> Result<Vec<EventId>, WriteError> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job { batch, done })
            .await
            .map_err(|_| WriteError::Stopped)?;
        match answer.await {
            Ok(result) => Ok(result?),
            Err(_) => Err(WriteError::Stopped),
        }
    }
}

/// Stops the writer after it has stored everything already queued.
pub struct WriterHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WriterHandle {
    /// Refuses new batches, stores the queued ones, then returns.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "event writer task failed");
        }
    }
}

async fn run(
    store: Arc<dyn Store>,
    mut receiver: mpsc::Receiver<Job>,
    mut stop: watch::Receiver<bool>,
) {
    let mut group: Vec<Job> = Vec::new();
    let writers = store.concurrent_writers().clamp(1, 16);
    let slots = Arc::new(tokio::sync::Semaphore::new(writers));
    loop {
        let first = tokio::select! {
            job = receiver.recv() => job,
            _ = stop.wait_for(|s| *s) => None,
        };
        let first = match first {
            Some(job) => Some(job),
            None => {
                // Stopping: refuse new batches, store what is queued.
                receiver.close();
                receiver.recv().await
            }
        };
        let Some(first) = first else { break };
        let mut events = first.batch.len();
        group.push(first);
        while events < MAX_GROUP_EVENTS {
            match receiver.try_recv() {
                Ok(job) => {
                    events += job.batch.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        // Backends that take several writers (PostgreSQL) commit groups
        // side by side; SQLite's one writer commits them one at a time.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let (store, group) = (store.clone(), std::mem::take(&mut group));
        tokio::spawn(async move {
            commit(&*store, group).await;
            drop(slot);
        });
    }
    // Wait for the commits still running.
    let _ = slots.acquire_many(writers as u32).await;
    tracing::debug!("event writer drained and stopped");
}

async fn commit(store: &dyn Store, group: Vec<Job>) {
    let (batches, waiters): (Vec<PreparedEvents>, Vec<_>) =
        group.into_iter().map(|j| (j.batch, j.done)).unzip();
    match append_with_retry(store, &batches).await {
        Ok(ids) => {
            for (waiter, ids) in waiters.into_iter().zip(ids) {
                let _ = waiter.send(Ok(ids));
            }
        }
        Err(error) if batches.len() > 1 => {
            // One bad batch must not fail its neighbours: store each alone.
            tracing::warn!(%error, batches = batches.len(), "group commit failed; retrying batches one by one");
            for (batch, waiter) in batches.into_iter().zip(waiters) {
                let result = append_with_retry(store, std::slice::from_ref(&batch))
                    .await
                    .map(|mut ids| ids.pop().unwrap_or_default());
                let _ = waiter.send(result);
            }
        }
        Err(error) => {
            // A group of one: its only waiter gets the error.
            if let Some(waiter) = waiters.into_iter().next() {
                let _ = waiter.send(Err(error));
            }
        }
    }
}

/// Retries a transient failure (a locked database, a dropped connection)
/// a few times before giving up.
async fn append_with_retry(
    store: &dyn Store,
    batches: &[PreparedEvents],
) -> Result<Vec<Vec<EventId>>, StoreError> {
    let mut delay = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match store.append_events(batches).await {
            Ok(ids) => return Ok(ids),
            Err(error) if attempt < 3 => {
                tracing::warn!(%error, attempt, "storing events failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 4;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}
