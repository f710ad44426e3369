//! What every versioned resource of the API shares: its public representation (answered by
//! `GET`, by list pages and logged with every change), writes through the persistence kit, ids
//! in paths, `If-Match`, ETags and pages. A resource module brings its own rules and DTOs.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use techex_domain::ValidationErrors;
use techex_domain::access::{Actor, Caller, Denied, Scope};
use techex_persistence::change_log::Author;
use techex_persistence::versioned::{self, Versioned};
use techex_persistence::{Db, DbConn, Entity, StoreError};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::CallerOf;
use crate::error::ApiError;
use crate::etag;
use crate::extract::path_param;
use crate::pagination::{link_next, page_request, split_page};
use crate::query::{self, Fields, FieldsQuery, NoParameters};

/// A resource as the API shows it: one representation for `GET`, pages and the change log.
pub trait Resource: Versioned {
    /// The body of `GET /v1/<resource>/{id}` as the operator sees it.
    type Public: serde::Serialize + ToSchema + for<'a> From<&'a Self>;

    /// The public representation at this version, as the change log keeps it.
    fn public(&self) -> serde_json::Value {
        serde_json::to_value(Self::Public::from(self)).expect("public representations serialize")
    }
}

/// Stores a new record (its rows written by `insert`) with its `create` change.
pub fn create<R: Resource>(
    conn: &mut DbConn,
    record: &R,
    author: &Author,
    insert: impl FnOnce(&mut DbConn) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    versioned::create(conn, record, author, &R::public, insert)
}

/// A versioned modification under the row lock, logged as the resource's public representation.
pub fn modify<R: Resource, E: From<StoreError>>(
    conn: &mut DbConn,
    id: R::Id,
    author: &Author,
    change: impl FnOnce(&mut DbConn, &mut R) -> Result<R::Write, E>,
) -> Result<R, E> {
    versioned::modify(conn, id, author, &R::public, change)
}

/// The record, or the resource's own `*_not_found`.
pub fn find<R: Versioned>(conn: &mut DbConn, id: R::Id) -> Result<R, ApiError> {
    R::find(conn, id)?.ok_or(ApiError::NotFound { entity: R::ENTITY })
}

/// Parses the `{id}` of a path, reporting a malformed one as `invalid_path`.
pub fn id_param<I: std::str::FromStr>(entity: Entity, raw: &str) -> Result<I, ApiError> {
    let expected = match entity {
        Entity::Listing => "a listing id (UUID)",
        Entity::Organization => "an organization id (UUID)",
        Entity::ApiClient => "a client id (UUID)",
    };
    path_param("id", raw, expected)
}

/// An optional id in a query string; a malformed one is reported against `name`.
pub fn query_id(raw: Option<&str>, name: &str, expected: &str, errors: &mut ValidationErrors) -> Option<Uuid> {
    raw.and_then(|value| match value.parse::<Uuid>() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.add(name, "invalid_format", expected.to_owned());
            None
        }
    })
}

/// What a request about one record brings: the database, the caller, the record's id from the
/// `{id}` of the path and the versions its `If-Match` names. Extracted in the order a client is
/// answered: an invalid token (401), then a malformed id or `If-Match` (400).
pub struct Target<R: Versioned> {
    pub db: web::Data<Db>,
    pub caller: Caller,
    pub id: R::Id,
    pub if_match: Option<String>,
}

impl<R: Versioned + 'static> FromRequest for Target<R>
where
    R::Id: std::str::FromStr,
{
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = CallerOf::from_request(req, payload);
        let db = req.app_data::<web::Data<Db>>().cloned();
        let raw_id = req.match_info().get("id").unwrap_or_default().to_owned();
        let if_match = if_match(req);
        Box::pin(async move {
            let caller = caller.await?.0;
            let id = id_param(R::ENTITY, &raw_id)?;
            let if_match = if_match?;
            let db = db.ok_or_else(|| ApiError::internal("the app has no database"))?;
            Ok(Target { db, caller, id, if_match })
        })
    }
}

