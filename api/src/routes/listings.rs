//! `/v1/listings`: technology offers and demands, their lifecycle and their pages.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use techex_domain::access::{self, Caller, lifecycle_action, may_read_listing};
use techex_domain::listing::{TRL_MAX, TRL_MIN};
use techex_domain::search::{Q_MAX_CHARS, Q_MAX_WORDS, QueryProblem, SearchQuery, Sort};
use techex_domain::{
    LifecycleAction, Listing, ListingContent, ListingId, ListingKind, ListingStatus, Message, RestorePeriod, Text,
    ValidationErrors, refdata,
};
use techex_persistence::change_log::Author;
use techex_persistence::listings::{self, Facet, ListingFilter, ListingWrite, Refine};
use techex_persistence::{Db, DbConn, Entity, StoreError, organizations};
use utoipa::IntoParams;

use crate::auth::CallerOf;
use crate::clock::Clock;
use crate::error::{ApiError, BodyRefused, Problem, QueryRefused, StaleVersion};
use crate::etag;
use crate::extract::JsonBody;
use crate::kit::{self, Chosen, Listed, PageQuery, PageRequest, Resource, Target};
use crate::language::LanguageQuery;
use crate::pagination::{self, CursorKey};
use crate::query::{self, FieldsQuery};
pub use crate::routes::listings_dto::ListingResponse;
use crate::routes::listings_dto::{self as dto};
use crate::routes::search_dto::{
    FacetCount, FacetLabel, Facets, ListingItem, ListingSearchPage, ListingTombstone, SUGGESTIONS_MAX, SuggestedTitle,
    Suggestion, Suggestions,
};
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
    /// `true`, with `updated_since`: the page also carries the listings taken off the market
    /// (withdrawn, closed, expired, deleted, sent back to review) since then, as tombstones
    /// (`deleted: true`, with id, status, version and times only), in the same order and pages,
    /// so that a portal that only polls takes them down. Tombstones are kept for
    /// `TECHEX_TOMBSTONE_RETENTION_DAYS` (90 by default); a poller further behind exports again.
    #[param(value_type = Option<bool>)]
    include_deleted: Option<String>,
    /// Search words (at most 200 characters, 8 words) in the title, summary, description,
    /// keywords and owner name, in Vietnamese or English, with or without diacritics and in any
    /// case (`phan bon` finds "Phân bón"). Every word must appear; text in double quotes is a
    /// phrase; the last word, unless followed by a space, also matches the start of longer words
    /// (type-ahead). When nothing matches, one typo in words of five letters or more is forgiven
    /// and the page says so in `corrected_query`.
    #[param(example = "máy sấy nông sản")]
    q: Option<String>,
    /// The order: `relevance` (the default with `q`: the score described in the README, then
    /// newest), `newest` (the default without `q`), `updated` (most recently changed first),
    /// `price` (cheapest first) or `-price` (dearest first), `trl` (least mature first) or `-trl`
    /// (most mature first); listings without an amount or a TRL come last. Paging never skips or
    /// repeats a listing whose sort key stays the same between pages; one whose key changes
    /// (a price or TRL edited, any change under `updated`) may be missed or seen again at its new
    /// place.
    #[param(value_type = Option<String>, pattern = "^-?(relevance|newest|updated|price|trl)$", example = "-trl")]
    sort: Option<String>,
    /// Lowest TRL, 1 to 9; listings without a TRL match no TRL range.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 9, example = 5)]
    trl_min: Option<String>,
    /// Highest TRL, 1 to 9, not below `trl_min`.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 9, example = 9)]
    trl_max: Option<String>,
    /// Intellectual property statuses.
    #[param(value_type = Vec<words::IpStatus>, style = Form, explode, max_items = 10)]
    #[serde(default)]
    ip_status: Vec<String>,
    /// Transfer forms (Law 07/2017 Art. 5): a listing offering any of them.
    #[param(value_type = Vec<words::TransferForm>, style = Form, explode, max_items = 10)]
    #[serde(default)]
    transfer_form: Vec<String>,
    /// Transfer methods: a listing offering any of them.
    #[param(value_type = Vec<words::TransferMethod>, style = Form, explode, max_items = 10)]
    #[serde(default)]
    transfer_method: Vec<String>,
    /// Rights transferred: a listing granting any of them.
    #[param(value_type = Vec<words::Right>, style = Form, explode, max_items = 10)]
    #[serde(default)]
    right: Vec<String>,
    /// Lowest amount, whole đồng; needs `currency`. Listings without an amount match no price
    /// range.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9223372036854775807_i64, example = 100000000)]
    price_min: Option<String>,
    /// Highest amount, whole đồng, not below `price_min`; needs `currency`.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9223372036854775807_i64, example = 500000000)]
    price_max: Option<String>,
    /// The currency of `price_min` and `price_max`: `VND`, the only one listings are priced in.
    #[param(pattern = "^VND$", example = "VND")]
    currency: Option<String>,
    /// Listings changed at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-01T00:00:00Z")]
    updated_since: Option<String>,
    /// Listings published at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-01T00:00:00Z")]
    published_since: Option<String>,
    /// Counts to draw a filter sidebar with: any of `field`, `province`, `kind`, `trl`,
    /// `ip_status`, `transfer_form`; the page then carries `facets`.
    #[param(style = Form, explode, max_items = 6, example = json!(["province", "field", "trl"]))]
    #[serde(default)]
    facets: Vec<String>,
    /// The level of the `field` facet: 1 (the six broad fields, the default), 2 (the second
    /// digit) or 3 (the fields themselves).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 3, example = 1)]
    field_level: Option<String>,
}

