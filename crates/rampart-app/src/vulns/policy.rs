//! The organisation's findings policy: deadlines per severity (SLA days),
//! a warning before an accepted risk's review date, and the phrases that
//! raise priorities (admins edit them; findings are scored again when
//! they change). An hourly job sends each breach notice and expiry
//! warning once, and reopens accepted risks whose review date passed.

use std::sync::Arc;

use async_trait::async_trait;
use rampart_core::finding::{Finding, FindingPolicy, FindingSeverity, Phrase};
use rampart_core::notification::{Notice, NoticeKind};
use rampart_core::{Error, Job, OrgId, Permission, Timestamp};
use rampart_scan::priority;
use serde::Serialize;

use super::Vulnerabilities;
use crate::audit::snapshot;
use crate::jobs::handler::{JobFailure, JobHandler};
use crate::notifications::Notifier;
use crate::principal::Principal;

/// The job kind that checks deadlines and review dates.
pub const POLICY_JOB: &str = "findings.policy";

/// Findings named in one notice at most (the count says how many in all).
const NOTICE_LINES: usize = 25;
/// Findings handled per organisation and run (the next run takes the rest).
const PER_RUN: u32 = 1000;

const DAY_MS: i64 = 86_400_000;

/// What one check did in one organisation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PolicyRun {
    pub breached: usize,
    pub expiring: usize,
    pub reopened: usize,
}

fn check(policy: &FindingPolicy) -> Result<(), Error> {
    let days = [
        ("sla_days.critical", policy.sla_days.critical),
        ("sla_days.high", policy.sla_days.high),
        ("sla_days.medium", policy.sla_days.medium),
        ("sla_days.low", policy.sla_days.low),
        ("sla_days.info", policy.sla_days.info),
    ];
    for (field, value) in days {
        if value.is_some_and(|d| !(1..=3650).contains(&d)) {
            return Err(Error::invalid_field(
                field,
                "1 to 3650 days, or null for none",
            ));
        }
    }
    if policy.expiry_warning_days > 365 {
        return Err(Error::invalid_field("expiry_warning_days", "0 to 365"));
    }
    if let Some(phrases) = &policy.phrases {
        if phrases.len() > 200 {
            return Err(Error::invalid_field("phrases", "at most 200 phrases"));
        }
        for (n, p) in phrases.iter().enumerate() {
            let chars = p.phrase.trim().chars().count();
            if !(2..=100).contains(&chars) {
                return Err(Error::invalid_field(
                    &format!("phrases[{n}].phrase"),
                    "2 to 100 characters",
                ));
            }
            if !(p.points.is_finite() && p.points > 0.0 && p.points <= 50.0) {
                return Err(Error::invalid_field(
                    &format!("phrases[{n}].points"),
                    "above 0 and at most 50",
                ));
            }
        }
    }
    Ok(())
}

/// A finding as one line of a notice.
fn line(finding: &Finding, when: Option<Timestamp>) -> String {
    let place = finding
        .report
        .endpoints
        .first()
        .or(finding.report.component.as_ref())
        .or(finding.report.file_path.as_ref())
        .map(|p| format!(" ({p})"))
        .unwrap_or_default();
    let date = when
        .map(|t| format!(", due {}", &t.to_rfc3339()[..10]))
        .unwrap_or_default();
    format!(
        "[{} {}] {}{place}{date}",
        finding.priority.score,
        finding.priority.band.as_str(),
        finding.report.title.chars().take(150).collect::<String>()
    )
}

fn rules_severity(findings: &[Finding]) -> u8 {
    findings
        .iter()
        .map(|f| match f.severity {
            FindingSeverity::Info => 1,
            FindingSeverity::Low => 2,
            FindingSeverity::Medium => 3,
            FindingSeverity::High => 4,
            FindingSeverity::Critical => 5,
        })
        .max()
        .unwrap_or(1)
}

impl Vulnerabilities {
    /// The organisation's policy (the defaults when it set none).
    pub(super) async fn policy_of(&self, org: OrgId) -> Result<FindingPolicy, Error> {
        Ok(self
            .store
            .get_finding_policy(org)
            .await?
            .unwrap_or_default())
    }

    /// The phrases that raise the organisation's priorities.
    pub(super) async fn phrases_of(&self, org: OrgId) -> Result<Vec<Phrase>, Error> {
        Ok(self
            .policy_of(org)
            .await?
            .phrases
            .unwrap_or_else(priority::default_phrases))
    }

    /// Sets each finding's deadline from the policy.
    pub(super) fn with_due(policy: &FindingPolicy, findings: &mut [Finding]) {
        for f in findings {
            f.due_at = policy.due_at(f.severity, f.first_seen);
        }
    }

    /// `GET /findings/policy`.
    pub async fn policy(&self, principal: &Principal) -> Result<FindingPolicy, Error> {
        principal.require(Permission::Read)?;
        let mut policy = self.policy_of(principal.org_id).await?;
        policy.phrases.get_or_insert_with(priority::default_phrases);
        Ok(policy)
    }

