//! `POST /v1/auth/token` (OAuth 2.0 client credentials, RFC 6749 section 4.4) and the public
//! keys that verify its tokens.

use std::collections::BTreeSet;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use techex_domain::access::{Scope, format_scopes, parse_scopes};
use techex_domain::client::ApiClient;
use techex_persistence::{Db, StoreError, clients};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::PublicUrl;
use crate::auth::keys::{JWK_LIMITS, Jwks, SigningAlgorithm};
use crate::auth::rate_limit::{TrustedProxies, client_address};
use crate::auth::token_guard::{TokenGuard, TurnedAway, VerifyError, retry_after_seconds};
use crate::auth::{Claims, KeySet, TOKEN_TTL_SECONDS, TokenLifetime, secrets};
use crate::error::Problem;
use crate::extract::RawBody;
use crate::kit::Limit;
use crate::routes::vocabulary_dto as words;

/// The form fields of a token request (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    #[schema(example = "client_credentials")]
    grant_type: Option<String>,
    /// Space-separated scopes wanted; all the client's scopes when left out.
    #[schema(example = "listings:write listings:publish")]
    scope: Option<String>,
    /// With `client_secret`, when the credentials are not sent with HTTP Basic.
    client_id: Option<String>,
    client_secret: Option<String>,
}

impl TokenRequest {
    /// The most characters of each field: no valid value is longer (every scope once, an id,
    /// a secret), and a longer one is refused as `invalid_request`.
    fn max_lengths() -> [(&'static str, usize); 4] {
        [
            ("grant_type", GRANT_TYPES.iter().map(|g| g.len()).max().unwrap_or_default()),
            ("scope", all_scopes_length()),
            ("client_id", crate::kit::ID_MAX_LENGTH),
            ("client_secret", secrets::SECRET_LEN),
        ]
    }

    fn check_lengths(&self) -> Result<(), OAuthError> {
        let fields = [&self.grant_type, &self.scope, &self.client_id, &self.client_secret];
        for ((name, max), value) in Self::max_lengths().into_iter().zip(fields) {
            if value.as_ref().is_some_and(|v| v.chars().count() > max) {
                return Err(oauth("invalid_request", format!("{name} is longer than {max} characters")));
            }
        }
        Ok(())
    }
}

/// Every scope once, separated by spaces: the longest `scope` a request or a token may carry.
fn all_scopes_length() -> usize {
    Scope::ALL.iter().map(|s| s.as_str().len() + 1).sum::<usize>() - 1
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT signed with EdDSA or ES256 (as the hub is configured); verify it with
    /// `/.well-known/jwks.json`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    #[schema(example = "listings:write listings:publish")]
    pub scope: String,
}

/// An error of the token endpoint, in the format RFC 6749 section 5.2 prescribes.
#[derive(Debug, Serialize, ToSchema, thiserror::Error)]
#[error("{error}: {error_description}")]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type`, `invalid_scope`,
    /// `server_error`, `temporarily_unavailable` or `too_many_attempts`.
    #[schema(example = "invalid_client")]
    pub error: &'static str,
    pub error_description: String,
}

const METADATA: &str = "AuthorizationServerMetadata";
const GRANT_TYPES: [&str; 1] = ["client_credentials"];
const AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The codes of [`OAuthError::error`].
const OAUTH_ERRORS: [&str; 7] = [
    "invalid_request",
    "invalid_client",
    "unsupported_grant_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
    "too_many_attempts",
];

fn oauth(error: &'static str, description: impl Into<String>) -> OAuthError {
    debug_assert!(OAUTH_ERRORS.contains(&error), "{error} is not documented");
    // The description may quote the request (an unknown scope), so it is bounded like a problem's.
    OAuthError { error, error_description: crate::error::clipped(description.into()) }
}

