//! What the SQL both backends share needs from each of them: its pool, its
//! migrations and the few statements that differ.
//!
//! The implementations in `shared_sql`, `audit_sql`, `incidents_sql`,
//! `rules_sql`, `settings_sql` and `validation_sql` are written once, for any
//! `S: SqlBackend`. PostgreSQL and SQLite accept the same statements there
//! (`$N` parameters, `RETURNING`, `ON CONFLICT`). Each of those `impl`
//! blocks repeats one `where` list: it names what sqlx must provide for the
//! backend's database (an executor for its connections, and encoding and
//! decoding of `&str`, `String`, `i64`, `i32` and `bool`), because Rust does
//! not carry such bounds from a trait to its users.

use std::future::Future;

use sqlx::migrate::Migrator;

use crate::{Backend, Result};

/// A database the shared SQL runs on.
pub trait SqlBackend: Send + Sync + 'static {
    type Db: sqlx::Database;

    const BACKEND: Backend;
    /// Opens a transaction that will write. SQLite takes its write lock at
    /// once (`BEGIN IMMEDIATE`), so two such transactions never deadlock
    /// upgrading their locks.
    const BEGIN_WRITE: &'static str;
    /// Ends a `SELECT` of rows the transaction will change: PostgreSQL locks
    /// them (`FOR UPDATE`); SQLite's write lock already excludes writers.
    const LOCK_ROWS: &'static str;
    /// Ends a `SELECT` of rows to claim: PostgreSQL locks them and passes
    /// over rows another transaction holds (`FOR UPDATE SKIP LOCKED`), so
    /// workers on many nodes claim different jobs; SQLite's single writer
    /// already claims one batch at a time.
    const SKIP_LOCKED: &'static str;
    /// A `LIKE` that ignores case: SQLite's own `LIKE` already does (for
    /// ASCII, as its `LOWER` does), so a search reads the bare column
    /// (from an index that carries it); PostgreSQL's `ILIKE`.
    const CASELESS_LIKE: &'static str;
    /// Whether statements number their parameters (`$1`) rather than
    /// leaving them anonymous (`?`, bound in order): see [`Placeholders`].
    const NUMBERED_PARAMETERS: bool;

    fn pool(&self) -> &sqlx::Pool<Self::Db>;
    fn migrator(&self) -> &Migrator;
    /// Applies the event storage's own migrations, where it has any.
    fn migrate_events(&self) -> impl Future<Output = Result<()>> + Send;
    fn event_migrations_current(&self) -> impl Future<Output = Result<bool>> + Send;
    /// Runs before the pool closes on a clean stop.
    fn before_close(&self) -> impl Future<Output = ()> + Send;
}

/// How many rows a statement changed: sqlx gives each backend's result an
/// inherent method of its own, and no trait.
pub trait RowsAffected {
    fn rows_affected(&self) -> u64;
}

impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::sqlite::SqliteQueryResult::rows_affected(self)
    }
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::postgres::PgQueryResult::rows_affected(self)
    }
}

/// Parameter placeholders, written in the order their values are bound:
/// `$1, $2, …` on PostgreSQL, `?` on SQLite. (sqlx looks up each of
/// SQLite's named or numbered parameters by its name, and SQLite finds a
/// parameter's name by scanning the statement's list of them: quadratic in
/// a batch insert's thousands of values. Anonymous ones are bound in order.)
pub(crate) struct Placeholders {
    numbered: bool,
    bound: usize,
}

impl Placeholders {
    pub(crate) fn new(numbered: bool) -> Self {
        Self { numbered, bound: 0 }
    }

    /// The next parameter.
    pub(crate) fn next(&mut self) -> String {
        self.bound += 1;
        if self.numbered {
            format!("${}", self.bound)
        } else {
            "?".to_owned()
        }
    }

    /// `rows` parenthesised lists of `width` parameters, comma-separated.
    pub(crate) fn rows(&mut self, rows: usize, width: usize) -> String {
        let mut sql = String::with_capacity(rows * (width * 5 + 4));
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..width {
                if column > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&self.next());
            }
            sql.push(')');
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::Placeholders;

    #[test]
    fn placeholders_number_on_postgres_and_stay_anonymous_on_sqlite() {
        let mut numbered = Placeholders::new(true);
        assert_eq!(numbered.next(), "$1");
        assert_eq!(numbered.rows(2, 2), "($2, $3), ($4, $5)");
        assert_eq!(numbered.next(), "$6");
        let mut anonymous = Placeholders::new(false);
        assert_eq!(anonymous.next(), "?");
        assert_eq!(anonymous.rows(1, 3), "(?, ?, ?)");
    }
}
