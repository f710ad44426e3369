//! Work the hub does on its own, on every server: each run is safe beside the same run on other
//! servers, since every change goes through the repository's locked, version-checked writes.

use std::time::Duration;

use chrono::{DateTime, Utc};
use techex_domain::Listing;
use techex_persistence::change_log::Author;
use techex_persistence::listings::{self, ListingWrite};
use techex_persistence::{Db, StoreError};

use crate::clock::Clock;
use crate::kit;

/// How often expired listings are taken off the market.
pub const EXPIRY_INTERVAL: Duration = Duration::from_secs(60);

const EXPIRY_BATCH: i64 = 500;

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

/// Runs [`expire_listings`], forgets the idempotency keys kept past their 24 hours, and purges
/// tombstones older than `retention` ([`purge_tombstones`]), every `every` (the server:
/// [`EXPIRY_INTERVAL`]) until the server stops, judging expiry by `clock`.
pub async fn expire_periodically(db: Db, clock: Clock, every: Duration, retention: chrono::Duration) {
    let mut interval = actix_web::rt::time::interval(every);
    loop {
        interval.tick().await;
        let expiring = db.clone();
        let now = clock.now();
        match actix_web::web::block(move || expire_listings(&expiring, now)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(count)) => log::info!("expired {count} listing(s)"),
            Ok(Err(error)) => log::error!("expiring listings failed: {error}"),
            Err(error) => log::error!("expiring listings failed: {error}"),
        }
        let forgetting = db.clone();
        match actix_web::web::block(move || crate::idempotency::purge(&forgetting, now)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(count)) => log::info!("forgot {count} expired idempotency key(s)"),
            Ok(Err(error)) => log::error!("purging idempotency keys failed: {error}"),
            Err(error) => log::error!("purging idempotency keys failed: {error}"),
        }
        let purging = db.clone();
        match actix_web::web::block(move || purge_tombstones(&purging, now, retention)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(count)) => log::info!("purged {count} listing tombstone(s) past their retention"),
            Ok(Err(error)) => log::error!("purging tombstones failed: {error}"),
            Err(error) => log::error!("purging tombstones failed: {error}"),
        }
    }
}
