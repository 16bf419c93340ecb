//! Saved hunts: a query kept under a name by its owner (analysts; changed
//! or deleted by its owner or an admin; audited), run by hand or on a
//! cron schedule over the last `window_minutes`. A scheduled run that
//! matches at least `threshold` events raises an alert (rule `hunt:<id>`,
//! which opens or joins the hunt's open incident and notifies as
//! incidents do) or sends a `hunt.matched` notice. A minutely job runs
//! the due hunts; each run is claimed first, so one node runs it.

use async_trait::async_trait;
use rampart_core::alert_grouping::NewAlert;
use rampart_core::hunt::saved::{
    HuntAction, SavedHunt, MAX_WINDOW_MINUTES, MIN_WINDOW_MINUTES, RULE_PREFIX,
};
use rampart_core::notification::{Notice, NoticeKind};
use rampart_core::{hunt, Entities, Error, Job, Permission, SavedHuntId, Timestamp};
use rampart_ingest::detection::entities_of;
use rampart_store::{HuntRun, StoreError};

use super::{syntax, Hunts, Outcome};
use crate::api::hunt::{HuntRequest, SavedHuntInput, SavedHuntRun};
use crate::audit::snapshot;
use crate::jobs::handler::{JobFailure, JobHandler};
use crate::jobs::schedule::CronExpr;
use crate::principal::Principal;

/// Due hunts run per run of the job.
const PER_RUN: u32 = 50;
/// Rows a notice quotes.
const NOTICE_LINES: usize = 10;

/// A checked input: what the store keeps of it.
struct Checked {
    name: String,
    query: String,
    cron: Option<CronExpr>,
    window_minutes: i64,
    threshold: u64,
    action: HuntAction,
    severity: u8,
    enabled: bool,
}

fn check(input: SavedHuntInput) -> Result<Checked, Error> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid_field("name", "1 to 100 characters"));
    }
    let query = hunt::parse(&input.query).map_err(|e| syntax(&e))?;
    hunt::check_order(&query.pipes).map_err(|e| Error::invalid_field("query", e))?;
    let cron = input
        .cron
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(CronExpr::parse)
        .transpose()
        .map_err(|e| e.with_field("cron"))?;
    let window_minutes = input.window_minutes.unwrap_or(60);
    if !(MIN_WINDOW_MINUTES..=MAX_WINDOW_MINUTES).contains(&window_minutes) {
        return Err(Error::invalid_field(
            "window_minutes",
            format!("must be {MIN_WINDOW_MINUTES} to {MAX_WINDOW_MINUTES}"),
        ));
    }
    let threshold = match input.threshold {
        None => 1,
        Some(n) => u64::try_from(n)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| Error::invalid_field("threshold", "must be at least 1"))?,
    };
    let severity = match input.severity {
        None => 3,
        Some(n @ 1..=5) => u8::try_from(n).unwrap_or(3),
        Some(_) => return Err(Error::invalid_field("severity", "must be 1 to 5")),
    };
    Ok(Checked {
        name,
        query: input.query,
        cron,
        window_minutes,
        threshold,
        action: input.action.unwrap_or(HuntAction::Incident),
        severity,
        enabled: input.enabled.unwrap_or(true),
    })
}

fn name_taken(error: StoreError) -> Error {
    match error {
        StoreError::Conflict { .. } => Error::conflict(
            "saved_hunt_exists",
            "the organisation has a saved hunt of that name",
        )
        .with_field("name"),
        other => other.into(),
    }
}

/// The next run of a checked schedule after `now` (none without one).
fn next_run(cron: Option<&CronExpr>, now: Timestamp) -> Result<Option<Timestamp>, Error> {
    cron.map(|c| {
        c.next_after(now)
            .ok_or_else(|| Error::invalid_field("cron", "never comes round"))
    })
    .transpose()
}

impl Hunts {
    /// `GET /saved-hunts`.
    pub async fn saved(&self, principal: &Principal) -> Result<Vec<SavedHunt>, Error> {
        principal.require(Permission::Read)?;
        Ok(self.store.list_saved_hunts(principal.org_id).await?)
    }

    /// `GET /saved-hunts/{id}`.
    pub async fn saved_hunt(
        &self,
        principal: &Principal,
        id: SavedHuntId,
    ) -> Result<SavedHunt, Error> {
        principal.require(Permission::Read)?;
        self.store
            .get_saved_hunt(principal.org_id, id)
            .await?
            .ok_or_else(|| Error::not_found("saved hunt"))
    }

