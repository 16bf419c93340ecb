//! The schema migrations of each backend, embedded in the binary.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

/// One migration: version, description, SQL.
type Source = (i64, &'static str, &'static str);

const SQLITE: &[Source] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "validation",
        include_str!("../migrations/sqlite/0002_validation.sql"),
    ),
    (
        3,
        "organisation settings",
        include_str!("../migrations/sqlite/0003_org_settings.sql"),
    ),
    (
        4,
        "detection, incidents, audit",
        include_str!("../migrations/sqlite/0004_detection.sql"),
    ),
    (
        5,
        "detection field mappings",
        include_str!("../migrations/sqlite/0005_field_mappings.sql"),
    ),
    (
        6,
        "API key creator deleted",
        include_str!("../migrations/sqlite/0006_api_key_creator.sql"),
    ),
    (
        7,
        "incident response times",
        include_str!("../migrations/sqlite/0007_incident_response_times.sql"),
    ),
    (
        8,
        "incident status index",
        include_str!("../migrations/sqlite/0008_incident_status_index.sql"),
    ),
    (
        9,
        "jobs",
        include_str!("../migrations/sqlite/0009_jobs.sql"),
    ),
    (
        10,
        "feature flags",
        include_str!("../migrations/sqlite/0010_feature_flags.sql"),
    ),
    (
        11,
        "feedback",
        include_str!("../migrations/sqlite/0011_feedback.sql"),
    ),
    (
        12,
        "notifications",
        include_str!("../migrations/sqlite/0012_notifications.sql"),
    ),
    (
        13,
        "second factors and one-time challenges",
        include_str!("../migrations/sqlite/0013_auth_factors.sql"),
    ),
    (
        14,
        "organisations may require two factors",
        include_str!("../migrations/sqlite/0014_require_mfa.sql"),
    ),
    (
        15,
        "assets, findings and imports",
        include_str!("../migrations/sqlite/0015_vulnerabilities.sql"),
    ),
    (
        16,
        "threat intelligence: KEV and EPSS",
        include_str!("../migrations/sqlite/0016_threat_intel.sql"),
    ),
    (
        17,
        "scan scope and scans",
        include_str!("../migrations/sqlite/0017_scans.sql"),
    ),
    (
        18,
        "finding policy, breach and expiry marks",
        include_str!("../migrations/sqlite/0018_finding_policy.sql"),
    ),
    (
        19,
        "scan schedules",
        include_str!("../migrations/sqlite/0019_scan_schedules.sql"),
    ),
    (
        20,
        "findings by band",
        include_str!("../migrations/sqlite/0020_findings_by_band.sql"),
    ),
    (
        21,
        "finding advisories",
        include_str!("../migrations/sqlite/0021_finding_advisories.sql"),
    ),
    (
        22,
        "report uploads",
        include_str!("../migrations/sqlite/0022_report_uploads.sql"),
    ),
    (
        23,
        "watchlists",
        include_str!("../migrations/sqlite/0023_watchlists.sql"),
    ),
    (
        24,
        "phishing",
        include_str!("../migrations/sqlite/0024_phishing.sql"),
    ),
    (
        25,
        "saved hunts",
        include_str!("../migrations/sqlite/0025_saved_hunts.sql"),
    ),
];