/// The facets a search may count.
const FACETS: &[&str] = &["field", "province", "kind", "trl", "ip_status", "transfer_form"];

/// A whole number from `min` to `max`; problems go to `errors` against `name`.
pub(crate) fn bounded(raw: Option<&str>, name: &str, min: i64, max: i64, errors: &mut ValidationErrors) -> Option<i64> {
    let raw = raw?;
    match raw.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        Ok(_) => {
            errors.add(name, Message::new(Text::WholeNumberBetween).with("min", min).with("max", max));
            None
        }
        Err(_) => {
            errors.add_as(
                name,
                "invalid_format",
                Message::new(Text::WholeNumberBetween).with("min", min).with("max", max),
            );
            None
        }
    }
}

/// Words of a vocabulary; unknown ones go to `errors` against `name`.
fn words_of<W: std::str::FromStr<Err = techex_domain::listing::UnknownWord>>(
    raw: &[String],
    name: &str,
    errors: &mut ValidationErrors,
) -> Vec<W> {
    raw.iter()
        .filter_map(|w| match w.parse::<W>() {
            Ok(word) => Some(word),
            Err(e) => {
                errors.add(name, Message::new(Text::OneOf).with("allowed", e.expected.join(", ")));
                None
            }
        })
        .collect()
}

fn instant(raw: Option<&str>, name: &str, errors: &mut ValidationErrors) -> Option<DateTime<Utc>> {
    let raw = raw?;
    match DateTime::parse_from_rfc3339(raw) {
        Ok(at) if raw.len() <= kit::TIMESTAMP_MAX_LENGTH => Some(at.with_timezone(&Utc)),
        _ => {
            errors.add(name, Text::NotInstant);
            None
        }
    }
}

/// A range whose low end is above its high end names the low end's parameter.
fn check_range(min: Option<i64>, max: Option<i64>, names: (&str, &str), errors: &mut ValidationErrors) {
    if let (Some(low), Some(high)) = (min, max)
        && low > high
    {
        errors.add(
            names.0,
            Message::new(Text::RangeReversed).with("other", names.1).with("value", low).with("limit", high),
        );
    }
}

/// What a search asks beyond its filters: the facets to count and at which field level.
pub struct Asked {
    pub facets: Vec<&'static str>,
    pub field_level: u8,
}

