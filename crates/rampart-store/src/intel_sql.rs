//! Threat intelligence (the [`IntelStore`] interface): the KEV catalogue
//! and EPSS scores, each replaced whole in one transaction when a new
//! release is loaded, and looked up by CVE when findings are scored.
//! Reference data shared by every organisation, so no call takes one.

use std::collections::HashMap;

use async_trait::async_trait;
use rampart_core::intel::{CveIntel, EpssScore, IntelSource, IntelSourceName, KevEntry};
use rampart_core::Timestamp;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::sql_backend::{Placeholders, SqlBackend};
use crate::{Result, StoreError};

/// Rows per multi-row `INSERT` of EPSS scores (3 parameters each).
const EPSS_CHUNK: usize = 2000;
/// Rows per multi-row `INSERT` of KEV entries (7 parameters each).
const KEV_CHUNK: usize = 500;
/// CVEs per `IN (…)` list.
const CVE_CHUNK: usize = 900;

#[async_trait]
pub trait IntelStore: Send + Sync {
    /// Replaces the KEV catalogue and records its release.
    async fn replace_kev(&self, source: &IntelSource, entries: &[KevEntry]) -> Result<()>;
    /// Replaces the EPSS scores and records their release.
    async fn replace_epss(&self, source: &IntelSource, scores: &[EpssScore]) -> Result<()>;
    /// The releases loaded, KEV first.
    async fn intel_sources(&self) -> Result<Vec<IntelSource>>;
    /// What is known about each CVE (upper case); unknown ones are absent.
    async fn intel_for(&self, cves: &[String]) -> Result<HashMap<String, CveIntel>>;
}

async fn record_source<DB>(tx: &mut sqlx::Transaction<'_, DB>, source: &IntelSource) -> Result<()>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB>,
    Option<String>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB>,
{
    sqlx::query("DELETE FROM intel_sources WHERE source = $1")
        .bind(source.source.as_str())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO intel_sources (source, version, released, row_count, loaded_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(source.source.as_str())
    .bind(source.version.clone())
    .bind(source.released.clone())
    .bind(i64::try_from(source.rows).unwrap_or(i64::MAX))
    .bind(source.loaded_at.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn corrupt(column: &'static str, value: &str) -> StoreError {
    StoreError::Corrupt {
        column,
        detail: value.to_owned(),
    }
}

#[async_trait]
impl<S, DB> IntelStore for S
where
    S: SqlBackend<Db = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    &'static str: ColumnIndex<DB::Row>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB> + Decode<'s, DB>,
    Option<String>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    f64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
{
    async fn replace_kev(&self, source: &IntelSource, entries: &[KevEntry]) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        sqlx::query("DELETE FROM intel_kev")
            .execute(&mut *tx)
            .await?;
        let mut seen = std::collections::HashSet::with_capacity(entries.len());
        let unique: Vec<&KevEntry> = entries.iter().filter(|e| seen.insert(&e.cve)).collect();
        for chunk in unique.chunks(KEV_CHUNK) {
            let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
            let sql = format!(
                "INSERT INTO intel_kev (cve, vendor, product, name, date_added, due_date, \
                 ransomware) VALUES {}",
                p.rows(chunk.len(), 7)
            );
            let mut q = sqlx::query(&sql);
            for entry in chunk {
                q = q
                    .bind(entry.cve.clone())
                    .bind(entry.vendor.clone())
                    .bind(entry.product.clone())
                    .bind(entry.name.clone())
                    .bind(entry.date_added.clone())
                    .bind(entry.due_date.clone())
                    .bind(entry.ransomware);
            }
            q.execute(&mut *tx).await?;
        }
        record_source(&mut tx, source).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn replace_epss(&self, source: &IntelSource, scores: &[EpssScore]) -> Result<()> {
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        sqlx::query("DELETE FROM intel_epss")
            .execute(&mut *tx)
            .await?;
        let mut seen = std::collections::HashSet::with_capacity(scores.len());
        let unique: Vec<&EpssScore> = scores.iter().filter(|s| seen.insert(&s.cve)).collect();
        let mut full_sql: Option<String> = None;
        for chunk in unique.chunks(EPSS_CHUNK) {
            let rows = || {
                let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
                format!(
                    "INSERT INTO intel_epss (cve, epss, percentile) VALUES {}",
                    p.rows(chunk.len(), 3)
                )
            };
            // Every chunk but the last has the same text: build it once.
            let sql = if chunk.len() == EPSS_CHUNK {
                full_sql.get_or_insert_with(rows).clone()
            } else {
                rows()
            };
            let mut q = sqlx::query(&sql);
            for score in chunk {
                q = q
                    .bind(score.cve.as_str())
                    .bind(score.epss)
                    .bind(score.percentile);
            }
            q.execute(&mut *tx).await?;
        }
        record_source(&mut tx, source).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn intel_sources(&self) -> Result<Vec<IntelSource>> {
        use sqlx::Row as _;
        let rows = sqlx::query(
            "SELECT source, version, released, row_count, loaded_at FROM intel_sources \
             ORDER BY source DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let name = row.try_get::<&str, _>("source")?;
                let count = row.try_get::<i64, _>("row_count")?;
                Ok(IntelSource {
                    source: IntelSourceName::parse(name)
                        .ok_or_else(|| corrupt("intel_sources.source", name))?,
                    version: row.try_get("version")?,
                    released: row.try_get("released")?,
                    rows: u64::try_from(count)
                        .map_err(|_| corrupt("intel_sources.row_count", &count.to_string()))?,
                    loaded_at: Timestamp(row.try_get("loaded_at")?),
                })
            })
            .collect()
    }

    async fn intel_for(&self, cves: &[String]) -> Result<HashMap<String, CveIntel>> {
        use sqlx::Row as _;
        let mut known: HashMap<String, CveIntel> = HashMap::new();
        let mut wanted: Vec<&String> = cves.iter().collect();
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(CVE_CHUNK) {
            let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
            let sql = format!(
                "SELECT cve, vendor, product, name, date_added, due_date, ransomware \
                 FROM intel_kev WHERE cve IN {}",
                p.rows(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for cve in chunk {
                q = q.bind(cve.as_str());
            }
            for row in q.fetch_all(self.pool()).await? {
                let entry = KevEntry {
                    cve: row.try_get("cve")?,
                    vendor: row.try_get("vendor")?,
                    product: row.try_get("product")?,
                    name: row.try_get("name")?,
                    date_added: row.try_get("date_added")?,
                    due_date: row.try_get("due_date")?,
                    ransomware: row.try_get("ransomware")?,
                };
                let cve = entry.cve.clone();
                known.entry(cve).or_default().kev = Some(entry);
            }
            let mut p = Placeholders::new(S::NUMBERED_PARAMETERS);
            let sql = format!(
                "SELECT cve, epss, percentile FROM intel_epss WHERE cve IN {}",
                p.rows(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for cve in chunk {
                q = q.bind(cve.as_str());
            }
            for row in q.fetch_all(self.pool()).await? {
                let score = EpssScore {
                    cve: row.try_get("cve")?,
                    epss: row.try_get("epss")?,
                    percentile: row.try_get("percentile")?,
                };
                let cve = score.cve.clone();
                known.entry(cve).or_default().epss = Some(score);
            }
        }
        Ok(known)
    }
}
