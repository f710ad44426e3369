//! The HTTP resources, one module each.

pub mod auth;
pub mod clients;
pub mod listings;
pub mod ops;
pub mod organizations;
pub mod reference;

use actix_web::web;
use techex_persistence::{Db, DbConn};

use crate::error::ApiError;

/// Runs blocking database work on the thread pool with a pooled connection.
pub async fn with_conn<T, F>(db: &Db, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
{
    let db = db.clone();
    web::block(move || {
        let mut conn = db.conn()?;
        work(&mut conn)
    })
    .await?
}

/// Everything under `/v1`.
pub fn configure_v1(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    auth::configure(cfg);
    listings::configure(cfg);
    organizations::configure(cfg);
    clients::configure(cfg);
    reference::configure(cfg);
}

/// RFC 7386 JSON merge patch: keys present replace, `null` removes, absent keys stay.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let Some(patch) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(Default::default());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(serde_json::Value::Null), value);
        }
    }
}