    /// `POST /saved-hunts` (analysts; audited).
    pub async fn save(
        &self,
        principal: &Principal,
        input: SavedHuntInput,
    ) -> Result<SavedHunt, Error> {
        principal.require(Permission::Analyse)?;
        let checked = check(input)?;
        let now = self.clock.now();
        let hunt = SavedHunt {
            id: SavedHuntId::new(),
            org_id: principal.org_id,
            next_run_at: next_run(checked.cron.as_ref(), now)?,
            name: checked.name,
            query: checked.query,
            owner: principal.audit_actor(),
            cron: checked.cron.map(|c| c.as_str().to_owned()),
            window_minutes: checked.window_minutes,
            threshold: checked.threshold,
            action: checked.action,
            severity: checked.severity,
            enabled: checked.enabled,
            last_run_at: None,
            last_matched: None,
            last_error: None,
            last_incident_id: None,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit.entry(
            principal,
            "saved_hunt.create",
            ("saved_hunt", hunt.id.to_string()),
            None,
            snapshot(&hunt),
        );
        self.store
            .create_saved_hunt(&hunt, &audit)
            .await
            .map_err(name_taken)?;
        Ok(hunt)
    }

    /// The hunt, when the caller may change it: its owner or an admin.
    async fn owned(&self, principal: &Principal, id: SavedHuntId) -> Result<SavedHunt, Error> {
        principal.require(Permission::Analyse)?;
        let hunt = self.saved_hunt(principal, id).await?;
        if hunt.owner != principal.audit_actor() && !principal.may(Permission::Admin) {
            return Err(Error::forbidden(
                "only its owner or an admin changes a saved hunt",
            ));
        }
        Ok(hunt)
    }

    /// `PUT /saved-hunts/{id}` (its owner or an admin; audited).
    pub async fn update_saved(
        &self,
        principal: &Principal,
        id: SavedHuntId,
        input: SavedHuntInput,
    ) -> Result<SavedHunt, Error> {
        let before = self.owned(principal, id).await?;
        let checked = check(input)?;
        let now = self.clock.now();
        let cron = checked.cron.as_ref().map(|c| c.as_str().to_owned());
        // A new schedule starts from now; an unchanged one keeps its turn.
        let next_run_at = if cron == before.cron && before.next_run_at.is_some() {
            before.next_run_at
        } else {
            next_run(checked.cron.as_ref(), now)?
        };
        let after = SavedHunt {
            name: checked.name,
            query: checked.query,
            cron,
            window_minutes: checked.window_minutes,
            threshold: checked.threshold,
            action: checked.action,
            severity: checked.severity,
            enabled: checked.enabled,
            next_run_at,
            updated_at: now,
            ..before.clone()
        };
        let audit = self.audit.entry(
            principal,
            "saved_hunt.update",
            ("saved_hunt", id.to_string()),
            snapshot(&before),
            snapshot(&after),
        );
        if self
            .store
            .update_saved_hunt(&after, &audit)
            .await
            .map_err(name_taken)?
        {
            Ok(after)
        } else {
            Err(Error::not_found("saved hunt"))
        }
    }

    /// `DELETE /saved-hunts/{id}` (its owner or an admin; audited).
    pub async fn delete_saved(&self, principal: &Principal, id: SavedHuntId) -> Result<(), Error> {
        let before = self.owned(principal, id).await?;
        let audit = self.audit.entry(
            principal,
            "saved_hunt.delete",
            ("saved_hunt", id.to_string()),
            snapshot(&before),
            None,
        );
        if self
            .store
            .delete_saved_hunt(principal.org_id, id, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_found("saved hunt"))
        }
    }

    /// `POST /saved-hunts/{id}/run`: the hunt over its window, now, by
    /// anyone who may read; the result is recorded on the hunt but opens
    /// nothing (that is for scheduled runs).
    pub async fn run_saved(
        &self,
        principal: &Principal,
        id: SavedHuntId,
    ) -> Result<SavedHuntRun, Error> {
        let hunt = self.saved_hunt(principal, id).await?;
        let now = self.clock.now();
        let outcome = self
            .execute(hunt.org_id, window_of(&hunt, now), false)
            .await?;
        let run = HuntRun {
            matched: Some(outcome.reply.matched),
            ..HuntRun::default()
        };
        self.store
            .record_saved_hunt_run(hunt.org_id, id, now, &run)
            .await?;
        let hunt = SavedHunt {
            last_run_at: Some(now),
            last_matched: run.matched,
            last_error: None,
            ..hunt
        };
        Ok(SavedHuntRun {
            hunt,
            result: outcome.reply,
        })
    }

