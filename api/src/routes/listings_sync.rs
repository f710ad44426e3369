//! Portal sync: a portal pushes the listings it already holds, under its own ids, every night,
//! without creating any twice. `PUT /v1/listings/by-source/{exchange}/{external_id}` creates or
//! updates one; `POST /v1/listings/batch` does up to 1,000 such pushes and lifecycle moves, each
//! on its own. The rules of a listing are those of [`crate::routes::listings`].

use std::collections::{HashMap, HashSet};

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, post, put, web};
use chrono::{DateTime, Utc};
use techex_domain::access::{self, Actor, Caller, lifecycle_action};
use techex_domain::listing::{EXTERNAL_ID_MAX, Source, ValidContent};
use techex_domain::values::is_exchange_code;
use techex_domain::{
    Lang, LifecycleAction, Listing, ListingContent, ListingId, ListingStatus, Message, RestorePeriod, Text,
    ValidationErrors,
};
use techex_persistence::change_log::Author;
use techex_persistence::listings::{self, ListingWrite};
use techex_persistence::{Constraint, Db, DbConn, Entity, bulk, db};

use crate::auth::CallerOf;
use crate::clock::Clock;
use crate::error::{ApiError, BodyRefused, Problem, StaleVersion};
use crate::extract::{JsonBody, RawBody, from_value, parse_json};
use crate::kit;
use crate::kit::Resource;
use crate::routes::listings::{Holders, ListingResponse, author, check_claims, move_in, with_etag};
use crate::routes::listings_dto as dto;
use crate::routes::listings_sync_dto::{
    BATCH_BODY_LIMIT, BATCH_MAX_ITEMS, BatchItem, BatchItemResult, BatchOp, BatchRequest, BatchResponse, SyncResult,
};
use crate::routes::with_conn;

/// The response header naming what a create-or-update did: `created`, `updated` or `unchanged`.
pub const SYNC_RESULT: HeaderName = HeaderName::from_static("sync-result");

/// A source record named by a path or a batch item, checked as the domain checks a listing's
/// `source` (so that what is looked up is what is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceRecord {
    pub exchange: String,
    pub external_id: String,
}

impl SourceRecord {
    /// The record, or the problems of its parts, each named `prefix` + part.
    fn parse(exchange: &str, external_id: &str, prefix: &str, errors: &mut ValidationErrors) -> Option<Self> {
        let mut fine = true;
        if !is_exchange_code(exchange) {
            errors.add(format!("{prefix}exchange"), Message::new(Text::ExchangePath).with("value", exchange));
            fine = false;
        }
        let length = external_id.chars().count();
        if length == 0
            || length > EXTERNAL_ID_MAX
            || external_id.trim() != external_id
            || external_id.chars().any(char::is_control)
        {
            errors.add(format!("{prefix}external_id"), Message::new(Text::ExternalIdPath).with("value", external_id));
            fine = false;
        }
        fine.then(|| SourceRecord { exchange: exchange.to_owned(), external_id: external_id.to_owned() })
    }

    fn is_of(&self, source: &Source) -> bool {
        source.exchange == self.exchange && source.external_id == self.external_id
    }
}

/// What one sync needs beyond its item: who writes, when, and which exchanges hold which
/// records (looked up once per exchange in a batch). A batch also reads the listings of all its
/// records at once and writes its new listings together (see [`Sync::prefetch`]).
pub(crate) struct Sync {
    actor: Actor,
    caller: Caller,
    author: Author,
    now: DateTime<Utc>,
    period: RestorePeriod,
    holders: Holders,
    /// The live listings of the batch's records as read before its first item, until a move
    /// (which may change any of them) makes it stale; `None` for a single push.
    known: Option<HashMap<(String, String), Listing>>,
    /// The records the batch's items named so far: one named again is read afresh.
    named: HashSet<(String, String)>,
    /// New listings not written yet, with their item's index, record and content.
    pending: Vec<Pending>,
}

