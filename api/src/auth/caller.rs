//! The caller of a request: anonymous, or an API client proven by its bearer token. Every write
//! endpoint takes it and asks the domain's access rules; reads take it to decide what to show.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use techex_domain::access::{Actor, Caller, parse_scopes};
use techex_persistence::{Db, clients};
use uuid::Uuid;

use crate::auth::KeySet;
use crate::error::ApiError;

/// The caller, extracted from `Authorization: Bearer <token>`; `None` without the header.
///
/// A token is accepted when it verifies (see [`KeySet::verify`]) and its client still exists, is
/// not revoked and acts for the organization the token names. Its scopes are those of the token
/// still granted to the client, so narrowing or revoking a client takes effect at once.
pub struct CallerOf(pub Caller);

impl FromRequest for CallerOf {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let token = bearer_token(req);
        let keys = req.app_data::<web::Data<Arc<KeySet>>>().map(|k| k.get_ref().clone());
        let db = req.app_data::<web::Data<Db>>().map(|d| d.get_ref().clone());
        Box::pin(async move {
            let token = match token? {
                None => return Ok(CallerOf(None)),
                Some(token) => token,
            };
            let (keys, db) = keys.zip(db).ok_or_else(|| ApiError::internal("authentication is not configured"))?;
            let claims = keys.verify(&token).map_err(|e| {
                log::debug!("refused a bearer token: {e}");
                ApiError::InvalidToken
            })?;
            let client_id: Uuid = claims.sub.parse().map_err(|_| ApiError::InvalidToken)?;
            let organization_id: Uuid = claims.org.parse().map_err(|_| ApiError::InvalidToken)?;
            let token_scopes = parse_scopes(&claims.scope).map_err(|_| ApiError::InvalidToken)?;
            let client = web::block(move || {
                let mut conn = db.conn()?;
                clients::find(&mut conn, client_id)
            })
            .await??;
            let client = client
                .filter(|c| c.is_active() && c.organization_id == organization_id)
                .ok_or(ApiError::InvalidToken)?;
            let scopes = token_scopes.intersection(&client.scopes).copied().collect();
            Ok(CallerOf(Some(Actor { client_id, organization_id, scopes })))
        })
    }
}

/// The token of an `Authorization: Bearer` header; an Authorization header of another form is
/// refused rather than ignored.
fn bearer_token(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(ApiError::InvalidToken),
    }
}