impl ListingQuery {
    fn filter(
        &self,
        caller: &Caller,
        page: PageRequest,
        cursor_key: Option<&CursorKey>,
        now: DateTime<Utc>,
    ) -> Result<(ListingFilter, Asked), ApiError> {
        let mut errors = ValidationErrors::default();
        let query = match self.q.as_deref().map(SearchQuery::parse) {
            None => None,
            Some(Ok(query)) => query,
            Some(Err(QueryProblem::TooLong { length })) => {
                errors.add("q", Message::new(Text::TooLong).with("max", Q_MAX_CHARS).with("length", length));
                None
            }
            Some(Err(QueryProblem::TooManyWords { words })) => {
                errors.add("q", Message::new(Text::QueryTooManyWords).with("max", Q_MAX_WORDS).with("words", words));
                None
            }
        };
        let sort = match self.sort.as_deref() {
            None if query.is_some() => Sort::Relevance,
            None => Sort::Newest,
            Some(word) => match Sort::parse(word) {
                Some(Sort::Relevance) if self.q.is_none() => {
                    errors.add("sort", Text::RelevanceNeedsQuery);
                    Sort::Newest
                }
                // A query of punctuation only searches nothing: newest first.
                Some(Sort::Relevance) if query.is_none() => Sort::Newest,
                Some(sort) => sort,
                None => {
                    errors.add("sort", Message::new(Text::OneOf).with("allowed", Sort::WORDS.join(", ")));
                    Sort::Newest
                }
            },
        };
        let trl_min = bounded(self.trl_min.as_deref(), "trl_min", TRL_MIN, TRL_MAX, &mut errors);
        let trl_max = bounded(self.trl_max.as_deref(), "trl_max", TRL_MIN, TRL_MAX, &mut errors);
        check_range(trl_min, trl_max, ("trl_min", "trl_max"), &mut errors);
        let price_min = bounded(self.price_min.as_deref(), "price_min", 0, i64::MAX, &mut errors);
        let price_max = bounded(self.price_max.as_deref(), "price_max", 0, i64::MAX, &mut errors);
        check_range(price_min, price_max, ("price_min", "price_max"), &mut errors);
        match self.currency.as_deref() {
            None if self.price_min.is_some() || self.price_max.is_some() => {
                errors.add("currency", Text::PriceRangeNeedsCurrency)
            }
            Some(currency) if currency != "VND" => errors.add("currency", Text::OnlyVnd),
            _ => {}
        }
        let refine = Refine {
            query,
            trl_min,
            trl_max,
            ip_statuses: words_of(&self.ip_status, "ip_status", &mut errors),
            transfer_forms: words_of(&self.transfer_form, "transfer_form", &mut errors),
            transfer_methods: words_of(&self.transfer_method, "transfer_method", &mut errors),
            rights: words_of(&self.right, "right", &mut errors),
            price_min,
            price_max,
            updated_since: instant(self.updated_since.as_deref(), "updated_since", &mut errors),
            published_since: instant(self.published_since.as_deref(), "published_since", &mut errors),
            with_tombstones: query::flag(self.include_deleted.as_deref(), "include_deleted", &mut errors),
        };
        if refine.with_tombstones && self.updated_since.is_none() {
            errors.add("include_deleted", Text::IncludeDeletedNeedsUpdatedSince);
        }
        if refine.with_tombstones && (self.status.is_some() || self.deleted.is_some()) {
            errors.add("include_deleted", Text::IncludeDeletedPublishedOnly);
        }
        let mut facets = Vec::new();
        for name in &self.facets {
            match FACETS.iter().find(|f| **f == name.as_str()) {
                Some(known) if !facets.contains(known) => facets.push(*known),
                Some(_) => {}
                None => errors.add("facets", Message::new(Text::OneOf).with("allowed", FACETS.join(", "))),
            }
        }
        let field_level = bounded(self.field_level.as_deref(), "field_level", 1, 3, &mut errors).unwrap_or(1) as u8;
        let cursor_sort = cursor_sort(sort, refine.query.as_ref());
        let after_key = match (cursor_key, sort, page.after) {
            (None, Sort::Newest, _) | (None, _, None) => None,
            (Some(key), _, _) if key.sort == cursor_sort && sort != Sort::Newest => Some(key.key),
            _ => {
                errors.add("cursor", Text::CursorOfAnotherSort);
                None
            }
        };
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
        let filter = ListingFilter {
            status,
            deleted,
            publisher,
            kinds,
            provinces,
            field_prefixes: self.field.clone(),
            refine,
            sort,
            after: page.after.map(ListingId),
            after_key,
            limit: page.limit,
            live_at: now,
        };
        Ok((filter, Asked { facets, field_level }))
    }
}

