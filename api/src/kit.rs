//! What every versioned resource of the API shares: its public representation (answered by
//! `GET`, by list pages and logged with every change), writes through the persistence kit, ids
//! in paths, `If-Match`, ETags and pages. A resource module brings its own rules and DTOs.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use techex_domain::access::{Actor, Caller, Denied, Scope};
use techex_domain::{Message, Text, ValidationErrors};
use techex_persistence::change_log::Author;
use techex_persistence::versioned::{self, Versioned};
use techex_persistence::{Db, DbConn, Entity, StoreError};
use utoipa::openapi::schema::{ArrayBuilder, ArrayItems, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Components, Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;

use crate::auth::CallerOf;
use crate::error::ApiError;
use crate::etag;
use crate::extract::path_param;
use crate::pagination::{MAX_LIMIT, link_next, page_request, split_page};
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

/// What a list shows of each item: the representation whose members `fields` chooses from.
/// Every [`Resource`] is listed as its public representation; a list of records that are not
/// resources of their own (a subscription's deliveries) names its representation here.
pub trait Listable {
    type Public: ToSchema;
}

impl<R: Resource> Listable for R {
    type Public = R::Public;
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
    // A record `techex sync` brought from another hub is that hub's: a local edit through the
    // API would be overwritten by the next sync without a word. Jobs and the sync still write.
    if author.actor.starts_with("client:")
        && let Some(hub) = techex_persistence::mirror::hub_of(conn, R::ENTITY.as_str(), &id.to_string())?
    {
        return Err(StoreError::Mirrored { entity: R::ENTITY, hub }.into());
    }
    versioned::modify(conn, id, author, &R::public, change)
}

/// The record, or the resource's own `*_not_found`.
pub fn find<R: Versioned>(conn: &mut DbConn, id: R::Id) -> Result<R, ApiError> {
    R::find(conn, id)?.ok_or(ApiError::NotFound { entity: R::ENTITY })
}

/// Parses the `{id}` of a path, reporting a malformed one as `invalid_path`.
pub fn id_param<I: std::str::FromStr>(entity: Entity, raw: &str) -> Result<I, ApiError> {
    let expected = match entity {
        Entity::Listing => Text::NotListingId,
        Entity::Organization => Text::NotOrganizationId,
        Entity::ApiClient => Text::NotClientId,
        Entity::Interest => Text::NotInterestId,
        Entity::Contract => Text::NotContractId,
        Entity::Center => Text::NotCenterId,
        Entity::Webhook => Text::NotWebhookId,
        Entity::Search => Text::NotSearchId,
    };
    if raw.len() > ID_MAX_LENGTH {
        return Err(ApiError::InvalidPath(ValidationErrors::single("id", Message::new(expected).with("value", raw))));
    }
    path_param("id", raw, expected)
}

/// The most characters of an id in a path or query string, as the contract declares them: the
/// hyphenated form the API writes. The longer forms a UUID parser also reads (braced, URN) are
/// refused, so the declared limit holds.
pub const ID_MAX_LENGTH: usize = 36;

/// An id in a request body, refused beyond [`ID_MAX_LENGTH`] characters like one in a path.
pub fn body_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
    let raw = std::borrow::Cow::<str>::deserialize(deserializer)?;
    match raw.parse::<Uuid>() {
        Ok(id) if raw.len() <= ID_MAX_LENGTH => Ok(id),
        _ => Err(serde::de::Error::invalid_value(serde::de::Unexpected::Str(&raw), &"a UUID")),
    }
}

