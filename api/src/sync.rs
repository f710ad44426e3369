//! `techex sync`: mirrors another hub's public data (organizations, centers, published listings)
//! from its change feed into the local database. Each page of changes is applied in one
//! transaction with the feed position reached, so an interrupted sync resumes where it stopped
//! and a change applied once is never applied again. Local writes go through the repository,
//! so they reach the local change log (actor `sync:<hub>`) and the local hub's partners.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use techex_domain::center::Center;
use techex_domain::organization::Organization;
use techex_domain::{LifecycleAction, Listing, ListingId};
use techex_persistence::centers::{self, CenterWrite};
use techex_persistence::change_log::Author;
use techex_persistence::listings::{self, ListingWrite};
use techex_persistence::{Db, DbConn, Entity, StoreError, db, mirror, organizations};

use crate::kit;
use crate::routes::centers_dto::CenterResponse;
use crate::routes::changes::{ChangeFeed, FeedChange};
use crate::routes::listings_dto::{self, ListingResponse};
use crate::routes::organizations_dto::{OrganizationContent, OrganizationResponse};

/// The kinds of records a hub mirrors: the public ones.
pub const MIRRORED: [Entity; 3] = [Entity::Organization, Entity::Center, Entity::Listing];

/// What applying changes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Changes written locally.
    pub applied: usize,
    /// Changes at or below the version already mirrored, or of nothing to mirror.
    pub skipped: usize,
}

impl Applied {
    fn add(&mut self, other: Applied) {
        self.applied += other.applied;
        self.skipped += other.skipped;
    }
}

/// Why a sync stopped.
#[derive(Debug)]
pub enum SyncError {
    Store(StoreError),
    /// The other hub refused or could not be reached; the text says which and why.
    Remote(String),
    /// A change the other hub sent does not read as its record.
    Malformed {
        seq: i64,
        reason: String,
    },
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Store(error) => write!(f, "local database: {error}"),
            SyncError::Remote(reason) => write!(f, "{reason}"),
            SyncError::Malformed { seq, reason } => write!(f, "change {seq} of the other hub does not read: {reason}"),
        }
    }
}

impl From<StoreError> for SyncError {
    fn from(error: StoreError) -> Self {
        SyncError::Store(error)
    }
}

/// The local author of the writes mirrored from `hub`.
pub fn author(hub: &str) -> Author {
    Author { actor: format!("sync:{hub}"), organization: None }
}

/// Applies one page of `hub`'s change feed, and stores its `next_cursor` as where the sync from
/// `hub` resumes, all in one transaction.
pub fn apply_page(db: &Db, hub: &str, page: &ChangeFeed, now: DateTime<Utc>) -> Result<Applied, SyncError> {
    let mut conn = db.conn()?;
    db::write(&mut conn, |conn| {
        let mut done = Applied::default();
        for change in &page.items {
            done.add(apply_change(conn, hub, change, now)?);
        }
        if mirror::cursor(conn, hub)?.as_deref() != Some(page.next_cursor.as_str()) {
            mirror::set_cursor(conn, hub, &page.next_cursor, now)?;
        }
        Ok(done)
    })
}

fn apply_change(conn: &mut DbConn, hub: &str, change: &FeedChange, now: DateTime<Utc>) -> Result<Applied, SyncError> {
    let skipped = Applied { applied: 0, skipped: 1 };
    let Some(entity) = MIRRORED.iter().find(|e| e.as_str() == change.entity) else { return Ok(skipped) };
    if mirror::remote_version(conn, hub, entity.as_str(), &change.id)?.is_some_and(|v| v >= change.version) {
        return Ok(skipped);
    }
    let malformed = |reason: String| SyncError::Malformed { seq: change.seq, reason };
    let author = author(hub);
    let local_id = match entity {
        Entity::Organization => {
            let remote: OrganizationResponse =
                serde_json::from_value(change.data.clone()).map_err(|e| malformed(e.to_string()))?;
            mirror_organization(conn, remote, &author)?
        }
        Entity::Center => {
            let remote: CenterResponse =
                serde_json::from_value(change.data.clone()).map_err(|e| malformed(e.to_string()))?;
            mirror_center(conn, remote, &change.op, &author)?
        }
        _ => {
            let remote: ListingResponse =
                serde_json::from_value(change.data.clone()).map_err(|e| malformed(e.to_string()))?;
            mirror_listing(conn, remote, &change.op, &author)?
        }
    };
    mirror::record(conn, hub, entity.as_str(), &change.id, &local_id, change.version, now)?;
    Ok(Applied { applied: 1, skipped: 0 })
}

