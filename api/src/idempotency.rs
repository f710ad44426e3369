//! `Idempotency-Key` on every `POST` (the token endpoint excepted): a client that did not hear
//! the answer to a write sends it again with the same key and hears the first answer, replayed,
//! instead of writing twice. One middleware for every operation.
//!
//! - Keys are per API client (the token's client); a request without a valid token is passed on
//!   untouched (the operation answers 401). The token endpoint is never replayed: its answers
//!   carry fresh credentials.
//! - The key is reserved in its own committed row before the request runs (unique on client and
//!   key), so a retry arriving meanwhile, on any server of the hub, waits for the first answer
//!   (up to [`WAIT`]) and replays it, or hears 409 `idempotency_in_progress` with Retry-After.
//! - The same key with another request (another body, path or query) is 422
//!   `idempotency_key_reused`.
//! - Answers are kept [`KEPT_FOR`] (24 h) with their status, body and the header fields named in
//!   [`REPLAYED_FIELDS`]; a replay carries `Idempotent-Replayed: true`. Server failures (5xx) and
//!   refusals of the caller rather than of the request (401, 403, 408, 413, 429) are not kept: a
//!   retry runs again. Neither is an answer over [`STORED_BODY_MAX`].
//! - The request runs holding its reservation ([`block`] carries it to the thread that writes),
//!   so its write marks the key committed in the same transaction. A key left unanswered by a
//!   stopped server, with its write committed, is never run again: its retries hear 409
//!   `idempotency_answer_lost` (read the resource to learn what the request did).

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{HttpResponse, HttpResponseBuilder};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use techex_domain::Text;
use techex_persistence::Db;
use techex_persistence::idempotency::{self, Held, Reservation, StoredResponse};

use crate::auth::KeySet;
use crate::auth::caller::{Bearer, bearer};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::extract::{BODY_LIMIT, body_timeout, read_stream};
use crate::routes::listings_sync_dto::BATCH_BODY_LIMIT;

/// The request header carrying the key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The response header of a replayed answer.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// The longest key.
pub const KEY_MAX: usize = 255;
/// How long an answer is replayed.
pub const KEPT_FOR: chrono::Duration = chrono::Duration::hours(24);
/// How long a retry waits for the first request to finish.
pub const WAIT: Duration = Duration::from_secs(3);
/// A reservation never answered for this long was abandoned (a server stopped mid-request).
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::minutes(5);
/// The largest answer kept.
pub const STORED_BODY_MAX: usize = 2 * 1024 * 1024;
/// The header fields a replay repeats.
const REPLAYED_FIELDS: [&str; 5] = ["content-type", "location", "etag", "sync-result", "www-authenticate"];
/// Operations never replayed: the token endpoint issues credentials.
pub const EXCLUDED: [&str; 1] = ["/v1/auth/token"];

/// The name under which this process reserves keys (see [`set_holder`]).
static HOLDER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names this server as the holder of the keys it reserves from now on: a name no other running
/// server has and that this server has again when restarted (its host and listening address),
/// then frees the keys its previous run left unanswered, so that a client's retry after a
/// crash runs at once instead of hearing `idempotency_in_progress` until the reservation is
/// deemed abandoned. Call it once the address is bound and before requests are taken.
pub fn set_holder(db: &Db, name: String) -> Result<usize, techex_persistence::StoreError> {
    let name = HOLDER.get_or_init(|| name);
    let mut conn = db.conn()?;
    idempotency::release_held_by(&mut conn, name)
}

tokio::task_local! {
    /// The reservation of the request running on this task.
    static HELD: Held;
}

/// Runs `work` on a blocking thread as [`web::block`] does, holding the reservation of the
/// request it runs for (if any): the writes it commits mark the key (see the module's
/// documentation). Every write a request makes goes through it.
pub async fn block<F, T>(work: F) -> Result<T, actix_web::error::BlockingError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let held = HELD.try_with(Clone::clone).ok();
    web::block(move || {
        let _holding = idempotency::hold(held);
        work()
    })
    .await
}

