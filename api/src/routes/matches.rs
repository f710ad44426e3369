//! `/v1/listings/{id}/matches`: the published listings of the other kind that could meet a
//! listing, ranked by [`techex_domain::matching`].

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use techex_domain::access::may_read_listing;
use techex_domain::matching::{self, Profile};
use techex_domain::{Listing, ListingKind, ListingStatus, RestorePeriod, ValidationErrors};
use techex_persistence::{Db, Entity, listings};
use tokio::sync::Semaphore;
use utoipa::IntoParams;

use crate::auth::CallerOf;
use crate::clock::Clock;
use crate::error::{ApiError, Problem};
use crate::kit;
use crate::language::LanguageQuery;
use crate::query::Query;
use crate::routes::listings::{bounded, cache_headers};
use crate::routes::listings_dto::ListingResponse;
use crate::routes::matches_dto::{MATCHES_MAX, MatchItem, MatchReason, Matches};
use crate::routes::with_conn;

/// Matches answered when `limit` is not given.
const MATCHES_DEFAULT: i64 = 10;
/// Candidates read per way of finding them (shared broad field, shared words): the most
/// listings one request scores is twice this.
const CANDIDATES_PER_WAY: i64 = 200;

/// Match requests served at once, server-wide; the others wait their turn, first come, first
/// served. Each holds its candidates (up to 400 listings) from their read until they are
/// scored, on the HTTP worker: sixteen at once held them all, waiting for two workers, and took
/// the server past 60 MB resident (`bench/run`, 1,000,000 listings). Two keep both cores busy.
static MATCHING_SLOTS: Semaphore = Semaphore::const_new(2);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchesQuery {
    /// How many matches, 1 to 50 (default 10); larger values are refused, not clamped.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 50, example = 10)]
    limit: Option<String>,
}

/// Matches for a listing.
///
/// For a demand, the published offers that could meet it; for an offer, the published demands
/// it could meet; best first. Each carries a score from 0 to 100 and the reasons behind it
/// (`code`, the values that agreed, and a sentence): shared terms of the texts (pairs of
/// Vietnamese syllables such as `nang luong`, English words; title terms weigh most), the same
/// S&T field or one under the same broad field, a TRL reaching the level asked for, shared
/// transfer forms and rights, a price within the budget, the same province or region. Listings
/// about other things (hardly a shared term) and scores below 30 are left out. Who may read the listing may read its matches: a
/// draft's only its publisher and moderators.
#[utoipa::path(
    tag = "listings",
    operation_id = "list_listing_matches",
    security((), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Listing id"), MatchesQuery, LanguageQuery),
    responses(
        (status = 200, description = "The matches, best first", body = Matches),
        (status = 400, description = "The id is not a UUID (`invalid_path`), or `limit` is out of range or the query holds another parameter (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The access token is invalid (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing, or not one this caller may see (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings/{id}/matches")]
pub async fn list_listing_matches(
    db: web::Data<Db>,
    caller: CallerOf,
    id: web::Path<String>,
    asked: Query<MatchesQuery>,
    clock: web::Data<Clock>,
    period: web::Data<RestorePeriod>,
) -> Result<HttpResponse, ApiError> {
    let id = kit::id_param(Entity::Listing, &id)?;
    let mut errors = ValidationErrors::default();
    let limit = bounded(asked.0.limit.as_deref(), "limit", 1, MATCHES_MAX as i64, &mut errors);
    errors.finish(()).map_err(ApiError::InvalidQuery)?;
    let limit = usize::try_from(limit.unwrap_or(MATCHES_DEFAULT)).unwrap_or(MATCHES_MAX);
    let caller = caller.0;
    let now = clock.now();
    let reader = caller.clone();
    let _slot = MATCHING_SLOTS.acquire().await.expect("the matching slots are never closed");
    let found = with_conn(&db, move |conn| {
        let listing = kit::find::<Listing>(conn, id)?.as_seen_at(now);
        if !may_read_listing(&reader, &listing) {
            return Ok(None);
        }
        let profile = Profile::of(&listing);
        let other = match profile.kind {
            ListingKind::Offer => ListingKind::Demand,
            ListingKind::Demand => ListingKind::Offer,
        };
        let families: Vec<String> = profile.field_families().into_iter().collect();
        let candidates = listings::match_candidates(
            conn,
            other,
            &families,
            &profile.query_words(),
            listing.id,
            now,
            CANDIDATES_PER_WAY,
            listings::RECENT_WINDOW,
        )?;
        Ok(Some((listing, profile, candidates)))
    })
    .await?;
    let Some((listing, profile, candidates)) = found else {
        return Err(ApiError::NotFound { entity: Entity::Listing });
    };
    let mut scored: Vec<(matching::Score, Listing)> = candidates
        .into_iter()
        .filter_map(|candidate| matching::score_pair(&profile, &Profile::of(&candidate)).map(|s| (s, candidate)))
        .collect();
    scored.sort_by(|a, b| b.0.score.cmp(&a.0.score).then(b.1.id.0.cmp(&a.1.id.0)));
    scored.truncate(limit);
    let items = scored
        .into_iter()
        .map(|(score, candidate)| MatchItem {
            score: score.score,
            reasons: score.reasons.iter().map(MatchReason::from).collect(),
            listing: ListingResponse::seen_at(candidate, &caller, now, **period),
        })
        .collect();
    let mut response = HttpResponse::Ok();
    cache_headers(&mut response, &caller, listing.status == ListingStatus::Published);
    Ok(response.json(Matches { listing_id: listing.id.0, items }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_listing_matches);
}
