//! `notify.dispatch`: turns one notice into deliveries. It reads what the
//! notice is about, the organisation's rules and its users' preferences,
//! renders a message per channel or person, and records the deliveries
//! with their jobs in one transaction (keyed by this job, so that running
//! it again delivers nothing twice).

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use rampart_core::notification::{
    Channel, ChannelTarget, Delivery, DeliveryStatus, Notice, NoticeKind, NotificationPrefs,
};
use rampart_core::{Clock, DeliveryId, Job, User};
use rampart_store::Store;

use super::render::Subject;
use super::send::Mailer;
use crate::jobs::handler::{JobFailure, JobHandler};

pub struct Dispatch {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<Mailer>,
    pub base_url: String,
}

/// Who a delivery goes to.
enum Target {
    Channel(Channel),
    Person(User),
}

impl Dispatch {
    /// The channels whose rules take this notice.
    async fn routed_channels(
        &self,
        org: rampart_core::OrgId,
        kind: NoticeKind,
        severity: u8,
    ) -> Result<Vec<Channel>, JobFailure> {
        let rules = self
            .store
            .list_notification_rules(org)
            .await
            .map_err(JobFailure::retry)?;
        let wanted: BTreeSet<_> = rules
            .iter()
            .filter(|r| r.matches(kind, severity))
            .flat_map(|r| r.channels.iter().copied())
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let channels = self
            .store
            .list_channels(org)
            .await
            .map_err(JobFailure::retry)?;
        Ok(channels
            .into_iter()
            .filter(|c| c.enabled && wanted.contains(&c.id))
            .collect())
    }

    /// The people whose own preferences take this notice (the person it
    /// concerns with default preferences when they set none).
    async fn subscribed_people(
        &self,
        org: rampart_core::OrgId,
        notice: &Notice,
        kind: NoticeKind,
        severity: u8,
    ) -> Result<Vec<User>, JobFailure> {
        let mut prefs = self
            .store
            .list_notification_prefs(org)
            .await
            .map_err(JobFailure::retry)?;
        if let Some(concerned) = notice.user {
            if !prefs.iter().any(|(u, _)| *u == concerned) {
                prefs.push((concerned, NotificationPrefs::default()));
            }
        }
        let mut people = Vec::new();
        for (user_id, prefs) in prefs {
            if !prefs.wants(kind, severity, notice.user == Some(user_id)) {
                continue;
            }
            if let Some(user) = self
                .store
                .get_user(org, user_id)
                .await
                .map_err(JobFailure::retry)?
            {
                if !user.disabled {
                    people.push(user);
                }
            }
        }
        Ok(people)
    }
}

