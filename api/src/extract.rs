//! Request extraction that reports failures in the API's problem format, naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::QueryPayloadError;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use techex_domain::{Message, Text, ValidationErrors};

use crate::error::{ApiError, JsonSyntax};
use crate::strict::{Holes, Misfit, Step, Strict};

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
            Ok(Err(_)) => Err(ApiError::MalformedJson(JsonSyntax::Unreadable)),
            Ok(Ok(bytes)) => Ok(bytes),
        }
    }
}

/// Reads a whole request body within the app's [`BodyTimeout`] and `limit` bytes, decoded as
/// its `Content-Encoding` says (as actix's own body extractors do).
pub fn read_body_up_to(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> impl Future<Output = Result<Bytes, ApiError>> + use<> {
    let timeout = req.app_data::<web::Data<BodyTimeout>>().map(|t| *t.get_ref()).unwrap_or_default();
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let payload = actix_web::dev::Decompress::from_headers(payload.take(), req.headers());
    let declared = declared.filter(|length| *length > limit);
    async move {
        if declared.is_some() {
            return Err(ApiError::BodyTooLarge { limit });
        }
        read_stream(payload, limit, timeout).await
    }
}

/// The timeout of a request's body in this app.
pub fn body_timeout(req: &HttpRequest) -> BodyTimeout {
    req.app_data::<web::Data<BodyTimeout>>().map(|t| *t.get_ref()).unwrap_or_default()
}

/// Reads a stream of body chunks in full, refusing more than `limit` bytes or a body slower than
/// `timeout`.
pub async fn read_stream<S, E>(mut stream: S, limit: usize, timeout: BodyTimeout) -> Result<Bytes, ApiError>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
{
    let read = async {
        use futures_util::StreamExt;
        let mut body = web::BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| ApiError::MalformedJson(JsonSyntax::Unreadable))?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::BodyTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    match tokio::time::timeout(timeout.0, read).await {
        Err(_) => Err(ApiError::BodyTimeout { seconds: timeout.0.as_secs().max(1) }),
        Ok(result) => result,
    }
}

/// A request body read in full (within the time and size limits), not interpreted.
pub struct RawBody(pub Bytes);

impl RawBody {
    /// Reads a body of up to `limit` bytes (for the few operations that take more than
    /// [`BODY_LIMIT`]).
    pub fn read_up_to(
        req: &HttpRequest,
        payload: &mut Payload,
        limit: usize,
    ) -> impl Future<Output = Result<Bytes, ApiError>> + use<> {
        read_body_up_to(req, payload, limit)
    }
}

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
    /// Whether the request says its body is JSON (`application/json` or any `+json` type).
    pub fn is_json(req: &HttpRequest) -> bool {
        req.headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false)
    }

    pub fn parse<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        parse_json(&self.0?)
    }
}

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = JsonBody::is_json(req);
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
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::MalformedJson(JsonSyntax::At { line: e.line(), column: e.column() }))?;
    from_value(value)
}

/// Deserializes an already parsed JSON value. When it does not fit, every problem is reported,
/// each against its path, up to the cap of [`ValidationErrors`]: each reading goes past the
/// places reported before (see [`crate::strict`]) until the value fits or nothing new shows.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    let mut next = match read::<T>(&value, None) {
        Ok(fits) => return Ok(fits),
        Err(misfit) => Some(misfit),
    };
    let mut errors = ValidationErrors::default();
    let mut holes = Holes::default();
    while let Some((path, misfit)) = next.take() {
        let path = match &misfit {
            Misfit::Missing(field) => [path, vec![Step::Key((*field).to_owned())]].concat(),
            Misfit::Unknown { key: Some(key), .. } => [path, vec![Step::Key(key.clone())]].concat(),
            _ => path,
        };
        // A stand-in its type refused too: nothing more can be learnt.
        if holes.contains(&path) {
            break;
        }
        let last_key = path.iter().rev().find_map(|step| match step {
            Step::Key(key) => Some(key.as_str()),
            Step::Index(_) => None,
        });
        let (code, message) = misfit_message(&misfit, last_key);
        errors.add_as(dotted(&path), code, message);
        holes.insert(&path);
        if errors.is_full() {
            break;
        }
        next = read::<T>(&value, Some(&holes)).err();
    }
    Err(ApiError::Validation(errors))
}

fn read<T: DeserializeOwned>(value: &serde_json::Value, holes: Option<&Holes>) -> Result<T, (Vec<Step>, Misfit)> {
    let reader = match holes {
        Some(holes) => Strict::over_holes(value, holes),
        None => Strict::new(value),
    };
    serde_path_to_error::deserialize(reader).map_err(|e| {
        let path = e
            .path()
            .iter()
            .map_while(|segment| match segment {
                Segment::Seq { index } => Some(Step::Index(*index)),
                Segment::Map { key } => Some(Step::Key(key.clone())),
                Segment::Enum { .. } | Segment::Unknown => None,
            })
            .collect();
        (path, e.into_inner())
    })
}

