//! `/v1/centers`: the directory of application centers. Public to read, by words, province,
//! kind, service, field and distance; written by the owning organization's clients with
//! `centers:write`, and by the operator.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use techex_domain::access::Actor;
use techex_domain::center::{
    self, Center, CenterContent, CenterKind, CenterService, Position, RADIUS_DEFAULT_KM, RADIUS_MAX_KM,
    may_claim_center, may_create_center, may_edit_center, rounded_km,
};
use techex_domain::{Message, Text, ValidationErrors, refdata};
use techex_persistence::centers::{self, CenterFilter, CenterWrite};
use techex_persistence::change_log::Author;
use techex_persistence::{Db, DbConn, Entity, organizations};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::CallerOf;
use crate::error::{ApiError, BodyRefused, Problem, QueryRefused, StaleVersion};
use crate::extract::JsonBody;
use crate::kit::{self, CachePolicy, Chosen, Listed, PageQuery, Resource, Slice, Target};
use crate::language::LanguageQuery;
use crate::query::FieldsQuery;
pub use crate::routes::centers_dto::CenterResponse;
use crate::routes::centers_dto::{self as dto};
use crate::routes::vocabulary_dto as words;
use crate::routes::{merge_patch_body, patched, with_conn};

impl Resource for Center {
    type Public = CenterResponse;
}

/// The longest search (`q`), in characters.
pub const Q_MAX: usize = techex_domain::search::Q_MAX_CHARS;
/// The longest `near`: two coordinates with more decimals than any device measures.
pub const NEAR_MAX: usize = 40;

/// Filters of the directory. A filter given several values (`province=79,75`) matches any of
/// them; different filters must all match.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CenterQuery {
    /// Words to find in the name, address, description or province, with or without Vietnamese
    /// marks (`trung tam dong nai` finds "Trung tâm … Đồng Nai"): every word must be found, the
    /// last one also as the beginning of a word (`ung dung tien b` finds "tiến bộ").
    #[param(example = "ung dung dong nai")]
    q: Option<String>,
    /// Kinds of center.
    #[param(value_type = Vec<words::CenterKind>, style = Form, explode, max_items = 6, example = json!(["application_transfer_center"]))]
    #[serde(default)]
    kind: Vec<String>,
    /// Province codes (two digits), current or pre-2025: `74` (Bình Dương) finds the centers of
    /// Ho Chi Minh City.
    #[param(style = Form, explode, max_items = 20, example = json!(["79", "75"]))]
    #[serde(default)]
    province: Vec<String>,
    /// Services offered: a center offering any of them matches.
    #[param(value_type = Vec<words::CenterService>, style = Form, explode, max_items = 10, example = json!(["testing_measurement"]))]
    #[serde(default)]
    service: Vec<String>,
    /// Leading digits (one to three) of S&T field codes of expertise: `2` matches every
    /// engineering field, `211` one.
    #[param(style = Form, explode, max_items = 10, example = json!(["2", "401"]))]
    #[serde(default)]
    field: Vec<String>,
    /// Only the centers of this organization.
    #[param(value_type = Option<Uuid>)]
    organization: Option<String>,
    /// `latitude,longitude` in decimal degrees: only centers within `radius_km` of this point,
    /// nearest first, each with its `distance_km`.
    #[param(example = "10.7769,106.7009", pattern = r"^\s*-?[0-9]+(\.[0-9]+)?\s*,\s*-?[0-9]+(\.[0-9]+)?\s*$")]
    near: Option<String>,
    /// With `near`: the radius in kilometres, above 0 and at most 500 (default 50).
    #[param(value_type = Option<f64>, exclusive_minimum = 0, maximum = 500, example = 25)]
    radius_km: Option<String>,
}

/// A nearby search asked for: the point and the radius.
#[derive(Debug, Clone, Copy)]
struct Nearby {
    from: Position,
    radius_km: f64,
}