#[async_trait]
impl JobHandler for Dispatch {
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let org_id = job
            .org_id
            .ok_or_else(|| JobFailure::Permanent("a notice belongs to an organisation".into()))?;
        let notice: Notice = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobFailure::Permanent(format!("not a notice: {e}")))?;
        let kind = notice
            .kind
            .ok_or_else(|| JobFailure::Permanent("the notice has no kind".into()))?;
        // What it is about may be gone by now (an organisation deleted):
        // then there is nothing to tell.
        let Some(org) = self
            .store
            .get_org(org_id)
            .await
            .map_err(JobFailure::retry)?
        else {
            return Ok(());
        };
        let incident = match notice.incident {
            Some(id) => match self
                .store
                .get_incident(org_id, id)
                .await
                .map_err(JobFailure::retry)?
            {
                Some(incident) => Some(incident),
                None => return Ok(()),
            },
            None => None,
        };
        let feedback = match notice.feedback {
            Some(id) => match self
                .store
                .get_feedback(org_id, id)
                .await
                .map_err(JobFailure::retry)?
            {
                Some(feedback) => Some(feedback),
                None => return Ok(()),
            },
            None => None,
        };
        let concerned = match notice.user {
            Some(id) => self
                .store
                .get_user(org_id, id)
                .await
                .map_err(JobFailure::retry)?,
            None => None,
        };
        let scan = match notice.scan {
            Some(id) => match self
                .store
                .get_scan(org_id, id)
                .await
                .map_err(JobFailure::retry)?
            {
                Some(scan) => Some(scan),
                None => return Ok(()),
            },
            None => None,
        };
        let severity = match (&incident, &scan) {
            (Some(i), _) => i.severity,
            (None, Some(s)) => s.notice_severity(),
            (None, None) => notice.severity.unwrap_or(0),
        };
        let mut targets = Vec::new();
        match kind {
            NoticeKind::IncidentCreated
            | NoticeKind::IncidentEscalated
            | NoticeKind::IncidentStatusChanged
            | NoticeKind::IncidentAssigned
            | NoticeKind::ScanCompleted
            | NoticeKind::FindingSlaBreached
            | NoticeKind::FindingRiskExpiring
            | NoticeKind::HuntMatched => {
                targets.extend(
                    self.routed_channels(org_id, kind, severity)
                        .await?
                        .into_iter()
                        .map(Target::Channel),
                );
                targets.extend(
                    self.subscribed_people(org_id, &notice, kind, severity)
                        .await?
                        .into_iter()
                        .map(Target::Person),
                );
            }
            NoticeKind::FeedbackAnswered | NoticeKind::UserWelcome => {
                if let Some(user) = concerned.clone().filter(|u| !u.disabled) {
                    targets.push(Target::Person(user));
                }
            }
            // Sent directly with their secret, never dispatched.
            NoticeKind::UserLoginCode
            | NoticeKind::UserPasswordReset
            | NoticeKind::WeeklyDigest => {
                return Err(JobFailure::Permanent(format!(
                    "{} is not dispatched",
                    kind.as_str()
                )))
            }
            NoticeKind::ChannelTest => {
                if let Some(id) = notice.channel {
                    if let Some(channel) = self
                        .store
                        .get_channel(org_id, id)
                        .await
                        .map_err(JobFailure::retry)?
                    {
                        targets.push(Target::Channel(channel));
                    }
                }
            }
        }
        if !self.mailer.has_platform_server() {
            let before = targets.len();
            targets.retain(|t| matches!(t, Target::Channel(_)));
            if targets.len() < before {
                tracing::debug!(
                    notice = kind.as_str(),
                    "no [notifications.smtp]: people are not e-mailed"
                );
            }
        }
        if targets.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let subject = Subject {
            notice: &notice,
            kind,
            org: &org,
            incident: incident.as_ref(),
            feedback: feedback.as_ref(),
            scan: scan.as_ref(),
            user: concerned.as_ref(),
            base_url: self.base_url.trim_end_matches('/'),
            now,
        };
        let deliveries: Vec<Delivery> = targets
            .iter()
            .map(|target| {
                let id = DeliveryId::new();
                let (channel_id, recipient, message, key) = match target {
                    Target::Channel(c) => {
                        let message = match &c.target {
                            ChannelTarget::Email { .. } => subject.email(),
                            ChannelTarget::Webhook { .. } => subject.webhook(id),
                            ChannelTarget::Slack { .. } => subject.slack(),
                        };
                        (Some(c.id), None, message, format!("channel:{}", c.id))
                    }
                    Target::Person(u) => (
                        None,
                        Some(u.email.clone()),
                        subject.email(),
                        format!("user:{}", u.id),
                    ),
                };
                Delivery {
                    id,
                    org_id,
                    notice: kind,
                    channel_id,
                    recipient,
                    subject_ref: subject.reference(),
                    message,
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    last_error: None,
                    dedupe_key: format!("{}:{key}", job.id),
                    created_at: now,
                    updated_at: now,
                    delivered_at: None,
                }
            })
            .collect();
        let added = self
            .store
            .record_deliveries(org_id, &deliveries, now)
            .await
            .map_err(JobFailure::retry)?;
        tracing::debug!(
            notice = kind.as_str(),
            deliveries = added,
            "notice dispatched"
        );
        Ok(())
    }
}
