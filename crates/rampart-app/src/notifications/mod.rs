//! Notifications: the organisation's channels and routing rules (admins),
//! users' own preferences, the delivery log, and the two jobs that do the
//! work: `notify.dispatch` (a notice → deliveries) and `notify.deliver`
//! (one delivery → an e-mail or a signed webhook, retried with backoff
//! behind a circuit breaker per endpoint, SSRF-guarded).

pub mod breaker;
pub mod deliver;
pub mod digest;
pub mod dispatch;
pub mod render;
pub mod send;
pub mod sign;
pub mod ssrf;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use rampart_core::notification::{
    Channel, Notice, NoticeKind, NotificationPrefs, NotificationRule, SmtpServer, MAX_CHANNELS,
    MAX_NAME_CHARS, MAX_RULES,
};
use rampart_core::{
    ChannelId, Clock, DeliveryId, Error, JobId, NotificationRuleId, OrgId, Permission,
};
use rampart_store::{DeliveryQuery, Store, StoreError};
use serde::Deserialize;

use crate::api::notifications::{
    ChannelChange, ChannelInput, ChannelView, DeliveryView, NotificationRuleChange,
    NotificationRuleInput, NotificationRuleView,
};
use crate::audit::{self, Audit};
use crate::jobs::handler::Handlers;
use crate::paging::{Page, PageParams};
use crate::principal::Principal;
use breaker::{BreakerPolicy, Breakers};
use send::{Mailer, Poster};
use ssrf::TargetPolicy;

/// `[notifications]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// Where users reach the web UI: links in messages start with it
    /// (`http://<listen address>` unless set).
    pub base_url: String,
    /// Lets webhooks and organisations' SMTP servers be on loopback,
    /// private or link-local addresses (tests; trusted networks).
    pub allow_private_targets: bool,
    /// Longest one delivery attempt may take.
    pub timeout_secs: u64,
    /// Consecutive failures that open an endpoint's circuit breaker, and
    /// how long it then stays open.
    pub breaker_failures: u32,
    pub breaker_cooldown_secs: u64,
    /// The platform's SMTP server: people's own e-mail (assignments,
    /// welcomes, answers, codes) and e-mail channels without their own.
    pub smtp: Option<SmtpServer>,
    /// When the weekly digest goes out (cron, UTC).
    pub digest_cron: String,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        NotificationsConfig {
            base_url: String::new(),
            allow_private_targets: false,
            timeout_secs: 10,
            breaker_failures: 5,
            breaker_cooldown_secs: 60,
            smtp: None,
            digest_cron: "0 7 * * 1".into(),
        }
    }
}

impl std::fmt::Debug for NotificationsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationsConfig")
            .field("base_url", &self.base_url)
            .field("allow_private_targets", &self.allow_private_targets)
            .field("timeout_secs", &self.timeout_secs)
            .field("smtp", &self.smtp.as_ref().map(|s| (&s.host, s.port)))
            .finish_non_exhaustive()
    }
}

impl NotificationsConfig {
    pub fn validate(&self) -> Result<(), String> {
        let base = &self.base_url;
        if !(base.is_empty() || base.starts_with("http://") || base.starts_with("https://")) {
            return Err("notifications.base_url: must start with http:// or https://".into());
        }
        if self.timeout_secs == 0 || self.timeout_secs > 300 {
            return Err("notifications.timeout_secs: 1 to 300".into());
        }
        crate::jobs::schedule::CronExpr::parse(&self.digest_cron)
            .map_err(|e| format!("notifications.digest_cron: {}", e.detail))?;
        if self.breaker_failures == 0 {
            return Err("notifications.breaker_failures: at least 1".into());
        }
        if let Some(smtp) = &self.smtp {
            let target = rampart_core::notification::ChannelTarget::Email {
                recipients: vec![smtp.from.clone()],
                smtp: Some(smtp.clone()),
            };
            if let Some((field, reason)) = target.problem() {
                return Err(format!("notifications.smtp ({field}): {reason}"));
            }
        }
        Ok(())
    }

    /// Where links in messages point: `base_url`, or the listen address.
    pub fn effective_base_url(&self, listen: std::net::SocketAddr) -> String {
        if self.base_url.is_empty() {
            format!("http://{listen}")
        } else {
            self.base_url.trim_end_matches('/').to_owned()
        }
    }

