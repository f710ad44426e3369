//! `/v1/listings`: technology offers and demands, their lifecycle and their pages.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use techex_domain::access::{self, Caller, lifecycle_action, may_read_listing};
use techex_domain::{
    LifecycleAction, Listing, ListingContent, ListingId, ListingKind, ListingStatus, Message, RestorePeriod, Text,
    ValidationErrors, refdata,
};
use techex_persistence::change_log::Author;
use techex_persistence::listings::{self, ListingFilter, ListingWrite};
use techex_persistence::{Db, DbConn, Entity, organizations};
use utoipa::IntoParams;

use crate::auth::CallerOf;
use crate::clock::Clock;
use crate::error::{ApiError, BodyRefused, Problem, QueryRefused, StaleVersion};
use crate::etag;
use crate::extract::JsonBody;
use crate::kit::{self, Chosen, Listed, Page, PageQuery, PageRequest, Resource, Target};
use crate::language::LanguageQuery;
use crate::query::{self, FieldsQuery};
pub use crate::routes::listings_dto::ListingResponse;
use crate::routes::listings_dto::{self as dto};
use crate::routes::vocabulary_dto as words;
use crate::routes::{merge_patch_body, patched, with_conn};

impl Resource for Listing {
    type Public = ListingResponse;
}

/// Filters of the listing search. A filter given several values (`province=79,75`) matches any
/// of them; different filters must all match. Unknown parameters are refused, so typos do not
/// pass silently as "no filter".
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListingQuery {
    /// `published` (the default, public). Any other status lists the caller's own organization's
    /// listings, or, for moderators, every organization's (`pending_review` is the review queue).
    #[param(value_type = Option<words::ListingStatus>, example = "published")]
    status: Option<String>,
    /// Only the listings of this publishing organization.
    #[param(value_type = Option<Uuid>)]
    publisher: Option<String>,
    /// `offer`, `demand`, or both.
    #[param(value_type = Vec<words::ListingKind>, style = Form, explode, max_items = 2, example = json!(["offer"]))]
    #[serde(default)]
    kind: Vec<String>,
    /// Province codes (two digits), current or pre-2025: `74` (Bình Dương) finds listings of Ho
    /// Chi Minh City.
    #[param(style = Form, explode, max_items = 20, example = json!(["79", "75"]))]
    #[serde(default)]
    province: Vec<String>,
    /// Leading digits (one to three) of S&T field codes: `2` matches every engineering field,
    /// `206` one.
    #[param(style = Form, explode, max_items = 10, example = json!(["2", "401"]))]
    #[serde(default)]
    field: Vec<String>,
    /// `true`: the caller's own organization's deleted listings (status `withdrawn`), which it
    /// may restore; nobody else sees them (the operator sees every organization's).
    #[param(value_type = Option<bool>)]
    deleted: Option<String>,
}

impl ListingQuery {
    fn filter(&self, caller: &Caller, page: PageRequest, now: DateTime<Utc>) -> Result<ListingFilter, ApiError> {
        let mut errors = ValidationErrors::default();
        let deleted = query::flag(self.deleted.as_deref(), "deleted", &mut errors);
        let status = match self.status.as_deref().map(str::parse::<ListingStatus>) {
            None if deleted => ListingStatus::Withdrawn,
            None => ListingStatus::Published,
            Some(Ok(status)) if deleted && status != ListingStatus::Withdrawn => {
                errors.add("status", Text::DeletedAreWithdrawn);
                status
            }
            Some(Ok(status)) => status,
            Some(Err(e)) => {
                errors.add("status", Message::new(Text::OneOf).with("allowed", e.expected.join(", ")));
                ListingStatus::Published
            }
        };
        let publisher = kit::query_id(self.publisher.as_deref(), "publisher", Text::NotOrganizationId, &mut errors);
        let kinds = self
            .kind
            .iter()
            .filter_map(|k| match k.parse::<ListingKind>() {
                Ok(kind) => Some(kind),
                Err(e) => {
                    errors.add("kind", Message::new(Text::OneOf).with("allowed", e.expected.join(", ")));
                    None
                }
            })
            .collect();
        let mut provinces: Vec<String> = Vec::new();
        for code in &self.province {
            match refdata::current_province(code) {
                Some(p) if !provinces.contains(&p.code) => provinces.push(p.code.clone()),
                Some(_) => {}
                None => errors.add("province", Message::new(Text::UnknownProvince).with("value", code)),
            }
        }
        for field in &self.field {
            if !(1..=3).contains(&field.len()) || !field.chars().all(|c| c.is_ascii_digit()) {
                errors.add("field", Text::FieldFilter);
            }
        }
        errors.finish(()).map_err(ApiError::InvalidQuery)?;
        let publisher = if deleted {
            access::listable_deleted(caller, publisher)?
        } else {
            access::listable_publisher(caller, status, publisher)?
        };
        Ok(ListingFilter {
            status,
            deleted,
            publisher,
            kinds,
            provinces,
            field_prefixes: self.field.clone(),
            after: page.after.map(ListingId),
            limit: page.limit,
            live_at: now,
        })
    }
}