struct Pending {
    index: usize,
    record: SourceRecord,
    valid: ValidContent,
    listing: Listing,
}

/// What each item of a batch did, by index; `None` while its write waits in [`Sync::pending`].
type Outcomes = Vec<Option<Result<(Listing, SyncResult), ApiError>>>;

impl Sync {
    fn new(actor: Actor, now: DateTime<Utc>, period: RestorePeriod) -> Self {
        Sync {
            author: author(&actor),
            caller: Some(actor.clone()),
            actor,
            now,
            period,
            holders: Holders::default(),
            known: None,
            named: HashSet::new(),
            pending: Vec::new(),
        }
    }

    /// Refuses a source exchange the caller's organization does not hold, before anything about
    /// its records is looked at: the answer is the same whether a record exists or not.
    fn check_held(&mut self, conn: &mut DbConn, exchange: &str) -> Result<(), ApiError> {
        if self.holders.of(conn, exchange)? == Some(self.actor.organization_id) {
            Ok(())
        } else {
            Err(ApiError::SourceNotHeld { exchange: exchange.to_owned() })
        }
    }

    /// Creates or updates the listing of `record` with `content` (whose `source` is the record's),
    /// in a transaction of its own (a savepoint inside a batch's). Nothing is written when the
    /// listing already holds this content.
    fn upsert(
        &mut self,
        conn: &mut DbConn,
        record: &SourceRecord,
        content: ListingContent,
        expected: Option<&str>,
    ) -> Result<(Listing, SyncResult), ApiError> {
        self.check_held(conn, &record.exchange)?;
        let valid = content.validate(self.now).map_err(ApiError::Validation)?;
        self.upsert_valid(conn, record, valid, expected)
    }

