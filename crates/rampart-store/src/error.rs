//! The store's one error type.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; `what` names it for the client
    /// (e.g. "a user with this e-mail").
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    /// A row holds a value this build cannot read.
    #[error("stored value of {column} is invalid: {detail}")]
    Corrupt {
        column: &'static str,
        detail: String,
    },
    #[error("unsupported database URL scheme '{0}' (expected postgres:// or sqlite://)")]
    InvalidUrl(String),
    #[error("cannot open the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`] by the
    /// constraint's name, everything else to [`StoreError::Database`].
    pub(crate) fn from_write(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.is_unique_violation() {
                let text = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
                let what = if text.contains("users_email_key") || text.contains("users.email") {
                    "a user with this e-mail"
                } else if text.contains("organisations_name_key")
                    || text.contains("organisations.name")
                {
                    "an organisation with this name"
                } else if text.contains("validation_rules_name_key")
                    || text.contains("validation_rules.name")
                {
                    "a validation rule with this name"
                } else if text.contains("detection_rules_pkey") || text.contains("detection_rules.")
                {
                    "a rule with this id"
                } else {
                    "a record with these values"
                };
                return StoreError::Conflict { what };
            }
        }
        StoreError::Database(err)
    }
}

/// A conflict is the caller's; anything else is the system's (logged by
/// the edge, never sent).
impl From<StoreError> for rampart_core::Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict { what } => {
                rampart_core::Error::conflict("conflict", format!("{what} already exists"))
            }
            other => rampart_core::Error::internal(&other),
        }
    }
}
