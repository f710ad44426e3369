//! Webhook subscriptions, their deliveries and the attempts at each.
//!
//! Events come from the change log: a relay follows it as the operator would (its position kept
//! in `job_leases`, see [`crate::leases`]) and makes one delivery per subscription whose client
//! may follow the change in the feed. Events that are no change of a record come through
//! [`enqueue_direct`]. A subscription that is off keeps collecting deliveries, sent once it is
//! turned on again. Workers on every server take due deliveries under a lease and record each
//! attempt; see `techex_api::webhooks` for the sending.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use techex_domain::access::Scope;
use techex_domain::webhook::event_matches;
use uuid::Uuid;

use crate::change_log::{self, FeedPosition, FeedQuery, Reader};
use crate::db::{DbConn, write};
use crate::error::{Entity, StoreError};
use crate::leases;
use crate::schema::{webhook_attempts, webhook_deliveries, webhooks};
use crate::versioned::{Versioned, WriteKind, find_by_uuid, owned_by_organization, versioned_basics};

/// The job name under which the relay keeps its place in the change log.
pub const RELAY_JOB: &str = "webhook_relay";

/// A subscription: where to send which events, signed with which secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The API client that subscribed: events reach it only as far as it may follow the feed.
    pub client_id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
    /// The signing secret (`whsec_...`), kept as issued: the hub signs with it.
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Consecutive failed deliveries.
    pub failures: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    pub fn is_enabled(&self) -> bool {
        self.disabled_at.is_none()
    }

    /// The secrets a delivery sent at `now` is signed with: the current one, and the previous one
    /// while its overlap lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut secrets = vec![self.secret.clone()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && until > now
        {
            secrets.push(previous.clone());
        }
        secrets
    }

    /// Whether this subscription takes events of this type.
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|pattern| event_matches(pattern, event_type))
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = webhooks, treat_none_as_null = true)]
struct WebhookRow {
    id: String,
    organization_id: String,
    client_id: String,
    url: String,
    event_types: String,
    description: Option<String>,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_until: Option<NaiveDateTime>,
    disabled_at: Option<NaiveDateTime>,
    failures: i64,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl WebhookRow {
    fn of(w: &Webhook) -> Self {
        WebhookRow {
            id: w.id.to_string(),
            organization_id: w.organization_id.to_string(),
            client_id: w.client_id.to_string(),
            url: w.url.clone(),
            event_types: w.event_types.join(" "),
            description: w.description.clone(),
            secret: w.secret.clone(),
            previous_secret: w.previous_secret.clone(),
            previous_secret_until: w.previous_secret_until.map(|t| t.naive_utc()),
            disabled_at: w.disabled_at.map(|t| t.naive_utc()),
            failures: w.failures,
            version: w.version,
            created_at: w.created_at.naive_utc(),
            updated_at: w.updated_at.naive_utc(),
        }
    }

    fn into_domain(self) -> Result<Webhook, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt { entity: "webhook", id: self.id.clone(), reason };
        let uuid = |raw: &str| raw.parse::<Uuid>().map_err(|e| corrupt(e.to_string()));
        Ok(Webhook {
            id: uuid(&self.id)?,
            organization_id: uuid(&self.organization_id)?,
            client_id: uuid(&self.client_id)?,
            url: self.url.clone(),
            event_types: self.event_types.split_whitespace().map(str::to_owned).collect(),
            description: self.description.clone(),
            secret: self.secret.clone(),
            previous_secret: self.previous_secret.clone(),
            previous_secret_until: self.previous_secret_until.map(|t| t.and_utc()),
            disabled_at: self.disabled_at.map(|t| t.and_utc()),
            failures: self.failures,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

/// What a modification of a subscription did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookWrite {
    Unchanged,
    Updated,
    SecretRotated,
    Disabled,
    /// Turned on again, its count of failures reset.
    Enabled,
    Deleted,
}

impl WriteKind for WebhookWrite {
    fn op(&self) -> Option<&'static str> {
        Some(match self {
            WebhookWrite::Unchanged => return None,
            WebhookWrite::Updated => "update",
            WebhookWrite::SecretRotated => "rotate_secret",
            WebhookWrite::Disabled => "disable",
            WebhookWrite::Enabled => "enable",
            WebhookWrite::Deleted => "delete",
        })
    }
}

impl Versioned for Webhook {
    const ENTITY: Entity = Entity::Webhook;
    type Id = Uuid;
    type Write = WebhookWrite;

    versioned_basics!(webhooks, Uuid);

    fn overwrite(&self, conn: &mut DbConn, read_version: i64, write: &WebhookWrite) -> Result<usize, StoreError> {
        let id = self.id.to_string();
        let this = webhooks::table.filter(webhooks::id.eq(&id)).filter(webhooks::version.eq(read_version));
        if *write == WebhookWrite::Deleted {
            let deliveries = webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(&id));
            let ids: Vec<String> = deliveries.select(webhook_deliveries::id).load(conn)?;
            for chunk in ids.chunks(500) {
                diesel::delete(webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(chunk)))
                    .execute(conn)?;
            }
            diesel::delete(deliveries).execute(conn)?;
            return Ok(diesel::delete(this).execute(conn)?);
        }
        // The count of failures is the workers' to keep (see `record`), except when the
        // subscription is turned on again.
        let row = WebhookRow::of(self);
        let updated = diesel::update(this)
            .set((
                webhooks::url.eq(row.url),
                webhooks::event_types.eq(row.event_types),
                webhooks::description.eq(row.description),
                webhooks::secret.eq(row.secret),
                webhooks::previous_secret.eq(row.previous_secret),
                webhooks::previous_secret_until.eq(row.previous_secret_until),
                webhooks::disabled_at.eq(row.disabled_at),
                webhooks::version.eq(row.version),
                webhooks::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
        if *write == WebhookWrite::Enabled {
            diesel::update(webhooks::table.filter(webhooks::id.eq(&id))).set(webhooks::failures.eq(0)).execute(conn)?;
        }
        Ok(updated)
    }
}

impl Webhook {
    /// Takes the subscription's row lock (as [`Versioned::lock`]); `false` when it is gone.
    fn lock_existing(conn: &mut DbConn, id: Uuid) -> Result<bool, StoreError> {
        Ok(diesel::update(webhooks::table.filter(webhooks::id.eq(id.to_string())))
            .set(webhooks::version.eq(webhooks::version))
            .execute(conn)?
            > 0)
    }
}

find_by_uuid!(webhooks, WebhookRow, Webhook);

/// Inserts a new subscription; pass it to [`crate::versioned::create`].
pub fn insert(conn: &mut DbConn, webhook: &Webhook) -> Result<(), StoreError> {
    diesel::insert_into(webhooks::table).values(WebhookRow::of(webhook)).execute(conn)?;
    Ok(())
}

owned_by_organization!(webhooks, WebhookRow, Webhook);

fn all(conn: &mut DbConn) -> Result<Vec<Webhook>, StoreError> {
    webhooks::table.select(WebhookRow::as_select()).load(conn)?.into_iter().map(WebhookRow::into_domain).collect()
}

/// The body of a delivery: `{"type", "timestamp", "data"}`.
fn envelope(event_type: &str, at: DateTime<Utc>, data: &serde_json::Value) -> String {
    serde_json::json!({"type": event_type, "timestamp": at, "data": data}).to_string()
}

fn enqueue(
    conn: &mut DbConn,
    webhook: Uuid,
    event_type: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(Uuid::now_v7().to_string()),
            webhook_deliveries::webhook_id.eq(webhook.to_string()),
            webhook_deliveries::event_type.eq(event_type),
            webhook_deliveries::body.eq(body),
            webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(now.naive_utc()),
            webhook_deliveries::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Queues an event that is no change of a record (an alert, say) for every subscription of the
/// API client `client_id` that takes `event_type`, in the caller's transaction if it
/// opened one: the body is `{"type": event_type, "timestamp": now, "data": data}`, sent, signed
/// and retried like every other delivery. The caller decides that the client may see `data`.
/// Returns how many deliveries it queued.
pub fn enqueue_direct(
    conn: &mut DbConn,
    client_id: Uuid,
    event_type: &str,
    data: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let subscriptions: Vec<Webhook> = webhooks::table
        .filter(webhooks::client_id.eq(client_id.to_string()))
        .select(WebhookRow::as_select())
        .load(conn)?
        .into_iter()
        .map(WebhookRow::into_domain)
        .collect::<Result<_, _>>()?;
    let body = envelope(event_type, now, data);
    write(conn, |conn| {
        let mut queued = 0;
        for webhook in subscriptions.iter().filter(|w| w.wants(event_type)) {
            enqueue(conn, webhook.id, event_type, &body, now)?;
            queued += 1;
        }
        Ok(queued)
    })
}

/// Who a subscription's events are for, as the feed would judge its client.
struct Subscriber {
    webhook: Webhook,
    reader: Reader,
    contracts: bool,
}

fn subscribers(conn: &mut DbConn) -> Result<Vec<Subscriber>, StoreError> {
    let mut subscribers = Vec::new();
    for webhook in all(conn)? {
        let Some(client) = crate::clients::find(conn, webhook.client_id)? else { continue };
        let has = |scope| client.scopes.contains(&scope) || client.scopes.contains(&Scope::Admin);
        if !client.is_active() || !has(Scope::ChangesRead) {
            continue;
        }
        let admin = client.scopes.contains(&Scope::Admin);
        let reader = if admin { Reader::Operator } else { Reader::Organization(client.organization_id) };
        subscribers.push(Subscriber { webhook, reader, contracts: has(Scope::ContractsRead) });
    }
    Ok(subscribers)
}

fn encode(position: FeedPosition) -> String {
    format!("{}:{}", position.txid, position.seq)
}

fn decode(raw: &str) -> Option<FeedPosition> {
    let (txid, seq) = raw.split_once(':')?;
    Some(FeedPosition { txid: txid.parse().ok()?, seq: seq.parse().ok()? })
}

/// Turns the next changes of the log (up to `limit`) into deliveries: one per subscription
/// (enabled or not: a subscription turned off keeps its events until it is turned on) that takes the change's event type (`<entity>.<op>`), was made before the
/// change, and whose client may follow the change in the feed (the same audience rule, so a
/// confidential contract reaches its parties alone). While there is no
/// subscription the relay skips to the end of the log. Returns how many changes it read (0: caught up, or another server is relaying now).
pub fn relay(conn: &mut DbConn, now: DateTime<Utc>, limit: i64) -> Result<usize, StoreError> {
    let relayed =
        leases::with_position(conn, RELAY_JOB, |conn, position| {
            let after = position.as_deref().and_then(decode).unwrap_or_default();
            let subscribers = subscribers(conn)?;
            if subscribers.is_empty() {
                // Nobody to tell, and a subscription made later takes only later changes: skip to
                // the end instead of reading a large log page by page.
                let end = change_log::feed_end(conn)?.max(after);
                return Ok((0, encode(end)));
            }
            let everything = FeedQuery { after, limit, entities: Vec::new(), reader: Reader::Operator };
            let changes = change_log::feed(conn, &everything)?;
            let Some(&(end, _)) = changes.last() else { return Ok((0, encode(after))) };
            // What each organization may follow of these changes, read as its feed would hand it out.
            let mut visible: HashMap<Uuid, Vec<i64>> = HashMap::new();
            for subscriber in &subscribers {
                if let Reader::Organization(org) = subscriber.reader
                    && !visible.contains_key(&org)
                {
                    let query = FeedQuery { after, limit, entities: Vec::new(), reader: subscriber.reader };
                    let seqs = change_log::feed(conn, &query)?
                        .into_iter()
                        .filter(|(position, _)| *position <= end)
                        .map(|(_, change)| change.seq)
                        .collect();
                    visible.insert(org, seqs);
                }
            }
            for (_, change) in &changes {
                let event_type = format!("{}.{}", change.entity, change.op);
                let record: serde_json::Value = serde_json::from_str(&change.data).map_err(|e| {
                    StoreError::Corrupt { entity: "change", id: change.seq.to_string(), reason: e.to_string() }
                })?;
                let data = serde_json::json!({
                    "seq": change.seq, "entity": change.entity, "id": change.entity_id, "op": change.op,
                    "version": change.version, "at": change.at, "data": record,
                });
                let body = envelope(&event_type, change.at, &data);
                for subscriber in &subscribers {
                    let may_see = match subscriber.reader {
                        Reader::Operator => true,
                        Reader::Organization(org) => {
                            visible.get(&org).is_some_and(|seqs| seqs.contains(&change.seq))
                                && (subscriber.contracts || change.entity != Entity::Contract.as_str())
                        }
                    };
                    let webhook = &subscriber.webhook;
                    if may_see && webhook.created_at <= change.at && webhook.wants(&event_type) {
                        enqueue(conn, webhook.id, &event_type, &body, now)?;
                    }
                }
            }
            Ok((changes.len(), encode(end)))
        })?;
    Ok(relayed.unwrap_or(0))
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    Delivered,
    /// Its retries are spent.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [DeliveryStatus::Pending, DeliveryStatus::Delivered, DeliveryStatus::Failed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// A delivery taken by a worker, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub url: String,
    pub body: String,
    /// The number of this attempt (1 for the first).
    pub attempt: i64,
    pub secrets: Vec<String>,
    /// Until when this worker holds the delivery: the lease's end as stored, which also tells
    /// this worker's lease from a later one of another worker.
    pub leased_until: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct DueRow {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Leases up to `limit` due deliveries of enabled subscriptions until `now + lease`, so that no
/// other worker takes them meanwhile (PostgreSQL: rows another worker is leasing are skipped,
/// not waited for). A lease that runs out, its worker gone, makes the delivery due again; the
/// worker [`renew`]s it before each send.
pub fn claim(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    let (sign, lock) = match conn {
        DbConn::Pg(_) => ('$', "FOR UPDATE OF d SKIP LOCKED"),
        DbConn::Sqlite(_) => ('?', ""),
    };
    let sql = format!(
        "SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         WHERE d.status = 'pending' AND d.next_attempt_at <= {sign}1 \
         AND (d.leased_until IS NULL OR d.leased_until <= {sign}1) AND w.disabled_at IS NULL \
         ORDER BY d.next_attempt_at LIMIT {sign}2 {lock}"
    );
    // Whole microseconds, as both databases store them, so that the lease reads back equal.
    let until = (now + lease).trunc_subsecs(6);
    let taken: Vec<(String, String, String, i64, WebhookRow)> = write(conn, |conn| {
        let due: Vec<DueRow> =
            diesel::sql_query(&sql).bind::<Timestamp, _>(now.naive_utc()).bind::<BigInt, _>(limit).load(conn)?;
        let ids: Vec<String> = due.into_iter().map(|row| row.id).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
            .set(webhook_deliveries::leased_until.eq(until.naive_utc()))
            .execute(conn)?;
        Ok::<_, StoreError>(
            webhook_deliveries::table
                .inner_join(webhooks::table)
                .filter(webhook_deliveries::id.eq_any(&ids))
                // Sent in the order they fell due (a replay's order among them).
                .order((webhook_deliveries::next_attempt_at, webhook_deliveries::id))
                .select((
                    webhook_deliveries::id,
                    webhook_deliveries::webhook_id,
                    webhook_deliveries::body,
                    webhook_deliveries::attempts,
                    WebhookRow::as_select(),
                ))
                .load(conn)?,
        )
    })?;
    taken
        .into_iter()
        .map(|(id, _, body, attempts, webhook)| {
            let webhook = webhook.into_domain()?;
            Ok(Claimed {
                id: id.parse().map_err(|e: uuid::Error| StoreError::Corrupt {
                    entity: "webhook delivery",
                    id: id.clone(),
                    reason: e.to_string(),
                })?,
                webhook_id: webhook.id,
                url: webhook.url.clone(),
                body,
                attempt: attempts + 1,
                secrets: webhook.signing_secrets(now),
                leased_until: until,
            })
        })
        .collect()
}

/// Extends this worker's lease on a claimed delivery to `until`, right before sending it: `false`
/// when the lease is no longer this worker's (it ran out and another worker took the delivery)
/// or the delivery was settled meanwhile, and then it must not be sent.
pub fn renew(conn: &mut DbConn, claimed: &mut Claimed, until: DateTime<Utc>) -> Result<bool, StoreError> {
    let until = until.trunc_subsecs(6);
    let renewed = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(claimed.id.to_string()))
            .filter(webhook_deliveries::leased_until.eq(claimed.leased_until.naive_utc()))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str())),
    )
    .set(webhook_deliveries::leased_until.eq(until.naive_utc()))
    .execute(conn)?;
    if renewed == 1 {
        claimed.leased_until = until;
    }
    Ok(renewed == 1)
}

/// Whether a claimed delivery is still to be sent: its subscription was neither deleted nor
/// turned off since the claim. One that is not gets its lease back (a deleted one is gone).
pub fn still_wanted(conn: &mut DbConn, claimed: &Claimed) -> Result<bool, StoreError> {
    let id = claimed.id.to_string();
    let wanted: i64 = webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(webhook_deliveries::id.eq(&id))
        .filter(webhooks::disabled_at.is_null())
        .count()
        .get_result(conn)?;
    if wanted == 0 {
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq(&id)))
            .set(webhook_deliveries::leased_until.eq(None::<NaiveDateTime>))
            .execute(conn)?;
    }
    Ok(wanted > 0)
}

