//! Every failure leaves the API as RFC 9457 `application/problem+json` with a stable `code`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use techex_domain::access::Denied;
use techex_domain::contract::MoveRefused;
use techex_domain::listing::{IllegalTransition, past_tense};
use techex_domain::{Lang, Message, Text, ValidationErrors};
use techex_persistence::{Constraint, Entity, StoreError};
use utoipa::ToSchema;

use crate::kit::{Limit, Limits};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One rejected input: `field` is a path such as `title.vi`, `price.amount` or `field_codes[1]`
/// (empty for the body or query string as a whole), `code` a stable snake_case word clients may
/// branch on, `message` a sentence a person can read, in the language of the problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    #[schema(example = "price.amount")]
    pub field: String,
    #[schema(example = "invalid_type")]
    pub code: String,
    #[schema(example = "must be a whole number of đồng, without dots or spaces, such as 450000000")]
    pub message: String,
}

/// An RFC 9457 problem document. `title`, `detail` and each `message` are in English, or in
/// Vietnamese when `Accept-Language` prefers it (`vi`, `vi-VN`, `en;q=0.5, vi`); the response's
/// `Content-Language` says which. `type`, `code`, `status` and each `field` and `code` in
/// `errors` never change with the language: branch on those.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:techex:problem:validation_failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "1 field(s) are not as required; errors lists each",
    "code": "validation_failed",
    "errors": [{"field": "trl", "code": "out_of_range", "message": "the TRL must be from 1 to 9, not 12"}]
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

/// The failures many operations share, each one response under `components/responses` that
/// the sets below refer to.
pub mod shared {
    use super::Problem;

    /// No or an invalid access token (`unauthorized`, `invalid_token`)
    #[derive(utoipa::ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Unauthenticated(pub Problem);

    /// The token lacks `admin` (`insufficient_scope`)
    #[derive(utoipa::ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct NotOperator(pub Problem);

    /// The body is over 1 MiB (`body_too_large`)
    #[derive(utoipa::ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct BodyTooLarge(pub Problem);

    /// The body is not `application/json` or another `+json` type (`unsupported_media_type`)
    #[derive(utoipa::ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct BodyNotJson(pub Problem);

    /// The record changed since the If-Match version (`precondition_failed`)
    #[derive(utoipa::ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct VersionChanged(pub Problem);

    /// Malformed JSON (`malformed_json`), id (`invalid_path`) or If-Match (`invalid_header`)
    #[derive(utoipa::ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct EditMalformed(pub Problem);

    /// No such record (`organization_not_found`, `client_not_found`)
    #[derive(utoipa::ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct RecordNotFound(pub Problem);

    /// The record as changed breaks a rule (`validation_failed`); `errors` names each field
    #[derive(utoipa::ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct EditInvalid(pub Problem);
}

