//! The change log: one row per write, appended in the write's own transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use uuid::Uuid;

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

/// A change as the feed hands it out: its `data` is the stored JSON text, not parsed into a tree,
/// so that a page of a thousand changes is spliced, not rebuilt.
#[derive(Debug, Clone)]
pub struct FeedChange {
    pub seq: i64,
    pub entity: String,
    pub entity_id: String,
    pub op: String,
    pub version: i64,
    pub at: DateTime<Utc>,
    /// One JSON value, as [`append`] wrote it.
    pub data: String,
}

/// Who may follow a change in the change feed (the operator always may).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The operator alone: drafts, API clients, anything not (yet) public.
    Operator,
    /// The organizations named, besides the operator: the parties to a confidential record.
    Organizations(Vec<Uuid>),
    /// Every partner allowed to read the feed.
    Everyone,
}

impl Audience {
    /// Everyone either audience admits.
    pub fn and(self, other: Audience) -> Audience {
        match (self, other) {
            (Audience::Everyone, _) | (_, Audience::Everyone) => Audience::Everyone,
            (Audience::Operator, other) | (other, Audience::Operator) => other,
            (Audience::Organizations(mut these), Audience::Organizations(those)) => {
                for id in those {
                    if !these.contains(&id) {
                        these.push(id);
                    }
                }
                Audience::Organizations(these)
            }
        }
    }

    /// As the `audience` column keeps it: `*`, nothing, or organization ids separated by spaces.
    fn stored(&self) -> String {
        match self {
            Audience::Operator => String::new(),
            Audience::Organizations(ids) => ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(" "),
            Audience::Everyone => "*".to_owned(),
        }
    }
}

/// Who reads the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Operator,
    /// A partner's client, for its organization.
    Organization(Uuid),
}

/// A place in the feed: after the changes of transaction `txid` up to `seq`. On SQLite, whose
/// single writer commits in sequence order, `txid` is always 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct FeedPosition {
    pub txid: i64,
    pub seq: i64,
}

/// One page of the feed as asked for.
#[derive(Debug, Clone)]
pub struct FeedQuery {
    pub after: FeedPosition,
    pub limit: i64,
    /// Only these kinds of records; empty for all. Names come from [`crate::Entity::as_str`],
    /// never from the caller's text.
    pub entities: Vec<&'static str>,
    pub reader: Reader,
}

/// A change about to be appended.
#[derive(Debug, Clone)]
pub struct NewChange<'a> {
    pub entity: &'static str,
    pub entity_id: String,
    pub op: &'a str,
    pub version: i64,
    pub audience: Audience,
    pub author: &'a Author,
    pub at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// A change as its row is written, here and by [`crate::bulk`]. A `None` is written as NULL.
#[derive(Insertable)]
#[diesel(table_name = change_log, treat_none_as_default_value = false)]
pub(crate) struct NewChangeRow {
    entity: &'static str,
    entity_id: String,
    op: String,
    version: i64,
    actor: Option<String>,
    actor_organization: Option<String>,
    at: NaiveDateTime,
    data: String,
    audience: String,
}

impl NewChangeRow {
    pub(crate) fn of(change: &NewChange<'_>) -> Self {
        NewChangeRow {
            entity: change.entity,
            entity_id: change.entity_id.clone(),
            op: change.op.to_owned(),
            version: change.version,
            actor: Some(change.author.actor.clone()),
            actor_organization: change.author.organization.clone(),
            at: change.at.naive_utc(),
            data: change.data.to_string(),
            audience: change.audience.stored(),
        }
    }
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
    diesel::insert_into(change_log::table).values(NewChangeRow::of(change)).execute(conn)?;
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
        .map(ChangeRow::into_change)
        .collect()
}

impl ChangeRow {
    fn into_change(self) -> Result<Change, StoreError> {
        let data = serde_json::from_str(&self.data).map_err(|e| StoreError::Corrupt {
            entity: "change",
            id: self.seq.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Change {
            seq: self.seq,
            entity: self.entity,
            entity_id: self.entity_id,
            op: self.op,
            version: self.version,
            actor: self.actor,
            actor_organization: self.actor_organization,
            at: self.at.and_utc(),
            data,
        })
    }
}

#[derive(QueryableByName)]
struct FeedRow {
    #[diesel(sql_type = BigInt)]
    txid_position: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    entity: String,
    #[diesel(sql_type = Text)]
    entity_id: String,
    #[diesel(sql_type = Text)]
    op: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Timestamp)]
    at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    data: String,
}

