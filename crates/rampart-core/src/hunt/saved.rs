//! Saved hunts: a query kept under a name by its owner, optionally run on
//! a schedule over a look-back window; a run that matches at least the
//! threshold opens (or joins) an incident, or sends a notice.

use serde::{Deserialize, Serialize};

use crate::{IncidentId, OrgId, SavedHuntId, Timestamp};

/// The job kind that runs due saved hunts (minutely).
pub const SCHEDULE_JOB: &str = "hunts.saved";
/// Rule id prefix of the alerts saved hunts raise (`hunt:<id>`).
pub const RULE_PREFIX: &str = "hunt:";
/// Shortest and longest look-back of a scheduled run, in minutes.
pub const MIN_WINDOW_MINUTES: i64 = 1;
pub const MAX_WINDOW_MINUTES: i64 = 30 * 24 * 60;

/// What a scheduled run that matches does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HuntAction {
    /// Raises an alert (rule `hunt:<id>`): it opens or joins the hunt's
    /// open incident, which notifies as incidents do.
    Incident,
    /// Sends a `hunt.matched` notice through the notification rules.
    Notify,
}

impl HuntAction {
    pub fn as_str(self) -> &'static str {
        match self {
            HuntAction::Incident => "incident",
            HuntAction::Notify => "notify",
        }
    }

    pub fn parse(text: &str) -> Option<HuntAction> {
        match text {
            "incident" => Some(HuntAction::Incident),
            "notify" => Some(HuntAction::Notify),
            _ => None,
        }
    }
}

/// A saved hunt and what its last run found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedHunt {
    pub id: SavedHuntId,
    pub org_id: OrgId,
    pub name: String,
    pub query: String,
    /// Who saved it (a user's e-mail address or an API key's name).
    pub owner: String,
    /// Five cron fields (UTC); none: run by hand only.
    pub cron: Option<String>,
    /// Each run covers the last this many minutes.
    pub window_minutes: i64,
    /// Runs that match at least this many events act.
    pub threshold: u64,
    pub action: HuntAction,
    /// The severity of the alert or notice (1–5).
    pub severity: u8,
    pub enabled: bool,
    pub next_run_at: Option<Timestamp>,
    pub last_run_at: Option<Timestamp>,
    /// Events the last run matched.
    pub last_matched: Option<u64>,
    /// Why the last run failed (a query the language no longer accepts, …).
    pub last_error: Option<String>,
    /// The incident its hits last went to.
    pub last_incident_id: Option<IncidentId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl SavedHunt {
    /// The rule id of the alerts it raises.
    pub fn rule_id(&self) -> String {
        format!("{RULE_PREFIX}{}", self.id)
    }
}
