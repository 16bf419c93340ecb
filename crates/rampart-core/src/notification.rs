//! Notifications: the notices Rampart sends (an incident created,
//! escalated, moved or assigned; feedback answered; a welcome), the
//! channels they go to (e-mail, signed webhooks, Slack-compatible webhooks),
//! the rules that route them, users' own preferences, and the delivery log.
//!
//! A change worth telling enqueues a *dispatch* job in the change's own
//! transaction ([`incident_notice_jobs`]); the dispatch job turns it into
//! one *delivery* (and one delivery job) per channel or person.

use serde::{Deserialize, Serialize};

use crate::job::NewJob;
use crate::{
    ChannelId, DeliveryId, FeedbackId, Incident, IncidentId, NotificationRuleId, OrgId, Timestamp,
    UserId,
};

/// The queue every notification job runs on.
pub const QUEUE: &str = "notifications";
/// Turns a notice into deliveries.
pub const DISPATCH_JOB: &str = "notify.dispatch";
/// Sends one delivery.
pub const DELIVER_JOB: &str = "notify.deliver";
/// Attempts a delivery gets: with the default backoff, about a day.
pub const DELIVERY_ATTEMPTS: i32 = 8;
/// Most recipients of one e-mail channel.
pub const MAX_RECIPIENTS: usize = 50;
/// Most channels and rules an organisation may have.
pub const MAX_CHANNELS: usize = 100;
pub const MAX_RULES: usize = 100;
/// Longest name of a channel or rule.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest target URL.
pub const MAX_URL_LEN: usize = 2000;
/// Shortest and longest webhook secret.
pub const SECRET_LEN: std::ops::RangeInclusive<usize> = 16..=200;

/// What happened that someone may want to hear about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NoticeKind {
    #[serde(rename = "incident.created")]
    IncidentCreated,
    /// Its severity or escalation level rose.
    #[serde(rename = "incident.escalated")]
    IncidentEscalated,
    #[serde(rename = "incident.status_changed")]
    IncidentStatusChanged,
    /// Assigned to someone (who hears of it by their own e-mail).
    #[serde(rename = "incident.assigned")]
    IncidentAssigned,
    /// An admin answered a user's feedback (to its author).
    #[serde(rename = "feedback.answered")]
    FeedbackAnswered,
    /// A new user's account (to the user).
    #[serde(rename = "user.welcome")]
    UserWelcome,
    /// A test message an admin sent to a channel.
    #[serde(rename = "channel.test")]
    ChannelTest,
    /// An e-mailed sign-in code (to the user; not kept once sent).
    #[serde(rename = "user.login_code")]
    UserLoginCode,
    /// A password reset link (to the user; not kept once sent).
    #[serde(rename = "user.password_reset")]
    UserPasswordReset,
    /// The weekly summary (to users who asked for it).
    #[serde(rename = "digest.weekly")]
    WeeklyDigest,
    /// One of Rampart's scans finished (completed, failed or cancelled).
    #[serde(rename = "scan.completed")]
    ScanCompleted,
    /// Findings passed their deadline (the organisation's SLA days).
    #[serde(rename = "finding.sla_breached")]
    FindingSlaBreached,
    /// Accepted risks near or past their review date.
    #[serde(rename = "finding.risk_expiring")]
    FindingRiskExpiring,
    /// A saved hunt's scheduled run matched.
    #[serde(rename = "hunt.matched")]
    HuntMatched,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 14] = [
        NoticeKind::IncidentCreated,
        NoticeKind::IncidentEscalated,
        NoticeKind::IncidentStatusChanged,
        NoticeKind::IncidentAssigned,
        NoticeKind::FeedbackAnswered,
        NoticeKind::UserWelcome,
        NoticeKind::ChannelTest,
        NoticeKind::UserLoginCode,
        NoticeKind::UserPasswordReset,
        NoticeKind::WeeklyDigest,
        NoticeKind::ScanCompleted,
        NoticeKind::FindingSlaBreached,
        NoticeKind::FindingRiskExpiring,
        NoticeKind::HuntMatched,
    ];
    /// The notices rules and preferences can choose.
    pub const ROUTABLE: [NoticeKind; 8] = [
        NoticeKind::IncidentCreated,
        NoticeKind::IncidentEscalated,
        NoticeKind::IncidentStatusChanged,
        NoticeKind::IncidentAssigned,
        NoticeKind::ScanCompleted,
        NoticeKind::FindingSlaBreached,
        NoticeKind::FindingRiskExpiring,
        NoticeKind::HuntMatched,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::IncidentCreated => "incident.created",
            NoticeKind::IncidentEscalated => "incident.escalated",
            NoticeKind::IncidentStatusChanged => "incident.status_changed",
            NoticeKind::IncidentAssigned => "incident.assigned",
            NoticeKind::FeedbackAnswered => "feedback.answered",
            NoticeKind::UserWelcome => "user.welcome",
            NoticeKind::ChannelTest => "channel.test",
            NoticeKind::UserLoginCode => "user.login_code",
            NoticeKind::UserPasswordReset => "user.password_reset",
            NoticeKind::WeeklyDigest => "digest.weekly",
            NoticeKind::ScanCompleted => "scan.completed",
            NoticeKind::FindingSlaBreached => "finding.sla_breached",
            NoticeKind::FindingRiskExpiring => "finding.risk_expiring",
            NoticeKind::HuntMatched => "hunt.matched",
        }
    }

    pub fn parse(text: &str) -> Option<NoticeKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether its message holds a secret (a code, a reset link), dropped
    /// from the delivery log once sent.
    pub fn is_secret(self) -> bool {
        matches!(
            self,
            NoticeKind::UserLoginCode | NoticeKind::UserPasswordReset
        )
    }
}

