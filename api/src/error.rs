//! Every failure leaves the API as RFC 9457 `application/problem+json` with a stable `code`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use techex_domain::ValidationErrors;
use techex_domain::access::Denied;
use techex_domain::listing::IllegalTransition;
use techex_persistence::{Constraint, Entity, StoreError};
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:techex:problem:validation_failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "1 invalid field(s)",
    "code": "validation_failed",
    "errors": [{"field": "trl", "code": "out_of_range", "message": "TRL must be between 1 and 9, not 12"}]
}))]
pub struct Problem {
    /// `urn:techex:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A stable snake_case word clients may branch on.
    pub code: String,
    /// The failures of each input field, for `validation_failed` and `invalid_query`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One rejected input: `field` is a path such as `title.vi` or `field_codes[1]`, `code` a stable
/// snake_case word clients may branch on, `message` a sentence for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    #[schema(example = "trl")]
    pub field: String,
    #[schema(example = "out_of_range")]
    pub code: String,
    #[schema(example = "TRL must be between 1 and 9")]
    pub message: String,
}

impl From<techex_domain::FieldError> for FieldError {
    fn from(e: techex_domain::FieldError) -> Self {
        FieldError { field: e.field, code: e.code, message: e.message }
    }
}

/// The refusals of every operation reserved to the hub operator, documented once for all of them.
#[derive(utoipa::IntoResponses)]
pub enum OperatorOnly {
    /// No or an invalid access token (`unauthorized`, `invalid_token`)
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
    /// The token lacks `admin` (`insufficient_scope`)
    #[response(status = 403, content_type = "application/problem+json")]
    NotOperator(Problem),
}

/// The refusals of a request body, the same for every operation that reads one.
#[derive(utoipa::IntoResponses)]
pub enum BodyRefused {
    /// The body is over 1 MiB (`body_too_large`)
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not `application/json` or another `+json` type (`unsupported_media_type`)
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
}

/// The refusal of a versioned write whose `If-Match` names another version.
#[derive(utoipa::IntoResponses)]
pub enum StaleVersion {
    /// The record changed since the If-Match version (`precondition_failed`)
    #[response(status = 412, content_type = "application/problem+json")]
    Changed(Problem),
}

