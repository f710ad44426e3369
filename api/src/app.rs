//! The application factory: one function builds the app that `techex serve` runs and the tests
//! drive, and the OpenAPI document is collected from the same registrations.

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ResourceDef, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{Compress, Logger, Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, ResponseError, web};
use techex_domain::access::Scope;
use techex_domain::{Lang, Text, ValidationErrors};
use techex_persistence::Db;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::{Content, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, UtoipaApp};
use utoipa_swagger_ui::SwaggerUi;
use uuid::Uuid;

use crate::auth::KeySet;
use crate::auth::TokenLifetime;
use crate::auth::rate_limit::{self, RateLimits};
use crate::auth::token_guard::TokenGuard;
use crate::clock::Clock;
use crate::error::{ApiError, Problem, shared};
use crate::extract::{BODY_LIMIT, BodyTimeout, query_errors};
use crate::{etag, routes};
use techex_domain::RestorePeriod;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "techex",
        description = "The shared data hub of the technology exchanges of Vietnam's Southeast region: \
            technology offers and demands, with the reference data they are checked against.\n\n\
            Errors are RFC 9457 `application/problem+json` documents with a stable `code`; \
            validation failures list every problem of the input at once, each field in `errors`. \
            Messages are plain sentences a portal can show a person: in English, or in Vietnamese \
            when `Accept-Language` prefers `vi` (`vi`, `vi-VN`, `en;q=0.5, vi`); `Content-Language` \
            says which. Codes, fields and problem types never change with the language. Reads answer \
            text written in two languages as `{\"vi\", \"en\"}` objects, or, with `lang=vi|en` (or an \
            `Accept-Language` ranking `vi` or `en`), as strings in that language, Vietnamese where \
            no English exists. Pages use opaque cursors.\n\n\
            Reads are public; writes need a bearer token from `POST /v1/auth/token` (OAuth 2.0 \
            client credentials) carrying the scopes each operation names.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    tags(
        (name = "auth", description = "OAuth 2.0 client credentials: access tokens and the keys that verify them"),
        (name = "listings", description = "Technology offers and demands, and their lifecycle"),
        (name = "interests", description = "Expressions of interest in listings: sent by anyone, read by the listing's publisher"),
        (name = "organizations", description = "The parties of the exchange"),
        (name = "clients", description = "API clients and their secrets (operator only)"),
        (name = "contracts", description = "Technology transfer contracts, their lifecycle and their registration (Law 07/2017/QH14 as amended by Law 115/2025/QH15); seen only by their parties, their broker and the operator"),
        (name = "stats", description = "Public statistics of contracts and listings, as JSON or CSV"),
        (name = "centers", description = "The directory of application centers: by province, service, field, words and distance"),
        (name = "reference", description = "Provinces, S&T fields, TRL levels and enumerations, in Vietnamese and English"),
        (name = "changes", description = "The change feed partner exchanges mirror the hub by, and the operator's audit trail"),
        (name = "webhooks", description = "Signed pushes of the changes a client may follow in the feed, retried until delivered"),
        (name = "searches", description = "Saved searches and match subscriptions: an alert for each listing that newly matches, also pushed to webhooks as `search.alert`"),
        (name = "operations", description = "Health, readiness and this document"),
    ),
    servers((url = "/", description = "The server that serves this document, in production, staging or a local run alike (a hub with TECHEX_PUBLIC_URL names its URL)")),
    components(
        schemas(Problem, crate::error::FieldError),
        responses(
            shared::Unauthenticated,
            shared::NotOperator,
            shared::BodyTooLarge,
            shared::BodyNotJson,
            shared::VersionChanged,
            shared::EditMalformed,
            shared::RecordNotFound,
            shared::EditInvalid,
        )
    ),
    modifiers(&OAuth2Security)
)]
struct ApiDoc;

/// Declares the OAuth 2.0 client-credentials scheme, so Swagger UI can get a token, and lists
/// Swagger UI itself among the paths the server answers.
struct OAuth2Security;

