//! `/v1/changes`: the change feed partners mirror the hub by, and `/v1/admin/audit`: the same
//! log as the operator's audit trail.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::access::{Denied, Scope};
use techex_domain::{Message, Text, ValidationErrors};
use techex_persistence::change_log::{self, AuditQuery, Change, FeedPosition, FeedQuery, Reader};
use techex_persistence::{Db, Entity};
use tokio::sync::Semaphore;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::CallerOf;
use crate::error::{ApiError, Problem, QueryRefused};
use crate::kit::Operator;
use crate::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::query::Query;
use crate::routes::with_conn;

/// The most changes one feed page holds.
pub const FEED_MAX_LIMIT: i64 = 1000;
/// The longest feed position: base64url of `c1:`, two 20-digit numbers and a colon.
pub const FEED_CURSOR_MAX: usize = 60;
const FEED_CURSOR_PREFIX: &str = "c1:";

pub fn encode_position(position: FeedPosition) -> String {
    URL_SAFE_NO_PAD.encode(format!("{FEED_CURSOR_PREFIX}{}:{}", position.txid, position.seq))
}

fn decode_position(raw: &str) -> Option<FeedPosition> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (txid, seq) = text.strip_prefix(FEED_CURSOR_PREFIX)?.split_once(':')?;
    let position = FeedPosition { txid: txid.parse().ok()?, seq: seq.parse().ok()? };
    (position.txid >= 0 && position.seq >= 0).then_some(position)
}

/// Reads a limit between 1 and `max` (`default` when absent).
fn limit(raw: Option<&str>, default: i64, max: i64, errors: &mut ValidationErrors) -> i64 {
    match raw.map(str::parse::<i64>) {
        None => default,
        Some(Ok(n)) if (1..=max).contains(&n) => n,
        Some(Ok(_)) => {
            errors.add("limit", Message::new(Text::PageLimit).with("max", max));
            default
        }
        Some(Err(_)) => {
            errors.add_as("limit", "invalid_format", Message::new(Text::PageLimit).with("max", max));
            default
        }
    }
}

/// The kinds of records named by `entity`, each known.
fn entities(names: &[String], errors: &mut ValidationErrors) -> Vec<&'static str> {
    let mut chosen = Vec::new();
    for name in names {
        match Entity::ALL.iter().find(|e| e.as_str() == name) {
            Some(entity) if !chosen.contains(&entity.as_str()) => chosen.push(entity.as_str()),
            Some(_) => {}
            None => {
                let allowed: Vec<&str> = Entity::ALL.iter().map(|e| e.as_str()).collect();
                errors.add("entity", Message::new(Text::OneOf).with("allowed", allowed.join(", ")));
            }
        }
    }
    chosen
}

fn instant(raw: Option<&str>, name: &str, errors: &mut ValidationErrors) -> Option<DateTime<Utc>> {
    raw.and_then(|value| match value.parse::<DateTime<Utc>>() {
        Ok(at) if value.len() <= crate::kit::TIMESTAMP_MAX_LENGTH => Some(at),
        _ => {
            errors.add(name, Text::DateTimeValue);
            None
        }
    })
}

/// Where to read the feed from, and what.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// The `next_cursor` of the previous page; absent: from the first change ever recorded.
    #[param(min_length = 1, max_length = 60)]
    after: Option<String>,
    /// Changes per page, 1 to 1000 (default 100).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000, example = 100)]
    limit: Option<String>,
    /// Only changes of these kinds of records.
    #[param(value_type = Vec<FeedEntity>, style = Form, explode, max_items = 8, example = json!(["listing"]))]
    #[serde(default)]
    entity: Vec<String>,
}

/// The kinds of records the change log holds.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // documents the vocabulary; the values are read as text
enum FeedEntity {
    Listing,
    Organization,
    ApiClient,
    Interest,
    Contract,
    Center,
    Webhook,
    Search,
}