/// The refusals of every operation reserved to the hub operator, documented once for all of them.
#[derive(utoipa::IntoResponses)]
pub enum OperatorOnly {
    #[response(status = 401)]
    Unauthenticated(#[ref_response] shared::Unauthenticated),
    #[response(status = 403)]
    NotOperator(#[ref_response] shared::NotOperator),
}

/// The refusal of a query string, the same for every operation that reads one.
#[derive(utoipa::IntoResponses)]
pub enum QueryRefused {
    /// A query parameter is invalid (`invalid_query`; `errors` names each): a value out of range,
    /// an unknown parameter (`unknown_field`, naming the known ones), a one-value parameter given
    /// twice with different values (`repeated_parameter`), more values than its `maxItems`
    /// (`too_many_values`) or more than 50 parameters (`too_many_parameters`)
    #[response(status = 400, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// The refusals of a request body, the same for every operation that reads one.
#[derive(utoipa::IntoResponses)]
pub enum BodyRefused {
    #[response(status = 413)]
    TooLarge(#[ref_response] shared::BodyTooLarge),
    #[response(status = 415)]
    NotJson(#[ref_response] shared::BodyNotJson),
}

/// The refusal of a versioned write whose `If-Match` names another version.
#[derive(utoipa::IntoResponses)]
pub enum StaleVersion {
    #[response(status = 412)]
    Changed(#[ref_response] shared::VersionChanged),
}

/// The refusals every creation of a record by the operator shares; each route adds its own
/// conflicts (409).
#[derive(utoipa::IntoResponses)]
pub enum OperatorCreateRefused {
    /// The body is not JSON (`malformed_json`)
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
    #[response(status = 401)]
    Unauthenticated(#[ref_response] shared::Unauthenticated),
    #[response(status = 403)]
    NotOperator(#[ref_response] shared::NotOperator),
    #[response(status = 413)]
    TooLarge(#[ref_response] shared::BodyTooLarge),
    #[response(status = 415)]
    NotJson(#[ref_response] shared::BodyNotJson),
    /// The record breaks a rule (`validation_failed`); `errors` names each field
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// The refusals every versioned change of a record by the operator shares; each route adds
/// its own conflicts (409).
#[derive(utoipa::IntoResponses)]
pub enum OperatorEditRefused {
    #[response(status = 400)]
    Malformed(#[ref_response] shared::EditMalformed),
    #[response(status = 401)]
    Unauthenticated(#[ref_response] shared::Unauthenticated),
    #[response(status = 403)]
    NotOperator(#[ref_response] shared::NotOperator),
    #[response(status = 404)]
    NotFound(#[ref_response] shared::RecordNotFound),
    #[response(status = 412)]
    Changed(#[ref_response] shared::VersionChanged),
    #[response(status = 413)]
    TooLarge(#[ref_response] shared::BodyTooLarge),
    #[response(status = 415)]
    NotJson(#[ref_response] shared::BodyNotJson),
    #[response(status = 422)]
    Invalid(#[ref_response] shared::EditInvalid),
}

/// How a body failed to read as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonSyntax {
    /// The first mistake is at this line and column (both from 1).
    At { line: usize, column: usize },
    /// The body did not arrive whole.
    Unreadable,
}

/// Every way a request fails. What a client reads about each is in the catalog of
/// [`techex_domain::messages`], in the language it asked for; `Display` is the English, for logs.
#[derive(Debug)]
pub enum ApiError {
    MalformedJson(JsonSyntax),
    Validation(ValidationErrors),
    InvalidQuery(ValidationErrors),
    InvalidPath(ValidationErrors),
    BodyTooLarge {
        limit: usize,
    },
    UnsupportedMediaType,
    NotFound {
        entity: Entity,
    },
    NoRoute(String),
    MethodNotAllowed {
        method: String,
        allowed: String,
    },
    IllegalTransition(IllegalTransition),
    /// A transfer contract's move or edit its status refuses.
    ContractMove(MoveRefused),
    EditConflict {
        entity: Entity,
    },
    /// A record mirrored from another hub, which alone changes it.
    Mirrored {
        hub: String,
    },
    RestorePeriodOver {
        days: i64,
    },
    Duplicate(Constraint),
    PreconditionFailed {
        entity: Entity,
        current: i64,
    },
    /// A malformed header; the sentence names it and what it must hold.
    InvalidHeader(Text),
    InvalidToken,
    Denied(Denied),
    /// The precondition an operation needs, as a sentence.
    PreconditionRequired(Text),
    BodyTimeout {
        seconds: u64,
    },
    ClientRevoked,
    SelfLockout,
    /// Too many requests under a handler's own rate limit (see [`crate::auth::rate_limit::SenderLimit`]).
    RateLimited(crate::auth::rate_limit::Refusal),
    /// Expressions of interest go to published listings only; this one is in another status.
    ListingNotOpen(techex_domain::ListingStatus),
    /// As many exports run as the server allows at once; retry after the seconds given.
    ExportsBusy {
        retry_after: u64,
    },
    /// A source exchange the caller's organization does not hold (portal sync).
    SourceNotHeld {
        exchange: String,
    },
    /// A webhook delivery that is not one of the webhook's.
    DeliveryNotFound,
    /// An `Idempotency-Key` sent again with another request.
    IdempotencyKeyReused,
    /// An `Idempotency-Key` whose first request is still running.
    IdempotencyInProgress,
    /// An `Idempotency-Key` whose first request committed its write, then lost its answer to a
    /// stopped server.
    IdempotencyAnswerLost,
    /// A failure an HTTP layer answered before any handler (CORS, rate limits), with its words.
    Http {
        status: StatusCode,
        detail: String,
    },
    Unavailable(StoreError),
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Validation(e) | ApiError::InvalidQuery(e) | ApiError::InvalidPath(e) => write!(f, "{e}"),
            ApiError::Http { detail, .. } if !detail.is_empty() => f.write_str(detail),
            other => write!(f, "{}", other.detail()),
        }
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiError::Unavailable(e) => Some(e),
            ApiError::Internal(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<IllegalTransition> for ApiError {
    fn from(error: IllegalTransition) -> Self {
        ApiError::IllegalTransition(error)
    }
}

impl From<MoveRefused> for ApiError {
    fn from(error: MoveRefused) -> Self {
        ApiError::ContractMove(error)
    }
}

impl From<Denied> for ApiError {
    fn from(error: Denied) -> Self {
        ApiError::Denied(error)
    }
}

impl ApiError {
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(error.into())
    }

    /// The stable code, its HTTP status and title: the one table of the API's failures.
    pub fn code(&self) -> (&'static str, StatusCode, Text) {
        use ApiError::*;
        use Text as T;
        use techex_domain::access::Denied as D;
        match self {
            MalformedJson(_) => ("malformed_json", StatusCode::BAD_REQUEST, T::TitleMalformedJson),
            Validation(_) => ("validation_failed", StatusCode::UNPROCESSABLE_ENTITY, T::TitleValidationFailed),
            InvalidQuery(_) => ("invalid_query", StatusCode::BAD_REQUEST, T::TitleInvalidQuery),
            InvalidPath(_) => ("invalid_path", StatusCode::BAD_REQUEST, T::TitleInvalidPath),
            BodyTooLarge { .. } => ("body_too_large", StatusCode::PAYLOAD_TOO_LARGE, T::TitleBodyTooLarge),
            UnsupportedMediaType => {
                ("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE, T::TitleUnsupportedMediaType)
            }
            NotFound { entity: Entity::Listing } => {
                ("listing_not_found", StatusCode::NOT_FOUND, T::TitleListingNotFound)
            }
            NotFound { entity: Entity::Organization } => {
                ("organization_not_found", StatusCode::NOT_FOUND, T::TitleOrganizationNotFound)
            }
            NotFound { entity: Entity::ApiClient } => {
                ("client_not_found", StatusCode::NOT_FOUND, T::TitleClientNotFound)
            }
            NotFound { entity: Entity::Interest } => {
                ("interest_not_found", StatusCode::NOT_FOUND, T::TitleInterestNotFound)
            }
            RateLimited(_) => ("rate_limited", StatusCode::TOO_MANY_REQUESTS, T::TitleRateLimited),
            ListingNotOpen(_) => ("listing_not_open", StatusCode::CONFLICT, T::TitleListingNotOpen),
            NotFound { entity: Entity::Contract } => {
                ("contract_not_found", StatusCode::NOT_FOUND, T::TitleContractNotFound)
            }
            ContractMove(MoveRefused::Illegal { .. }) => {
                ("illegal_transition", StatusCode::CONFLICT, T::TitleIllegalTransition)
            }
            ContractMove(MoveRefused::RegistrationRequired) => {
                ("registration_required", StatusCode::CONFLICT, T::TitleRegistrationRequired)
            }
            ContractMove(MoveRefused::Locked(_)) => ("contract_locked", StatusCode::CONFLICT, T::TitleContractLocked),
            NotFound { entity: Entity::Center } => ("center_not_found", StatusCode::NOT_FOUND, T::TitleCenterNotFound),
            NotFound { entity: Entity::Webhook } => {
                ("webhook_not_found", StatusCode::NOT_FOUND, T::TitleWebhookNotFound)
            }
            NotFound { entity: Entity::Search } => ("search_not_found", StatusCode::NOT_FOUND, T::TitleSearchNotFound),
            NoRoute(_) => ("not_found", StatusCode::NOT_FOUND, T::TitleNotFound),
            MethodNotAllowed { .. } => ("method_not_allowed", StatusCode::METHOD_NOT_ALLOWED, T::TitleMethodNotAllowed),
            IllegalTransition(_) => ("illegal_transition", StatusCode::CONFLICT, T::TitleIllegalTransition),
            EditConflict { .. } => ("edit_conflict", StatusCode::CONFLICT, T::TitleEditConflict),
            Mirrored { .. } => ("mirrored_record", StatusCode::CONFLICT, T::TitleMirroredRecord),
            RestorePeriodOver { .. } => ("restore_period_over", StatusCode::CONFLICT, T::TitleRestorePeriodOver),
            Duplicate(Constraint::ListingSource) => ("duplicate_source", StatusCode::CONFLICT, T::TitleDuplicateSource),
            Duplicate(Constraint::OrganizationTaxCode) => {
                ("duplicate_tax_code", StatusCode::CONFLICT, T::TitleDuplicateTaxCode)
            }
            Duplicate(Constraint::SourceExchange) => {
                ("duplicate_source_exchange", StatusCode::CONFLICT, T::TitleDuplicateSourceExchange)
            }
            InvalidHeader { .. } => ("invalid_header", StatusCode::BAD_REQUEST, T::TitleInvalidHeader),
            PreconditionRequired(_) => {
                ("precondition_required", StatusCode::PRECONDITION_REQUIRED, T::TitlePreconditionRequired)
            }
            BodyTimeout { .. } => ("body_timeout", StatusCode::REQUEST_TIMEOUT, T::TitleBodyTimeout),
            ClientRevoked => ("client_revoked", StatusCode::CONFLICT, T::TitleClientRevoked),
            SelfLockout => ("self_lockout", StatusCode::CONFLICT, T::TitleSelfLockout),
            SourceNotHeld { .. } => ("source_exchange_not_held", StatusCode::FORBIDDEN, T::TitleSourceExchangeNotHeld),
            IdempotencyKeyReused => {
                ("idempotency_key_reused", StatusCode::UNPROCESSABLE_ENTITY, T::TitleIdempotencyKeyReused)
            }
            IdempotencyInProgress => ("idempotency_in_progress", StatusCode::CONFLICT, T::TitleIdempotencyInProgress),
            IdempotencyAnswerLost => ("idempotency_answer_lost", StatusCode::CONFLICT, T::TitleIdempotencyAnswerLost),
            DeliveryNotFound => ("delivery_not_found", StatusCode::NOT_FOUND, T::TitleDeliveryNotFound),
            InvalidToken => ("invalid_token", StatusCode::UNAUTHORIZED, T::TitleInvalidToken),
            Denied(D::Unauthenticated) => ("unauthorized", StatusCode::UNAUTHORIZED, T::TitleUnauthorized),
            Denied(D::MissingScope(_)) => ("insufficient_scope", StatusCode::FORBIDDEN, T::TitleInsufficientScope),
            Denied(D::NotOwner | D::NotCenterOwner) => ("forbidden", StatusCode::FORBIDDEN, T::TitleForbidden),
            Denied(D::SelfApproval) => ("self_approval", StatusCode::FORBIDDEN, T::TitleSelfApproval),
            Denied(D::Hidden) => ("listing_not_found", StatusCode::NOT_FOUND, T::TitleListingNotFound),
            PreconditionFailed { .. } => {
                ("precondition_failed", StatusCode::PRECONDITION_FAILED, T::TitlePreconditionFailed)
            }
            Http { status, .. } => match status.as_u16() {
                400 => ("bad_request", *status, T::TitleBadRequest),
                401 => ("unauthorized", *status, T::TitleUnauthorized),
                403 => ("forbidden", *status, T::TitleForbidden),
                404 => ("not_found", *status, T::TitleNotFound),
                413 => ("body_too_large", *status, T::TitleBodyTooLarge),
                429 => ("rate_limited", *status, T::TitleRateLimited),
                _ if status.is_server_error() => ("internal_error", *status, T::TitleInternalError),
                _ => ("http_error", *status, T::TitleHttpError),
            },
            Unavailable(_) => ("service_unavailable", StatusCode::SERVICE_UNAVAILABLE, T::TitleServiceUnavailable),
            ExportsBusy { .. } => ("exports_busy", StatusCode::SERVICE_UNAVAILABLE, T::TitleExportsBusy),
            Internal(_) => ("internal_error", StatusCode::INTERNAL_SERVER_ERROR, T::TitleInternalError),
        }
    }

    /// The sentence a client reads in `detail`.
    pub fn detail(&self) -> Message {
        use techex_domain::access::Denied as D;
        let text = |text: Text| Message::new(text);
        match self {
            ApiError::MalformedJson(JsonSyntax::At { line, column }) => {
                text(Text::MalformedJsonAt).with("line", line).with("column", column)
            }
            ApiError::MalformedJson(JsonSyntax::Unreadable) => text(Text::BodyUnreadable),
            ApiError::Validation(e) => text(Text::InvalidFields).with("count", field_count(e)),
            ApiError::InvalidQuery(e) => text(Text::InvalidParameters).with("count", field_count(e)),
            ApiError::InvalidPath(_) => text(Text::InvalidPathPart),
            ApiError::BodyTooLarge { limit } => text(Text::BodyTooLarge).with("limit", limit),
            ApiError::UnsupportedMediaType => text(Text::SendJson),
            ApiError::NotFound { entity: Entity::Listing } | ApiError::Denied(D::Hidden) => text(Text::NoSuchListing),
            ApiError::NotFound { entity: Entity::Organization } => text(Text::NoSuchOrganization),
            ApiError::NotFound { entity: Entity::ApiClient } => text(Text::NoSuchClient),
            ApiError::NotFound { entity: Entity::Interest } => text(Text::NoSuchInterest),
            ApiError::RateLimited(_) => text(Text::RetryLater),
            ApiError::ListingNotOpen(status) => {
                text(Text::ListingNotOpen).with_words("status", status.as_str(), status.label_vi())
            }
            ApiError::NotFound { entity: Entity::Contract } => text(Text::NoSuchContract),
            ApiError::ContractMove(MoveRefused::Illegal { from, action }) => text(Text::ContractIllegalTransition)
                .with_words("status", from.as_str(), from.label_vi())
                .with_words("action", action.as_str(), action.label_vi()),
            ApiError::ContractMove(MoveRefused::RegistrationRequired) => text(Text::RegistrationRequired),
            ApiError::ContractMove(MoveRefused::Locked(status)) => {
                text(Text::ContractLocked).with_words("status", status.as_str(), status.label_vi())
            }
            ApiError::NotFound { entity: Entity::Center } => text(Text::NoSuchCenter),
            ApiError::NotFound { entity: Entity::Webhook } => text(Text::NoSuchWebhook),
            ApiError::NotFound { entity: Entity::Search } => text(Text::NoSuchSearch),
            ApiError::NoRoute(target) => text(Text::NoRoute).with("target", target),
            ApiError::MethodNotAllowed { method, allowed } => {
                text(Text::MethodNotAllowed).with("method", method).with("allowed", allowed)
            }
            ApiError::IllegalTransition(IllegalTransition { from, action }) => text(Text::IllegalTransition)
                .with_words("status", from.as_str(), from.label_vi())
                .with_words("action", past_tense(*action), action.label_vi()),
            ApiError::EditConflict { .. } => text(Text::EditConflict),
            ApiError::Mirrored { hub } => text(Text::MirroredRecord).with("hub", hub),
            ApiError::RestorePeriodOver { days } => text(Text::RestorePeriodOver).with("days", days),
            ApiError::Duplicate(Constraint::ListingSource) => text(Text::DuplicateSource),
            ApiError::Duplicate(Constraint::OrganizationTaxCode) => text(Text::DuplicateTaxCode),
            ApiError::Duplicate(Constraint::SourceExchange) => text(Text::DuplicateSourceExchange),
            ApiError::PreconditionFailed { current, .. } => text(Text::VersionMismatch).with("current", current),
            ApiError::InvalidHeader(sentence) | ApiError::PreconditionRequired(sentence) => text(*sentence),
            ApiError::InvalidToken => text(Text::TokenRefused),
            ApiError::Denied(D::Unauthenticated) => text(Text::NeedsToken),
            ApiError::Denied(D::MissingScope(scope)) => text(Text::NeedsScope).with("scope", scope),
            ApiError::Denied(D::NotOwner) => text(Text::NotOwner),
            ApiError::Denied(D::NotCenterOwner) => text(Text::NotCenterOwner),
            ApiError::Denied(D::SelfApproval) => text(Text::SelfApproval),
            ApiError::BodyTimeout { seconds } => text(Text::BodyTimeout).with("seconds", seconds),
            ApiError::ClientRevoked => text(Text::ClientIsRevoked),
            ApiError::SelfLockout => text(Text::SelfLockout),
            ApiError::SourceNotHeld { exchange } => text(Text::SourceExchangeNotHeld).with("value", exchange),
            ApiError::IdempotencyKeyReused => text(Text::IdempotencyKeyReused),
            ApiError::IdempotencyInProgress => text(Text::IdempotencyInProgress),
            ApiError::IdempotencyAnswerLost => text(Text::IdempotencyAnswerLost),
            ApiError::DeliveryNotFound => text(Text::NoSuchDelivery),
            ApiError::Http { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS => text(Text::RetryLater),
            // Before routing, it is the CORS layer that refuses requests as malformed.
            ApiError::Http { status, .. } if *status == StatusCode::BAD_REQUEST => text(Text::CrossOriginRefused),
            // The words of a layer beneath the API (a CORS refusal) are passed on as they are.
            ApiError::Http { status, detail } => {
                let reason = if detail.is_empty() { status.as_str() } else { detail.as_str() };
                text(Text::Refused).with("reason", reason)
            }
            // Causes of server-side failures stay in the log; the client gets the request id.
            ApiError::Unavailable(StoreError::Busy) => text(Text::StoreBusy),
            ApiError::Unavailable(_) => text(Text::StoreUnreachable),
            ApiError::ExportsBusy { retry_after } => text(Text::ExportsBusy).with("seconds", retry_after),
            ApiError::Internal(_) => text(Text::ServerFault),
        }
    }

    fn field_errors(&self, lang: Lang) -> Vec<FieldError> {
        match self {
            ApiError::Validation(e) | ApiError::InvalidQuery(e) | ApiError::InvalidPath(e) => {
                e.0.iter()
                    .map(|e| FieldError {
                        field: clipped(e.field.clone()),
                        code: e.code.clone(),
                        message: clipped(e.message.render(lang)),
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// The problem document, its sentences in `lang`; its codes, fields and type are the same
    /// in every language.
    pub fn problem(&self, lang: Lang) -> Problem {
        let (code, status, title) = self.code();
        Problem {
            problem_type: format!("{PROBLEM_TYPE_PREFIX}{code}"),
            title: clipped(title.template(lang).to_owned()),
            status: status.as_u16(),
            detail: clipped(self.detail().render(lang)),
            code: code.to_owned(),
            errors: self.field_errors(lang),
        }
    }
}

/// The most characters of a problem's sentences and of a field's name: they may quote what a
/// request sent (an unknown path, parameter or value), which is cut short, ending in `…`.
pub const PROBLEM_TEXT_MAX: usize = 500;

/// The most characters of a problem's `code` and `type` (`urn:techex:problem:` and the code).
pub const PROBLEM_CODE_MAX: usize = 40;

pub(crate) fn clipped(mut text: String) -> String {
    if text.chars().nth(PROBLEM_TEXT_MAX).is_some() {
        let (cut, _) = text.char_indices().nth(PROBLEM_TEXT_MAX - 1).expect("longer than that");
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// What the problem documents' schemas cannot say: the bounds above, and the statuses a problem
/// carries.
pub const LIMITS: Limits = &[
    ("Problem", "type", Limit::MaxLength(PROBLEM_TYPE_PREFIX.len() + PROBLEM_CODE_MAX)),
    ("Problem", "title", Limit::MaxLength(PROBLEM_TEXT_MAX)),
    ("Problem", "status", Limit::Minimum(400)),
    ("Problem", "status", Limit::Maximum(599)),
    ("Problem", "detail", Limit::MaxLength(PROBLEM_TEXT_MAX)),
    ("Problem", "code", Limit::MaxLength(PROBLEM_CODE_MAX)),
    ("Problem", "code", Limit::Pattern("^[a-z0-9_]+$")),
    ("Problem", "errors", Limit::MaxItems(techex_domain::validation::MAX_ERRORS + 1)),
    ("FieldError", "field", Limit::MaxLength(PROBLEM_TEXT_MAX)),
    ("FieldError", "code", Limit::MaxLength(PROBLEM_CODE_MAX)),
    ("FieldError", "code", Limit::Pattern("^[a-z0-9_]+$")),
    ("FieldError", "message", Limit::MaxLength(PROBLEM_TEXT_MAX)),
];

const PROBLEM_TYPE_PREFIX: &str = "urn:techex:problem:";

/// The failures counted in a detail, leaving out the note that more were not reported.
fn field_count(errors: &ValidationErrors) -> usize {
    errors.0.iter().filter(|e| e.code != Text::TooManyErrors.code()).count()
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
        if let ApiError::ExportsBusy { retry_after } = self {
            response.insert_header((header::RETRY_AFTER, *retry_after));
        }
        if let ApiError::RateLimited(refusal) = self {
            response.insert_header((header::RETRY_AFTER, refusal.retry_after));
            for (field, value) in &refusal.fields {
                response.insert_header((field.clone(), value.clone()));
            }
        }
        if let ApiError::IdempotencyInProgress | ApiError::Unavailable(_) = self {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        if let ApiError::MethodNotAllowed { allowed, .. } = self
            && let Ok(value) = HeaderValue::from_str(allowed)
        {
            response.insert_header((header::ALLOW, value));
        }
        // English here; the language the caller asked for is put in as the response leaves the app.
        response.body(serde_json::to_string(&self.problem(Lang::En)).expect("problems serialize"))
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
            StoreError::Mirrored { hub, .. } => ApiError::Mirrored { hub },
            StoreError::Duplicate(constraint) => ApiError::Duplicate(constraint),
            StoreError::Pool(_) | StoreError::Unreachable | StoreError::Busy => ApiError::Unavailable(error),
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

#[cfg(test)]
mod tests {
    use techex_domain::access::Scope;
    use techex_domain::listing::{LifecycleAction, ListingStatus};

    use super::*;

    /// The codes of field errors come from the catalog; those of problems are checked by the
    /// HTTP tests against the committed contract.
    #[test]
    fn every_code_of_the_catalog_fits_the_documented_code() {
        for text in Text::ALL {
            let code = text.code();
            assert!(code.len() <= PROBLEM_CODE_MAX, "{code}");
            assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{code}");
        }
    }

    #[test]
    fn long_sentences_are_cut_short_at_the_documented_length() {
        assert_eq!(clipped("ngắn".to_owned()), "ngắn");
        let exact = "ư".repeat(PROBLEM_TEXT_MAX);
        assert_eq!(clipped(exact.clone()), exact);
        let cut = clipped("ư".repeat(PROBLEM_TEXT_MAX + 1));
        assert_eq!(cut.chars().count(), PROBLEM_TEXT_MAX);
        assert!(cut.ends_with("ư…"));
    }

    /// One failure of every kind the API answers with.
    fn every_kind() -> Vec<ApiError> {
        use techex_domain::access::Denied as D;
        let invalid = || ValidationErrors::single("trl", Text::TrlOutOfRange);
        let mut all = vec![
            ApiError::MalformedJson(JsonSyntax::At { line: 1, column: 2 }),
            ApiError::MalformedJson(JsonSyntax::Unreadable),
            ApiError::Validation(invalid()),
            ApiError::InvalidQuery(invalid()),
            ApiError::InvalidPath(invalid()),
            ApiError::BodyTooLarge { limit: 1 },
            ApiError::UnsupportedMediaType,
            ApiError::NoRoute("/x".into()),
            ApiError::MethodNotAllowed { method: "PUT".into(), allowed: "GET".into() },
            ApiError::IllegalTransition(IllegalTransition {
                from: ListingStatus::Withdrawn,
                action: LifecycleAction::Publish,
            }),
            ApiError::EditConflict { entity: Entity::Listing },
            ApiError::RestorePeriodOver { days: 30 },
            ApiError::PreconditionFailed { entity: Entity::Listing, current: 3 },
            ApiError::InvalidHeader(Text::IfMatchMalformed),
            ApiError::InvalidHeader(Text::IfMatchNotAscii),
            ApiError::InvalidToken,
            ApiError::PreconditionRequired(Text::ApproveWithIfMatch),
            ApiError::BodyTimeout { seconds: 30 },
            ApiError::ClientRevoked,
            ApiError::SelfLockout,
            ApiError::RateLimited(crate::auth::rate_limit::Refusal { retry_after: 60, fields: Vec::new() }),
            ApiError::ListingNotOpen(ListingStatus::Closed),
            ApiError::SourceNotHeld { exchange: "dongnai".into() },
            ApiError::IdempotencyKeyReused,
            ApiError::IdempotencyInProgress,
            ApiError::IdempotencyAnswerLost,
            ApiError::DeliveryNotFound,
            ApiError::Unavailable(StoreError::NotFound(Entity::Listing)),
            ApiError::internal("boom"),
        ];
        all.extend(Entity::ALL.map(|entity| ApiError::NotFound { entity }));
        all.extend(
            [
                MoveRefused::Illegal {
                    from: techex_domain::contract::ContractStatus::Draft,
                    action: techex_domain::contract::ContractAction::Complete,
                },
                MoveRefused::RegistrationRequired,
                MoveRefused::Locked(techex_domain::contract::ContractStatus::Registered),
            ]
            .map(ApiError::ContractMove),
        );
        all.extend(
            [Constraint::ListingSource, Constraint::OrganizationTaxCode, Constraint::SourceExchange]
                .map(ApiError::Duplicate),
        );
        all.extend(
            [D::Unauthenticated, D::MissingScope(Scope::Admin), D::NotOwner, D::Hidden, D::SelfApproval]
                .map(ApiError::Denied),
        );
        all.extend(
            [400, 401, 403, 404, 413, 429, 418, 503].map(|status| ApiError::Http {
                status: StatusCode::from_u16(status).unwrap(),
                detail: "refused".into(),
            }),
        );
        all
    }

    #[test]
    fn every_problem_has_its_title_and_detail_in_both_languages_and_only_words_change() {
        for error in every_kind() {
            let (code, _, title) = error.code();
            assert_eq!(title.code(), code, "{error:?} takes the title of another code");
            let (en, vi) = (error.problem(Lang::En), error.problem(Lang::Vi));
            assert_ne!(en.title, vi.title, "{error:?}");
            assert_ne!(en.detail, vi.detail, "{error:?}");
            assert!(
                !en.detail.contains('{') && !vi.detail.contains('{'),
                "{error:?} left a placeholder: {}",
                vi.detail
            );
            assert_eq!(
                (&en.problem_type, &en.code, en.status, en.errors.len()),
                (&vi.problem_type, &vi.code, vi.status, vi.errors.len())
            );
        }
    }
}
