//! The schema migrations of each backend, embedded in the binary.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

/// One migration: version, description, SQL.
type Source = (i64, &'static str, &'static str);

const SQLITE: &[Source] = &[(
    1,
    "foundation",
    include_str!("../migrations/sqlite/0001_foundation.sql"),
)];

const POSTGRES: &[Source] = &[(
    1,
    "foundation",
    include_str!("../migrations/postgres/0001_foundation.sql"),
)];

pub(crate) fn sqlite() -> Migrator {
    build(SQLITE)
}

pub(crate) fn postgres() -> Migrator {
    build(POSTGRES)
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
