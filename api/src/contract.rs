//! What every operation of the contract shares, declared once here rather than on each route:
//! its security (a token is accepted everywhere, if only to be counted under the client's own
//! rate limit), the answers any request can get (429 from the rate limiter, 500), and the
//! rate-limit fields every answer carries.

use serde_json::json;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, ContentBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder, Server};

use crate::error::PROBLEM_JSON;
use crate::kit::ID_MAX_LENGTH;

/// The rate-limit fields every answer carries (see [`crate::auth::rate_limit`]).
const RATE_LIMIT_FIELDS: [&str; 2] = ["RateLimit", "RateLimit-Policy"];

/// Completes the document the routes declared: servers, shared headers and answers, and the
/// security of operations that name none.
pub fn complete(spec: &mut OpenApi) {
    idempotency_keys(spec);
    for server in spec.servers.iter_mut().flatten() {
        describe_server(server);
    }
    let components = spec.components.get_or_insert_with(Default::default);
    components.headers.extend(shared_headers().map(|(name, header)| (name.to_owned(), RefOr::T(header))));
    components.responses.extend(shared_responses().map(|(name, response)| (name.to_owned(), RefOr::T(response))));
    for response in components.responses.values_mut() {
        with_rate_limit_fields(response);
    }
    for item in spec.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            complete_operation(operation);
        }
    }
    each_schema(spec, &mut |schema| each_string(schema, &mut bound_by_format));
    // A Location names a record: one of the paths ending in its id.
    let location_max = spec
        .paths
        .paths
        .keys()
        .filter_map(|path| path.strip_suffix("{id}"))
        .map(|path| path.len() + ID_MAX_LENGTH)
        .max();
    for item in spec.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            bound_fields(operation, location_max.unwrap_or(ID_MAX_LENGTH));
        }
    }
}

/// `Idempotency-Key` on every `POST` but the token endpoint (see [`crate::idempotency`]): one
/// shared parameter, the `Idempotent-Replayed` field of a replayed answer, and the refusals a
/// key brings.
fn idempotency_keys(spec: &mut OpenApi) {
    use utoipa::openapi::Required;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    let problem = || ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let components = spec.components.get_or_insert_with(Default::default);
    components.parameters.insert(
        "IdempotencyKey".to_owned(),
        RefOr::T(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "A key of the caller's choosing (1 to 255 visible ASCII characters, such as a UUID) that \
                     makes the request safe to retry: a retry with the same key and the same request within 24 h \
                     is answered with the first answer (status, body, `Location`, `ETag`), replayed with \
                     `Idempotent-Replayed: true`, and writes nothing. Keys are per API client. The same key with \
                     another request is 422 `idempotency_key_reused`; while the first request runs, a retry \
                     waits up to 3 s, then hears 409 `idempotency_in_progress` with `Retry-After`. Server \
                     failures (5xx) and refusals of the caller (401, 403, 408, 413, 429) are not kept: a retry \
                     runs again. A request whose write committed but whose answer was lost when its server \
                     stopped is never run again: its retries hear 409 `idempotency_answer_lost` (read the \
                     resource). Without a valid token the key is ignored.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(crate::idempotency::KEY_MAX))
                        .pattern(Some("^[!-~]{1,255}$"))
                        .examples([json!("0190c3a2-7b4e-7c1d-9a8f-2b1e6d5c4a3f")]),
                ))
                .build(),
        ),
    );
    components.headers.insert(
        "Idempotent-Replayed".to_owned(),
        RefOr::T(
            HeaderBuilder::new()
                .description(Some("`true` on an answer replayed for a retry with the same `Idempotency-Key`"))
                .schema(Some(
                    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["true"])).max_length(Some(4)),
                ))
                .build(),
        ),
    );
    for (path, item) in spec.paths.paths.iter_mut() {
        if crate::idempotency::EXCLUDED.contains(&path.as_str()) {
            continue;
        }
        let Some(operation) = item.post.as_mut() else { continue };
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::Ref(Ref::new("#/components/parameters/IdempotencyKey")));
        let responses = &mut operation.responses.responses;
        for (status, response) in responses.iter_mut() {
            if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                response.headers.insert("Idempotent-Replayed".to_owned(), header_ref("Idempotent-Replayed"));
            }
        }
        for (status, code, note) in [
            ("400", "invalid_header", "The `Idempotency-Key` header is malformed (`invalid_header`)"),
            (
                "409",
                "idempotency_in_progress",
                "A request with the same `Idempotency-Key` is still running (`idempotency_in_progress`); retry after `Retry-After` seconds",
            ),
            (
                "409",
                "idempotency_answer_lost",
                "The request with this `Idempotency-Key` was carried out, but its answer was lost when the server stopped (`idempotency_answer_lost`); read the resource",
            ),
            (
                "422",
                "idempotency_key_reused",
                "The `Idempotency-Key` was used with another request (`idempotency_key_reused`)",
            ),
        ] {
            match responses.get_mut(status) {
                Some(RefOr::T(response)) if !response.description.contains(code) => {
                    response.description = format!("{}; or: {note}", response.description.trim_end_matches('.'));
                    if status == "409" {
                        response.headers.insert("Retry-After".to_owned(), header_ref("Retry-After"));
                    }
                }
                Some(_) => {}
                None => {
                    let mut response =
                        ResponseBuilder::new().description(note).content(PROBLEM_JSON, problem()).build();
                    if status == "409" {
                        response.headers.insert("Retry-After".to_owned(), header_ref("Retry-After"));
                    }
                    responses.insert(status.to_owned(), RefOr::T(response));
                }
            }
        }
    }
}