impl Modify for OAuth2Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let docs = OperationBuilder::new()
            .operation_id(Some("swagger_ui"))
            .tag("operations")
            .summary(Some("Swagger UI for this document"))
            .description(Some("An interactive page over `/openapi.json`: read the operations, *Authorize* with a client id and secret, and *Try it out*."))
            .response(
                "200",
                ResponseBuilder::new().description("An HTML page").content("text/html", Content::default()),
            )
            .build();
        openapi.paths.add_path_operation("/docs/", vec![HttpMethod::Get], docs);
        let scopes = Scopes::from_iter(Scope::ALL.iter().map(|s| (s.as_str(), scope_description(*s))));
        let flow = Flow::ClientCredentials(ClientCredentials::new("/v1/auth/token", scopes));
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("oauth2", SecurityScheme::OAuth2(OAuth2::with_description([flow], TOKEN_PRACTICE)));
    }
}

/// How access tokens are made and checked, for the security scheme (the OWASP rules ask that a
/// JWT scheme declare RFC 8725 by its number, spelled `RFC8725`).
const TOKEN_PRACTICE: &str = "OAuth 2.0 client credentials (RFC 6749 section 4.4). `POST /v1/auth/token` \
    issues a bearer access token that is a JWT typed `at+jwt`, short-lived (15 minutes unless the \
    operator sets another lifetime); a client asks for a new one rather than refreshing it (this grant \
    has no refresh tokens). Tokens follow the JWT best current practices of RFC8725: signed with EdDSA \
    (Ed25519) or ES256 only, verified with the algorithm of the key its `kid` names and no other (never \
    `none`), `iss`, `aud`, `exp` and `nbf` checked; the keys are published at `/.well-known/jwks.json`. \
    On public reads a token is optional: with one, requests count against the client's own rate limit.";

fn scope_description(scope: Scope) -> &'static str {
    match scope {
        Scope::ListingsWrite => "Create and edit the organization's listings",
        Scope::ListingsPublish => "Publish the organization's listings without review",
        Scope::ListingsModerate => "Approve, reject and take down any listing",
        Scope::ContractsRead => "Read transfer contracts",
        Scope::ContractsWrite => "Record transfer contracts",
        Scope::CentersWrite => "Maintain application centers",
        Scope::ChangesRead => "Read the change feed",
        Scope::Admin => "Operate the hub: organizations, clients, everything",
    }
}

/// The base URL the hub is reached at, when configured.
#[derive(Debug, Clone)]
pub struct PublicUrl(pub Option<String>);

/// What the app needs; built once per process and shared by every worker.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: Arc<KeySet>,
    pub token_lifetime: TokenLifetime,
    /// Which browser origins may call.
    pub cors: CorsPolicy,
    /// The base URL the hub is reached at from outside (`https://techex.example.vn`), when the
    /// operator set one: the OpenAPI `servers` and the OAuth metadata name it.
    pub public_url: Option<String>,
    pub rate_limits: RateLimits,
    /// Bounds the work of the token endpoint; shared by every worker.
    pub token_guard: Arc<TokenGuard>,
    pub body_timeout: BodyTimeout,
    /// The time writes are stamped with and expiries are judged by.
    pub clock: Clock,
    /// How long an owner may restore its withdrawn or deleted listing.
    pub restore_period: RestorePeriod,
    /// How many exports run at once, across every worker.
    pub export_slots: crate::routes::export::ExportSlots,
    /// What webhooks may target, and how their deliveries are retried.
    pub webhooks: crate::webhooks::WebhookSettings,
    /// The OpenAPI documents and the route table, made by the first worker and shared by all.
    pub documents: SharedDocuments,
}

/// What the app derives from its OpenAPI document: the document was some 14 MB of utoipa
/// structures per worker, its serialized JSON is a fraction of that.
pub struct Documents {
    openapi_json: web::Bytes,
    openapi_30_json: web::Bytes,
    routes: RouteTable,
}

/// The [`Documents`] of one server's workers: filled once, by whichever worker builds first.
pub type SharedDocuments = Arc<std::sync::OnceLock<Arc<Documents>>>;

impl Documents {
    fn of(spec: &utoipa::openapi::OpenApi) -> Documents {
        let json =
            |value: serde_json::Result<Vec<u8>>| web::Bytes::from(value.expect("an OpenAPI document serializes"));
        Documents {
            openapi_json: json(serde_json::to_vec(spec)),
            openapi_30_json: json(serde_json::to_vec(&crate::openapi30::downgrade(spec))),
            routes: RouteTable::of(spec),
        }
    }

