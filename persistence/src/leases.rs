//! Leases on the hub's background jobs, so that of several servers over one database one at a
//! time runs a job. A job's row in `job_leases` names its holder and until when it holds it; a
//! server takes the row under `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so servers
//! taking it at once never wait on each other: one gets it, the others skip it. SQLite has one
//! writer (and one server), whose write transaction serializes the same steps.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamp};

use crate::db::{DbConn, write};
use crate::error::StoreError;
use crate::schema::job_leases;

#[derive(QueryableByName)]
struct LeaseRow {
    #[diesel(sql_type = Text)]
    holder: String,
    #[diesel(sql_type = Timestamp)]
    leased_until: NaiveDateTime,
    #[diesel(sql_type = Nullable<Text>)]
    position: Option<String>,
}

/// The job's row, made when the job first runs.
fn ensure(conn: &mut DbConn, name: &str) -> Result<(), StoreError> {
    let sql = match conn {
        DbConn::Pg(_) => {
            "INSERT INTO job_leases (name, holder, leased_until) VALUES ($1, '', $2) ON CONFLICT (name) DO NOTHING"
        }
        DbConn::Sqlite(_) => {
            "INSERT INTO job_leases (name, holder, leased_until) VALUES (?1, '', ?2) ON CONFLICT (name) DO NOTHING"
        }
    };
    let never = DateTime::<Utc>::UNIX_EPOCH.naive_utc();
    diesel::sql_query(sql).bind::<Text, _>(name).bind::<Timestamp, _>(never).execute(conn)?;
    Ok(())
}

/// Locks the job's row for the rest of the transaction; `None` when another server holds that
/// lock now (PostgreSQL: `SKIP LOCKED`).
fn lock(conn: &mut DbConn, name: &str) -> Result<Option<LeaseRow>, StoreError> {
    let sql = match conn {
        DbConn::Pg(_) => "SELECT holder, leased_until, position FROM job_leases WHERE name = $1 FOR UPDATE SKIP LOCKED",
        DbConn::Sqlite(_) => "SELECT holder, leased_until, position FROM job_leases WHERE name = ?1",
    };
    Ok(diesel::sql_query(sql).bind::<Text, _>(name).get_result(conn).optional()?)
}

/// Takes the job `name` for `holder` until `now + period`, if no other holder's lease is still
/// running. `true` when `holder` may run the job now. A server killed without giving its lease
/// back ([`give_back`]) holds the job only until its lease runs out.
pub fn take(
    conn: &mut DbConn,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    period: chrono::Duration,
) -> Result<bool, StoreError> {
    ensure(conn, name)?;
    write(conn, |conn| {
        let Some(row) = lock(conn, name)? else { return Ok(false) };
        if row.holder != holder && row.leased_until > now.naive_utc() {
            return Ok(false);
        }
        diesel::update(job_leases::table.filter(job_leases::name.eq(name)))
            .set((job_leases::holder.eq(holder), job_leases::leased_until.eq((now + period).naive_utc())))
            .execute(conn)?;
        Ok(true)
    })
}

/// Gives back every job lease `holder` holds (a server stopping), so that another server takes
/// each job at its next pass instead of once the lease runs out. Returns how many.
pub fn give_back(conn: &mut DbConn, holder: &str) -> Result<usize, StoreError> {
    let never = DateTime::<Utc>::UNIX_EPOCH.naive_utc();
    write(conn, |conn| {
        Ok(diesel::update(job_leases::table.filter(job_leases::holder.eq(holder)))
            .set((job_leases::holder.eq(""), job_leases::leased_until.eq(never)))
            .execute(conn)?)
    })
}

/// Runs `work` in one transaction holding the row of the job `name`, with the position the job
/// stored last (`None` the first time), and stores the position `work` returns with what it
/// wrote. `Ok(None)` without running `work` when another server is running it now.
pub fn with_position<T>(
    conn: &mut DbConn,
    name: &str,
    work: impl FnOnce(&mut DbConn, Option<String>) -> Result<(T, String), StoreError>,
) -> Result<Option<T>, StoreError> {
    ensure(conn, name)?;
    write(conn, |conn| {
        let Some(row) = lock(conn, name)? else { return Ok(None) };
        let (done, position) = work(conn, row.position)?;
        diesel::update(job_leases::table.filter(job_leases::name.eq(name)))
            .set(job_leases::position.eq(position))
            .execute(conn)?;
        Ok(Some(done))
    })
}