    fn policy(&self) -> TargetPolicy {
        TargetPolicy {
            allow_private: self.allow_private_targets,
        }
    }
}

/// Registers the notification jobs' handlers; links in messages start
/// with `default_base_url` unless the configuration names one.
pub fn handlers(
    handlers: Handlers,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: &NotificationsConfig,
    default_base_url: &str,
) -> Result<Handlers, Error> {
    let base_url = if config.base_url.is_empty() {
        default_base_url.to_owned()
    } else {
        config.base_url.clone()
    };
    let timeout = Duration::from_secs(config.timeout_secs);
    let mailer = Arc::new(Mailer {
        policy: config.policy(),
        platform: config.smtp.clone(),
        timeout,
    });
    let poster = Arc::new(
        Poster::new(config.policy(), timeout)
            .map_err(|e| Error::internal(&format!("HTTP client: {e}")))?,
    );
    let breakers = Arc::new(Breakers::new(BreakerPolicy {
        failures: config.breaker_failures,
        cooldown_ms: i64::try_from(config.breaker_cooldown_secs.saturating_mul(1000))
            .unwrap_or(i64::MAX),
    }));
    Ok(handlers
        .with(
            DIGEST_JOB,
            digest::Digest {
                store: store.clone(),
                clock: clock.clone(),
                base_url: base_url.clone(),
                mail: config.smtp.is_some(),
            },
        )
        .with(
            rampart_core::notification::DISPATCH_JOB,
            dispatch::Dispatch {
                store: store.clone(),
                clock: clock.clone(),
                mailer: mailer.clone(),
                base_url,
            },
        )
        .with(
            rampart_core::notification::DELIVER_JOB,
            deliver::Deliver {
                store,
                clock,
                mailer,
                poster,
                breakers,
            },
        ))
}

/// The weekly digest's job kind.
pub const DIGEST_JOB: &str = "notify.digest";

/// The recurring notification jobs: the weekly digest.
pub fn schedules(
    config: &NotificationsConfig,
    now: rampart_core::Timestamp,
) -> Result<Vec<crate::jobs::schedule::Schedule>, Error> {
    Ok(vec![crate::jobs::schedule::Schedule {
        name: DIGEST_JOB.to_owned(),
        cron: crate::jobs::schedule::CronExpr::parse(&config.digest_cron)?,
        job: rampart_core::NewJob {
            max_attempts: 3,
            ..rampart_core::NewJob::new(
                None,
                crate::jobs::MAINTENANCE_QUEUE,
                DIGEST_JOB,
                serde_json::json!({}),
                now,
            )
        },
    }])
}

/// Enqueues notices outside an incident's transaction (feedback answers,
/// welcomes, tests).
#[derive(Clone)]
pub struct Notifier {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Notifier {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Notifier { store, clock }
    }

    /// Enqueues the notice's dispatch job; returns its id.
    pub async fn notify(&self, org: OrgId, notice: &Notice) -> Result<Option<JobId>, Error> {
        let now = self.clock.now();
        let enqueued = self
            .store
            .enqueue_jobs(&[notice.job(org, now)], now)
            .await?;
        Ok(enqueued.first().and_then(|e| match e {
            rampart_store::Enqueued::Added(id) => Some(*id),
            rampart_store::Enqueued::Duplicate => None,
        }))
    }
}

/// The notification service of the API and the pages.
#[derive(Clone)]
pub struct Notifications {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audit: Audit,
    notifier: Notifier,
}