    fn upsert_valid(
        &mut self,
        conn: &mut DbConn,
        record: &SourceRecord,
        valid: ValidContent,
        expected: Option<&str>,
    ) -> Result<(Listing, SyncResult), ApiError> {
        // Twice at most: a concurrent push of the same record may create it between the lookup
        // and the insert (PostgreSQL); the second round updates what it created.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = match listings::find_by_source(conn, &record.exchange, &record.external_id)? {
                None => self.create(conn, valid.clone(), expected),
                Some(existing) => self.update(conn, existing, valid.clone(), expected),
            };
            match outcome {
                Err(ApiError::Duplicate(Constraint::ListingSource)) if attempt == 1 => continue,
                other => return other,
            }
        }
    }

    /// A new draft of `valid`, checked as [`Sync::create`] checks it, not written yet.
    fn draft(&mut self, conn: &mut DbConn, valid: ValidContent) -> Result<Listing, ApiError> {
        let listing = Listing::draft(valid, Some(self.actor.organization_id), self.now);
        check_claims(conn, &self.actor, &listing, None, &mut self.holders)?;
        Ok(listing)
    }

    fn create(
        &mut self,
        conn: &mut DbConn,
        valid: ValidContent,
        expected: Option<&str>,
    ) -> Result<(Listing, SyncResult), ApiError> {
        if expected.is_some() {
            // If-Match names a version of a listing that does not exist (RFC 9110 13.1.1).
            return Err(ApiError::PreconditionFailed { entity: Entity::Listing, current: 0 });
        }
        let listing = self.draft(conn, valid)?;
        // The unique index on the source refuses a concurrent creation of the same record.
        kit::create(conn, &listing, &self.author, |conn| listings::insert(conn, &listing))?;
        Ok((listing, SyncResult::Created))
    }

    fn update(
        &mut self,
        conn: &mut DbConn,
        existing: Listing,
        valid: ValidContent,
        expected: Option<&str>,
    ) -> Result<(Listing, SyncResult), ApiError> {
        access::may_edit_listing(&self.caller, &existing)?;
        kit::check_version(&existing, expected)?;
        if valid.content == existing.content {
            return Ok((existing, SyncResult::Unchanged));
        }
        let read_version = existing.version;
        let now = self.now;
        let (caller, holders) = (&self.caller, &mut self.holders);
        let listing =
            kit::modify(conn, existing.id, &self.author, |conn, listing: &mut Listing| -> Result<_, ApiError> {
                let actor = access::may_edit_listing(caller, listing)?;
                kit::check_version(listing, expected)?;
                if valid.content == listing.content {
                    return Ok(ListingWrite::Unchanged);
                }
                let before = listing.content.clone();
                listing.revise(valid, now, access::edits_skip_review(actor));
                check_claims(conn, actor, listing, Some(&before), holders)?;
                Ok(ListingWrite::Updated)
            })?;
        let result = if listing.version == read_version { SyncResult::Unchanged } else { SyncResult::Updated };
        Ok((listing, result))
    }

    /// Reads the live listings of every record the batch's upserts name, in one query instead
    /// of one per item.
    fn prefetch(&mut self, conn: &mut DbConn, planned: &[Result<Planned, ApiError>]) -> Result<(), ApiError> {
        let records: Vec<(String, String)> = planned
            .iter()
            .filter_map(|item| match item {
                Ok(Planned::Upsert(record, _)) => Some((record.exchange.clone(), record.external_id.clone())),
                _ => None,
            })
            .collect();
        self.known = Some(listings::find_by_sources(conn, &records)?);
        Ok(())
    }

    /// [`Sync::upsert`] within a batch: the same checks and answer, with the listing read by
    /// [`Sync::prefetch`], and a new listing kept in [`Sync::pending`] (`Ok(None)`) to be written
    /// with the others. Whatever changes a listing first writes the pending ones, so the change
    /// log keeps the order of the items.
    fn push(
        &mut self,
        conn: &mut DbConn,
        index: usize,
        record: SourceRecord,
        content: ListingContent,
        outcomes: &mut Outcomes,
    ) -> Result<Option<(Listing, SyncResult)>, ApiError> {
        self.check_held(conn, &record.exchange)?;
        let valid = content.validate(self.now).map_err(ApiError::Validation)?;
        let key = (record.exchange.clone(), record.external_id.clone());
        let first = self.named.insert(key.clone());
        match self.known.as_mut().filter(|_| first).map(|known| known.remove(&key)) {
            Some(None) => {
                let listing = self.draft(conn, valid.clone())?;
                self.pending.push(Pending { index, record, valid, listing });
                Ok(None)
            }
            Some(Some(existing)) => {
                let writes =
                    access::may_edit_listing(&self.caller, &existing).is_ok() && valid.content != existing.content;
                if writes {
                    self.flush(conn, outcomes)?;
                }
                self.update(conn, existing, valid, None).map(Some)
            }
            None => {
                self.flush(conn, outcomes)?;
                self.upsert_valid(conn, &record, valid, None).map(Some)
            }
        }
    }

    /// Writes the pending new listings, each with its `create` change, in one go (multi-row
    /// inserts, `COPY` on PostgreSQL; see [`bulk`]) in a savepoint. If that fails (a concurrent
    /// batch created one of their records meanwhile), the savepoint is undone and each is pushed
    /// alone, as outside a batch, with its own answer.
    fn flush(&mut self, conn: &mut DbConn, outcomes: &mut Outcomes) -> Result<(), ApiError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let mut rows = bulk::Batch::default();
        for item in &pending {
            rows.listing(&item.listing, &self.author, &Listing::public);
        }
        match rows.write(conn) {
            Ok(()) => {
                for item in pending {
                    outcomes[item.index] = Some(Ok((item.listing, SyncResult::Created)));
                }
            }
            Err(error) => {
                log::debug!("the new listings of a batch are pushed one by one: {error}");
                for item in pending {
                    let outcome = self.upsert_valid(conn, &item.record, item.valid, None);
                    outcomes[item.index] = Some(fail_on_server_error(outcome.map_err(|e| within(e, "listing.")))?);
                }
            }
        }
        Ok(())
    }

    /// A lifecycle move of the listing named by id or source; `unchanged` when the listing is
    /// already in the status the move leads to (nothing written).
    fn move_listing(
        &mut self,
        conn: &mut DbConn,
        target: MoveTarget,
        requested: LifecycleAction,
    ) -> Result<(Listing, SyncResult), ApiError> {
        let listing = match target {
            MoveTarget::Id(id) => kit::find::<Listing>(conn, id)?,
            MoveTarget::Source(record) => {
                self.check_held(conn, &record.exchange)?;
                listings::find_by_source(conn, &record.exchange, &record.external_id)?
                    .ok_or(ApiError::NotFound { entity: Entity::Listing })?
            }
        };
        let (_, action) = lifecycle_action(&self.caller, &listing, requested)?;
        if listing.status == status_after(action) && !(action == LifecycleAction::Restore && listing.is_deleted()) {
            return Ok((listing, SyncResult::Unchanged));
        }
        let moved = move_in(conn, &self.caller, &self.author, listing.id, None, self.now, self.period, requested)?;
        Ok((moved, SyncResult::Moved))
    }
}

