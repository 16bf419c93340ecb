//! Vulnerability management: assets, findings and imported reports (the
//! [`FindingStore`] interface), one SQL text for both backends. An import
//! is one transaction: findings seen before are matched by fingerprint
//! within their asset and scan type, new ones inserted in batches, the
//! missing ones of a full report closed, and the import logged and
//! audited, or nothing at all.

use std::collections::HashMap;

use async_trait::async_trait;
use rampart_core::finding::{
    Asset, AssetKind, Band, Exposure, Finding, FindingSeverity, FindingStatus, ImportCounts,
    ImportRecord, ParsedFinding, Priority,
};
use rampart_core::{AssetId, AuditEntry, FindingId, ImportId, OrgId, Timestamp};
use serde::Serialize;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::shared_sql::like_escape;
use crate::shared_sql::parse_column;
use crate::sql_backend::{Placeholders, RowsAffected, SqlBackend};
use crate::{Result, StoreError};

/// Rows per multi-row `INSERT` (21 parameters each).
const INSERT_CHUNK: usize = 400;
/// Identifiers per `IN (…)` list.
const ID_CHUNK: usize = 900;

/// Which assets to list: by name, after the cursor.
#[derive(Clone, Debug, Default)]
pub struct AssetQuery {
    pub kind: Option<AssetKind>,
    pub after_name: Option<String>,
    pub limit: u32,
}

/// Which findings to list: highest priority first, after the cursor.
#[derive(Clone, Debug, Default)]
pub struct FindingQuery {
    /// Any of these (none: all).
    pub statuses: Vec<FindingStatus>,
    pub severity: Option<FindingSeverity>,
    pub band: Option<Band>,
    pub asset: Option<AssetId>,
    pub scan_type: Option<String>,
    /// A CVE or advisory id (exact, any case).
    pub vulnerability_id: Option<String>,
    pub min_priority: Option<u8>,
    /// Part of the title or component (case-insensitive).
    pub text: Option<String>,
    /// The last (priority, id) of the previous page.
    pub after: Option<(u8, FindingId)>,
    pub limit: u32,
}

/// A finding of a report with its computed priority.
#[derive(Clone, Debug)]
pub struct ImportedFinding {
    pub report: ParsedFinding,
    pub priority: Priority,
}

/// One report to import.
#[derive(Clone, Debug)]
pub struct FindingImport {
    pub id: ImportId,
    pub org: OrgId,
    pub asset: AssetId,
    pub scan_type: String,
    pub format: String,
    pub tool: String,
    pub file_name: Option<String>,
    /// `user:<id>`, `api_key:<id>` or `cli`.
    pub actor: String,
    /// Findings of this scan type missing from the report are closed.
    pub full_report: bool,
    pub findings: Vec<ImportedFinding>,
    pub now: Timestamp,
    pub audit: AuditEntry,
}

/// A status change of a finding by an analyst.
#[derive(Clone, Debug)]
pub struct StatusChange {
    pub status: FindingStatus,
    pub reason: Option<String>,
    pub risk_accepted_until: Option<Timestamp>,
    pub now: Timestamp,
}