const POSTGRES: &[Source] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "events",
        include_str!("../migrations/postgres/0002_events.sql"),
    ),
    (
        3,
        "validation",
        include_str!("../migrations/postgres/0003_validation.sql"),
    ),
    (
        4,
        "organisation settings",
        include_str!("../migrations/postgres/0004_org_settings.sql"),
    ),
    (
        5,
        "detection, incidents, audit",
        include_str!("../migrations/postgres/0005_detection.sql"),
    ),
    (
        6,
        "event ids by BRIN",
        include_str!("../migrations/postgres/0006_events_id_brin.sql"),
    ),
    (
        7,
        "event block summaries",
        include_str!("../migrations/postgres/0007_event_block_summaries.sql"),
    ),
    (
        8,
        "hourly event partitions, source b-tree on seal",
        include_str!("../migrations/postgres/0008_events_hourly_src_ip_on_seal.sql"),
    ),
    (
        9,
        "detection field mappings",
        include_str!("../migrations/postgres/0009_field_mappings.sql"),
    ),
    (
        10,
        "API key creator deleted",
        include_str!("../migrations/postgres/0010_api_key_creator.sql"),
    ),
    (
        11,
        "incident response times",
        include_str!("../migrations/postgres/0011_incident_response_times.sql"),
    ),
    (
        12,
        "incident status index",
        include_str!("../migrations/postgres/0012_incident_status_index.sql"),
    ),
    (
        13,
        "jobs",
        include_str!("../migrations/postgres/0013_jobs.sql"),
    ),
    (
        14,
        "feature flags",
        include_str!("../migrations/postgres/0014_feature_flags.sql"),
    ),
    (
        15,
        "feedback",
        include_str!("../migrations/postgres/0015_feedback.sql"),
    ),
    (
        16,
        "notifications",
        include_str!("../migrations/postgres/0016_notifications.sql"),
    ),
    (
        17,
        "second factors and one-time challenges",
        include_str!("../migrations/postgres/0017_auth_factors.sql"),
    ),
    (
        18,
        "organisations may require two factors",
        include_str!("../migrations/postgres/0018_require_mfa.sql"),
    ),
    (
        19,
        "assets, findings and imports",
        include_str!("../migrations/postgres/0019_vulnerabilities.sql"),
    ),
    (
        20,
        "threat intelligence: KEV and EPSS",
        include_str!("../migrations/postgres/0020_threat_intel.sql"),
    ),
    (
        21,
        "scan scope and scans",
        include_str!("../migrations/postgres/0021_scans.sql"),
    ),
    (
        22,
        "finding policy, breach and expiry marks",
        include_str!("../migrations/postgres/0022_finding_policy.sql"),
    ),
    (
        23,
        "scan schedules",
        include_str!("../migrations/postgres/0023_scan_schedules.sql"),
    ),
    (
        24,
        "findings by band",
        include_str!("../migrations/postgres/0024_findings_by_band.sql"),
    ),
    (
        25,
        "finding advisories",
        include_str!("../migrations/postgres/0025_finding_advisories.sql"),
    ),
    (
        26,
        "report uploads",
        include_str!("../migrations/postgres/0026_report_uploads.sql"),
    ),
    (
        27,
        "watchlists",
        include_str!("../migrations/postgres/0027_watchlists.sql"),
    ),
    (
        28,
        "phishing",
        include_str!("../migrations/postgres/0028_phishing.sql"),
    ),
    (
        29,
        "saved hunts",
        include_str!("../migrations/postgres/0029_saved_hunts.sql"),
    ),
];

/// The embedded store's event database (a file of its own).
const SQLITE_EVENTS: &[Source] = &[
    (
        1,
        "event blocks",
        include_str!("../migrations/sqlite-events/0001_event_blocks.sql"),
    ),
    (
        2,
        "summary index",
        include_str!("../migrations/sqlite-events/0002_summary_index.sql"),
    ),
    (
        3,
        "block postings",
        include_str!("../migrations/sqlite-events/0003_block_postings.sql"),
    ),
    (
        4,
        "block rollups",
        include_str!("../migrations/sqlite-events/0004_block_rollups.sql"),
    ),
];

pub(crate) fn sqlite() -> Migrator {
    build(SQLITE)
}

pub(crate) fn postgres() -> Migrator {
    build(POSTGRES)
}

pub(crate) fn sqlite_events() -> Migrator {
    build(SQLITE_EVENTS)
}

/// True when every migration of `migrator` has been applied on `pool`.
pub(crate) async fn current(pool: &sqlx::SqlitePool, migrator: &Migrator) -> crate::Result<bool> {
    let applied = sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MAX(version) FROM _sqlx_migrations WHERE success",
    )
    .fetch_one(pool)
    .await;
    match applied {
        Ok(version) => Ok(version.unwrap_or(0) >= latest_version(migrator)),
        // No migrations table yet: nothing has been applied.
        Err(sqlx::Error::Database(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn build(sources: &[Source]) -> Migrator {
    let migrations = sources
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

/// The newest version a migrator knows.
pub(crate) fn latest_version(migrator: &Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}