/// What the token endpoint's answers promise: the lifetime the operator may set, the scopes a
/// token may carry, the RFC 6749 error codes and bounded descriptions.
pub fn limits() -> Vec<(&'static str, &'static str, Limit)> {
    let longest_error = OAUTH_ERRORS.iter().map(|e| e.len()).max().unwrap_or_default();
    let mut limits = vec![
        ("TokenResponse", "expires_in", Limit::Minimum(*TOKEN_TTL_SECONDS.start())),
        ("TokenResponse", "expires_in", Limit::Maximum(*TOKEN_TTL_SECONDS.end())),
        ("TokenResponse", "token_type", Limit::Pattern("^Bearer$")),
        ("TokenResponse", "token_type", Limit::MaxLength("Bearer".len())),
        ("TokenResponse", "scope", Limit::MaxLength(all_scopes_length())),
        ("OAuthError", "error", Limit::MaxLength(longest_error)),
        ("OAuthError", "error_description", Limit::MaxLength(crate::error::PROBLEM_TEXT_MAX)),
    ];
    limits.extend(TokenRequest::max_lengths().map(|(field, max)| ("TokenRequest", field, Limit::MaxLength(max))));
    limits.extend(JWK_LIMITS.iter().map(|(member, max)| ("Jwk", *member, Limit::MaxLength(*max))));
    // The metadata's lists, as `metadata` writes them; the algorithms are those of the keys in
    // use, at most both.
    let longest = |values: &[&str]| values.iter().map(|v| v.len()).max().unwrap_or_default();
    let algorithms = SigningAlgorithm::ALL.map(SigningAlgorithm::as_str);
    limits.extend([
        (METADATA, "grant_types_supported", Limit::MaxItems(GRANT_TYPES.len())),
        (METADATA, "grant_types_supported[]", Limit::MaxLength(longest(&GRANT_TYPES))),
        (METADATA, "token_endpoint_auth_methods_supported", Limit::MaxItems(AUTH_METHODS.len())),
        (METADATA, "token_endpoint_auth_methods_supported[]", Limit::MaxLength(longest(&AUTH_METHODS))),
        (METADATA, "response_types_supported", Limit::MaxItems(0)),
        (METADATA, "response_types_supported[]", Limit::MaxLength(0)),
        (METADATA, "access_token_signing_alg_values_supported", Limit::MaxItems(algorithms.len())),
        (METADATA, "access_token_signing_alg_values_supported[]", Limit::MaxLength(longest(&algorithms))),
    ]);
    limits.push(("AuthorizationServerMetadata", "scopes_supported", Limit::MaxItems(Scope::ALL.len())));
    limits
}

/// The token endpoint's refusal: an RFC 6749 error, and when to come back for those that are
/// only for now.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct TokenRefusal {
    error: OAuthError,
    retry_after: Option<u64>,
}

impl From<OAuthError> for TokenRefusal {
    fn from(error: OAuthError) -> Self {
        TokenRefusal { error, retry_after: None }
    }
}

impl From<TurnedAway> for TokenRefusal {
    fn from(turned_away: TurnedAway) -> Self {
        let (error, description, wait) = match turned_away {
            TurnedAway::Busy(wait) => {
                ("temporarily_unavailable", "too many token requests are being checked; retry shortly", wait)
            }
            TurnedAway::TooManyFailures(wait) => {
                ("too_many_attempts", "too many failed attempts for this client or address; retry later", wait)
            }
        };
        TokenRefusal { error: oauth(error, description), retry_after: Some(retry_after_seconds(wait)) }
    }
}

impl ResponseError for TokenRefusal {
    fn status_code(&self) -> StatusCode {
        self.error.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.error.error_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self.error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "too_many_attempts" => StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if self.error == "invalid_client" {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="techex""#)));
        }
        response.json(self)
    }
}

/// The client credentials of a request: HTTP Basic (RFC 6749 section 2.3.1, each part
/// form-urlencoded) or the body, never both.
fn credentials(req: &HttpRequest, form: &TokenRequest) -> Result<(String, String), OAuthError> {
    let basic = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value.to_str().map_err(|_| oauth("invalid_client", "malformed Authorization header"))?;
            let encoded = value
                .strip_prefix("Basic ")
                .or_else(|| value.strip_prefix("basic "))
                .ok_or_else(|| oauth("invalid_client", "use HTTP Basic or client_id and client_secret in the body"))?;
            let decoded = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| oauth("invalid_client", "malformed Basic credentials"))?;
            let (id, secret) =
                decoded.split_once(':').ok_or_else(|| oauth("invalid_client", "malformed Basic credentials"))?;
            let unescape = |part: &str| {
                web::Query::<Vec<(String, String)>>::from_query(&format!("v={part}"))
                    .ok()
                    .and_then(|q| q.into_inner().pop())
                    .map(|(_, v)| v)
                    .ok_or_else(|| oauth("invalid_client", "malformed Basic credentials"))
            };
            Some((unescape(id)?, unescape(secret)?))
        }
    };
    let body = form.client_id.clone().zip(form.client_secret.clone());
    match (basic, body) {
        (Some(_), Some(_)) => Err(oauth("invalid_request", "send the client credentials one way, not two")),
        (Some(credentials), None) | (None, Some(credentials)) => Ok(credentials),
        (None, None) => Err(oauth("invalid_client", "client credentials are required")),
    }
}

