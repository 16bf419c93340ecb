//! Findings: filtered lists by priority, one finding with its reasons, and
//! analysts' decisions (false positive, accepted risk with a review date,
//! reopening), audited.

use rampart_core::finding::{Finding, FindingStatus};
use rampart_core::{Error, FindingId, Permission};
use rampart_store::{FindingQuery, StatusChange};

use super::Vulnerabilities;
use crate::api::vulns::{FindingFilter, FindingPatch};
use crate::audit::snapshot;
use crate::paging::Page;
use crate::principal::Principal;

/// The statuses of a `status` parameter (`active` is open and reopened).
fn statuses(text: &str) -> Result<Vec<FindingStatus>, Error> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part == "active" {
            out.extend([FindingStatus::Open, FindingStatus::Reopened]);
            continue;
        }
        out.push(FindingStatus::parse(part).ok_or_else(|| {
            Error::invalid_field(
                "status",
                "comma-separated: active, open, reopened, mitigated, false_positive, risk_accepted",
            )
        })?);
    }
    Ok(out)
}

/// A cursor `priority:id`.
fn cursor(text: &str) -> Result<(u8, FindingId), Error> {
    let bad = || Error::invalid_field("cursor", "not a cursor this API returned");
    let (score, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((
        score.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

/// The store query a findings filter asks for, checked.
pub(super) fn finding_query(filter: FindingFilter) -> Result<FindingQuery, Error> {
    let limit = match filter.limit {
        None => 100,
        Some(n @ 1..=1000) => n,
        Some(_) => return Err(Error::invalid_field("limit", "must be between 1 and 1000")),
    };
    if filter.min_priority.is_some_and(|p| p > 100) {
        return Err(Error::invalid_field("min_priority", "must be 0 to 100"));
    }
    Ok(FindingQuery {
        statuses: filter
            .status
            .as_deref()
            .map(statuses)
            .transpose()?
            .unwrap_or_default(),
        severity: filter.severity,
        band: filter.band,
        asset: filter.asset_id,
        scan_type: filter.scan_type,
        vulnerability_id: filter.cve.filter(|c| !c.trim().is_empty()),
        min_priority: filter.min_priority,
        text: filter.q.filter(|q| !q.trim().is_empty()),
        after: filter.cursor.as_deref().map(cursor).transpose()?,
        limit,
    })
}

impl Vulnerabilities {
    pub async fn findings(
        &self,
        principal: &Principal,
        filter: FindingFilter,
    ) -> Result<Page<Finding>, Error> {
        principal.require(Permission::Read)?;
        let query = finding_query(filter)?;
        let limit = query.limit;
        let mut items = self.store.list_findings(principal.org_id, &query).await?;
        let policy = self.policy_of(principal.org_id).await?;
        Self::with_due(&policy, &mut items);
        Ok(Page::new(items, limit, |f| {
            format!("{}:{}", f.priority.score, f.id)
        }))
    }

    pub async fn finding(&self, principal: &Principal, id: FindingId) -> Result<Finding, Error> {
        principal.require(Permission::Read)?;
        let mut finding = self
            .store
            .get_finding(principal.org_id, id)
            .await?
            .ok_or_else(|| Error::not_found("finding"))?;
        let policy = self.policy_of(principal.org_id).await?;
        Self::with_due(&policy, std::slice::from_mut(&mut finding));
        Ok(finding)
    }

    /// An analyst's decision; the finding as it is now.
    pub async fn decide(
        &self,
        principal: &Principal,
        id: FindingId,
        patch: FindingPatch,
    ) -> Result<Finding, Error> {
        principal.require(Permission::Analyse)?;
        let before = self.finding(principal, id).await?;
        let now = self.clock.now();
        let reason = patch
            .reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
            return Err(Error::invalid_field("reason", "at most 2000 characters"));
        }
        if patch.status.is_decision() && reason.is_none() {
            return Err(Error::invalid_field("reason", "say why"));
        }
        let until = match patch.status {
            FindingStatus::RiskAccepted => {
                let until = patch.risk_accepted_until.ok_or_else(|| {
                    Error::invalid_field(
                        "risk_accepted_until",
                        "an accepted risk needs a review date",
                    )
                })?;
                if until.0 <= now.0 {
                    return Err(Error::invalid_field(
                        "risk_accepted_until",
                        "must be in the future",
                    ));
                }
                Some(until)
            }
            _ if patch.risk_accepted_until.is_some() => {
                return Err(Error::invalid_field(
                    "risk_accepted_until",
                    "only for risk_accepted",
                ))
            }
            _ => None,
        };
        let change = StatusChange {
            status: patch.status,
            reason,
            risk_accepted_until: until,
            now,
        };
        let entry = self.audit.entry(
            principal,
            "finding.update",
            ("finding", id.to_string()),
            snapshot(&serde_json::json!({"status": before.status, "reason": before.status_reason})),
            snapshot(
                &serde_json::json!({"status": change.status, "reason": change.reason,
                "risk_accepted_until": change.risk_accepted_until}),
            ),
        );
        let mut finding = self
            .store
            .set_finding_status(principal.org_id, id, &change, &entry)
            .await?
            .ok_or_else(|| Error::not_found("finding"))?;
        let policy = self.policy_of(principal.org_id).await?;
        Self::with_due(&policy, std::slice::from_mut(&mut finding));
        Ok(finding)
    }
}
