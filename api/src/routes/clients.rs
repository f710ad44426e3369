//! `/v1/clients`: the operator's administration of API clients. Secrets are shown once, at
//! creation and rotation, and never again.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::Deserialize;
use techex_domain::client::{ApiClient, check_client_name, check_scopes};
use techex_domain::{Text, ValidationErrors};
use techex_persistence::{Entity, clients};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::error::{ApiError, OperatorCreateRefused, OperatorEditRefused, OperatorOnly, Problem, QueryRefused};
use crate::extract::JsonBody;
use crate::kit::{self, Chosen, Listed, Operator, PageQuery, Resource};
use crate::language::LanguageQuery;
use crate::query::FieldsQuery;
pub use crate::routes::clients_dto::{
    ClientPage, ClientResponse, ClientWithSecret, CreateClientRequest, UpdateClientRequest,
};
use crate::routes::with_conn;
use crate::usecases::{ClientChange, register_client, revise_client, revoke, rotate_secret};

impl Resource for ApiClient {
    type Public = ClientResponse;
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// Only the clients of this organization.
    #[param(value_type = Option<Uuid>)]
    organization: Option<String>,
}

fn client_id(raw: &str) -> Result<Uuid, ApiError> {
    kit::id_param(Entity::ApiClient, raw)
}

/// Register an API client (operator only).
///
/// The client acts for one organization, which must exist, with the scopes given; its name and
/// scopes are checked (`validation_failed`). The answer carries its secret, this once: only a
/// hash is stored, and a lost secret is replaced with `rotate-secret`.
#[utoipa::path(
    tag = "clients",
    operation_id = "create_client",
    security(("oauth2" = ["admin"])),
    request_body(content = CreateClientRequest),
    responses(
        (status = 201, description = "Registered; store the secret now", body = ClientWithSecret),
        OperatorCreateRefused,
    )
)]
#[post("/clients")]
pub async fn create_client(operator: Operator, body: JsonBody) -> Result<HttpResponse, ApiError> {
    let request: CreateClientRequest = body.parse()?;
    let scopes = check_scopes(request.scopes).map_err(ApiError::Validation)?;
    let author = operator.author;
    let (client, secret) = with_conn(&operator.db, move |conn| {
        register_client(conn, request.organization_id, &request.name, scopes, &author)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .insert_header(("location", format!("/v1/clients/{}", client.id)))
        .json(ClientWithSecret { client: (&client).into(), client_secret: secret }))
}

/// List API clients (operator only).
///
/// A page of clients, oldest first, optionally of one organization; secrets are never shown.
/// `next_cursor` (and the `Link` header) lead to the next page.
#[utoipa::path(
    tag = "clients",
    operation_id = "list_clients",
    security(("oauth2" = ["admin"])),
    params(ClientQuery, PageQuery, FieldsQuery, LanguageQuery),
    responses(
        (status = 200, description = "A page of clients, without secrets", body = ClientPage),
        QueryRefused,
        OperatorOnly,
    )
)]
#[get("/clients")]
pub async fn list_clients(
    _operator: Operator,
    asked: Listed<ApiClient, ClientQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::default();
    let organization =
        kit::query_id(asked.filters.organization.as_deref(), "organization", Text::NotOrganizationId, &mut errors);
    errors.finish(()).map_err(ApiError::InvalidQuery)?;
    let store = kit::OwnedStore { count: clients::count, list: clients::list };
    asked.respond_owned(store, organization, |c| c.id, |c| ClientResponse::from(&c)).await
}

/// Read one API client (operator only).
///
/// Its name, organization, scopes and whether it is revoked, without its secret; the `ETag` is
/// its version, for `If-Match` on a later change.
#[utoipa::path(
    tag = "clients",
    operation_id = "get_client",
    security(("oauth2" = ["admin"])),
    params(("id" = Uuid, Path, description = "Client id"), FieldsQuery, LanguageQuery),
    responses(
        (status = 200, description = "The client, without its secret (with `fields`, only those members)", body = ClientResponse, headers(("ETag" = String))),
        (status = 400, description = "The id is not a UUID (`invalid_path`), or `fields` names an unknown member or the query another parameter (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client (`client_not_found`)", body = Problem, content_type = "application/problem+json"),
        OperatorOnly,
    )
)]
#[get("/clients/{id}")]
pub async fn get_client(
    operator: Operator,
    id: web::Path<String>,
    chosen: Chosen<ApiClient>,
) -> Result<HttpResponse, ApiError> {
    let id = client_id(&id)?;
    let client = with_conn(&operator.db, move |conn| kit::find::<ApiClient>(conn, id)).await?;
    Ok(kit::with_fields(HttpResponse::Ok(), &client, ClientResponse::from(&client), &chosen.fields))
}