impl CenterQuery {
    fn read(&self) -> Result<(CenterFilter, Option<Nearby>), ApiError> {
        let mut errors = ValidationErrors::default();
        let words = self.q.as_deref().map(|q| center::search_words(q, &mut errors)).unwrap_or_default();
        let kinds = words_of::<CenterKind>(&self.kind, "kind", &mut errors);
        let services = words_of::<CenterService>(&self.service, "service", &mut errors);
        let mut provinces: Vec<String> = Vec::new();
        for code in &self.province {
            match refdata::current_province(code) {
                Some(p) if !provinces.contains(&p.code) => provinces.push(p.code.clone()),
                Some(_) => {}
                None => errors.add("province", Message::new(Text::UnknownProvince).with("value", code)),
            }
        }
        for field in &self.field {
            if !(1..=3).contains(&field.len()) || !field.chars().all(|c| c.is_ascii_digit()) {
                errors.add("field", Text::FieldFilter);
            }
        }
        let organization =
            kit::query_id(self.organization.as_deref(), "organization", Text::NotOrganizationId, &mut errors);
        let nearby = self.nearby(&mut errors);
        errors.finish(()).map_err(ApiError::InvalidQuery)?;
        let filter = CenterFilter {
            kinds,
            provinces,
            services,
            field_prefixes: self.field.clone(),
            organization,
            patterns: center::like_patterns(&words),
            area: nearby.map(|n| n.from.bounding_box(n.radius_km)),
        };
        Ok((filter, nearby))
    }

    fn nearby(&self, errors: &mut ValidationErrors) -> Option<Nearby> {
        let radius_km = match self.radius_km.as_deref().map(|r| r.trim().parse::<f64>()) {
            None => Some(RADIUS_DEFAULT_KM),
            Some(Ok(r)) if r > 0.0 && r <= RADIUS_MAX_KM => Some(r),
            Some(_) => {
                errors.add("radius_km", Message::new(Text::RadiusRange).with("max", RADIUS_MAX_KM));
                None
            }
        };
        let Some(near) = self.near.as_deref() else {
            if self.radius_km.is_some() {
                errors.add("near", Text::RadiusNeedsNear);
            }
            return None;
        };
        let from = Position::parse(near).map_err(|text| errors.add("near", text)).ok()?;
        Some(Nearby { from, radius_km: radius_km? })
    }
}

fn words_of<W: std::str::FromStr<Err = techex_domain::words::UnknownWord> + PartialEq>(
    given: &[String],
    name: &str,
    errors: &mut ValidationErrors,
) -> Vec<W> {
    let mut words = Vec::new();
    for word in given {
        match word.parse::<W>() {
            Ok(w) if !words.contains(&w) => words.push(w),
            Ok(_) => {}
            Err(e) => errors.add(name, Message::new(Text::OneOf).with("allowed", e.expected.join(", "))),
        }
    }
    words
}

/// The centers within the circle, nearest first (ties by id), after the center the cursor
/// names: its distance is computed again from where it stands now, so the pages are keyed on
/// (distance, id). The box narrows the candidates through the index; only ids and positions are
/// read for them, and whole rows for the page alone.
fn nearest(
    conn: &mut DbConn,
    filter: &CenterFilter,
    nearby: Nearby,
    slice: Slice,
) -> Result<(Vec<(Center, f64)>, i64), ApiError> {
    let mut within: Vec<(f64, Uuid)> = centers::positions(conn, filter)?
        .into_iter()
        .map(|(id, at)| (nearby.from.distance_km(at), id))
        .filter(|(d, _)| *d <= nearby.radius_km)
        .collect();
    within.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let total = within.len() as i64;
    let start = match slice.after {
        None => 0,
        Some(after) => {
            let key = match within.iter().find(|(_, id)| *id == after) {
                Some(found) => *found,
                None => {
                    let last = kit::find::<Center>(conn, after).map_err(|_| invalid_cursor())?;
                    (nearby.from.distance_km(last.content.position), after)
                }
            };
            within.partition_point(|(d, id)| d.total_cmp(&key.0).then(id.cmp(&key.1)).is_le())
        }
    };
    let chosen: Vec<(f64, Uuid)> = within.into_iter().skip(start).take(slice.probe as usize).collect();
    let ids: Vec<Uuid> = chosen.iter().map(|(_, id)| *id).collect();
    let mut rows = centers::by_ids(conn, &ids)?;
    let mut ordered = Vec::with_capacity(chosen.len());
    for (distance, id) in chosen {
        if let Some(i) = rows.iter().position(|c| c.id == id) {
            ordered.push((rows.swap_remove(i), distance));
        }
    }
    Ok((ordered, total))
}

fn invalid_cursor() -> ApiError {
    ApiError::InvalidQuery(ValidationErrors::single("cursor", Text::InvalidCursor))
}