/// Parameters of `GET /v1/listings` a saved search refuses: alerts are about published
/// listings, one at a time, so a status, an order, facets, pages and a choice of fields have no
/// meaning there.
pub const NOT_IN_SAVED_SEARCH: &[&str] = &[
    "status",
    "deleted",
    "include_deleted",
    "sort",
    "facets",
    "field_level",
    "limit",
    "cursor",
    "total",
    "fields",
    "lang",
];

/// The filter of a saved search's query, a query string of `GET /v1/listings`, read by the
/// same rules and refused with the same codes (each against `query.<parameter>`); the
/// parameters of [`NOT_IN_SAVED_SEARCH`] are refused (`not_in_saved_search`). The filter finds
/// published listings on the market at `now`, as an anonymous search does.
pub fn saved_search_filter(raw: &str, now: DateTime<Utc>) -> Result<ListingFilter, ApiError> {
    // The parameters refused here are left out of what is read next, so that every problem of
    // the query is told at once.
    let mut refused = ValidationErrors::default();
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(raw.as_bytes()).take(query::MAX_PARAMETERS + 1) {
        let bare = name.strip_suffix("[]").unwrap_or(&name);
        if NOT_IN_SAVED_SEARCH.contains(&bare) {
            refused.add(format!("query.{bare}"), Message::new(Text::NotInSavedSearch).with("name", bare));
        } else {
            rest.append_pair(&name, &value);
        }
    }
    // A body field, not the request's query string: 422 naming `query.<parameter>`.
    let in_query = |error: ApiError| match error {
        ApiError::InvalidQuery(found) => {
            let mut errors = refused.clone();
            for e in found.0 {
                let field = if e.field.is_empty() { "query".to_owned() } else { format!("query.{}", e.field) };
                errors.add_as(field, &e.code, e.message);
            }
            ApiError::Validation(errors)
        }
        other => other,
    };
    let rest = rest.finish();
    let values = query::read(&rest, &[query::accepted::<ListingQuery>()]).map_err(in_query)?;
    let asked: ListingQuery = query::take(&values).map_err(in_query)?;
    let page = PageRequest { limit: 1, after: None };
    let (filter, _) = asked.filter(&None, page, None, now).map_err(in_query)?;
    refused.finish(filter).map_err(ApiError::Validation)
}

/// What a cursor of `sort` is bound to: the sort, and for relevance the query (a short hash of
/// it), since the score depends on it.
fn cursor_sort(sort: Sort, query: Option<&SearchQuery>) -> String {
    use sha2::{Digest, Sha256};
    match (sort, query) {
        (Sort::Relevance, Some(query)) => {
            let hash = Sha256::digest(query.text().as_bytes());
            format!("relevance.{}", hash[..5].iter().map(|b| format!("{b:02x}")).collect::<String>())
        }
        (sort, _) => sort.as_str().to_owned(),
    }
}

/// The labels of a facet value from the vocabularies and reference data; `None` for a value they
/// do not know (then it is shown as itself).
fn facet_label(facet: &str, value: &str) -> FacetLabel {
    let (vi, en): (String, String) = match facet {
        "kind" => value.parse::<ListingKind>().map(|w| (w.label_vi().into(), w.label_en().into())).unwrap_or_default(),
        "ip_status" => value
            .parse::<techex_domain::IpStatus>()
            .map(|w| (w.label_vi().into(), w.label_en().into()))
            .unwrap_or_default(),
        "transfer_form" => value
            .parse::<techex_domain::TransferForm>()
            .map(|w| (w.label_vi().into(), w.label_en().into()))
            .unwrap_or_default(),
        "province" => {
            refdata::current_province(value).map(|p| (p.name_vi.clone(), p.name_en.clone())).unwrap_or_default()
        }
        "trl" => refdata::trl_levels()
            .iter()
            .find(|t| t.level.to_string() == value)
            .map(|t| (t.name_vi.clone(), t.name_en.clone()))
            .unwrap_or_default(),
        "field" => match refdata::field(value) {
            Some(f) => (f.name_vi.clone(), f.name_en.clone()),
            // A two-digit group has no name of its own: the name of its broad field.
            None => refdata::field(&value[..1.min(value.len())])
                .map(|f| (format!("{} ({value})", f.name_vi), format!("{} ({value})", f.name_en)))
                .unwrap_or_default(),
        },
        _ => Default::default(),
    };
    if vi.is_empty() { FacetLabel { vi: value.to_owned(), en: value.to_owned() } } else { FacetLabel { vi, en } }
}

