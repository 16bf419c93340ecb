//! `notify.deliver`: sends one delivery and records how it went. A
//! delivery already sent is not sent again (jobs run at least once); the
//! last failed attempt, or a refusal, marks it failed (until its job is
//! retried).

use std::sync::Arc;

use async_trait::async_trait;
use rampart_core::notification::{ChannelTarget, Delivery, DeliveryStatus};
use rampart_core::{Clock, DeliveryId, Job};
use rampart_store::{DeliveryAttempt, Store};

use super::breaker::Breakers;
use super::send::{Mailer, Poster};
use super::sign;
use crate::jobs::handler::{JobFailure, JobHandler};

pub struct Deliver {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<Mailer>,
    pub poster: Arc<Poster>,
    pub breakers: Arc<Breakers>,
}

impl Deliver {
    async fn send(&self, delivery: &Delivery) -> Result<(), JobFailure> {
        let Some(channel_id) = delivery.channel_id else {
            let to = delivery
                .recipient
                .clone()
                .ok_or_else(|| JobFailure::Permanent("no channel and no recipient".into()))?;
            let endpoint = self.mailer.endpoint(None);
            return self
                .guarded(&endpoint, self.mailer.send(None, &[to], &delivery.message))
                .await;
        };
        let channel = self
            .store
            .get_channel(delivery.org_id, channel_id)
            .await
            .map_err(JobFailure::retry)?
            .ok_or_else(|| JobFailure::Permanent("the channel was deleted".into()))?;
        match &channel.target {
            ChannelTarget::Email { recipients, smtp } => {
                let endpoint = self.mailer.endpoint(smtp.as_ref());
                self.guarded(
                    &endpoint,
                    self.mailer
                        .send(smtp.as_ref(), recipients, &delivery.message),
                )
                .await
            }
            ChannelTarget::Webhook { url, secret } => {
                let body = self.body(delivery);
                let signature = sign::signature(secret, self.clock.now().0 / 1000, &body);
                let headers = [
                    (sign::HEADER, signature),
                    ("X-Rampart-Event", delivery.notice.as_str().to_owned()),
                    ("X-Rampart-Delivery", delivery.id.to_string()),
                ];
                let endpoint = Poster::endpoint(url);
                self.guarded(&endpoint, self.poster.post(url, body, &headers))
                    .await
            }
            ChannelTarget::Slack { url } => {
                let body = self.body(delivery);
                let endpoint = Poster::endpoint(url);
                self.guarded(&endpoint, self.poster.post(url, body, &[]))
                    .await
            }
        }
    }

    fn body(&self, delivery: &Delivery) -> Vec<u8> {
        delivery
            .message
            .json
            .as_ref()
            .map(|j| j.to_string().into_bytes())
            .unwrap_or_else(|| delivery.message.text.clone().into_bytes())
    }

    /// Sends through the endpoint's circuit breaker: while it is open the
    /// attempt fails at once (to be retried later).
    async fn guarded(
        &self,
        endpoint: &str,
        send: impl std::future::Future<Output = Result<(), JobFailure>>,
    ) -> Result<(), JobFailure> {
        let now = self.clock.now();
        if let Err(until) = self.breakers.admit(endpoint, now) {
            return Err(JobFailure::Retry(format!(
                "{endpoint} failed repeatedly; not tried again before {}",
                until.to_rfc3339()
            )));
        }
        let outcome = send.await;
        match &outcome {
            Ok(()) => self.breakers.succeeded(endpoint),
            Err(JobFailure::Retry(_)) => self.breakers.failed(endpoint, self.clock.now()),
            Err(JobFailure::Permanent(_)) => {}
        }
        outcome
    }
}

#[async_trait]
impl JobHandler for Deliver {
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let org = job
            .org_id
            .ok_or_else(|| JobFailure::Permanent("a delivery belongs to an organisation".into()))?;
        let id: DeliveryId = job
            .payload
            .get("delivery")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| JobFailure::Permanent("the payload names no delivery".into()))?;
        let Some(delivery) = self
            .store
            .get_delivery(org, id)
            .await
            .map_err(JobFailure::retry)?
        else {
            return Ok(());
        };
        // Sent already (this job ran before); a failed one runs again
        // when its dead job is retried.
        if delivery.status == DeliveryStatus::Delivered {
            return Ok(());
        }
        let outcome = self.send(&delivery).await;
        let (status, last_error) = match &outcome {
            Ok(()) => (DeliveryStatus::Delivered, delivery.last_error.clone()),
            Err(failure) => {
                let last =
                    matches!(failure, JobFailure::Permanent(_)) || job.attempts >= job.max_attempts;
                let status = if last {
                    DeliveryStatus::Failed
                } else {
                    DeliveryStatus::Pending
                };
                (
                    status,
                    Some(rampart_core::job::stored_error(failure.message())),
                )
            }
        };
        // A code or reset link is not kept once it is sent (or given up).
        let message =
            (delivery.notice.is_secret() && status != DeliveryStatus::Pending).then(|| {
                rampart_core::notification::Message {
                    subject: delivery.message.subject.clone(),
                    text: "(held a one-time secret; not kept)".into(),
                    html: None,
                    json: None,
                }
            });
        let attempt = DeliveryAttempt {
            status,
            attempts: job.attempts,
            last_error,
            at: self.clock.now(),
            message,
        };
        self.store
            .record_delivery_attempt(org, id, &attempt)
            .await
            .map_err(JobFailure::retry)?;
        outcome
    }
}
