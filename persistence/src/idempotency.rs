//! `Idempotency-Key`: the first answer to a client's key, kept so that its retries replay it.
//!
//! A key is reserved in a row of its own, committed before the request runs (unique on client
//! and key), so a retry arriving meanwhile, on any server, finds it and waits for the answer
//! instead of running the request again. While the request runs, the row's `headers` (its
//! answer's, once kept) names the server that took it, so that this server, started again after
//! a crash, frees the keys its previous run left unanswered ([`release_held_by`]).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::DbConn;
use crate::error::StoreError;
use crate::schema::idempotency_keys as keys;

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// The header fields replayed, as a JSON object of name to value.
    pub headers: String,
    pub body: String,
}

/// What a key holds when a request comes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key was free (or expired, or abandoned): it is now this request's to run.
    Reserved,
    /// Another request with this key is still running, since `since`.
    InProgress { fingerprint: String, since: DateTime<Utc> },
    /// The key's request has run; its answer.
    Done { fingerprint: String, response: StoredResponse },
}

#[derive(Queryable)]
struct KeyRow {
    fingerprint: String,
    status: Option<i64>,
    headers: Option<String>,
    body: Option<String>,
    created_at: chrono::NaiveDateTime,
    expires_at: chrono::NaiveDateTime,
}

/// Reserves `key` for `client` with the request's `fingerprint` on behalf of the server
/// `holder` (if named), or says what holds it. An expired key, or one whose request was
/// abandoned (reserved before `abandoned_before` and never answered: a server stopped), is
/// taken over.
#[allow(clippy::too_many_arguments)]
pub fn reserve(
    conn: &mut DbConn,
    client: &str,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    abandoned_before: DateTime<Utc>,
    holder: Option<&str>,
) -> Result<Reservation, StoreError> {
    // Twice at most: a stale row found is deleted and the reservation tried again.
    for _ in 0..2 {
        let inserted = diesel::insert_into(keys::table)
            .values((
                keys::client_id.eq(client),
                keys::idempotency_key.eq(key),
                keys::fingerprint.eq(fingerprint),
                keys::headers.eq(holder),
                keys::created_at.eq(now.naive_utc()),
                keys::expires_at.eq(expires_at.naive_utc()),
            ))
            .execute(conn);
        match inserted {
            Ok(_) => return Ok(Reservation::Reserved),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(other) => return Err(other.into()),
        }
        let found = keys::table
            .filter(keys::client_id.eq(client))
            .filter(keys::idempotency_key.eq(key))
            .select((keys::fingerprint, keys::status, keys::headers, keys::body, keys::created_at, keys::expires_at))
            .first::<KeyRow>(conn)
            .optional()?;
        let Some(row) = found else { continue };
        let stale =
            row.expires_at.and_utc() <= now || (row.status.is_none() && row.created_at.and_utc() < abandoned_before);
        if stale {
            release(conn, client, key)?;
            continue;
        }
        return Ok(match (row.status, row.headers, row.body) {
            (Some(status), Some(headers), Some(body)) => Reservation::Done {
                fingerprint: row.fingerprint,
                response: StoredResponse { status: u16::try_from(status).unwrap_or(500), headers, body },
            },
            _ => Reservation::InProgress { fingerprint: row.fingerprint, since: row.created_at.and_utc() },
        });
    }
    Err(StoreError::Database(DieselError::RollbackTransaction))
}

/// Keeps the answer of the request that reserved the key.
pub fn complete(conn: &mut DbConn, client: &str, key: &str, response: &StoredResponse) -> Result<(), StoreError> {
    diesel::update(keys::table.filter(keys::client_id.eq(client)).filter(keys::idempotency_key.eq(key)))
        .set((
            keys::status.eq(Some(i64::from(response.status))),
            keys::headers.eq(Some(&response.headers)),
            keys::body.eq(Some(&response.body)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Frees a key whose answer is not kept (a server error): a retry runs the request again.
pub fn release(conn: &mut DbConn, client: &str, key: &str) -> Result<(), StoreError> {
    diesel::delete(keys::table.filter(keys::client_id.eq(client)).filter(keys::idempotency_key.eq(key)))
        .execute(conn)?;
    Ok(())
}

/// Frees the keys reserved by `holder` and never answered: called by a server as it starts,
/// before it takes requests, for the requests its previous run (under the same name) was
/// running when it died. Returns how many.
pub fn release_held_by(conn: &mut DbConn, holder: &str) -> Result<usize, StoreError> {
    Ok(diesel::delete(keys::table.filter(keys::status.is_null()).filter(keys::headers.eq(holder))).execute(conn)?)
}

/// Deletes the keys expired at `now`; how many.
pub fn purge(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(keys::table.filter(keys::expires_at.le(now.naive_utc()))).execute(conn)?)
}
