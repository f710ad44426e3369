//! The alert job: follows the listing changes of the change log (under a lease, its position
//! kept with what it wrote, so nothing is lost or alerted twice across restarts) and, for each
//! saved search and match subscription, records an alert for every listing that newly matches
//! it, queued as a `search.alert` event for the webhook subscriptions of the client that made
//! the search.
//!
//! A saved search matches a listing when `GET /v1/listings?<query>` would find it (the same
//! filter, restricted to the listings just changed), so an alert and the list never disagree;
//! a match subscription when [`matching::score_pair`] scores the two at least
//! [`matching::MIN_SCORE`], as `GET /v1/listings/{id}/matches` does. Only published listings on
//! the market match, so drafts, confidential sections and contracts never reach an alert.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::matching::{self, Profile};
use techex_domain::{Listing, ListingId, ListingKind, ListingStatus};
use techex_persistence::searches::{self, Alert, Follows, SavedSearch};
use techex_persistence::{Db, DbConn, StoreError, listings, webhooks};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::Clock;
use crate::routes::matches_dto::MatchReason;

/// The event type of an alert, as webhook subscriptions name it.
pub const ALERT_EVENT: &str = "search.alert";
/// Listing changes read per transaction.
const BATCH: i64 = 200;
/// Batches one pass reads at most, so that a pass ends; the next pass goes on where it stopped.
const PASS_MAX_BATCHES: usize = 10;
/// How often a server looks for new matches.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// What an alert shows of the listing that matched: published fields only, as they were then.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertListing {
    pub id: Uuid,
    /// `offer` or `demand`.
    #[schema(example = "offer", max_length = 10)]
    pub kind: String,
    #[schema(example = "Máy sấy nông sản bằng năng lượng mặt trời", max_length = 300)]
    pub title_vi: String,
    #[schema(example = "Solar dryer for farm produce", max_length = 300)]
    pub title_en: Option<String>,
    /// The current province code.
    #[schema(example = "79", max_length = 2)]
    pub province: String,
    #[schema(example = json!(["211"]), max_items = 10)]
    pub field_codes: Vec<String>,
    #[schema(minimum = 1, maximum = 9, example = 6)]
    pub trl: Option<i64>,
    /// The publishing organization.
    pub publisher_id: Option<Uuid>,
    pub published_at: Option<DateTime<Utc>>,
    #[schema(minimum = 1, maximum = 9223372036854775807_i64)]
    pub version: i64,
}