fn name(field: &str, value: &str) -> Result<String, Error> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid_field(
            field,
            format!("must have 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn taken(e: StoreError, what: &str) -> Error {
    match e {
        StoreError::Conflict { .. } => Error::conflict(
            "name_taken",
            format!("the organisation already has a {what} of that name"),
        )
        .with_field("name"),
        other => other.into(),
    }
}

impl Notifications {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, audit: Audit) -> Self {
        let notifier = Notifier::new(store.clone(), clock.clone());
        Notifications {
            store,
            clock,
            audit,
            notifier,
        }
    }

    pub fn notifier(&self) -> &Notifier {
        &self.notifier
    }

    async fn channel(&self, org: OrgId, id: ChannelId) -> Result<Channel, Error> {
        self.store
            .get_channel(org, id)
            .await?
            .ok_or_else(|| Error::not_found("notification channel"))
    }

    pub async fn channels(&self, principal: &Principal) -> Result<Vec<ChannelView>, Error> {
        principal.require(Permission::Admin)?;
        let channels = self.store.list_channels(principal.org_id).await?;
        Ok(channels.into_iter().map(ChannelView::from).collect())
    }

    pub async fn get_channel(
        &self,
        principal: &Principal,
        id: ChannelId,
    ) -> Result<ChannelView, Error> {
        principal.require(Permission::Admin)?;
        Ok(ChannelView::from(self.channel(principal.org_id, id).await?))
    }

    pub async fn create_channel(
        &self,
        principal: &Principal,
        input: ChannelInput,
    ) -> Result<ChannelView, Error> {
        principal.require(Permission::Admin)?;
        let org = principal.org_id;
        if self.store.list_channels(org).await?.len() >= MAX_CHANNELS {
            return Err(Error::conflict(
                "too_many_channels",
                format!("an organisation has at most {MAX_CHANNELS} channels"),
            ));
        }
        if let Some((field, reason)) = input.target.problem() {
            return Err(Error::invalid_field(&format!("target.{field}"), reason));
        }
        let now = self.clock.now();
        let channel = Channel {
            id: ChannelId::new(),
            org_id: org,
            name: name("name", &input.name)?,
            target: input.target,
            enabled: input.enabled.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        let view = ChannelView::from(channel.clone());
        let entry = self.audit.entry(
            principal,
            "notification_channel.create",
            ("notification_channel", channel.id.to_string()),
            None,
            audit::snapshot(&view),
        );
        self.store
            .create_channel(&channel, &entry)
            .await
            .map_err(|e| taken(e, "channel"))?;
        Ok(view)
    }

    pub async fn update_channel(
        &self,
        principal: &Principal,
        id: ChannelId,
        change: ChannelChange,
    ) -> Result<ChannelView, Error> {
        principal.require(Permission::Admin)?;
        let mut channel = self.channel(principal.org_id, id).await?;
        let before = ChannelView::from(channel.clone());
        if let Some(new_name) = &change.name {
            channel.name = name("name", new_name)?;
        }
        if let Some(target) = change.target {
            if let Some((field, reason)) = target.problem() {
                return Err(Error::invalid_field(&format!("target.{field}"), reason));
            }
            channel.target = target;
        }
        if let Some(enabled) = change.enabled {
            channel.enabled = enabled;
        }
        channel.updated_at = self.clock.now();
        let after = ChannelView::from(channel.clone());
        let entry = self.audit.entry(
            principal,
            "notification_channel.update",
            ("notification_channel", id.to_string()),
            audit::snapshot(&before),
            audit::snapshot(&after),
        );
        if !self
            .store
            .update_channel(&channel, &entry)
            .await
            .map_err(|e| taken(e, "channel"))?
        {
            return Err(Error::not_found("notification channel"));
        }
        Ok(after)
    }

    /// Deletes a channel no rule routes to.
    pub async fn delete_channel(&self, principal: &Principal, id: ChannelId) -> Result<(), Error> {
        principal.require(Permission::Admin)?;
        let org = principal.org_id;
        let channel = self.channel(org, id).await?;
        let users: Vec<String> = self
            .store
            .list_notification_rules(org)
            .await?
            .into_iter()
            .filter(|r| r.channels.contains(&id))
            .map(|r| r.name)
            .collect();
        if !users.is_empty() {
            return Err(Error::conflict(
                "channel_in_use",
                format!(
                    "rules route to this channel: {}; change them first",
                    users.join(", ")
                ),
            ));
        }
        let entry = self.audit.entry(
            principal,
            "notification_channel.delete",
            ("notification_channel", id.to_string()),
            audit::snapshot(&ChannelView::from(channel)),
            None,
        );
        if !self.store.delete_channel(org, id, &entry).await? {
            return Err(Error::not_found("notification channel"));
        }
        Ok(())
    }

    /// Sends a test message to a channel (through the job queue); returns
    /// the dispatch job.
    pub async fn test_channel(
        &self,
        principal: &Principal,
        id: ChannelId,
    ) -> Result<Option<JobId>, Error> {
        principal.require(Permission::Admin)?;
        self.channel(principal.org_id, id).await?;
        let notice = Notice {
            channel: Some(id),
            ..Notice::new(NoticeKind::ChannelTest)
        };
        self.notifier.notify(principal.org_id, &notice).await
    }

    pub async fn rules(&self, principal: &Principal) -> Result<Vec<NotificationRuleView>, Error> {
        principal.require(Permission::Admin)?;
        let rules = self.store.list_notification_rules(principal.org_id).await?;
        Ok(rules.into_iter().map(NotificationRuleView::from).collect())
    }

    async fn rule(&self, org: OrgId, id: NotificationRuleId) -> Result<NotificationRule, Error> {
        self.store
            .list_notification_rules(org)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| Error::not_found("notification rule"))
    }

    pub async fn get_rule(
        &self,
        principal: &Principal,
        id: NotificationRuleId,
    ) -> Result<NotificationRuleView, Error> {
        principal.require(Permission::Admin)?;
        Ok(NotificationRuleView::from(
            self.rule(principal.org_id, id).await?,
        ))
    }

    /// Checks a rule's events, severity and channels (which must be the
    /// organisation's).
    async fn check_rule(&self, rule: &mut NotificationRule) -> Result<(), Error> {
        let events: BTreeSet<NoticeKind> = rule.events.iter().copied().collect();
        if events.is_empty() {
            return Err(Error::invalid_field("events", "name at least one event"));
        }
        if let Some(other) = events.iter().find(|e| !NoticeKind::ROUTABLE.contains(e)) {
            return Err(Error::invalid_field(
                "events",
                format!("{} cannot be routed by rules", other.as_str()),
            ));
        }
        rule.events = events.into_iter().collect();
        if !(1..=5).contains(&rule.min_severity) {
            return Err(Error::invalid_field("min_severity", "must be 1 to 5"));
        }
        let channels: BTreeSet<ChannelId> = rule.channels.iter().copied().collect();
        if channels.is_empty() {
            return Err(Error::invalid_field(
                "channels",
                "name at least one channel",
            ));
        }
        let known: BTreeSet<ChannelId> = self
            .store
            .list_channels(rule.org_id)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        if let Some(unknown) = channels.iter().find(|c| !known.contains(c)) {
            return Err(Error::invalid_field(
                "channels",
                format!("no channel {unknown} in this organisation"),
            ));
        }
        rule.channels = channels.into_iter().collect();
        Ok(())
    }

    pub async fn create_rule(
        &self,
        principal: &Principal,
        input: NotificationRuleInput,
    ) -> Result<NotificationRuleView, Error> {
        principal.require(Permission::Admin)?;
        let org = principal.org_id;
        if self.store.list_notification_rules(org).await?.len() >= MAX_RULES {
            return Err(Error::conflict(
                "too_many_rules",
                format!("an organisation has at most {MAX_RULES} notification rules"),
            ));
        }
        let now = self.clock.now();
        let mut rule = NotificationRule {
            id: NotificationRuleId::new(),
            org_id: org,
            name: name("name", &input.name)?,
            events: input.events,
            min_severity: input.min_severity.unwrap_or(1),
            channels: input.channels,
            enabled: input.enabled.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        self.check_rule(&mut rule).await?;
        let view = NotificationRuleView::from(rule.clone());
        let entry = self.audit.entry(
            principal,
            "notification_rule.create",
            ("notification_rule", rule.id.to_string()),
            None,
            audit::snapshot(&view),
        );
        self.store
            .create_notification_rule(&rule, &entry)
            .await
            .map_err(|e| taken(e, "rule"))?;
        Ok(view)
    }

    pub async fn update_rule(
        &self,
        principal: &Principal,
        id: NotificationRuleId,
        change: NotificationRuleChange,
    ) -> Result<NotificationRuleView, Error> {
        principal.require(Permission::Admin)?;
        let mut rule = self.rule(principal.org_id, id).await?;
        let before = NotificationRuleView::from(rule.clone());
        if let Some(new_name) = &change.name {
            rule.name = name("name", new_name)?;
        }
        if let Some(events) = change.events {
            rule.events = events;
        }
        if let Some(min) = change.min_severity {
            rule.min_severity = min;
        }
        if let Some(channels) = change.channels {
            rule.channels = channels;
        }
        if let Some(enabled) = change.enabled {
            rule.enabled = enabled;
        }
        self.check_rule(&mut rule).await?;
        rule.updated_at = self.clock.now();
        let after = NotificationRuleView::from(rule.clone());
        let entry = self.audit.entry(
            principal,
            "notification_rule.update",
            ("notification_rule", id.to_string()),
            audit::snapshot(&before),
            audit::snapshot(&after),
        );
        if !self
            .store
            .update_notification_rule(&rule, &entry)
            .await
            .map_err(|e| taken(e, "rule"))?
        {
            return Err(Error::not_found("notification rule"));
        }
        Ok(after)
    }

    pub async fn delete_rule(
        &self,
        principal: &Principal,
        id: NotificationRuleId,
    ) -> Result<(), Error> {
        principal.require(Permission::Admin)?;
        let rule = self.rule(principal.org_id, id).await?;
        let entry = self.audit.entry(
            principal,
            "notification_rule.delete",
            ("notification_rule", id.to_string()),
            audit::snapshot(&NotificationRuleView::from(rule)),
            None,
        );
        if !self
            .store
            .delete_notification_rule(principal.org_id, id, &entry)
            .await?
        {
            return Err(Error::not_found("notification rule"));
        }
        Ok(())
    }

    /// The delivery log, newest first (admins).
    pub async fn deliveries(
        &self,
        principal: &Principal,
        status: Option<rampart_core::notification::DeliveryStatus>,
        channel: Option<ChannelId>,
        page: &PageParams,
    ) -> Result<Page<DeliveryView>, Error> {
        principal.require(Permission::Admin)?;
        let limit = page.limit()?;
        let query = DeliveryQuery {
            status,
            channel,
            before: page.cursor()?,
            limit,
        };
        let items = self.store.list_deliveries(principal.org_id, &query).await?;
        Ok(Page::new(
            items.into_iter().map(DeliveryView::from).collect(),
            limit,
            |d| d.id.to_string(),
        ))
    }

    pub async fn delivery(
        &self,
        principal: &Principal,
        id: DeliveryId,
    ) -> Result<DeliveryView, Error> {
        principal.require(Permission::Admin)?;
        self.store
            .get_delivery(principal.org_id, id)
            .await?
            .map(DeliveryView::from)
            .ok_or_else(|| Error::not_found("delivery"))
    }

    fn own_user(principal: &Principal) -> Result<rampart_core::UserId, Error> {
        principal.require(Permission::Read)?;
        principal
            .user()
            .map(|u| u.id)
            .ok_or_else(|| Error::forbidden("preferences belong to users, not API keys"))
    }

    /// The caller's own e-mail preferences (defaults until set).
    pub async fn my_prefs(&self, principal: &Principal) -> Result<NotificationPrefs, Error> {
        let user = Self::own_user(principal)?;
        Ok(self
            .store
            .notification_prefs(principal.org_id, user)
            .await?
            .unwrap_or_default())
    }

    pub async fn set_my_prefs(
        &self,
        principal: &Principal,
        mut prefs: NotificationPrefs,
    ) -> Result<NotificationPrefs, Error> {
        let user = Self::own_user(principal)?;
        let events: BTreeSet<NoticeKind> = prefs.events.iter().copied().collect();
        if let Some(other) = events.iter().find(|e| !NoticeKind::ROUTABLE.contains(e)) {
            return Err(Error::invalid_field(
                "events",
                format!("{} cannot be chosen", other.as_str()),
            ));
        }
        prefs.events = events.into_iter().collect();
        if !(1..=5).contains(&prefs.min_severity) {
            return Err(Error::invalid_field("min_severity", "must be 1 to 5"));
        }
        self.store
            .set_notification_prefs(principal.org_id, user, &prefs, self.clock.now())
            .await?;
        Ok(prefs)
    }
}
