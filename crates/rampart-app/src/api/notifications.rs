//! Notification channels, rules, deliveries and preferences as the API
//! shows and takes them. Secrets (a webhook's, an SMTP password) are
//! write-only: views say whether one is set, never what it is.

use rampart_core::notification::{
    Channel, ChannelTarget, Delivery, DeliveryStatus, NoticeKind, NotificationRule,
};
use rampart_core::{ChannelId, DeliveryId, NotificationRuleId, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelView {
    pub id: ChannelId,
    pub name: String,
    /// `email`, `webhook` or `slack`.
    pub kind: String,
    pub enabled: bool,
    /// The target without its secrets.
    #[schema(value_type = Object)]
    pub target: serde_json::Value,
    /// Whether a webhook secret or SMTP password is stored.
    pub secret_set: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Channel> for ChannelView {
    fn from(c: Channel) -> Self {
        let mut target = serde_json::to_value(&c.target).unwrap_or_default();
        let mut secret_set = false;
        if let Some(obj) = target.as_object_mut() {
            secret_set |= obj.remove("secret").is_some();
            if let Some(smtp) = obj.get_mut("smtp").and_then(|s| s.as_object_mut()) {
                secret_set |= smtp.remove("password").is_some_and(|p| !p.is_null());
            }
        }
        ChannelView {
            id: c.id,
            name: c.name,
            kind: c.target.kind().to_owned(),
            enabled: c.enabled,
            target,
            secret_set,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A channel to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    #[schema(min_length = 1, max_length = 100, pattern = "[^\\s\\u0085]")]
    pub name: String,
    /// On unless given.
    pub enabled: Option<bool>,
    pub target: ChannelTarget,
}

/// A change to a channel; absent fields stay. A new target replaces the
/// old one whole (secrets included).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelChange {
    #[schema(min_length = 1, max_length = 100, pattern = "[^\\s\\u0085]")]
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub target: Option<ChannelTarget>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationRuleView {
    pub id: NotificationRuleId,
    pub name: String,
    pub events: Vec<NoticeKind>,
    pub min_severity: u8,
    pub channels: Vec<ChannelId>,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<NotificationRule> for NotificationRuleView {
    fn from(r: NotificationRule) -> Self {
        NotificationRuleView {
            id: r.id,
            name: r.name,
            events: r.events,
            min_severity: r.min_severity,
            channels: r.channels,
            enabled: r.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A rule to create: which incident notices, from which severity, go to
/// which channels.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRuleInput {
    #[schema(min_length = 1, max_length = 100, pattern = "[^\\s\\u0085]")]
    pub name: String,
    #[schema(min_items = 1, value_type = Vec<rampart_core::notification::RoutableNotice>)]
    pub events: Vec<NoticeKind>,
    /// 1 unless given.
    #[schema(minimum = 1, maximum = 5)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub min_severity: Option<u8>,
    #[schema(min_items = 1)]
    pub channels: Vec<ChannelId>,
    pub enabled: Option<bool>,
}

/// A change to a rule; absent fields stay.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRuleChange {
    #[schema(min_length = 1, max_length = 100, pattern = "[^\\s\\u0085]")]
    pub name: Option<String>,
    #[schema(min_items = 1, value_type = Option<Vec<rampart_core::notification::RoutableNotice>>)]
    pub events: Option<Vec<NoticeKind>>,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub min_severity: Option<u8>,
    #[schema(min_items = 1)]
    pub channels: Option<Vec<ChannelId>>,
    pub enabled: Option<bool>,
}

/// One delivery of the log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: DeliveryId,
    pub notice: NoticeKind,
    pub channel_id: Option<ChannelId>,
    /// A person's address, for e-mail to people.
    pub recipient: Option<String>,
    /// What it is about: `incident:<id>`, `feedback:<id>`, `user:<id>`.
    pub subject_ref: Option<String>,
    /// The message's subject line.
    pub subject: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        DeliveryView {
            id: d.id,
            notice: d.notice,
            channel_id: d.channel_id,
            recipient: d.recipient,
            subject_ref: d.subject_ref,
            subject: d.message.subject,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
            created_at: d.created_at,
            updated_at: d.updated_at,
            delivered_at: d.delivered_at,
        }
    }
}
