//! Saved searches, match subscriptions and their alerts.
//!
//! A job follows the change log's listing changes (its position kept in `job_leases`, see
//! [`crate::leases`]) and hands each batch to the API, which decides which searches a listing
//! now matches; here are the rows it keeps: which listings match each search now
//! (`search_matches`), and one alert per listing that came to match.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::change_log::{self, FeedChange, FeedPosition, FeedQuery, Reader};
use crate::db::DbConn;
use crate::error::{Entity, StoreError};
use crate::leases;
use crate::schema::{saved_searches, search_alerts, search_matches};
use crate::versioned::{Versioned, find_by_uuid, owned_by_organization, versioned_basics};

/// The job name under which the alert job keeps its place in the change log.
pub const ALERT_JOB: &str = "search_alerts";

/// What a search follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Follows {
    /// Published listings that `GET /v1/listings?<query>` finds.
    Query(String),
    /// Published listings of the other kind that match this listing of the organization.
    MatchesFor(Uuid),
}

/// A saved search or a match subscription, owned by an organization and made by one of its
/// API clients (whose webhook subscriptions its alerts go to).
#[derive(Debug, Clone, PartialEq)]
pub struct SavedSearch {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub client_id: Uuid,
    pub name: String,
    pub follows: Follows,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = saved_searches, treat_none_as_null = true)]