fn persisted_facet(name: &str, field_level: u8) -> Facet {
    match name {
        "kind" => Facet::Kind,
        "province" => Facet::Province,
        "field" => Facet::Field(field_level),
        "trl" => Facet::Trl,
        "ip_status" => Facet::IpStatus,
        _ => Facet::TransferForm,
    }
}

/// Cache headers of a read: shared caches may keep what anonymous callers see; what an
/// authenticated caller sees (contacts, own drafts) stays private.
pub(crate) fn cache_headers(response: &mut HttpResponseBuilder, caller: &Caller, public: bool) {
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
        (status = 200, description = "A page of listings in the order of `sort`. A `Link: <...>; rel=\"next\"` header points at the next page. Contacts are shown to authenticated callers only. With `facets`, the counts for a filter sidebar; after a typo correction, `corrected_query`.", body = ListingSearchPage,
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
    let (filter, wanted) = asked.filters.filter(&caller.0, page, asked.cursor_key.as_ref(), now)?;
    let public = filter.status == ListingStatus::Published;
    let count = asked.total;
    let (rows, total, corrected, counts) = with_conn(&asked.db, move |conn| {
        let mut filter = ListingFilter { limit: page.probe(), ..filter };
        let mut rows = listings::list(conn, &filter)?;
        let mut corrected = None;
        // Nothing found as typed (not merely past the last page): try one typo per long word.
        if rows.is_empty() && filter.refine.query.is_some() {
            let first = ListingFilter { after: None, after_key: None, limit: 1, ..filter.clone() };
            if listings::list(conn, &first)?.is_empty()
                && let Some(better) = listings::correct(conn, &filter)?
            {
                let tried = ListingFilter {
                    refine: Refine { query: Some(better.clone()), ..filter.refine.clone() },
                    ..filter.clone()
                };
                let found = listings::list(conn, &tried)?;
                if !found.is_empty() || tried.after.is_some() {
                    rows = found;
                    corrected = Some(better);
                    filter = tried;
                }
            }
        }
        let total = if count { Some(listings::count(conn, &filter)?) } else { None };
        let asked: Vec<Facet> = wanted.facets.iter().map(|name| persisted_facet(name, wanted.field_level)).collect();
        let counts: Vec<_> = wanted.facets.iter().copied().zip(listings::facets(conn, &filter, &asked)?).collect();
        Ok((rows, total, corrected, counts))
    })
    .await?;
    let sort = rows_sort(&asked, &corrected);
    let limit = page.limit;
    let (items, next_cursor) = pagination::split_page_with(rows, limit, |(listing, key)| match key {
        Some(key) => pagination::encode_keyed_cursor(&sort, *key, listing.id.0),
        None => pagination::encode_cursor(listing.id.0),
    });
    let mut response = HttpResponse::Ok();
    pagination::link_next(&mut response, &asked.req, next_cursor.as_deref());
    cache_headers(&mut response, &caller.0, public);
    let items = items
        .into_iter()
        .map(|(l, _)| {
            let on_the_market = l.status == ListingStatus::Published
                && !l.is_deleted()
                && l.content.expires_at.is_none_or(|expiry| expiry > now);
            if on_the_market || !public {
                ListingItem::Listing(Box::new(ListingResponse::seen_at(l, &caller.0, now, **period)))
            } else {
                ListingItem::Tombstone(ListingTombstone::of(&l, now))
            }
        })
        .collect();
    let facets = (!counts.is_empty()).then(|| {
        let mut facets = Facets::default();
        for (name, values) in counts {
            let values = Some(
                values
                    .into_iter()
                    .map(|(value, count)| FacetCount { label: facet_label(name, &value), value, count })
                    .collect(),
            );
            match name {
                "kind" => facets.kind = values,
                "province" => facets.province = values,
                "field" => facets.field = values,
                "trl" => facets.trl = values,
                "ip_status" => facets.ip_status = values,
                _ => facets.transfer_form = values,
            }
        }
        facets
    });
    let corrected_query = corrected.map(|q| q.text());
    Ok(asked.answer(response, ListingSearchPage { items, next_cursor, total, corrected_query, facets }))
}

/// The sort a page's next cursor is bound to, for the query the page searched.
fn rows_sort(asked: &Listed<Listing, ListingQuery>, corrected: &Option<SearchQuery>) -> String {
    let typed = asked.filters.q.as_deref().and_then(|q| SearchQuery::parse(q).ok().flatten());
    let query = corrected.clone().or(typed);
    let sort = match asked.filters.sort.as_deref().and_then(Sort::parse) {
        Some(sort) => sort,
        None if query.is_some() => Sort::Relevance,
        None => Sort::Newest,
    };
    cursor_sort(sort, query.as_ref())
}

/// Complete what someone types in a search box.
///
/// Up to ten published listings whose title (Vietnamese or English, folded) holds every word
/// typed, the last one as the start of a word; titles holding the words in order first. Public
/// and cacheable.
#[utoipa::path(
    tag = "listings",
    operation_id = "suggest_listings",
    params(SuggestQuery),
    security(()),
    responses(
        (status = 200, description = "Titles completing `q`, best first; none for a `q` without letters or digits", body = Suggestions),
        QueryRefused,
    )
)]
#[get("/listings/suggest")]
pub async fn suggest_listings(
    db: web::Data<Db>,
    asked: query::Query<SuggestQuery>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::default();
    let parsed = match SearchQuery::parse(asked.0.q.as_deref().unwrap_or_default()) {
        Ok(query) => query,
        Err(QueryProblem::TooLong { length }) => {
            errors.add("q", Message::new(Text::TooLong).with("max", Q_MAX_CHARS).with("length", length));
            None
        }
        Err(QueryProblem::TooManyWords { words }) => {
            errors.add("q", Message::new(Text::QueryTooManyWords).with("max", Q_MAX_WORDS).with("words", words));
            None
        }
    };
    errors.finish(()).map_err(ApiError::InvalidQuery)?;
    let now = clock.now();
    let found = match parsed {
        Some(query) => with_conn(&db, move |conn| Ok(listings::suggest(conn, &query, now, SUGGESTIONS_MAX)?)).await?,
        None => Vec::new(),
    };
    let items =
        found.into_iter().map(|(id, vi, en)| Suggestion { id: id.0, title: SuggestedTitle { vi, en } }).collect();
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=60")).json(Suggestions { items }))
}

