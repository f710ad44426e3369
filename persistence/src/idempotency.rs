//! `Idempotency-Key`: the first answer to a client's key, kept so that its retries replay it.
//!
//! A key is reserved in a row of its own, committed before the request runs (unique on client
//! and key), so a retry arriving meanwhile, on any server, finds it and waits for the answer
//! instead of running the request again. While the request runs, the row's `headers` (its
//! answer's, once kept) names the server that took it, so that this server, started again after
//! a crash, frees the keys its previous run left unanswered ([`release_held_by`]).
//!
//! The answer is kept in a transaction of its own, after the request's write has committed: a
//! server stopped in between loses it. So the request's outermost write transaction also marks
//! the reservation committed ([`mark_committed`], called by [`crate::db::write`] for the
//! reservation [`hold`] names on its thread): a key left unanswered with that mark is never freed
//! for the request to run again; its retries hear [`Reservation::AnswerLost`].

use std::cell::RefCell;
use std::marker::PhantomData;

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
    /// The key's request committed its write, then its server stopped before keeping the answer.
    AnswerLost { fingerprint: String },
}

/// The reservation a request runs under, as [`hold`] names it to [`crate::db::write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub client: String,
    pub key: String,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Names the reservation whose request runs on this thread until the guard is dropped: the
/// writes committed meanwhile mark it (see the module's documentation).
pub fn hold(held: Option<Held>) -> Holding {
    Holding { before: HELD.replace(held), thread: PhantomData }
}

/// Restores the reservation held before on this thread when dropped.
pub struct Holding {
    before: Option<Held>,
    /// Bound to the thread whose reservation it set.
    thread: PhantomData<*const ()>,
}

impl Drop for Holding {
    fn drop(&mut self) {
        HELD.set(self.before.take());
    }
}

/// Marks the reservation held on this thread (if any, and still unanswered) as committed, in the
/// transaction open on `conn`: the mark commits if and only if that transaction does.
pub(crate) fn mark_committed(conn: &mut DbConn) -> Result<(), StoreError> {
    let Some(held) = HELD.with_borrow(Clone::clone) else { return Ok(()) };
    diesel::update(
        keys::table
            .filter(keys::client_id.eq(&held.client))
            .filter(keys::idempotency_key.eq(&held.key))
            .filter(keys::status.is_null()),
    )
    .set(keys::committed_at.eq(Some(Utc::now().naive_utc())))
    .execute(conn)?;
    Ok(())
}

#[derive(Queryable)]
struct KeyRow {
    fingerprint: String,
    status: Option<i64>,
    headers: Option<String>,
    body: Option<String>,
    created_at: chrono::NaiveDateTime,
    expires_at: chrono::NaiveDateTime,
    committed_at: Option<chrono::NaiveDateTime>,
}

/// The reservation date given to a key given up with its write committed (see [`release`]):
/// any server deems it abandoned at once.
const GIVEN_UP: chrono::NaiveDateTime = DateTime::<Utc>::UNIX_EPOCH.naive_utc();

/// Reserves `key` for `client` with the request's `fingerprint` on behalf of the server
/// `holder` (if named), or says what holds it. An expired key, or one whose request was
/// abandoned (reserved before `abandoned_before` and never answered: a server stopped) without
/// committing its write, is taken over.
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
            .select((
                keys::fingerprint,
                keys::status,
                keys::headers,
                keys::body,
                keys::created_at,
                keys::expires_at,
                keys::committed_at,
            ))
            .first::<KeyRow>(conn)
            .optional()?;
        let Some(row) = found else { continue };
        let abandoned = row.status.is_none() && row.created_at.and_utc() < abandoned_before;
        if row.expires_at.and_utc() <= now || (abandoned && row.committed_at.is_none()) {
            delete(conn, client, key)?;
            continue;
        }
        return Ok(match (row.status, row.headers, row.body) {
            (Some(status), Some(headers), Some(body)) => Reservation::Done {
                fingerprint: row.fingerprint,
                response: StoredResponse { status: u16::try_from(status).unwrap_or(500), headers, body },
            },
            _ if abandoned => Reservation::AnswerLost { fingerprint: row.fingerprint },
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

/// Frees a key whose answer is not kept (a server error): a retry runs the request again,
/// unless its write committed: then the key is given up as abandoned, and a retry hears
/// [`Reservation::AnswerLost`].
pub fn release(conn: &mut DbConn, client: &str, key: &str) -> Result<(), StoreError> {
    let unanswered = || {
        keys::table
            .filter(keys::client_id.eq(client))
            .filter(keys::idempotency_key.eq(key))
            .filter(keys::status.is_null())
    };
    diesel::update(unanswered().filter(keys::committed_at.is_not_null()).filter(keys::created_at.ne(GIVEN_UP)))
        .set(keys::created_at.eq(GIVEN_UP))
        .execute(conn)?;
    diesel::delete(unanswered().filter(keys::committed_at.is_null())).execute(conn)?;
    Ok(())
}

/// Deletes a key, whatever it holds.
fn delete(conn: &mut DbConn, client: &str, key: &str) -> Result<(), StoreError> {
    diesel::delete(keys::table.filter(keys::client_id.eq(client)).filter(keys::idempotency_key.eq(key)))
        .execute(conn)?;
    Ok(())
}

/// Frees the keys reserved by `holder` and never answered, as [`release`] does: called by a
/// server as it starts, before it takes requests, for the requests its previous run (under the
/// same name) was running when it died. Returns how many.
pub fn release_held_by(conn: &mut DbConn, holder: &str) -> Result<usize, StoreError> {
    let unanswered = || keys::table.filter(keys::status.is_null()).filter(keys::headers.eq(holder));
    let given_up =
        diesel::update(unanswered().filter(keys::committed_at.is_not_null()).filter(keys::created_at.ne(GIVEN_UP)))
            .set(keys::created_at.eq(GIVEN_UP))
            .execute(conn)?;
    Ok(given_up + diesel::delete(unanswered().filter(keys::committed_at.is_null())).execute(conn)?)
}

/// Deletes the keys expired at `now`; how many.
pub fn purge(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(keys::table.filter(keys::expires_at.le(now.naive_utc()))).execute(conn)?)
}