/// One attempt at a delivery, as it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempt: i64,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// Why it failed when the receiver did not answer (or answered with an error status).
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// No retry is left: the delivery has failed.
    GiveUp,
}

/// Records an attempt at a claimed delivery and what follows it, giving the lease back. Returns
/// the subscription's count of consecutive failed deliveries after it, or `None` when the
/// subscription (and with it the delivery) was deleted while the attempt was under way: the
/// attempt is then dropped.
pub fn record(conn: &mut DbConn, claimed: &Claimed, attempt: &Attempt, next: Next) -> Result<Option<i64>, StoreError> {
    let id = claimed.id.to_string();
    let webhook = claimed.webhook_id.to_string();
    write(conn, |conn| {
        // The subscription's row lock first, as its deletion takes it before removing the
        // deliveries and their attempts: one of the two waits for the other, so an attempt is
        // never added under a delivery being deleted, and a deleted one is seen as gone.
        if !Webhook::lock_existing(conn, claimed.webhook_id)? {
            return Ok(None);
        }
        let this = webhook_deliveries::table.filter(webhook_deliveries::id.eq(&id));
        let finished = Some(attempt.at.naive_utc());
        let (status, next_at, finished_at) = match next {
            Next::Delivered => (DeliveryStatus::Delivered, attempt.at, finished),
            Next::RetryAt(at) => (DeliveryStatus::Pending, at, None),
            Next::GiveUp => (DeliveryStatus::Failed, attempt.at, finished),
        };
        let updated = diesel::update(this)
            .set((
                webhook_deliveries::status.eq(status.as_str()),
                webhook_deliveries::attempts.eq(attempt.attempt),
                webhook_deliveries::next_attempt_at.eq(next_at.naive_utc()),
                webhook_deliveries::leased_until.eq(None::<NaiveDateTime>),
                webhook_deliveries::finished_at.eq(finished_at),
            ))
            .execute(conn)?;
        if updated == 0 {
            return Ok(None);
        }
        diesel::insert_into(webhook_attempts::table)
            .values((
                webhook_attempts::delivery_id.eq(&id),
                webhook_attempts::attempt.eq(attempt.attempt),
                webhook_attempts::at.eq(attempt.at.naive_utc()),
                webhook_attempts::status_code.eq(attempt.status_code.map(i64::from)),
                webhook_attempts::error.eq(&attempt.error),
                webhook_attempts::duration_ms.eq(attempt.duration_ms),
            ))
            .execute(conn)?;
        let subscription = webhooks::table.filter(webhooks::id.eq(&webhook));
        match next {
            Next::Delivered => {
                diesel::update(subscription).set(webhooks::failures.eq(0)).execute(conn)?;
            }
            Next::GiveUp => {
                diesel::update(subscription).set(webhooks::failures.eq(webhooks::failures + 1)).execute(conn)?;
            }
            Next::RetryAt(_) => {}
        }
        Ok(Some(webhooks::table.filter(webhooks::id.eq(&webhook)).select(webhooks::failures).first(conn)?))
    })
}

