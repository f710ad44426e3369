//! The HTTP resources, one module each.

pub mod listings;
pub mod ops;
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
    listings::configure(cfg);
    reference::configure(cfg);
}