/// The notices rules and preferences choose from, as the API documents
/// them (the schema of their `events`).
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum RoutableNotice {
    #[schema(rename = "incident.created")]
    IncidentCreated,
    #[schema(rename = "incident.escalated")]
    IncidentEscalated,
    #[schema(rename = "incident.status_changed")]
    IncidentStatusChanged,
    #[schema(rename = "incident.assigned")]
    IncidentAssigned,
    #[schema(rename = "scan.completed")]
    ScanCompleted,
    #[schema(rename = "finding.sla_breached")]
    FindingSlaBreached,
    #[schema(rename = "finding.risk_expiring")]
    FindingRiskExpiring,
    #[schema(rename = "hunt.matched")]
    HuntMatched,
}

/// One thing to tell, as a dispatch job carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: Option<NoticeKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<FeedbackId>,
    /// The person it is about (assignee, feedback author, new user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    /// The channel a test goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelId>,
    /// The scan that finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<crate::ScanId>,
    /// The saved hunt that matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hunt: Option<crate::SavedHuntId>,
    /// The name of what it is about, where the notice carries no record
    /// of it (a saved hunt's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// How many things it is about (findings past their deadline, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// One line per thing it is about (at most a few dozen).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    /// Its severity for routing (1–5), where nothing it names has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    /// What changed, as text (a status or severity before and after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

impl Notice {
    pub fn new(kind: NoticeKind) -> Notice {
        Notice {
            kind: Some(kind),
            ..Notice::default()
        }
    }

    /// The dispatch job that delivers it, for the organisation.
    pub fn job(&self, org: OrgId, now: Timestamp) -> NewJob {
        let payload = serde_json::to_value(self).unwrap_or_default();
        NewJob {
            // Notices about people (a code, a welcome) go before the rest.
            priority: 10,
            ..NewJob::new(Some(org), QUEUE, DISPATCH_JOB, payload, now)
        }
    }
}

/// What of an incident decides its notices: read before a change, so that
/// the change can be compared with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncidentState {
    pub severity: u8,
    pub escalation: u8,
    pub status: crate::IncidentStatus,
    pub assignee: Option<UserId>,
}

impl From<&Incident> for IncidentState {
    fn from(i: &Incident) -> Self {
        IncidentState {
            severity: i.severity,
            escalation: i.escalation,
            status: i.status,
            assignee: i.assignee,
        }
    }
}

