//! `/v1/searches`: saved searches (a query of `GET /v1/listings`) and match subscriptions (the
//! new matches of one of the organization's own listings), and the alerts the alert job
//! records for them (see [`crate::alerts`]). Kept for its organization by a client with
//! `changes:read`, the scope that follows the hub's changes (and receives them by webhook, as
//! the alerts are); a match subscription follows one of the organization's own listings. The
//! operator sees and keeps every organization's.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::access::{Actor, Caller, Denied, Scope};
use techex_domain::{ListingId, Message, Text, ValidationErrors};
use techex_persistence::change_log::Author;
use techex_persistence::searches::{self as store, Alert, Follows, SavedSearch, SearchWrite};
use techex_persistence::{Db, Entity, listings};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::alerts::AlertResponse;
use crate::auth::CallerOf;
use crate::error::{ApiError, BodyRefused, Problem, QueryRefused, StaleVersion};
use crate::extract::JsonBody;
use crate::kit::{self, CachePolicy, Limit, Limits, Listable, Listed, Page, PageQuery, Resource, Target};
use crate::query::FieldsQuery;
use crate::routes::listings::saved_search_filter;
use crate::routes::{merge_patch_body, patched, with_conn};

/// The most saved searches and match subscriptions an organization keeps together.
pub const MAX_PER_ORGANIZATION: i64 = 50;
/// The longest name.
pub const NAME_MAX_LENGTH: usize = 100;
/// The longest query string.
pub const QUERY_MAX_LENGTH: usize = 2000;

pub const LIMITS: Limits = &[
    ("SearchContent", "name", Limit::MinLength(1)),
    ("SearchContent", "name", Limit::MaxLength(NAME_MAX_LENGTH)),
    ("SearchContent", "query", Limit::MaxLength(QUERY_MAX_LENGTH)),
    ("SearchResponse", "name", Limit::MaxLength(NAME_MAX_LENGTH)),
    ("SearchResponse", "query", Limit::MaxLength(QUERY_MAX_LENGTH)),
    // Level-2 S&T field codes.
    ("AlertListing", "field_codes[]", Limit::MaxLength(3)),
];