/// One write, as the feed hands it out.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedChange {
    /// The change's number in the log. Numbers grow, but the feed's order is its own (see
    /// `GET /v1/changes`): resume with `next_cursor`, not with a number.
    #[schema(minimum = 1, maximum = 9223372036854775807_i64)]
    pub seq: i64,
    #[schema(value_type = FeedEntity)]
    pub entity: String,
    /// The record's id.
    #[schema(max_length = 36)]
    pub id: String,
    /// What happened: `create`, `update`, `delete`, or a lifecycle move (`submit`, `publish`,
    /// `reject`, `withdraw`, `close`, `restore`, `expire`) and, for API clients, `rotate_secret`
    /// or `revoke`.
    #[schema(max_length = 20, example = "publish")]
    pub op: String,
    /// The record's version after the write; apply a change only over an older one.
    #[schema(minimum = 1, maximum = 9223372036854775807_i64)]
    pub version: i64,
    pub at: DateTime<Utc>,
    /// The record as it is after the write, as `GET` shows it to the operator. After `delete`,
    /// `withdraw`, `close` or `expire` it is a tombstone: its last state, which a mirror
    /// takes down.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<Change> for FeedChange {
    fn from(change: Change) -> Self {
        FeedChange {
            seq: change.seq,
            entity: change.entity,
            id: change.entity_id,
            op: change.op,
            version: change.version,
            at: change.at,
            data: change.data,
        }
    }
}

/// A page of the feed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeFeed {
    /// The changes after `after`, in feed order; fewer than `limit` (or none) when the reader has
    /// caught up.
    #[schema(max_items = 1000)]
    pub items: Vec<FeedChange>,
    /// Where to resume: pass it as `after` next time, whether or not this page held changes.
    #[schema(max_length = 60)]
    pub next_cursor: String,
}

/// Follow the change feed.
///
/// Every write to the records a partner may see, in one order that never changes: a reader that
/// resumes from the `next_cursor` it was given sees every change exactly once, however writes
/// interleave, including concurrent transactions that commit out of the order of their numbers
/// (a change appears only once no earlier one can still commit). A mirror applies each change
/// whose `version` is newer than the one it holds.
///
/// Partners (`changes:read`) see organizations and published listings, and the move that takes a
/// listing off the market (its tombstone); drafts and listings under review never appear. The
/// operator sees every change.
#[utoipa::path(
    tag = "changes",
    operation_id = "list_changes",
    params(FeedParams,
           ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag from an earlier read of this page; answered 304 while no change the caller may see follows its cursor")),
    security(("oauth2" = ["changes:read"])),
    responses(
        (status = 200, description = "Changes after `after`, oldest first", body = ChangeFeed,
         headers(("ETag" = String, description = "Names the page for this caller: the same tag as long as it holds the same changes"))),
        (status = 304, description = "No change since the page whose ETag is in If-None-Match"),
        (status = 400, description = "A query parameter is invalid (`invalid_query`; `errors` names each), or If-None-Match is longer than 400 characters (`invalid_header`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `changes:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/changes")]
pub async fn list_changes(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: CallerOf,
    params: Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    if req.headers().get(header::IF_NONE_MATCH).is_some_and(|v| v.len() > crate::etag::IF_MATCH_MAX_LENGTH) {
        return Err(ApiError::InvalidHeader(Text::IfNoneMatchTooLong));
    }
    let actor = caller.0.as_ref().ok_or(Denied::Unauthenticated)?;
    let reader = if actor.is_admin() {
        Reader::Operator
    } else {
        actor.require(Scope::ChangesRead)?;
        Reader::Organization(actor.organization_id)
    };
    let params = params.0;
    let mut errors = ValidationErrors::default();
    let after = match params.after.as_deref() {
        None => FeedPosition::default(),
        Some(raw) => decode_position(raw).unwrap_or_else(|| {
            errors.add("after", Text::InvalidCursor);
            FeedPosition::default()
        }),
    };
    let limit = limit(params.limit.as_deref(), 100, FEED_MAX_LIMIT, &mut errors);
    let mut entities = entities(&params.entity, &mut errors);
    errors.finish(()).map_err(ApiError::InvalidQuery)?;
    // Contracts, also the organization's own, need `contracts:read` besides the feed's scope.
    if !actor.has(Scope::ContractsRead) && !actor.is_admin() {
        if entities.is_empty() {
            entities = Entity::ALL.iter().map(|e| e.as_str()).collect();
        }
        entities.retain(|e| *e != Entity::Contract.as_str());
        if entities.is_empty() {
            let next_cursor = encode_position(after);
            return Ok(HttpResponse::Ok()
                .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-cache"))
                .json(ChangeFeed { items: Vec::new(), next_cursor }));
        }
    }
    let mut tag = page_tag_seed(&reader, &entities, after);
    let query = FeedQuery { after, limit, entities, reader };
    let _budget = FEED_BUDGET.acquire_many(limit as u32).await.expect("the feed's budget is never closed");
    // Read and written on the blocking thread: the worker's event loop never spends the
    // milliseconds a large page takes, and the rows are dropped before the page is sent.
    let (page, next) = with_conn(&db, move |conn| {
        let changes = change_log::feed(conn, &query)?;
        let next = changes.last().map_or(after, |(position, _)| *position);
        Ok((feed_page(changes.iter().map(|(_, change)| change), &encode_position(next)), next))
    })
    .await?;
    tag.update(&next.txid.to_le_bytes()).update(&next.seq.to_le_bytes());
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((actix_web::http::header::ETAG, crate::etag::of_digest(&tag)))
        .insert_header(actix_web::http::header::ContentType::json())
        .body(page))
}