/// Whether a key is 1 to [`KEY_MAX`] visible ASCII characters.
pub fn is_valid_key(key: &[u8]) -> bool {
    (1..=KEY_MAX).contains(&key.len()) && key.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// The middleware (see the module's documentation).
pub async fn idempotent(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let applies = req.method() == Method::POST && !EXCLUDED.contains(&req.path());
    let Some(raw_key) = req.headers().get(&IDEMPOTENCY_KEY).filter(|_| applies).cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if !is_valid_key(raw_key.as_bytes()) {
        return Ok(req.error_response(ApiError::InvalidHeader(Text::IdempotencyKeyMalformed)));
    }
    let key = String::from_utf8_lossy(raw_key.as_bytes()).into_owned();
    let client = match req.app_data::<web::Data<Arc<KeySet>>>().map(|keys| bearer(req.request(), keys)) {
        Some(Bearer::Verified(claims)) => claims.sub,
        // Anonymous or an invalid token: the operation itself refuses it (401).
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    let (Some(db), Some(clock)) =
        (req.app_data::<web::Data<Db>>().cloned(), req.app_data::<web::Data<Clock>>().cloned())
    else {
        return Ok(req.error_response(ApiError::internal("the app has no database")));
    };
    let (http, mut payload) = req.into_parts();
    let limit = if http.path() == "/v1/listings/batch" { BATCH_BODY_LIMIT } else { BODY_LIMIT };
    let body = match read_stream(payload.take(), limit, body_timeout(&http)).await {
        Ok(body) => body,
        Err(error) => return Ok(ServiceResponse::from_err(error, http).map_into_boxed_body()),
    };
    let fingerprint = fingerprint(http.method().as_str(), &http.uri().to_string(), &body);
    let req = ServiceRequest::from_parts(http, Payload::from(body));

    let started = std::time::Instant::now();
    loop {
        let now = clock.now();
        let reservation = {
            let (db, client, key, fingerprint) = (db.clone(), client.clone(), key.clone(), fingerprint.clone());
            web::block(move || {
                let mut conn = db.conn()?;
                let holder = HOLDER.get().map(String::as_str);
                let abandoned = now - ABANDONED_AFTER;
                idempotency::reserve(&mut conn, &client, &key, &fingerprint, now, now + KEPT_FOR, abandoned, holder)
            })
            .await
            .map_err(ApiError::from)
            .and_then(|r| r.map_err(ApiError::from))
        };
        match reservation {
            Err(error) => return Ok(req.error_response(error)),
            Ok(Reservation::Reserved) => return run(req, next, db, client, key).await,
            Ok(
                Reservation::Done { fingerprint: first, .. }
                | Reservation::InProgress { fingerprint: first, .. }
                | Reservation::AnswerLost { fingerprint: first },
            ) if first != fingerprint => {
                return Ok(req.error_response(ApiError::IdempotencyKeyReused));
            }
            Ok(Reservation::AnswerLost { .. }) => return Ok(req.error_response(ApiError::IdempotencyAnswerLost)),
            Ok(Reservation::Done { response, .. }) => {
                let (http, _) = req.into_parts();
                return Ok(ServiceResponse::new(http, replay(&response)));
            }
            Ok(Reservation::InProgress { .. }) if started.elapsed() >= WAIT => {
                return Ok(req.error_response(ApiError::IdempotencyInProgress));
            }
            Ok(Reservation::InProgress { .. }) => actix_web::rt::time::sleep(Duration::from_millis(25)).await,
        }
    }
}

/// Runs the request that reserved the key, and keeps its answer (or frees the key).
async fn run(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    db: web::Data<Db>,
    client: String,
    key: String,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let held = Held { client: client.clone(), key: key.clone() };
    let outcome = HELD.scope(held, next.call(req)).await;
    let (keep, response) = match outcome {
        Err(error) => (None, Err(error)),
        Ok(response) => {
            let (http, response) = response.into_parts();
            let (head, body) = response.into_parts();
            let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
            let status = head.status();
            let kept = keeps(status)
                .then(|| stored(&head, &bytes))
                .flatten()
                .filter(|stored| stored.body.len() <= STORED_BODY_MAX);
            (kept, Ok(ServiceResponse::new(http, head.set_body(bytes).map_into_boxed_body())))
        }
    };
    let written = web::block(move || {
        let mut conn = db.conn()?;
        match keep {
            Some(stored) => idempotency::complete(&mut conn, &client, &key, &stored),
            None => idempotency::release(&mut conn, &client, &key),
        }
    })
    .await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(error)) => log::error!("keeping an idempotent answer failed: {error}"),
        Err(error) => log::error!("keeping an idempotent answer failed: {error}"),
    }
    response
}