/// The text typed so far.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// What has been typed (at most 200 characters, 8 words), with or without diacritics.
    #[param(example = "may say")]
    q: Option<String>,
}

fn listing_id(raw: &str) -> Result<ListingId, ApiError> {
    kit::id_param(Entity::Listing, raw)
}

pub(crate) fn with_etag(response: HttpResponseBuilder, listing: Listing, caller: &Caller) -> HttpResponse {
    let body = ListingResponse::for_caller(listing.clone(), caller);
    kit::with_etag(response, &listing, body)
}

/// The rules of a write that need the database, checked for what the write changes (so records
/// written before a rule existed can still be edited): the owner named must be the publisher's
/// own organization (any existing one, for the operator), co-owners' organizations must exist, and a source exchange must be held by
/// the publishing organization, so no one can write under another exchange's records.
pub(crate) fn check_claims(
    conn: &mut DbConn,
    actor: &access::Actor,
    listing: &Listing,
    before: Option<&ListingContent>,
    holders: &mut Holders,
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
        let holder = holders.of(conn, &exchange)?;
        if holder.is_none() || holder != listing.publisher {
            errors.add("source.exchange", Message::new(Text::SourceExchangeNotHeld).with("value", &exchange));
        }
    }
    errors.finish(()).map_err(ApiError::Validation)
}

/// The holders of source exchanges as one request looked them up: a batch asks the database once
/// per exchange, not once per item (its items write listings, never exchanges).
#[derive(Default)]
pub(crate) struct Holders(HashMap<String, Option<uuid::Uuid>>);

impl Holders {
    pub(crate) fn of(&mut self, conn: &mut DbConn, exchange: &str) -> Result<Option<uuid::Uuid>, StoreError> {
        if let Some(holder) = self.0.get(exchange) {
            return Ok(*holder);
        }
        let holder = organizations::source_exchange_holder(conn, exchange)?;
        self.0.insert(exchange.to_owned(), holder);
        Ok(holder)
    }
}

pub(crate) fn author(actor: &access::Actor) -> Author {
    Author::client(actor.client_id, actor.organization_id)
}