    /// `/openapi.json`.
    pub fn openapi_json(&self) -> web::Bytes {
        self.openapi_json.clone()
    }

    /// `/openapi-3.0.json`.
    pub fn openapi_30_json(&self) -> web::Bytes {
        self.openapi_30_json.clone()
    }
}

fn documented<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .configure(routes::ops::configure)
        .service(utoipa_actix_web::scope("/v1").configure(routes::configure_v1))
}

/// The OpenAPI document of every route the app serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut spec = documented(App::new().into_utoipa_app()).split_for_parts().1;
    complete_schemas(&mut spec);
    crate::contract::complete(&mut spec);
    spec
}

/// The request types the API reads strictly (see [`crate::strict`]): a key they do not have is
/// refused.
const STRICT_SCHEMAS: &[&str] = &[
    "ListingContent",
    "LocalizedText",
    "LocalizedSummary",
    "LocalizedDescription",
    "Price",
    "Owner",
    "Contact",
    "Media",
    "Source",
    "CoOwner",
    "Confidential",
    "Attachment",
    "OrganizationContent",
    "OrganizationContact",
    "SendInterestRequest",
    "SenderContact",
    "ContractContent",
    "ContractParty",
    "ContractTechnology",
    "ContractRights",
    "ContractValue",
    "ContractPayment",
    "ContractAttachment",
    "RegistrationCertificate",
    "BatchRequest",
    "BatchItem",
    "SourceKey",
    "WebhookContent",
];

