//! Alerts, incidents and their workflow: what detection raises, how alerts
//! are grouped into incidents, and which status changes are allowed.

use serde::{Deserialize, Serialize};

use crate::{AlertId, CommentId, EventId, IncidentId, OrgId, Timestamp, UserId};

/// Most event ids one incident keeps (its alerts keep their own).
pub const MAX_INCIDENT_EVENTS: usize = 1000;
/// Most values kept per entity kind of an incident.
pub const MAX_ENTITIES: usize = 100;
/// Highest escalation level.
pub const MAX_ESCALATION: u8 = 5;

/// Where an incident stands in its workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Acknowledged,
    Investigating,
    Resolved,
    FalsePositive,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 5] = [
        IncidentStatus::Open,
        IncidentStatus::Acknowledged,
        IncidentStatus::Investigating,
        IncidentStatus::Resolved,
        IncidentStatus::FalsePositive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Acknowledged => "acknowledged",
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Resolved => "resolved",
            IncidentStatus::FalsePositive => "false_positive",
        }
    }

    pub fn parse(text: &str) -> Option<IncidentStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Resolved and false-positive incidents take no new alerts.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            IncidentStatus::Resolved | IncidentStatus::FalsePositive
        )
    }

    /// The workflow: open → acknowledged → investigating → resolved or
    /// false_positive; any open state may close directly; a closed incident
    /// may only be reopened; acknowledged/investigating may step back.
    pub fn can_move_to(self, next: IncidentStatus) -> bool {
        use IncidentStatus::*;
        match (self, next) {
            (a, b) if a == b => true,
            (Open, _) => true,
            (Acknowledged, Open | Investigating | Resolved | FalsePositive) => true,
            (Investigating, Acknowledged | Resolved | FalsePositive) => true,
            (Resolved | FalsePositive, Open) => true,
            _ => false,
        }
    }
}

/// The IPs, users and hosts an incident involves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entities {
    #[serde(default)]
    pub ips: Vec<String>,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub hosts: Vec<String>,
}

impl Entities {
    /// Adds what `other` has and this lacks, keeping at most
    /// [`MAX_ENTITIES`] of each kind.
    pub fn merge(&mut self, other: &Entities) {
        for (mine, theirs) in [
            (&mut self.ips, &other.ips),
            (&mut self.users, &other.users),
            (&mut self.hosts, &other.hosts),
        ] {
            for value in theirs {
                if mine.len() >= MAX_ENTITIES {
                    break;
                }
                if !mine.contains(value) {
                    mine.push(value.clone());
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ips.is_empty() && self.users.is_empty() && self.hosts.is_empty()
    }
}

/// One rule match (or correlation) as detection raised it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub id: AlertId,
    pub org_id: OrgId,
    pub rule_id: String,
    pub rule_title: String,
    pub severity: u8,
    /// The correlation's group as `field=value` pairs joined by spaces;
    /// empty for single-event rules.
    pub group_key: String,
    pub event_ids: Vec<EventId>,
    pub entities: Entities,
    /// When the event that raised it happened.
    pub ts: Timestamp,
    pub created_at: Timestamp,
    pub incident_id: IncidentId,
}

/// An incident: alerts of one rule and key, or an analyst's own case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub id: IncidentId,
    pub org_id: OrgId,
    pub title: String,
    pub description: Option<String>,
    pub severity: u8,
    pub status: IncidentStatus,
    pub escalation: u8,
    pub assignee: Option<UserId>,
    /// The rule and group key whose alerts it collects (none when manual).
    pub rule_id: Option<String>,
    pub group_key: Option<String>,
    /// How many alerts it holds.
    pub occurrences: i64,
    pub entities: Entities,
    pub event_ids: Vec<EventId>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Who opened it: a user id, or `detection`.
    pub created_by: String,
    /// When it first left `open` (the time to acknowledge ends there).
    pub acknowledged_at: Option<Timestamp>,
    /// When it was last closed; cleared when it is reopened.
    pub resolved_at: Option<Timestamp>,
}

impl Incident {
    /// Moves it to `status` at `now` as the workflow allows, recording
    /// when it was first acknowledged and when it was closed; the reason
    /// when the workflow forbids the move.
    pub fn move_to(&mut self, status: IncidentStatus, now: Timestamp) -> Result<(), String> {
        if !self.status.can_move_to(status) {
            return Err(format!(
                "an incident cannot move from {} to {}",
                self.status.as_str(),
                status.as_str()
            ));
        }
        if status == self.status {
            return Ok(());
        }
        self.status = status;
        if status != IncidentStatus::Open && self.acknowledged_at.is_none() {
            self.acknowledged_at = Some(now);
        }
        self.resolved_at = status.is_closed().then_some(now);
        Ok(())
    }
}

/// An analyst's note on an incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub id: CommentId,
    pub incident_id: IncidentId,
    pub author: String,
    pub body: String,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_transitions() {
        use IncidentStatus::*;
        assert!(Open.can_move_to(Acknowledged));
        assert!(Acknowledged.can_move_to(Investigating));
        assert!(Investigating.can_move_to(Resolved));
        assert!(Open.can_move_to(FalsePositive));
        assert!(Resolved.can_move_to(Open));
        assert!(!Resolved.can_move_to(Investigating));
        assert!(!FalsePositive.can_move_to(Resolved));
        assert!(!Investigating.can_move_to(Open));
        for s in IncidentStatus::ALL {
            assert_eq!(IncidentStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn entities_merge_without_duplicates_and_stay_bounded() {
        let mut a = Entities {
            ips: vec!["10.0.0.1".into()],
            ..Entities::default()
        };
        a.merge(&Entities {
            ips: vec!["10.0.0.1".into(), "10.0.0.2".into()],
            users: vec!["root".into()],
            hosts: vec![],
        });
        assert_eq!(a.ips, ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(a.users, ["root"]);
        let many = Entities {
            users: (0..500).map(|i| i.to_string()).collect(),
            ..Entities::default()
        };
        a.merge(&many);
        assert_eq!(a.users.len(), MAX_ENTITIES);
    }
}