    /// `PUT /findings/policy` (admins; audited). Changed phrases score
    /// every finding of the organisation again.
    pub async fn set_policy(
        &self,
        principal: &Principal,
        mut policy: FindingPolicy,
    ) -> Result<FindingPolicy, Error> {
        principal.require(Permission::Admin)?;
        check(&policy)?;
        if let Some(phrases) = &mut policy.phrases {
            for p in phrases.iter_mut() {
                p.phrase = p.phrase.trim().to_owned();
            }
        }
        let org = principal.org_id;
        let before = self.policy_of(org).await?;
        let entry = self.audit.entry(
            principal,
            "findings.policy",
            ("findings_policy", org.to_string()),
            snapshot(&before),
            snapshot(&policy),
        );
        self.store
            .set_finding_policy(org, &policy, self.clock.now(), &entry)
            .await?;
        let old_phrases = before.phrases.unwrap_or_else(priority::default_phrases);
        let new_phrases = policy
            .phrases
            .clone()
            .unwrap_or_else(priority::default_phrases);
        if old_phrases != new_phrases {
            let rescored = self.rescore_organisation(org, false).await?;
            tracing::info!(org_id = %org, rescored, "phrases changed: findings scored again");
        }
        self.policy(principal).await
    }

    /// Sends the organisation's breach notices and expiry warnings due by
    /// `now`, and reopens accepted risks whose review date passed.
    pub async fn enforce_policy(
        &self,
        org: OrgId,
        notifier: &Notifier,
    ) -> Result<PolicyRun, Error> {
        let policy = self.policy_of(org).await?;
        let now = self.clock.now();
        let cutoffs: Vec<(FindingSeverity, Timestamp)> = [
            FindingSeverity::Critical,
            FindingSeverity::High,
            FindingSeverity::Medium,
            FindingSeverity::Low,
            FindingSeverity::Info,
        ]
        .into_iter()
        .filter_map(|s| {
            policy
                .sla_days
                .of(s)
                .map(|days| (s, Timestamp(now.0 - i64::from(days) * DAY_MS)))
        })
        .collect();
        let breached = self.store.take_sla_breaches(org, &cutoffs, PER_RUN).await?;
        if !breached.is_empty() {
            let notice = Notice {
                count: Some(breached.len() as u64),
                lines: breached
                    .iter()
                    .take(NOTICE_LINES)
                    .map(|f| line(f, policy.due_at(f.severity, f.first_seen)))
                    .collect(),
                severity: Some(rules_severity(&breached)),
                ..Notice::new(NoticeKind::FindingSlaBreached)
            };
            notifier.notify(org, &notice).await?;
        }
        let warn_until = Timestamp(now.0 + i64::from(policy.expiry_warning_days) * DAY_MS);
        let expiring = self
            .store
            .take_expiring_acceptances(org, warn_until, PER_RUN)
            .await?;
        let audit = self.audit.entry_in(
            org,
            "system:findings-policy".to_owned(),
            "findings.acceptance_expired",
            ("findings_policy", org.to_string()),
            None,
            None,
        );
        let reopened = self
            .store
            .reopen_expired_acceptances(org, now, PER_RUN, &audit)
            .await?;
        if !expiring.is_empty() || !reopened.is_empty() {
            let lines = reopened
                .iter()
                .map(|f| format!("reopened: {}", line(f, None)))
                .chain(
                    expiring
                        .iter()
                        .filter(|e| !reopened.iter().any(|r| r.id == e.id))
                        .map(|f| {
                            format!(
                                "review by {}: {}",
                                f.risk_accepted_until
                                    .map_or(String::new(), |t| t.to_rfc3339()[..10].to_owned()),
                                line(f, None)
                            )
                        }),
                )
                .take(NOTICE_LINES)
                .collect();
            let notice = Notice {
                count: Some(expiring.len().max(reopened.len()) as u64),
                lines,
                severity: Some(3),
                ..Notice::new(NoticeKind::FindingRiskExpiring)
            };
            notifier.notify(org, &notice).await?;
        }
        Ok(PolicyRun {
            breached: breached.len(),
            expiring: expiring.len(),
            reopened: reopened.len(),
        })
    }
}

/// The hourly `findings.policy` job: every organisation in turn.
pub struct PolicyCheck {
    pub vulnerabilities: Vulnerabilities,
    pub notifier: Notifier,
    pub store: Arc<dyn rampart_store::Store>,
}

#[async_trait]
impl JobHandler for PolicyCheck {
    async fn run(&self, _job: &Job) -> Result<(), JobFailure> {
        let mut after = None;
        loop {
            let orgs = self
                .store
                .list_orgs(after, 1000)
                .await
                .map_err(JobFailure::retry)?;
            for org in &orgs {
                let run = self
                    .vulnerabilities
                    .enforce_policy(org.id, &self.notifier)
                    .await
                    .map_err(|e| JobFailure::retry(e.detail))?;
                if run != PolicyRun::default() {
                    tracing::info!(org_id = %org.id, ?run, "findings policy enforced");
                }
            }
            match orgs.last() {
                Some(last) if orgs.len() == 1000 => after = Some(last.id),
                _ => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_checked_field_by_field() {
        assert!(check(&FindingPolicy::default()).is_ok());
        let mut p = FindingPolicy::default();
        p.sla_days.high = Some(0);
        assert_eq!(
            check(&p).unwrap_err().field.as_deref(),
            Some("sla_days.high")
        );
        let mut p = FindingPolicy {
            phrases: Some(vec![Phrase {
                phrase: "rce".into(),
                points: f64::NAN,
            }]),
            ..FindingPolicy::default()
        };
        assert_eq!(
            check(&p).unwrap_err().field.as_deref(),
            Some("phrases[0].points")
        );
        p.phrases = Some(vec![Phrase {
            phrase: " x ".into(),
            points: 3.0,
        }]);
        assert_eq!(
            check(&p).unwrap_err().field.as_deref(),
            Some("phrases[0].phrase")
        );
    }
}
