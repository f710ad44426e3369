//! `/v1/webhooks`: subscriptions to the changes a client may follow in the feed, pushed to its
//! URL as signed `POST`s (see [`crate::webhooks`]). Kept by clients with `changes:read` for their
//! organization; the operator sees and keeps every organization's.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, delete, get, patch, post, web};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::access::{Actor, Denied, Scope};
use techex_domain::webhook::{SECRET_BYTES, TargetRefused, URL_MAX_LENGTH, format_secret};
use techex_domain::{LifecycleAction, Message, Text, ValidationErrors};
use techex_persistence::change_log::Author;
use techex_persistence::webhooks::{self as store, Delivery, Webhook, WebhookWrite};
use techex_persistence::{Db, Entity};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::CallerOf;
use crate::error::{ApiError, BodyRefused, Problem, QueryRefused};
use crate::extract::JsonBody;
use crate::kit::{self, CachePolicy, Limit, Limits, Listable, Listed, Page, PageQuery, Resource};
use crate::query::FieldsQuery;
use crate::routes::{merge_patch_body, patched, with_conn};
use crate::webhooks::WebhookSettings;

/// The most subscriptions an organization keeps.
pub const MAX_PER_ORGANIZATION: i64 = 20;
/// The most event types a subscription names.
pub const EVENT_TYPES_MAX: usize = 20;
/// The longest event type.
pub const EVENT_TYPE_MAX_LENGTH: usize = 40;
/// The longest description.
pub const DESCRIPTION_MAX_LENGTH: usize = 500;

/// The limits of event types, which the derived schemas cannot say.
pub const LIMITS: Limits = &[
    ("WebhookContent", "event_types[]", Limit::MaxLength(EVENT_TYPE_MAX_LENGTH)),
    ("WebhookContent", "event_types[]", Limit::Pattern(r"^(\*|[a-z_]+\.(\*|[a-z_]+))$")),
    ("WebhookResponse", "event_types[]", Limit::MaxLength(EVENT_TYPE_MAX_LENGTH)),
];

/// What the change log records besides the writes named by the listing lifecycle.
/// (`alert`: a saved search's alert, queued by the alert job, never logged as a change).
const OPS: &[&str] =
    &["create", "update", "delete", "expire", "answer", "rotate_secret", "revoke", "disable", "enable", "alert"];

