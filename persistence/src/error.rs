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
    /// Other requests held what this one needed: every pooled connection or the SQLite file,
    /// longer than a request may wait, or rows PostgreSQL resolved a deadlock over by rolling
    /// this transaction back.
    #[error("database busy with other requests")]
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

    /// Failures the same request sent again may get through are not 500s. A deadlock's victim
    /// or a serialization failure is `Busy` (503 with `Retry-After`). A connection cut between
    /// two queries is `Unreachable`, whether libpq finds it closed as the next query is sent or
    /// as its answer is read (the outage test met a 500 on the send, once in three runs).
    #[test]
    fn database_errors_map_to_what_the_caller_can_do() {
        let cases = [
            (DatabaseErrorKind::Unknown, "deadlock detected", "busy"),
            (DatabaseErrorKind::SerializationFailure, "could not serialize access", "busy"),
            (DatabaseErrorKind::UnableToSendCommand, "SSL SYSCALL error: EOF detected", "unreachable"),
            (DatabaseErrorKind::ClosedConnection, "server closed the connection unexpectedly", "unreachable"),
            (DatabaseErrorKind::Unknown, "division by zero", "database"),
        ];
        for (kind, message, expected) in cases {
            let mapped = match StoreError::from(database_error(kind, message)) {
                StoreError::Busy => "busy",
                StoreError::Unreachable => "unreachable",
                StoreError::Database(_) => "database",
                other => panic!("{message}: {other:?}"),
            };
            assert_eq!(mapped, expected, "{message}");
        }
    }
}
