//! Threat intelligence: loading CISA's KEV catalogue and FIRST's EPSS
//! scores (an operator's act, `rampart intel load`: the data is shared by
//! every organisation), scoring every finding that names a CVE again
//! when they change, and showing analysts what is loaded and what is
//! known about a CVE.

use std::collections::HashMap;

use rampart_core::finding::{Asset, Finding};
use rampart_core::intel::{CveIntel, EpssScore, IntelSource, IntelSourceName, KevEntry};
use rampart_core::{AssetId, Error, OrgId, Permission};
use rampart_scan::intel::{cve_id, IntelError};
use serde::Serialize;

use super::{scoring, Vulnerabilities};
use crate::principal::Principal;

/// Findings scored again per transaction.
const RESCORE_PAGE: u32 = 1000;

/// What loading a release did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IntelLoad {
    #[serde(flatten)]
    pub source: IntelSource,
    /// Findings whose priority changed, across all organisations.
    pub rescored: u64,
    /// Milliseconds spent reading and storing the file.
    pub load_ms: u64,
}

/// What is known about one CVE.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CveReport {
    pub cve: String,
    #[serde(flatten)]
    pub intel: CveIntel,
}

/// A release's rows, as parsed.
enum Release {
    Kev(Vec<KevEntry>),
    Epss(Vec<EpssScore>),
}

fn intel_error(error: IntelError) -> Error {
    let column = match &error {
        IntelError::Syntax { column, .. } => Some(*column),
        _ => None,
    };
    super::positioned(
        "invalid_intel",
        "file",
        error.to_string(),
        error.line(),
        column,
    )
}

impl Vulnerabilities {
    /// Replaces a source's data with the release in `bytes` (KEV JSON, or
    /// EPSS CSV, either possibly gzip), then scores again every finding
    /// of every organisation that names a CVE.
    pub async fn load_intel(
        &self,
        source: IntelSourceName,
        bytes: Vec<u8>,
    ) -> Result<IntelLoad, Error> {
        let started = std::time::Instant::now();
        let (release, rows) = self.parse_release(source, bytes).await?;
        self.apply_release(release, rows, started).await
    }

    /// As `load_intel`, but only a release other than the one loaded (by
    /// version and release date): `None` when it is the same.
    pub async fn load_intel_if_new(
        &self,
        source: IntelSourceName,
        bytes: Vec<u8>,
    ) -> Result<Option<IntelLoad>, Error> {
        let started = std::time::Instant::now();
        let (release, rows) = self.parse_release(source, bytes).await?;
        let loaded = self.store.intel_sources().await?;
        let same = loaded.iter().any(|l| {
            l.source == release.source
                && l.version == release.version
                && l.released == release.released
                && l.rows == release.rows
        });
        if same {
            return Ok(None);
        }
        self.apply_release(release, rows, started).await.map(Some)
    }

    async fn parse_release(
        &self,
        source: IntelSourceName,
        bytes: Vec<u8>,
    ) -> Result<(IntelSource, Release), Error> {
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || match source {
            IntelSourceName::Kev => rampart_scan::intel::parse_kev(&bytes).map(|c| {
                let source = IntelSource {
                    source,
                    version: c.version,
                    released: c.released,
                    rows: c.entries.len() as u64,
                    loaded_at: now,
                };
                (source, Release::Kev(c.entries))
            }),
            IntelSourceName::Epss => rampart_scan::intel::parse_epss(&bytes).map(|f| {
                let source = IntelSource {
                    source,
                    version: f.model_version,
                    released: f.score_date,
                    rows: f.scores.len() as u64,
                    loaded_at: now,
                };
                (source, Release::Epss(f.scores))
            }),
        })
        .await
        .map_err(|e| Error::internal(&e))?
        .map_err(intel_error)
    }

    async fn apply_release(
        &self,
        release: IntelSource,
        rows: Release,
        started: std::time::Instant,
    ) -> Result<IntelLoad, Error> {
        match rows {
            Release::Kev(entries) => self.store.replace_kev(&release, &entries).await?,
            Release::Epss(scores) => self.store.replace_epss(&release, &scores).await?,
        }
        let load_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let rescored = self.rescore_everywhere().await?;
        tracing::info!(
            source = release.source.as_str(), version = %release.version, rows = release.rows,
            load_ms, rescored, "threat intelligence loaded"
        );
        Ok(IntelLoad {
            source: release,
            rescored,
            load_ms,
        })
    }

    /// Scores again the findings of every organisation that name an
    /// advisory; how many changed.
    pub async fn rescore_everywhere(&self) -> Result<u64, Error> {
        let mut changed = 0;
        let mut after = None;
        loop {
            let orgs = self.store.list_orgs(after, 1000).await?;
            for org in &orgs {
                changed += self.rescore_organisation(org.id, true).await?;
            }
            match orgs.last() {
                Some(last) if orgs.len() == 1000 => after = Some(last.id),
                _ => return Ok(changed),
            }
        }
    }

    /// Scores again an organisation's findings (those that name an
    /// advisory when `advisories_only`), a page per transaction; how many
    /// changed.
    pub(super) async fn rescore_organisation(
        &self,
        org: OrgId,
        advisories_only: bool,
    ) -> Result<u64, Error> {
        let phrases = self.phrases_of(org).await?;
        let now = self.clock.now();
        let mut assets: HashMap<AssetId, Option<Asset>> = HashMap::new();
        let mut changed = 0;
        let mut after = None;
        loop {
            let page = self
                .store
                .list_findings_by_id(org, after, RESCORE_PAGE, advisories_only)
                .await?;
            let Some(last) = page.last() else {
                return Ok(changed);
            };
            after = Some(last.id);
            let full = page.len() == RESCORE_PAGE as usize;
            let intel =
                scoring::intel_for(self.store.as_ref(), page.iter().map(|f| &f.report)).await?;
            let mut rescored: Vec<Finding> = Vec::new();
            for mut finding in page {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    assets.entry(finding.asset_id)
                {
                    slot.insert(self.store.get_asset(org, finding.asset_id).await?);
                }
                // The asset went away meanwhile: so did its findings.
                let Some(Some(asset)) = assets.get(&finding.asset_id) else {
                    continue;
                };
                let age = scoring::age_days(Some(finding.first_seen), now);
                let priority = scoring::score(&finding.report, asset, age, &phrases, &intel);
                if priority != finding.priority {
                    finding.priority = priority;
                    rescored.push(finding);
                }
            }
            self.store.set_priorities(org, &rescored).await?;
            changed += rescored.len() as u64;
            if !full {
                return Ok(changed);
            }
        }
    }

    /// `GET /intel`: the releases loaded.
    pub async fn intel_sources(&self, principal: &Principal) -> Result<Vec<IntelSource>, Error> {
        principal.require(Permission::Read)?;
        Ok(self.store.intel_sources().await?)
    }

    /// `GET /intel/cves/{cve}`: what is known about a CVE (empty when
    /// nothing is).
    pub async fn cve_intel(&self, principal: &Principal, cve: &str) -> Result<CveReport, Error> {
        principal.require(Permission::Read)?;
        let cve = cve_id(cve)
            .ok_or_else(|| Error::invalid_field("cve", "a CVE id such as CVE-2021-44228"))?;
        let mut known = self.store.intel_for(std::slice::from_ref(&cve)).await?;
        Ok(CveReport {
            intel: known.remove(&cve).unwrap_or_default(),
            cve,
        })
    }
}