struct SearchRow {
    id: String,
    organization_id: String,
    client_id: String,
    name: String,
    query: Option<String>,
    matches_for: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl SearchRow {
    fn of(s: &SavedSearch) -> Self {
        let (query, matches_for) = match &s.follows {
            Follows::Query(query) => (Some(query.clone()), None),
            Follows::MatchesFor(listing) => (None, Some(listing.to_string())),
        };
        SearchRow {
            id: s.id.to_string(),
            organization_id: s.organization_id.to_string(),
            client_id: s.client_id.to_string(),
            name: s.name.clone(),
            query,
            matches_for,
            version: s.version,
            created_at: s.created_at.naive_utc(),
            updated_at: s.updated_at.naive_utc(),
        }
    }

    fn into_domain(self) -> Result<SavedSearch, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt { entity: "saved search", id: self.id.clone(), reason };
        let uuid = |raw: &str| raw.parse::<Uuid>().map_err(|e| corrupt(e.to_string()));
        let follows = match (&self.query, &self.matches_for) {
            (Some(query), None) => Follows::Query(query.clone()),
            (None, Some(listing)) => Follows::MatchesFor(uuid(listing)?),
            _ => return Err(corrupt("neither a query nor a listing to match".to_owned())),
        };
        Ok(SavedSearch {
            id: uuid(&self.id)?,
            organization_id: uuid(&self.organization_id)?,
            client_id: uuid(&self.client_id)?,
            name: self.name.clone(),
            follows,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

/// What a modification of a search did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchWrite {
    Unchanged,
    /// Renamed or given another query: the listings it matched are forgotten, so that those
    /// the new query finds alert once more.
    Updated,
    /// Gone, with its alerts.
    Deleted,
}

impl crate::versioned::WriteKind for SearchWrite {
    fn op(&self) -> Option<&'static str> {
        match self {
            SearchWrite::Unchanged => None,
            SearchWrite::Updated => Some("update"),
            SearchWrite::Deleted => Some("delete"),
        }
    }
}

impl Versioned for SavedSearch {
    const ENTITY: Entity = Entity::Search;
    type Id = Uuid;
    type Write = SearchWrite;

    versioned_basics!(saved_searches, Uuid);

    fn overwrite(&self, conn: &mut DbConn, read_version: i64, write: &SearchWrite) -> Result<usize, StoreError> {
        let id = self.id.to_string();
        let this =
            saved_searches::table.filter(saved_searches::id.eq(&id)).filter(saved_searches::version.eq(read_version));
        let before: Option<SearchRow> = saved_searches::table
            .filter(saved_searches::id.eq(&id))
            .select(SearchRow::as_select())
            .first(conn)
            .optional()?;
        let query_changed = before.is_none_or(|row| row.query != SearchRow::of(self).query);
        if *write == SearchWrite::Deleted || query_changed {
            diesel::delete(search_matches::table.filter(search_matches::search_id.eq(&id))).execute(conn)?;
        }
        if *write == SearchWrite::Deleted {
            diesel::delete(search_alerts::table.filter(search_alerts::search_id.eq(&id))).execute(conn)?;
            return Ok(diesel::delete(this).execute(conn)?);
        }
        let row = SearchRow::of(self);
        Ok(diesel::update(this)
            .set((
                saved_searches::name.eq(row.name),
                saved_searches::query.eq(row.query),
                saved_searches::version.eq(row.version),
                saved_searches::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?)
    }
}

find_by_uuid!(saved_searches, SearchRow, SavedSearch);

/// Inserts a new search; pass it to [`crate::versioned::create`].
pub fn insert(conn: &mut DbConn, search: &SavedSearch) -> Result<(), StoreError> {
    diesel::insert_into(saved_searches::table).values(SearchRow::of(search)).execute(conn)?;
    Ok(())
}

owned_by_organization!(saved_searches, SearchRow, SavedSearch);

/// The searches, of all organizations, that a change of listings might concern.
pub fn all(conn: &mut DbConn) -> Result<Vec<SavedSearch>, StoreError> {
    saved_searches::table
        .select(SearchRow::as_select())
        .order(saved_searches::id.asc())
        .load(conn)?
        .into_iter()
        .map(SearchRow::into_domain)
        .collect()
}

/// Which of `listings` the search matched when the job last looked.
pub fn matched(conn: &mut DbConn, search: Uuid, listings: &[String]) -> Result<Vec<String>, StoreError> {
    Ok(search_matches::table
        .filter(search_matches::search_id.eq(search.to_string()))
        .filter(search_matches::listing_id.eq_any(listings))
        .select(search_matches::listing_id)
        .load(conn)?)
}

/// Forgets that the search matched these listings: they stopped matching.
pub fn unmatch(conn: &mut DbConn, search: Uuid, listings: &[String]) -> Result<(), StoreError> {
    if !listings.is_empty() {
        diesel::delete(
            search_matches::table
                .filter(search_matches::search_id.eq(search.to_string()))
                .filter(search_matches::listing_id.eq_any(listings)),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// An alert: a listing that came to match a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: Uuid,
    pub search_id: Uuid,
    pub listing_id: Uuid,
    /// What the alert shows of the listing, as it was when it matched.
    pub listing: serde_json::Value,
    /// For a match subscription: the score and the reasons (as the API shows them).
    pub score: Option<i64>,
    pub reasons: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// Records that `alert.listing_id` matches the search now, with its alert.
pub fn record_alert(conn: &mut DbConn, alert: &Alert) -> Result<(), StoreError> {
    let search = alert.search_id.to_string();
    let listing = alert.listing_id.to_string();
    diesel::insert_into(search_matches::table)
        .values((search_matches::search_id.eq(&search), search_matches::listing_id.eq(&listing)))
        .execute(conn)?;
    diesel::insert_into(search_alerts::table)
        .values((
            search_alerts::id.eq(alert.id.to_string()),
            search_alerts::search_id.eq(&search),
            search_alerts::listing_id.eq(&listing),
            search_alerts::listing.eq(alert.listing.to_string()),
            search_alerts::score.eq(alert.score),
            search_alerts::reasons.eq(alert.reasons.as_ref().map(|r| r.to_string())),
            search_alerts::created_at.eq(alert.created_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

type AlertRow = (String, String, String, String, Option<i64>, Option<String>, NaiveDateTime);

/// A search's alerts, newest first, before the alert `before`.
pub fn alerts(conn: &mut DbConn, search: Uuid, before: Option<Uuid>, limit: i64) -> Result<Vec<Alert>, StoreError> {
    let mut query = search_alerts::table
        .filter(search_alerts::search_id.eq(search.to_string()))
        .order(search_alerts::id.desc())
        .select((
            search_alerts::id,
            search_alerts::search_id,
            search_alerts::listing_id,
            search_alerts::listing,
            search_alerts::score,
            search_alerts::reasons,
            search_alerts::created_at,
        ))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(search_alerts::id.lt(before.to_string()));
    }
    let rows: Vec<AlertRow> = query.limit(limit).load(conn)?;
    rows.into_iter()
        .map(|(id, search_id, listing_id, listing, score, reasons, created_at)| {
            let corrupt = |reason: String| StoreError::Corrupt { entity: "search alert", id: id.clone(), reason };
            let uuid = |raw: &str| raw.parse::<Uuid>().map_err(|e| corrupt(e.to_string()));
            let json = |raw: &str| serde_json::from_str(raw).map_err(|e: serde_json::Error| corrupt(e.to_string()));
            Ok(Alert {
                id: uuid(&id)?,
                search_id: uuid(&search_id)?,
                listing_id: uuid(&listing_id)?,
                listing: json(&listing)?,
                score,
                reasons: reasons.as_deref().map(json).transpose()?,
                created_at: created_at.and_utc(),
            })
        })
        .collect()
}

/// How many alerts a search has.
pub fn count_alerts(conn: &mut DbConn, search: Uuid) -> Result<i64, StoreError> {
    Ok(search_alerts::table.filter(search_alerts::search_id.eq(search.to_string())).count().get_result(conn)?)
}

fn encode(position: FeedPosition) -> String {
    format!("{}:{}", position.txid, position.seq)
}

fn decode(raw: &str) -> Option<FeedPosition> {
    let (txid, seq) = raw.split_once(':')?;
    Some(FeedPosition { txid: txid.parse().ok()?, seq: seq.parse().ok()? })
}

/// Hands the next listing changes of the log (up to `limit`) to `evaluate`, in one transaction
/// with the job's row locked, and moves the job's position past them once `evaluate` has
/// written what they caused. While nobody keeps a search, the job skips to the end of the log: a
/// search made later alerts only for later changes. Returns how many changes it read (0: caught
/// up, or another server is running the job now).
pub fn follow(
    conn: &mut DbConn,
    limit: i64,
    evaluate: impl FnOnce(&mut DbConn, Vec<SavedSearch>, Vec<FeedChange>) -> Result<(), StoreError>,
) -> Result<usize, StoreError> {
    let read = leases::with_position(conn, ALERT_JOB, |conn, position| {
        let after = position.as_deref().and_then(decode).unwrap_or_default();
        let searches = all(conn)?;
        if searches.is_empty() {
            let end = change_log::feed_end(conn)?.max(after);
            return Ok((0, encode(end)));
        }
        let query = FeedQuery { after, limit, entities: vec![Entity::Listing.as_str()], reader: Reader::Operator };
        let changes = change_log::feed(conn, &query)?;
        let Some(&(end, _)) = changes.last() else { return Ok((0, encode(after))) };
        let read = changes.len();
        evaluate(conn, searches, changes.into_iter().map(|(_, change)| change).collect())?;
        Ok((read, encode(end)))
    })?;
    Ok(read.unwrap_or(0))
}