/// Whether an answer of this status is replayed to retries.
fn keeps(status: StatusCode) -> bool {
    !status.is_server_error() && ![401, 403, 408, 413, 429].contains(&status.as_u16())
}

fn stored(head: &HttpResponse<()>, body: &Bytes) -> Option<StoredResponse> {
    let body = String::from_utf8(body.to_vec()).ok()?;
    let fields: serde_json::Map<String, serde_json::Value> = REPLAYED_FIELDS
        .iter()
        .filter_map(|name| {
            let value = head.headers().get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), serde_json::Value::String(value.to_owned())))
        })
        .collect();
    Some(StoredResponse {
        status: head.status().as_u16(),
        headers: serde_json::Value::Object(fields).to_string(),
        body,
    })
}

fn replay(stored: &StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponseBuilder::new(status);
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(&stored.headers) {
        for (name, value) in fields {
            if let (Ok(name), Some(Ok(value))) =
                (HeaderName::try_from(name.as_str()), value.as_str().map(HeaderValue::from_str))
            {
                response.insert_header((name, value));
            }
        }
    }
    response.insert_header((REPLAYED, HeaderValue::from_static("true")));
    response.body(stored.body.clone())
}

/// What identifies a request beyond its key: method, path with query, and body.
fn fingerprint(method: &str, target: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_bytes());
    hash.update(b" ");
    hash.update(target.as_bytes());
    hash.update(b"\n");
    hash.update(body);
    URL_SAFE_NO_PAD.encode(hash.finalize())
}

/// Deletes the keys kept past their 24 hours; run by the periodic job.
pub fn purge(db: &Db, now: chrono::DateTime<chrono::Utc>) -> Result<usize, techex_persistence::StoreError> {
    let mut conn = db.conn()?;
    idempotency::purge(&mut conn, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        for good in ["a", "0190c3a2-7b4e-7c1d-9a8f-2b1e6d5c4a3f", "~!#$%&'*+-.^_`|", &"k".repeat(KEY_MAX)] {
            assert!(is_valid_key(good.as_bytes()), "{good}");
        }
        for bad in ["", "a b", "khóa", "tab\there", &"k".repeat(KEY_MAX + 1)] {
            assert!(!is_valid_key(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn answers_about_the_caller_or_the_server_are_not_kept() {
        for kept in [200, 201, 204, 400, 404, 409, 412, 422] {
            assert!(keeps(StatusCode::from_u16(kept).unwrap()), "{kept}");
        }
        for not in [401, 403, 408, 413, 429, 500, 503] {
            assert!(!keeps(StatusCode::from_u16(not).unwrap()), "{not}");
        }
    }

    #[test]
    fn the_fingerprint_tells_bodies_paths_and_methods_apart() {
        let base = fingerprint("POST", "/v1/listings", b"{}");
        assert_eq!(base, fingerprint("POST", "/v1/listings", b"{}"));
        assert_ne!(base, fingerprint("POST", "/v1/listings", b"{ }"));
        assert_ne!(base, fingerprint("POST", "/v1/organizations", b"{}"));
        assert_ne!(base, fingerprint("PUT", "/v1/listings", b"{}"));
    }
}