/// The changes after `query.after` that the reader may follow, in feed order, as far as no
/// change can still appear before them.
///
/// On PostgreSQL a sequence number is taken when a row is written, not when its transaction
/// commits, so `seq > cursor` would skip a change that commits after a later-numbered one was
/// read. The feed therefore orders by writing transaction, then sequence, and hands out only the
/// changes of transactions older than every transaction still running (`pg_snapshot_xmin`): no
/// change can ever appear before a position once it was handed out. A transaction running for
/// long holds the feed back until it ends. SQLite has one writer at a time, so sequence order is
/// commit order there.
pub fn feed(conn: &mut DbConn, query: &FeedQuery) -> Result<Vec<(FeedPosition, FeedChange)>, StoreError> {
    // Parameters by number: `$n` on PostgreSQL, `?n` on SQLite.
    let sign = if matches!(conn, DbConn::Pg(_)) { '$' } else { '?' };
    let mut conditions = Vec::new();
    if !query.entities.is_empty() {
        let names: Vec<String> = query.entities.iter().map(|e| format!("'{e}'")).collect();
        conditions.push(format!("entity IN ({})", names.join(", ")));
    }
    let reader = match query.reader {
        Reader::Operator => None,
        Reader::Organization(id) => {
            conditions.push(format!("(audience = '*' OR audience LIKE '%' || {sign}3 || '%')"));
            Some(id.to_string())
        }
    };
    let columns = "seq, entity, entity_id, op, version, at, data";
    let sql = match conn {
        DbConn::Pg(_) => {
            conditions.push("(txid, seq) > ($1::text::xid8, $2)".to_owned());
            conditions.push("txid < pg_snapshot_xmin(pg_current_snapshot())".to_owned());
            format!(
                "SELECT txid::text::bigint AS txid_position, {columns} FROM change_log WHERE {} \
                 ORDER BY txid, seq LIMIT {}",
                conditions.join(" AND "),
                query.limit
            )
        }
        DbConn::Sqlite(_) => {
            conditions.push("seq > ?2".to_owned());
            format!(
                "SELECT ?1 AS txid_position, {columns} FROM change_log WHERE {} ORDER BY seq LIMIT {}",
                conditions.join(" AND "),
                query.limit
            )
        }
    };
    let statement = diesel::sql_query(sql).bind::<BigInt, _>(query.after.txid).bind::<BigInt, _>(query.after.seq);
    let rows: Vec<FeedRow> = match reader {
        Some(reader) => statement.bind::<Text, _>(reader).load(conn)?,
        None => statement.load(conn)?,
    };
    // The text goes out as it is, unchecked: [`append`] alone writes it, serialized from a value,
    // and checking a thousand records a page again was a good part of the feed's cost.
    Ok(rows
        .into_iter()
        .map(|row| {
            let position = FeedPosition { txid: row.txid_position, seq: row.seq };
            let change = FeedChange {
                seq: row.seq,
                entity: row.entity,
                entity_id: row.entity_id,
                op: row.op,
                version: row.version,
                at: row.at.and_utc(),
                data: row.data,
            };
            (position, change)
        })
        .collect())
}

#[derive(QueryableByName)]
struct EndRow {
    #[diesel(sql_type = BigInt)]
    txid_position: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

/// The position of the last change the feed can hand out now: a reader that starts there sees
/// every change that can still appear (see [`feed`]).
pub fn feed_end(conn: &mut DbConn) -> Result<FeedPosition, StoreError> {
    let sql = match conn {
        DbConn::Pg(_) => {
            "SELECT txid::text::bigint AS txid_position, seq FROM change_log \
             WHERE txid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY txid DESC, seq DESC LIMIT 1"
        }
        DbConn::Sqlite(_) => "SELECT 0 AS txid_position, seq FROM change_log ORDER BY seq DESC LIMIT 1",
    };
    let last: Option<EndRow> = diesel::sql_query(sql).get_result(conn).optional()?;
    Ok(last.map_or_else(FeedPosition::default, |row| FeedPosition { txid: row.txid_position, seq: row.seq }))
}

/// Which changes the audit trail shows: newest first, before `before_seq`.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub organization: Option<String>,
    pub entity: Option<&'static str>,
    pub entity_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// The audit trail: every write, whoever may see it, newest first.
pub fn audit(conn: &mut DbConn, query: &AuditQuery) -> Result<Vec<Change>, StoreError> {
    let mut rows = change_log::table.select(ChangeRow::as_select()).order(change_log::seq.desc()).into_boxed();
    if let Some(actor) = &query.actor {
        rows = rows.filter(change_log::actor.eq(actor.clone()));
    }
    if let Some(organization) = &query.organization {
        rows = rows.filter(change_log::actor_organization.eq(organization.clone()));
    }
    if let Some(entity) = query.entity {
        rows = rows.filter(change_log::entity.eq(entity));
    }
    if let Some(entity_id) = &query.entity_id {
        rows = rows.filter(change_log::entity_id.eq(entity_id.clone()));
    }
    if let Some(since) = query.since {
        rows = rows.filter(change_log::at.ge(since.naive_utc()));
    }
    if let Some(until) = query.until {
        rows = rows.filter(change_log::at.lt(until.naive_utc()));
    }
    if let Some(before) = query.before_seq {
        rows = rows.filter(change_log::seq.lt(before));
    }
    rows.limit(query.limit).load(conn)?.into_iter().map(ChangeRow::into_change).collect()
}

/// How many changes of one kind of entity are recorded.
pub fn count(conn: &mut DbConn, entity: &str) -> Result<i64, StoreError> {
    Ok(change_log::table.filter(change_log::entity.eq(entity)).count().get_result(conn)?)
}