/// Gives back the leases of claimed deliveries that were not attempted (a server stopping), so
/// that any server sends them at its next pass instead of after the lease runs out. A lease
/// that ran out and was taken by another worker stays that worker's.
pub fn release(conn: &mut DbConn, claimed: &[Claimed]) -> Result<usize, StoreError> {
    write(conn, |conn| {
        let mut released = 0;
        for delivery in claimed {
            released += diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::id.eq(delivery.id.to_string()))
                    .filter(webhook_deliveries::leased_until.eq(delivery.leased_until.naive_utc()))
                    .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str())),
            )
            .set(webhook_deliveries::leased_until.eq(None::<NaiveDateTime>))
            .execute(conn)?;
        }
        Ok(released)
    })
}

/// A delivery with its latest attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Oldest first, at most the last [`ATTEMPTS_SHOWN`].
    pub attempt_log: Vec<Attempt>,
}

/// The most attempts a delivery lists.
pub const ATTEMPTS_SHOWN: usize = 20;

type DeliveryRow = (String, String, String, i64, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>);
type AttemptRow = (String, i64, NaiveDateTime, Option<i64>, Option<String>, i64);

/// A subscription's deliveries, newest first, before the delivery `before`.
pub fn deliveries(
    conn: &mut DbConn,
    webhook: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook.to_string()))
        .order(webhook_deliveries::id.desc())
        .select((
            webhook_deliveries::id,
            webhook_deliveries::event_type,
            webhook_deliveries::status,
            webhook_deliveries::attempts,
            webhook_deliveries::next_attempt_at,
            webhook_deliveries::created_at,
            webhook_deliveries::finished_at,
        ))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::id.lt(before.to_string()));
    }
    let rows: Vec<DeliveryRow> = query.limit(limit).load(conn)?;
    let ids: Vec<&String> = rows.iter().map(|row| &row.0).collect();
    let attempts: Vec<AttemptRow> = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(ids))
        .order((webhook_attempts::delivery_id, webhook_attempts::attempt.desc()))
        .select((
            webhook_attempts::delivery_id,
            webhook_attempts::attempt,
            webhook_attempts::at,
            webhook_attempts::status_code,
            webhook_attempts::error,
            webhook_attempts::duration_ms,
        ))
        .load(conn)?;
    let mut by_delivery: HashMap<String, Vec<Attempt>> = HashMap::new();
    for (delivery, attempt, at, status_code, error, duration_ms) in attempts {
        let log = by_delivery.entry(delivery).or_default();
        if log.len() < ATTEMPTS_SHOWN {
            log.push(Attempt {
                attempt,
                at: at.and_utc(),
                status_code: status_code.and_then(|c| u16::try_from(c).ok()),
                error,
                duration_ms,
            });
        }
    }
    rows.into_iter()
        .map(|(id, event_type, status, attempts, next_attempt_at, created_at, finished_at)| {
            let corrupt = |reason: String| StoreError::Corrupt { entity: "webhook delivery", id: id.clone(), reason };
            let status = DeliveryStatus::parse(&status).ok_or_else(|| corrupt(format!("status {status}")))?;
            let mut attempt_log = by_delivery.remove(&id).unwrap_or_default();
            attempt_log.reverse();
            Ok(Delivery {
                id: id.parse().map_err(|e: uuid::Error| corrupt(e.to_string()))?,
                event_type,
                status,
                attempts,
                next_attempt_at: (status == DeliveryStatus::Pending).then(|| next_attempt_at.and_utc()),
                created_at: created_at.and_utc(),
                finished_at: finished_at.map(|t| t.and_utc()),
                attempt_log,
            })
        })
        .collect()
}