/// [`body_id`] of a field that may be absent or `null`.
pub fn optional_body_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Uuid>, D::Error> {
    #[derive(Deserialize)]
    struct Id(#[serde(deserialize_with = "body_id")] Uuid);
    Ok(Option::<Id>::deserialize(deserializer)?.map(|Id(id)| id))
}

/// The most characters of an instant the API reads or writes: RFC 3339 with at most nanoseconds
/// and an offset, `2026-05-01T09:30:00.123456789+07:00`. The API writes UTC (`Z`), and a longer
/// one (more digits than nanoseconds carry) is refused, so the declared limit holds.
pub const TIMESTAMP_MAX_LENGTH: usize = 35;

/// An optional instant in a request body, refused beyond [`TIMESTAMP_MAX_LENGTH`] characters.
pub fn optional_body_timestamp<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error> {
    let Some(raw) = Option::<std::borrow::Cow<str>>::deserialize(deserializer)? else { return Ok(None) };
    match raw.parse() {
        Ok(instant) if raw.len() <= TIMESTAMP_MAX_LENGTH => Ok(Some(instant)),
        _ => Err(serde::de::Error::invalid_value(serde::de::Unexpected::Str(&raw), &"a date and time")),
    }
}

/// An optional id in a query string; a malformed one is reported against `name`.
pub fn query_id(raw: Option<&str>, name: &str, expected: Text, errors: &mut ValidationErrors) -> Option<Uuid> {
    raw.and_then(|value| match value.parse::<Uuid>() {
        Ok(id) if value.len() <= ID_MAX_LENGTH => Some(id),
        _ => {
            errors.add(name, Message::new(expected).with("value", value));
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
    let text = value.to_str().map_err(|_| ApiError::InvalidHeader(Text::IfMatchNotAscii))?;
    if text.len() > etag::IF_MATCH_MAX_LENGTH || !is_entity_tag_list(text) {
        return Err(ApiError::InvalidHeader(Text::IfMatchMalformed));
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
    fields.answer(response, body)
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
        Self::read_keyed(limit, cursor, errors).0
    }

    /// [`PageRequest::read`], with the sort and key of a keyed cursor (see
    /// [`crate::pagination::encode_keyed_cursor`]).
    pub fn read_keyed(
        limit: Option<&str>,
        cursor: Option<&str>,
        errors: &mut ValidationErrors,
    ) -> (PageRequest, Option<crate::pagination::CursorKey>) {
        let (limit, after) = page_request(limit, cursor, errors);
        let (after, key) = match after {
            Some((id, key)) => (Some(id), key),
            None => (None, None),
        };
        (PageRequest { limit, after }, key)
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
    /// The sort and key of a keyed cursor; a list sorted by id alone refuses one.
    pub cursor_key: Option<crate::pagination::CursorKey>,
    /// Whether the page carries the number of all matches.
    pub total: bool,
    pub fields: Fields,
    resource: PhantomData<R>,
}

impl<R: Listable, F: IntoParams + DeserializeOwned + 'static> Listed<R, F> {
    fn read(req: &HttpRequest) -> Result<Self, ApiError> {
        let accepted = [
            query::accepted::<F>(),
            query::accepted::<PageQuery>(),
            query::accepted::<FieldsQuery>(),
            query::accepted::<crate::language::LanguageQuery>(),
        ];
        let values = query::read(req.query_string(), &accepted)?;
        let asked: PageQuery = query::take(&values)?;
        let fields: FieldsQuery = query::take(&values)?;
        let mut errors = ValidationErrors::default();
        let (page, cursor_key) = PageRequest::read_keyed(asked.limit.as_deref(), asked.cursor.as_deref(), &mut errors);
        let total = query::flag(asked.total.as_deref(), "total", &mut errors);
        let fields = Fields::of::<R::Public>(&fields.fields, &mut errors);
        errors.finish(()).map_err(ApiError::InvalidQuery)?;
        let filters = query::take(&values)?;
        let db =
            req.app_data::<web::Data<Db>>().cloned().ok_or_else(|| ApiError::internal("the app has no database"))?;
        Ok(Listed { req: req.clone(), db, filters, page, cursor_key, total, fields, resource: PhantomData })
    }

    /// The answer (from [`page`]) carrying `page`, a `{"items": [...], ...}` body, with the chosen
    /// fields of each item.
    pub fn answer(&self, response: HttpResponseBuilder, page: impl serde::Serialize) -> HttpResponse {
        self.fields.answer_page(response, page)
    }

    /// Answers with one page: `read` loads, on a pooled connection, the page's rows and the
    /// number of all matches if it was asked for (see [`Slice`]); `public` turns each row into
    /// what the caller sees.
    pub async fn respond<T: Send + 'static>(
        self,
        cache: CachePolicy,
        read: impl FnOnce(&mut DbConn, Slice) -> Result<(Vec<T>, Option<i64>), ApiError> + Send + 'static,
        id_of: impl Fn(&T) -> Uuid,
        public: impl FnMut(T) -> R::Public,
    ) -> Result<HttpResponse, ApiError>
    where
        R::Public: Serialize,
    {
        let slice = Slice { after: self.page.after, probe: self.page.probe(), counted: self.total };
        let (rows, total) = crate::routes::with_conn(&self.db, move |conn| read(conn, slice)).await?;
        let (items, next_cursor, mut response) = page(&self.req, rows, self.page, id_of);
        cache.apply(&mut response);
        let items = items.into_iter().map(public).collect();
        Ok(self.answer(response, Page::<R::Public> { items, next_cursor, total }))
    }
}

/// How a store pages and counts a resource organizations own (`owned_by_organization!`): one
/// organization's records, or (`None`) everyone's.
pub struct OwnedStore<T> {
    pub count: fn(&mut DbConn, Option<Uuid>) -> Result<i64, StoreError>,
    pub list: OwnedPage<T>,
}

/// Reads up to `limit` records of an organization (or everyone's) after a cursor's id.
pub type OwnedPage<T> = fn(&mut DbConn, Option<Uuid>, Option<Uuid>, i64) -> Result<Vec<T>, StoreError>;

impl<R: Listable, F: IntoParams + DeserializeOwned + 'static> Listed<R, F>
where
    R::Public: Serialize,
{
    /// Answers, private to the caller, with a page of `organization`'s records (everyone's for
    /// `None`) as `store` reads them, each shown by `public`.
    pub async fn respond_owned<T: Send + 'static>(
        self,
        store: OwnedStore<T>,
        organization: Option<Uuid>,
        id_of: impl Fn(&T) -> Uuid,
        public: impl FnMut(T) -> R::Public,
    ) -> Result<HttpResponse, ApiError> {
        let read = move |conn: &mut DbConn, slice: Slice| {
            let total = slice.total(|| (store.count)(conn, organization))?;
            Ok(((store.list)(conn, organization, slice.after, slice.probe)?, total))
        };
        self.respond(CachePolicy::Private, read, id_of, public).await
    }
}

/// What a page's reader gets: the rows to load come after `after` (the cursor's), at most `probe`
/// of them (one more than the page, to know whether another follows).
#[derive(Debug, Clone, Copy)]
pub struct Slice {
    pub after: Option<Uuid>,
    pub probe: i64,
    counted: bool,
}

impl Slice {
    /// The number of all matches, counted only when the caller asked for it (`total=true`).
    pub fn total<E>(&self, count: impl FnOnce() -> Result<i64, E>) -> Result<Option<i64>, E> {
        if self.counted { count().map(Some) } else { Ok(None) }
    }
}

/// Who may keep a copy of an answer.
#[derive(Debug, Clone, Copy)]
pub enum CachePolicy {
    /// Anyone, for a minute: the same for every caller (organizations, centers).
    PublicMinute,
    /// Only the caller, revalidated each time: it depends on who asks.
    Private,
}

impl CachePolicy {
    /// A `200 OK` under this policy.
    pub fn ok(self) -> HttpResponseBuilder {
        let mut response = HttpResponse::Ok();
        self.apply(&mut response);
        response
    }

    pub fn apply(self, response: &mut HttpResponseBuilder) {
        match self {
            CachePolicy::PublicMinute => response.insert_header((header::CACHE_CONTROL, "public, max-age=60")),
            CachePolicy::Private => response
                .insert_header((header::CACHE_CONTROL, "private, no-cache"))
                .insert_header((header::VARY, "Authorization")),
        };
    }
}

impl<R: Listable, F: IntoParams + DeserializeOwned + 'static> FromRequest for Listed<R, F> {
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

/// One page of a list, in the order of the list.
#[derive(Debug, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// The number of matches on all pages; sent with `total=true` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

/// The longest cursor: base64url of `k1:`, a sort of at most [`CURSOR_SORT_MAX`] characters, a
/// 64-bit key, a UUID and an 8-digit check, separated by colons (the cursor of a list sorted by
/// id, `v1:` and a UUID, is shorter).
pub const CURSOR_MAX: usize = (3 + CURSOR_SORT_MAX + 1 + 20 + 1 + 36 + 1 + 8).div_ceil(3) * 4;

/// The most characters of the sort a keyed cursor names.
pub const CURSOR_SORT_MAX: usize = 24;

/// Written by hand so that a page refers to its items' schema rather than copying it, and is
/// named after them: `ListingPage` holds `ListingResponse`s.
impl<T: ToSchema> PartialSchema for Page<T> {
    fn schema() -> RefOr<Schema> {
        let items = ArrayBuilder::new()
            .items(Ref::from_schema_name(T::name()))
            .max_items(Some(MAX_LIMIT as usize))
            .description(Some(format!("At most `limit` items, {MAX_LIMIT} at the most")));
        let next_cursor = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .max_length(Some(CURSOR_MAX))
            .description(Some("Pass as `cursor` for the next page; `null` on the last page."));
        let total = ObjectBuilder::new()
            .schema_type(SchemaType::from(Type::Integer))
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)))
            .minimum(Some(0))
            .maximum(Some(i64::MAX))
            .description(Some("The number of matches on all pages; sent with `total=true` only."));
        ObjectBuilder::new()
            .description(Some(format!("One page of a list of `{}`", T::name())))
            .property("items", items)
            .required("items")
            .property("next_cursor", next_cursor)
            .property("total", total)
            .into()
    }
}