/// What changed in an incident that rules may route: created (no state
/// before), escalated (severity or escalation level up), moved to another
/// status, assigned to someone.
pub fn incident_notices(before: Option<IncidentState>, after: &Incident) -> Vec<Notice> {
    let about = |kind| Notice {
        incident: Some(after.id),
        ..Notice::new(kind)
    };
    let assigned = || Notice {
        user: after.assignee,
        ..about(NoticeKind::IncidentAssigned)
    };
    let Some(before) = before else {
        let mut notices = vec![about(NoticeKind::IncidentCreated)];
        if after.assignee.is_some() {
            notices.push(assigned());
        }
        return notices;
    };
    let mut notices = Vec::new();
    if after.severity > before.severity || after.escalation > before.escalation {
        let level = |severity: u8, escalation: u8| {
            Some(format!("severity {severity}, escalation {escalation}"))
        };
        notices.push(Notice {
            from: level(before.severity, before.escalation),
            to: level(after.severity, after.escalation),
            ..about(NoticeKind::IncidentEscalated)
        });
    }
    if after.status != before.status {
        notices.push(Notice {
            from: Some(before.status.as_str().to_owned()),
            to: Some(after.status.as_str().to_owned()),
            ..about(NoticeKind::IncidentStatusChanged)
        });
    }
    if after.assignee.is_some() && after.assignee != before.assignee {
        notices.push(assigned());
    }
    notices
}

/// The dispatch jobs of an incident's change, to enqueue in its
/// transaction.
pub fn incident_notice_jobs(
    before: Option<IncidentState>,
    after: &Incident,
    now: Timestamp,
) -> Vec<NewJob> {
    incident_notices(before, after)
        .iter()
        .map(|n| n.job(after.org_id, now))
        .collect()
}

/// How an SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain text (a relay on the same host or network only).
    None,
    /// Upgrade with STARTTLS (port 587), required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// An SMTP server to send through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The sender address.
    pub from: String,
}

/// Where a channel sends, and with which secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelTarget {
    /// E-mail to these addresses, through the organisation's own SMTP
    /// server or the platform's.
    Email {
        recipients: Vec<String>,
        #[serde(default)]
        smtp: Option<SmtpServer>,
    },
    /// A JSON POST signed with `secret` (`X-Rampart-Signature`).
    Webhook { url: String, secret: String },
    /// A Slack-compatible incoming webhook (`{"text": …}`).
    Slack { url: String },
}

impl ChannelTarget {
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelTarget::Email { .. } => "email",
            ChannelTarget::Webhook { .. } => "webhook",
            ChannelTarget::Slack { .. } => "slack",
        }
    }

    /// The URL it posts to, for web channels.
    pub fn url(&self) -> Option<&str> {
        match self {
            ChannelTarget::Webhook { url, .. } | ChannelTarget::Slack { url } => Some(url),
            ChannelTarget::Email { .. } => None,
        }
    }

    /// What is wrong with it, if anything: `(field, reason)`.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        match self {
            ChannelTarget::Email { recipients, smtp } => {
                if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
                    return Some(("recipients", format!("1 to {MAX_RECIPIENTS} addresses")));
                }
                if let Some(bad) = recipients
                    .iter()
                    .find(|r| !crate::tenancy::is_email_address(r))
                {
                    return Some(("recipients", format!("{bad:?} is not an e-mail address")));
                }
                let smtp = smtp.as_ref()?;
                if smtp.host.trim().is_empty() || smtp.host.len() > 253 || smtp.port == 0 {
                    return Some(("smtp", "needs a host name and a port".into()));
                }
                if !crate::tenancy::is_email_address(&smtp.from) {
                    return Some(("smtp.from", "not an e-mail address".into()));
                }
                if smtp.password.is_some() && smtp.username.is_none() {
                    return Some(("smtp.username", "a password needs a user name".into()));
                }
                None
            }
            ChannelTarget::Webhook { url, secret } => url_problem(url).or_else(|| {
                (!SECRET_LEN.contains(&secret.chars().count())).then(|| {
                    (
                        "secret",
                        format!(
                            "must be {} to {} characters",
                            SECRET_LEN.start(),
                            SECRET_LEN.end()
                        ),
                    )
                })
            }),
            ChannelTarget::Slack { url } => url_problem(url),
        }
    }
}

