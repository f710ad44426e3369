//! Work the hub does on its own. Every server runs the loops, but a job runs on one server at a
//! time: the one holding its lease (see [`techex_persistence::leases`]); a server stopping gracefully
//! gives its leases back ([`give_back`]), and should one be killed, another takes its jobs once
//! their leases run out. Each run would be safe beside another anyway,
//! since every change goes through the repository's locked, version-checked writes.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use techex_domain::Listing;
use techex_persistence::change_log::Author;
use techex_persistence::leases;
use techex_persistence::listings::{self, ListingWrite};
use techex_persistence::{Db, StoreError};

use crate::clock::Clock;
use crate::kit;

/// How often expired listings are taken off the market.
pub const EXPIRY_INTERVAL: Duration = Duration::from_secs(60);

const EXPIRY_BATCH: i64 = 500;

/// The lease names of the jobs.
pub const EXPIRY_JOB: &str = "listing_expiry";
pub const IDEMPOTENCY_PURGE_JOB: &str = "idempotency_purge";
pub const TOMBSTONE_PURGE_JOB: &str = "tombstone_purge";
pub const FACET_COMPACTION_JOB: &str = "facet_compaction";

/// This server's name as a lease holder: new each start, so a restarted server waits out the
/// lease of its previous run like any other server would.
pub fn server_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::now_v7().to_string())
}

/// Whether this server holds the job `name` from `now` for `period` (taking or renewing it).
pub fn hold(db: &Db, name: &str, now: DateTime<Utc>, period: Duration) -> Result<bool, StoreError> {
    let period = chrono::Duration::from_std(period).unwrap_or(chrono::Duration::hours(1));
    let mut conn = db.conn()?;
    leases::take(&mut conn, name, server_id(), now, period)
}

/// Gives back the job leases this server holds, at a graceful stop: another server takes each
/// job at its next pass. Returns how many.
pub fn give_back(db: &Db) -> Result<usize, StoreError> {
    let mut conn = db.conn()?;
    leases::give_back(&mut conn, server_id())
}

enum Outcome {
    /// Another server or an edit got there first.
    NotDue,
    Failed(StoreError),
}

impl From<StoreError> for Outcome {
    fn from(error: StoreError) -> Self {
        Outcome::Failed(error)
    }
}

/// Moves every published listing whose expiry is at or before `now` to `expired`, each with its
/// change-log entry (actor `system`). Returns how many it moved.
pub fn expire_listings(db: &Db, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut conn = db.conn()?;
    let mut expired = 0;
    loop {
        let due = listings::due_to_expire(&mut conn, now, EXPIRY_BATCH)?;
        let batch = due.len();
        for id in due {
            let outcome = kit::modify(&mut conn, id, &Author::system(), |_, listing: &mut Listing| {
                if listing.expire(now) { Ok(ListingWrite::Expired) } else { Err(Outcome::NotDue) }
            });
            match outcome {
                Ok(_) => expired += 1,
                Err(Outcome::NotDue) | Err(Outcome::Failed(StoreError::NotFound(_))) => {}
                Err(Outcome::Failed(error)) => return Err(error),
            }
        }
        if (batch as i64) < EXPIRY_BATCH {
            return Ok(expired);
        }
    }
}

const PURGE_BATCH: i64 = 500;

/// Purges the listings deleted longer than `retention` before `now` (see
/// [`listings::purge_tombstones`]); pollers further behind re-export. Returns how many.
pub fn purge_tombstones(db: &Db, now: DateTime<Utc>, retention: chrono::Duration) -> Result<usize, StoreError> {
    let mut conn = db.conn()?;
    let mut purged = 0;
    loop {
        let batch = listings::purge_tombstones(&mut conn, now - retention, PURGE_BATCH)?;
        purged += batch;
        if (batch as i64) < PURGE_BATCH {
            return Ok(purged);
        }
    }
}

/// Runs [`expire_listings`], forgets the idempotency keys kept past their 24 hours, purges
/// tombstones older than `retention` ([`purge_tombstones`]), and folds the facet counts' rows
/// written since the last run (see [`techex_persistence::facet_counts`]), every `every` (the server:
/// [`EXPIRY_INTERVAL`]) until the server stops, judging expiry by `clock`. Each job runs where
/// its lease is held.
pub async fn expire_periodically(db: Db, clock: Clock, every: Duration, retention: chrono::Duration) {
    let mut interval = actix_web::rt::time::interval(every);
    // Held over two rounds, so the holder renews its lease before it runs out.
    let period = every * 2;
    loop {
        interval.tick().await;
        let now = clock.now();
        run_leased(&db, EXPIRY_JOB, now, period, "expired {} listing(s)", move |db| expire_listings(db, now)).await;
        run_leased(&db, IDEMPOTENCY_PURGE_JOB, now, period, "forgot {} expired idempotency key(s)", move |db| {
            crate::idempotency::purge(db, now)
        })
        .await;
        run_leased(
            &db,
            TOMBSTONE_PURGE_JOB,
            now,
            period,
            "purged {} listing tombstone(s) past their retention",
            move |db| purge_tombstones(db, now, retention),
        )
        .await;
        run_leased(&db, FACET_COMPACTION_JOB, now, period, "folded {} facet count row(s)", |db| {
            techex_persistence::facet_counts::compact(&mut *db.conn()?)
        })
        .await;
    }
}

/// Runs `job` on a blocking thread if this server holds the lease `name`, and logs what it did
/// (`done` with the count in place of `{}`) or why it failed.
async fn run_leased(
    db: &Db,
    name: &'static str,
    now: DateTime<Utc>,
    period: Duration,
    done: &'static str,
    job: impl FnOnce(&Db) -> Result<usize, StoreError> + Send + 'static,
) {
    let db = db.clone();
    let leased = move || match hold(&db, name, now, period)? {
        true => job(&db),
        false => Ok(0),
    };
    match actix_web::web::block(leased).await {
        Ok(Ok(0)) => {}
        Ok(Ok(count)) => log::info!("{}", done.replace("{}", &count.to_string())),
        Ok(Err(error)) => log::error!("job {name} failed: {error}"),
        Err(error) => log::error!("job {name} failed: {error}"),
    }
}
