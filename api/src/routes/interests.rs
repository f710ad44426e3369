//! `/v1/listings/{id}/interests`: expressions of interest. Anyone who reads a published listing
//! may tell its publisher it is interested, without the hub handing out the owner's contact;
//! the publisher reads them and marks them answered. Nobody else sees them.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use techex_domain::access::{Caller, Denied};
use techex_domain::interest::{self as domain, Interest, Unsendable, may_read_interests, may_send_interest};
use techex_domain::values::URL_MAX;
use techex_domain::{Listing, ListingId, Message, Text, ValidationErrors};
use techex_persistence::change_log::Author;
use techex_persistence::interests::{self, Answered, InterestFilter};
use techex_persistence::versioned;
use techex_persistence::{Db, DbConn, Entity};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::CallerOf;
use crate::auth::rate_limit::SenderLimit;
use crate::clock::Clock;
use crate::error::{ApiError, BodyRefused, Problem, QueryRefused};
use crate::extract::{JsonBody, path_param};
use crate::kit::{self, CachePolicy, ID_MAX_LENGTH, Listed, PageQuery, Resource};
use crate::query::FieldsQuery;
use crate::routes::interests_dto::InterestLogEntry;
pub use crate::routes::interests_dto::{InterestCount, InterestPage, InterestResponse, SendInterestRequest};
use crate::routes::with_conn;

impl Resource for Interest {
    type Public = InterestResponse;
}

/// The filter of a listing's interests.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InterestQuery {
    /// `true`: only those marked answered; `false`: only those waiting for an answer; absent:
    /// all.
    #[param(value_type = Option<bool>, example = false)]
    answered: Option<String>,
}

impl InterestQuery {
    fn answered(&self) -> Result<Option<bool>, ApiError> {
        match self.answered.as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::InvalidQuery(ValidationErrors::single(
                "answered",
                Message::new(Text::NotTrueOrFalse).with("value", other),
            ))),
        }
    }
}

fn listing_id(raw: &str) -> Result<ListingId, ApiError> {
    kit::id_param(Entity::Listing, raw)
}

fn interest_id(raw: &str) -> Result<Uuid, ApiError> {
    if raw.len() > ID_MAX_LENGTH {
        return Err(ApiError::InvalidPath(ValidationErrors::single(
            "interest_id",
            Message::new(Text::NotInterestId).with("value", raw),
        )));
    }
    path_param("interest_id", raw, Text::NotInterestId)
}

/// The author of a write: the client, or an anonymous sender.
fn author_of(caller: &Caller) -> Author {
    match caller {
        Some(actor) => Author::client(actor.client_id, actor.organization_id),
        None => Author::anonymous(),
    }
}

/// The listing whose interests the caller asks about, once the caller may read them: its
/// publisher's writers and the operator. Anonymous callers are refused before the listing is
/// looked up, so that a 401 says nothing about whether it exists.
fn publishers_listing(conn: &mut DbConn, caller: &Caller, id: ListingId) -> Result<Listing, ApiError> {
    let listing = kit::find::<Listing>(conn, id)?;
    may_read_interests(caller, &listing)?;
    Ok(listing)
}

fn require_token(caller: &Caller) -> Result<(), ApiError> {
    caller.as_ref().map(|_| ()).ok_or(ApiError::Denied(Denied::Unauthenticated))
}