/// A webhook URL must be http(s), absolute, with a host and no
/// credentials.
fn url_problem(url: &str) -> Option<(&'static str, String)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Some(("url", "must start with http:// or https://".into()));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || url.len() > MAX_URL_LEN {
        return Some(("url", format!("needs a host, at most {MAX_URL_LEN} bytes")));
    }
    if authority.contains('@') {
        return Some(("url", "must not carry credentials".into()));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some((
            "url",
            "must not contain spaces or control characters".into(),
        ));
    }
    None
}

/// A place notifications go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub id: ChannelId,
    pub org_id: OrgId,
    pub name: String,
    pub target: ChannelTarget,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Which notices, from which severity, go to which channels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationRule {
    pub id: NotificationRuleId,
    pub org_id: OrgId,
    pub name: String,
    pub events: Vec<NoticeKind>,
    pub min_severity: u8,
    pub channels: Vec<ChannelId>,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl NotificationRule {
    /// Whether a notice about something of `severity` goes to its channels.
    pub fn matches(&self, kind: NoticeKind, severity: u8) -> bool {
        self.enabled && self.events.contains(&kind) && severity >= self.min_severity
    }
}

/// What a user wants to hear of by e-mail themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationPrefs {
    /// E-mail when an incident is assigned to them.
    pub assigned_to_me: bool,
    /// Other incident notices they want (any incident of the organisation).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<RoutableNotice>))]
    pub events: Vec<NoticeKind>,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    #[serde(deserialize_with = "crate::whole_number::required")]
    pub min_severity: u8,
    /// A weekly summary of the organisation's incidents.
    pub weekly_digest: bool,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        NotificationPrefs {
            assigned_to_me: true,
            events: Vec::new(),
            min_severity: 1,
            weekly_digest: false,
        }
    }
}

impl NotificationPrefs {
    /// Whether this user hears of `kind` about something of `severity`;
    /// `about_them` when it concerns them (assigned to them).
    pub fn wants(&self, kind: NoticeKind, severity: u8, about_them: bool) -> bool {
        if kind == NoticeKind::IncidentAssigned && about_them {
            return self.assigned_to_me;
        }
        self.events.contains(&kind) && severity >= self.min_severity
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for (another) attempt.
    Pending,
    Delivered,
    /// Given up: attempts spent, refused for good, or its channel gone.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A message as rendered for one delivery: the e-mail's subject and
/// parts, or the JSON a webhook posts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub subject: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// The webhook body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
}

/// One notification to one channel or one person's address.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub org_id: OrgId,
    pub notice: NoticeKind,
    /// The channel, or none for a person's own e-mail.
    pub channel_id: Option<ChannelId>,
    /// A person's address (e-mails to people).
    pub recipient: Option<String>,
    /// What it is about (`incident:<id>`, `feedback:<id>`, …).
    pub subject_ref: Option<String>,
    pub message: Message,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// Keeps a dispatch that runs twice from delivering twice.
    pub dedupe_key: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

impl Delivery {
    /// The job that sends it.
    pub fn job(&self, now: Timestamp) -> NewJob {
        NewJob {
            max_attempts: DELIVERY_ATTEMPTS,
            unique_key: Some(format!("delivery:{}", self.id)),
            ..NewJob::new(
                Some(self.org_id),
                QUEUE,
                DELIVER_JOB,
                serde_json::json!({ "delivery": self.id }),
                now,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Entities, IncidentStatus};

    fn incident() -> Incident {
        Incident {
            id: IncidentId::new(),
            org_id: OrgId::new(),
            title: "t".into(),
            description: None,
            severity: 3,
            status: IncidentStatus::Open,
            escalation: 0,
            assignee: None,
            rule_id: None,
            group_key: None,
            occurrences: 1,
            entities: Entities::default(),
            event_ids: vec![],
            first_seen: Timestamp(0),
            last_seen: Timestamp(0),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            created_by: "detection".into(),
            acknowledged_at: None,
            resolved_at: None,
        }
    }

    fn kinds(notices: &[Notice]) -> Vec<NoticeKind> {
        notices.iter().filter_map(|n| n.kind).collect()
    }

    #[test]
    fn an_incidents_changes_become_notices() {
        let before = incident();
        assert_eq!(
            kinds(&incident_notices(None, &before)),
            [NoticeKind::IncidentCreated]
        );
        assert!(incident_notices(Some((&before).into()), &before).is_empty());
        let mut after = before.clone();
        after.severity = 4;
        after.status = IncidentStatus::Acknowledged;
        after.assignee = Some(UserId::new());
        let notices = incident_notices(Some((&before).into()), &after);
        assert_eq!(
            kinds(&notices),
            [
                NoticeKind::IncidentEscalated,
                NoticeKind::IncidentStatusChanged,
                NoticeKind::IncidentAssigned
            ]
        );
        assert_eq!(notices[1].from.as_deref(), Some("open"));
        assert_eq!(notices[2].user, after.assignee);
        // A lower severity is no escalation; unassigning tells no one.
        let mut calmer = after.clone();
        calmer.severity = 2;
        calmer.assignee = None;
        assert!(incident_notices(Some((&after).into()), &calmer).is_empty());
        let jobs = incident_notice_jobs(None, &after, Timestamp(5));
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].queue, QUEUE);
        assert_eq!(jobs[0].org_id, Some(after.org_id));
        let back: Notice = serde_json::from_value(jobs[1].payload.clone()).unwrap_or_default();
        assert_eq!(back.kind, Some(NoticeKind::IncidentAssigned));
    }