/// An item's outcome, or the batch's failure when the server failed (nothing of it is written).
fn fail_on_server_error<T>(outcome: Result<T, ApiError>) -> Result<Result<T, ApiError>, ApiError> {
    match outcome {
        Err(error) if error.code().1.is_server_error() => Err(error),
        other => Ok(other),
    }
}

/// The status a lifecycle action leads to, from any status that allows it.
fn status_after(action: LifecycleAction) -> ListingStatus {
    match action {
        LifecycleAction::Submit => ListingStatus::PendingReview,
        LifecycleAction::Publish => ListingStatus::Published,
        LifecycleAction::Reject => ListingStatus::Rejected,
        LifecycleAction::Withdraw => ListingStatus::Withdrawn,
        LifecycleAction::Close => ListingStatus::Closed,
        LifecycleAction::Restore => ListingStatus::Draft,
    }
}

enum MoveTarget {
    Id(ListingId),
    Source(SourceRecord),
}

/// The content of a push for `record`: its `source` must name the record, or is filled from it.
fn content_for(record: &SourceRecord, body: dto::ListingContent, field: &str) -> Result<ListingContent, ApiError> {
    let mut content: ListingContent = body.into();
    match &mut content.source {
        None => {
            content.source =
                Some(Source { exchange: record.exchange.clone(), external_id: record.external_id.clone(), url: None })
        }
        Some(source) if record.is_of(source) => {}
        Some(_) => {
            return Err(ApiError::Validation(ValidationErrors::single(
                field,
                Message::new(Text::SourceMismatchesPath)
                    .with("exchange", &record.exchange)
                    .with("external_id", &record.external_id),
            )));
        }
    }
    Ok(content)
}