#[async_trait]
pub trait FindingStore: Send + Sync {
    /// `Conflict` when the organisation has an asset of that name.
    async fn create_asset(&self, asset: &Asset, audit: &AuditEntry) -> Result<()>;
    async fn get_asset(&self, org: OrgId, id: AssetId) -> Result<Option<Asset>>;
    async fn find_asset_by_name(&self, org: OrgId, name: &str) -> Result<Option<Asset>>;
    async fn list_assets(&self, org: OrgId, query: &AssetQuery) -> Result<Vec<Asset>>;
    /// Writes the asset as changed; `false` when it no longer exists.
    /// Changes an asset and, in the same transaction, the priorities of
    /// its findings in `rescored` (scored again for the asset's new
    /// criticality or exposure). `false` when there is no such asset.
    async fn update_asset(
        &self,
        asset: &Asset,
        rescored: &[Finding],
        audit: &AuditEntry,
    ) -> Result<bool>;
    /// Deletes the asset with its findings and imports.
    async fn delete_asset(&self, org: OrgId, id: AssetId, audit: &AuditEntry) -> Result<bool>;
    /// When each finding of an asset and scan type was first seen.
    async fn first_seen(
        &self,
        org: OrgId,
        asset: AssetId,
        scan_type: &str,
    ) -> Result<HashMap<String, Timestamp>>;
    /// Imports a report in one transaction.
    async fn import_findings(&self, import: &FindingImport) -> Result<ImportCounts>;
    async fn list_findings(&self, org: OrgId, query: &FindingQuery) -> Result<Vec<Finding>>;
    async fn get_finding(&self, org: OrgId, id: FindingId) -> Result<Option<Finding>>;
    /// Sets an analyst's status with its audit entry; the finding as it
    /// is now, or `None` when it does not exist.
    async fn set_finding_status(
        &self,
        org: OrgId,
        id: FindingId,
        change: &StatusChange,
        audit: &AuditEntry,
    ) -> Result<Option<Finding>>;
    async fn list_imports(
        &self,
        org: OrgId,
        asset: Option<AssetId>,
        before: Option<ImportId>,
        limit: u32,
    ) -> Result<Vec<ImportRecord>>;
    async fn get_import(&self, org: OrgId, id: ImportId) -> Result<Option<ImportRecord>>;
    /// Findings in id order after `after` (only those that name an
    /// advisory, which threat intelligence can change, when
    /// `advisories_only`).
    async fn list_findings_by_id(
        &self,
        org: OrgId,
        after: Option<FindingId>,
        limit: u32,
        advisories_only: bool,
    ) -> Result<Vec<Finding>>;
    /// Writes findings' new priorities in one transaction.
    async fn set_priorities(&self, org: OrgId, rescored: &[Finding]) -> Result<()>;
}

const ASSET_COLUMNS: &str =
    "id, org_id, name, kind, identifiers, criticality, exposure, owner, tags, created_at, updated_at";

pub(crate) const FINDING_COLUMNS: &str =
    "id, org_id, asset_id, scan_type, fingerprint, title, severity, \
     status, priority, band, contributions, vulnerability_ids, component, report, report_digest, \
     status_reason, risk_accepted_until, first_seen, last_seen, closed_at, updated_at";

const IMPORT_COLUMNS: &str = "id, org_id, asset_id, scan_type, format, tool, file_name, actor, \
     findings, new, unchanged, reopened, closed, created_at";

pub(crate) fn corrupt(column: &'static str, value: &str) -> StoreError {
    StoreError::Corrupt {
        column,
        detail: value.to_owned(),
    }
}

pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    column: &'static str,
    text: &str,
) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(column, &e.to_string()))
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        column: "json",
        detail: e.to_string(),
    })
}