/// The operator's author stamp, or why the caller is not the operator.
pub fn admin(caller: &Caller) -> Result<Author, ApiError> {
    let actor = caller.as_ref().ok_or(Denied::Unauthenticated)?;
    actor.require(Scope::Admin)?;
    Ok(Author::client(actor.client_id, actor.organization_id))
}

/// The hub's operator making a request: a caller with `admin`, or the request is refused (401,
/// 403) before anything else of it is read.
pub struct Operator {
    pub db: web::Data<Db>,
    pub actor: Actor,
    pub author: Author,
}

impl Operator {
    /// Whether `client_id` is the client the operator is calling with.
    pub fn is_own_client(&self, client_id: Uuid) -> bool {
        self.actor.client_id == client_id
    }
}

impl FromRequest for Operator {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = CallerOf::from_request(req, payload);
        let db = req.app_data::<web::Data<Db>>().cloned();
        Box::pin(async move {
            let caller = caller.await?.0;
            let author = admin(&caller)?;
            let actor = caller.expect("admin() refuses anonymous callers");
            let db = db.ok_or_else(|| ApiError::internal("the app has no database"))?;
            Ok(Operator { db, actor, author })
        })
    }
}

/// Refuses a write whose `If-Match` does not name the record's current version.
pub fn check_version<R: Versioned>(record: &R, if_match: Option<&str>) -> Result<(), ApiError> {
    match if_match {
        Some(header) if !etag::matches_strong(header, &etag::of_version(record.version())) => {
            Err(ApiError::PreconditionFailed { entity: R::ENTITY, current: record.version() })
        }
        _ => Ok(()),
    }
}

/// The `If-Match` header of a request, if it has one: `*` or a list of entity tags. An empty or
/// malformed one is the caller's mistake (400), not a version that fails to match.
pub fn if_match(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let malformed = |reason| ApiError::InvalidHeader { name: "If-Match", reason };
    let text = value.to_str().map_err(|_| malformed("it is not visible ASCII"))?;
    if !is_entity_tag_list(text) {
        return Err(malformed(r#"send `*` or entity tags such as "v3", as the ETag header gave them"#));
    }
    Ok(Some(text.to_owned()))
}

/// `*`, or one or more entity tags (RFC 9110 section 8.8.3) separated by commas.
fn is_entity_tag_list(text: &str) -> bool {
    let text = text.trim();
    if text == "*" {
        return true;
    }
    let is_tag = |tag: &str| {
        let opaque = tag.strip_prefix("W/").unwrap_or(tag);
        opaque.len() >= 2
            && opaque.starts_with('"')
            && opaque.ends_with('"')
            && opaque[1..opaque.len() - 1].bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b))
    };
    let tags: Vec<&str> = text.split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
    !tags.is_empty() && tags.into_iter().all(is_tag)
}

/// The answer to a read of one record: its representation with the version as ETag.
pub fn with_etag<R: Resource>(response: HttpResponseBuilder, record: &R, body: impl serde::Serialize) -> HttpResponse {
    with_fields(response, record, body, &Fields::default())
}

/// The answer to a read of one record with the chosen fields of its representation, tagged with
/// its version and the field set.
pub fn with_fields<R: Resource>(
    mut response: HttpResponseBuilder,
    record: &R,
    body: impl serde::Serialize,
    fields: &Fields,
) -> HttpResponse {
    response.insert_header((header::ETAG, etag::of_fields(record.version(), fields.tag().as_deref())));
    response.json(fields.project(body))
}

/// `limit`, `cursor` and `total` of every list; with [`FieldsQuery`] and its own filters, what
/// [`Listed`] reads.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 20); larger values are refused, not clamped.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
    /// `true`: the page also carries `total`, the number of all matches (not just this page).
    /// Costlier: every match is counted, so ask for it once (with the first page), not with every
    /// page. `false` or absent: nothing is counted.
    #[param(value_type = Option<bool>, example = true)]
    pub total: Option<String>,
}

/// A page asked for: how many and after which id.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<Uuid>,
}

impl PageRequest {
    /// Reads `limit` and `cursor`; problems go to `errors`.
    pub fn read(limit: Option<&str>, cursor: Option<&str>, errors: &mut ValidationErrors) -> PageRequest {
        let (limit, after) = page_request(limit, cursor, errors);
        PageRequest { limit, after }
    }