/// Rename a client or change its scopes (operator only).
///
/// Narrowed scopes take effect at once, also for the tokens the client already holds. With
/// `If-Match`, the change applies only to the version named.
#[utoipa::path(
    tag = "clients",
    operation_id = "update_client",
    security(("oauth2" = ["admin"])),
    params(("id" = Uuid, Path, description = "Client id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(W/)?"v[0-9]+"$"#, description = "The ETag last read")),
    request_body(content = UpdateClientRequest),
    responses(
        (status = 200, description = "The updated client", body = ClientResponse, headers(("ETag" = String))),
        (status = 409, description = "The client is revoked (`client_revoked`), or the change would lock the caller out (`self_lockout`)", body = Problem, content_type = "application/problem+json"),
        OperatorEditRefused,
    )
)]
#[patch("/clients/{id}")]
pub async fn update_client(
    req: HttpRequest,
    operator: Operator,
    id: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = client_id(&id)?;
    let expected = kit::if_match(&req)?;
    let request: UpdateClientRequest = body.parse()?;
    let name = request.name.as_deref().map(check_client_name).transpose().map_err(ApiError::Validation)?;
    let scopes = request.scopes.map(check_scopes).transpose().map_err(ApiError::Validation)?;
    let change = ClientChange { name, scopes, own_client: operator.is_own_client(id), if_match: expected };
    let author = operator.author;
    let client = with_conn(&operator.db, move |conn| revise_client(conn, id, change, &author)).await?;
    clients::changed(&operator.db, id);
    Ok(kit::with_etag(HttpResponse::Ok(), &client, ClientResponse::from(&client)))
}

/// Give a client a new secret (operator only).
///
/// The old secret stops working at once, and so do the tokens issued before. The answer carries
/// the new secret, this once.
#[utoipa::path(
    tag = "clients",
    operation_id = "rotate_client_secret",
    security(("oauth2" = ["admin"])),
    params(("id" = Uuid, Path, description = "Client id")),
    responses(
        (status = 200, description = "The client and its new secret, shown this once", body = ClientWithSecret),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The client is revoked (`client_revoked`)", body = Problem, content_type = "application/problem+json"),
        OperatorOnly,
    )
)]
#[post("/clients/{id}/rotate-secret")]
pub async fn rotate_client_secret(operator: Operator, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = client_id(&id)?;
    let author = operator.author;
    let (client, secret) = with_conn(&operator.db, move |conn| rotate_secret(conn, id, &author)).await?;
    clients::changed(&operator.db, id);
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(ClientWithSecret { client: (&client).into(), client_secret: secret }))
}

/// Revoke a client (operator only).
///
/// It gets no more tokens, and the ones it holds stop working at once. An operator cannot revoke
/// the client it is calling with.
#[utoipa::path(
    tag = "clients",
    operation_id = "revoke_client",
    security(("oauth2" = ["admin"])),
    params(("id" = Uuid, Path, description = "Client id")),
    responses(
        (status = 200, description = "The revoked client", body = ClientResponse),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already revoked (`client_revoked`), or it is the caller's own client (`self_lockout`)", body = Problem, content_type = "application/problem+json"),
        OperatorOnly,
    )
)]
#[post("/clients/{id}/revoke")]
pub async fn revoke_client(operator: Operator, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = client_id(&id)?;
    if operator.is_own_client(id) {
        return Err(ApiError::SelfLockout);
    }
    let author = operator.author;
    let client = with_conn(&operator.db, move |conn| revoke(conn, id, &author)).await?;
    clients::changed(&operator.db, id);
    Ok(HttpResponse::Ok().json(ClientResponse::from(&client)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_clients)
        .service(create_client)
        .service(get_client)
        .service(update_client)
        .service(rotate_client_secret)
        .service(revoke_client);
}