/// Cache headers of a read: shared caches may keep what anonymous callers see; what an
/// authenticated caller sees (contacts, own drafts) stays private.
fn cache_headers(response: &mut HttpResponseBuilder, caller: &Caller, public: bool) {
    let policy = if public && caller.is_none() { "public, max-age=30" } else { "private, no-cache" };
    response.insert_header((header::CACHE_CONTROL, policy)).insert_header((header::VARY, "Authorization"));
}

/// Search listings.
///
/// Published ones for anyone; drafts, listings under review and the rest for their organization
/// and for moderators. Filters combine; pages come newest first, and `next_cursor` (and the
/// `Link` header) lead to the next one.
#[utoipa::path(
    tag = "listings",
    operation_id = "list_listings",
    params(ListingQuery, PageQuery, FieldsQuery, LanguageQuery),
    security((), ("oauth2" = [])),
    responses(
        (status = 200, description = "A page of listings, newest first. A `Link: <...>; rel=\"next\"` header points at the next page. Contacts are shown to authenticated callers only.", body = dto::ListingPage,
         headers(("ETag" = String, description = "A hash of the page; send it as If-None-Match to get 304 while the page is unchanged"))),
        QueryRefused,
        (status = 401, description = "The access token is invalid (`invalid_token`), or a status other than `published` was asked for without one (`unauthorized`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Another organization's unpublished listings were asked for (`forbidden`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings")]
pub async fn list_listings(
    caller: CallerOf,
    asked: Listed<Listing, ListingQuery>,
    clock: web::Data<Clock>,
    period: web::Data<RestorePeriod>,
) -> Result<HttpResponse, ApiError> {
    let page = asked.page;
    let now = clock.now();
    let filter = asked.filters.filter(&caller.0, page, now)?;
    let public = filter.status == ListingStatus::Published;
    let count = asked.total;
    let (rows, total) = with_conn(&asked.db, move |conn| {
        let total = if count { Some(listings::count(conn, &filter)?) } else { None };
        let probe = ListingFilter { limit: page.probe(), ..filter };
        Ok((listings::list(conn, &probe)?, total))
    })
    .await?;
    let (items, next_cursor, mut response) = kit::page(&asked.req, rows, page, |l| l.id.0);
    cache_headers(&mut response, &caller.0, public);
    let items = items.into_iter().map(|l| ListingResponse::seen_at(l, &caller.0, now, **period)).collect();
    Ok(asked.answer(response, Page { items, next_cursor, total }))
}

fn listing_id(raw: &str) -> Result<ListingId, ApiError> {
    kit::id_param(Entity::Listing, raw)
}

fn with_etag(response: HttpResponseBuilder, listing: Listing, caller: &Caller) -> HttpResponse {
    let body = ListingResponse::for_caller(listing.clone(), caller);
    kit::with_etag(response, &listing, body)
}