/// The lengths of the header fields the server writes (ETag, Location) or reads (If-Match,
/// refused beyond its length).
fn bound_fields(operation: &mut Operation, location_max: usize) {
    let limit_of = |name: &str| match name {
        "ETag" => Some(crate::etag::MAX_LENGTH),
        "Location" => Some(location_max),
        crate::routes::export::CHANGES_CURSOR => Some(crate::routes::changes::FEED_CURSOR_MAX),
        "Content-Disposition" => Some(crate::routes::export::CONTENT_DISPOSITION_MAX),
        "If-Match" | "If-None-Match" => Some(crate::etag::IF_MATCH_MAX_LENGTH),
        "Sync-Result" => Some("unchanged".len()),
        _ => None,
    };
    let bound = |name: &str, schema: Option<&mut RefOr<Schema>>| {
        if let (Some(max), Some(RefOr::T(Schema::Object(string)))) = (limit_of(name), schema) {
            string.max_length.get_or_insert(max);
        }
    };
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else { continue };
        bound(&parameter.name, parameter.schema.as_mut());
        let Some(max) = crate::query::value_max_length(&parameter.name) else { continue };
        if parameter.parameter_in != ParameterIn::Query {
            continue;
        }
        let value = match parameter.schema.as_mut() {
            Some(RefOr::T(Schema::Array(array))) => match &mut array.items {
                ArrayItems::RefOrSchema(items) => items.as_mut(),
                ArrayItems::False => continue,
            },
            Some(value) => value,
            None => continue,
        };
        if let RefOr::T(Schema::Object(string)) = value {
            string.max_length = Some(max);
        }
    }
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            for (name, header) in &mut response.headers {
                if let RefOr::T(header) = header {
                    bound(name, header.schema.as_mut());
                }
            }
        }
    }
}