/// A page's tag is made from what determines the page rather than from its bytes (hashing 2 MB
/// took a tenth of the server's CPU on a feed pull): the changes a reader sees after `after` up
/// to the page's last position never change once handed out (see [`change_log::feed`]), and
/// the log's records are never rewritten. So the reader, the kinds of records and the two
/// positions name the page; the server's version stands for how it is written. The page's last
/// position is added once read.
fn page_tag_seed(reader: &Reader, entities: &[&str], after: FeedPosition) -> blake3::Hasher {
    let mut seed = blake3::Hasher::new();
    seed.update(concat!("feed page, techex ", env!("CARGO_PKG_VERSION"), "|").as_bytes());
    match reader {
        Reader::Operator => seed.update(b"operator|"),
        Reader::Organization(id) => seed.update(id.as_bytes()),
    };
    seed.update(entities.join(",").as_bytes()).update(b"|");
    seed.update(&after.txid.to_le_bytes()).update(&after.seq.to_le_bytes());
    seed
}

/// Changes read and written into pages at once, server-wide: two pages of the most changes.
/// A page of 1,000 is ~2 MB of rows (libpq's result and our copy) and ~2 MB of text; sixteen
/// readers held up to ten such pages at once (one per pooled connection). Two at once keep both
/// cores of a small server busy; the others wait their turn, first come, first served.
static FEED_BUDGET: Semaphore = Semaphore::const_new(2 * FEED_MAX_LIMIT as usize);