/// The author of a write: refused before any database work when the caller is anonymous.
pub(crate) fn author_of(caller: &Caller) -> Result<Author, ApiError> {
    caller.as_ref().map(author).ok_or(ApiError::Denied(access::Denied::Unauthenticated))
}

/// Read one listing.
///
/// Published listings are public; others only for their publisher and moderators. Contacts are
/// shown to authenticated callers only. The `ETag` is the listing's version: send it as
/// `If-None-Match` to hear 304 while it is unchanged, or as `If-Match` on a change. Its
/// publisher (with `listings:write`) and the operator see how many expressions of interest it
/// received by naming `interests` in `fields` (`fields=interests,title,status`).
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
    let reader = caller.clone();
    let counted = chosen.fields.names("interests");
    let (listing, interests) = with_conn(&db, move |conn| {
        let listing = kit::find::<Listing>(conn, id)?.as_seen_at(now);
        let interests = if counted { crate::routes::interests::count_for(conn, &reader, &listing)? } else { None };
        Ok((listing, interests))
    })
    .await?;
    if !may_read_listing(&caller, &listing) {
        return Err(ApiError::NotFound { entity: Entity::Listing });
    }
    // If-None-Match is answered (304) once the representation is made: its tag depends on the
    // language the read is answered in (see `crate::language`).
    let tag = etag::of_fields(listing.version, etag::with_counts(chosen.fields.tag(), interests).as_deref());
    let public = listing.status == ListingStatus::Published;
    let mut response = HttpResponse::Ok();
    cache_headers(&mut response, &caller, public);
    let mut body = ListingResponse::seen_at(listing.clone(), &caller, now, **period);
    body.interests = interests.map(Into::into);
    let mut answer = kit::with_fields(response, &listing, body, &chosen.fields);
    if let Ok(value) = header::HeaderValue::from_str(&tag) {
        answer.headers_mut().insert(header::ETAG, value);
    }
    Ok(answer)
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
        check_claims(conn, &actor, &listing, None, &mut Holders::default())?;
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
        (status = 409, description = "Duplicate source (`duplicate_source`), a concurrent edit (`edit_conflict`), or the record was mirrored from another hub and is that hub's to change (`mirrored_record`)", body = Problem, content_type = "application/problem+json"),
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
            check_claims(conn, actor, listing, Some(&before), &mut Holders::default())?;
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
        (status = 409, description = "A concurrent edit (`edit_conflict`), or the record was mirrored from another hub and is that hub's to change (`mirrored_record`)", body = Problem, content_type = "application/problem+json"),
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
        move_in(conn, &mover, &author, id, expected.as_deref(), clock.now(), period, requested)
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), listing, &caller))
}

/// A lifecycle move of one listing in its own transaction (a savepoint inside a batch's), by
/// the rules of the lifecycle endpoints.
#[allow(clippy::too_many_arguments)]
pub(crate) fn move_in(
    conn: &mut DbConn,
    mover: &Caller,
    author: &Author,
    id: ListingId,
    expected: Option<&str>,
    now: DateTime<Utc>,
    period: RestorePeriod,
    requested: LifecycleAction,
) -> Result<Listing, ApiError> {
    kit::modify(conn, id, author, |_, listing: &mut Listing| {
        let (actor, action) = lifecycle_action(mover, listing, requested)?;
        if expected.is_none() && access::is_approval(actor, listing, action) {
            return Err(ApiError::PreconditionRequired(Text::ApproveWithIfMatch));
        }
        kit::check_version(listing, expected)?;
        if action == LifecycleAction::Restore
            && listing.status == ListingStatus::Withdrawn
            && !listing.is_restorable(now, period)
        {
            return Err(ApiError::RestorePeriodOver { days: period.days() });
        }
        listing.apply(action, now)?;
        Ok(ListingWrite::Moved(action))
    })
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
                (status = 409, description = "The listing's status does not allow this move (`illegal_transition`), its restore period is over (`restore_period_over`), or the record was mirrored from another hub and is that hub's to change (`mirrored_record`)", body = Problem, content_type = "application/problem+json"),
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
    // `/listings/suggest` before `/listings/{id}`, which would take it for an id.
    cfg.service(list_listings)
        .service(suggest_listings)
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
