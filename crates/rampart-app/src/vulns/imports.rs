//! Imports of scanner reports: parse (off the async threads), find or
//! create the asset, prioritise each finding with the asset's criticality
//! and exposure and its age, and hand the lot to the store's one
//! transaction.

use rampart_core::finding::{
    Asset, AssetKind, Exposure, ImportCounts, ImportRecord, ParsedFinding,
};
use rampart_core::{AssetId, Error, ImportId, OrgId, Permission};
use rampart_scan::{Format, ParseError, Report};
use rampart_store::{FindingImport, ImportedFinding};

use super::{scoring, Vulnerabilities};
use crate::api::vulns::{ImportReply, ImportRequest};
use crate::audit::snapshot;
use crate::paging::{Page, PageParams};
use crate::principal::Principal;

/// Findings to store as one import (a parsed report, or a scan's).
pub struct FindingBatch {
    pub org: OrgId,
    /// Who the audit trail names.
    pub actor: String,
    pub asset: Asset,
    /// Batches of one scan type replace each other's findings.
    pub scan_type: String,
    pub format: String,
    pub tool: String,
    pub file_name: Option<String>,
    /// Close this scan type's findings missing from the batch.
    pub full_report: bool,
    pub findings: Vec<ParsedFinding>,
}

/// The kind of asset a format's reports are usually about.
pub fn guess_kind(format: Format) -> AssetKind {
    match format {
        Format::Trivy | Format::Grype => AssetKind::ContainerImage,
        Format::Nuclei | Format::Zap | Format::Burp => AssetKind::WebApplication,
        Format::Nmap | Format::Openvas | Format::Nessus => AssetKind::Host,
        Format::Sarif
        | Format::Semgrep
        | Format::Gitleaks
        | Format::Bandit
        | Format::Checkov
        | Format::DependencyCheck => AssetKind::Repository,
    }
}

/// A report that could not be read, as an input error naming its line.
pub fn parse_error(error: ParseError) -> Error {
    let column = match &error {
        ParseError::Syntax { column, .. } => Some(*column),
        _ => None,
    };
    super::positioned(
        "invalid_report",
        "report",
        error.to_string(),
        error.line(),
        column,
    )
}

/// Parses a report on a blocking thread (large reports take a while).
pub async fn parse_report(bytes: Vec<u8>, format: Option<Format>) -> Result<Report, Error> {
    tokio::task::spawn_blocking(move || rampart_scan::parse(&bytes, format))
        .await
        .map_err(|e| Error::internal(&e))?
        .map_err(parse_error)
}

/// Analysts, or API keys with the ingest scope (CI pipelines), import.
pub fn require_importer(principal: &Principal) -> Result<(), Error> {
    if !principal.may(Permission::Analyse) && !principal.may(Permission::Ingest) {
        principal.require(Permission::Analyse)?;
    }
    Ok(())
}

/// An import's parameters and report, checked before anything is parsed
/// or queued: the format it names, if any.
pub fn check_request(request: &ImportRequest, bytes: &[u8]) -> Result<Option<Format>, Error> {
    let asset_name = request.asset.trim();
    if asset_name.is_empty() || asset_name.chars().count() > 200 {
        return Err(Error::invalid_field(
            "asset",
            "name the asset (1 to 200 characters)",
        ));
    }
    let scan_type = request.scan_type.as_deref().map(str::trim).unwrap_or("");
    if scan_type.chars().count() > 100 {
        return Err(Error::invalid_field("scan_type", "at most 100 characters"));
    }
    let format = format_named(request.format.as_deref())?;
    if bytes.is_empty() {
        return Err(Error::invalid_field("report", "the report is empty"));
    }
    Ok(format)
}

/// The format a request names, checked.
pub fn format_named(name: Option<&str>) -> Result<Option<Format>, Error> {
    name.map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            Format::parse_name(n).ok_or_else(|| {
                Error::invalid_field("format", format!("one of: {}", Format::names()))
            })
        })
        .transpose()
}

impl Vulnerabilities {
    /// `POST /imports` and `rampart import`.
    pub async fn import(
        &self,
        principal: &Principal,
        request: ImportRequest,
        bytes: Vec<u8>,
    ) -> Result<ImportReply, Error> {
        require_importer(principal)?;
        self.import_as(principal.org_id, principal.audit_actor(), request, bytes)
            .await
    }

