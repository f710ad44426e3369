//! `/v1/listings`: technology offers and demands, their lifecycle and their pages.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::listing::{Contact, LocalizedText, Media, Owner, Price, Source};
use techex_domain::{
    IpStatus, LifecycleAction, Listing, ListingContent, ListingId, ListingKind, ListingStatus, Right, TransferForm,
    TransferMethod, ValidationErrors, refdata,
};
use techex_persistence::Db;
use techex_persistence::listings::{self, ListingFilter, ListingWrite};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::etag;
use crate::extract::{ValidJson, from_value, if_match_version, path_param};
use crate::routes::with_conn;

pub const DEFAULT_PAGE: i64 = 20;
pub const MAX_PAGE: i64 = 100;

/// A listing as the hub answers it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListingResponse {
    pub id: Uuid,
    pub kind: ListingKind,
    pub status: ListingStatus,
    /// Grows by one with every write; the ETag is `"v<version>"`.
    pub version: i64,
    pub title: LocalizedText,
    pub summary: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub keywords: Vec<String>,
    pub field_codes: Vec<String>,
    pub trl: Option<i64>,
    pub ip_status: IpStatus,
    pub ip_refs: Vec<String>,
    pub transfer_forms: Vec<TransferForm>,
    pub transfer_methods: Vec<TransferMethod>,
    pub rights: Vec<Right>,
    pub price: Price,
    /// The current province code (after the 2025 reorganization).
    #[schema(example = "79")]
    pub province: String,
    /// The province code as the publisher sent it.
    #[schema(example = "74")]
    pub province_as_sent: String,
    pub owner: Owner,
    pub contact: Option<Contact>,
    pub media: Vec<Media>,
    pub source: Option<Source>,
    /// The organization whose client published the listing.
    pub publisher: Option<Uuid>,
    /// Lifecycle actions the listing's status allows now.
    pub allowed_actions: Vec<LifecycleAction>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl From<Listing> for ListingResponse {
    fn from(listing: Listing) -> Self {
        let c = listing.content;
        ListingResponse {
            id: listing.id.0,
            kind: c.kind,
            status: listing.status,
            version: listing.version,
            title: c.title,
            summary: c.summary,
            description: c.description,
            keywords: c.keywords,
            field_codes: c.field_codes,
            trl: c.trl,
            ip_status: c.ip_status,
            ip_refs: c.ip_refs,
            transfer_forms: c.transfer_forms,
            transfer_methods: c.transfer_methods,
            rights: c.rights,
            price: c.price,
            province: listing.province,
            province_as_sent: c.province,
            owner: c.owner,
            contact: c.contact,
            media: c.media,
            source: c.source,
            publisher: listing.publisher,
            allowed_actions: listing.status.allowed_actions(),
            expires_at: c.expires_at,
            created_at: listing.created_at,
            updated_at: listing.updated_at,
            published_at: listing.published_at,
        }
    }
}

/// A page of listings, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListingPage {
    pub items: Vec<ListingResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of the public listing search. Unknown parameters are refused, so typos do not pass
/// silently as "no filter".
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListingQuery {
    /// `offer` or `demand`.
    #[param(example = "offer")]
    kind: Option<String>,
    /// A province code, current or pre-2025: `74` (Bình Dương) finds listings of Ho Chi Minh City.
    #[param(example = "79")]
    province: Option<String>,
    /// The leading digits of an S&T field code: `2` matches every engineering field, `206` one.
    #[param(example = "2")]
    field: Option<String>,
    /// Page size, 1 to 100 (default 20); larger values are refused, not clamped.
    #[param(example = 20)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl ListingQuery {
    fn into_filter(self) -> Result<ListingFilter, ApiError> {
        let mut errors = ValidationErrors::default();
        let kind = self.kind.as_deref().and_then(|k| match k.parse::<ListingKind>() {
            Ok(kind) => Some(kind),
            Err(e) => {
                errors.add("kind", "invalid_value", e.to_string());
                None
            }
        });
        let province = self.province.as_deref().and_then(|code| match refdata::current_province(code) {
            Some(p) => Some(p.code.clone()),
            None => {
                errors.add("province", "unknown_province", format!("'{code}' is not a province code"));
                None
            }
        });
        if let Some(field) = self.field.as_deref()
            && (!(1..=3).contains(&field.len()) || !field.chars().all(|c| c.is_ascii_digit()))
        {
            errors.add("field", "invalid_format", "one to three digits of an S&T field code");
        }
        let limit = match self.limit.as_deref().map(str::parse::<i64>) {
            None => DEFAULT_PAGE,
            Some(Ok(n)) if (1..=MAX_PAGE).contains(&n) => n,
            Some(_) => {
                errors.add("limit", "out_of_range", format!("a whole number from 1 to {MAX_PAGE}"));
                DEFAULT_PAGE
            }
        };
        let after = self.cursor.as_deref().and_then(|c| match decode_cursor(c) {
            Some(id) => Some(id),
            None => {
                errors.add("cursor", "invalid_cursor", "pass the next_cursor of a previous page unchanged");
                None
            }
        });
        errors.finish(()).map_err(ApiError::InvalidQuery)?;
        Ok(ListingFilter { status: ListingStatus::Published, kind, province, field_prefix: self.field, after, limit })
    }
}