/// Find application centers.
///
/// Public to anyone. Without `near`, in the order they were registered; with `near`, those
/// within `radius_km` (50 by default, at most 500) of the point, nearest first by great-circle
/// distance, each with its `distance_km`. Words (`q`) are matched without Vietnamese marks.
/// `next_cursor` (and the `Link` header) lead to the next page; with `near`, pages are keyed on
/// the distance and the id, so the next page starts after the last center of this one.
#[utoipa::path(
    tag = "centers",
    operation_id = "list_centers",
    params(CenterQuery, PageQuery, FieldsQuery, LanguageQuery),
    security((), ("oauth2" = [])),
    responses(
        (status = 200, description = "A page of centers; with `near`, nearest first, each with `distance_km`", body = dto::CenterPage,
         headers(("ETag" = String, description = "A hash of the page; send it as If-None-Match to get 304 while the page is unchanged"))),
        QueryRefused,
        (status = 401, description = "The access token is invalid (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/centers")]
pub async fn list_centers(asked: Listed<Center, CenterQuery>) -> Result<HttpResponse, ApiError> {
    let (filter, nearby) = asked.filters.read()?;
    asked
        .respond(
            CachePolicy::PublicMinute,
            move |conn, slice| match nearby {
                Some(nearby) => {
                    let (rows, total) = nearest(conn, &filter, nearby, slice)?;
                    let total = slice.total(|| Ok::<_, ApiError>(total))?;
                    Ok((rows.into_iter().map(|(c, d)| (c, Some(d))).collect::<Vec<_>>(), total))
                }
                None => {
                    let total = slice.total(|| centers::count(conn, &filter))?;
                    let rows = centers::list(conn, &filter, slice.after, slice.probe)?;
                    Ok((rows.into_iter().map(|c| (c, None)).collect(), total))
                }
            },
            |(c, _)| c.id,
            |(c, distance)| CenterResponse { distance_km: distance.map(rounded_km), ..CenterResponse::from(&c) },
        )
        .await
}

fn center_id(raw: &str) -> Result<Uuid, ApiError> {
    kit::id_param(Entity::Center, raw)
}

/// Read one center.
///
/// Public to anyone. The `ETag` is its version: send it as `If-None-Match` to hear 304 while it
/// is unchanged, or as `If-Match` on a change.
#[utoipa::path(
    tag = "centers",
    operation_id = "get_center",
    security((), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Center id"), FieldsQuery, LanguageQuery),
    responses(
        (status = 200, description = "The center (with `fields`, only those members)", body = CenterResponse, headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "The id is not a UUID (`invalid_path`), or `fields` names an unknown member or the query another parameter (`invalid_query`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The access token is invalid (`invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such center (`center_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/centers/{id}")]
pub async fn get_center(
    db: web::Data<Db>,
    id: web::Path<String>,
    chosen: Chosen<Center>,
) -> Result<HttpResponse, ApiError> {
    let id = center_id(&id)?;
    let center = with_conn(&db, move |conn| kit::find::<Center>(conn, id)).await?;
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, "public, max-age=60"));
    Ok(kit::with_fields(response, &center, CenterResponse::from(&center), &chosen.fields))
}

/// The rule of a write that needs the database, checked when the owner changes: a client names
/// its own organization (the operator any that exists).
fn check_owner(conn: &mut DbConn, actor: &Actor, owner: Uuid, before: Option<Uuid>) -> Result<(), ApiError> {
    if Some(owner) == before {
        return Ok(());
    }
    let mut errors = ValidationErrors::default();
    if !may_claim_center(actor, owner) {
        errors.add("organization_id", Text::NotYourOrganization);
    } else if organizations::find(conn, owner)?.is_none() {
        errors.add("organization_id", Message::new(Text::UnknownOrganization).with("id", owner));
    }
    errors.finish(()).map_err(ApiError::Validation)
}

fn author(actor: &Actor) -> Author {
    Author::client(actor.client_id, actor.organization_id)
}