    /// How many rows to fetch: one more than the page, to know whether another follows.
    pub fn probe(self) -> i64 {
        self.limit + 1
    }
}

/// A request for a page of a list of `R`: its filters `F` (the list's own parameters, read by
/// the rules of [`crate::query`]), the page, whether to count every match, and the fields of
/// each item to send. Any other parameter is refused (`invalid_query`), naming the known ones.
pub struct Listed<R, F = NoParameters> {
    pub req: HttpRequest,
    pub db: web::Data<Db>,
    pub filters: F,
    pub page: PageRequest,
    /// Whether the page carries the number of all matches.
    pub total: bool,
    pub fields: Fields,
    resource: PhantomData<R>,
}

impl<R: Resource, F: IntoParams + DeserializeOwned> Listed<R, F> {
    fn read(req: &HttpRequest) -> Result<Self, ApiError> {
        let mut accepted = query::accepted::<F>();
        accepted.extend(query::accepted::<PageQuery>());
        accepted.extend(query::accepted::<FieldsQuery>());
        let values = query::read(req.query_string(), &accepted)?;
        let asked: PageQuery = query::take(&values)?;
        let fields: FieldsQuery = query::take(&values)?;
        let mut errors = ValidationErrors::default();
        let page = PageRequest::read(asked.limit.as_deref(), asked.cursor.as_deref(), &mut errors);
        let total = query::flag(asked.total.as_deref(), "total", &mut errors);
        let fields = Fields::of::<R::Public>(&fields.fields, &mut errors);
        errors.finish(()).map_err(ApiError::InvalidQuery)?;
        let filters = query::take(&values)?;
        let db =
            req.app_data::<web::Data<Db>>().cloned().ok_or_else(|| ApiError::internal("the app has no database"))?;
        Ok(Listed { req: req.clone(), db, filters, page, total, fields, resource: PhantomData })
    }

    /// The answer (from [`page`]) carrying `page`, a `{"items": [...], ...}` body, with the chosen
    /// fields of each item.
    pub fn answer(&self, mut response: HttpResponseBuilder, page: impl serde::Serialize) -> HttpResponse {
        response.json(self.fields.project_page(page))
    }
}

impl<R: Resource, F: IntoParams + DeserializeOwned> FromRequest for Listed<R, F> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::read(req))
    }
}

/// The fields of a read of one `R` that the query string asks for (`fields=`); any other
/// parameter is refused.
pub struct Chosen<R> {
    pub fields: Fields,
    resource: PhantomData<R>,
}

impl<R: Resource> FromRequest for Chosen<R> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        std::future::ready(query::Query::<FieldsQuery>::from_request(req, payload).into_inner().and_then(|asked| {
            let mut errors = ValidationErrors::default();
            let fields = Fields::of::<R::Public>(&asked.0.fields, &mut errors);
            errors.finish(Chosen { fields, resource: PhantomData }).map_err(ApiError::InvalidQuery)
        }))
    }
}

/// A page's items and the response that will carry them, with its `Link` to the next page and
/// its cache policy; the caller adds the body.
pub fn page<T>(
    req: &HttpRequest,
    rows: Vec<T>,
    page: PageRequest,
    id_of: impl Fn(&T) -> Uuid,
) -> (Vec<T>, Option<String>, HttpResponseBuilder) {
    let (items, next_cursor) = split_page(rows, page.limit, id_of);
    let mut response = HttpResponse::Ok();
    link_next(&mut response, req, next_cursor.as_deref());
    (items, next_cursor, response)
}

#[cfg(test)]
mod tests {
    use super::is_entity_tag_list;

    #[test]
    fn if_match_is_a_wildcard_or_a_list_of_entity_tags() {
        for good in ["*", "\"v1\"", "W/\"v2\"", "\"v1\", W/\"v2\"", " \"v3\" ", "\"\""] {
            assert!(is_entity_tag_list(good), "{good}");
        }
        for bad in ["", " ", "v1", "\"v1", "W/v1", "\"v1\" \"v2\"", "*, \"v1\"", "\"a b\"", ","] {
            assert!(!is_entity_tag_list(bad), "{bad}");
        }
    }
}