const CURSOR_PREFIX: &str = "v1:";

fn encode_cursor(id: ListingId) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{id}"))
}

fn decode_cursor(cursor: &str) -> Option<ListingId> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix(CURSOR_PREFIX)?.parse().ok()
}

/// The URL of the next page: this request's query with the cursor replaced.
fn next_link(req: &HttpRequest, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string()).map(|q| q.into_inner()).unwrap_or_default();
    pairs.retain(|(k, _)| k != "cursor");
    pairs.push(("cursor".to_owned(), cursor.to_owned()));
    let query: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v))).collect();
    format!("{}?{}", req.path(), query.join("&"))
}

fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Search published listings.
#[utoipa::path(
    tag = "listings",
    operation_id = "list_listings",
    params(ListingQuery),
    responses(
        (status = 200, description = "A page of published listings, newest first. A `Link: <...>; rel=\"next\"` header points at the next page.", body = ListingPage),
        (status = 400, description = "A query parameter is invalid (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings")]
pub async fn list_listings(
    req: HttpRequest,
    db: web::Data<Db>,
    query: web::Query<ListingQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.into_inner().into_filter()?;
    let limit = filter.limit;
    let mut items = with_conn(&db, move |conn| {
        let mut probe = filter.clone();
        probe.limit = limit + 1;
        Ok(listings::list(conn, &probe)?)
    })
    .await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|l| encode_cursor(l.id))
    } else {
        None
    };
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, "public, max-age=30"));
    if let Some(cursor) = &next_cursor
        && let Ok(link) = HeaderValue::from_str(&format!("<{}>; rel=\"next\"", next_link(&req, cursor)))
    {
        response.insert_header((header::LINK, link));
    }
    Ok(response.json(ListingPage { items: items.into_iter().map(ListingResponse::from).collect(), next_cursor }))
}

fn listing_id(raw: &str) -> Result<ListingId, ApiError> {
    path_param("id", raw, "a listing id (UUID)")
}

fn with_etag(mut response: actix_web::HttpResponseBuilder, listing: Listing) -> HttpResponse {
    response.insert_header((header::ETAG, etag::of_version(listing.version)));
    response.json(ListingResponse::from(listing))
}

/// Read one listing.
#[utoipa::path(
    tag = "listings",
    operation_id = "get_listing",
    params(("id" = Uuid, Path, description = "Listing id"),
           ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier read; answered 304 when unchanged")),
    responses(
        (status = 200, description = "The listing; `ETag` carries its version", body = ListingResponse,
         headers(("ETag" = String, description = "`\"v<version>\"`"))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "The id is not a UUID (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/listings/{id}")]
pub async fn get_listing(req: HttpRequest, db: web::Data<Db>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = listing_id(&id)?;
    let listing =
        with_conn(&db, move |conn| listings::find(conn, id)?.ok_or(ApiError::NotFound { entity: "listing" })).await?;
    let tag = etag::of_version(listing.version);
    let cache = if listing.status == ListingStatus::Published { "public, max-age=30" } else { "private, no-cache" };
    if let Some(candidates) = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && etag::none_match(candidates, &tag)
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    }
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, cache));
    Ok(with_etag(response, listing))
}