/// What the derived schemas cannot say: the limits the domain enforces and the refusal of unknown
/// keys in request bodies.
fn complete_schemas(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    let Some(components) = spec.components.as_mut() else { return };
    for limits in [
        routes::listings_dto::LIMITS,
        routes::search_dto::LIMITS,
        routes::matches_dto::LIMITS,
        routes::listings_sync_dto::LIMITS,
        routes::organizations_dto::LIMITS,
        routes::clients_dto::LIMITS,
        routes::interests_dto::LIMITS,
        routes::contracts_dto::LIMITS,
        routes::stats::LIMITS,
        routes::centers_dto::LIMITS,
        routes::webhooks::LIMITS,
        routes::searches::LIMITS,
        crate::error::LIMITS,
    ] {
        crate::kit::document_limits(components, limits);
    }
    crate::kit::document_limits(components, &routes::reference_dto::limits());
    crate::kit::document_limits(components, &routes::auth::limits());
    crate::language::document(components);
    for name in STRICT_SCHEMAS {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*name) {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

/// The whole application.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, spec) = documented(App::new().into_utoipa_app()).split_for_parts();
    let documents = state.documents.get_or_init(|| {
        let mut spec = spec;
        if let Some(url) = &state.public_url {
            spec.servers = Some(vec![utoipa::openapi::server::Server::new(url.clone())]);
        }
        complete_schemas(&mut spec);
        crate::contract::complete(&mut spec);
        Arc::new(Documents::of(&spec))
    });
    let limits = state.rate_limits.clone();
    app.app_data(web::Data::new(state.db))
        .app_data(web::Data::new(state.keys))
        .app_data(web::Data::new(state.token_lifetime))
        .app_data(web::Data::new(state.token_guard))
        .app_data(web::Data::new(state.body_timeout))
        .app_data(web::Data::new(state.restore_period))
        .app_data(web::Data::new(state.export_slots))
        .app_data(web::Data::new(state.webhooks))
        .app_data(web::Data::new(PublicUrl(state.public_url)))
        .app_data(web::Data::new(state.rate_limits.trusted_proxies()))
        .app_data(web::Data::new(state.rate_limits.senders()))
        .app_data(web::Data::new(state.clock))
        .app_data(web::Data::from(documents.clone()))
        .app_data(web::PayloadConfig::new(BODY_LIMIT))
        .app_data(
            web::QueryConfig::default().error_handler(|error, _| ApiError::InvalidQuery(query_errors(&error)).into()),
        )
        .app_data(web::PathConfig::default().error_handler(|error, _| {
            log::debug!("path refused: {error}");
            let mut errors = ValidationErrors::default();
            errors.add_as("", "invalid_format", Text::WrongValue);
            ApiError::InvalidPath(errors).into()
        }))
        .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")))
        .default_service(web::to(no_route))
        .wrap(from_fn(crate::idempotency::idempotent))
        .wrap(from_fn(crate::language::respond))
        .wrap(from_fn(move |req, next| rate_limit::limit(limits.clone(), req, next)))
        .wrap(state.cors.middleware())
        .wrap(from_fn(finish_response))
        .wrap(Compress::default())
        .wrap(from_fn(tag_content_coding))
        .wrap(from_fn(head_as_get))
        .wrap(
            Logger::new(r#"%{r}a "%{request_line}xi" %s %b %Dms request_id=%{x-request-id}o"#)
                .custom_request_replace("request_line", |req| redacted_request_line(req.request())),
        )
}

/// Query parameters whose values are never written to a log: anything named like a credential
/// (`client_secret`, `access_token`, `password`, `api_key`, ...), whoever sends it where.
fn is_secret_parameter(name: &str) -> bool {
    const SECRET_WORDS: &[&str] = &[
        "secret",
        "token",
        "password",
        "passwd",
        "pwd",
        "key",
        "signature",
        "credential",
        "auth",
        "session",
        "assertion",
    ];
    let name = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
}

/// The request line for the access log, with the values of secret-looking query parameters
/// replaced, so credentials a client wrongly put in a URL do not reach the log.
fn redacted_request_line(req: &HttpRequest) -> String {
    let version = format!("{:?}", req.version());
    let query = req.query_string();
    if query.is_empty() {
        return format!("{} {} {version}", req.method(), req.path());
    }
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| {
            let raw_name = pair.split('=').next().unwrap_or_default();
            let name = web::Query::<Vec<(String, String)>>::from_query(&format!("{raw_name}="))
                .ok()
                .and_then(|q| q.into_inner().pop())
                .map_or_else(|| raw_name.to_owned(), |(name, _)| name);
            if is_secret_parameter(&name) { format!("{raw_name}=[redacted]") } else { pair.to_owned() }
        })
        .collect();
    format!("{} {}?{} {version}", req.method(), req.path(), redacted.join("&"))
}

/// The documented paths and their methods, to tell an unknown path (404) from a known path
/// asked with the wrong method (405).
struct RouteTable(Vec<(ResourceDef, Vec<Method>)>);

impl RouteTable {
    fn of(spec: &utoipa::openapi::OpenApi) -> Self {
        let routes =
            spec.paths.paths.iter().map(|(path, item)| (ResourceDef::new(path.as_str()), methods_of(item))).collect();
        RouteTable(routes)
    }
}

/// The methods a path answers; every `GET` also answers `HEAD`.
fn methods_of(item: &PathItem) -> Vec<Method> {
    [
        (Method::GET, &item.get),
        (Method::HEAD, &item.get),
        (Method::POST, &item.post),
        (Method::PUT, &item.put),
        (Method::PATCH, &item.patch),
        (Method::DELETE, &item.delete),
    ]
    .into_iter()
    .filter(|(_, operation)| operation.is_some())
    .map(|(method, _)| method)
    .collect()
}

async fn no_route(req: HttpRequest, documents: web::Data<Documents>) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    Err(match documents.routes.0.iter().find(|(def, _)| def.is_match(path)) {
        Some((_, methods)) => ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allowed: methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", "),
        },
        None => ApiError::NoRoute(path.to_owned()),
    })
}

/// Which browser origins may call the API (CORS). Tokens travel in the Authorization header,
/// never in cookies, so credentials are never allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsPolicy {
    /// No cross-origin calls.
    None,
    /// The origins named may call everything.
    Origins(Vec<String>),
    /// Any origin may read anonymously (`GET`, `HEAD`, without Authorization): a public read
    /// API that any portal's page can embed.
    AnyOriginReadOnly,
}