/// Register a center of the caller's organization.
///
/// Needs `centers:write`. The center belongs to the caller's organization (`organization_id`
/// left out or naming it); the operator (`admin`) may register one for any organization.
#[utoipa::path(
    tag = "centers",
    operation_id = "create_center",
    security(("oauth2" = ["centers:write"])),
    request_body(content = dto::CenterContent, description = "The center as its organization writes it"),
    responses(
        (status = 201, description = "Registered; `Location` names it", body = CenterResponse,
         headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `centers:write` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        (status = 422, description = "A field is invalid (`validation_failed`; coordinates outside Vietnam are `out_of_range`, another organization named by a client `not_your_organization`); `errors` names each", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/centers")]
pub async fn create_center(db: web::Data<Db>, caller: CallerOf, body: JsonBody) -> Result<HttpResponse, ApiError> {
    let actor = may_create_center(&caller.0)?.clone();
    let content: CenterContent = body.parse::<dto::CenterContent>()?.into_domain(actor.organization_id);
    let valid = content.validate().map_err(ApiError::Validation)?;
    let center = Center::new(valid, techex_domain::now());
    let author = author(&actor);
    let center = with_conn(&db, move |conn| {
        check_owner(conn, &actor, center.organization_id(), Some(actor.organization_id))?;
        kit::create(conn, &center, &author, |conn| centers::insert(conn, &center))?;
        Ok(center)
    })
    .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/centers/{}", center.id)));
    Ok(kit::with_etag(response, &center, CenterResponse::from(&center)))
}

/// Change a center with a JSON merge patch.
///
/// RFC 7386: keys present replace, `null` removes, absent keys stay; the result is checked whole.
/// By the owning organization's clients with `centers:write`, or the operator; with `If-Match`,
/// the change applies only to the version named.
#[utoipa::path(
    tag = "centers",
    operation_id = "update_center",
    security(("oauth2" = ["centers:write"])),
    params(("id" = Uuid, Path, description = "Center id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|"v[0-9]+"( *, *"v[0-9]+")*)$"#, description = "The ETag last read; the change is refused with 412 if the center changed since")),
    request_body(content = Object, description = "A merge patch of the center, e.g. `{\"services\": [\"training\"], \"contact\": {\"phone\": \"+84 251 3822 124\"}}`",
                 content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed center", body = CenterResponse, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON (`malformed_json`), id (`invalid_path`) or If-Match (`invalid_header`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No `centers:write` (`insufficient_scope`), or the center belongs to another organization (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such center (`center_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A concurrent write changed the center (`edit_conflict`), or the record was mirrored from another hub and is that hub's to change (`mirrored_record`)", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        BodyRefused,
        (status = 422, description = "The changed center is invalid (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/centers/{id}")]
pub async fn update_center(target: Target<Center>, body: JsonBody) -> Result<HttpResponse, ApiError> {
    let Target { db, caller, id, if_match: expected } = target;
    let author = author(may_create_center(&caller)?);
    let patch = merge_patch_body(body)?;
    let center = with_conn(&db, move |conn| {
        kit::modify(conn, id, &author, |conn, center: &mut Center| {
            let actor = may_edit_center(&caller, center)?;
            kit::check_version(center, expected.as_deref())?;
            let before = center.organization_id();
            let content = patched(&dto::CenterContent::from(center.content.clone()), &patch)?.into_domain(before);
            let valid = content.validate().map_err(ApiError::Validation)?;
            if valid.content == center.content {
                return Ok(CenterWrite::Unchanged);
            }
            check_owner(conn, actor, valid.content.organization_id, Some(before))?;
            center.revise(valid, techex_domain::now());
            Ok(CenterWrite::Updated)
        })
    })
    .await?;
    Ok(kit::with_etag(HttpResponse::Ok(), &center, CenterResponse::from(&center)))
}

/// Delete a center.
///
/// By the owning organization's clients with `centers:write`, or the operator. It leaves the
/// directory at once (404 afterwards); the change log keeps its last representation as a
/// tombstone for partners' feeds. With `If-Match`, only the version named is deleted.
#[utoipa::path(
    tag = "centers",
    operation_id = "delete_center",
    security(("oauth2" = ["centers:write"])),
    params(("id" = Uuid, Path, description = "Center id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|"v[0-9]+"( *, *"v[0-9]+")*)$"#, description = "The ETag last read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed id (`invalid_path`) or If-Match (`invalid_header`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No `centers:write` (`insufficient_scope`), or the center belongs to another organization (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such center (`center_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A concurrent write changed the center (`edit_conflict`), or the record was mirrored from another hub and is that hub's to change (`mirrored_record`)", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
    )
)]
#[delete("/centers/{id}")]
pub async fn delete_center(target: Target<Center>) -> Result<HttpResponse, ApiError> {
    let Target { db, caller, id, if_match: expected } = target;
    let author = author(may_create_center(&caller)?);
    with_conn(&db, move |conn| {
        kit::modify(conn, id, &author, |_, center: &mut Center| {
            may_edit_center(&caller, center)?;
            kit::check_version(center, expected.as_deref())?;
            center.delete(techex_domain::now());
            Ok::<_, ApiError>(CenterWrite::Deleted)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_centers).service(create_center).service(get_center).service(update_center).service(delete_center);
}
