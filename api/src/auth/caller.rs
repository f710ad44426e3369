//! The caller of a request: anonymous, or an API client proven by its bearer token. Every write
//! endpoint takes it and asks the domain's access rules; reads take it to decide what to show.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use techex_domain::access::{Actor, Caller, parse_scopes};
use techex_persistence::{Db, clients};
use uuid::Uuid;

use crate::auth::{Claims, KeySet};
use crate::error::ApiError;

/// The caller, extracted from `Authorization: Bearer <token>`; `None` without the header.
///
/// A token is accepted when it verifies (see [`KeySet::verify`]) and its client still exists, is
/// not revoked, has not rotated its secret since the token was issued, and acts for the
/// organization the token names. Its scopes are those of the token
/// still granted to the client, so narrowing or revoking a client takes effect at once.
pub struct CallerOf(pub Caller);

impl FromRequest for CallerOf {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let bearer = req.app_data::<web::Data<Arc<KeySet>>>().map(|keys| bearer(req, keys));
        let db = req.app_data::<web::Data<Db>>().map(|d| d.get_ref().clone());
        Box::pin(async move {
            let (bearer, db) = bearer.zip(db).ok_or_else(|| ApiError::internal("authentication is not configured"))?;
            let claims = match bearer {
                Bearer::Absent => return Ok(CallerOf(None)),
                Bearer::Invalid => return Err(ApiError::InvalidToken),
                Bearer::Verified(claims) => claims,
            };
            let client_id: Uuid = claims.sub.parse().map_err(|_| ApiError::InvalidToken)?;
            let organization_id: Uuid = claims.org.parse().map_err(|_| ApiError::InvalidToken)?;
            let token_scopes = parse_scopes(&claims.scope).map_err(|_| ApiError::InvalidToken)?;
            // A cached client is answered here, without the hop to a blocking thread.
            let client = match clients::cached(&db, client_id) {
                Some(client) => Some(client),
                None => web::block(move || clients::find_current(&db, client_id)).await??,
            };
            let client = client
                .filter(|c| c.honours_token_issued_at(claims.iat) && c.organization_id == organization_id)
                .ok_or(ApiError::InvalidToken)?;
            let scopes = token_scopes.intersection(&client.scopes).copied().collect();
            Ok(CallerOf(Some(Actor { client_id, organization_id, scopes })))
        })
    }
}

/// What a request's `Authorization` header proves.
#[derive(Debug, Clone)]
pub enum Bearer {
    Absent,
    /// A header of another scheme, or a token that does not verify: refused, never ignored.
    Invalid,
    Verified(Claims),
}

/// The request's bearer token, verified once per request: the rate limiters and the caller
/// extractor all ask, and the answer is kept in the request's extensions.
pub fn bearer(req: &HttpRequest, keys: &KeySet) -> Bearer {
    if let Some(known) = req.extensions().get::<Bearer>() {
        return known.clone();
    }
    let verdict = match req.headers().get(header::AUTHORIZATION).map(|v| v.to_str()) {
        None => Bearer::Absent,
        Some(Ok(value)) => match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => match keys.verify(token.trim()) {
                Ok(claims) => Bearer::Verified(claims),
                Err(e) => {
                    log::debug!("refused a bearer token: {e}");
                    Bearer::Invalid
                }
            },
            _ => Bearer::Invalid,
        },
        Some(Err(_)) => Bearer::Invalid,
    };
    req.extensions_mut().insert(verdict.clone());
    verdict
}