/// A saved search or a match subscription as `GET` shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResponse {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The API client that made it: its webhook subscriptions taking `search.alert` receive the
    /// alerts.
    pub client_id: Uuid,
    #[schema(example = "Solar dryers in the South-East")]
    pub name: String,
    /// `query` (a saved search) or `matches` (a match subscription).
    #[schema(example = "query", max_length = 10)]
    pub kind: String,
    /// A saved search's query string of `GET /v1/listings`.
    #[schema(example = "q=máy sấy&kind=offer&province=79,75")]
    pub query: Option<String>,
    /// A match subscription's listing, one of the organization's own.
    pub matches_for: Option<Uuid>,
    #[schema(minimum = 1, maximum = 9223372036854775807_i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&SavedSearch> for SearchResponse {
    fn from(s: &SavedSearch) -> Self {
        let (kind, query, matches_for) = match &s.follows {
            Follows::Query(query) => ("query", Some(query.clone()), None),
            Follows::MatchesFor(listing) => ("matches", None, Some(*listing)),
        };
        SearchResponse {
            id: s.id,
            organization_id: s.organization_id,
            client_id: s.client_id,
            name: s.name.clone(),
            kind: kind.to_owned(),
            query,
            matches_for,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

impl Resource for SavedSearch {
    type Public = SearchResponse;
}

/// A new saved search (`query`) or match subscription (`matches_for`): one of the two.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchContent {
    #[schema(example = "Solar dryers in the South-East")]
    pub name: String,
    /// The query string of `GET /v1/listings` to follow (with or without a leading `?`), read
    /// by the same rules and refused with the same codes, each against `query.<parameter>`.
    /// `status`, `deleted`, `include_deleted`, `sort`, `facets`, `field_level`, `limit`,
    /// `cursor`, `total`, `fields` and `lang` have no place in it (`not_in_saved_search`):
    /// alerts are about published listings, one at a time.
    #[schema(example = "q=máy sấy&kind=offer&province=79,75")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// One of the organization's own listings, whose new matches of the other kind to follow.
    #[serde(default, deserialize_with = "kit::optional_body_id", skip_serializing_if = "Option::is_none")]
    pub matches_for: Option<Uuid>,
}

impl SearchContent {
    /// The checked content, its query trimmed of a leading `?`.
    fn validate(mut self) -> Result<SearchContent, ApiError> {
        let mut errors = ValidationErrors::default();
        let length = self.name.trim().chars().count();
        if length == 0 {
            errors.add("name", Text::NotEmpty);
        } else if length > NAME_MAX_LENGTH {
            errors.add("name", Message::new(Text::TooLong).with("max", NAME_MAX_LENGTH).with("length", length));
        }
        self.name = self.name.trim().to_owned();
        match (&mut self.query, self.matches_for) {
            (Some(query), None) => {
                *query = query.trim().trim_start_matches('?').to_owned();
                let length = query.chars().count();
                if length > QUERY_MAX_LENGTH {
                    errors
                        .add("query", Message::new(Text::TooLong).with("max", QUERY_MAX_LENGTH).with("length", length));
                } else if let Err(error) = saved_search_filter(query, techex_domain::now()) {
                    match error {
                        ApiError::Validation(found) => errors.0.extend(found.0),
                        other => return Err(other),
                    }
                }
            }
            (None, Some(_)) => {}
            _ => errors.add("", Text::SearchKind),
        }
        errors.finish(self).map_err(ApiError::Validation)
    }
}

/// The caller, who must hold `changes:read` (the operator holds every scope).
fn keeper(caller: &Caller) -> Result<Actor, ApiError> {
    let actor = caller.as_ref().ok_or(Denied::Unauthenticated)?;
    actor.require(Scope::ChangesRead)?;
    Ok(actor.clone())
}

/// A search the caller may see: its organization's, or any for the operator. Another
/// organization's answers as missing, so that ids reveal nothing.
fn visible(actor: &Actor, search: Option<SavedSearch>) -> Result<SavedSearch, ApiError> {
    search
        .filter(|s| actor.is_admin() || s.organization_id == actor.organization_id)
        .ok_or(ApiError::NotFound { entity: Entity::Search })
}

fn author(actor: &Actor) -> Author {
    Author::client(actor.client_id, actor.organization_id)
}

/// Save a search or subscribe to a listing's matches.
///
/// With `query`, a saved search: from now on, every listing published or changed so that `GET
/// /v1/listings?<query>` finds it records one alert. With `matches_for` (one of the
/// organization's own listings, e.g. `{"name": "Offers for our demand", "matches_for":
/// "<listing id>"}`), a match subscription: every
/// published listing of the other kind that `GET /v1/listings/{id}/matches` would score at 30
/// or more records one alert, with its score and reasons. An organization keeps at most 50.
#[utoipa::path(
    tag = "searches",
    operation_id = "create_search",
    security(("oauth2" = ["changes:read"])),
    request_body(content = SearchContent, example = json!({"name": "Solar dryers in the South-East", "query": "q=máy sấy&kind=offer&province=79,75"})),
    responses(
        (status = 201, description = "Saved; alerts start with the listings changed from now on", body = SearchResponse,
         headers(("ETag" = String, description = "The version, for If-Match"), ("Location" = String, description = "The new search"))),
        BodyRefused,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid: the query as `GET /v1/listings` refuses it, each against `query.<parameter>` (`unknown_field`, `too_long`, `invalid_value`, ...), a parameter a saved search has no use for (`not_in_saved_search`), neither or both of `query` and `matches_for` (`invalid_value`), a listing not of the organization (`listing_not_found`), or too many searches (`too_many`); `errors` names each", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/searches")]