/// The rules of a write that need the database, checked for what the write changes (so records
/// written before a rule existed can still be edited): the owner named must be the publisher's
/// own organization (any existing one, for the operator), co-owners' organizations must exist, and a source exchange must be held by
/// the publishing organization, so no one can write under another exchange's records.
fn check_claims(
    conn: &mut DbConn,
    actor: &access::Actor,
    listing: &Listing,
    before: Option<&ListingContent>,
) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::default();
    let content = &listing.content;
    let owner = content.owner.organization_id;
    if let Some(owner) = owner.filter(|_| owner != before.and_then(|c| c.owner.organization_id)) {
        if !access::may_claim_owner(actor, owner) {
            errors.add("owner.organization_id", Text::NotYourOrganization);
        } else if organizations::find(conn, owner)?.is_none() {
            errors.add("owner.organization_id", Message::new(Text::UnknownOrganization).with("id", owner));
        }
    }
    let co_owners_before = |id| before.is_some_and(|c| c.co_owners.iter().any(|o| o.organization_id == Some(id)));
    for (i, co_owner) in content.co_owners.iter().enumerate() {
        if let Some(id) = co_owner.organization_id.filter(|id| !co_owners_before(*id))
            && organizations::find(conn, id)?.is_none()
        {
            errors
                .add(format!("co_owners[{i}].organization_id"), Message::new(Text::UnknownOrganization).with("id", id));
        }
    }
    let source_key = |c: &ListingContent| c.source.as_ref().map(|s| (s.exchange.clone(), s.external_id.clone()));
    if let Some((exchange, _)) = source_key(content).filter(|key| Some(key) != before.and_then(source_key).as_ref()) {
        let holder = organizations::source_exchange_holder(conn, &exchange)?;
        if holder.is_none() || holder != listing.publisher {
            errors.add("source.exchange", Message::new(Text::SourceExchangeNotHeld).with("value", &exchange));
        }
    }
    errors.finish(()).map_err(ApiError::Validation)
}

fn author(actor: &access::Actor) -> Author {
    Author::client(actor.client_id, actor.organization_id)
}

/// The author of a write: refused before any database work when the caller is anonymous.
fn author_of(caller: &Caller) -> Result<Author, ApiError> {
    caller.as_ref().map(author).ok_or(ApiError::Denied(access::Denied::Unauthenticated))
}