    /// Runs every saved hunt due at `now` (each claimed first); how many
    /// acted on what they matched.
    pub async fn run_due(&self, now: Timestamp) -> Result<usize, Error> {
        let mut acted = 0;
        for hunt in self.store.due_saved_hunts(now, PER_RUN).await? {
            let Some(due) = hunt.next_run_at else {
                continue;
            };
            let next = hunt
                .cron
                .as_deref()
                .and_then(|c| CronExpr::parse(c).ok())
                .and_then(|c| c.next_after(now));
            if !self
                .store
                .claim_saved_hunt(hunt.org_id, hunt.id, due, next)
                .await?
            {
                continue;
            }
            // Only an alert carries matching events; a notice counts.
            let keep_events = hunt.action == HuntAction::Incident;
            let run = match self
                .execute(hunt.org_id, window_of(&hunt, now), keep_events)
                .await
            {
                Ok(outcome) => {
                    let matched = outcome.reply.matched;
                    let incident = if matched >= hunt.threshold {
                        acted += 1;
                        self.act(&hunt, &outcome, now).await
                    } else {
                        None
                    };
                    HuntRun {
                        matched: Some(matched),
                        error: None,
                        incident,
                    }
                }
                Err(error) => {
                    tracing::warn!(hunt = %hunt.id, error = %error.detail, "a saved hunt failed");
                    HuntRun {
                        error: Some(error.detail),
                        ..HuntRun::default()
                    }
                }
            };
            self.store
                .record_saved_hunt_run(hunt.org_id, hunt.id, now, &run)
                .await?;
        }
        Ok(acted)
    }

    /// Raises the alert or sends the notice; the incident the alert went to.
    async fn act(
        &self,
        hunt: &SavedHunt,
        outcome: &Outcome,
        now: Timestamp,
    ) -> Option<rampart_core::IncidentId> {
        let matched = outcome.reply.matched;
        match hunt.action {
            HuntAction::Incident => {
                let Some(detection) = &self.detection else {
                    tracing::warn!(hunt = %hunt.id, "no detection on this node: the saved hunt's alert is not raised");
                    return None;
                };
                let alert = alert_of(hunt, outcome, now);
                detection
                    .record_alerts(hunt.org_id, &[alert])
                    .await
                    .first()
                    .map(|recorded| recorded.incident)
            }
            HuntAction::Notify => {
                let notice = Notice {
                    hunt: Some(hunt.id),
                    title: Some(hunt.name.clone()),
                    count: Some(matched),
                    severity: Some(hunt.severity),
                    lines: outcome
                        .reply
                        .rows
                        .iter()
                        .take(NOTICE_LINES)
                        .map(row_line)
                        .collect(),
                    ..Notice::new(NoticeKind::HuntMatched)
                };
                if let Err(error) = self.notifier.notify(hunt.org_id, &notice).await {
                    tracing::warn!(hunt = %hunt.id, %error, "the hunt.matched notice was not queued");
                }
                None
            }
        }
    }
}

/// The hunt over its window ending at `now`, answering up to 100 rows.
fn window_of(hunt: &SavedHunt, now: Timestamp) -> HuntRequest {
    HuntRequest {
        query: hunt.query.clone(),
        from: Some(now.plus_secs(-hunt.window_minutes * 60)),
        to: Some(now),
        limit: Some(100),
        cursor: None,
    }
}

/// The alert of a run: the first matching events and who they name. One
/// incident per saved hunt gathers its runs while it is open.
fn alert_of(hunt: &SavedHunt, outcome: &Outcome, now: Timestamp) -> NewAlert {
    let mut entities = Entities::default();
    for (_, event) in &outcome.events {
        let named = entities_of(event);
        for (into, from) in [
            (&mut entities.ips, named.ips),
            (&mut entities.users, named.users),
            (&mut entities.hosts, named.hosts),
        ] {
            for value in from {
                if into.len() < 20 && !into.contains(&value) {
                    into.push(value);
                }
            }
        }
    }
    NewAlert {
        rule_id: format!("{RULE_PREFIX}{}", hunt.id),
        rule_title: format!("Saved hunt: {}", hunt.name),
        severity: hunt.severity,
        group_key: String::new(),
        event_ids: outcome.events.iter().map(|(id, _)| *id).collect(),
        entities,
        ts: now,
    }
}

/// A row as one line of `column=value` pairs, its count last.
fn row_line(row: &serde_json::Map<String, serde_json::Value>) -> String {
    let line = row
        .iter()
        .filter(|(k, _)| *k != "count")
        .chain(row.get_key_value("count"))
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(" ");
    line.chars().take(300).collect()
}

/// The minutely `hunts.saved` job.
pub struct SavedHuntRunner(pub Hunts);

#[async_trait]
impl JobHandler for SavedHuntRunner {
    async fn run(&self, _job: &Job) -> Result<(), JobFailure> {
        let now = self.0.clock.now();
        self.0
            .run_due(now)
            .await
            .map(|_| ())
            .map_err(|e| JobFailure::retry(e.detail))
    }
}