/// How many deliveries a subscription has.
pub fn count_deliveries(conn: &mut DbConn, webhook: Uuid) -> Result<i64, StoreError> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook.to_string()))
        .count()
        .get_result(conn)?)
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    /// Deliveries made due again.
    pub replayed: i64,
    /// The last delivery looked at, where a further replay resumes; `None` when none was.
    pub last: Option<Uuid>,
    /// Whether deliveries after `last` remain.
    pub more: bool,
}

/// Makes due again, oldest first, the deliveries of `webhook` made at or after `since` (and
/// after the delivery `after`), looking at `limit` of them at most; `keep` says which of them
/// may still go to the subscription (its event types, its client's scopes). Each keeps its id,
/// so a receiver that took it before can tell; one that a worker is sending right now is left
/// to it. They are due in their order, a microsecond apart, so that workers take them in it.
pub fn replay(
    conn: &mut DbConn,
    webhook: Uuid,
    since: DateTime<Utc>,
    after: Option<Uuid>,
    limit: i64,
    now: DateTime<Utc>,
    keep: impl Fn(&str) -> bool,
) -> Result<Replayed, StoreError> {
    write(conn, |conn| {
        let mut query = webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(webhook.to_string()))
            .filter(webhook_deliveries::created_at.ge(since.naive_utc()))
            .order(webhook_deliveries::id.asc())
            .select((webhook_deliveries::id, webhook_deliveries::event_type, webhook_deliveries::leased_until))
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(webhook_deliveries::id.gt(after.to_string()));
        }
        let mut rows: Vec<(String, String, Option<NaiveDateTime>)> = query.limit(limit + 1).load(conn)?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let mut replayed = 0;
        for (id, event_type, leased_until) in &rows {
            let being_sent = leased_until.is_some_and(|until| until > now.naive_utc());
            if being_sent || !keep(event_type) {
                continue;
            }
            let due = now + chrono::Duration::microseconds(replayed);
            diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq(id)))
                .set((
                    webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
                    webhook_deliveries::next_attempt_at.eq(due.naive_utc()),
                    webhook_deliveries::finished_at.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
            replayed += 1;
        }
        let last = match rows.last() {
            Some((id, _, _)) => Some(id.parse().map_err(|e: uuid::Error| StoreError::Corrupt {
                entity: "webhook delivery",
                id: id.clone(),
                reason: e.to_string(),
            })?),
            None => None,
        };
        Ok(Replayed { replayed, last, more })
    })
}

/// Makes a delivery of `webhook` due again at `now`, whatever became of it (a replay). `false`
/// when the subscription has no such delivery.
pub fn retry(conn: &mut DbConn, webhook: Uuid, delivery: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(delivery.to_string()))
            .filter(webhook_deliveries::webhook_id.eq(webhook.to_string())),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
        webhook_deliveries::next_attempt_at.eq(now.naive_utc()),
        webhook_deliveries::leased_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::finished_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(updated > 0)
}