/// Create or update a listing by the portal's own id.
///
/// The listing of the source record `{exchange}/{external_id}` gets the content sent: created
/// (as a draft, like `POST /v1/listings`) when there is none, updated when it differs, and left
/// alone (same version, nothing written) when it is the same. `Sync-Result` says which. Only the
/// organization that holds the source exchange may write its records (others: 403
/// `source_exchange_not_held`, whether or not the record exists). The body's `source` must name
/// the same record, or be left out (it is then filled from the path, without a `url`). A
/// deleted listing gave its source back: pushing the record again creates a new listing. An
/// update of a published listing by a client without `listings:publish` sends it back to
/// review, as `PATCH` does.
#[utoipa::path(
    tag = "listings",
    operation_id = "put_listing_by_source",
    security(("oauth2" = ["listings:write"])),
    params(("exchange" = String, Path, max_length = 40, pattern = r"^[a-z0-9_-]{1,40}$", description = "The source exchange, held by the caller's organization", example = "binhduong"),
           ("external_id" = String, Path, min_length = 1, max_length = 100, description = "The record's id at the source exchange", example = "SP-2024-117"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|"v[0-9]+"( *, *"v[0-9]+")*)$"#, description = "The ETag last read; the write is refused with 412 if the listing changed since, or if there is none yet")),
    request_body(content = dto::ListingContent, description = "The listing as the portal holds it; `source` may be left out"),
    responses(
        (status = 200, description = "Updated, or unchanged (`Sync-Result` says which; unchanged keeps the version and writes nothing)", body = ListingResponse,
         headers(("ETag" = String), ("Sync-Result" = String, description = "`updated` or `unchanged`"))),
        (status = 201, description = "Created as a draft; `Location` names it", body = ListingResponse,
         headers(("Location" = String), ("ETag" = String), ("Sync-Result" = String, description = "`created`"))),
        (status = 400, description = "Malformed JSON (`malformed_json`), exchange or external id (`invalid_path`), or If-Match (`invalid_header`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No `listings:write` (`insufficient_scope`), the source exchange is not held by the caller's organization (`source_exchange_not_held`), or the record's listing belongs to another organization (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The record's listing belongs to another organization and is not public (`listing_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A concurrent edit (`edit_conflict`), or the record was mirrored from another hub and is that hub's to change (`mirrored_record`)", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        BodyRefused,
        (status = 422, description = "A field is invalid, or `source` names another record than the path (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/listings/by-source/{exchange}/{external_id}")]
pub async fn put_listing_by_source(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: CallerOf,
    path: web::Path<(String, String)>,
    body: JsonBody,
    clock: web::Data<Clock>,
    period: web::Data<RestorePeriod>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let actor = access::may_create_listing(&caller)?.clone();
    let (exchange, external_id) = path.into_inner();
    let mut errors = ValidationErrors::default();
    let record = SourceRecord::parse(&exchange, &external_id, "", &mut errors);
    errors.finish(()).map_err(ApiError::InvalidPath)?;
    let record = record.expect("a record without errors");
    let expected = kit::if_match(&req)?;
    let mut sync = Sync::new(actor, clock.now(), **period);
    let (listing, result) = with_conn(&db, move |conn| {
        let content = content_for(&record, body.parse::<dto::ListingContent>()?, "source")?;
        sync.upsert(conn, &record, content, expected.as_deref())
    })
    .await?;
    let mut response = if result == SyncResult::Created { HttpResponse::Created() } else { HttpResponse::Ok() };
    response.insert_header((SYNC_RESULT, HeaderValue::from_static(result.as_str())));
    if result == SyncResult::Created {
        response.insert_header((header::LOCATION, format!("/v1/listings/{}", listing.id)));
    }
    Ok(with_etag(response, listing, &caller))
}

/// Push many listings, and move them, in one request.
///
/// Up to 1,000 items, done in order on one connection, each on its own: an `upsert` creates or
/// updates the listing of its `listing.source` (as `PUT /v1/listings/by-source/...`), a move
/// (`submit`, `publish`, `withdraw`, `close`, `restore`) applies to the listing named by `id` or
/// `source`. The answer is 200 with one result per item, in order: `created`, `updated`,
/// `unchanged`, `moved`, or `failed` with the item's problem (its code and field errors, paths
/// relative to the item). A failed item writes nothing and never loses the others. Sending the
/// same batch again reports every item `unchanged` and writes nothing (a move to the status the
/// listing already has is `unchanged`). A server failure fails the whole batch (nothing is
/// written; send it again).
#[utoipa::path(
    tag = "listings",
    operation_id = "batch_listings",
    security(("oauth2" = ["listings:write"])),
    request_body(content = BatchRequest, description = "The items, 1 to 1,000; the body at most 8 MiB"),
    responses(
        (status = 200, description = "One result per item, in order", body = BatchResponse),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `listings:write` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 8 MiB (`body_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON (`unsupported_media_type`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body is not `{\"items\": [...]}` with 1 to 1,000 items (`validation_failed`; `errors` names `items` with `too_many` beyond 1,000)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/listings/batch")]
pub async fn batch_listings(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: CallerOf,
    body: BatchBody,
    clock: web::Data<Clock>,
    period: web::Data<RestorePeriod>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let actor = access::may_create_listing(&caller)?.clone();
    let lang = crate::language::negotiate(&req);
    let mut sync = Sync::new(actor, clock.now(), **period);
    let db = db.get_ref().clone();
    let results = crate::idempotency::block(move || {
        let request: BatchRequest = parse_json(&body.0?)?;
        if request.items.is_empty() || request.items.len() > BATCH_MAX_ITEMS {
            let text = if request.items.is_empty() {
                Message::new(Text::NotEmpty)
            } else {
                Message::new(Text::TooMany).with("max", BATCH_MAX_ITEMS)
            };
            return Err(ApiError::Validation(ValidationErrors::single("items", text)));
        }
        let planned: Vec<Result<Planned, ApiError>> = request.items.into_iter().map(plan).collect();
        let mut conn = db.conn()?;
        // One transaction for the batch, each write in a savepoint of its own: a failed item is
        // undone alone, and the good ones commit together at the end.
        db::write(&mut conn, |conn| {
            sync.prefetch(conn, &planned)?;
            let mut outcomes: Outcomes = Vec::with_capacity(planned.len());
            for (index, item) in planned.into_iter().enumerate() {
                outcomes.push(None);
                let outcome = match item {
                    Ok(item) => do_item(conn, &mut sync, index, item, &mut outcomes),
                    Err(error) => Err(error),
                };
                if let Some(outcome) = fail_on_server_error(outcome)?.transpose() {
                    outcomes[index] = Some(outcome);
                }
            }
            sync.flush(conn, &mut outcomes)?;
            Ok(outcomes
                .into_iter()
                .enumerate()
                .map(|(index, outcome)| item_result(index as u32, outcome.expect("every item answered"), lang))
                .collect::<Vec<_>>())
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(BatchResponse { items: results }))
}

/// What an item asks for, read and checked before the batch touches the database.
enum Planned {
    Upsert(SourceRecord, Box<ListingContent>),
    Move(MoveTarget, LifecycleAction),
}

fn plan(item: serde_json::Value) -> Result<Planned, ApiError> {
    let item: BatchItem = from_value(item)?;
    let mut errors = ValidationErrors::default();
    let action = match item.op {
        BatchOp::Upsert => None,
        BatchOp::Submit => Some(LifecycleAction::Submit),
        BatchOp::Publish => Some(LifecycleAction::Publish),
        BatchOp::Withdraw => Some(LifecycleAction::Withdraw),
        BatchOp::Close => Some(LifecycleAction::Close),
        BatchOp::Restore => Some(LifecycleAction::Restore),
    };
    let Some(action) = action else {
        if item.id.is_some() {
            errors.add("id", Text::BatchTargetOne);
        }
        if item.source.is_some() {
            errors.add("source", Text::BatchTargetOne);
        }
        let Some(listing) = item.listing else {
            errors.add("listing", Text::BatchListingRequired);
            return Err(ApiError::Validation(errors));
        };
        let record = match &listing.source {
            Some(source) => SourceRecord::parse(&source.exchange, &source.external_id, "listing.source.", &mut errors),
            None => {
                errors.add("listing.source", Text::BatchSourceRequired);
                None
            }
        };
        errors.finish(()).map_err(ApiError::Validation)?;
        let record = record.expect("a record without errors");
        let content = content_for(&record, listing, "listing.source")?;
        return Ok(Planned::Upsert(record, Box::new(content)));
    };
    if item.listing.is_some() {
        errors.add("listing", Text::BatchNoListingHere);
    }
    let target = match (item.id, &item.source) {
        (Some(id), None) => Some(MoveTarget::Id(ListingId(id))),
        (None, Some(source)) => {
            SourceRecord::parse(&source.exchange, &source.external_id, "source.", &mut errors).map(MoveTarget::Source)
        }
        _ => {
            errors.add("", Text::BatchTargetOne);
            None
        }
    };
    errors.finish(()).map_err(ApiError::Validation)?;
    Ok(Planned::Move(target.expect("a target without errors"), action))
}

/// Does an item; `Ok(None)` while its new listing waits to be written (see [`Sync::push`]).
fn do_item(
    conn: &mut DbConn,
    sync: &mut Sync,
    index: usize,
    item: Planned,
    outcomes: &mut Outcomes,
) -> Result<Option<(Listing, SyncResult)>, ApiError> {
    match item {
        Planned::Upsert(record, content) => {
            sync.push(conn, index, record, *content, outcomes).map_err(|error| within(error, "listing."))
        }
        Planned::Move(target, action) => {
            // The move may read a pending listing, and changes what the batch read before.
            sync.flush(conn, outcomes)?;
            sync.known = None;
            sync.move_listing(conn, target, action).map(Some)
        }
    }
}

/// A validation problem of the listing of an item, its fields named from the item.
fn within(error: ApiError, prefix: &str) -> ApiError {
    match error {
        ApiError::Validation(mut errors) => {
            for error in &mut errors.0 {
                error.field = match error.field.as_str() {
                    "" => prefix.trim_end_matches('.').to_owned(),
                    field => format!("{prefix}{field}"),
                };
            }
            ApiError::Validation(errors)
        }
        other => other,
    }
}

fn item_result(index: u32, outcome: Result<(Listing, SyncResult), ApiError>, lang: Lang) -> BatchItemResult {
    match outcome {
        Ok((listing, result)) => BatchItemResult {
            index,
            result,
            id: Some(listing.id.0),
            version: Some(listing.version),
            status: Some(listing.status),
            problem: None,
        },
        Err(error) => BatchItemResult {
            index,
            result: SyncResult::Failed,
            id: None,
            version: None,
            status: None,
            problem: Some(error.problem(lang)),
        },
    }
}

/// The body of a batch, read within [`BATCH_BODY_LIMIT`] (larger than other bodies').
pub struct BatchBody(Result<actix_web::web::Bytes, ApiError>);

impl actix_web::FromRequest for BatchBody {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let json = JsonBody::is_json(req);
        let body = RawBody::read_up_to(req, payload, BATCH_BODY_LIMIT);
        Box::pin(async move {
            let bytes = match body.await {
                Err(timeout @ ApiError::BodyTimeout { .. }) => return Err(timeout),
                other => other,
            };
            Ok(BatchBody(bytes.and_then(|b| if json { Ok(b) } else { Err(ApiError::UnsupportedMediaType) })))
        })
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(put_listing_by_source).service(batch_listings);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_record_in_a_path_is_what_the_domain_stores() {
        let mut errors = ValidationErrors::default();
        assert!(SourceRecord::parse("binhduong", "SP-2024-117", "", &mut errors).is_some());
        for (exchange, external_id) in
            [("Binh Duong", "x"), ("binhduong", " x"), ("binhduong", ""), ("binhduong", "a\tb"), ("", "x")]
        {
            let mut errors = ValidationErrors::default();
            assert!(SourceRecord::parse(exchange, external_id, "", &mut errors).is_none(), "{exchange}/{external_id}");
            assert!(!errors.0.is_empty());
        }
        let mut errors = ValidationErrors::default();
        assert!(SourceRecord::parse("binhduong", &"x".repeat(EXTERNAL_ID_MAX + 1), "", &mut errors).is_none());
    }

    #[test]
    fn a_move_is_unchanged_only_in_the_status_it_leads_to() {
        for action in LifecycleAction::ALL {
            let to = status_after(*action);
            for from in ListingStatus::ALL {
                if let Ok(after) = from.after(*action) {
                    assert_eq!(after, to, "{from:?} {action:?}");
                }
            }
        }
    }
}