/// Tell a listing's publisher you are interested.
///
/// Anyone may send: an API client (its organization is the sender), or anonymously with a name,
/// an organization and an e-mail address or a phone number. Only published listings accept
/// interests. The answer is the interest as sent; it never carries the listing's contact, which
/// the publisher uses to answer. Anonymous senders are limited per address (by default 5 per
/// hour, `TECHEX_INTEREST_RATE_LIMIT`), apart from the general rate limit.
///
/// `website` is a trap for programs that fill every field of a form: leave it out or empty. A
/// request that fills it gets the same answer as any other, and nothing is stored or passed on.
#[utoipa::path(
    tag = "interests",
    operation_id = "send_interest",
    security((), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Listing id")),
    request_body(content = SendInterestRequest, description = "The sender and the message"),
    responses(
        (status = 201, description = "Sent: the interest as the sender wrote it, cleaned; never the listing's contact", body = InterestResponse),
        (status = 400, description = "The body is not JSON (`malformed_json`) or the id not a UUID (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The access token is invalid (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing, or not one this caller may read (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller reads the listing, but it is not published (a draft, closed, expired...): it accepts no interests (`listing_not_open`)", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        (status = 422, description = "A field is invalid (`validation_failed`): a missing name, organization or way to answer (anonymous senders), a malformed e-mail or phone, an empty or too long message; `errors` names each", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many interests from this address, or too many requests (`rate_limited`); `RateLimit-Policy` names the policy (`\"interest\"` for the senders' own)", body = Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/listings/{id}/interests")]
pub async fn send_interest(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: CallerOf,
    id: web::Path<String>,
    body: JsonBody,
    clock: web::Data<Clock>,
    senders: web::Data<SenderLimit>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let listing = listing_id(&id)?;
    if caller.is_none() {
        senders.check(&req).map_err(ApiError::RateLimited)?;
    }
    let request: SendInterestRequest = body.parse()?;
    if let Some(length) = request.website_too_long() {
        let message = Message::new(Text::TooLong).with("max", URL_MAX).with("length", length);
        return Err(ApiError::Validation(ValidationErrors::single("website", message)));
    }
    let decoy = request.is_decoy();
    let now = clock.now();
    let author = author_of(&caller);
    let interest = with_conn(&db, move |conn| {
        let found = kit::find::<Listing>(conn, listing)?.as_seen_at(now);
        may_send_interest(&caller, &found).map_err(|refused| match refused {
            Unsendable::Hidden => ApiError::NotFound { entity: Entity::Listing },
            Unsendable::NotPublished(status) => ApiError::ListingNotOpen(status),
        })?;
        let valid = domain::InterestRequest::from(request).validate(&caller).map_err(ApiError::Validation)?;
        let interest = Interest::new(valid, listing, now);
        if decoy {
            log::info!("discarded an interest in listing {listing} whose honeypot field was filled");
        } else {
            versioned::create(conn, &interest, &author, &InterestLogEntry::of, |conn| {
                interests::insert(conn, &interest)
            })?;
        }
        Ok(interest)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(InterestResponse::from(&interest)))
}

/// List the interests in a listing (its publisher and the operator).
///
/// Newest first; `answered=false` shows those waiting for an answer. The clients of the
/// publishing organization with `listings:write` read them, and the operator; to anyone else
/// the listing does not exist (404).
#[utoipa::path(
    tag = "interests",
    operation_id = "list_interests",
    security(("oauth2" = ["listings:write"])),
    params(("id" = Uuid, Path, description = "Listing id"), InterestQuery, PageQuery, FieldsQuery),
    responses(
        (status = 200, description = "A page of interests, newest first; `next_cursor` (and the `Link` header) lead to the next one", body = InterestPage),
        QueryRefused,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A client of the publishing organization without `listings:write` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing, or not this caller's to read interests of (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings/{id}/interests")]
pub async fn list_interests(
    caller: CallerOf,
    id: web::Path<String>,
    asked: Listed<Interest, InterestQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    require_token(&caller)?;
    let listing = listing_id(&id)?;
    let answered = asked.filters.answered()?;
    asked
        .respond(
            CachePolicy::Private,
            move |conn, slice| {
                publishers_listing(conn, &caller, listing)?;
                let filter = InterestFilter { listing, answered, after: slice.after, limit: slice.probe };
                let total = slice.total(|| interests::count(conn, &filter))?;
                Ok((interests::list(conn, &filter)?, total))
            },
            |i| i.id,
            |i| InterestResponse::from(&i),
        )
        .await
}

/// Read one interest in a listing (its publisher and the operator).
///
/// The sender's message and contact, to answer it; the `ETag` is its version. To anyone but the
/// publishing organization's clients with `listings:write` and the operator, the listing does
/// not exist (404).
#[utoipa::path(
    tag = "interests",
    operation_id = "get_interest",
    security(("oauth2" = ["listings:write"])),
    params(("id" = Uuid, Path, description = "Listing id"), ("interest_id" = Uuid, Path, description = "Interest id")),
    responses(
        (status = 200, description = "The interest, with the sender's contact; `ETag` carries its version", body = InterestResponse, headers(("ETag" = String))),
        (status = 400, description = "An id is not a UUID (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A client of the publishing organization without `listings:write` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing, or not this caller's (`listing_not_found`); no such interest in it (`interest_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings/{id}/interests/{interest_id}")]
pub async fn get_interest(
    db: web::Data<Db>,
    caller: CallerOf,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    require_token(&caller)?;
    let (listing, interest) = (listing_id(&path.0)?, interest_id(&path.1)?);
    let interest = with_conn(&db, move |conn| {
        publishers_listing(conn, &caller, listing)?;
        interests::find(conn, interest)?
            .filter(|i| i.listing_id == listing)
            .ok_or(ApiError::NotFound { entity: Entity::Interest })
    })
    .await?;
    let body = InterestResponse::from(&interest);
    Ok(kit::with_etag(CachePolicy::Private.ok(), &interest, body))
}

/// Mark an interest answered (its publisher and the operator).
///
/// Idempotent: answering an answered interest changes nothing and keeps the first time.
#[utoipa::path(
    tag = "interests",
    operation_id = "answer_interest",
    security(("oauth2" = ["listings:write"])),
    params(("id" = Uuid, Path, description = "Listing id"), ("interest_id" = Uuid, Path, description = "Interest id")),
    responses(
        (status = 200, description = "The interest, answered", body = InterestResponse, headers(("ETag" = String))),
        (status = 400, description = "An id is not a UUID (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A client of the publishing organization without `listings:write` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing, or not this caller's (`listing_not_found`); no such interest in it (`interest_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another write changed the interest meanwhile (`edit_conflict`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/{id}/interests/{interest_id}/answer")]
pub async fn answer_interest(
    db: web::Data<Db>,
    caller: CallerOf,
    path: web::Path<(String, String)>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    require_token(&caller)?;
    let (listing, interest) = (listing_id(&path.0)?, interest_id(&path.1)?);
    let author = author_of(&caller);
    let interest = with_conn(&db, move |conn| {
        publishers_listing(conn, &caller, listing)?;
        versioned::modify(conn, interest, &author, &InterestLogEntry::of, |_, interest: &mut Interest| {
            if interest.listing_id != listing {
                return Err(ApiError::NotFound { entity: Entity::Interest });
            }
            Ok(Answered(interest.answer(clock.now())))
        })
    })
    .await?;
    let body = InterestResponse::from(&interest);
    Ok(kit::with_etag(CachePolicy::Private.ok(), &interest, body))
}

/// The counts a listing's publisher and the operator see on the listing; `None` for anyone else.
pub fn count_for(
    conn: &mut DbConn,
    caller: &Caller,
    listing: &Listing,
) -> Result<Option<techex_domain::interest::InterestCount>, ApiError> {
    if may_read_interests(caller, listing).is_err() {
        return Ok(None);
    }
    Ok(Some(interests::count_of(conn, listing.id)?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(send_interest).service(list_interests).service(get_interest).service(answer_interest);
}