fn asset_from_row<R, DB>(row: &R) -> Result<Asset>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'r> Decode<'r, DB>,
{
    let kind = row.try_get::<&str, _>("kind")?;
    let exposure = row.try_get::<&str, _>("exposure")?;
    let criticality = row.try_get::<i32, _>("criticality")?;
    Ok(Asset {
        id: parse_column("assets.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("assets.org_id", row.try_get::<&str, _>("org_id")?)?,
        name: row.try_get("name")?,
        kind: AssetKind::parse(kind).ok_or_else(|| corrupt("assets.kind", kind))?,
        identifiers: json_column("assets.identifiers", row.try_get("identifiers")?)?,
        criticality: u8::try_from(criticality)
            .map_err(|_| corrupt("assets.criticality", &criticality.to_string()))?,
        exposure: Exposure::parse(exposure).ok_or_else(|| corrupt("assets.exposure", exposure))?,
        owner: row.try_get("owner")?,
        tags: json_column("assets.tags", row.try_get("tags")?)?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

pub(crate) fn finding_from_row<R, DB>(row: &R) -> Result<Finding>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'r> Decode<'r, DB>,
{
    let severity = row.try_get::<&str, _>("severity")?;
    let status = row.try_get::<&str, _>("status")?;
    let band = row.try_get::<&str, _>("band")?;
    let score = row.try_get::<i32, _>("priority")?;
    Ok(Finding {
        id: parse_column("findings.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("findings.org_id", row.try_get::<&str, _>("org_id")?)?,
        asset_id: parse_column("findings.asset_id", row.try_get::<&str, _>("asset_id")?)?,
        scan_type: row.try_get("scan_type")?,
        status: FindingStatus::parse(status).ok_or_else(|| corrupt("findings.status", status))?,
        severity: FindingSeverity::parse(severity)
            .ok_or_else(|| corrupt("findings.severity", severity))?,
        priority: Priority {
            score: u8::try_from(score)
                .map_err(|_| corrupt("findings.priority", &score.to_string()))?,
            band: Band::parse(band).ok_or_else(|| corrupt("findings.band", band))?,
            contributions: json_column("findings.contributions", row.try_get("contributions")?)?,
        },
        status_reason: row.try_get("status_reason")?,
        risk_accepted_until: row
            .try_get::<Option<i64>, _>("risk_accepted_until")?
            .map(Timestamp),
        first_seen: Timestamp(row.try_get("first_seen")?),
        last_seen: Timestamp(row.try_get("last_seen")?),
        closed_at: row.try_get::<Option<i64>, _>("closed_at")?.map(Timestamp),
        updated_at: Timestamp(row.try_get("updated_at")?),
        due_at: None,
        report: json_column("findings.report", row.try_get("report")?)?,
    })
}

fn import_from_row<R, DB>(row: &R) -> Result<ImportRecord>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
{
    let count = |name: &'static str| -> Result<u64> {
        let value = row.try_get::<i64, _>(name)?;
        u64::try_from(value).map_err(|_| corrupt("finding_imports", &value.to_string()))
    };
    Ok(ImportRecord {
        id: parse_column("finding_imports.id", row.try_get::<&str, _>("id")?)?,
        asset_id: parse_column(
            "finding_imports.asset_id",
            row.try_get::<&str, _>("asset_id")?,
        )?,
        scan_type: row.try_get("scan_type")?,
        format: row.try_get("format")?,
        tool: row.try_get("tool")?,
        file_name: row.try_get("file_name")?,
        actor: row.try_get("actor")?,
        counts: ImportCounts {
            findings: count("findings")?,
            new: count("new")?,
            unchanged: count("unchanged")?,
            reopened: count("reopened")?,
            closed: count("closed")?,
        },
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

/// A finding of the report, ready to write.
struct Prepared<'a> {
    finding: &'a ImportedFinding,
    report_json: String,
    contributions_json: String,
    digest: String,
}

impl<'a> Prepared<'a> {
    fn new(finding: &'a ImportedFinding) -> Result<Self> {
        let report_json = to_json(&finding.report)?;
        let contributions_json = to_json(&finding.priority.contributions)?;
        let digest = digest_of(&report_json, &contributions_json, finding.priority.score);
        Ok(Prepared {
            finding,
            report_json,
            contributions_json,
            digest,
        })
    }

    /// Every advisory id, upper case and space-delimited (` A B `), so a
    /// filter matches any of them.
    fn vulnerability_ids(&self) -> String {
        let mut out = String::from(" ");
        for id in self.finding.report.vulnerability_ids.iter().take(100) {
            out.push_str(&id.to_ascii_uppercase());
            out.push(' ');
        }
        out
    }

    /// The advisories as `vulnerability_ids` lists them, once each.
    fn advisories(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for advisory in self.vulnerability_ids().split_whitespace() {
            if !out.iter().any(|a| a == advisory) {
                out.push(advisory.to_owned());
            }
        }
        out
    }

    fn title(&self) -> String {
        self.finding.report.title.chars().take(1000).collect()
    }
}

/// A digest of what a report said and the priority it gave, to skip
/// rewriting findings that did not change (a fixed-seed 64-bit hash: it
/// must be the same in every process).
fn digest_of(report: &str, contributions: &str, score: u8) -> String {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut hasher = foldhash::quality::FixedState::with_seed(0x5241_4d50).build_hasher();
    report.hash(&mut hasher);
    score.hash(&mut hasher);
    contributions.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Writes findings' new priorities (their reports unchanged).
async fn write_priorities<DB>(
    tx: &mut sqlx::Transaction<'_, DB>,
    org: OrgId,
    findings: &[Finding],
) -> Result<()>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB>,
{
    for finding in findings {
        let report_json = to_json(&finding.report)?;
        let contributions_json = to_json(&finding.priority.contributions)?;
        let digest = digest_of(&report_json, &contributions_json, finding.priority.score);
        sqlx::query(
            "UPDATE findings SET priority = $1, band = $2, contributions = $3, \
             report_digest = $4 WHERE org_id = $5 AND id = $6",
        )
        .bind(i32::from(finding.priority.score))
        .bind(finding.priority.band.as_str())
        .bind(contributions_json)
        .bind(digest)
        .bind(org.to_string())
        .bind(finding.id.to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Merges findings of one report that share a fingerprint (their
/// occurrences add up); first one wins otherwise.
fn merge_by_fingerprint(findings: &[ImportedFinding]) -> Vec<ImportedFinding> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(findings.len());
    let mut merged: Vec<ImportedFinding> = Vec::with_capacity(findings.len());
    for finding in findings {
        match index.get(finding.report.fingerprint.as_str()) {
            Some(&at) => {
                let occurrences = merged[at].report.occurrences.max(1);
                merged[at].report.occurrences =
                    occurrences.saturating_add(finding.report.occurrences.max(1));
            }
            None => {
                index.insert(&finding.report.fingerprint, merged.len());
                merged.push(finding.clone());
            }
        }
    }
    merged
}

#[async_trait::async_trait]
impl<S, DB> FindingStore for S
where
    S: SqlBackend<Db = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    &'static str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB> + Decode<'s, DB>,
    for<'s> Option<&'s str>: Encode<'s, DB>,
    Option<String>: for<'q> Encode<'q, DB>,
    Option<i64>: for<'q> Encode<'q, DB>,
    Option<bool>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    async fn create_asset(&self, asset: &Asset, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        sqlx::query(&format!(
            "INSERT INTO assets ({ASSET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(asset.id.to_string())
        .bind(asset.org_id.to_string())
        .bind(asset.name.clone())
        .bind(asset.kind.as_str())
        .bind(to_json(&asset.identifiers)?)
        .bind(i32::from(asset.criticality))
        .bind(asset.exposure.as_str())
        .bind(asset.owner.clone())
        .bind(to_json(&asset.tags)?)
        .bind(asset.created_at.0)
        .bind(asset.updated_at.0)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, asset.org_id, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_asset(&self, org: OrgId, id: AssetId) -> Result<Option<Asset>> {
        sqlx::query(&format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(asset_from_row)
        .transpose()
    }

    async fn find_asset_by_name(&self, org: OrgId, name: &str) -> Result<Option<Asset>> {
        sqlx::query(&format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE org_id = $1 AND name = $2"
        ))
        .bind(org.to_string())
        .bind(name)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(asset_from_row)
        .transpose()
    }

    async fn list_assets(&self, org: OrgId, query: &AssetQuery) -> Result<Vec<Asset>> {
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let mut sql = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE org_id = {}",
            p.next()
        );
        let mut texts = vec![org.to_string()];
        if let Some(kind) = query.kind {
            sql.push_str(&format!(" AND kind = {}", p.next()));
            texts.push(kind.as_str().to_owned());
        }
        if let Some(after) = &query.after_name {
            sql.push_str(&format!(" AND name > {}", p.next()));
            texts.push(after.clone());
        }
        sql.push_str(&format!(" ORDER BY name LIMIT {}", p.next()));
        let mut q = sqlx::query(&sql);
        for text in texts {
            q = q.bind(text);
        }
        let rows = q
            .bind(crate::shared_sql::page_limit(query.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(asset_from_row).collect()
    }

    async fn update_asset(
        &self,
        asset: &Asset,
        rescored: &[Finding],
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let changed = sqlx::query(
            "UPDATE assets SET name = $1, kind = $2, identifiers = $3, criticality = $4, \
             exposure = $5, owner = $6, tags = $7, updated_at = $8 WHERE org_id = $9 AND id = $10",
        )
        .bind(asset.name.clone())
        .bind(asset.kind.as_str())
        .bind(to_json(&asset.identifiers)?)
        .bind(i32::from(asset.criticality))
        .bind(asset.exposure.as_str())
        .bind(asset.owner.clone())
        .bind(to_json(&asset.tags)?)
        .bind(asset.updated_at.0)
        .bind(asset.org_id.to_string())
        .bind(asset.id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_priorities(&mut tx, asset.org_id, rescored).await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, asset.org_id, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_asset(&self, org: OrgId, id: AssetId, audit: &AuditEntry) -> Result<bool> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        for table in ["findings", "finding_imports"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE org_id = $1 AND asset_id = $2"
            ))
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        let deleted = sqlx::query("DELETE FROM assets WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::audit_sql::insert_audit::<DB>(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn first_seen(
        &self,
        org: OrgId,
        asset: AssetId,
        scan_type: &str,
    ) -> Result<HashMap<String, Timestamp>> {
        use sqlx::Row as _;
        let rows = sqlx::query(
            "SELECT fingerprint, first_seen FROM findings \
             WHERE org_id = $1 AND asset_id = $2 AND scan_type = $3",
        )
        .bind(org.to_string())
        .bind(asset.to_string())
        .bind(scan_type)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("fingerprint")?,
                    Timestamp(r.try_get("first_seen")?),
                ))
            })
            .collect()
    }

    async fn import_findings(&self, import: &FindingImport) -> Result<ImportCounts> {
        use sqlx::Row as _;
        let merged = merge_by_fingerprint(&import.findings);
        let prepared: Vec<Prepared<'_>> =
            merged.iter().map(Prepared::new).collect::<Result<_>>()?;
        let org = import.org.to_string();
        let asset = import.asset.to_string();
        let now = import.now.0;

        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let rows = sqlx::query(&format!(
            "SELECT id, fingerprint, status, report_digest FROM findings \
             WHERE org_id = $1 AND asset_id = $2 AND scan_type = $3{}",
            S::LOCK_ROWS
        ))
        .bind(org.clone())
        .bind(asset.clone())
        .bind(import.scan_type.clone())
        .fetch_all(&mut *tx)
        .await?;
        struct Existing {
            id: String,
            status: FindingStatus,
            digest: String,
            seen: bool,
        }
        let mut existing: HashMap<String, Existing> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let status = row.try_get::<&str, _>("status")?;
            existing.insert(
                row.try_get("fingerprint")?,
                Existing {
                    id: row.try_get("id")?,
                    status: FindingStatus::parse(status)
                        .ok_or_else(|| corrupt("findings.status", status))?,
                    digest: row.try_get("report_digest")?,
                    seen: false,
                },
            );
        }

        let mut counts = ImportCounts {
            findings: import.findings.len() as u64,
            ..ImportCounts::default()
        };
        let mut new_rows: Vec<&Prepared<'_>> = Vec::new();
        let mut touched: Vec<String> = Vec::new();
        // (finding, advisory) rows to write once the findings are in.
        let mut advisories: Vec<(String, String)> = Vec::new();
        for item in &prepared {
            let Some(found) = existing.get_mut(&item.finding.report.fingerprint) else {
                new_rows.push(item);
                continue;
            };
            found.seen = true;
            let reopen = found.status == FindingStatus::Mitigated;
            if reopen {
                counts.reopened += 1;
            } else {
                counts.unchanged += 1;
            }
            if !reopen && found.digest == item.digest {
                touched.push(found.id.clone());
                continue;
            }
            let status = if reopen {
                FindingStatus::Reopened
            } else {
                found.status
            };
            let closed_at: Option<i64> = None;
            sqlx::query(
                "UPDATE findings SET title = $1, severity = $2, status = $3, priority = $4, \
                 band = $5, contributions = $6, vulnerability_ids = $7, component = $8, \
                 report = $9, report_digest = $10, last_seen = $11, closed_at = $12, \
                 updated_at = $13 WHERE org_id = $14 AND id = $15",
            )
            .bind(item.title())
            .bind(item.finding.report.severity_or_default().as_str())
            .bind(status.as_str())
            .bind(i32::from(item.finding.priority.score))
            .bind(item.finding.priority.band.as_str())
            .bind(item.contributions_json.clone())
            .bind(item.vulnerability_ids())
            .bind(item.finding.report.component.clone())
            .bind(item.report_json.clone())
            .bind(item.digest.clone())
            .bind(now)
            .bind(closed_at)
            .bind(now)
            .bind(org.clone())
            .bind(found.id.clone())
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM finding_advisories WHERE org_id = $1 AND finding_id = $2")
                .bind(org.clone())
                .bind(found.id.clone())
                .execute(&mut *tx)
                .await?;
            advisories.extend(item.advisories().into_iter().map(|a| (found.id.clone(), a)));
        }
        for chunk in touched.chunks(ID_CHUNK) {
            let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
            let sql = format!(
                "UPDATE findings SET last_seen = {}, updated_at = {} WHERE org_id = {} AND id IN {}",
                p.next(),
                p.next(),
                p.next(),
                p.rows(1, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(now).bind(now).bind(org.clone());
            for id in chunk {
                q = q.bind(id.clone());
            }
            q.execute(&mut *tx).await?;
        }

        counts.new = new_rows.len() as u64;
        for chunk in new_rows.chunks(INSERT_CHUNK) {
            let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
            let sql = format!(
                "INSERT INTO findings ({FINDING_COLUMNS}) VALUES {}",
                p.rows(chunk.len(), 21)
            );
            let mut q = sqlx::query(&sql);
            for item in chunk {
                let report = &item.finding.report;
                let status = if report.suppressed {
                    FindingStatus::FalsePositive
                } else {
                    FindingStatus::Open
                };
                let reason = report
                    .suppressed
                    .then(|| "suppressed in the scanner's report".to_owned());
                let id = FindingId::new().to_string();
                advisories.extend(item.advisories().into_iter().map(|a| (id.clone(), a)));
                q = q
                    .bind(id)
                    .bind(org.clone())
                    .bind(asset.clone())
                    .bind(import.scan_type.clone())
                    .bind(report.fingerprint.clone())
                    .bind(item.title())
                    .bind(report.severity_or_default().as_str())
                    .bind(status.as_str())
                    .bind(i32::from(item.finding.priority.score))
                    .bind(item.finding.priority.band.as_str())
                    .bind(item.contributions_json.clone())
                    .bind(item.vulnerability_ids())
                    .bind(report.component.clone())
                    .bind(item.report_json.clone())
                    .bind(item.digest.clone())
                    .bind(reason)
                    .bind(None::<i64>)
                    .bind(now)
                    .bind(now)
                    .bind(None::<i64>)
                    .bind(now);
            }
            q.execute(&mut *tx).await.map_err(StoreError::from_write)?;
        }

        for chunk in advisories.chunks(ID_CHUNK / 3) {
            let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
            let sql = format!(
                "INSERT INTO finding_advisories (org_id, advisory, finding_id) VALUES {} \
                 ON CONFLICT DO NOTHING",
                p.rows(chunk.len(), 3)
            );
            let mut q = sqlx::query(&sql);
            for (finding, advisory) in chunk {
                q = q
                    .bind(org.clone())
                    .bind(advisory.clone())
                    .bind(finding.clone());
            }
            q.execute(&mut *tx).await?;
        }

        if import.full_report {
            let missing: Vec<&str> = existing
                .values()
                .filter(|e| !e.seen && e.status.is_active())
                .map(|e| e.id.as_str())
                .collect();
            counts.closed = missing.len() as u64;
            for chunk in missing.chunks(ID_CHUNK) {
                let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
                let sql = format!(
                    "UPDATE findings SET status = 'mitigated', closed_at = {}, updated_at = {} \
                     WHERE org_id = {} AND id IN {}",
                    p.next(),
                    p.next(),
                    p.next(),
                    p.rows(1, chunk.len())
                );
                let mut q = sqlx::query(&sql).bind(now).bind(now).bind(org.clone());
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut *tx).await?;
            }
        }

        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        sqlx::query(&format!(
            "INSERT INTO finding_imports ({IMPORT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(import.id.to_string())
        .bind(org.clone())
        .bind(asset.clone())
        .bind(import.scan_type.clone())
        .bind(import.format.clone())
        .bind(import.tool.clone())
        .bind(import.file_name.clone())
        .bind(import.actor.clone())
        .bind(count(counts.findings))
        .bind(count(counts.new))
        .bind(count(counts.unchanged))
        .bind(count(counts.reopened))
        .bind(count(counts.closed))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        crate::audit_sql::insert_audit::<DB>(&mut tx, import.org, &import.audit).await?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn list_findings(&self, org: OrgId, query: &FindingQuery) -> Result<Vec<Finding>> {
        enum Arg {
            Text(String),
            Int(i64),
        }
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let mut args = Vec::new();
        // One advisory: its findings first (CROSS JOIN keeps SQLite from
        // walking every finding in priority order instead), then sorted.
        let source = match &query.vulnerability_id {
            Some(id) => {
                let (a, b) = (p.next(), p.next());
                args.push(Arg::Text(org.to_string()));
                args.push(Arg::Text(id.trim().to_ascii_uppercase()));
                format!(
                    "(SELECT finding_id FROM finding_advisories WHERE org_id = {a} \
                     AND advisory = {b}) AS named CROSS JOIN findings"
                )
            }
            None => "findings".to_owned(),
        };
        let mut sql = format!(
            "SELECT {FINDING_COLUMNS} FROM {source} WHERE org_id = {}",
            p.next()
        );
        args.push(Arg::Text(org.to_string()));
        if query.vulnerability_id.is_some() {
            sql.push_str(" AND id = named.finding_id");
        }
        if !query.statuses.is_empty() {
            let list = p.rows(1, query.statuses.len());
            sql.push_str(&format!(" AND status IN {list}"));
            for status in &query.statuses {
                args.push(Arg::Text(status.as_str().to_owned()));
            }
        }
        if let Some(severity) = query.severity {
            sql.push_str(&format!(" AND severity = {}", p.next()));
            args.push(Arg::Text(severity.as_str().to_owned()));
        }
        if let Some(band) = query.band {
            sql.push_str(&format!(" AND band = {}", p.next()));
            args.push(Arg::Text(band.as_str().to_owned()));
        }
        if let Some(asset) = query.asset {
            sql.push_str(&format!(" AND asset_id = {}", p.next()));
            args.push(Arg::Text(asset.to_string()));
        }
        if let Some(scan_type) = &query.scan_type {
            sql.push_str(&format!(" AND scan_type = {}", p.next()));
            args.push(Arg::Text(scan_type.clone()));
        }
        if let Some(min) = query.min_priority {
            sql.push_str(&format!(" AND priority >= {}", p.next()));
            args.push(Arg::Int(i64::from(min)));
        }
        if let Some(text) = query
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
            let (a, b) = (p.next(), p.next());
            let like = S::CASELESS_LIKE;
            sql.push_str(&format!(
                " AND (title {like} {a} ESCAPE '\\' OR component {like} {b} ESCAPE '\\')"
            ));
            args.push(Arg::Text(pattern.clone()));
            args.push(Arg::Text(pattern));
        }
        if let Some((priority, id)) = query.after {
            let (a, b, c) = (p.next(), p.next(), p.next());
            sql.push_str(&format!(
                " AND (priority < {a} OR (priority = {b} AND id < {c}))"
            ));
            args.push(Arg::Int(i64::from(priority)));
            args.push(Arg::Int(i64::from(priority)));
            args.push(Arg::Text(id.to_string()));
        }
        sql.push_str(&format!(
            " ORDER BY priority DESC, id DESC LIMIT {}",
            p.next()
        ));
        let mut q = sqlx::query(&sql);
        for arg in args {
            q = match arg {
                Arg::Text(text) => q.bind(text),
                Arg::Int(int) => q.bind(int),
            };
        }
        let rows = q
            .bind(crate::shared_sql::page_limit(query.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(finding_from_row).collect()
    }

    async fn get_finding(&self, org: OrgId, id: FindingId) -> Result<Option<Finding>> {
        sqlx::query(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(finding_from_row)
        .transpose()
    }

    async fn set_finding_status(
        &self,
        org: OrgId,
        id: FindingId,
        change: &StatusChange,
        audit: &AuditEntry,
    ) -> Result<Option<Finding>> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let closed_at = (!change.status.is_active()).then_some(change.now.0);
        let changed = sqlx::query(
            "UPDATE findings SET status = $1, status_reason = $2, risk_accepted_until = $3, \
             closed_at = $4, updated_at = $5, expiry_warned = FALSE WHERE org_id = $6 AND id = $7",
        )
        .bind(change.status.as_str())
        .bind(change.reason.clone())
        .bind(change.risk_accepted_until.map(|t| t.0))
        .bind(closed_at)
        .bind(change.now.0)
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        crate::audit_sql::insert_audit::<DB>(&mut tx, org, audit).await?;
        let row = sqlx::query(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let finding = finding_from_row(&row)?;
        tx.commit().await?;
        Ok(Some(finding))
    }

    async fn list_imports(
        &self,
        org: OrgId,
        asset: Option<AssetId>,
        before: Option<ImportId>,
        limit: u32,
    ) -> Result<Vec<ImportRecord>> {
        let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
        let mut sql = format!(
            "SELECT {IMPORT_COLUMNS} FROM finding_imports WHERE org_id = {}",
            p.next()
        );
        let mut texts = vec![org.to_string()];
        if let Some(asset) = asset {
            sql.push_str(&format!(" AND asset_id = {}", p.next()));
            texts.push(asset.to_string());
        }
        if let Some(before) = before {
            sql.push_str(&format!(" AND id < {}", p.next()));
            texts.push(before.to_string());
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", p.next()));
        let mut q = sqlx::query(&sql);
        for text in texts {
            q = q.bind(text);
        }
        let rows = q
            .bind(crate::shared_sql::page_limit(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(import_from_row).collect()
    }

    async fn get_import(&self, org: OrgId, id: ImportId) -> Result<Option<ImportRecord>> {
        sqlx::query(&format!(
            "SELECT {IMPORT_COLUMNS} FROM finding_imports WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(import_from_row)
        .transpose()
    }

    async fn list_findings_by_id(
        &self,
        org: OrgId,
        after: Option<FindingId>,
        limit: u32,
        advisories_only: bool,
    ) -> Result<Vec<Finding>> {
        let advisories = if advisories_only {
            " AND vulnerability_ids <> ' '"
        } else {
            ""
        };
        let rows = sqlx::query(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings WHERE org_id = $1 AND id > $2{advisories} \
             ORDER BY id LIMIT $3"
        ))
        .bind(org.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(crate::shared_sql::page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(finding_from_row).collect()
    }

    async fn set_priorities(&self, org: OrgId, rescored: &[Finding]) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        write_priorities(&mut tx, org, rescored).await?;
        tx.commit().await?;
        Ok(())
    }
}