/// A [`ChangeFeed`] as JSON, each change's stored `data` text spliced in as it is: parsing and
/// re-serializing a thousand records per page was most of the feed's cost. The heads are written
/// straight into the page too (serializing each into a string of its own came next).
fn feed_page<'a>(changes: impl Iterator<Item = &'a change_log::FeedChange> + Clone, next_cursor: &str) -> String {
    use std::fmt::Write;
    let size = changes.clone().map(|c| c.data.len() + c.entity_id.len() + 120).sum::<usize>();
    let mut body = String::with_capacity(size + 80);
    body.push_str(r#"{"items":["#);
    for (i, c) in changes.enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(r#"{"seq":"#);
        write!(body, "{}", c.seq).expect("writing to a String succeeds");
        body.push_str(r#","entity":"#);
        json_string(&mut body, &c.entity);
        body.push_str(r#","id":"#);
        json_string(&mut body, &c.entity_id);
        body.push_str(r#","op":"#);
        json_string(&mut body, &c.op);
        // `at` as serde writes a `DateTime<Utc>`: RFC 3339, the digits of the fraction it needs, `Z`.
        write!(body, r#","version":{},"at":"{:?}","data":"#, c.version, c.at).expect("writing to a String succeeds");
        body.push_str(&c.data);
        body.push('}');
    }
    body.push_str(r#"],"next_cursor":"#);
    json_string(&mut body, next_cursor);
    body.push('}');
    body
}

/// Appends `text` as a JSON string. The log's names, ids and cursors need no escaping; anything
/// else goes through serde.
fn json_string(body: &mut String, text: &str) {
    if text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')) {
        body.push('"');
        body.push_str(text);
        body.push('"');
    } else {
        body.push_str(&serde_json::to_string(text).expect("a string serializes"));
    }
}

/// What the audit trail shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Who wrote: `client:<id>`, `cli` or `system`.
    #[param(max_length = 43, example = "cli")]
    actor: Option<String>,
    /// The organization a write was made for.
    #[param(value_type = Option<Uuid>)]
    organization: Option<String>,
    #[param(value_type = Option<FeedEntity>)]
    entity: Option<String>,
    /// One record's id.
    #[param(value_type = Option<Uuid>)]
    entity_id: Option<String>,
    /// Writes at or after this instant (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    since: Option<String>,
    /// Writes before this instant (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    until: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 20)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1, max_length = 52)]
    cursor: Option<String>,
}

/// One write in the audit trail.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    #[serde(flatten)]
    pub change: FeedChange,
    /// Who wrote: `client:<id>`, `cli` (the command line) or `system` (the hub itself).
    #[schema(max_length = 43)]
    pub actor: Option<String>,
    /// The organization the write was made for.
    pub actor_organization: Option<Uuid>,
}

/// A page of the audit trail, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditTrail {
    #[schema(max_items = 100)]
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(max_length = 52)]
    pub next_cursor: Option<String>,
}

/// Read the audit trail (operator only).
///
/// Every write of every record, newest first, with who made it and for which organization;
/// filter by actor, organization, kind of record, record and period.
#[utoipa::path(
    tag = "changes",
    operation_id = "list_audit",
    params(AuditParams),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "A page of writes, newest first", body = AuditTrail),
        QueryRefused,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `admin` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/audit")]