/// The refusals every creation of a record by the operator shares; each route adds its own
/// conflicts (409).
#[derive(utoipa::IntoResponses)]
pub enum OperatorCreateRefused {
    /// The body is not JSON (`malformed_json`)
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
    /// No or an invalid access token (`unauthorized`, `invalid_token`)
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
    /// The token lacks `admin` (`insufficient_scope`)
    #[response(status = 403, content_type = "application/problem+json")]
    NotOperator(Problem),
    /// The body is over 1 MiB (`body_too_large`)
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not `application/json` or another `+json` type (`unsupported_media_type`)
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
    /// The record breaks a rule (`validation_failed`); `errors` names each field
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// The refusals every versioned change of a record by the operator shares; each route adds
/// its own conflicts (409).
#[derive(utoipa::IntoResponses)]
pub enum OperatorEditRefused {
    /// Malformed JSON (`malformed_json`), id (`invalid_path`) or If-Match (`invalid_header`)
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
    /// No or an invalid access token (`unauthorized`, `invalid_token`)
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthenticated(Problem),
    /// The token lacks `admin` (`insufficient_scope`)
    #[response(status = 403, content_type = "application/problem+json")]
    NotOperator(Problem),
    /// No such record (`organization_not_found`, `client_not_found`)
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The record changed since the If-Match version (`precondition_failed`)
    #[response(status = 412, content_type = "application/problem+json")]
    Changed(Problem),
    /// The body is over 1 MiB (`body_too_large`)
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not `application/json` or another `+json` type (`unsupported_media_type`)
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
    /// The record as changed breaks a rule (`validation_failed`); `errors` names each field
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the body is not well-formed JSON: {0}")]
    MalformedJson(String),
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("{0}")]
    InvalidQuery(ValidationErrors),
    #[error("{0}")]
    InvalidPath(ValidationErrors),
    #[error("the body exceeds the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("send the body as JSON (application/json, or application/merge-patch+json for a patch)")]
    UnsupportedMediaType,
    #[error("{entity} not found")]
    NotFound { entity: Entity },
    #[error("no route answers {0}")]
    NoRoute(String),
    #[error("{method} is not allowed here; allowed: {allowed}")]
    MethodNotAllowed { method: String, allowed: String },
    #[error("{0}")]
    IllegalTransition(#[from] IllegalTransition),
    #[error("the {entity} was changed by another write; read it again and retry")]
    EditConflict { entity: Entity },
    #[error("{}", duplicate_detail(*.0))]
    Duplicate(Constraint),
    #[error("the {entity} is at version {current} (ETag \"v{current}\"); If-Match named another")]
    PreconditionFailed { entity: Entity, current: i64 },
    #[error("the {name} header is malformed: {reason}")]
    InvalidHeader { name: &'static str, reason: &'static str },
    #[error("the access token is missing, malformed, expired, revoked or not for this API")]
    InvalidToken,
    #[error("{0}")]
    Denied(#[from] Denied),
    #[error("{0}")]
    PreconditionRequired(&'static str),
    #[error("the request body did not arrive within {seconds} s")]
    BodyTimeout { seconds: u64 },
    #[error("the client is revoked")]
    ClientRevoked,
    #[error("an operator may not revoke, or take admin from, the client it is calling with")]
    SelfLockout,
    /// A failure an HTTP layer answered before any handler (CORS, rate limits).
    #[error("{detail}")]
    Http { status: StatusCode, detail: String },
    #[error("the database is not reachable")]
    Unavailable(#[source] StoreError),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What a client is told about a broken uniqueness rule.
fn duplicate_detail(constraint: Constraint) -> &'static str {
    match constraint {
        Constraint::ListingSource => "another listing already has this source exchange and external id",
        Constraint::OrganizationTaxCode => "another organization already has this tax code",
        Constraint::SourceExchange => {
            "a source exchange name in source_exchanges already belongs to another organization"
        }
    }
}

impl ApiError {
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(error.into())
    }

    /// The stable code, its HTTP status and title: the one table of the API's failures.
    pub fn code(&self) -> (&'static str, StatusCode, &'static str) {
        use ApiError::*;
        use techex_domain::access::Denied as D;
        match self {
            MalformedJson(_) => ("malformed_json", StatusCode::BAD_REQUEST, "Malformed JSON"),
            Validation(_) => ("validation_failed", StatusCode::UNPROCESSABLE_ENTITY, "Validation failed"),
            InvalidQuery(_) => ("invalid_query", StatusCode::BAD_REQUEST, "Invalid query parameter"),
            InvalidPath(_) => ("invalid_path", StatusCode::BAD_REQUEST, "Invalid path parameter"),
            BodyTooLarge { .. } => ("body_too_large", StatusCode::PAYLOAD_TOO_LARGE, "Body too large"),
            UnsupportedMediaType => {
                ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type")
            }
            NotFound { entity: Entity::Listing } => ("listing_not_found", StatusCode::NOT_FOUND, "Listing not found"),
            NotFound { entity: Entity::Organization } => {
                ("organization_not_found", StatusCode::NOT_FOUND, "Organization not found")
            }
            NotFound { entity: Entity::ApiClient } => {
                ("client_not_found", StatusCode::NOT_FOUND, "API client not found")
            }
            NoRoute(_) => ("not_found", StatusCode::NOT_FOUND, "Not found"),
            MethodNotAllowed { .. } => ("method_not_allowed", StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"),
            IllegalTransition(_) => ("illegal_transition", StatusCode::CONFLICT, "Illegal lifecycle move"),
            EditConflict { .. } => ("edit_conflict", StatusCode::CONFLICT, "Concurrent edit"),
            Duplicate(Constraint::ListingSource) => {
                ("duplicate_source", StatusCode::CONFLICT, "Duplicate source record")
            }
            Duplicate(Constraint::OrganizationTaxCode) => {
                ("duplicate_tax_code", StatusCode::CONFLICT, "Duplicate tax code")
            }
            Duplicate(Constraint::SourceExchange) => {
                ("duplicate_source_exchange", StatusCode::CONFLICT, "Source exchange held by another organization")
            }
            InvalidHeader { .. } => ("invalid_header", StatusCode::BAD_REQUEST, "Invalid header"),
            PreconditionRequired(_) => {
                ("precondition_required", StatusCode::PRECONDITION_REQUIRED, "If-Match required")
            }
            BodyTimeout { .. } => ("body_timeout", StatusCode::REQUEST_TIMEOUT, "Request body too slow"),
            ClientRevoked => ("client_revoked", StatusCode::CONFLICT, "Client revoked"),
            SelfLockout => ("self_lockout", StatusCode::CONFLICT, "Would lock the caller out"),
            InvalidToken => ("invalid_token", StatusCode::UNAUTHORIZED, "Invalid access token"),
            Denied(D::Unauthenticated) => ("unauthorized", StatusCode::UNAUTHORIZED, "Authentication required"),
            Denied(D::MissingScope(_)) => ("insufficient_scope", StatusCode::FORBIDDEN, "Insufficient scope"),
            Denied(D::NotOwner) => ("forbidden", StatusCode::FORBIDDEN, "Forbidden"),
            Denied(D::SelfApproval) => {
                ("self_approval", StatusCode::FORBIDDEN, "Approval by the author's organization")
            }
            Denied(D::Hidden) => ("listing_not_found", StatusCode::NOT_FOUND, "Listing not found"),
            PreconditionFailed { .. } => {
                ("precondition_failed", StatusCode::PRECONDITION_FAILED, "Version precondition failed")
            }
            Http { status, .. } => match status.as_u16() {
                400 => ("bad_request", *status, "Bad request"),
                401 => ("unauthorized", *status, "Authentication required"),
                403 => ("forbidden", *status, "Forbidden"),
                404 => ("not_found", *status, "Not found"),
                413 => ("body_too_large", *status, "Body too large"),
                429 => ("rate_limited", *status, "Too many requests"),
                _ if status.is_server_error() => ("internal_error", *status, "Internal error"),
                _ => ("http_error", *status, "Request failed"),
            },
            Unavailable(_) => ("service_unavailable", StatusCode::SERVICE_UNAVAILABLE, "Service unavailable"),
            Internal(_) => ("internal_error", StatusCode::INTERNAL_SERVER_ERROR, "Internal error"),
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            ApiError::Validation(e) | ApiError::InvalidQuery(e) | ApiError::InvalidPath(e) => {
                e.0.iter().cloned().map(FieldError::from).collect()
            }
            _ => Vec::new(),
        }
    }

    pub fn problem(&self) -> Problem {
        let (code, status, title) = self.code();
        let detail = match self {
            // Causes of server-side failures stay in the log; the client gets the request id.
            ApiError::Internal(_) | ApiError::Unavailable(_) => {
                format!("{title}; the X-Request-Id response header identifies this request in the server's log")
            }
            other => other.to_string(),
        };
        Problem {
            problem_type: format!("urn:techex:problem:{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            errors: self.field_errors(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code().1
    }

    fn error_response(&self) -> HttpResponse {
        if self.status_code().is_server_error() {
            log::error!("{self}: {}", cause_chain(self));
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            ApiError::InvalidToken => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="techex", error="invalid_token""#),
                ));
            }
            ApiError::Denied(Denied::Unauthenticated) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer realm="techex""#)));
            }
            ApiError::Denied(Denied::MissingScope(scope)) => {
                if let Ok(value) = HeaderValue::from_str(&format!(
                    r#"Bearer realm="techex", error="insufficient_scope", scope="{scope}""#
                )) {
                    response.insert_header((header::WWW_AUTHENTICATE, value));
                }
            }
            _ => {}
        }
        if let ApiError::MethodNotAllowed { allowed, .. } = self
            && let Ok(value) = HeaderValue::from_str(allowed)
        {
            response.insert_header((header::ALLOW, value));
        }
        response.body(serde_json::to_string(&self.problem()).expect("problems serialize"))
    }
}

fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut chain = Vec::new();
    let mut current = error.source();
    while let Some(cause) = current {
        chain.push(cause.to_string());
        current = cause.source();
    }
    chain.join(": ")
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(entity) => ApiError::NotFound { entity },
            StoreError::VersionConflict(entity) => ApiError::EditConflict { entity },
            StoreError::Duplicate(constraint) => ApiError::Duplicate(constraint),
            StoreError::Pool(_) => ApiError::Unavailable(error),
            other => ApiError::internal(other),
        }
    }
}

impl From<techex_domain::client::ClientRevoked> for ApiError {
    fn from(_: techex_domain::client::ClientRevoked) -> Self {
        ApiError::ClientRevoked
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::internal(error.to_string())
    }
}
