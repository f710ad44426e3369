use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// Another write changed the record since it was read.
    #[error("{entity} was changed by another write")]
    VersionConflict { entity: &'static str },
    /// A uniqueness rule of the data (not of the database's internals) was hit.
    #[error("duplicate {what}")]
    Duplicate { what: &'static str },
    #[error("database unavailable: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database error: {0}")]
    Database(#[source] DieselError),
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored record no longer reads as its type: a bug or a hand edit, never the client's fault.
    #[error("stored {entity} {id} is unreadable: {reason}")]
    Corrupt { entity: &'static str, id: String, reason: String },
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        StoreError::Database(error)
    }
}

/// Maps a unique violation to `Duplicate { what }`, and passes other errors through.
pub(crate) fn on_unique_violation(what: &'static str) -> impl FnOnce(DieselError) -> StoreError {
    move |error| match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Duplicate { what },
        other => StoreError::Database(other),
    }
}