/// The length of a string of a known format, as the server writes and reads it: ids in the
/// hyphenated form ([`crate::kit::ID_MAX_LENGTH`], longer ones refused), days as `2025-07-01`,
/// instants in RFC 3339 with at most nanoseconds and an offset (longer ones refused, see
/// [`crate::kit::body_timestamp`]).
fn bound_by_format(string: &mut Object) {
    let max = match &string.format {
        Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)) => ID_MAX_LENGTH,
        Some(SchemaFormat::KnownFormat(KnownFormat::Date)) => DATE_LENGTH,
        Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)) => crate::kit::TIMESTAMP_MAX_LENGTH,
        _ => return,
    };
    string.max_length.get_or_insert(max);
}

/// `2025-07-01`: the days the API writes (reference data only, all within years 1000 to 9999).
const DATE_LENGTH: usize = 10;

/// Calls `visit` with every schema written inline in the document: components, parameters,
/// headers, request and response bodies (a `$ref` is visited where it is defined).
pub(crate) fn each_schema(spec: &mut OpenApi, visit: &mut dyn FnMut(&mut Schema)) {
    if let Some(components) = spec.components.as_mut() {
        components.schemas.values_mut().for_each(|schema| in_ref(schema, visit));
        in_headers(components.headers.values_mut(), visit);
        components.responses.values_mut().for_each(|response| in_response(response, visit));
    }
    for item in spec.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            for parameter in operation.parameters.iter_mut().flatten() {
                if let RefOr::T(parameter) = parameter {
                    parameter.schema.iter_mut().for_each(|schema| in_ref(schema, visit));
                }
            }
            if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
                in_content(body.content.values_mut(), visit);
            }
            operation.responses.responses.values_mut().for_each(|response| in_response(response, visit));
        }
    }
}

fn in_ref(schema: &mut RefOr<Schema>, visit: &mut dyn FnMut(&mut Schema)) {
    if let RefOr::T(schema) = schema {
        visit(schema);
    }
}

fn in_headers<'a>(headers: impl Iterator<Item = &'a mut RefOr<Header>>, visit: &mut dyn FnMut(&mut Schema)) {
    for header in headers {
        if let RefOr::T(Header { schema: Some(schema), .. }) = header {
            in_ref(schema, visit);
        }
    }
}

fn in_content<'a>(contents: impl Iterator<Item = &'a mut RefOr<Content>>, visit: &mut dyn FnMut(&mut Schema)) {
    for content in contents {
        if let RefOr::T(Content { schema: Some(schema), .. }) = content {
            in_ref(schema, visit);
        }
    }
}

fn in_response(response: &mut RefOr<Response>, visit: &mut dyn FnMut(&mut Schema)) {
    if let RefOr::T(response) = response {
        in_headers(response.headers.values_mut(), visit);
        in_content(response.content.values_mut(), visit);
    }
}

/// Calls `visit` with every string schema within `schema`: itself, its properties, items and
/// alternatives, at any depth.
pub(crate) fn each_string(schema: &mut Schema, visit: &mut dyn FnMut(&mut Object)) {
    let mut inner = |schema: &mut RefOr<Schema>| {
        if let RefOr::T(schema) = schema {
            each_string(schema, visit);
        }
    };
    match schema {
        Schema::Object(object) => {
            object.properties.values_mut().for_each(&mut inner);
            if let Some(AdditionalProperties::RefOr(more)) = object.additional_properties.as_deref_mut() {
                inner(more);
            }
            if let Some(names) = object.property_names.as_deref_mut() {
                each_string(names, visit);
            }
            if is_string(&object.schema_type) {
                visit(object);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                inner(items);
            }
        }
        Schema::OneOf(one) => one.items.iter_mut().for_each(inner),
        Schema::AllOf(all) => all.items.iter_mut().for_each(inner),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(inner),
        _ => {}
    }
}

/// `string`, or `string` and `null`.
fn is_string(schema_type: &SchemaType) -> bool {
    match schema_type {
        SchemaType::Type(kind) => *kind == Type::String,
        SchemaType::Array(kinds) => kinds.contains(&Type::String),
        SchemaType::AnyValue => false,
    }
}