    #[test]
    fn targets_are_checked() {
        let hook = |url: &str| ChannelTarget::Webhook {
            url: url.into(),
            secret: "s".repeat(20),
        };
        assert_eq!(hook("https://example.com/hook").problem(), None);
        for bad in [
            "ftp://example.com",
            "https://",
            "https://user:pw@example.com/",
            "http://exa mple.com",
            "file:///etc/passwd",
        ] {
            assert_eq!(hook(bad).problem().map(|p| p.0), Some("url"), "{bad}");
        }
        let short = ChannelTarget::Webhook {
            url: "https://example.com".into(),
            secret: "short".into(),
        };
        assert_eq!(short.problem().map(|p| p.0), Some("secret"));
        let mail = |to: &[&str]| ChannelTarget::Email {
            recipients: to.iter().map(|s| s.to_string()).collect(),
            smtp: None,
        };
        assert_eq!(mail(&["soc@example.com"]).problem(), None);
        assert_eq!(mail(&[]).problem().map(|p| p.0), Some("recipients"));
        assert_eq!(
            mail(&["not an address"]).problem().map(|p| p.0),
            Some("recipients")
        );
        for kind in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_value(kind).unwrap_or_default();
            assert_eq!(json.as_str(), Some(kind.as_str()));
        }
    }

    #[test]
    fn preferences_and_rules_choose_notices() {
        let prefs = NotificationPrefs::default();
        assert!(prefs.wants(NoticeKind::IncidentAssigned, 1, true));
        assert!(!prefs.wants(NoticeKind::IncidentAssigned, 5, false));
        assert!(!prefs.wants(NoticeKind::IncidentCreated, 5, false));
        let rule = NotificationRule {
            id: NotificationRuleId::new(),
            org_id: OrgId::new(),
            name: "high".into(),
            events: vec![NoticeKind::IncidentCreated],
            min_severity: 4,
            channels: vec![],
            enabled: true,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        assert!(rule.matches(NoticeKind::IncidentCreated, 4));
        assert!(!rule.matches(NoticeKind::IncidentCreated, 3));
        assert!(!rule.matches(NoticeKind::IncidentEscalated, 5));
    }
}