/// A path as clients write it: `title.vi`, `field_codes[1]`, empty for the whole body.
fn dotted(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// The code and the sentence for a value that does not fit; `last_key` is the name of the field
/// it is in, for the few fields whose form deserves its own words (an amount of đồng).
fn misfit_message(misfit: &Misfit, last_key: Option<&str>) -> (&'static str, Message) {
    match misfit {
        Misfit::Missing(_) => ("required", Text::Required.into()),
        Misfit::Unknown { known: [], .. } => ("unknown_field", Text::NoFieldsHere.into()),
        Misfit::Unknown { known, .. } => {
            ("unknown_field", Message::new(Text::UnknownField).with("known", known.join(", ")))
        }
        Misfit::Variant { allowed } => ("invalid_value", Message::new(Text::OneOf).with("allowed", allowed.join(", "))),
        Misfit::Type { expected } => ("invalid_type", what_fits(expected, last_key, false)),
        Misfit::Value { expected } => ("invalid_value", what_fits(expected, last_key, true)),
        Misfit::Other { expected: Some(expected), .. } => ("invalid_value", what_fits(expected, last_key, true)),
        Misfit::Other { expected: None, .. } => ("invalid_value", Text::WrongValue.into()),
    }
}

/// Plain words for what serde says a type expects (`i64`, `u8`, `a string`, `struct Price`).
/// `in_range`: the value was of the right kind, so a number must have been too large or small.
fn what_fits(expected: &str, last_key: Option<&str>, in_range: bool) -> Message {
    let integer_range = |expected: &str| -> Option<(i64, u64)> {
        Some(match expected {
            "u8" => (0, u8::MAX.into()),
            "u16" => (0, u16::MAX.into()),
            "u32" => (0, u32::MAX.into()),
            "i8" => (i8::MIN.into(), i8::MAX as u64),
            "i16" => (i16::MIN.into(), i16::MAX as u64),
            "i32" => (i32::MIN.into(), i32::MAX as u64),
            _ => return None,
        })
    };
    let integer = matches!(expected, "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128")
        || expected.contains("integer");
    match expected {
        _ if integer && last_key == Some("amount") => Text::AmountInDong.into(),
        _ if integer && in_range => match integer_range(expected) {
            Some((min, max)) => Message::new(Text::WholeNumberBetween).with("min", min).with("max", max),
            None => Text::WholeNumber.into(),
        },
        _ if integer => Text::WholeNumber.into(),
        "f32" | "f64" => Text::Number.into(),
        "a boolean" => Text::TrueOrFalse.into(),
        _ if expected.contains("UUID") || expected.contains("uuid") => Text::IdValue.into(),
        _ if expected.contains("date") || expected.contains("time") => Text::DateTimeValue.into(),
        "a string" | "a borrowed string" | "a character" | "a char" | "string" => Text::TextValue.into(),
        _ if expected.starts_with("struct ") || expected.contains("map") => Text::ObjectValue.into(),
        _ if expected.contains("sequence") || expected.starts_with("a tuple") || expected.contains("array") => {
            Text::ListValue.into()
        }
        _ => Text::WrongValue.into(),
    }
}

/// What a client is told about a query string (or form) that does not fit its type.
pub fn query_errors(error: &QueryPayloadError) -> ValidationErrors {
    match error {
        QueryPayloadError::Deserialize(inner) => field_error_from_message(&inner.to_string()),
        other => field_error_from_message(&other.to_string()),
    }
}

/// Turns serde's message about a query string (which has no path) into a field and a sentence.
pub(crate) fn field_error_from_message(message: &str) -> ValidationErrors {
    let quoted = message.split('`').nth(1).unwrap_or_default().to_owned();
    let listed = || {
        message
            .split_once("expected ")
            .map(|(_, list)| list.replace("one of ", "").replace('`', ""))
            .unwrap_or_default()
    };
    let mut errors = ValidationErrors::default();
    if message.starts_with("missing field") {
        errors.add(quoted, Text::Required);
    } else if message.starts_with("unknown field") {
        match listed() {
            known if known.is_empty() => errors.add(quoted, Text::NoFieldsHere),
            known => errors.add(quoted, Message::new(Text::UnknownParameter).with("known", known)),
        }
    } else if message.starts_with("duplicate field") {
        errors.add(quoted, Text::GivenTwice);
    } else if message.starts_with("unknown variant") {
        errors.add_as("", "invalid_value", Message::new(Text::OneOf).with("allowed", listed()));
    } else if message.starts_with("invalid type") {
        errors.add_as("", "invalid_type", Text::WrongValue);
    } else {
        errors.add("", Text::WrongValue);
    }
    errors
}

/// Parses a path segment, reporting a malformed one against its parameter name.
pub fn path_param<T: std::str::FromStr>(name: &str, raw: &str, expected: Text) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::InvalidPath(ValidationErrors::single(name, Message::new(expected).with("value", raw))))
}
