//! The one way records with a version are written: created or modified in a transaction (the
//! caller's, or one of their own), under the row lock, version-checked, each write with its
//! change-log row. A resource brings its SQL through [`Versioned`]; the public representation
//! logged with each change comes from the caller, so that the log shows what a read shows.

use std::fmt::Display;

use chrono::{DateTime, Utc};

use crate::change_log::{self, Audience, Author, NewChange};
use crate::db::{DbConn, write};
use crate::error::{Entity, StoreError};

/// What a record looks like to the world at a version: the body of its `GET`.
pub type Represent<'a, R> = &'a dyn Fn(&R) -> serde_json::Value;

/// What a modification did; `None` as its operation means nothing changed and nothing is written.
pub trait WriteKind {
    fn op(&self) -> Option<&'static str>;
}

/// A plain revision: `true` when something changed (logged as `update`).
impl WriteKind for bool {
    fn op(&self) -> Option<&'static str> {
        self.then_some("update")
    }
}

/// A record stored with a version: its own SQL, the shared rules.
pub trait Versioned: Sized {
    const ENTITY: Entity;
    type Id: Copy + Display;
    /// What a modification may do beyond rewriting the row (a new secret, a deletion).
    type Write: WriteKind;

    fn id(&self) -> Self::Id;
    fn version(&self) -> i64;
    fn updated_at(&self) -> DateTime<Utc>;

    /// The live record, if any.
    fn find(conn: &mut DbConn, id: Self::Id) -> Result<Option<Self>, StoreError>;
    /// Takes the record's row lock for the rest of the transaction (a no-op update): on
    /// PostgreSQL concurrent modifications queue instead of failing the version check, and
    /// SQLite's writer lock already serializes them.
    fn lock(conn: &mut DbConn, id: Self::Id) -> Result<(), StoreError>;
    /// Rewrites the record if it is still at `read_version`; how many rows changed.
    fn overwrite(&self, conn: &mut DbConn, read_version: i64, write: &Self::Write) -> Result<usize, StoreError>;

    /// Who may follow this record's changes in the change feed while it is at this version. The
    /// operator alone unless a resource says otherwise, so a new resource leaks nothing.
    fn audience(&self) -> Audience {
        Audience::Operator
    }
}

/// The parts of a [`Versioned`] implementation every resource writes alike: the accessors of
/// its `id`, `version` and `updated_at` fields, `find` through its module's own `find`, and the
/// row lock on `$table`.
macro_rules! versioned_basics {
    ($table:ident, $id:ty) => {
        fn id(&self) -> $id {
            self.id
        }

        fn version(&self) -> i64 {
            self.version
        }

        fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
            self.updated_at
        }

        fn find(conn: &mut DbConn, id: $id) -> Result<Option<Self>, StoreError> {
            find(conn, id)
        }

        fn lock(conn: &mut DbConn, id: $id) -> Result<(), StoreError> {
            diesel::update($table::table.filter($table::id.eq(id.to_string())))
                .set($table::version.eq($table::version))
                .execute(conn)?;
            Ok(())
        }
    };
}
pub(crate) use versioned_basics;

/// `find(conn, id)`: the record of `$table` with that UUID (stored as text), as `$row` reads it.
macro_rules! find_by_uuid {
    ($table:ident, $row:ty, $record:ty) => {
        pub fn find(conn: &mut DbConn, id: uuid::Uuid) -> Result<Option<$record>, StoreError> {
            $table::table
                .filter($table::id.eq(id.to_string()))
                .select(<$row>::as_select())
                .first(conn)
                .optional()?
                .map(<$row>::into_domain)
                .transpose()
        }
    };
}
pub(crate) use find_by_uuid;

