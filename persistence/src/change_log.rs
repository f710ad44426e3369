//! The change log: one row per write, appended in the write's own transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::StoreError;
use crate::schema::change_log;

/// Who made a write: an API client (`client:<id>`) acting for its organization, the operator
/// on the command line (`cli`), or the hub itself (`system`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub actor: String,
    pub organization: Option<String>,
}

impl Author {
    pub fn client(client_id: uuid::Uuid, organization_id: uuid::Uuid) -> Self {
        Author { actor: format!("client:{client_id}"), organization: Some(organization_id.to_string()) }
    }

    /// Someone without a token (an anonymous sender of an expression of interest).
    pub fn anonymous() -> Self {
        Author { actor: "anonymous".to_owned(), organization: None }
    }

    pub fn command_line() -> Self {
        Author { actor: "cli".to_owned(), organization: None }
    }

    /// The hub itself, for changes no caller asked for (expiry).
    pub fn system() -> Self {
        Author { actor: "system".to_owned(), organization: None }
    }
}

/// One change as recorded: which record, what happened to it, its version after the write, who
/// wrote it, when, and the record as written (a tombstone carries the last state).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub seq: i64,
    pub entity: String,
    pub entity_id: String,
    pub op: String,
    pub version: i64,
    pub actor: Option<String>,
    pub actor_organization: Option<String>,
    pub at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// A change about to be appended.
#[derive(Debug, Clone)]
pub struct NewChange<'a> {
    pub entity: &'static str,
    pub entity_id: String,
    pub op: &'a str,
    pub version: i64,
    pub author: &'a Author,
    pub at: DateTime<Utc>,
    pub data: serde_json::Value,
}

#[derive(Insertable)]
#[diesel(table_name = change_log)]
struct NewChangeRow<'a> {
    entity: &'a str,
    entity_id: &'a str,
    op: &'a str,
    version: i64,
    actor: Option<&'a str>,
    actor_organization: Option<&'a str>,
    at: NaiveDateTime,
    data: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = change_log)]
struct ChangeRow {
    seq: i64,
    entity: String,
    entity_id: String,
    op: String,
    version: i64,
    actor: Option<String>,
    at: NaiveDateTime,
    data: String,
    actor_organization: Option<String>,
}

/// Appends one change; call it inside the transaction of the write it records.
pub fn append(conn: &mut DbConn, change: &NewChange<'_>) -> Result<(), StoreError> {
    diesel::insert_into(change_log::table)
        .values(NewChangeRow {
            entity: change.entity,
            entity_id: &change.entity_id,
            op: change.op,
            version: change.version,
            actor: Some(&change.author.actor),
            actor_organization: change.author.organization.as_deref(),
            at: change.at.naive_utc(),
            data: change.data.to_string(),
        })
        .execute(conn)?;
    Ok(())
}

/// Every change of one record, oldest first.
pub fn history(conn: &mut DbConn, entity: &str, entity_id: &str) -> Result<Vec<Change>, StoreError> {
    change_log::table
        .filter(change_log::entity.eq(entity))
        .filter(change_log::entity_id.eq(entity_id))
        .order(change_log::seq.asc())
        .select(ChangeRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| {
            let data = serde_json::from_str(&row.data).map_err(|e| StoreError::Corrupt {
                entity: "change",
                id: row.seq.to_string(),
                reason: e.to_string(),
            })?;
            Ok(Change {
                seq: row.seq,
                entity: row.entity,
                entity_id: row.entity_id,
                op: row.op,
                version: row.version,
                actor: row.actor,
                actor_organization: row.actor_organization,
                at: row.at.and_utc(),
                data,
            })
        })
        .collect()
}

/// How many changes of one kind of entity are recorded.
pub fn count(conn: &mut DbConn, entity: &str) -> Result<i64, StoreError> {
    Ok(change_log::table.filter(change_log::entity.eq(entity)).count().get_result(conn)?)
}