    /// An import by whoever `actor` names in the audit trail (`rampart
    /// import`, run by the operator, says `operator`), into `org`.
    pub async fn import_as(
        &self,
        org: OrgId,
        actor: String,
        request: ImportRequest,
        bytes: Vec<u8>,
    ) -> Result<ImportReply, Error> {
        let format = check_request(&request, &bytes)?;
        let asset_name = request.asset.trim().to_owned();
        let scan_type = request
            .scan_type
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let report = parse_report(bytes, format).await?;
        let (asset, asset_created) = self
            .asset_named(org, &actor, &asset_name, guess_kind(report.format))
            .await?;
        let scan_type = scan_type.unwrap_or_else(|| report.format.as_str().to_owned());
        let format_name = report.format.as_str().to_owned();
        let (import_id, counts) = self
            .store_findings(FindingBatch {
                org,
                actor,
                asset: asset.clone(),
                scan_type: scan_type.clone(),
                format: format_name.clone(),
                tool: report.tool.clone(),
                file_name: request.file_name,
                full_report: request.full_report,
                findings: report.findings,
            })
            .await?;
        Ok(ImportReply {
            import_id,
            asset,
            asset_created,
            format: format_name,
            tool: report.tool,
            scan_type,
            counts,
        })
    }

    /// Scores a report's or a scan's findings with the asset, their age
    /// and the loaded threat intelligence, and stores them as one import.
    pub async fn store_findings(
        &self,
        batch: FindingBatch,
    ) -> Result<(ImportId, ImportCounts), Error> {
        let FindingBatch {
            org,
            actor,
            asset,
            scan_type,
            format,
            tool,
            file_name,
            full_report,
            findings,
        } = batch;
        let now = self.clock.now();
        let first_seen = self.store.first_seen(org, asset.id, &scan_type).await?;
        let phrases = self.phrases_of(org).await?;
        let intel = scoring::intel_for(self.store.as_ref(), findings.iter()).await?;
        let findings: Vec<ImportedFinding> = findings
            .into_iter()
            .map(|finding| {
                let age = scoring::age_days(first_seen.get(&finding.fingerprint).copied(), now);
                ImportedFinding {
                    priority: scoring::score(&finding, &asset, age, &phrases, &intel),
                    report: finding,
                }
            })
            .collect();
        let id = ImportId::new();
        let audit = self.audit.entry_in(
            org,
            actor.clone(),
            "findings.import",
            ("asset", asset.id.to_string()),
            None,
            snapshot(&serde_json::json!({
                "import_id": id, "format": format, "scan_type": scan_type,
                "file_name": file_name, "findings": findings.len(),
            })),
        );
        let import = FindingImport {
            id,
            org,
            asset: asset.id,
            scan_type,
            format: format.clone(),
            tool,
            file_name,
            actor,
            full_report,
            findings,
            now,
            audit,
        };
        let counts = self.store.import_findings(&import).await?;
        tracing::info!(
            org_id = %org, asset_id = %asset.id, format = %format,
            findings = counts.findings, new = counts.new, closed = counts.closed, "findings imported"
        );
        Ok((id, counts))
    }

    /// The named asset, created with `kind` when there is none.
    pub async fn asset_named(
        &self,
        org: OrgId,
        actor: &str,
        name: &str,
        kind: AssetKind,
    ) -> Result<(Asset, bool), Error> {
        if let Some(asset) = self.store.find_asset_by_name(org, name).await? {
            return Ok((asset, false));
        }
        let now = self.clock.now();
        let asset = Asset {
            id: AssetId::new(),
            org_id: org,
            name: name.to_owned(),
            kind,
            identifiers: Vec::new(),
            criticality: 3,
            exposure: Exposure::Internal,
            owner: None,
            tags: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        let entry = self.audit.entry_in(
            org,
            actor.to_owned(),
            "asset.create",
            ("asset", asset.id.to_string()),
            None,
            snapshot(&asset),
        );
        match self.store.create_asset(&asset, &entry).await {
            Ok(()) => Ok((asset, true)),
            // Another import created it meanwhile.
            Err(rampart_store::StoreError::Conflict { .. }) => self
                .store
                .find_asset_by_name(org, name)
                .await?
                .map(|a| (a, false))
                .ok_or_else(|| {
                    Error::conflict("asset_exists", "the asset changed meanwhile; retry")
                }),
            Err(other) => Err(other.into()),
        }
    }

    /// The organisation's imports, newest first.
    pub async fn imports(
        &self,
        principal: &Principal,
        asset: Option<AssetId>,
        page: &PageParams,
    ) -> Result<Page<ImportRecord>, Error> {
        principal.require(Permission::Read)?;
        let limit = page.limit()?;
        let items = self
            .store
            .list_imports(principal.org_id, asset, page.cursor()?, limit)
            .await?;
        Ok(Page::new(items, limit, |i| i.id.to_string()))
    }
}