fn mirror_organization(conn: &mut DbConn, remote: OrganizationResponse, author: &Author) -> Result<String, StoreError> {
    let content = OrganizationContent {
        kind: remote.kind,
        name: remote.name,
        province: remote.province_as_sent,
        tax_code: remote.tax_code,
        contact: remote.contact,
        // The names an organization pushes under give write rights on its own hub only.
        source_exchanges: Vec::new(),
    };
    let mirrored = Organization {
        id: remote.id,
        province: remote.province,
        content: content.into(),
        version: 1,
        created_at: remote.created_at,
        updated_at: remote.updated_at,
    };
    if organizations::find(conn, remote.id)?.is_none() {
        kit::create(conn, &mirrored, author, |conn| organizations::insert(conn, &mirrored))?;
    } else {
        kit::modify(conn, remote.id, author, |_, local: &mut Organization| {
            *local = Organization { version: local.version + 1, created_at: local.created_at, ..mirrored };
            Ok::<_, StoreError>(true)
        })?;
    }
    Ok(remote.id.to_string())
}

fn mirror_center(conn: &mut DbConn, remote: CenterResponse, op: &str, author: &Author) -> Result<String, StoreError> {
    let id = remote.id;
    let exists = centers::find(conn, id)?.is_some();
    if op == "delete" {
        if exists {
            kit::modify(conn, id, author, |_, _: &mut Center| Ok::<_, StoreError>(CenterWrite::Deleted))?;
        }
        return Ok(id.to_string());
    }
    let content = crate::routes::centers_dto::CenterContent {
        kind: remote.kind,
        name: remote.name,
        organization_id: Some(remote.organization_id),
        province: remote.province_as_sent,
        address: remote.address,
        latitude: remote.latitude,
        longitude: remote.longitude,
        contact: remote.contact,
        services: remote.services,
        field_codes: remote.field_codes,
        description: remote.description,
        opening_hours: remote.opening_hours,
    }
    .into_domain(remote.organization_id);
    let mirrored = Center {
        id,
        province: remote.province,
        content,
        version: 1,
        created_at: remote.created_at,
        updated_at: remote.updated_at,
    };
    if exists {
        kit::modify(conn, id, author, |_, local: &mut Center| {
            *local = Center { version: local.version + 1, created_at: local.created_at, ..mirrored };
            Ok::<_, StoreError>(CenterWrite::Updated)
        })?;
    } else {
        kit::create(conn, &mirrored, author, |conn| centers::insert(conn, &mirrored))?;
    }
    Ok(id.to_string())
}

fn mirror_listing(conn: &mut DbConn, remote: ListingResponse, op: &str, author: &Author) -> Result<String, StoreError> {
    let id = ListingId(remote.id);
    let content = listings_dto::ListingContent {
        kind: remote.kind,
        title: remote.title,
        summary: remote.summary,
        description: remote.description,
        keywords: remote.keywords,
        field_codes: remote.field_codes,
        trl: remote.trl,
        ip_status: remote.ip_status,
        ip_refs: remote.ip_refs,
        transfer_forms: remote.transfer_forms,
        transfer_methods: remote.transfer_methods,
        rights: remote.rights,
        price: remote.price,
        province: remote.province_as_sent,
        owner: remote.owner,
        contact: remote.contact,
        media: remote.media,
        source: remote.source,
        expires_at: remote.expires_at,
        development_stage: remote.development_stage,
        ip_territory: remote.ip_territory,
        co_owners: remote.co_owners,
        confidential: remote.confidential,
    };
    let mirrored = Listing {
        id,
        status: remote.status,
        version: 1,
        province: remote.province,
        publisher: remote.publisher,
        content: content.into(),
        created_at: remote.created_at,
        updated_at: remote.updated_at,
        published_at: remote.published_at,
        deleted_at: remote.deleted_at,
    };
    if listings::find(conn, id)?.is_none() {
        kit::create(conn, &mirrored, author, |conn| listings::insert(conn, &mirrored))?;
        return Ok(id.to_string());
    }
    let write = match op {
        "delete" => ListingWrite::Deleted,
        "expire" => ListingWrite::Expired,
        other => other.parse::<LifecycleAction>().map_or(ListingWrite::Updated, ListingWrite::Moved),
    };
    kit::modify(conn, id, author, |_, local: &mut Listing| {
        *local = Listing { version: local.version + 1, created_at: local.created_at, ..mirrored };
        Ok::<_, StoreError>(write)
    })?;
    Ok(id.to_string())
}

/// Another hub, read as one of its API clients (`changes:read`).
pub struct RemoteHub {
    base_url: String,
    client_id: String,
    client_secret: String,
    agent: ureq::Agent,
    token: Option<String>,
    /// The longest wait a `Retry-After` may ask for; longer ones fail the sync.
    pub max_retry_wait: Duration,
}

/// Changes asked for per page.
pub const PAGE_SIZE: i64 = 500;
/// Times a page is asked for again after 429 or 503 before the sync gives up.
const RETRIES: u32 = 5;

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
}

enum Fetched<T> {
    Done(T),
    Unauthorized,
}

