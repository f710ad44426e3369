use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};

/// The kinds of record a lookup can miss or a versioned write can race on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Listing,
    Organization,
    ApiClient,
    Interest,
    Contract,
    Center,
    Webhook,
    /// A saved search or match subscription (`/v1/searches`).
    Search,
}

impl Entity {
    pub const ALL: [Entity; 8] = [
        Entity::Listing,
        Entity::Organization,
        Entity::ApiClient,
        Entity::Interest,
        Entity::Contract,
        Entity::Center,
        Entity::Webhook,
        Entity::Search,
    ];

    /// The name in the change log's `entity` column and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Listing => "listing",
            Entity::Organization => "organization",
            Entity::ApiClient => "api_client",
            Entity::Interest => "interest",
            Entity::Contract => "contract",
            Entity::Center => "center",
            Entity::Webhook => "webhook",
            Entity::Search => "search",
        }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every uniqueness rule of the data (not the generated primary keys), named after its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Constraint {
    /// One listing per `(source.exchange, source.external_id)`.
    ListingSource,
    /// One organization per tax code.
    OrganizationTaxCode,
    /// One holder per source exchange name.
    SourceExchange,
}

impl Constraint {
    pub const ALL: [Constraint; 3] =
        [Constraint::ListingSource, Constraint::OrganizationTaxCode, Constraint::SourceExchange];

    /// The index's name on PostgreSQL.
    pub fn index_name(self) -> &'static str {
        match self {
            Constraint::ListingSource => "listings_source",
            Constraint::OrganizationTaxCode => "organizations_tax_code",
            Constraint::SourceExchange => "source_exchanges_pkey",
        }
    }

    /// The columns as SQLite names them in `UNIQUE constraint failed: ...`.
    fn sqlite_columns(self) -> &'static str {
        match self {
            Constraint::ListingSource => "listings.source_exchange, listings.source_external_id",
            Constraint::OrganizationTaxCode => "organizations.tax_code",
            Constraint::SourceExchange => "source_exchanges.code",
        }
    }

    /// Which rule a unique violation broke, from what either backend reports.
    fn of(info: &dyn DatabaseErrorInformation) -> Option<Constraint> {
        Constraint::ALL.into_iter().find(|c| match info.constraint_name() {
            Some(name) => name == c.index_name(),
            None => info.message().strip_prefix("UNIQUE constraint failed: ") == Some(c.sqlite_columns()),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(Entity),
    /// Another write changed the record since it was read.
    #[error("{0} was changed by another write")]
    VersionConflict(Entity),
    /// The record is a mirror of another hub's, written by `techex sync` alone.
    #[error("{entity} is mirrored from {hub}")]
    Mirrored { entity: Entity, hub: String },
    /// A uniqueness rule of the data (not of the database's internals) was hit.
    #[error("duplicate {0:?}")]
    Duplicate(Constraint),
    #[error("database unavailable: {0}")]
    Pool(#[from] r2d2::Error),
    /// Other writers held what this write needed: the SQLite file, longer than a write may wait,
    /// or rows PostgreSQL resolved a deadlock over by rolling this transaction back.
    #[error("database busy with other writes")]
    Busy,
    /// The database cannot be reached: the circuit is open, or the connection broke mid-query.
    #[error("database unreachable")]
    Unreachable,
    #[error("database error: {0}")]
    Database(#[source] DieselError),
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored record no longer reads as its type: a bug or a hand edit, never the client's fault.
    #[error("stored {entity} {id} is unreadable: {reason}")]
    Corrupt { entity: &'static str, id: String, reason: String },
}

impl From<DieselError> for StoreError {
    /// A unique violation of a known rule becomes `Duplicate`; anything else stays a database error.
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => match Constraint::of(info.as_ref())
            {
                Some(constraint) => StoreError::Duplicate(constraint),
                None => StoreError::Database(error),
            },
            // Broken mid-query, or found broken as the query was sent (libpq's send failed).
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => StoreError::Unreachable,
            // SQLITE_BUSY past the busy timeout: another process (the CLI) held the file.
            DieselError::DatabaseError(_, info) if info.message().starts_with("database is locked") => StoreError::Busy,
            // PostgreSQL rolled this transaction back so that a concurrent one could go on (two
            // batches locking the same rows or inserting the same new search words in opposite
            // orders): sending the request again succeeds. The message is matched as PostgreSQL
            // writes it with `lc_messages` in English, the default of its packages.
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => StoreError::Busy,
            DieselError::DatabaseError(_, info) if info.message().starts_with("deadlock detected") => StoreError::Busy,
            _ => StoreError::Database(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    /// A transaction PostgreSQL chose as a deadlock's victim is answered 503 with `Retry-After`
    /// (see the API's mapping of `Busy`), not 500: the same request sent again goes through.
    #[test]
    fn a_deadlock_or_serialization_failure_is_busy_not_a_database_error() {
        let deadlock = database_error(DatabaseErrorKind::Unknown, "deadlock detected");
        assert!(matches!(StoreError::from(deadlock), StoreError::Busy));
        let serialization = database_error(DatabaseErrorKind::SerializationFailure, "could not serialize access");
        assert!(matches!(StoreError::from(serialization), StoreError::Busy));
        let other = database_error(DatabaseErrorKind::Unknown, "division by zero");
        assert!(matches!(StoreError::from(other), StoreError::Database(_)));
    }

    /// A connection cut between two queries may fail the next one as it is sent rather than as
    /// its answer is read (libpq finds the socket closed first): an outage either way, answered
    /// 503 with `Retry-After` (the outage test met a 500 here, once in three runs).
    #[test]
    fn a_query_that_cannot_be_sent_is_an_unreachable_database() {
        let unsent = database_error(DatabaseErrorKind::UnableToSendCommand, "SSL SYSCALL error: EOF detected");
        assert!(matches!(StoreError::from(unsent), StoreError::Unreachable));
        let closed = database_error(DatabaseErrorKind::ClosedConnection, "server closed the connection unexpectedly");
        assert!(matches!(StoreError::from(closed), StoreError::Unreachable));
    }
}