/// A subscription as `GET` shows it (and its change-log rows keep it): never its secret.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookResponse {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The API client that subscribed: events reach it as far as that client may follow the feed.
    pub client_id: Uuid,
    #[schema(max_length = 2000, example = "https://hooks.example.vn/techex")]
    pub url: String,
    /// `*`, `<entity>.*` or `<entity>.<op>`, as the change feed names entities and ops.
    #[schema(max_items = 20, value_type = Vec<String>, example = json!(["listing.publish", "contract.*"]))]
    pub event_types: Vec<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Off after too many consecutive failed deliveries, or by hand; `PATCH {"enabled": true}`
    /// turns it on again.
    pub enabled: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Consecutive deliveries that failed with every retry spent.
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    pub consecutive_failures: i64,
    /// Until when the secret replaced by the last rotation still signs deliveries.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    #[schema(minimum = 1, maximum = 9223372036854775807_i64)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Webhook> for WebhookResponse {
    fn from(w: &Webhook) -> Self {
        WebhookResponse {
            id: w.id,
            organization_id: w.organization_id,
            client_id: w.client_id,
            url: w.url.clone(),
            event_types: w.event_types.clone(),
            description: w.description.clone(),
            enabled: w.is_enabled(),
            disabled_at: w.disabled_at,
            consecutive_failures: w.failures,
            previous_secret_expires_at: w.previous_secret.as_ref().and(w.previous_secret_until),
            version: w.version,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

impl Resource for Webhook {
    type Public = WebhookResponse;
}

/// A subscription just made (or its secret just rotated), with its signing secret, shown this
/// once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookResponse,
    /// `whsec_` and the base64 of 32 random bytes: verify each delivery's `webhook-signature`
    /// with the decoded bytes. The hub keeps it to sign with, so it is stored as issued.
    #[schema(max_length = 50, example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// A new subscription.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookContent {
    /// Where deliveries are sent: `https://`, not into a private network (plain `http` and
    /// internal addresses only when the operator allows them).
    #[schema(max_length = 2000, example = "https://hooks.example.vn/techex")]
    pub url: String,
    #[schema(min_items = 1, max_items = 20, value_type = Vec<String>, example = json!(["listing.publish", "listing.withdraw"]))]
    pub event_types: Vec<String>,
    #[schema(max_length = 500, example = "Mirror of published listings")]
    #[serde(default)]
    pub description: Option<String>,
    /// Whether deliveries are sent (default `true`).
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

fn event_type_valid(value: &str) -> bool {
    if value == "*" {
        return true;
    }
    let Some((entity, op)) = value.split_once('.') else { return false };
    Entity::ALL.iter().any(|e| e.as_str() == entity)
        && (op == "*" || OPS.contains(&op) || LifecycleAction::ALL.iter().any(|a| a.as_str() == op))
}

impl WebhookContent {
    fn validate(mut self, settings: &WebhookSettings) -> Result<WebhookContent, ApiError> {
        let mut errors = ValidationErrors::default();
        match settings.targets.check(&self.url) {
            Ok(()) => {}
            Err(TargetRefused::TooLong | TargetRefused::Malformed) => {
                errors.add("url", Message::new(Text::WebhookUrl).with("max", URL_MAX_LENGTH))
            }
            Err(TargetRefused::NotHttps) => errors.add("url", Text::WebhookUrlNotHttps),
            Err(TargetRefused::PrivateAddress) => errors.add("url", Text::WebhookUrlInternal),
        }
        if self.event_types.is_empty() || self.event_types.len() > EVENT_TYPES_MAX {
            errors.add("event_types", Message::new(Text::EventTypesCount).with("max", EVENT_TYPES_MAX));
        }
        for (i, value) in self.event_types.iter().enumerate().take(EVENT_TYPES_MAX) {
            if value.len() > EVENT_TYPE_MAX_LENGTH || !event_type_valid(value) {
                let allowed: Vec<&str> = Entity::ALL.iter().map(|e| e.as_str()).collect();
                let shown: String = value.chars().take(EVENT_TYPE_MAX_LENGTH).collect();
                errors.add(
                    format!("event_types[{i}]"),
                    Message::new(Text::EventType).with("value", shown).with("allowed", allowed.join(", ")),
                );
            }
        }
        self.event_types.dedup();
        if let Some(description) = &self.description {
            let length = description.chars().count();
            if length > DESCRIPTION_MAX_LENGTH {
                errors.add(
                    "description",
                    Message::new(Text::TooLong).with("max", DESCRIPTION_MAX_LENGTH).with("length", length),
                );
            }
        }
        errors.finish(self).map_err(ApiError::Validation)
    }
}

fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut bytes);
    format_secret(&bytes)
}

/// The caller, who must hold `changes:read` (the operator holds every scope).
fn subscriber(caller: &CallerOf) -> Result<Actor, ApiError> {
    let actor = caller.0.as_ref().ok_or(Denied::Unauthenticated)?;
    actor.require(Scope::ChangesRead)?;
    Ok(actor.clone())
}

/// A subscription the caller may see: its organization's, or any for the operator. Another
/// organization's answers as missing, so that ids reveal nothing.
fn visible(actor: &Actor, webhook: Option<Webhook>) -> Result<Webhook, ApiError> {
    webhook
        .filter(|w| actor.is_admin() || w.organization_id == actor.organization_id)
        .ok_or(ApiError::NotFound { entity: Entity::Webhook })
}

fn id(raw: &str) -> Result<Uuid, ApiError> {
    kit::id_param(Entity::Webhook, raw)
}

fn author(actor: &Actor) -> Author {
    Author::client(actor.client_id, actor.organization_id)
}

fn secret_body(webhook: &Webhook) -> WebhookWithSecret {
    WebhookWithSecret { webhook: WebhookResponse::from(webhook), secret: webhook.secret.clone() }
}

fn no_store(mut response: HttpResponseBuilder) -> HttpResponseBuilder {
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response
}