impl AlertListing {
    fn of(listing: &Listing) -> Self {
        AlertListing {
            id: listing.id.0,
            kind: listing.content.kind.as_str().to_owned(),
            title_vi: listing.content.title.vi.clone(),
            title_en: listing.content.title.en.clone(),
            province: listing.province.clone(),
            field_codes: listing.content.field_codes.clone(),
            trl: listing.content.trl,
            publisher_id: listing.publisher,
            published_at: listing.published_at,
            version: listing.version,
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Listing changes read from the log.
    pub read: usize,
    pub alerts: usize,
}

/// Reads the listing changes since the last pass (up to a bound) and records the alerts they
/// cause. Blocking: run it off the async runtime.
pub fn run_once(db: &Db, now: DateTime<Utc>) -> Result<Pass, StoreError> {
    let mut conn = db.conn()?;
    let mut pass = Pass::default();
    for _ in 0..PASS_MAX_BATCHES {
        let mut alerts = 0;
        let read = searches::follow(&mut conn, BATCH, |conn, searches, changes| {
            let mut latest: HashMap<String, DateTime<Utc>> = HashMap::new();
            for change in changes {
                latest.insert(change.entity_id, change.at);
            }
            alerts = evaluate(conn, &searches, &latest, now)?;
            Ok(())
        })?;
        pass.read += read;
        pass.alerts += alerts;
        if (read as i64) < BATCH {
            break;
        }
    }
    Ok(pass)
}

/// Whether the listing is one a search may match: published and on the market at `now`.
fn on_the_market(listing: &Listing, now: DateTime<Utc>) -> bool {
    listing.status == ListingStatus::Published && !listing.is_deleted() && !listing.is_due_to_expire(now)
}

/// Records the alerts the listings changed (`latest`: id and time of the last change read)
/// cause; returns how many.
fn evaluate(
    conn: &mut DbConn,
    searches: &[SavedSearch],
    latest: &HashMap<String, DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut changed: Vec<Listing> = Vec::new();
    for id in latest.keys() {
        let Ok(id) = id.parse::<Uuid>() else { continue };
        if let Some(listing) = listings::find(conn, ListingId(id))? {
            changed.push(listing);
        }
    }
    let market: Vec<&Listing> = changed.iter().filter(|l| on_the_market(l, now)).collect();
    let market_ids: Vec<String> = market.iter().map(|l| l.id.to_string()).collect();
    // Every listing changed, found or not: a tombstone purged since stops matching too.
    let all_ids: Vec<String> = latest.keys().cloned().collect();
    let mut made = 0;
    for search in searches {
        // What each listing matches now, with the score and reasons of a match subscription.
        let mut now_matching: HashMap<String, Option<matching::Score>> = HashMap::new();
        match &search.follows {
            Follows::Query(raw) => {
                let filter = match crate::routes::listings::saved_search_filter(raw, now) {
                    Ok(filter) => filter,
                    Err(error) => {
                        // Stored after the same checks; reference data changed since.
                        log::warn!("saved search {} no longer reads: {error}", search.id);
                        continue;
                    }
                };
                if !market_ids.is_empty() {
                    for id in listings::matching_ids(conn, &filter, &market_ids)? {
                        now_matching.insert(id, None);
                    }
                }
            }
            Follows::MatchesFor(own) => {
                let Some(own) = listings::find(conn, ListingId(*own))?.filter(|l| !l.is_deleted()) else { continue };
                let profile = Profile::of(&own);
                let other = match own.content.kind {
                    ListingKind::Offer => ListingKind::Demand,
                    ListingKind::Demand => ListingKind::Offer,
                };
                for listing in market.iter().filter(|l| l.content.kind == other && l.id != own.id) {
                    if let Some(score) = matching::score_pair(&profile, &Profile::of(listing)) {
                        now_matching.insert(listing.id.to_string(), Some(score));
                    }
                }
            }
        }
        let before: HashSet<String> = searches::matched(conn, search.id, &all_ids)?.into_iter().collect();
        let stopped: Vec<String> = before.iter().filter(|id| !now_matching.contains_key(*id)).cloned().collect();
        searches::unmatch(conn, search.id, &stopped)?;
        for listing in &market {
            let id = listing.id.to_string();
            // A change written before the search was made is not news to it.
            let Some(score) = now_matching.get(&id) else { continue };
            if before.contains(&id) || latest.get(&id).is_none_or(|at| *at < search.created_at) {
                continue;
            }
            alert(conn, search, listing, score.as_ref(), now)?;
            made += 1;
        }
    }
    Ok(made)
}

/// What `GET /v1/searches/{id}/alerts` and the webhook event show of an alert.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertResponse {
    pub id: Uuid,
    pub search_id: Uuid,
    /// The listing as it was when it came to match.
    pub listing: AlertListing,
    /// For a match subscription: 0 to 100, as `GET /v1/listings/{id}/matches` scores it.
    #[schema(minimum = 0, maximum = 100, example = 72)]
    pub score: Option<i64>,
    /// For a match subscription: what agreed, as the matches endpoint gives it.
    #[schema(max_items = 10)]
    pub reasons: Option<Vec<MatchReason>>,
    pub created_at: DateTime<Utc>,
}

impl AlertResponse {
    pub fn of(alert: Alert) -> Result<Self, StoreError> {
        let corrupt = |e: serde_json::Error| StoreError::Corrupt {
            entity: "search alert",
            id: alert.id.to_string(),
            reason: e.to_string(),
        };
        Ok(AlertResponse {
            id: alert.id,
            search_id: alert.search_id,
            listing: serde_json::from_value(alert.listing.clone()).map_err(corrupt)?,
            score: alert.score,
            reasons: alert.reasons.clone().map(serde_json::from_value).transpose().map_err(corrupt)?,
            created_at: alert.created_at,
        })
    }
}

fn alert(
    conn: &mut DbConn,
    search: &SavedSearch,
    listing: &Listing,
    score: Option<&matching::Score>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let reasons: Option<Vec<MatchReason>> = score.map(|s| s.reasons.iter().map(MatchReason::from).collect());
    let record = Alert {
        id: Uuid::now_v7(),
        search_id: search.id,
        listing_id: listing.id.0,
        listing: serde_json::to_value(AlertListing::of(listing)).expect("summaries serialize"),
        score: score.map(|s| i64::from(s.score)),
        reasons: reasons.map(|r| serde_json::to_value(r).expect("reasons serialize")),
        created_at: now,
    };
    searches::record_alert(conn, &record)?;
    let mut data = serde_json::to_value(AlertResponse::of(record)?).expect("alerts serialize");
    data["search_name"] = serde_json::Value::from(search.name.clone());
    webhooks::enqueue_direct(conn, search.client_id, ALERT_EVENT, &data, now)?;
    Ok(())
}

/// Runs [`run_once`] every `every` until the server stops; the job's lease on its position
/// keeps two servers from evaluating the same changes at once.
pub async fn alert_periodically(db: Db, clock: Clock, every: Duration) {
    let mut interval = actix_web::rt::time::interval(every);
    loop {
        interval.tick().await;
        let (db, now) = (db.clone(), clock.now());
        match actix_web::web::block(move || run_once(&db, now)).await {
            Ok(Ok(pass)) if pass.alerts > 0 => log::info!("search alerts: {} recorded", pass.alerts),
            Ok(Ok(_)) => {}
            Ok(Err(error)) => log::error!("search alerts failed: {error}"),
            Err(error) => log::error!("search alerts failed: {error}"),
        }
    }
}
