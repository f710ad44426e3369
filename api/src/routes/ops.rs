//! Operations endpoints: liveness, readiness and the API description itself.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use techex_persistence::Db;
use utoipa::ToSchema;

use crate::app::Documents;
use crate::error::{ApiError, Problem};

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok", max_length = 2)]
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready", max_length = 5)]
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    #[schema(example = "sqlite", max_length = 8)]
    pub database: &'static str,
}

/// Liveness: the process answers.
///
/// For a load balancer or an uptime monitor: 200 as long as the process serves HTTP, whatever
/// the state of the database (see `/readyz` for that).
#[utoipa::path(tag = "operations", operation_id = "healthz", responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers a query.
///
/// For a load balancer deciding whether to send traffic here: 200 with the database kind once a
/// query succeeds, 503 while the database cannot be reached.
#[utoipa::path(
    tag = "operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "The database is unreachable (`service_unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(db: web::Data<Db>) -> Result<HttpResponse, ApiError> {
    let probe = db.clone();
    web::block(move || probe.ping()).await?.map_err(ApiError::Unavailable)?;
    Ok(HttpResponse::Ok().json(Readiness { status: "ready", database: db.backend().as_str() }))
}

/// This API's OpenAPI 3.1 description.
///
/// The contract this server answers by, also committed as `openapi/openapi.json`; when the
/// operator set `TECHEX_PUBLIC_URL`, `servers` names it.
#[utoipa::path(
    tag = "operations",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object))
)]
#[get("/openapi.json")]
pub async fn openapi_json(documents: web::Data<Documents>) -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::json()).body(documents.openapi_json())
}

/// This API's description as OpenAPI 3.0.3.
///
/// For client generators that read 3.1 poorly (NSwag, AutoRest, older openapi-generator
/// versions). The same contract as `/openapi.json`, each 3.1 construct written the 3.0 way.
#[utoipa::path(
    tag = "operations",
    operation_id = "openapi_3_0",
    responses((status = 200, description = "The OpenAPI 3.0.3 document", content_type = "application/json", body = Object))
)]
#[get("/openapi-3.0.json")]
pub async fn openapi_30_json(documents: web::Data<Documents>) -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::json()).body(documents.openapi_30_json())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz)
        .service(readyz)
        .service(openapi_json)
        .service(openapi_30_json)
        .service(crate::routes::auth::jwks)
        .service(crate::routes::auth::authorization_server_metadata);
}