/// Get an access token with client credentials.
///
/// The client authenticates with its id and secret (HTTP Basic, or `client_id` and
/// `client_secret` in the form body; RFC 6749 section 2.3.1), so the operation needs no token of
/// its own. The answer's `access_token` is a JWT to send as `Authorization: Bearer <token>`
/// until `expires_in` seconds have passed; then ask for another. Failed attempts are counted per
/// client id and per address.
#[utoipa::path(
    tag = "auth",
    operation_id = "issue_token",
    security(()),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token", body = TokenResponse),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type` or `invalid_scope`", body = OAuthError),
        (status = 401, description = "`invalid_client`: unknown client, wrong secret or revoked client", body = OAuthError),
        (status = 429, description = "`too_many_attempts` (RFC 6749 error): too many failed attempts for this client id or from this address lately; or `rate_limited` (problem+json): too many requests from this caller. `Retry-After` says when to try again",
         content((OAuthError = "application/json"), (Problem = "application/problem+json")),
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "`server_error`: the token could not be issued; try again", body = OAuthError),
        (status = 503, description = "`temporarily_unavailable`: the server is checking as many secrets as it will at once; retry after `Retry-After`", body = OAuthError,
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/token")]
pub async fn issue_token(
    req: HttpRequest,
    body: RawBody,
    db: web::Data<Db>,
    keys: web::Data<Arc<KeySet>>,
    lifetime: web::Data<TokenLifetime>,
    guard: web::Data<Arc<TokenGuard>>,
    proxies: web::Data<TrustedProxies>,
) -> Result<HttpResponse, TokenRefusal> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(oauth("invalid_request", "send the request as application/x-www-form-urlencoded").into());
    }
    let text = std::str::from_utf8(&body.0).map_err(|_| oauth("invalid_request", "the body is not UTF-8"))?;
    let form = web::Query::<TokenRequest>::from_query(text)
        .map_err(|e| oauth("invalid_request", crate::extract::query_errors(&e).to_string()))?
        .into_inner();
    form.check_lengths()?;
    let (client_id, secret) = credentials(&req, &form)?;
    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(
                oauth("unsupported_grant_type", format!("'{other}' is not supported; use client_credentials")).into()
            );
        }
        None => return Err(oauth("invalid_request", "grant_type is required").into()),
    }
    let requested = match form.scope.as_deref() {
        Some(text) => {
            Some(parse_scopes(text).map_err(|word| oauth("invalid_scope", format!("unknown scope '{word}'")))?)
        }
        None => None,
    };
    let client = authenticate(&req, &db, &guard, &proxies, client_id, secret).await?;

    let granted: BTreeSet<Scope> = match requested {
        Some(wanted) if !wanted.is_subset(&client.scopes) => {
            let missing: Vec<&str> = wanted.difference(&client.scopes).map(|s| s.as_str()).collect();
            return Err(oauth("invalid_scope", format!("the client does not hold: {}", missing.join(" "))).into());
        }
        Some(wanted) if !wanted.is_empty() => wanted,
        _ => client.scopes.clone(),
    };
    let now = chrono::Utc::now().timestamp();
    let scope = format_scopes(&granted);
    let claims = Claims {
        iss: keys.issuer().to_owned(),
        aud: keys.audience().to_owned(),
        sub: client.id.to_string(),
        org: client.organization_id.to_string(),
        scope: scope.clone(),
        exp: now + lifetime.0,
        iat: now,
        nbf: now,
        jti: Uuid::now_v7().to_string(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token: keys.sign(&claims),
            token_type: "Bearer".into(),
            expires_in: lifetime.0,
            scope,
        }))
}

