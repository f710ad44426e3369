//! The application factory: one function builds the app that `techex serve` runs and the tests
//! drive, and the OpenAPI document is collected from the same registrations.

use actix_web::body::MessageBody;
use actix_web::dev::{ResourceDef, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::QueryPayloadError;
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Logger, Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, web};
use techex_domain::ValidationErrors;
use techex_persistence::Db;
use utoipa::OpenApi;
use utoipa::openapi::path::PathItem;
use utoipa_actix_web::{AppExt, UtoipaApp};
use utoipa_swagger_ui::SwaggerUi;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::{BODY_LIMIT, field_error_from_message};
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "techex",
        description = "The shared data hub of the technology exchanges of Vietnam's Southeast region: \
            technology offers and demands, with the reference data they are checked against.\n\n\
            Errors are RFC 9457 `application/problem+json` documents with a stable `code`; \
            validation failures list each field in `errors`. Pages use opaque cursors.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    tags(
        (name = "listings", description = "Technology offers and demands, and their lifecycle"),
        (name = "reference", description = "Provinces, S&T fields, TRL levels and enumerations, in Vietnamese and English"),
        (name = "operations", description = "Health, readiness and this document"),
    ),
    components(schemas(Problem, techex_domain::FieldError))
)]
struct ApiDoc;

fn documented<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .configure(routes::ops::configure)
        .service(utoipa_actix_web::scope("/v1").configure(routes::configure_v1))
}

/// The OpenAPI document of every route the app serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented(App::new().into_utoipa_app()).split_for_parts().1
}

/// The whole application on `db`.
pub fn build_app(
    db: Db,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, spec) = documented(App::new().into_utoipa_app()).split_for_parts();
    let routes = web::Data::new(RouteTable::of(&spec));
    app.app_data(web::Data::new(db))
        .app_data(web::Data::new(spec))
        .app_data(routes)
        .app_data(web::PayloadConfig::new(BODY_LIMIT))
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            let message = match error {
                QueryPayloadError::Deserialize(inner) => inner.to_string(),
                other => other.to_string(),
            };
            ApiError::InvalidQuery(field_error_from_message("", &message)).into()
        }))
        .app_data(web::PathConfig::default().error_handler(|error, _| {
            ApiError::InvalidPath(ValidationErrors::single("", "invalid_format", error.to_string())).into()
        }))
        .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")))
        .default_service(web::to(no_route))
        .wrap(from_fn(request_id))
        .wrap(Logger::new(r#"%{r}a "%r" %s %b %Dms request_id=%{x-request-id}o"#))
}

/// The documented paths and their methods, to tell an unknown path (404) from a known path
/// asked with the wrong method (405).
struct RouteTable(Vec<(ResourceDef, Vec<Method>)>);

impl RouteTable {
    fn of(spec: &utoipa::openapi::OpenApi) -> Self {
        let routes =
            spec.paths.paths.iter().map(|(path, item)| (ResourceDef::new(path.as_str()), methods_of(item))).collect();
        RouteTable(routes)
    }
}

fn methods_of(item: &PathItem) -> Vec<Method> {
    [
        (Method::GET, &item.get),
        (Method::POST, &item.post),
        (Method::PUT, &item.put),
        (Method::PATCH, &item.patch),
        (Method::DELETE, &item.delete),
    ]
    .into_iter()
    .filter(|(_, operation)| operation.is_some())
    .map(|(method, _)| method)
    .collect()
}

async fn no_route(req: HttpRequest, routes: web::Data<RouteTable>) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    Err(match routes.0.iter().find(|(def, _)| def.is_match(path)) {
        Some((_, methods)) => ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allowed: methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", "),
        },
        None => ApiError::NoRoute(path.to_owned()),
    })
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every response an `X-Request-Id`: the caller's, when it sent a sane one, so a portal
/// can follow its request through our logs, or a new one.
async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let mut response = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    Ok(response)
}