pub async fn create_search(db: web::Data<Db>, caller: CallerOf, body: JsonBody) -> Result<HttpResponse, ApiError> {
    let actor = keeper(&caller.0)?;
    let content = body.parse::<SearchContent>()?.validate()?;
    let now = techex_domain::now();
    let follows = match (content.query, content.matches_for) {
        (Some(query), _) => Follows::Query(query),
        (None, Some(listing)) => Follows::MatchesFor(listing),
        (None, None) => return Err(ApiError::internal("validate() requires one of query and matches_for")),
    };
    let search = SavedSearch {
        id: Uuid::now_v7(),
        organization_id: actor.organization_id,
        client_id: actor.client_id,
        name: content.name,
        follows,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let author = author(&actor);
    let search = with_conn(&db, move |conn| {
        if let Follows::MatchesFor(listing) = search.follows {
            let own = listings::find(conn, ListingId(listing))?
                .filter(|l| !l.is_deleted() && (actor.is_admin() || l.publisher == Some(actor.organization_id)));
            if own.is_none() {
                let unknown = Message::new(Text::MatchesForUnknown);
                return Err(ApiError::Validation(ValidationErrors::single("matches_for", unknown)));
            }
        }
        if store::count(conn, Some(actor.organization_id))? >= MAX_PER_ORGANIZATION {
            let too_many = Message::new(Text::TooManySearches).with("max", MAX_PER_ORGANIZATION);
            return Err(ApiError::Validation(ValidationErrors::single("", too_many)));
        }
        kit::create(conn, &search, &author, |conn| store::insert(conn, &search))?;
        Ok(search)
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/searches/{}", search.id)));
    Ok(kit::with_etag(response, &search, SearchResponse::from(&search)))
}

/// A page of saved searches and match subscriptions.
pub type SearchPage = Page<SearchResponse>;

/// List saved searches and match subscriptions.
///
/// The organization's, in the order they were made; the operator sees everyone's.
#[utoipa::path(
    tag = "searches",
    operation_id = "list_searches",
    params(PageQuery, FieldsQuery),
    security(("oauth2" = ["changes:read"])),
    responses(
        (status = 200, description = "A page of searches; `next_cursor` (and the `Link` header) lead to the next one", body = SearchPage),
        QueryRefused,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/searches")]
pub async fn list_searches(caller: CallerOf, asked: Listed<SavedSearch>) -> Result<HttpResponse, ApiError> {
    let actor = keeper(&caller.0)?;
    let organization = (!actor.is_admin()).then_some(actor.organization_id);
    let store = kit::OwnedStore { count: store::count, list: store::list };
    asked.respond_owned(store, organization, |s| s.id, |s| SearchResponse::from(&s)).await
}

/// Read a saved search or match subscription.
#[utoipa::path(
    tag = "searches",
    operation_id = "get_search",
    security(("oauth2" = ["changes:read"])),
    params(("id" = Uuid, Path, description = "Search id")),
    responses(
        (status = 200, description = "The search", body = SearchResponse,
         headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 400, description = "The id is not a UUID (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such search in the caller's organization (`search_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/searches/{id}")]
pub async fn get_search(target: Target<SavedSearch>) -> Result<HttpResponse, ApiError> {
    let actor = keeper(&target.caller)?;
    let id = target.id;
    let search = with_conn(&target.db, move |conn| visible(&actor, store::find(conn, id)?)).await?;
    Ok(kit::with_etag(CachePolicy::Private.ok(), &search, SearchResponse::from(&search)))
}

/// Change a saved search with a JSON merge patch.
///
/// `name`, and a saved search's `query` (checked as on creation). A new query forgets which
/// listings matched the old one, so that the listings changed afterwards that it finds alert
/// once more. A match subscription keeps its listing. `If-Match` with the ETag guards against
/// overwriting a change made meanwhile.
#[utoipa::path(
    tag = "searches",
    operation_id = "update_search",
    security(("oauth2" = ["changes:read"])),
    params(("id" = Uuid, Path, description = "Search id"),
           ("If-Match" = Option<String>, Header, description = "The ETag of the version read")),
    request_body(content = Object, description = "A merge patch of the search, e.g. `{\"query\": \"q=máy sấy&kind=offer\"}`",
                 content_type = "application/merge-patch+json", example = json!({"name": "Dryers, any province", "query": "q=máy sấy&kind=offer"})),
    responses(
        (status = 200, description = "The search as changed", body = SearchResponse,
         headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), id (`invalid_path`) or If-Match (`invalid_header`)", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        StaleVersion,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such search in the caller's organization (`search_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid, as on creation; `errors` names each", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/searches/{id}")]
pub async fn update_search(target: Target<SavedSearch>, body: JsonBody) -> Result<HttpResponse, ApiError> {
    let actor = keeper(&target.caller)?;
    let id = target.id;
    let patch = merge_patch_body(body)?;
    let if_match = target.if_match.clone();
    let author = author(&actor);
    let search = with_conn(&target.db, move |conn| {
        visible(&actor, store::find(conn, id)?)?;
        kit::modify(conn, id, &author, |_, search: &mut SavedSearch| {
            kit::check_version(search, if_match.as_deref())?;
            let current = SearchResponse::from(&*search);
            let current = SearchContent { name: current.name, query: current.query, matches_for: current.matches_for };
            let content = patched(&current, &patch)?;
            if content.matches_for != current.matches_for {
                return Err(ApiError::Validation(ValidationErrors::single("matches_for", Text::MatchesForFixed)));
            }
            let content = content.validate()?;
            let follows = match content.query {
                Some(query) => Follows::Query(query),
                None => search.follows.clone(),
            };
            if content.name == search.name && follows == search.follows {
                return Ok(SearchWrite::Unchanged);
            }
            search.name = content.name;
            search.follows = follows;
            search.version += 1;
            search.updated_at = techex_domain::now();
            Ok::<_, ApiError>(SearchWrite::Updated)
        })
    })
    .await?;
    Ok(kit::with_etag(HttpResponse::Ok(), &search, SearchResponse::from(&search)))
}

/// Delete a saved search or match subscription, with its alerts.
#[utoipa::path(
    tag = "searches",
    operation_id = "delete_search",
    security(("oauth2" = ["changes:read"])),
    params(("id" = Uuid, Path, description = "Search id"),
           ("If-Match" = Option<String>, Header, description = "The ETag of the version read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id (`invalid_path`) or If-Match (`invalid_header`) is malformed", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such search in the caller's organization (`search_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/searches/{id}")]
pub async fn delete_search(target: Target<SavedSearch>) -> Result<HttpResponse, ApiError> {
    let actor = keeper(&target.caller)?;
    let id = target.id;
    let if_match = target.if_match.clone();
    let author = author(&actor);
    with_conn(&target.db, move |conn| {
        visible(&actor, store::find(conn, id)?)?;
        kit::modify(conn, id, &author, |_, search: &mut SavedSearch| {
            kit::check_version(search, if_match.as_deref())?;
            search.version += 1;
            search.updated_at = techex_domain::now();
            Ok::<_, ApiError>(SearchWrite::Deleted)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

impl Listable for Alert {
    type Public = AlertResponse;
}

/// A page of alerts, newest first.
pub type AlertPage = Page<AlertResponse>;

/// The alerts of a saved search or match subscription.
///
/// Newest first: each listing that came to match, as it was then, and for a match
/// subscription the score and the reasons. The same alerts go, as `search.alert` events, to the
/// webhook subscriptions of the client that made the search.
#[utoipa::path(
    tag = "searches",
    operation_id = "list_search_alerts",
    params(("id" = Uuid, Path, description = "Search id"), PageQuery, FieldsQuery),
    security(("oauth2" = ["changes:read"])),
    responses(
        (status = 200, description = "A page of alerts, newest first; `next_cursor` (and the `Link` header) lead to the next one", body = AlertPage),
        QueryRefused,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such search in the caller's organization (`search_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/searches/{id}/alerts")]
pub async fn list_search_alerts(
    caller: CallerOf,
    path: web::Path<String>,
    asked: Listed<Alert>,
) -> Result<HttpResponse, ApiError> {
    let actor = keeper(&caller.0)?;
    let id = kit::id_param(Entity::Search, &path)?;
    asked
        .respond(
            CachePolicy::Private,
            move |conn, slice| {
                visible(&actor, store::find(conn, id)?)?;
                let total = slice.total(|| store::count_alerts(conn, id))?;
                let alerts = store::alerts(conn, id, slice.after, slice.probe)?;
                Ok((alerts.into_iter().map(AlertResponse::of).collect::<Result<Vec<_>, _>>()?, total))
            },
            |a| a.id,
            |a| a,
        )
        .await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_search)
        .service(list_searches)
        .service(get_search)
        .service(update_search)
        .service(delete_search)
        .service(list_search_alerts);
}
