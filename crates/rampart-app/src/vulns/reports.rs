//! Reports of findings (per organisation, asset, scan type or any filter
//! of the findings list) as JSON, CSV, SARIF 2.1.0 or self-contained HTML,
//! and the diff of one import or scan: what it found new and what it
//! found fixed.

use std::collections::HashMap;

use rampart_core::finding::{Finding, FindingStatus, ImportRecord};
use rampart_core::{AssetId, Error, ImportId, OrgId, Permission};
use rampart_scan::export;
use rampart_store::FindingQuery;
use serde::{Deserialize, Serialize};

use super::Vulnerabilities;
use crate::api::vulns::FindingFilter;
use crate::principal::Principal;

/// Most findings one report holds (filter by asset or scan type for more).
pub const MAX_REPORT_FINDINGS: usize = 100_000;

/// What a report is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Json,
    Csv,
    Sarif,
    Html,
}

/// A report, ready to send as a file.
pub struct RenderedReport {
    pub content_type: &'static str,
    pub file_name: String,
    pub body: Vec<u8>,
}

/// What one import (or scan) changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportDiff {
    pub import: ImportRecord,
    /// First seen by this import.
    pub new: Vec<Finding>,
    /// Closed because this import no longer reported them.
    pub fixed: Vec<Finding>,
}

impl Vulnerabilities {
    /// Every finding a filter selects, highest priority first (at most
    /// [`MAX_REPORT_FINDINGS`]).
    async fn all_findings(
        &self,
        org: OrgId,
        mut query: FindingQuery,
    ) -> Result<Vec<Finding>, Error> {
        query.limit = 1000;
        query.after = None;
        let mut out = Vec::new();
        loop {
            let page = self.store.list_findings(org, &query).await?;
            let full = page.len() == query.limit as usize;
            query.after = page.last().map(|f| (f.priority.score, f.id));
            out.extend(page);
            if out.len() > MAX_REPORT_FINDINGS {
                return Err(Error::bad_request(
                    "report_too_large",
                    format!(
                        "more than {MAX_REPORT_FINDINGS} findings: narrow the report by asset_id, scan_type or status"
                    ),
                ));
            }
            if !full {
                return Ok(out);
            }
        }
    }

    /// The names of the findings' assets.
    async fn asset_names(
        &self,
        org: OrgId,
        findings: &[Finding],
    ) -> Result<HashMap<AssetId, String>, Error> {
        let mut names = HashMap::new();
        for f in findings {
            if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(f.asset_id) {
                let asset = self.store.get_asset(org, f.asset_id).await?;
                slot.insert(asset.map(|a| a.name).unwrap_or_default());
            }
        }
        Ok(names)
    }

    /// `GET /reports`: the findings the filter selects (all statuses when
    /// it names none), written as `format`.
    pub async fn report(
        &self,
        principal: &Principal,
        format: ReportFormat,
        filter: FindingFilter,
    ) -> Result<RenderedReport, Error> {
        principal.require(Permission::Read)?;
        if filter.limit.is_some() || filter.cursor.is_some() {
            return Err(Error::invalid_field(
                "limit",
                "a report holds every finding the filter selects; it takes no limit or cursor",
            ));
        }
        let asset = filter.asset_id;
        let query = super::findings::finding_query(filter)?;
        let org = principal.org_id;
        let findings = self.all_findings(org, query).await?;
        let names = self.asset_names(org, &findings).await?;
        let now = self.clock.now();
        let stem = match asset.and_then(|a| names.get(&a)) {
            Some(name) => format!("findings-{}", file_safe(name)),
            None => "findings".to_owned(),
        };
        let title = match asset.and_then(|a| names.get(&a)) {
            Some(name) => format!("Findings of {name}"),
            None => "Findings".to_owned(),
        };
        let to_json =
            |v: &serde_json::Value| serde_json::to_vec_pretty(v).map_err(|e| Error::internal(&e));
        Ok(match format {
            ReportFormat::Json => RenderedReport {
                content_type: "application/json",
                file_name: format!("{stem}.json"),
                body: to_json(&serde_json::json!({
                    "generated_at": now, "count": findings.len(), "findings": findings,
                }))?,
            },
            ReportFormat::Csv => RenderedReport {
                content_type: "text/csv; charset=utf-8",
                file_name: format!("{stem}.csv"),
                body: export::csv(&findings, &names).into_bytes(),
            },
            ReportFormat::Sarif => RenderedReport {
                content_type: "application/sarif+json",
                file_name: format!("{stem}.sarif"),
                body: to_json(&export::sarif(&findings, &names))?,
            },
            ReportFormat::Html => RenderedReport {
                content_type: "text/html; charset=utf-8",
                file_name: format!("{stem}.html"),
                body: export::html(&title, &findings, &names, now).into_bytes(),
            },
        })
    }

    /// `GET /imports/{id}/diff`: the findings an import (or a scan's
    /// import) saw first and those it closed.
    pub async fn import_diff(
        &self,
        principal: &Principal,
        id: ImportId,
    ) -> Result<ImportDiff, Error> {
        principal.require(Permission::Read)?;
        let org = principal.org_id;
        let import = self
            .store
            .get_import(org, id)
            .await?
            .ok_or_else(|| Error::not_found("import"))?;
        let query = FindingQuery {
            asset: Some(import.asset_id),
            scan_type: Some(import.scan_type.clone()),
            ..FindingQuery::default()
        };
        let at = import.created_at;
        let findings = self.all_findings(org, query).await?;
        let (mut new, mut fixed) = (Vec::new(), Vec::new());
        for f in findings {
            if f.first_seen == at {
                new.push(f);
            } else if f.closed_at == Some(at) && f.status == FindingStatus::Mitigated {
                fixed.push(f);
            }
        }
        Ok(ImportDiff { import, new, fixed })
    }
}

/// A name made safe for a file name.
fn file_safe(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    safe.trim_matches(['.', '_']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::file_safe;

    #[test]
    fn file_names_keep_to_safe_characters() {
        assert_eq!(
            file_safe("registry.example/shop:1.4"),
            "registry.example_shop_1.4"
        );
        assert_eq!(file_safe("../../etc/passwd"), "etc_passwd");
        assert_eq!(file_safe("\"; rm -rf /"), "rm_-rf");
    }
}