/// The client whose secret this is: looked up with a pooled connection that is handed back
/// before the secret is checked, the check itself bounded by the token guard.
async fn authenticate(
    req: &HttpRequest,
    db: &Db,
    guard: &Arc<TokenGuard>,
    proxies: &TrustedProxies,
    client_id: String,
    secret: String,
) -> Result<ApiClient, TokenRefusal> {
    let refused = || oauth("invalid_client", "unknown client or wrong secret");
    let address = client_address(req, &proxies.0);
    let id = client_id.parse::<Uuid>().ok();
    guard.admit(id, address)?;
    let found = match id {
        None => None,
        Some(id) => {
            let db = db.clone();
            let found = web::block(move || {
                let mut conn = db.conn()?;
                clients::find_with_secret_hash(&mut conn, id)
            })
            .await
            .map_err(|e| server_error(&e))?;
            match found {
                Ok(found) => found,
                // No connection came free in time, or the database is out: retry shortly.
                Err(StoreError::Pool(_) | StoreError::Unreachable | StoreError::Busy) => {
                    return Err(TurnedAway::Busy(std::time::Duration::from_secs(1)).into());
                }
                Err(e) => return Err(server_error(&e).into()),
            }
        }
    };
    let Some((client, stored)) = found else {
        guard.verify(move || secrets::verify_nothing(&secret)).await.map_err(verify_failure)?;
        guard.record_failure(id, address);
        return Err(refused().into());
    };
    let checked = stored.clone();
    let (matches, secret) = guard
        .verify(move || {
            let matches = secrets::verify(&secret, &checked);
            (matches, secret)
        })
        .await
        .map_err(verify_failure)?;
    if !matches {
        guard.record_failure(id, address);
        return Err(refused().into());
    }
    guard.record_success(client.id);
    if !client.is_active() {
        return Err(refused().into());
    }
    if secrets::is_legacy(&stored) {
        let (db, id) = (db.clone(), client.id);
        let upgraded = web::block(move || {
            let mut conn = db.conn()?;
            clients::replace_secret_hash(&mut conn, id, &stored, &secrets::hash(&secret))
        })
        .await;
        let failure = match upgraded {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(e) = failure {
            log::warn!("could not re-store the secret hash of client {id}: {e}");
        }
    }
    Ok(client)
}

fn verify_failure(error: VerifyError) -> TokenRefusal {
    match error {
        VerifyError::TurnedAway(turned_away) => turned_away.into(),
        VerifyError::Failed(cause) => server_error(&cause).into(),
    }
}

fn server_error(error: &dyn std::fmt::Display) -> OAuthError {
    log::error!("token request failed: {error}");
    oauth("server_error", "the token could not be issued; try again")
}

/// The public keys that verify techex access tokens (RFC 7517).
///
/// A partner that verifies techex tokens itself picks the key by the token's `kid`. During a
/// change of signing key (or of algorithm) both the new and the old keys are listed.
#[utoipa::path(
    tag = "auth",
    operation_id = "jwks",
    responses((status = 200, description = "JSON Web Key Set", body = Jwks))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(keys: web::Data<Arc<KeySet>>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(keys.jwks())
}

/// What a partner's OAuth library needs to know of this hub (RFC 8414).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuthorizationServerMetadata {
    /// The `iss` of every access token.
    #[schema(example = "https://techex.example.vn")]
    pub issuer: String,
    #[schema(example = "https://techex.example.vn/v1/auth/token")]
    pub token_endpoint: String,
    #[schema(example = "https://techex.example.vn/.well-known/jwks.json")]
    pub jwks_uri: String,
    #[schema(example = json!(["client_credentials"]))]
    pub grant_types_supported: Vec<String>,
    /// Client credentials go in HTTP Basic or in the form body.
    #[schema(example = json!(["client_secret_basic", "client_secret_post"]))]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// No authorization endpoint: clients act for themselves, never for a signed-in person.
    pub response_types_supported: Vec<String>,
    #[schema(value_type = Vec<words::Scope>)]
    pub scopes_supported: Vec<Scope>,
    /// The algorithms access tokens are signed with, the current one first (a techex extension:
    /// RFC 8414 names none for access tokens).
    #[schema(example = json!(["EdDSA"]))]
    pub access_token_signing_alg_values_supported: Vec<String>,
    #[schema(example = "https://techex.example.vn/docs/")]
    pub service_documentation: String,
}

/// The authorization server's metadata (RFC 8414).
///
/// Token endpoint, keys, grant types, scopes and signing algorithms, so partners configure
/// nothing by hand. Its URLs start with `TECHEX_PUBLIC_URL`; without one, with the address the
/// request was sent to.
#[utoipa::path(
    tag = "auth",
    operation_id = "oauth_authorization_server_metadata",
    responses((status = 200, description = "RFC 8414 metadata", body = AuthorizationServerMetadata))
)]
#[get("/.well-known/oauth-authorization-server")]
pub async fn authorization_server_metadata(
    req: HttpRequest,
    keys: web::Data<Arc<KeySet>>,
    public_url: web::Data<PublicUrl>,
) -> HttpResponse {
    // Without a configured URL the base comes from the Host header (never from X-Forwarded-*,
    // which anyone can send), and the answer is not cached, since it depends on the request.
    let (base, cache) = match &public_url.0 {
        Some(url) => (url.clone(), "public, max-age=300"),
        None => {
            let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            (format!("http://{host}"), "no-store")
        }
    };
    let metadata = AuthorizationServerMetadata {
        issuer: keys.issuer().to_owned(),
        token_endpoint: format!("{base}/v1/auth/token"),
        jwks_uri: format!("{base}/.well-known/jwks.json"),
        grant_types_supported: GRANT_TYPES.map(str::to_owned).to_vec(),
        token_endpoint_auth_methods_supported: AUTH_METHODS.map(str::to_owned).to_vec(),
        response_types_supported: Vec::new(),
        scopes_supported: Scope::ALL.to_vec(),
        access_token_signing_alg_values_supported: keys.algorithms().iter().map(|a| a.as_str().to_owned()).collect(),
        service_documentation: format!("{base}/docs/"),
    };
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, cache)).json(metadata)
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(issue_token);
}