/// Subscribe to events.
///
/// Deliveries start with the changes written after the subscription. The answer holds the
/// signing secret, shown this once. An organization keeps at most 20 subscriptions.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create_webhook",
    security(("oauth2" = ["changes:read"])),
    request_body(content = WebhookContent, example = json!({"url": "https://hooks.example.vn/techex", "event_types": ["listing.publish", "listing.withdraw"], "description": "Mirror of published listings"})),
    responses(
        (status = 201, description = "Subscribed; `secret` is shown this once", body = WebhookWithSecret),
        BodyRefused,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (`invalid_url`, `not_https`, `internal_address`, `invalid_value`, `too_many` subscriptions); `errors` names each", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    db: web::Data<Db>,
    settings: web::Data<WebhookSettings>,
    caller: CallerOf,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let actor = subscriber(&caller)?;
    let content = body.parse::<WebhookContent>()?.validate(&settings)?;
    let now = techex_domain::now();
    let webhook = Webhook {
        id: Uuid::now_v7(),
        organization_id: actor.organization_id,
        client_id: actor.client_id,
        url: content.url,
        event_types: content.event_types,
        description: content.description,
        secret: new_secret(),
        previous_secret: None,
        previous_secret_until: None,
        disabled_at: (!content.enabled).then_some(now),
        failures: 0,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let author = author(&actor);
    let webhook = with_conn(&db, move |conn| {
        if store::count(conn, Some(actor.organization_id))? >= MAX_PER_ORGANIZATION {
            let too_many = Message::new(Text::TooManyWebhooks).with("max", MAX_PER_ORGANIZATION);
            return Err(ApiError::Validation(ValidationErrors::single("", too_many)));
        }
        kit::create(conn, &webhook, &author, |conn| store::insert(conn, &webhook))?;
        Ok(webhook)
    })
    .await?;
    let mut response = no_store(HttpResponse::Created());
    response.insert_header((header::LOCATION, format!("/v1/webhooks/{}", webhook.id)));
    Ok(response.json(secret_body(&webhook)))
}

/// A page of subscriptions.
pub type WebhookPage = Page<WebhookResponse>;

/// List subscriptions.
///
/// The organization's subscriptions, in the order they were made; the operator sees everyone's.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhooks",
    params(PageQuery, FieldsQuery),
    security(("oauth2" = ["changes:read"])),
    responses(
        (status = 200, description = "A page of subscriptions; `next_cursor` (and the `Link` header) lead to the next one", body = WebhookPage),
        QueryRefused,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(caller: CallerOf, asked: Listed<Webhook>) -> Result<HttpResponse, ApiError> {
    let actor = subscriber(&caller)?;
    let organization = (!actor.is_admin()).then_some(actor.organization_id);
    let store = kit::OwnedStore { count: store::count, list: store::list };
    asked.respond_owned(store, organization, |w| w.id, |w| WebhookResponse::from(&w)).await
}

/// Read a subscription.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "get_webhook",
    security(("oauth2" = ["changes:read"])),
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription (without its secret)", body = WebhookResponse),
        (status = 400, description = "The id is not a UUID (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription in the caller's organization (`webhook_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    db: web::Data<Db>,
    caller: CallerOf,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = subscriber(&caller)?;
    let id = id(&path)?;
    let webhook = with_conn(&db, move |conn| visible(&actor, store::find(conn, id)?)).await?;
    Ok(kit::with_etag(HttpResponse::Ok(), &webhook, WebhookResponse::from(&webhook)))
}

/// Change a subscription with a JSON merge patch.
///
/// `url`, `event_types`, `description` and `enabled`; `{"enabled": true}` turns on a
/// subscription that was turned off (by hand or after failed deliveries) and resets its count
/// of failures; its pending deliveries are then sent.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "update_webhook",
    security(("oauth2" = ["changes:read"])),
    params(("id" = Uuid, Path, description = "Subscription id")),
    request_body(content = Object, description = "A merge patch of the subscription, e.g. `{\"enabled\": true}`",
                 content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The subscription as changed", body = WebhookResponse),
        (status = 400, description = "Malformed JSON (`malformed_json`) or id (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription in the caller's organization (`webhook_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid; `errors` names each", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    db: web::Data<Db>,
    settings: web::Data<WebhookSettings>,
    caller: CallerOf,
    path: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let actor = subscriber(&caller)?;
    let id = id(&path)?;
    let patch = merge_patch_body(body)?;
    let settings = settings.into_inner();
    let author = author(&actor);
    let webhook = with_conn(&db, move |conn| {
        visible(&actor, store::find(conn, id)?)?;
        kit::modify(conn, id, &author, |_, webhook: &mut Webhook| {
            let current = WebhookContent {
                url: webhook.url.clone(),
                event_types: webhook.event_types.clone(),
                description: webhook.description.clone(),
                enabled: webhook.is_enabled(),
            };
            let content = patched(&current, &patch)?.validate(&settings)?;
            let now = techex_domain::now();
            let write = match (current.enabled, content.enabled) {
                (false, true) => WebhookWrite::Enabled,
                (true, false) => WebhookWrite::Disabled,
                _ if content.url != current.url
                    || content.event_types != current.event_types
                    || content.description != current.description =>
                {
                    WebhookWrite::Updated
                }
                _ => return Ok(WebhookWrite::Unchanged),
            };
            webhook.url = content.url;
            webhook.event_types = content.event_types;
            webhook.description = content.description;
            webhook.disabled_at = if content.enabled { None } else { webhook.disabled_at.or(Some(now)) };
            if write == WebhookWrite::Enabled {
                webhook.failures = 0;
            }
            webhook.version += 1;
            webhook.updated_at = now;
            Ok::<_, ApiError>(write)
        })
    })
    .await?;
    Ok(kit::with_etag(HttpResponse::Ok(), &webhook, WebhookResponse::from(&webhook)))
}

/// Delete a subscription, with its deliveries.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "delete_webhook",
    security(("oauth2" = ["changes:read"])),
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a UUID (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription in the caller's organization (`webhook_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    db: web::Data<Db>,
    caller: CallerOf,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = subscriber(&caller)?;
    let id = id(&path)?;
    let author = author(&actor);
    with_conn(&db, move |conn| {
        visible(&actor, store::find(conn, id)?)?;
        kit::modify(conn, id, &author, |_, webhook: &mut Webhook| {
            webhook.version += 1;
            webhook.updated_at = techex_domain::now();
            Ok::<_, ApiError>(WebhookWrite::Deleted)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate the signing secret.
///
/// The answer holds the new secret, shown this once. For 24 hours the previous secret still
/// signs too: each delivery carries both signatures in `webhook-signature`, so receivers can
/// switch over without missing one.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "rotate_webhook_secret",
    security(("oauth2" = ["changes:read"])),
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The new secret, shown this once", body = WebhookWithSecret),
        (status = 400, description = "The id is not a UUID (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription in the caller's organization (`webhook_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    db: web::Data<Db>,
    settings: web::Data<WebhookSettings>,
    caller: CallerOf,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = subscriber(&caller)?;
    let id = id(&path)?;
    let overlap = settings.rotation_overlap;
    let author = author(&actor);
    let webhook = with_conn(&db, move |conn| {
        visible(&actor, store::find(conn, id)?)?;
        kit::modify(conn, id, &author, |_, webhook: &mut Webhook| {
            let now = techex_domain::now();
            webhook.previous_secret = Some(std::mem::replace(&mut webhook.secret, new_secret()));
            webhook.previous_secret_until = Some(now + overlap);
            webhook.version += 1;
            webhook.updated_at = now;
            Ok::<_, ApiError>(WebhookWrite::SecretRotated)
        })
    })
    .await?;
    Ok(no_store(HttpResponse::Ok()).json(secret_body(&webhook)))
}

/// One attempt at a delivery.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttemptResponse {
    /// 1 for the first attempt.
    #[schema(minimum = 1, maximum = 9223372036854775807_i64)]
    pub attempt: i64,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    #[schema(minimum = 100, maximum = 599)]
    pub status_code: Option<u16>,
    /// Why the attempt failed (no answer, a timeout, an error status).
    #[schema(max_length = 300)]
    pub error: Option<String>,
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    pub duration_ms: i64,
}

/// An event sent (or to be sent) to a subscription.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryResponse {
    /// Also the `webhook-id` header of every attempt: receivers drop an id seen before.
    pub id: Uuid,
    #[schema(max_length = 40, example = "listing.publish")]
    pub event_type: String,
    /// `pending` (waiting for an attempt), `delivered` or `failed` (retries spent).
    #[schema(max_length = 10, example = "delivered")]
    pub status: String,
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    pub attempts: i64,
    /// When a pending delivery is tried next.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The latest attempts (at most 20), oldest first.
    #[schema(max_items = 20)]
    pub attempt_log: Vec<AttemptResponse>,
}

impl From<Delivery> for DeliveryResponse {
    fn from(d: Delivery) -> Self {
        DeliveryResponse {
            id: d.id,
            event_type: d.event_type,
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            finished_at: d.finished_at,
            attempt_log: d
                .attempt_log
                .into_iter()
                .map(|a| AttemptResponse {
                    attempt: a.attempt,
                    at: a.at,
                    status_code: a.status_code,
                    error: a.error,
                    duration_ms: a.duration_ms,
                })
                .collect(),
        }
    }
}

impl Listable for Delivery {
    type Public = DeliveryResponse;
}

/// A page of deliveries, newest first.
pub type DeliveryPage = Page<DeliveryResponse>;

/// The delivery log of a subscription.
///
/// Newest first, each delivery with its attempts: when, the receiver's status or the error, and
/// how long it took.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhook_deliveries",
    params(("id" = Uuid, Path, description = "Subscription id"), PageQuery, FieldsQuery),
    security(("oauth2" = ["changes:read"])),
    responses(
        (status = 200, description = "A page of deliveries, newest first; `next_cursor` (and the `Link` header) lead to the next one", body = DeliveryPage),
        QueryRefused,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription in the caller's organization (`webhook_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    caller: CallerOf,
    path: web::Path<String>,
    asked: Listed<Delivery>,
) -> Result<HttpResponse, ApiError> {
    let actor = subscriber(&caller)?;
    let id = id(&path)?;
    asked
        .respond(
            CachePolicy::Private,
            move |conn, slice| {
                visible(&actor, store::find(conn, id)?)?;
                let total = slice.total(|| store::count_deliveries(conn, id))?;
                Ok((store::deliveries(conn, id, slice.after, slice.probe)?, total))
            },
            |d| d.id,
            DeliveryResponse::from,
        )
        .await
}

/// Send a delivery again.
///
/// Makes the delivery due now, whatever became of it (a replay after a receiver's outage, or a
/// retry of a failed one); it keeps its id, so a receiver that took it before can tell.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "retry_webhook_delivery",
    security(("oauth2" = ["changes:read"])),
    params(("id" = Uuid, Path, description = "Subscription id"), ("delivery_id" = Uuid, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "The delivery is due again"),
        (status = 400, description = "The id is not a UUID (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription in the caller's organization (`webhook_not_found`), or no such delivery of it (`delivery_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_webhook_delivery(
    db: web::Data<Db>,
    caller: CallerOf,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let actor = subscriber(&caller)?;
    let id = id(&path.0)?;
    let delivery: Uuid = path.1.parse().map_err(|_| ApiError::DeliveryNotFound)?;
    with_conn(&db, move |conn| {
        visible(&actor, store::find(conn, id)?)?;
        if store::retry(conn, id, delivery, techex_domain::now())? { Ok(()) } else { Err(ApiError::DeliveryNotFound) }
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// The most deliveries one replay looks at.
pub const REPLAY_MAX: i64 = 1000;

/// Which events to replay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Replay the events queued for the subscription at or after this instant (RFC 3339).
    #[schema(value_type = String, format = DateTime, max_length = 35, example = "2026-11-28T00:00:00Z")]
    #[serde(default, deserialize_with = "kit::optional_body_timestamp")]
    pub since: Option<DateTime<Utc>>,
    /// To go on with a replay that had `more`: its `next_after`.
    #[schema(value_type = Option<Uuid>)]
    #[serde(default, deserialize_with = "kit::optional_body_id")]
    pub after: Option<Uuid>,
    /// The most deliveries to look at, 1 to 1000 (default 1000).
    #[schema(minimum = 1, maximum = 1000, example = 1000)]
    #[serde(default)]
    pub limit: Option<i64>,
}

/// What a replay did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReplayResponse {
    /// Deliveries made due again.
    #[schema(minimum = 0, maximum = 1000)]
    pub replayed: i64,
    /// Whether later deliveries remain: replay again with `after` set to `next_after`.
    pub more: bool,
    /// The last delivery looked at.
    pub next_after: Option<Uuid>,
}

/// Replay the events since an instant.
///
/// Makes every delivery queued for the subscription at or after `since` due again, oldest first,
/// whatever became of it: delivered, failed, or waiting while the subscription was off (the
/// hub queues a subscription's events while it is off, so none is lost). Each keeps its id, the
/// `webhook-id` receivers de-duplicate by; nothing is copied, so the same request sent twice
/// before the worker sends them queues each delivery once. Events the subscription no longer
/// takes, and contracts once its client lost `contracts:read`, are not sent again. One request
/// looks at 1,000 deliveries at most; `more` says whether to go on with `after`. Deliveries go
/// out while the subscription is on: turn it on with `PATCH {"enabled": true}`.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "replay_webhook",
    security(("oauth2" = ["changes:read"])),
    params(("id" = Uuid, Path, description = "Subscription id")),
    request_body(content = ReplayRequest, example = json!({"since": "2026-11-28T00:00:00Z"})),
    responses(
        (status = 202, description = "The deliveries are due again", body = ReplayResponse,
         example = json!({"replayed": 3, "more": false, "next_after": "0199a1b2-0000-7000-8000-000000000001"})),
        BodyRefused,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription in the caller's organization (`webhook_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`since` is missing (`required`) or `limit` out of range (`out_of_range`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/replay")]
pub async fn replay_webhook(
    db: web::Data<Db>,
    caller: CallerOf,
    path: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let actor = subscriber(&caller)?;
    let id = id(&path)?;
    let asked = body.parse::<ReplayRequest>()?;
    let mut errors = ValidationErrors::default();
    if asked.since.is_none() {
        errors.add("since", Text::Required);
    }
    let limit = asked.limit.unwrap_or(REPLAY_MAX);
    if !(1..=REPLAY_MAX).contains(&limit) {
        errors.add("limit", Message::new(Text::PageLimit).with("max", REPLAY_MAX));
    }
    let since = errors.finish(asked.since).map_err(ApiError::Validation)?.unwrap_or_default();
    let replayed = with_conn(&db, move |conn| {
        let webhook = visible(&actor, store::find(conn, id)?)?;
        // As the relay judges a subscriber: contracts only while its client may read them.
        let client = techex_persistence::clients::find(conn, webhook.client_id)?;
        let contracts =
            client.is_some_and(|c| c.scopes.contains(&Scope::ContractsRead) || c.scopes.contains(&Scope::Admin));
        let keep = |event_type: &str| {
            webhook.wants(event_type)
                && (contracts || !event_type.starts_with(&format!("{}.", Entity::Contract.as_str())))
        };
        Ok(store::replay(conn, id, since, asked.after, limit, techex_domain::now(), keep)?)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(ReplayResponse {
        replayed: replayed.replayed,
        more: replayed.more,
        next_after: replayed.last,
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_webhook_secret)
        .service(list_webhook_deliveries)
        .service(retry_webhook_delivery)
        .service(replay_webhook);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_name_known_entities_and_ops() {
        for good in [
            "*",
            "listing.*",
            "listing.publish",
            "contract.update",
            "webhook.disable",
            "api_client.revoke",
            "search.alert",
            "search.*",
        ] {
            assert!(event_type_valid(good), "{good}");
        }
        for bad in ["", "listing", "listing.", "listings.publish", "listing.fly", ".publish", "*.publish"] {
            assert!(!event_type_valid(bad), "{bad}");
        }
    }
}