impl CorsPolicy {
    /// Reads `TECHEX_CORS_ORIGINS`: empty, `*`, or comma-separated origins such as
    /// `https://sokhcn.dongnai.gov.vn` (scheme, host and optional port; no path).
    pub fn parse(origins: &[String]) -> Result<CorsPolicy, String> {
        let origins: Vec<&str> = origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()).collect();
        match origins.as_slice() {
            [] => Ok(CorsPolicy::None),
            ["*"] => Ok(CorsPolicy::AnyOriginReadOnly),
            named if named.contains(&"*") => {
                Err("TECHEX_CORS_ORIGINS: '*' allows every origin and cannot be combined with named origins".into())
            }
            named => named
                .iter()
                .map(|origin| {
                    if is_origin(origin) {
                        Ok((*origin).to_owned())
                    } else {
                        Err(format!(
                            "TECHEX_CORS_ORIGINS: '{origin}' is not an origin; write scheme and host, e.g. https://portal.example.vn"
                        ))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map(CorsPolicy::Origins),
        }
    }

    fn middleware(&self) -> Cors {
        let exposed = [
            header::ETAG,
            header::LOCATION,
            header::LINK,
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit"),
            HeaderName::from_static("ratelimit-policy"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("sync-result"),
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("changes-cursor"),
            header::CONTENT_DISPOSITION,
        ];
        match self {
            CorsPolicy::AnyOriginReadOnly => Cors::default()
                .allow_any_origin()
                .send_wildcard()
                .allowed_methods(["GET", "HEAD"])
                .allowed_headers([
                    header::IF_NONE_MATCH,
                    header::ACCEPT_LANGUAGE,
                    HeaderName::from_static("x-request-id"),
                ])
                .expose_headers(exposed)
                .max_age(3600),
            CorsPolicy::None | CorsPolicy::Origins(_) => {
                let mut cors = Cors::default()
                    .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
                    .allowed_headers([
                        header::AUTHORIZATION,
                        header::CONTENT_TYPE,
                        header::IF_MATCH,
                        header::IF_NONE_MATCH,
                        HeaderName::from_static("x-request-id"),
                        HeaderName::from_static("idempotency-key"),
                    ])
                    .expose_headers(exposed)
                    .max_age(3600);
                if let CorsPolicy::Origins(origins) = self {
                    for origin in origins {
                        cors = cors.allowed_origin(origin);
                    }
                }
                cors
            }
        }
    }
}

/// `scheme://host[:port]` with nothing after: what a browser sends as `Origin`.
fn is_origin(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")) else { return false };
    !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        && HeaderValue::from_str(text).is_ok()
}

/// `HEAD` on every `GET` route (RFC 9110 section 9.3.2): the request is routed as a `GET`, and
/// the answer keeps its status and headers (`ETag`, `Content-Length`, caching) without the body.
async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let head = req.method() == Method::HEAD;
    if head {
        req.head_mut().method = Method::GET;
    }
    let response = next.call(req).await?;
    Ok(if head {
        response.map_body(|_, body| BoxBody::new(Bodiless(body.size())))
    } else {
        response.map_into_boxed_body()
    })
}

/// The body of a `HEAD` answer: the size of the `GET` body, and no bytes.
struct Bodiless(BodySize);

impl MessageBody for Bodiless {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        self.0
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<actix_web::web::Bytes, Self::Error>>> {
        std::task::Poll::Ready(None)
    }
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The last step of every response:
/// - an `X-Request-Id`: the caller's, when it sent a sane one, so a portal can follow its
///   request through our logs, or a new one;
/// - errors that a framework layer wrote as plain text (rate limits, CORS refusals, payload
///   errors) rewritten as problem+json, so every failure has the one documented shape;
/// - every problem in the language `Accept-Language` prefers (see [`crate::language`]);
/// - an ETag on every JSON read that has none of its own (pages, reference lists), answered
///   304 when the caller's copy is current.
async fn finish_response(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let read = req.method() == Method::GET;
    let is_docs = req.path().starts_with("/docs");
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let lang = crate::language::negotiate(&req);
    let mut response = next.call(req).await?;
    let mut response = if needs_problem_body(&response) {
        as_problem(response, lang).await
    } else if let Some(problem) =
        response.response().error().and_then(|e| e.as_error::<ApiError>()).map(|e| e.problem(lang))
    {
        crate::language::mark(response.headers_mut(), lang);
        response.map_body(|_, _| BoxBody::new(serde_json::to_string(&problem).expect("problems serialize")))
    } else if read && own_etag_matches(&response, if_none_match.as_deref()) {
        let (request, response) = response.into_parts();
        ServiceResponse::new(request, not_modified(response.headers()))
    } else if read && needs_content_etag(&response) {
        with_content_etag(response, if_none_match.as_deref()).await
    } else {
        response.map_into_boxed_body()
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = if is_docs { DOCS_POLICY } else { API_POLICY };
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    }
    Ok(response)
}

/// Gives a compressed answer the tag of its coding (`"v3-gzip"`, see [`etag`]), and a 304 the
/// tag the caller holds when that is a coded one.
async fn tag_content_coding(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut response = next.call(req).await?;
    let Some(tag) = response.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        return Ok(response);
    };
    let coding = response.headers().get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let coded = match coding {
        Some(coding) if etag::CODINGS.contains(&coding.as_str()) => Some(etag::for_coding(&tag, &coding)),
        Some(_) => None,
        None if response.status() == StatusCode::NOT_MODIFIED => if_none_match.and_then(|held| {
            etag::CODINGS.iter().map(|c| etag::for_coding(&tag, c)).find(|coded| held.contains(coded.as_str()))
        }),
        None => None,
    };
    if let Some(value) = coded.and_then(|coded| HeaderValue::from_str(&coded).ok()) {
        let headers = response.headers_mut();
        headers.insert(header::ETAG, value);
        if response.status() == StatusCode::NOT_MODIFIED {
            response.headers_mut().append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    Ok(response)
}

/// Answers of the API are data, never pages: nothing in them may load, run or be framed.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";
/// Swagger UI runs its own scripts and styles from this server and calls this server only.
const DOCS_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
    script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

async fn as_problem(response: ServiceResponse<impl MessageBody + 'static>, lang: Lang) -> ServiceResponse {
    let (request, response) = response.into_parts();
    let status = response.status();
    let headers = response.headers().clone();
    let text = actix_web::body::to_bytes(response.into_body()).await.unwrap_or_default();
    let refusal = ApiError::Http { status, detail: String::from_utf8_lossy(&text).trim().to_owned() };
    log::debug!("refused before routing: {refusal}");
    let mut rebuilt = refusal.error_response();
    rebuilt =
        rebuilt.set_body(BoxBody::new(serde_json::to_string(&refusal.problem(lang)).expect("problems serialize")));
    crate::language::mark(rebuilt.headers_mut(), lang);
    for (name, value) in
        headers.iter().filter(|(name, _)| *name != header::CONTENT_TYPE && *name != header::CONTENT_LENGTH)
    {
        rebuilt.headers_mut().append(name.clone(), value.clone());
    }
    ServiceResponse::new(request, rebuilt).map_into_boxed_body()
}

/// A successful JSON read of known size without an ETag of its own.
fn needs_content_etag<B: MessageBody>(response: &ServiceResponse<B>) -> bool {
    response.status() == StatusCode::OK
        && !response.headers().contains_key(header::ETAG)
        && matches!(response.response().body().size(), BodySize::Sized(_))
        && response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

/// A successful read that carries its own ETag (a record's version) which `if_none_match` names.
fn own_etag_matches<B>(response: &ServiceResponse<B>, if_none_match: Option<&str>) -> bool {
    response.status() == StatusCode::OK
        && if_none_match.is_some_and(|candidates| {
            response
                .headers()
                .get(header::ETAG)
                .and_then(|tag| tag.to_str().ok())
                .is_some_and(|tag| etag::matches_weak(candidates, tag))
        })
}

/// A 304 carrying the headers of the response it stands for, less those of its body.
fn not_modified(headers: &actix_web::http::header::HeaderMap) -> HttpResponse {
    let mut response = HttpResponse::NotModified().finish();
    for (name, value) in
        headers.iter().filter(|(name, _)| *name != header::CONTENT_TYPE && *name != header::CONTENT_LENGTH)
    {
        response.headers_mut().append(name.clone(), value.clone());
    }
    response
}

/// Tags a read with the BLAKE3 hash of its body (see [`etag::of_digest`]), or answers 304 when
/// `if_none_match` names it.
async fn with_content_etag(
    response: ServiceResponse<impl MessageBody + 'static>,
    if_none_match: Option<&str>,
) -> ServiceResponse {
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        return ServiceResponse::new(request, HttpResponse::InternalServerError().finish());
    };
    // The language is part of the representation: the same bytes in another language (a text
    // without English) are another representation, with another tag.
    let mut digest = blake3::Hasher::new();
    digest.update(head.headers().get(header::CONTENT_LANGUAGE).map(|v| v.as_bytes()).unwrap_or_default());
    digest.update(&bytes);
    let tag = etag::of_digest(&digest);
    let mut rebuilt = if if_none_match.is_some_and(|candidates| etag::matches_weak(candidates, &tag)) {
        not_modified(head.headers())
    } else {
        head.set_body(Slices(bytes)).map_into_boxed_body()
    };
    if let Ok(value) = HeaderValue::from_str(&tag) {
        rebuilt.headers_mut().insert(header::ETAG, value);
    }
    ServiceResponse::new(request, rebuilt)
}

/// A body of known bytes handed to the connection [`SLICE`] bytes at a time. The connection
/// copies what it is given into its write buffer: a 2 MB feed page given whole grew that buffer
/// to 2–4 MB per connection until the client had read it.
struct Slices(web::Bytes);

/// Below the 128 KiB of write buffer a connection keeps between answers, so the buffer is reused.
const SLICE: usize = 64 * 1024;

impl MessageBody for Slices {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.0.len() as u64)
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<web::Bytes, Self::Error>>> {
        let rest = &mut self.get_mut().0;
        std::task::Poll::Ready((!rest.is_empty()).then(|| Ok(rest.split_to(rest.len().min(SLICE)))))
    }
}

/// Error responses not already JSON: problem+json from our handlers and the OAuth error format
/// of the token endpoint stay as they are.
fn needs_problem_body<B>(response: &ServiceResponse<B>) -> bool {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json") || v.starts_with("application/json"));
    response.status().as_u16() >= 400 && !is_json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_settings_are_checked_and_explained() {
        assert_eq!(CorsPolicy::parse(&[]), Ok(CorsPolicy::None));
        assert_eq!(CorsPolicy::parse(&[" ".into()]), Ok(CorsPolicy::None));
        assert_eq!(CorsPolicy::parse(&["*".into()]), Ok(CorsPolicy::AnyOriginReadOnly));
        assert_eq!(
            CorsPolicy::parse(&["https://sokhcn.dongnai.gov.vn".into(), " http://127.0.0.1:3000".into()]),
            Ok(CorsPolicy::Origins(vec!["https://sokhcn.dongnai.gov.vn".into(), "http://127.0.0.1:3000".into()]))
        );
        for bad in
            [vec!["*".to_owned(), "https://a.vn".to_owned()], vec!["a.vn".into()], vec!["https://a.vn/path".into()]]
        {
            let refused = CorsPolicy::parse(&bad).unwrap_err();
            assert!(refused.starts_with("TECHEX_CORS_ORIGINS: "), "{refused}");
        }
    }

    #[actix_web::test]
    async fn a_sliced_body_keeps_its_length_and_its_bytes() {
        let bytes: Vec<u8> = (0..(2 * SLICE + 100)).map(|i| (i % 251) as u8).collect();
        let body = Slices(web::Bytes::from(bytes.clone()));
        assert_eq!(body.size(), BodySize::Sized(bytes.len() as u64));
        assert_eq!(actix_web::body::to_bytes(body).await.unwrap(), bytes);
        assert_eq!(actix_web::body::to_bytes(Slices(web::Bytes::new())).await.unwrap(), web::Bytes::new());
    }

    #[test]
    fn secret_looking_parameters_are_recognized() {
        for name in ["client_secret", "access_token", "Password", "api_key", "X-Amz-Signature", "session_id"] {
            assert!(is_secret_parameter(name), "{name}");
        }
        for name in ["status", "province", "cursor", "limit", "kind", "field", "publisher"] {
            assert!(!is_secret_parameter(name), "{name}");
        }
    }
}
