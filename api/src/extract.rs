//! Request extraction that reports failures in the API's problem format, naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use techex_domain::ValidationErrors;

use crate::error::ApiError;

/// The limit of a request body (configured as the app's `PayloadConfig`).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// How long a request body may take to arrive in full, from the end of its headers: a caller
/// that trickles bytes cannot keep a connection and a worker's buffer for longer.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub std::time::Duration);

impl Default for BodyTimeout {
    fn default() -> Self {
        BodyTimeout(std::time::Duration::from_secs(30))
    }
}

/// Reads a whole request body within the app's [`BodyTimeout`] and [`BODY_LIMIT`].
pub fn read_body(req: &HttpRequest, payload: &mut Payload) -> impl Future<Output = Result<Bytes, ApiError>> + use<> {
    let timeout = req.app_data::<web::Data<BodyTimeout>>().map(|t| *t.get_ref()).unwrap_or_default();
    let body = Bytes::from_request(req, payload);
    async move {
        match tokio::time::timeout(timeout.0, body).await {
            Err(_) => Err(ApiError::BodyTimeout { seconds: timeout.0.as_secs().max(1) }),
            Ok(Err(e)) if e.as_response_error().status_code().as_u16() == 413 => {
                Err(ApiError::BodyTooLarge { limit: BODY_LIMIT })
            }
            Ok(Err(e)) => Err(ApiError::MalformedJson(e.to_string())),
            Ok(Ok(bytes)) => Ok(bytes),
        }
    }
}

/// A request body read in full (within the time and size limits), not interpreted.
pub struct RawBody(pub Bytes);

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move { body.await.map(RawBody) })
    }
}

/// A JSON body, read but not yet parsed: handlers check who is calling first, then call
/// [`JsonBody::parse`], so an anonymous caller hears 401 whatever it sent.
///
/// Parsing reports the path of any failure: `{"trl": "seven"}` against `trl`, an unknown key
/// against its own path, a missing one against where it belongs.
pub struct JsonBody(Result<Bytes, ApiError>);

impl JsonBody {
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        parse_json(&self.0?)
    }
}

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        let body = read_body(req, payload);
        Box::pin(async move {
            let bytes = match body.await {
                Err(timeout @ ApiError::BodyTimeout { .. }) => return Err(timeout),
                other => other,
            };
            Ok(JsonBody(bytes.and_then(|b| if is_json { Ok(b) } else { Err(ApiError::UnsupportedMediaType) })))
        })
    }
}

/// Deserializes JSON, telling syntax errors (400) from content that does not fit the type (422).
/// The syntax is checked over the whole body first, so trailing garbage is never reported as a
/// missing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    from_value(value)
}

/// Deserializes an already parsed JSON value, naming the path of any misfit.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(crate::strict::Strict(value)).map_err(|e| {
        let path = e.path().to_string();
        ApiError::Validation(field_error_from_message(&path, &e.into_inner().to_string()))
    })
}

/// Turns serde's message about the value at `path` into a field path and a stable code.
pub fn field_error_from_message(path: &str, message: &str) -> ValidationErrors {
    let quoted = message.split('`').nth(1).unwrap_or_default().to_owned();
    let (field, code) = if message.starts_with("missing field") {
        (join_path(path, &quoted), "required")
    } else if message.starts_with("unknown field") {
        // serde_path_to_error's path already ends at the unknown key; a query string has no path.
        let field = if path.is_empty() || path == "." { quoted } else { path.to_owned() };
        (field, "unknown_field")
    } else if message.starts_with("unknown variant") {
        (path.to_owned(), "invalid_value")
    } else if message.starts_with("duplicate field") {
        (join_path(path, &quoted), "duplicate")
    } else if message.starts_with("invalid type") {
        (path.to_owned(), "invalid_type")
    } else {
        (path.to_owned(), "invalid_value")
    };
    let field = if field == "." { String::new() } else { field };
    ValidationErrors::single(field, code, message)
}

fn join_path(parent: &str, field: &str) -> String {
    if parent.is_empty() || parent == "." { field.to_owned() } else { format!("{parent}.{field}") }
}

/// Parses a path segment, reporting a malformed one against its parameter name.
pub fn path_param<T: std::str::FromStr>(name: &str, raw: &str, expected: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::InvalidPath(ValidationErrors::single(name, "invalid_format", format!("'{raw}' is not {expected}")))
    })
}