impl RemoteHub {
    /// `base_url` is the other hub's address without `/v1`, e.g. `https://techex.dongnai.gov.vn`.
    pub fn new(base_url: &str, client_id: &str, client_secret: &str) -> RemoteHub {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .timeout_connect(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        RemoteHub {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            agent,
            token: None,
            max_retry_wait: Duration::from_secs(300),
        }
    }

    /// The name the hub's records are mirrored under: its host and port.
    pub fn name(&self) -> &str {
        let rest = self.base_url.split_once("://").map_or(self.base_url.as_str(), |(_, rest)| rest);
        rest.split('/').next().unwrap_or(rest)
    }

    fn fetch_token(&mut self) -> Result<String, SyncError> {
        let url = format!("{}/v1/auth/token", self.base_url);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
        ];
        let mut response = self.retrying(|agent| agent.post(&url).send_form(form))?;
        if !response.status().is_success() {
            return Err(SyncError::Remote(format!(
                "the other hub refused the client's credentials ({} from {url})",
                response.status()
            )));
        }
        let answer: TokenAnswer =
            response.body_mut().read_json().map_err(|e| SyncError::Remote(format!("token answer from {url}: {e}")))?;
        Ok(answer.access_token)
    }

    /// Sends a request, again after 429 or 503 once the `Retry-After` passed (1 s without one).
    fn retrying(
        &self,
        send: impl Fn(&ureq::Agent) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<ureq::http::Response<ureq::Body>, SyncError> {
        let mut tries = 0;
        loop {
            let response = send(&self.agent).map_err(|e| SyncError::Remote(format!("{}: {e}", self.base_url)))?;
            let status = response.status().as_u16();
            if (status != 429 && status != 503) || tries == RETRIES {
                return Ok(response);
            }
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(Duration::from_secs(1), Duration::from_secs);
            if wait > self.max_retry_wait {
                return Err(SyncError::Remote(format!("{} asks to wait {} s", self.base_url, wait.as_secs())));
            }
            std::thread::sleep(wait);
            tries += 1;
        }
    }

    fn try_page(&self, token: &str, after: Option<&str>, limit: i64) -> Result<Fetched<ChangeFeed>, SyncError> {
        let url = format!("{}/v1/changes", self.base_url);
        let mut response = self.retrying(|agent| {
            let mut request =
                agent.get(&url).header("authorization", format!("Bearer {token}")).query("limit", limit.to_string());
            for entity in MIRRORED {
                request = request.query("entity", entity.as_str());
            }
            if let Some(after) = after {
                request = request.query("after", after);
            }
            request.call()
        })?;
        match response.status().as_u16() {
            200 => response
                .body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_json()
                .map(Fetched::Done)
                .map_err(|e| SyncError::Remote(format!("change feed page from {url}: {e}"))),
            401 => Ok(Fetched::Unauthorized),
            status => Err(SyncError::Remote(format!("{url} answered {status}"))),
        }
    }

    /// A page of the change feed after `after`; a new token is fetched when the one held expired.
    pub fn page(&mut self, after: Option<&str>, limit: i64) -> Result<ChangeFeed, SyncError> {
        for _ in 0..2 {
            let token = match &self.token {
                Some(token) => token.clone(),
                None => {
                    let token = self.fetch_token()?;
                    self.token = Some(token.clone());
                    token
                }
            };
            match self.try_page(&token, after, limit)? {
                Fetched::Done(page) => return Ok(page),
                Fetched::Unauthorized => self.token = None,
            }
        }
        Err(SyncError::Remote(format!("{} refuses every fresh token for its change feed", self.base_url)))
    }
}

/// Pulls `remote`'s change feed from where the last sync from it stopped until it has caught up,
/// applying each page as it comes (see [`apply_page`]). `progress` hears of every page applied
/// with the totals so far, and stops the sync by breaking.
pub fn sync_once(
    db: &Db,
    remote: &mut RemoteHub,
    page_size: i64,
    now: impl Fn() -> DateTime<Utc>,
    mut progress: impl FnMut(Applied) -> ControlFlow<()>,
) -> Result<Applied, SyncError> {
    let hub = remote.name().to_owned();
    let mut total = Applied::default();
    loop {
        let after = mirror::cursor(&mut *db.conn()?, &hub)?;
        let page = remote.page(after.as_deref(), page_size)?;
        total.add(apply_page(db, &hub, &page, now())?);
        let caught_up = (page.items.len() as i64) < page_size;
        if progress(total).is_break() || caught_up {
            return Ok(total);
        }
    }
}

/// Shows a sync's progress: one line rewritten in place on a terminal, plain lines otherwise.
pub struct Progress {
    terminal: bool,
    started: Instant,
}

impl Progress {
    pub fn new(terminal: bool) -> Progress {
        Progress { terminal, started: Instant::now() }
    }

    pub fn line(&self, hub: &str, done: Applied) -> String {
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = (done.applied + done.skipped) as f64 / seconds;
        format!("{hub}: {} applied, {} skipped, {rate:.0} changes/s", done.applied, done.skipped)
    }

    pub fn show(&self, hub: &str, done: Applied) {
        use std::io::Write;
        let line = self.line(hub, done);
        let mut out = std::io::stdout().lock();
        let _ = if self.terminal { write!(out, "\r{line}\x1b[K") } else { writeln!(out, "{line}") };
        let _ = out.flush();
    }

    /// Ends the line rewritten in place.
    pub fn finish(&self) {
        if self.terminal {
            println!();
        }
    }
}
