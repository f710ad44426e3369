//! `/v1/organizations`: the parties of the exchange. Public to read; written by the operator.

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, web};
use techex_domain::organization::{Organization, OrganizationContent};
use techex_persistence::{Db, Entity, organizations};
use uuid::Uuid;

use crate::error::{ApiError, OperatorCreateRefused, OperatorEditRefused, Problem, QueryRefused};
use crate::extract::JsonBody;
use crate::kit::{self, CachePolicy, Chosen, Listed, Operator, PageQuery, Resource, Target};
use crate::language::LanguageQuery;
use crate::query::FieldsQuery;
pub use crate::routes::organizations_dto::OrganizationResponse;
use crate::routes::organizations_dto::{self as dto};
use crate::routes::{merge_patch_body, patched, with_conn};
use crate::usecases::register_organization;

impl Resource for Organization {
    type Public = OrganizationResponse;
}

fn organization_id(raw: &str) -> Result<Uuid, ApiError> {
    kit::id_param(Entity::Organization, raw)
}

fn with_etag(response: actix_web::HttpResponseBuilder, org: &Organization) -> HttpResponse {
    kit::with_etag(response, org, OrganizationResponse::from(org))
}

/// List organizations in the order they were registered.
///
/// The parties of the exchange (exchanges, departments of science and technology, application
/// centers, enterprises, universities, research institutes), public to anyone. `next_cursor` (and the `Link` header) lead to the next page.
#[utoipa::path(
    tag = "organizations",
    operation_id = "list_organizations",
    params(PageQuery, FieldsQuery, LanguageQuery),
    responses(
        (status = 200, description = "A page of organizations; `Link: <...>; rel=\"next\"` names the next one", body = dto::OrganizationPage,
         headers(("Link" = String))),
        QueryRefused,
    )
)]
#[get("/organizations")]
pub async fn list_organizations(asked: Listed<Organization>) -> Result<HttpResponse, ApiError> {
    asked
        .respond(
            CachePolicy::PublicMinute,
            move |conn, slice| {
                let total = slice.total(|| organizations::count(conn))?;
                Ok((organizations::list(conn, slice.after, slice.probe)?, total))
            },
            |o| o.id,
            |o| OrganizationResponse::from(&o),
        )
        .await
}

/// Read one organization.
///
/// Public to anyone. The `ETag` is its version: send it as `If-None-Match` to hear 304 while it
/// is unchanged, or as `If-Match` on a change.
#[utoipa::path(
    tag = "organizations",
    operation_id = "get_organization",
    params(("id" = Uuid, Path, description = "Organization id"), FieldsQuery, LanguageQuery),
    responses(
        (status = 200, description = "The organization (with `fields`, only those members)", body = OrganizationResponse, headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "The id is not a UUID (`invalid_path`), or `fields` names an unknown member or the query another parameter (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization (`organization_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}")]
pub async fn get_organization(
    db: web::Data<Db>,
    id: web::Path<String>,
    chosen: Chosen<Organization>,
) -> Result<HttpResponse, ApiError> {
    let id = organization_id(&id)?;
    let org = with_conn(&db, move |conn| kit::find::<Organization>(conn, id)).await?;
    Ok(kit::with_fields(HttpResponse::Ok(), &org, OrganizationResponse::from(&org), &chosen.fields))
}

/// Register an organization (operator only).
///
/// A party of the exchange, with its tax code and the source exchanges whose records it holds,
/// each unique across organizations. Its API clients are registered apart.
#[utoipa::path(
    tag = "organizations",
    operation_id = "create_organization",
    security(("oauth2" = ["admin"])),
    request_body(content = dto::OrganizationContent),
    responses(
        (status = 201, description = "Registered", body = OrganizationResponse, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "Another organization has this tax code (`duplicate_tax_code`) or one of these source exchanges (`duplicate_source_exchange`)", body = Problem, content_type = "application/problem+json"),
        OperatorCreateRefused,
    )
)]
#[post("/organizations")]
pub async fn create_organization(operator: Operator, body: JsonBody) -> Result<HttpResponse, ApiError> {
    let content: OrganizationContent = body.parse::<dto::OrganizationContent>()?.into();
    let author = operator.author;
    let org = with_conn(&operator.db, move |conn| register_organization(conn, content, &author)).await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/organizations/{}", org.id)));
    Ok(with_etag(response, &org))
}

/// Change an organization with a JSON merge patch (operator only).
///
/// RFC 7386: keys present replace, `null` removes, absent keys stay; the result is checked whole.
/// With `If-Match`, the change applies only to the version named.
#[utoipa::path(
    tag = "organizations",
    operation_id = "update_organization",
    security(("oauth2" = ["admin"])),
    params(("id" = Uuid, Path, description = "Organization id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|"v[0-9]+"( *, *"v[0-9]+")*)$"#, description = "The ETag last read")),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated organization", body = OrganizationResponse, headers(("ETag" = String))),
        (status = 409, description = "Duplicate tax code (`duplicate_tax_code`), a source exchange held by another organization (`duplicate_source_exchange`), a concurrent edit (`edit_conflict`), or the record was mirrored from another hub and is that hub's to change (`mirrored_record`)", body = Problem, content_type = "application/problem+json"),
        OperatorEditRefused,
    )
)]
#[patch("/organizations/{id}")]
pub async fn update_organization(target: Target<Organization>, body: JsonBody) -> Result<HttpResponse, ApiError> {
    let Target { db, caller, id, if_match: expected } = target;
    let author = kit::admin(&caller)?;
    let patch = merge_patch_body(body)?;
    let org = with_conn(&db, move |conn| {
        kit::modify(conn, id, &author, |_, org: &mut Organization| {
            kit::check_version(org, expected.as_deref())?;
            let content: OrganizationContent =
                patched(&dto::OrganizationContent::from(org.content.clone()), &patch)?.into();
            let valid = content.validate().map_err(ApiError::Validation)?;
            if valid.content == org.content {
                return Ok(false);
            }
            org.revise(valid, techex_domain::now());
            Ok(true)
        })
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), &org))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_organizations).service(create_organization).service(get_organization).service(update_organization);
}