/// Create a listing; it starts as a draft.
#[utoipa::path(
    tag = "listings",
    operation_id = "create_listing",
    request_body(content = ListingContent, description = "The listing as the publisher writes it"),
    responses(
        (status = 201, description = "Created as a draft; `Location` names it", body = ListingResponse,
         headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another listing has the same `source` (`duplicate_source`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB (`body_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json` (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (`validation_failed`); `errors` names each", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings")]
pub async fn create_listing(db: web::Data<Db>, body: ValidJson<ListingContent>) -> Result<HttpResponse, ApiError> {
    let now = techex_domain::now();
    let valid = body.0.validate(now).map_err(ApiError::Validation)?;
    let listing = Listing::draft(valid, None, now);
    let listing = with_conn(&db, move |conn| {
        listings::create(conn, &listing, None)?;
        Ok(listing)
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/listings/{}", listing.id)));
    Ok(with_etag(response, listing))
}

/// Change a listing's content with a JSON merge patch (RFC 7386): keys present replace, `null`
/// removes, absent keys stay.
#[utoipa::path(
    tag = "listings",
    operation_id = "update_listing",
    params(("id" = Uuid, Path, description = "Listing id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last read; the update is refused with 412 if the listing changed since")),
    request_body(content = Object, description = "A merge patch of the listing content, e.g. `{\"trl\": 8, \"title\": {\"vi\": \"...\"}}`",
                 content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated listing", body = ListingResponse, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, id or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Duplicate source or a concurrent edit", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The listing changed since the If-Match version (`precondition_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The patched listing is invalid (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/listings/{id}")]
pub async fn update_listing(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
    body: ValidJson<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let id = listing_id(&id)?;
    let expected = if_match_version(&req)?;
    let patch = body.0;
    if !patch.is_object() {
        return Err(ApiError::Validation(ValidationErrors::single(
            "",
            "invalid_type",
            "a merge patch is a JSON object",
        )));
    }
    let listing = with_conn(&db, move |conn| {
        listings::modify(conn, id, None, |listing| {
            check_version(listing, expected)?;
            let mut content = serde_json::to_value(&listing.content).map_err(ApiError::internal)?;
            merge_patch(&mut content, &patch);
            let content: ListingContent = from_value(content)?;
            let now = techex_domain::now();
            listing.revise(content.validate(now).map_err(ApiError::Validation)?, now);
            Ok(ListingWrite::Updated)
        })
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), listing))
}

fn check_version(listing: &Listing, expected: Option<i64>) -> Result<(), ApiError> {
    match expected {
        Some(version) if version != listing.version => {
            Err(ApiError::PreconditionFailed { entity: "listing", current: listing.version })
        }
        _ => Ok(()),
    }
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let Some(patch) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(Default::default());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(serde_json::Value::Null), value);
        }
    }
}

/// Delete a listing: it is withdrawn and no longer served, and partners' feeds receive a tombstone.
#[utoipa::path(
    tag = "listings",
    operation_id = "delete_listing",
    params(("id" = Uuid, Path, description = "Listing id"),
           ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The listing changed since the If-Match version", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/listings/{id}")]
pub async fn delete_listing(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = listing_id(&id)?;
    let expected = if_match_version(&req)?;
    with_conn(&db, move |conn| {
        listings::modify(conn, id, None, |listing| {
            check_version(listing, expected)?;
            listing.withdraw_for_deletion(techex_domain::now());
            Ok(ListingWrite::Deleted)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn move_listing(
    req: HttpRequest,
    db: web::Data<Db>,
    id: web::Path<String>,
    action: LifecycleAction,
) -> Result<HttpResponse, ApiError> {
    let id = listing_id(&id)?;
    let expected = if_match_version(&req)?;
    let listing = with_conn(&db, move |conn| {
        listings::modify(conn, id, None, |listing| {
            check_version(listing, expected)?;
            listing.apply(action, techex_domain::now())?;
            Ok(ListingWrite::Moved(action))
        })
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), listing))
}

/// Declares one lifecycle endpoint; they differ only in the action and its documentation.
macro_rules! lifecycle_endpoint {
    ($name:ident, $path:literal, $action:expr, $summary:literal, $from:literal) => {
        #[doc = $summary]
        #[utoipa::path(
            tag = "listings",
            operation_id = stringify!($name),
            description = $from,
            params(("id" = Uuid, Path, description = "Listing id"),
                   ("If-Match" = Option<String>, Header, description = "The ETag last read")),
            responses(
                (status = 200, description = "The listing in its new status", body = ListingResponse, headers(("ETag" = String))),
                (status = 400, description = "Malformed id or If-Match", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such listing (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "The listing's status does not allow this move (`illegal_transition`)", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "The listing changed since the If-Match version", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[post($path)]
        pub async fn $name(req: HttpRequest, db: web::Data<Db>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
            move_listing(req, db, id, $action).await
        }
    };
}

lifecycle_endpoint!(
    submit_listing,
    "/listings/{id}/submit",
    LifecycleAction::Submit,
    "Submit a draft (or a rejected listing) for review.",
    "Allowed from `draft` and `rejected`; leads to `pending_review`."
);
lifecycle_endpoint!(
    publish_listing,
    "/listings/{id}/publish",
    LifecycleAction::Publish,
    "Publish a listing.",
    "Allowed from `draft` and `pending_review`; leads to `published`."
);
lifecycle_endpoint!(
    reject_listing,
    "/listings/{id}/reject",
    LifecycleAction::Reject,
    "Reject a listing under review.",
    "Allowed from `pending_review`; leads to `rejected`."
);
lifecycle_endpoint!(
    withdraw_listing,
    "/listings/{id}/withdraw",
    LifecycleAction::Withdraw,
    "Withdraw a listing from the market.",
    "Allowed from `pending_review` and `published`; leads to `withdrawn`."
);
lifecycle_endpoint!(
    close_listing,
    "/listings/{id}/close",
    LifecycleAction::Close,
    "Close a published listing (the deal is done).",
    "Allowed from `published`; leads to `closed`."
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
        .service(close_listing);
}