/// The hub is public, whoever runs it: portals and partner exchanges call it from outside.
fn describe_server(server: &mut Server) {
    server.description.get_or_insert_with(|| {
        "The hub's public URL, as its operator configured it (production, staging or test)".to_owned()
    });
    server
        .extensions
        .get_or_insert_with(Default::default)
        .merge(ExtensionsBuilder::new().add("x-internal", false).build());
}

fn complete_operation(operation: &mut Operation) {
    // Optional security: anonymous callers are served, and a client's token is accepted.
    operation
        .security
        .get_or_insert_with(|| vec![SecurityRequirement::default(), SecurityRequirement::new("oauth2", [""; 0])]);
    let responses = &mut operation.responses.responses;
    for (status, name) in [("429", "TooManyRequests"), ("500", "InternalError")] {
        responses.entry(status.to_owned()).or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    }
    responses.values_mut().for_each(with_rate_limit_fields);
    // An empty query value reads as the parameter not given (`kind=` from an "All" choice, see
    // `crate::query`). utoipa has no field for `allowEmptyValue`, so it goes in beside the
    // extensions, which serialize flattened into the parameter.
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && parameter.parameter_in == ParameterIn::Query
            && parameter.required == Required::False
        {
            parameter.extensions.get_or_insert_with(Default::default).insert("allowEmptyValue".into(), true.into());
        }
    }
}

/// Every answer carries the rate-limit fields (a shared response declares them once, where it is
/// defined), and one definition of Retry-After, with its bounds, wherever a route declares it.
fn with_rate_limit_fields(response: &mut RefOr<utoipa::openapi::Response>) {
    let RefOr::T(response) = response else { return };
    for field in RATE_LIMIT_FIELDS {
        response.headers.entry(field.to_owned()).or_insert_with(|| header_ref(field));
    }
    if let Some(retry_after) = response.headers.get_mut("Retry-After") {
        *retry_after = header_ref("Retry-After");
    }
}

fn header_ref(name: &str) -> RefOr<utoipa::openapi::header::Header> {
    RefOr::Ref(Ref::new(format!("#/components/headers/{name}")))
}