impl<T: ToSchema> ToSchema for Page<T> {
    fn name() -> std::borrow::Cow<'static, str> {
        let item = T::name();
        format!("{}Page", item.strip_suffix("Response").unwrap_or(&item)).into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into(), T::schema()));
        T::schemas(schemas);
    }
}

/// A rule the domain enforces on a value, as an OpenAPI schema states it.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    MaxLength(usize),
    MinLength(usize),
    Pattern(&'static str),
    MaxItems(usize),
    MinItems(usize),
    Minimum(i64),
    Maximum(i64),
}

/// `(schema, property, limit)`: the limit of a property of a named schema; `property[]` names
/// the items of an array. Each DTO module lists its own from the domain's constants, so the
/// documents say what the server enforces.
pub type Limits = &'static [(&'static str, &'static str, Limit)];

/// Writes `limits` into the schemas of `components`; a name that matches nothing is a mistake
/// in a table, caught by the test of the committed document.
pub fn document_limits(components: &mut Components, limits: &[(&str, &str, Limit)]) {
    for (schema, property, limit) in limits {
        let (name, items) = match property.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (*property, false),
        };
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*schema) else {
            panic!("no schema {schema} to limit");
        };
        let Some(RefOr::T(target)) = object.properties.get_mut(name) else {
            panic!("no inline property {schema}.{name} to limit");
        };
        let target = match (items, target) {
            (false, target) => target,
            (true, Schema::Array(array)) => match &mut array.items {
                ArrayItems::RefOrSchema(item) => match item.as_mut() {
                    RefOr::T(item) => item,
                    RefOr::Ref(_) => panic!("{schema}.{property} refers to a schema: limit that one"),
                },
                ArrayItems::False => panic!("{schema}.{property} has no items"),
            },
            (true, _) => panic!("{schema}.{name} is not an array"),
        };
        apply(target, *limit, schema, property);
    }
}

