//! Recurring scans: a scan request with a cron expression (UTC), checked
//! against the scope when saved and again at every run. A minutely job
//! starts the runs that are due; a run that the scope no longer allows is
//! recorded on the schedule with its reason.

use async_trait::async_trait;
use rampart_core::scan::{ScanRequest, ScanSchedule};
use rampart_core::{Error, Job, Permission, ScanScheduleId};
use serde::Deserialize;

use super::Scans;
use crate::audit::snapshot;
use crate::jobs::handler::{JobFailure, JobHandler};
use crate::jobs::schedule::CronExpr;
use crate::principal::Principal;

/// The job kind that starts due scans.
pub const SCHEDULES_JOB: &str = "scans.schedules";

/// Due schedules started per run of the job.
const PER_RUN: u32 = 100;

/// A new recurring scan.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Five fields, UTC: `0 3 * * 1` is Mondays at 03:00.
    pub cron: String,
    pub scan: ScanRequest,
}

impl Scans {
    /// `GET /scan-schedules`.
    pub async fn schedules(&self, principal: &Principal) -> Result<Vec<ScanSchedule>, Error> {
        principal.require(Permission::Read)?;
        Ok(self.store.list_scan_schedules(principal.org_id).await?)
    }

    /// `POST /scan-schedules` (analysts; audited): the request is checked
    /// as a scan would be, now.
    pub async fn create_schedule(
        &self,
        principal: &Principal,
        input: ScheduleInput,
    ) -> Result<ScanSchedule, Error> {
        principal.require(Permission::Analyse)?;
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid_field("name", "1 to 100 characters"));
        }
        let cron = CronExpr::parse(&input.cron).map_err(|e| e.with_field("cron"))?;
        let now = self.clock.now();
        let next = cron
            .next_after(now)
            .ok_or_else(|| Error::invalid_field("cron", "never comes round"))?;
        self.check_request(principal.org_id, &input.scan).await?;
        let schedule = ScanSchedule {
            id: ScanScheduleId::new(),
            org_id: principal.org_id,
            name,
            request: input.scan,
            cron: cron.as_str().to_owned(),
            enabled: true,
            next_run_at: next,
            last_run_at: None,
            last_scan_id: None,
            last_error: None,
            created_by: principal.audit_actor(),
            created_at: now,
        };
        let audit = self.audit.entry(
            principal,
            "scan_schedule.create",
            ("scan_schedule", schedule.id.to_string()),
            None,
            snapshot(&schedule),
        );
        match self.store.create_scan_schedule(&schedule, &audit).await {
            Ok(()) => Ok(schedule),
            Err(rampart_store::StoreError::Conflict { .. }) => Err(Error::conflict(
                "schedule_exists",
                "the organisation has a schedule of that name",
            )
            .with_field("name")),
            Err(other) => Err(other.into()),
        }
    }

    /// `DELETE /scan-schedules/{id}` (analysts; audited).
    pub async fn delete_schedule(
        &self,
        principal: &Principal,
        id: ScanScheduleId,
    ) -> Result<(), Error> {
        principal.require(Permission::Analyse)?;
        let audit = self.audit.entry(
            principal,
            "scan_schedule.delete",
            ("scan_schedule", id.to_string()),
            None,
            None,
        );
        if self
            .store
            .delete_scan_schedule(principal.org_id, id, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_found("scan schedule"))
        }
    }

    /// Starts every due run (each claimed first, so one node starts it);
    /// how many scans started.
    pub async fn run_due_schedules(&self) -> Result<usize, Error> {
        let now = self.clock.now();
        let mut started = 0;
        for schedule in self.store.due_scan_schedules(now, PER_RUN).await? {
            let next = CronExpr::parse(&schedule.cron)
                .ok()
                .and_then(|c| c.next_after(now));
            let Some(next) = next else {
                continue;
            };
            let claimed = self
                .store
                .claim_scan_schedule(
                    schedule.org_id,
                    schedule.id,
                    schedule.next_run_at,
                    next,
                    now,
                )
                .await?;
            if !claimed {
                continue;
            }
            let actor = format!("schedule:{}", schedule.name);
            let outcome = self
                .start_as(schedule.org_id, actor, schedule.request.clone())
                .await;
            let (scan, error) = match outcome {
                Ok(scan) => {
                    started += 1;
                    (Some(scan.id.to_string()), None)
                }
                Err(error) => {
                    tracing::warn!(schedule = %schedule.id, error = %error.detail, "a scheduled scan did not start");
                    (None, Some(error.detail))
                }
            };
            self.store
                .record_scan_schedule_run(schedule.org_id, schedule.id, scan, error)
                .await?;
        }
        Ok(started)
    }
}

/// The minutely `scans.schedules` job.
pub struct ScheduleRunner(pub Scans);

#[async_trait]
impl JobHandler for ScheduleRunner {
    async fn run(&self, _job: &Job) -> Result<(), JobFailure> {
        self.0
            .run_due_schedules()
            .await
            .map(|_| ())
            .map_err(|e| JobFailure::retry(e.detail))
    }
}