fn shared_headers() -> [(&'static str, utoipa::openapi::header::Header); 3] {
    let field = |pattern: &str, example: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .max_length(Some(64))
            .examples([json!(example)])
    };
    [
        (
            "RateLimit",
            HeaderBuilder::new()
                .description(Some(
                    "What is left of the caller's quota (draft-ietf-httpapi-ratelimit-headers): `r` requests \
                     now, and within `t` seconds at least one more. On a 429, `r=0` and `t` is the \
                     `Retry-After`.",
                ))
                .schema(Some(field(r#"^"(client|address)";r=[0-9]+;t=[0-9]+$"#, r#""client";r=29;t=1"#)))
                .build(),
        ),
        (
            "RateLimit-Policy",
            HeaderBuilder::new()
                .description(Some(
                    "The quota the request was counted under (draft-ietf-httpapi-ratelimit-headers): \
                     `\"client\"` for a request with a valid token, per API client; `\"address\"` for any \
                     other, per IP address. `q` requests may come at once, and `q` come back every `w` \
                     seconds.",
                ))
                .schema(Some(field(r#"^"(client|address)";q=[0-9]+;w=[0-9]+$"#, r#""client";q=30;w=15"#)))
                .build(),
        ),
        (
            "Retry-After",
            HeaderBuilder::new()
                .description(Some("Seconds to wait before the next request (RFC 9110); rounded up, never 0"))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int32)))
                        .minimum(Some(1))
                        .maximum(Some(60)),
                ))
                .build(),
        ),
    ]
}

fn shared_responses() -> [(&'static str, utoipa::openapi::Response); 2] {
    let problem = || ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let with_fields = |builder: ResponseBuilder, fields: &[&str]| {
        let mut response = builder.build();
        for field in fields {
            response.headers.insert((*field).to_owned(), header_ref(field));
        }
        response
    };
    [
        (
            "TooManyRequests",
            with_fields(
                ResponseBuilder::new()
                    .description(
                        "Too many requests from this caller (`rate_limited`): come back after `Retry-After` \
                         seconds. `RateLimit-Policy` names the quota; `RateLimit` says what is left of it on \
                         every answer, so a caller can pace itself and never hear this.",
                    )
                    .content(PROBLEM_JSON, problem()),
                &["Retry-After", "RateLimit", "RateLimit-Policy"],
            ),
        ),
        (
            "InternalError",
            with_fields(
                ResponseBuilder::new()
                    .description(
                        "The server failed (`internal_error`); the answer's `X-Request-Id` finds the failure \
                         in the server's log.",
                    )
                    .content(PROBLEM_JSON, problem()),
                &RATE_LIMIT_FIELDS,
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Each operation with its method and path, from the whole contract.
    fn operations() -> Vec<(String, Value)> {
        let spec = serde_json::to_value(crate::openapi()).unwrap();
        let mut found = Vec::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                found.push((format!("{method} {path}"), operation.clone()));
            }
        }
        assert!(found.len() > 20, "{} operations", found.len());
        found
    }

    #[test]
    fn every_operation_declares_its_security_and_the_answers_every_request_can_get() {
        for (name, operation) in operations() {
            let security = operation["security"].as_array().unwrap_or_else(|| panic!("{name} declares no security"));
            let token_required = !security.iter().any(|requirement| requirement.as_object().unwrap().is_empty());
            let responses = &operation["responses"];
            let mut needed = vec!["429", "500"];
            if token_required {
                needed.extend(["401", "403"]);
            }
            for status in needed {
                assert!(responses.get(status).is_some(), "{name} does not document {status}");
            }
            for (status, response) in responses.as_object().unwrap() {
                if response.get("$ref").is_none() {
                    for field in super::RATE_LIMIT_FIELDS {
                        assert!(response["headers"].get(field).is_some(), "{name} {status} lacks {field}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_shared_answers_carry_the_rate_limit_fields_too() {
        let spec = serde_json::to_value(crate::openapi()).unwrap();
        let shared = spec["components"]["responses"].as_object().unwrap();
        for name in ["TooManyRequests", "InternalError", "Unauthenticated", "VersionChanged", "BodyTooLarge"] {
            let response = &shared[name];
            assert_eq!(
                response["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem"
            );
            for field in super::RATE_LIMIT_FIELDS {
                assert!(response["headers"].get(field).is_some(), "{name} lacks {field}");
            }
        }
        assert!(shared["TooManyRequests"]["headers"].get("Retry-After").is_some());
    }

    /// What Spectral's `owasp:api8:2023-define-error-validation` asks of every operation, asked
    /// of those that take input: the others cannot be sent an invalid request.
    #[test]
    fn every_operation_that_takes_input_documents_its_refusal() {
        for (name, operation) in operations() {
            let takes_input = operation.get("parameters").is_some() || operation.get("requestBody").is_some();
            let responses = &operation["responses"];
            if takes_input {
                assert!(responses.get("400").is_some() || responses.get("422").is_some(), "{name} has no 400 or 422");
            }
        }
    }

    #[test]
    fn public_reads_take_a_token_without_requiring_one() {
        let security_of = |wanted: &str| {
            let (_, operation) = operations().into_iter().find(|(name, _)| name == wanted).unwrap();
            operation["security"].clone()
        };
        for read in ["get /v1/reference/trl", "get /healthz", "get /v1/organizations", "get /v1/listings"] {
            assert_eq!(security_of(read), serde_json::json!([{}, {"oauth2": []}]), "{read}");
        }
        assert_eq!(security_of("post /v1/auth/token"), serde_json::json!([{}]), "client credentials, no token");
        assert_eq!(security_of("post /v1/listings"), serde_json::json!([{"oauth2": ["listings:write"]}]));
    }
}