/// Read one listing.
///
/// Published listings are public; others only for their publisher and moderators. Contacts are
/// shown to authenticated callers only. The `ETag` is the listing's version: send it as
/// `If-None-Match` to hear 304 while it is unchanged, or as `If-Match` on a change.
#[utoipa::path(
    tag = "listings",
    operation_id = "get_listing",
    security((), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Listing id"),
           FieldsQuery,
           LanguageQuery,
           ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag from an earlier read; answered 304 when unchanged")),
    responses(
        (status = 200, description = "The listing (with `fields`, only those members); `ETag` carries its version", body = ListingResponse,
         headers(("ETag" = String, description = "`\"v<version>\"`; with `fields`, `\"v<version>.f<field set>\"`, another tag for each field set. Either names the version in `If-Match`."))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "The id is not a UUID (`invalid_path`), `fields` names an unknown member or the query another parameter (`invalid_query`), or If-None-Match is too long (`invalid_header`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The access token is invalid (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing, or not one this caller may see (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings/{id}")]
pub async fn get_listing(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: CallerOf,
    id: web::Path<String>,
    chosen: Chosen<Listing>,
    clock: web::Data<Clock>,
    period: web::Data<RestorePeriod>,
) -> Result<HttpResponse, ApiError> {
    let id = listing_id(&id)?;
    if req.headers().get(header::IF_NONE_MATCH).is_some_and(|v| v.len() > etag::IF_MATCH_MAX_LENGTH) {
        return Err(ApiError::InvalidHeader(Text::IfNoneMatchTooLong));
    }
    let caller = caller.0;
    let now = clock.now();
    let listing = with_conn(&db, move |conn| kit::find::<Listing>(conn, id)).await?.as_seen_at(now);
    if !may_read_listing(&caller, &listing) {
        return Err(ApiError::NotFound { entity: Entity::Listing });
    }
    // If-None-Match is answered (304) once the representation is made: its tag depends on the
    // language the read is answered in (see `crate::language`).
    let public = listing.status == ListingStatus::Published;
    let mut response = HttpResponse::Ok();
    cache_headers(&mut response, &caller, public);
    let body = ListingResponse::seen_at(listing.clone(), &caller, now, **period);
    Ok(kit::with_fields(response, &listing, body, &chosen.fields))
}

/// Create a listing for the caller's organization.
///
/// It starts as a draft, seen only by its organization and moderators until it is submitted and
/// published. A `source` (the exchange and its own id for the record) lets a portal push the
/// listings it already holds without creating them twice.
#[utoipa::path(
    tag = "listings",
    operation_id = "create_listing",
    security(("oauth2" = ["listings:write"])),
    request_body(content = dto::ListingContent, description = "The listing as the publisher writes it"),
    responses(
        (status = 201, description = "Created as a draft; `Location` names it", body = ListingResponse,
         headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `listings:write` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another listing has the same `source` (`duplicate_source`)", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        (status = 422, description = "A field is invalid (`validation_failed`); `errors` names each", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings")]
pub async fn create_listing(
    db: web::Data<Db>,
    caller: CallerOf,
    body: JsonBody,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let actor = access::may_create_listing(&caller)?.clone();
    let now = clock.now();
    let valid = web::block(move || {
        let content: ListingContent = body.parse::<dto::ListingContent>()?.into();
        content.validate(now).map_err(ApiError::Validation)
    })
    .await??;
    let listing = Listing::draft(valid, Some(actor.organization_id), now);
    let author = author(&actor);
    let listing = with_conn(&db, move |conn| {
        check_claims(conn, &actor, &listing, None)?;
        kit::create(conn, &listing, &author, |conn| listings::insert(conn, &listing))?;
        Ok(listing)
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/listings/{}", listing.id)));
    Ok(with_etag(response, listing, &caller))
}

/// Change a listing's content with a JSON merge patch.
///
/// RFC 7386: keys present replace, `null` removes, absent keys stay. The patched listing is
/// checked whole, as on creation; with `If-Match`, the change applies only to the version named.
#[utoipa::path(
    tag = "listings",
    operation_id = "update_listing",
    security(("oauth2" = ["listings:write"])),
    params(("id" = Uuid, Path, description = "Listing id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|"v[0-9]+"( *, *"v[0-9]+")*)$"#, description = "The ETag last read; the update is refused with 412 if the listing changed since")),
    request_body(content = Object, description = "A merge patch of the listing content, e.g. `{\"trl\": 8, \"title\": {\"vi\": \"...\"}}`",
                 content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated listing", body = ListingResponse, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, id or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the publisher's client (`forbidden`) or no `listings:write` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Duplicate source or a concurrent edit", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        BodyRefused,
        (status = 422, description = "The patched listing is invalid (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/listings/{id}")]
pub async fn update_listing(
    target: Target<Listing>,
    body: JsonBody,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let Target { db, caller, id, if_match: expected } = target;
    let author = author_of(&caller)?;
    let writer = caller.clone();
    let listing = with_conn(&db, move |conn| {
        let patch = merge_patch_body(body)?;
        kit::modify(conn, id, &author, |conn, listing: &mut Listing| {
            let actor = access::may_edit_listing(&writer, listing)?;
            kit::check_version(listing, expected.as_deref())?;
            let content: ListingContent = patched(&dto::ListingContent::from(listing.content.clone()), &patch)?.into();
            let now = clock.now();
            let valid = content.validate(now).map_err(ApiError::Validation)?;
            if valid.content == listing.content {
                return Ok(ListingWrite::Unchanged);
            }
            let before = listing.content.clone();
            listing.revise(valid, now, access::edits_skip_review(actor));
            check_claims(conn, actor, listing, Some(&before))?;
            Ok(ListingWrite::Updated)
        })
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), listing, &caller))
}

/// Delete a listing.
///
/// It is withdrawn and no longer served, and the change log records a tombstone for partners'
/// feeds. Its organization still reads it (with `deleted_at`) and may restore it within the
/// restore period; to everyone else it is gone (404). With `If-Match`, only the version named is
/// deleted.
#[utoipa::path(
    tag = "listings",
    operation_id = "delete_listing",
    security(("oauth2" = ["listings:write"])),
    params(("id" = Uuid, Path, description = "Listing id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|"v[0-9]+"( *, *"v[0-9]+")*)$"#, description = "The ETag last read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the publisher's client, or no `listings:write`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
    )
)]
#[delete("/listings/{id}")]
pub async fn delete_listing(target: Target<Listing>, clock: web::Data<Clock>) -> Result<HttpResponse, ApiError> {
    let Target { db, caller, id, if_match: expected } = target;
    let author = author_of(&caller)?;
    with_conn(&db, move |conn| {
        kit::modify(conn, id, &author, |_, listing: &mut Listing| {
            access::may_edit_listing(&caller, listing)?;
            kit::check_version(listing, expected.as_deref())?;
            listing.withdraw_for_deletion(clock.now());
            Ok(ListingWrite::Deleted)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn move_listing(
    target: Target<Listing>,
    clock: web::Data<Clock>,
    period: RestorePeriod,
    requested: LifecycleAction,
) -> Result<HttpResponse, ApiError> {
    let Target { db, caller, id, if_match: expected } = target;
    let author = author_of(&caller)?;
    let mover = caller.clone();
    let listing = with_conn(&db, move |conn| {
        kit::modify(conn, id, &author, |_, listing: &mut Listing| {
            let (actor, action) = lifecycle_action(&mover, listing, requested)?;
            if expected.is_none() && access::is_approval(actor, listing, action) {
                return Err(ApiError::PreconditionRequired(Text::ApproveWithIfMatch));
            }
            kit::check_version(listing, expected.as_deref())?;
            let now = clock.now();
            if action == LifecycleAction::Restore
                && listing.status == ListingStatus::Withdrawn
                && !listing.is_restorable(now, period)
            {
                return Err(ApiError::RestorePeriodOver { days: period.days() });
            }
            listing.apply(action, now)?;
            Ok(ListingWrite::Moved(action))
        })
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), listing, &caller))
}

/// Declares one lifecycle endpoint; they differ only in the action and its documentation.
macro_rules! lifecycle_endpoint {
    ($name:ident, $path:literal, $action:expr, $summary:literal, $rules:literal) => {
        #[doc = $summary]
        #[utoipa::path(
            tag = "listings",
            operation_id = stringify!($name),
            description = $rules,
            security(("oauth2" = [])),
            params(("id" = Uuid, Path, description = "Listing id"),
                   ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|"v[0-9]+"( *, *"v[0-9]+")*)$"#, description = "The ETag last read")),
            responses(
                (status = 200, description = "The listing in its new status", body = ListingResponse, headers(("ETag" = String))),
                (status = 400, description = "Malformed id or If-Match", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "No or an invalid access token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "The caller may not make this move (`forbidden`, `insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such listing (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "The listing's status does not allow this move (`illegal_transition`), or its restore period is over (`restore_period_over`)", body = Problem, content_type = "application/problem+json"),
                StaleVersion,
            )
        )]
        #[post($path)]
        pub async fn $name(
            target: Target<Listing>,
            clock: web::Data<Clock>,
            period: web::Data<RestorePeriod>,
        ) -> Result<HttpResponse, ApiError> {
            move_listing(target, clock, **period, $action).await
        }
    };
}

lifecycle_endpoint!(
    submit_listing,
    "/listings/{id}/submit",
    LifecycleAction::Submit,
    "Submit a draft (or a rejected listing) for review.",
    "Allowed from `draft` and `rejected`; leads to `pending_review`. Needs `listings:write` in the publishing organization."
);
lifecycle_endpoint!(
    publish_listing,
    "/listings/{id}/publish",
    LifecycleAction::Publish,
    "Publish a listing.",
    "Allowed from `draft` and `pending_review`; leads to `published`. The publishing organization needs `listings:write` and `listings:publish`; without `listings:publish` a draft is submitted for review instead (the answer shows `pending_review`). A moderator (`listings:moderate`) publishes a listing under review."
);
lifecycle_endpoint!(
    reject_listing,
    "/listings/{id}/reject",
    LifecycleAction::Reject,
    "Reject a listing under review.",
    "Allowed from `pending_review`; leads to `rejected`. Needs `listings:moderate`."
);
lifecycle_endpoint!(
    withdraw_listing,
    "/listings/{id}/withdraw",
    LifecycleAction::Withdraw,
    "Withdraw a listing from the market.",
    "Allowed from `pending_review` and `published`; leads to `withdrawn`. The publishing organization (`listings:write`) or a moderator."
);
lifecycle_endpoint!(
    close_listing,
    "/listings/{id}/close",
    LifecycleAction::Close,
    "Close a published listing (the deal is done).",
    "Allowed from `published`; leads to `closed`. Needs `listings:write` in the publishing organization."
);

lifecycle_endpoint!(
    restore_listing,
    "/listings/{id}/restore",
    LifecycleAction::Restore,
    "Restore a withdrawn or deleted listing as a draft.",
    "Allowed from `withdrawn`, deleted listings included, within the restore period after the withdrawal or deletion (`TECHEX_RESTORE_DAYS`, 30 days by default; later: 409 `restore_period_over`); leads to `draft`, to be submitted or published again. Needs `listings:write` in the publishing organization. A deleted listing gets its `source` back, unless another listing took it meanwhile (409 `duplicate_source`)."
);

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_listings)
        .service(create_listing)
        .service(get_listing)
        .service(update_listing)
        .service(delete_listing)
        .service(submit_listing)
        .service(publish_listing)
        .service(reject_listing)
        .service(withdraw_listing)
        .service(close_listing)
        .service(restore_listing);
}