fn apply(target: &mut Schema, limit: Limit, schema: &str, property: &str) {
    use utoipa::Number;
    match (target, limit) {
        (Schema::Object(o), Limit::MaxLength(n)) => o.max_length = Some(n),
        (Schema::Object(o), Limit::MinLength(n)) => o.min_length = Some(n),
        (Schema::Object(o), Limit::Pattern(p)) => o.pattern = Some(p.to_owned()),
        (Schema::Object(o), Limit::Minimum(n)) => o.minimum = Some(Number::Int(n as isize)),
        (Schema::Object(o), Limit::Maximum(n)) => o.maximum = Some(Number::Int(n as isize)),
        (Schema::Array(a), Limit::MaxItems(n)) => a.max_items = Some(n),
        (Schema::Array(a), Limit::MinItems(n)) => a.min_items = Some(n),
        (_, limit) => panic!("{limit:?} does not apply to {schema}.{property}"),
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
    use super::{CURSOR_MAX, is_entity_tag_list};

    #[test]
    fn a_cursor_is_as_long_as_documented() {
        assert!(crate::pagination::encode_cursor(uuid::Uuid::now_v7()).len() <= CURSOR_MAX);
        let longest =
            crate::pagination::encode_keyed_cursor(&"s".repeat(super::CURSOR_SORT_MAX), i64::MIN, uuid::Uuid::now_v7());
        assert!(longest.len() <= CURSOR_MAX, "{} > {CURSOR_MAX}", longest.len());
    }

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