pub async fn list_audit(operator: Operator, params: Query<AuditParams>) -> Result<HttpResponse, ApiError> {
    let params = params.0;
    let mut errors = ValidationErrors::default();
    let limit = limit(params.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT, &mut errors);
    let before_seq = params.cursor.as_deref().and_then(|raw| {
        let seq = decode_position(raw).map(|p| p.seq);
        if seq.is_none() {
            errors.add("cursor", Text::InvalidCursor);
        }
        seq
    });
    let organization =
        crate::kit::query_id(params.organization.as_deref(), "organization", Text::NotOrganizationId, &mut errors);
    let entity_id = params.entity_id.as_deref().and_then(|raw| match raw.parse::<Uuid>() {
        Ok(id) if raw.len() <= crate::kit::ID_MAX_LENGTH => Some(id),
        _ => {
            errors.add("entity_id", Text::IdValue);
            None
        }
    });
    let entity = entities(params.entity.as_slice(), &mut errors).first().copied();
    let since = instant(params.since.as_deref(), "since", &mut errors);
    let until = instant(params.until.as_deref(), "until", &mut errors);
    errors.finish(()).map_err(ApiError::InvalidQuery)?;
    let query = AuditQuery {
        actor: params.actor,
        organization: organization.map(|id| id.to_string()),
        entity,
        entity_id: entity_id.map(|id| id.to_string()),
        since,
        until,
        before_seq,
        limit: limit + 1,
    };
    let mut changes = with_conn(&operator.db, move |conn| Ok(change_log::audit(conn, &query)?)).await?;
    let next_cursor = if changes.len() as i64 > limit {
        changes.truncate(limit as usize);
        changes.last().map(|c| encode_position(FeedPosition { txid: 0, seq: c.seq }))
    } else {
        None
    };
    let items = changes
        .into_iter()
        .map(|change| AuditEntry {
            actor: change.actor.clone(),
            actor_organization: change.actor_organization.as_deref().and_then(|id| id.parse().ok()),
            change: change.into(),
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-cache"))
        .json(AuditTrail { items, next_cursor }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_changes).service(list_audit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_survive_their_encoding_and_the_longest_fits_the_limit() {
        for position in
            [FeedPosition::default(), FeedPosition { txid: 7, seq: 12 }, FeedPosition { txid: i64::MAX, seq: i64::MAX }]
        {
            let encoded = encode_position(position);
            assert!(encoded.len() <= FEED_CURSOR_MAX, "{encoded}");
            assert_eq!(decode_position(&encoded), Some(position));
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// A feed cursor comes from the client: any text is a position or none (then
            /// `invalid_cursor`), never a panic, and a position read is one the hub could
            /// have handed out.
            #[test]
            fn any_feed_cursor_is_read_without_panic(raw in ".{0,80}") {
                if let Some(position) = decode_position(&raw) {
                    prop_assert!(position.txid >= 0 && position.seq >= 0);
                    prop_assert_eq!(decode_position(&encode_position(position)), Some(position));
                }
            }

            #[test]
            fn feed_positions_round_trip(txid in 0..=i64::MAX, seq in 0..=i64::MAX) {
                let position = FeedPosition { txid, seq };
                let encoded = encode_position(position);
                prop_assert!(encoded.len() <= FEED_CURSOR_MAX);
                prop_assert_eq!(decode_position(&encoded), Some(position));
            }

            /// Text made to look like a cursor: the prefix, then anything.
            #[test]
            fn forged_feed_cursors_are_read_without_panic(rest in ".{0,40}") {
                let raw = URL_SAFE_NO_PAD.encode(format!("{FEED_CURSOR_PREFIX}{rest}"));
                if let Some(position) = decode_position(&raw) {
                    prop_assert!(position.txid >= 0 && position.seq >= 0);
                }
            }
        }
    }

    #[test]
    fn the_documented_kinds_of_records_are_those_the_log_holds() {
        let schema = serde_json::to_value(<FeedEntity as utoipa::PartialSchema>::schema()).unwrap();
        let documented: Vec<&str> = schema["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(documented, Entity::ALL.map(Entity::as_str));
    }

    #[test]
    fn a_spliced_page_reads_as_the_serialized_feed() {
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 28, 9, 30, 15).unwrap();
        let data = serde_json::json!({"title": {"vi": "Máy sấy \"bơm nhiệt\"\n"}, "trl": 7, "tags": [], "x": null});
        let stored = change_log::FeedChange {
            seq: 42,
            entity: "listing".to_owned(),
            entity_id: "0199a1b2-0000-7000-8000-000000000001".to_owned(),
            op: "publish".to_owned(),
            version: 3,
            at: at + chrono::Duration::nanoseconds(123_456_789),
            data: data.to_string(),
        };
        let cursor = encode_position(FeedPosition { txid: 9, seq: 42 });
        // Instants with no fraction or a shorter one, and an id only serde can write.
        let whole = change_log::FeedChange { at, entity_id: "odd \"id\"\n".to_owned(), ..stored.clone() };
        let millis = change_log::FeedChange { at: at + chrono::Duration::milliseconds(5), ..stored.clone() };
        for changes in [vec![], vec![stored.clone()], vec![stored.clone(), stored.clone()], vec![whole, millis]] {
            let page = feed_page(changes.iter(), &cursor);
            let expected = ChangeFeed {
                items: changes
                    .iter()
                    .map(|c| FeedChange {
                        seq: c.seq,
                        entity: c.entity.clone(),
                        id: c.entity_id.clone(),
                        op: c.op.clone(),
                        version: c.version,
                        at: c.at,
                        data: data.clone(),
                    })
                    .collect(),
                next_cursor: cursor.clone(),
            };
            assert_eq!(page, serde_json::to_string(&expected).unwrap());
        }
    }

    #[test]
    fn malformed_positions_are_refused() {
        let encode = |text: &str| URL_SAFE_NO_PAD.encode(text);
        for bad in
            [encode("c1:1"), encode("c1:-1:2"), encode("v1:1:2"), encode("c1:x:2"), "!!".to_owned(), String::new()]
        {
            assert_eq!(decode_position(&bad), None, "{bad}");
        }
    }
}
