//! The `phishing.analyze` job: reads one stored message, asks the store
//! whether the organisation knows its sender, judges it with the
//! organisation's settings (on a blocking thread: parsing is CPU work),
//! records the outcome, and raises an alert, which opens or joins an
//! incident and so notifies, when the score reaches the threshold. A
//! message is analysed once: a job that finds it analysed does nothing.

use async_trait::async_trait;
use rampart_core::alert_grouping::NewAlert;
use rampart_core::phishing::{PhishOutcome, PhishSource, PhishStatus, PhishingMessage};
use rampart_core::{Entities, Job, OrgId, PhishingMessageId};
use rampart_mail::phish::{judge, read_message, Analysis, Verdict};

use super::Phishing;
use crate::jobs::handler::{JobFailure, JobHandler};

/// Rule id of the alerts verdicts raise.
pub const PHISHING_RULE: &str = "phishing";

/// The job handler.
pub struct AnalyzeMessage(pub Phishing);

#[async_trait]
impl JobHandler for AnalyzeMessage {
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let (Some(org), Some(id)) = (
            job.org_id,
            job.payload["message_id"]
                .as_str()
                .and_then(|s| s.parse::<PhishingMessageId>().ok()),
        ) else {
            return Err(JobFailure::Permanent("no message named".into()));
        };
        self.0.analyse(org, id).await
    }
}

impl Phishing {
    async fn analyse(&self, org: OrgId, id: PhishingMessageId) -> Result<(), JobFailure> {
        let store = &self.store;
        let Some(message) = store
            .get_phishing_message(org, id)
            .await
            .map_err(JobFailure::retry)?
        else {
            return Ok(());
        };
        if message.status != PhishStatus::Queued {
            return Ok(());
        }
        let Some(raw) = store
            .phishing_raw(org, id)
            .await
            .map_err(JobFailure::retry)?
        else {
            return Ok(());
        };
        let settings = self.settings_of(org).await.map_err(JobFailure::retry)?;
        let forwarded = message.source == PhishSource::Mailbox;
        let read = tokio::task::spawn_blocking(move || read_message(&raw, forwarded))
            .await
            .map_err(JobFailure::retry)?;
        let now = self.clock.now();
        let facts = match read {
            Ok(facts) => facts,
            Err(unreadable) => {
                store
                    .finish_phishing_analysis(org, id, Err(unreadable.0.to_owned()), now)
                    .await
                    .map_err(JobFailure::retry)?;
                return Ok(());
            }
        };
        let sender = facts.from.as_ref().map(|f| f.address.to_lowercase());
        let known = match &sender {
            Some(address) => Some(
                store
                    .phishing_sender_known(org, address)
                    .await
                    .map_err(JobFailure::retry)?,
            ),
            None => None,
        };
        let policy = settings.policy();
        let analysis = tokio::task::spawn_blocking(move || judge(facts, &policy, known))
            .await
            .map_err(JobFailure::retry)?;
        let outcome = PhishOutcome {
            sender: sender.clone(),
            subject: Some(analysis.summary.subject.clone()).filter(|s| !s.is_empty()),
            score: analysis.score,
            verdict: analysis.verdict.as_str().to_owned(),
            result: serde_json::to_value(&analysis).map_err(JobFailure::retry)?,
            sender_now_known: analysis.verdict == Verdict::Clean,
        };
        store
            .finish_phishing_analysis(org, id, Ok(outcome), self.clock.now())
            .await
            .map_err(JobFailure::retry)?;
        let alarming = analysis.verdict != Verdict::Simulation
            && analysis.score >= settings.incident_threshold;
        if let (true, Some(detection)) = (alarming, &self.detection) {
            let alert = alert_of(&message, &analysis, self.clock.now());
            if let Some(recorded) = detection.record_alerts(org, &[alert]).await.first() {
                store
                    .set_phishing_incident(org, id, recorded.incident)
                    .await
                    .map_err(JobFailure::retry)?;
            }
        }
        tracing::info!(%org, message = %id, score = analysis.score, verdict = analysis.verdict.as_str(), "phishing message analysed");
        Ok(())
    }
}

/// The alert a verdict raises: one incident per sending domain gathers the
/// reports of a campaign.
fn alert_of(
    message: &PhishingMessage,
    analysis: &Analysis,
    now: rampart_core::Timestamp,
) -> NewAlert {
    let summary = &analysis.summary;
    let from = summary.from.as_ref();
    let domain = from
        .map(|f| rampart_mail::phish::domain_of(&f.address))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "unknown sender".to_owned());
    let subject: String = summary.subject.chars().take(120).collect();
    let mut entities = Entities::default();
    if message.reporter.contains('@') {
        entities.users.push(message.reporter.clone());
    }
    entities
        .ips
        .extend(analysis.iocs.ipv4.iter().take(10).cloned());
    NewAlert {
        rule_id: PHISHING_RULE.to_owned(),
        rule_title: format!(
            "Phishing e-mail scored {} from {}: {}",
            analysis.score,
            from.map_or("unknown sender", |f| f.address.as_str()),
            subject
        ),
        severity: if analysis.score >= 90 { 5 } else { 4 },
        group_key: format!("sender_domain={domain}"),
        event_ids: Vec::new(),
        entities,
        ts: now,
    }
}
