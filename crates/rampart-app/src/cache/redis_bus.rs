//! Cache invalidations between nodes through Redis pub/sub: each node
//! publishes `<cache>\t<key or *>\t<node>` on one channel and applies what
//! the others publish. A node that loses its subscription drops all its
//! cached values when it is back (it may have missed invalidations), and
//! every value expires after its time to live anyway.

use std::time::Duration;

use futures_util::StreamExt as _;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;

use super::Invalidator;

/// Sends this node's invalidations (queued, so that callers never wait
/// for Redis).
#[derive(Clone)]
pub struct Publisher {
    queue: mpsc::Sender<String>,
    node: String,
}

impl Publisher {
    pub fn publish(&self, cache: &str, key: Option<&str>) {
        let message = format!("{cache}\t{}\t{}", key.unwrap_or("*"), self.node);
        if self.queue.try_send(message).is_err() {
            tracing::warn!(
                cache,
                "cache invalidation queue full; other nodes rely on expiry"
            );
        }
    }
}

/// Connects, starts the publishing and subscribing tasks, and returns the
/// publisher to give the [`Invalidator`].
pub async fn start(
    url: &str,
    channel: &str,
    invalidator: Invalidator,
) -> Result<Publisher, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let mut connection = ConnectionManager::new(client.clone()).await?;
    let node = uuid::Uuid::now_v7().to_string();
    let (queue, mut outgoing) = mpsc::channel::<String>(10_000);
    let publish_channel = channel.to_owned();
    tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            let sent: Result<i64, _> = redis::cmd("PUBLISH")
                .arg(&publish_channel)
                .arg(&message)
                .query_async(&mut connection)
                .await;
            if let Err(error) = sent {
                tracing::warn!(%error, "publishing a cache invalidation failed");
            }
        }
    });
    let own = node.clone();
    let subscribe_channel = channel.to_owned();
    // Subscribe before returning, so that nothing published after start
    // is missed.
    let mut subscribed = client.get_async_pubsub().await?;
    subscribed.subscribe(channel).await?;
    let mut first = Some(subscribed);
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            let mut pubsub = match first.take() {
                Some(p) => p,
                None => {
                    let resubscribed = async {
                        let mut p = client.get_async_pubsub().await?;
                        p.subscribe(&subscribe_channel).await?;
                        Ok::<_, redis::RedisError>(p)
                    };
                    match resubscribed.await {
                        Ok(p) => {
                            // Whatever was missed while away goes with the values.
                            invalidator.clear_all();
                            p
                        }
                        Err(error) => {
                            tracing::warn!(%error, "cache invalidation subscription failed; retrying");
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_secs(5));
                            continue;
                        }
                    }
                }
            };
            backoff = Duration::from_millis(100);
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                let Ok(text) = message.get_payload::<String>() else {
                    continue;
                };
                let mut parts = text.splitn(3, '\t');
                let (Some(cache), Some(key), Some(from)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                if from == own {
                    continue;
                }
                let key = (key != "*").then_some(key);
                invalidator.apply(cache, key, "remote");
            }
            tracing::warn!("cache invalidation subscription ended; resubscribing");
        }
    });
    Ok(Publisher { queue, node })
}