/// `list` and `count` of a resource that organizations own (`$table` has `organization_id`):
/// pages in id order (UUIDv7: the order they were made), one organization's or everyone's.
macro_rules! owned_by_organization {
    ($table:ident, $row:ty, $record:ty) => {
        /// Records in id order after `after`: one organization's, or (`None`) everyone's.
        pub fn list(
            conn: &mut DbConn,
            organization: Option<uuid::Uuid>,
            after: Option<uuid::Uuid>,
            limit: i64,
        ) -> Result<Vec<$record>, StoreError> {
            let mut query = $table::table.select(<$row>::as_select()).order($table::id.asc()).into_boxed();
            if let Some(organization) = organization {
                query = query.filter($table::organization_id.eq(organization.to_string()));
            }
            if let Some(after) = after {
                query = query.filter($table::id.gt(after.to_string()));
            }
            query.limit(limit).load(conn)?.into_iter().map(<$row>::into_domain).collect()
        }

        /// How many records an organization keeps, or (`None`) every organization together.
        pub fn count(conn: &mut DbConn, organization: Option<uuid::Uuid>) -> Result<i64, StoreError> {
            let mut query = $table::table.into_boxed();
            if let Some(organization) = organization {
                query = query.filter($table::organization_id.eq(organization.to_string()));
            }
            Ok(query.count().get_result(conn)?)
        }
    };
}
pub(crate) use owned_by_organization;

/// Stores a new record with its `create` change, in one transaction: `insert` writes its rows.
pub fn create<R: Versioned>(
    conn: &mut DbConn,
    record: &R,
    author: &Author,
    represent: Represent<'_, R>,
    insert: impl FnOnce(&mut DbConn) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    write(conn, |conn| {
        insert(conn)?;
        change_log::append(conn, &creation(record, author, represent))
    })
}

/// Loads a record under its row lock, lets `change` apply a rule to it (reading more through
/// the connection if it must), and stores the result with its change-log row, all in one
/// transaction. Nothing is written when `change` fails or reports nothing changed.
pub fn modify<R: Versioned, E>(
    conn: &mut DbConn,
    id: R::Id,
    author: &Author,
    represent: Represent<'_, R>,
    change: impl FnOnce(&mut DbConn, &mut R) -> Result<R::Write, E>,
) -> Result<R, E>
where
    E: From<StoreError>,
{
    write(conn, |conn| {
        R::lock(conn, id)?;
        let mut record = R::find(conn, id)?.ok_or(StoreError::NotFound(R::ENTITY))?;
        let read_version = record.version();
        let audience_before = record.audience();
        let what = change(conn, &mut record)?;
        let Some(op) = what.op() else {
            return Ok(record);
        };
        if record.overwrite(conn, read_version, &what)? == 0 {
            return Err(StoreError::VersionConflict(R::ENTITY).into());
        }
        // Whoever followed the record before the change hears of it too: a listing taken off the
        // market tells mirrors to take it down.
        let audience = audience_before.and(record.audience());
        log(conn, &record, op, audience, author, represent)?;
        Ok(record)
    })
}

fn log<R: Versioned>(
    conn: &mut DbConn,
    record: &R,
    op: &str,
    audience: Audience,
    author: &Author,
    represent: Represent<'_, R>,
) -> Result<(), StoreError> {
    change_log::append(conn, &change(record, op, audience, author, represent))
}

/// The change a write of `record` logs.
fn change<'a, R: Versioned>(
    record: &R,
    op: &'a str,
    audience: Audience,
    author: &'a Author,
    represent: Represent<'_, R>,
) -> NewChange<'a> {
    NewChange {
        entity: R::ENTITY.as_str(),
        entity_id: record.id().to_string(),
        op,
        version: record.version(),
        audience,
        author,
        at: record.updated_at(),
        data: represent(record),
    }
}

/// The change [`create`] logs with a new record.
pub fn creation<'a, R: Versioned>(record: &R, author: &'a Author, represent: Represent<'_, R>) -> NewChange<'a> {
    change(record, "create", record.audience(), author, represent)
}
