//! Listings: their SQL and row mapping; writes go through [`crate::versioned`].

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};
use serde::{Deserialize, Serialize};
use techex_domain::listing::{
    Attachment, CoOwner, Confidential, Contact, DevelopmentStage, Media, MediaKind, Owner, Price, PriceType, Source,
};
use techex_domain::{
    IpStatus, LifecycleAction, Listing, ListingContent, ListingId, ListingKind, ListingStatus, Right, TransferForm,
    TransferMethod,
};
use uuid::Uuid;

use crate::change_log::Audience;
use crate::db::DbConn;
use crate::error::{Entity, StoreError};
use crate::facet_counts::{self, Member};
use crate::schema::{listing_fields, listing_terms, listings};
use crate::search::{Column, IdIn, Matches, Score, add_words, prefix_words};
use crate::stored::{self, Text};
use crate::versioned::{Versioned, WriteKind, versioned_basics};
use techex_domain::search::{IndexFilter, SCOPED_PROVINCES_MAX, SearchQuery, Sort, scoped_token};

const ENTITY: &str = "listing";

pub(crate) type Backend = <DbConn as Connection>::Backend;

#[derive(Queryable, Selectable)]
#[diesel(table_name = listings)]
struct ListingRow {
    id: String,
    status: String,
    province: String,
    publisher: Option<String>,
    content: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    published_at: Option<NaiveDateTime>,
    deleted_at: Option<NaiveDateTime>,
}

impl ListingRow {
    fn into_domain(self) -> Result<Listing, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt { entity: ENTITY, id: self.id.clone(), reason };
        Ok(Listing {
            id: self.id.parse().map_err(|e: uuid::Error| corrupt(e.to_string()))?,
            status: self.status.parse().map_err(|e: techex_domain::listing::UnknownWord| corrupt(e.to_string()))?,
            version: self.version,
            province: self.province.clone(),
            publisher: self
                .publisher
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e: uuid::Error| corrupt(e.to_string()))?,
            content: stored::read::<StoredContent>(&self.content).map_err(corrupt)?.into(),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            published_at: self.published_at.map(|t| t.and_utc()),
            deleted_at: self.deleted_at.map(|t| t.and_utc()),
        })
    }
}

/// A listing's content as its row keeps it (see [`stored`]): apart from the API's body, so
/// either can change without the other. Fields a listing may lack read as their default.
#[derive(Serialize, Deserialize)]
struct StoredContent {
    kind: ListingKind,
    title: Text,
    #[serde(default)]
    summary: Option<Text>,
    #[serde(default)]
    description: Option<Text>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    field_codes: Vec<String>,
    #[serde(default)]
    trl: Option<i64>,
    #[serde(default = "no_ip")]
    ip_status: IpStatus,
    #[serde(default)]
    ip_refs: Vec<String>,
    #[serde(default)]
    transfer_forms: Vec<TransferForm>,
    #[serde(default)]
    transfer_methods: Vec<TransferMethod>,
    #[serde(default)]
    rights: Vec<Right>,
    #[serde(default)]
    price: StoredPrice,
    province: String,
    owner: StoredOwner,
    #[serde(default)]
    contact: Option<StoredContact>,
    #[serde(default)]
    media: Vec<StoredMedia>,
    #[serde(default)]
    source: Option<StoredSource>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    development_stage: Option<DevelopmentStage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ip_territory: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    co_owners: Vec<StoredCoOwner>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confidential: Option<StoredConfidential>,
}

#[derive(Serialize, Deserialize)]
struct StoredCoOwner {
    name: String,
    #[serde(default)]
    organization_id: Option<Uuid>,
    share_percent: i64,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredConfidential {
    technical_details: Option<String>,
    commercial_terms: Option<String>,
    attachments: Vec<StoredAttachment>,
}

#[derive(Serialize, Deserialize)]
struct StoredAttachment {
    url: String,
    #[serde(default)]
    title: Option<String>,
}

impl From<CoOwner> for StoredCoOwner {
    fn from(c: CoOwner) -> Self {
        StoredCoOwner { name: c.name, organization_id: c.organization_id, share_percent: c.share_percent }
    }
}

impl From<StoredCoOwner> for CoOwner {
    fn from(c: StoredCoOwner) -> Self {
        CoOwner { name: c.name, organization_id: c.organization_id, share_percent: c.share_percent }
    }
}

impl From<Confidential> for StoredConfidential {
    fn from(c: Confidential) -> Self {
        StoredConfidential {
            technical_details: c.technical_details,
            commercial_terms: c.commercial_terms,
            attachments: c.attachments.into_iter().map(|a| StoredAttachment { url: a.url, title: a.title }).collect(),
        }
    }
}

impl From<StoredConfidential> for Confidential {
    fn from(c: StoredConfidential) -> Self {
        Confidential {
            technical_details: c.technical_details,
            commercial_terms: c.commercial_terms,
            attachments: c.attachments.into_iter().map(|a| Attachment { url: a.url, title: a.title }).collect(),
        }
    }
}

fn no_ip() -> IpStatus {
    IpStatus::None
}

#[derive(Serialize, Deserialize)]
#[serde(default)]
struct StoredPrice {
    amount: Option<i64>,
    currency: String,
    negotiable: bool,
    /// Absent on rows written before price types were kept.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<PriceType>,
}

/// A row without a price was written before prices were kept: negotiable, in VND.
impl Default for StoredPrice {
    fn default() -> Self {
        Price::default().into()
    }
}

#[derive(Serialize, Deserialize)]
struct StoredOwner {
    #[serde(default)]
    organization_id: Option<Uuid>,
    name: String,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredContact {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredMedia {
    url: String,
    kind: MediaKind,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredSource {
    exchange: String,
    external_id: String,
    #[serde(default)]
    url: Option<String>,
}

impl From<Price> for StoredPrice {
    fn from(p: Price) -> Self {
        StoredPrice { amount: p.amount, currency: p.currency, negotiable: p.negotiable, kind: p.kind }
    }
}

impl From<&ListingContent> for StoredContent {
    fn from(c: &ListingContent) -> Self {
        let c = c.clone();
        StoredContent {
            kind: c.kind,
            title: c.title.into(),
            summary: c.summary.map(Into::into),
            description: c.description.map(Into::into),
            keywords: c.keywords,
            field_codes: c.field_codes,
            trl: c.trl,
            ip_status: c.ip_status,
            ip_refs: c.ip_refs,
            transfer_forms: c.transfer_forms,
            transfer_methods: c.transfer_methods,
            rights: c.rights,
            price: c.price.into(),
            province: c.province,
            owner: StoredOwner { organization_id: c.owner.organization_id, name: c.owner.name },
            contact: c.contact.map(|k| StoredContact { name: k.name, email: k.email, phone: k.phone }),
            media: c.media.into_iter().map(|m| StoredMedia { url: m.url, kind: m.kind, title: m.title }).collect(),
            source: c.source.map(|s| StoredSource { exchange: s.exchange, external_id: s.external_id, url: s.url }),
            expires_at: c.expires_at,
            development_stage: c.development_stage,
            ip_territory: c.ip_territory,
            co_owners: c.co_owners.into_iter().map(Into::into).collect(),
            confidential: c.confidential.map(Into::into),
        }
    }
}

impl From<StoredContent> for ListingContent {
    fn from(c: StoredContent) -> Self {
        let p = c.price;
        ListingContent {
            kind: c.kind,
            title: c.title.into(),
            summary: c.summary.map(Into::into),
            description: c.description.map(Into::into),
            keywords: c.keywords,
            field_codes: c.field_codes,
            trl: c.trl,
            ip_status: c.ip_status,
            ip_refs: c.ip_refs,
            transfer_forms: c.transfer_forms,
            transfer_methods: c.transfer_methods,
            rights: c.rights,
            price: Price { amount: p.amount, currency: p.currency, negotiable: p.negotiable, kind: p.kind },
            province: c.province,
            owner: Owner { organization_id: c.owner.organization_id, name: c.owner.name },
            contact: c.contact.map(|k| Contact { name: k.name, email: k.email, phone: k.phone }),
            media: c.media.into_iter().map(|m| Media { url: m.url, kind: m.kind, title: m.title }).collect(),
            source: c.source.map(|s| Source { exchange: s.exchange, external_id: s.external_id, url: s.url }),
            expires_at: c.expires_at,
            development_stage: c.development_stage,
            ip_territory: c.ip_territory,
            co_owners: c.co_owners.into_iter().map(Into::into).collect(),
            confidential: c.confidential.map(Into::into),
        }
    }
}

/// Every column as written from a domain listing. A `None` is written as NULL, never as the
/// column's default, so that rows also go through multi-row inserts and `COPY` ([`crate::bulk`]).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = listings, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(crate) struct ListingRecord {
    id: String,
    kind: String,
    status: String,
    province: String,
    province_as_sent: String,
    trl: Option<i64>,
    price_amount: Option<i64>,
    ip_status: String,
    publisher: Option<String>,
    source_exchange: Option<String>,
    source_external_id: Option<String>,
    title_vi: String,
    pub(crate) search_text: String,
    search_title: String,
    search_filters: String,
    content: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    published_at: Option<NaiveDateTime>,
    expires_at: Option<NaiveDateTime>,
    deleted_at: Option<NaiveDateTime>,
}

impl ListingRecord {
    pub(crate) fn of(listing: &Listing) -> Self {
        let c = &listing.content;
        let live_source = c.source.as_ref().filter(|_| !listing.is_deleted());
        ListingRecord {
            id: listing.id.to_string(),
            kind: c.kind.as_str().to_owned(),
            status: listing.status.as_str().to_owned(),
            province: listing.province.clone(),
            province_as_sent: c.province.clone(),
            trl: c.trl,
            price_amount: c.price.amount,
            ip_status: c.ip_status.as_str().to_owned(),
            publisher: listing.publisher.map(|p| p.to_string()),
            // A deleted listing gives its source back (the tombstone's content keeps it), so the
            // record can be pushed again.
            source_exchange: live_source.map(|s| s.exchange.clone()),
            source_external_id: live_source.map(|s| s.external_id.clone()),
            title_vi: c.title.vi.clone(),
            search_text: listing.search_text(),
            search_title: listing.search_title(),
            search_filters: listing.search_filters(),
            content: stored::write(&StoredContent::from(c)),
            version: listing.version,
            created_at: listing.created_at.naive_utc(),
            updated_at: listing.updated_at.naive_utc(),
            published_at: listing.published_at.map(|t| t.naive_utc()),
            expires_at: c.expires_at.map(|t| t.naive_utc()),
            deleted_at: listing.deleted_at.map(|t| t.naive_utc()),
        }
    }
}

/// What a modification did, which names its change-log operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingWrite {
    /// Nothing to write: the change asked for leaves the listing as it is.
    Unchanged,
    Updated,
    Moved(LifecycleAction),
    /// Past its expiry date.
    Expired,
    /// Withdrawn and hidden from all but its owner; the row stays for partners' feeds.
    Deleted,
}

impl WriteKind for ListingWrite {
    fn op(&self) -> Option<&'static str> {
        Some(match self {
            ListingWrite::Unchanged => return None,
            ListingWrite::Updated => "update",
            ListingWrite::Moved(action) => action.as_str(),
            ListingWrite::Expired => "expire",
            ListingWrite::Deleted => "delete",
        })
    }
}

/// Which listings a page shows, in the order of `sort`, starting after the cursor `after` (and
/// its sort key `after_key`). Each list of a filter matches any of its values; an empty one
/// matches everything.
#[derive(Debug, Clone)]
pub struct ListingFilter {
    pub status: ListingStatus,
    /// Deleted listings only, or none.
    pub deleted: bool,
    pub kinds: Vec<ListingKind>,
    /// Current province codes.
    pub provinces: Vec<String>,
    /// Digits a field code starts with: `2` matches `206`.
    pub field_prefixes: Vec<String>,
    /// The publishing organization.
    pub publisher: Option<uuid::Uuid>,
    /// Search words and the filters that came with them.
    pub refine: Refine,
    pub sort: Sort,
    pub after: Option<ListingId>,
    /// The sort key of the listing `after` (see [`sort_key`]); none for `newest`.
    pub after_key: Option<i64>,
    pub limit: i64,
    /// Published listings whose expiry is at or before this time are left out, though the
    /// periodic expiry has not reached them yet.
    pub live_at: DateTime<Utc>,
}

impl ListingFilter {
    /// Whether anything but the status, deletion and order narrows the listings: a search, a
    /// filter or a range. Spelled out whole, so that a filter added later cannot slip past
    /// unnoticed.
    fn narrowed(&self) -> bool {
        let ListingFilter {
            status: _,
            deleted: _,
            kinds,
            provinces,
            field_prefixes,
            publisher,
            refine,
            sort: _,
            after: _,
            after_key: _,
            limit: _,
            live_at: _,
        } = self;
        let Refine {
            query,
            trl_min,
            trl_max,
            ip_statuses,
            transfer_forms,
            transfer_methods,
            rights,
            price_min,
            price_max,
            updated_since,
            published_since,
            with_tombstones: _,
        } = refine;
        !kinds.is_empty()
            || !provinces.is_empty()
            || !field_prefixes.is_empty()
            || publisher.is_some()
            || query.is_some()
            || [trl_min, trl_max, price_min, price_max].iter().any(|bound| bound.is_some())
            || !ip_statuses.is_empty()
            || !transfer_forms.is_empty()
            || !transfer_methods.is_empty()
            || !rights.is_empty()
            || updated_since.is_some()
            || published_since.is_some()
    }

    /// Every published, live listing, newest first: the page of `limit` after `after`.
    pub fn published(after: Option<ListingId>, limit: i64, live_at: DateTime<Utc>) -> ListingFilter {
        ListingFilter {
            status: ListingStatus::Published,
            deleted: false,
            kinds: Vec::new(),
            provinces: Vec::new(),
            field_prefixes: Vec::new(),
            publisher: None,
            refine: Refine::default(),
            sort: Sort::default(),
            after,
            after_key: None,
            limit,
            live_at,
        }
    }

    /// Whether the filter asks for every published, live listing and nothing more (its page,
    /// order and cursor aside): whoever asks, that is one set.
    pub fn is_whole_published_set(&self) -> bool {
        self.status == ListingStatus::Published && !self.deleted && !self.refine.with_tombstones && !self.narrowed()
    }
}

/// The filters of a search beyond status, kind, province, field and publisher.
#[derive(Debug, Clone, Default)]
pub struct Refine {
    pub query: Option<SearchQuery>,
    pub trl_min: Option<i64>,
    pub trl_max: Option<i64>,
    pub ip_statuses: Vec<IpStatus>,
    pub transfer_forms: Vec<TransferForm>,
    pub transfer_methods: Vec<TransferMethod>,
    pub rights: Vec<Right>,
    /// Whole đồng, inclusive; listings without an amount match no price range.
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub updated_since: Option<DateTime<Utc>>,
    pub published_since: Option<DateTime<Utc>>,
    /// With status `published`: also the listings published once and off the market now
    /// (withdrawn, closed, expired, deleted, sent back to review), whose rows are still kept.
    pub with_tombstones: bool,
}

diesel::define_sql_function! {
    /// `value`, or `otherwise` when it is NULL.
    fn coalesce(value: diesel::sql_types::Nullable<diesel::sql_types::BigInt>, otherwise: diesel::sql_types::BigInt) -> diesel::sql_types::BigInt;
}

/// The key a listing sorts by under `sort`, as a cursor carries it: the relevance score (given),
/// the amount or TRL (a missing one as [`Sort::missing_key`]), the change time in microseconds;
/// nothing for `newest`, which sorts by id alone.
pub fn sort_key(sort: Sort, listing: &Listing, score: Option<i64>) -> Option<i64> {
    match sort {
        Sort::Newest => None,
        Sort::Relevance => score,
        Sort::Updated => Some(listing.updated_at.timestamp_micros()),
        Sort::PriceAscending | Sort::PriceDescending => {
            Some(listing.content.price.amount.unwrap_or(sort.missing_key()))
        }
        Sort::TrlAscending | Sort::TrlDescending => Some(listing.content.trl.unwrap_or(sort.missing_key())),
    }
}

/// A listing, deleted or not (who may see a deleted one is the API's to decide).
pub fn find(conn: &mut DbConn, id: ListingId) -> Result<Option<Listing>, StoreError> {
    listings::table
        .filter(listings::id.eq(id.to_string()))
        .select(ListingRow::as_select())
        .first(conn)
        .optional()?
        .map(ListingRow::into_domain)
        .transpose()
}

/// The live (not deleted) listing pushed under a source record, if any: a deleted listing gives
/// its source back.
pub fn find_by_source(conn: &mut DbConn, exchange: &str, external_id: &str) -> Result<Option<Listing>, StoreError> {
    listings::table
        .filter(listings::source_exchange.eq(exchange))
        .filter(listings::source_external_id.eq(external_id))
        .filter(listings::deleted_at.is_null())
        .select(ListingRow::as_select())
        .first(conn)
        .optional()?
        .map(ListingRow::into_domain)
        .transpose()
}

/// The live listings of many source records (a batch's pushes), by record, as
/// [`find_by_source`] finds each.
pub fn find_by_sources(
    conn: &mut DbConn,
    records: &[(String, String)],
) -> Result<HashMap<(String, String), Listing>, StoreError> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Array, Text as SqlText};
    let mut found = HashMap::with_capacity(records.len());
    match &mut *conn {
        // One lookup per record: a query costs no round trip in process, and with the statistics
        // of `ANALYZE` (where the many listings without a source count as one value) SQLite plans
        // lists of exchanges and ids as a scan of the whole table.
        DbConn::Sqlite(_) => {
            for (exchange, external_id) in records {
                if let Some(listing) = find_by_source(conn, exchange, external_id)? {
                    found.insert((exchange.clone(), external_id.clone()), listing);
                }
            }
        }
        // One index lookup per pair, in one query. With `= ANY` on each column instead,
        // PostgreSQL 15 puts only the exchange in the index condition and filters every record of
        // the exchange (25-80 ms for 100 records of an exchange holding 11,400, against 0.2 ms).
        DbConn::Pg(pg) => {
            let (exchanges, external_ids): (Vec<&str>, Vec<&str>) =
                records.iter().map(|(exchange, external_id)| (exchange.as_str(), external_id.as_str())).unzip();
            let rows: Vec<ListingRow> = listings::table
                .filter(listings::deleted_at.is_null())
                .filter(
                    sql::<Bool>("(listings.source_exchange, listings.source_external_id) IN (SELECT * FROM unnest(")
                        .bind::<Array<SqlText>, _>(exchanges)
                        .sql(", ")
                        .bind::<Array<SqlText>, _>(external_ids)
                        .sql("))"),
                )
                .select(ListingRow::as_select())
                .load(pg)?;
            for row in rows {
                let listing = row.into_domain()?;
                if let Some(source) = &listing.content.source {
                    found.insert((source.exchange.clone(), source.external_id.clone()), listing);
                }
            }
        }
    }
    Ok(found)
}

/// A condition on `listings` rows, boxed so a filter can add its parts one by one and any query on
/// the table (a page, a count, a facet's GROUP BY) can take it.
type Condition = Box<dyn BoxableExpression<listings::table, Backend, SqlType = Nullable<Bool>>>;

/// The listings `filter` matches, whatever the page; `words`: what [`prefix_words`] found for
/// its query; `reach`: whether the query reads a few of them or counts them all.
fn matching(
    backend: crate::db::Backend,
    filter: &ListingFilter,
    words: Words,
    reach: Reach,
) -> listings::BoxedQuery<'static, Backend> {
    listings::table.into_boxed().filter(condition(backend, filter, words, reach))
}

/// `listings.status = '<status>'`, the status written as a literal rather than bound (a word of
/// the domain's own list): a generic plan of the prepared statement can then prove the partial
/// index of published ids (migration 000025).
///
/// The query it is part of is prepared once per connection when `prepared`, and otherwise parsed
/// and planned again on every run, as diesel treats any SQL it did not write itself. Only the
/// statuses' unnarrowed pages and counts are prepared (see [`ListingFilter::narrowed`]): a few
/// statements, where filters combine into thousands of shapes, each a statement a connection
/// would keep for its whole life, and a generic plan for one province or field would be the same
/// for a province of 500 listings and one of 100,000.
#[derive(Debug, Clone, Copy)]
struct StatusIs {
    status: ListingStatus,
    prepared: bool,
}

impl diesel::expression::Expression for StatusIs {
    type SqlType = Nullable<Bool>;
}
impl<QS> diesel::expression::AppearsOnTable<QS> for StatusIs {}
impl<QS> diesel::expression::SelectableExpression<QS> for StatusIs {}
impl<GB> diesel::expression::ValidGrouping<GB> for StatusIs {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}
impl diesel::query_builder::QueryId for StatusIs {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::QueryFragment<Backend> for StatusIs {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        if !self.prepared {
            out.unsafe_to_cache_prepared();
        }
        out.push_sql("listings.status = '");
        out.push_sql(self.status.as_str());
        out.push_sql("'");
        Ok(())
    }
}

/// The numbers of rows a prepared page reads (see [`list`]): a page of 10, 20, 25, 50 or 100
/// and the one more that tells whether another follows. Other sizes read the next bucket up.
const LIMIT_BUCKETS: [i64; 5] = [11, 21, 26, 51, 101];

/// `query LIMIT <rows>`, the number written into the SQL, one of [`LIMIT_BUCKETS`].
#[derive(Debug, Clone)]
struct LiteralLimit<Q> {
    query: Q,
    rows: i64,
}

impl<Q> diesel::query_builder::QueryId for LiteralLimit<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for LiteralLimit<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> RunQueryDsl<DbConn> for LiteralLimit<Q> {}

impl<Q: diesel::query_builder::QueryFragment<Backend>> diesel::query_builder::QueryFragment<Backend>
    for LiteralLimit<Q>
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_sql(&self.rows.to_string());
        Ok(())
    }
}

/// How much of what a filter matches a query reads, which decides how PostgreSQL best finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// A page or a few ids: walked in order, checked row by row, until enough are found.
    Some,
    /// Every match (a count, a facet): a field filter is then one posting list of the full-text
    /// index's filter tokens (`/79/field/2`: a province's listings in a field), where the
    /// listings of the field's codes in `listing_fields` are half the table for a common field.
    All,
}

/// The indexed words a search's prefix word stands for (see [`prefix_words`]).
type Words<'a> = Option<&'a [String]>;

/// What a listing must be for `filter` to match it, whatever the page.
fn condition(backend: crate::db::Backend, filter: &ListingFilter, words: Words, reach: Reach) -> Condition {
    let mut all: Vec<Condition> = Vec::new();
    let first: Condition = if filter.status == ListingStatus::Published && filter.refine.with_tombstones {
        Box::new(listings::published_at.is_not_null().nullable())
    } else {
        all.push(if filter.deleted {
            Box::new(listings::deleted_at.is_not_null().nullable())
        } else {
            Box::new(listings::deleted_at.is_null().nullable())
        });
        if filter.status == ListingStatus::Published {
            let live_at = filter.live_at.naive_utc();
            all.push(Box::new(listings::expires_at.is_null().or(listings::expires_at.gt(live_at))));
        }
        Box::new(StatusIs { status: filter.status, prepared: !filter.narrowed() })
    };
    if let Some(publisher) = filter.publisher {
        all.push(Box::new(listings::publisher.eq(publisher.to_string())));
    }
    // A search on PostgreSQL carries the kind, province and field filters into its full-text
    // query as tokens (`Matches::within`): one GIN index then intersects them with the words,
    // where a common word and a province each match tens of thousands of listings at 1,000,000.
    // The tokens alone decide, written from the listing's own kind, province and codes on every
    // write: a condition on the column beside them only led PostgreSQL to intersect the GIN
    // bitmap with the province index's as well ("tôm" in province 96 at 1,000,000: 17 ms, 7.5 without).
    let tokens_decide = backend == crate::db::Backend::Postgres
        && (filter.refine.query.is_some() || reach == Reach::All && !filter.field_prefixes.is_empty());
    if !filter.kinds.is_empty() && !tokens_decide {
        let kinds: Vec<&str> = filter.kinds.iter().map(|k| k.as_str()).collect();
        all.push(Box::new(listings::kind.eq_any(kinds).nullable()));
    }
    if !filter.provinces.is_empty() && !tokens_decide {
        all.push(Box::new(listings::province.eq_any(filter.provinces.clone()).nullable()));
    }
    if let Some(search) = &filter.refine.query {
        let scope = search.scope(&filter.provinces);
        let groups = index_filters(filter, scope);
        all.push(Box::new(Matches::new(backend, Column::Text, search, words, scope).within(&groups).nullable()));
    } else if tokens_decide {
        // A field filter stands in every group of tokens, so the province can always be one.
        let scope = if filter.provinces.len() <= SCOPED_PROVINCES_MAX { filter.provinces.as_slice() } else { &[] };
        all.push(Box::new(Matches::filters(&index_filters(filter, scope)).nullable()));
    }
    if !filter.field_prefixes.is_empty() && !tokens_decide {
        // A listing's codes are level-2 codes of the reference list (checked on every write), so
        // the prefixes stand for the exact codes they cover: a plain `IN` on the indexed column,
        // whose selectivity the planner can estimate, where `substr` comparisons hid it (a
        // facet count on 100,000 listings fell from 576 to 167 ms). No code: nothing matches.
        let matching = listing_fields::table
            .filter(listing_fields::field_code.eq_any(codes_under(&filter.field_prefixes)))
            .select(listing_fields::listing_id);
        all.push(Box::new(listings::id.eq_any(matching).nullable()));
    }
    refine(&filter.refine, &mut all);
    all.into_iter().fold(first, |a, b| Box::new(a.and(b)))
}

/// The level-2 field codes (those a listing holds) that start with one of `prefixes`.
fn codes_under(prefixes: &[String]) -> Vec<&'static str> {
    techex_domain::refdata::fields()
        .iter()
        .filter(|f| f.level() == 2 && prefixes.iter().any(|p| f.code.starts_with(p.as_str())))
        .map(|f| f.code.as_str())
        .collect()
}

/// The groups of filter tokens (kinds, provinces, field starts; one of each group) a search
/// through the full-text index asks for, the kinds and fields within the provinces of `scope`:
/// those then say the province themselves.
fn index_filters(filter: &ListingFilter, scope: &[String]) -> [Vec<String>; 3] {
    let within = |tokens: Vec<String>| -> Vec<String> {
        if scope.is_empty() {
            return tokens;
        }
        scope.iter().flat_map(|p| tokens.iter().map(move |t| scoped_token(p, t))).collect()
    };
    let provinces = if scope.is_empty() { filter.provinces.as_slice() } else { &[] };
    [
        within(filter.kinds.iter().map(|k| IndexFilter::Kind.token(k.as_str())).collect()),
        provinces.iter().map(|p| IndexFilter::Province.token(p)).collect(),
        within(filter.field_prefixes.iter().map(|f| IndexFilter::Field.token(f)).collect()),
    ]
}

fn refine(refine: &Refine, all: &mut Vec<Condition>) {
    if let Some(min) = refine.trl_min {
        all.push(Box::new(listings::trl.ge(min)));
    }
    if let Some(max) = refine.trl_max {
        all.push(Box::new(listings::trl.le(max)));
    }
    if !refine.ip_statuses.is_empty() {
        let statuses: Vec<&str> = refine.ip_statuses.iter().map(|s| s.as_str()).collect();
        all.push(Box::new(listings::ip_status.eq_any(statuses).nullable()));
    }
    if let Some(min) = refine.price_min {
        all.push(Box::new(listings::price_amount.ge(min)));
    }
    if let Some(max) = refine.price_max {
        all.push(Box::new(listings::price_amount.le(max)));
    }
    if let Some(since) = refine.updated_since {
        all.push(Box::new(listings::updated_at.ge(since.naive_utc()).nullable()));
    }
    if let Some(since) = refine.published_since {
        all.push(Box::new(listings::published_at.ge(since.naive_utc())));
    }
    for group in [
        refine.transfer_forms.iter().map(|w| term("transfer_form", w.as_str())).collect::<Vec<_>>(),
        refine.transfer_methods.iter().map(|w| term("transfer_method", w.as_str())).collect(),
        refine.rights.iter().map(|w| term("right", w.as_str())).collect(),
    ] {
        if !group.is_empty() {
            let holding =
                listing_terms::table.filter(listing_terms::term.eq_any(group)).select(listing_terms::listing_id);
            all.push(Box::new(listings::id.eq_any(holding).nullable()));
        }
    }
}

/// A row of `listing_terms`: the vocabulary and the word.
fn term(vocabulary: &str, word: &str) -> String {
    format!("{vocabulary}:{word}")
}

/// `query` ordered by a nullable number column (a missing value as `missing`), then by id in the
/// same direction, starting after the cursor's key and id.
macro_rules! by_value {
    ($query:expr, $column:expr, $sort:expr, $after:expr, $key:expr, $missing:expr) => {{
        let value = coalesce($column, $missing);
        let query = match ($sort.descending(), $after, $key) {
            (true, Some(after), Some(key)) => {
                $query.filter(value.lt(key).or(value.eq(key).and(listings::id.lt(after))))
            }
            (false, Some(after), Some(key)) => {
                $query.filter(value.gt(key).or(value.eq(key).and(listings::id.gt(after))))
            }
            _ => $query,
        };
        if $sort.descending() {
            query.order((value.desc(), listings::id.desc()))
        } else {
            query.order((value.asc(), listings::id.asc()))
        }
    }};
}

/// A page of the listings `filter` matches, each with its sort key (see [`sort_key`]).
pub fn list(conn: &mut DbConn, filter: &ListingFilter) -> Result<Vec<(Listing, Option<i64>)>, StoreError> {
    let backend = conn.backend();
    let words = prefix_words(conn, filter.refine.query.as_ref())?;
    // A prepared page reads a bucket of rows named in its SQL: with a bound LIMIT, PostgreSQL
    // plans the statement again on every run, as a plan for an unknown number of rows costs more.
    let bucket = (!filter.narrowed()).then(|| LIMIT_BUCKETS.iter().copied().find(|&b| b >= filter.limit)).flatten();
    let mut query = matching(backend, filter, words.as_deref(), Reach::Some);
    if bucket.is_none() {
        query = query.limit(filter.limit);
    }
    let after = filter.after.map(|a| a.to_string());
    let sort = filter.sort;
    let key = filter.after_key;
    let missing = sort.missing_key();
    match (sort, filter.refine.query.as_ref()) {
        (Sort::Relevance, Some(search)) => {
            let score = Score::of(search);
            if let (Some(after), Some(key)) = (after, key) {
                query = query.filter(score.clone().lt(key).or(score.clone().eq(key).and(listings::id.lt(after))));
            }
            let rows = query
                .order((score.clone().desc(), listings::id.desc()))
                .select((ListingRow::as_select(), score))
                .load::<(ListingRow, i64)>(conn)?;
            return rows.into_iter().map(|(row, score)| Ok((row.into_domain()?, Some(score)))).collect();
        }
        (Sort::Relevance | Sort::Newest, _) => {
            if let Some(after) = after {
                query = query.filter(listings::id.lt(after));
            }
            query = query.order(listings::id.desc());
        }
        (Sort::Updated, _) => {
            if let (Some(after), Some(key)) = (after, key) {
                let at = DateTime::<Utc>::from_timestamp_micros(key).unwrap_or_default().naive_utc();
                query = query
                    .filter(listings::updated_at.lt(at).or(listings::updated_at.eq(at).and(listings::id.lt(after))));
            }
            query = query.order((listings::updated_at.desc(), listings::id.desc()));
        }
        (Sort::PriceAscending | Sort::PriceDescending, _) => {
            query = by_value!(query, listings::price_amount, sort, after, key, missing);
        }
        (Sort::TrlAscending | Sort::TrlDescending, _) => {
            query = by_value!(query, listings::trl, sort, after, key, missing);
        }
    }
    let query = query.select(ListingRow::as_select());
    let rows: Vec<ListingRow> = match bucket {
        Some(rows) => LiteralLimit { query, rows }.load(conn)?,
        None => query.load(conn)?,
    };
    rows.into_iter()
        .take(usize::try_from(filter.limit).unwrap_or(0))
        .map(|row| {
            let listing = row.into_domain()?;
            let key = sort_key(sort, &listing, None);
            Ok((listing, key))
        })
        .collect()
}

/// How many of the most recently updated listings [`match_candidates`] looks through first for
/// the words of a listing's matches.
pub const RECENT_WINDOW: i64 = 2_000;

/// Published, live listings of `kind` that could match a listing: those with a field code under
/// one of `families` (broad fields, one digit) and those holding one of `words` (folded
/// significant words, letters and digits), each set the `limit` most recently updated, so at
/// most twice `limit`. `except` is left out. The words are looked for among the `window` most
/// recently updated first (see [`RECENT_WINDOW`]).
///
/// The words a listing is matched by are mostly common ones, held by most listings, so the
/// newest listings holding one are the newest listings: PostgreSQL walks them by date, and
/// checked each against the full-text index's expression (its `regexp_replace` is 0.3 ms a row:
/// 60 ms for a page of 200 at 100,000 listings). A `LIKE` on the folded text decides the same
/// for whole words (2.5 µs a row), but would read every listing for rare words: so the window
/// bounds it, and only when the window holds too few does the index find them all.
#[allow(clippy::too_many_arguments)]
pub fn match_candidates(
    conn: &mut DbConn,
    kind: ListingKind,
    families: &[String],
    words: &[String],
    except: ListingId,
    live_at: DateTime<Utc>,
    limit: i64,
    window: i64,
) -> Result<Vec<Listing>, StoreError> {
    let backend = conn.backend();
    let live_at = live_at.naive_utc();
    let live = || {
        listings::table
            .filter(listings::status.eq(ListingStatus::Published.as_str()))
            .filter(listings::deleted_at.is_null())
            .filter(listings::expires_at.is_null().or(listings::expires_at.gt(live_at)))
            .filter(listings::kind.eq(kind.as_str()))
            .filter(listings::id.ne(except.to_string()))
            .order((listings::updated_at.desc(), listings::id.desc()))
            .into_boxed()
    };
    let base = || live().limit(limit).select(ListingRow::as_select());
    let mut rows: Vec<ListingRow> = Vec::new();
    if !families.is_empty() {
        // The newest listings walked until enough are in the families, each looked up in
        // `listing_fields` by its exact codes. Asked for the listings of the families as a set
        // (`id IN (...)`, or an `EXISTS` it turns into a join), PostgreSQL may gather every one
        // and sort them all by date (345 ms at 100,000 listings, against 1.5 ms), and SQLite did
        // (330 ms, against 4 ms). `OFFSET 0` keeps the `EXISTS` a check of each listing walked:
        // PostgreSQL does not turn a subquery with an offset into a join.
        let page = base().filter(diesel::dsl::exists(
            listing_fields::table
                .filter(listing_fields::listing_id.eq(listings::id))
                .filter(listing_fields::field_code.eq_any(codes_under(families)))
                .offset(0),
        ));
        rows.extend(page.load::<ListingRow>(conn)?);
    }
    if !words.is_empty() {
        let seen: std::collections::HashSet<String> = rows.iter().map(|r| r.id.clone()).collect();
        // The oldest date within the window; none when every listing is within it.
        let oldest: Option<NaiveDateTime> =
            live().select(listings::updated_at).offset(window - 1).limit(1).first(conn).optional()?;
        let patterns: Vec<String> = words.iter().map(|w| format!("% {w} %")).collect();
        let mut recent = base().filter(Matches::any_of(Column::Text, patterns));
        if let Some(oldest) = oldest {
            recent = recent.filter(listings::updated_at.ge(oldest));
        }
        let mut by_words = recent.load::<ListingRow>(conn)?;
        if oldest.is_some() && by_words.len() < usize::try_from(limit).unwrap_or(0) {
            by_words = base().filter(Matches::any_word(backend, Column::Text, words)).load::<ListingRow>(conn)?;
        }
        rows.extend(by_words.into_iter().filter(|r| !seen.contains(&r.id)));
    }
    rows.into_iter().map(ListingRow::into_domain).collect()
}

/// Which of `ids` `filter` matches (its page, order and cursor aside): how a saved search tells
/// whether a listing just written is one `GET /v1/listings` would find with its query.
pub fn matching_ids(conn: &mut DbConn, filter: &ListingFilter, ids: &[String]) -> Result<Vec<String>, StoreError> {
    let backend = conn.backend();
    let words = prefix_words(conn, filter.refine.query.as_ref())?;
    let matches = matching(backend, filter, words.as_deref(), Reach::Some);
    Ok(matches.filter(listings::id.eq_any(ids.to_vec())).select(listings::id).load(conn)?)
}

/// How many listings `filter` matches on all pages.
pub fn count(conn: &mut DbConn, filter: &ListingFilter) -> Result<i64, StoreError> {
    let backend = conn.backend();
    let words = prefix_words(conn, filter.refine.query.as_ref())?;
    Ok(matching(backend, filter, words.as_deref(), Reach::All).count().get_result(conn)?)
}

/// What a facet counts the matches by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    Kind,
    Province,
    /// Field codes cut to this many digits (1: the six broad fields, 3: the fields themselves).
    Field(u8),
    Trl,
    IpStatus,
    TransferForm,
}

/// How many listings `filter` matches (whatever the page) for each value of each facet of
/// `wanted`, in its order, most first; values no match holds are left out, as are listings
/// without a TRL in the TRL facet. A listing in two fields of one group counts once for it.
/// Without conditions beyond published and live, the counts kept at write time answer (see
/// [`crate::facet_counts`]). Otherwise the facets on columns of `listings` come from one GROUP
/// BY over the matches, each of the others from one of its own.
pub fn facets(
    conn: &mut DbConn,
    filter: &ListingFilter,
    wanted: &[Facet],
) -> Result<Vec<Vec<(String, i64)>>, StoreError> {
    use diesel::dsl::count_star;
    use std::collections::BTreeMap;
    // Every page of listings comes through here; most ask for no facet.
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let backend = conn.backend();
    if filter.is_whole_published_set() {
        let mut all = facet_counts::whole_set(conn, wanted, filter.live_at)?;
        for counts in &mut all {
            counts.sort_by(|(va, ca), (vb, cb)| cb.cmp(ca).then(va.cmp(vb)));
        }
        return Ok(all);
    }
    let words = prefix_words(conn, filter.refine.query.as_ref())?;
    let words = words.as_deref();
    let on_columns = wanted.iter().any(|f| matches!(f, Facet::Kind | Facet::Province | Facet::IpStatus | Facet::Trl));
    // The few thousand combinations of the four columns at most, summed here per facet.
    let combinations: Vec<(String, String, String, Option<i64>, i64)> = if on_columns {
        listings::table
            .group_by((listings::kind, listings::province, listings::ip_status, listings::trl))
            .select((listings::kind, listings::province, listings::ip_status, listings::trl, count_star()))
            .into_boxed::<Backend>()
            .filter(condition(backend, filter, words, Reach::All))
            .load(conn)?
    } else {
        Vec::new()
    };
    let mut all = Vec::with_capacity(wanted.len());
    for facet in wanted {
        let mut counts: Vec<(String, i64)> = match facet {
            Facet::Kind | Facet::Province | Facet::IpStatus | Facet::Trl => {
                let mut sums: BTreeMap<String, i64> = BTreeMap::new();
                for (kind, province, ip_status, trl, n) in &combinations {
                    let value = match facet {
                        Facet::Kind => kind.clone(),
                        Facet::Province => province.clone(),
                        Facet::IpStatus => ip_status.clone(),
                        _ => match trl {
                            Some(trl) => trl.to_string(),
                            None => continue,
                        },
                    };
                    *sums.entry(value).or_default() += n;
                }
                sums.into_iter().collect()
            }
            Facet::Field(digits) => field_facet(conn, filter, words, *digits)?,
            Facet::TransferForm => listing_terms::table
                .group_by(listing_terms::term)
                .select((listing_terms::term, count_star()))
                .into_boxed::<Backend>()
                .filter(IdIn::new(
                    "listing_terms.listing_id",
                    matching(backend, filter, words, Reach::All).select(listings::id),
                ))
                .filter(listing_terms::term.like("transfer_form:%"))
                .load::<(String, i64)>(conn)?
                .into_iter()
                .map(|(t, n)| (t.trim_start_matches("transfer_form:").to_owned(), n))
                .collect(),
        };
        counts.sort_by(|(va, ca), (vb, cb)| cb.cmp(ca).then(va.cmp(vb)));
        all.push(counts);
    }
    Ok(all)
}

/// The field facet: matches per field code cut to `digits` digits.
fn field_facet(
    conn: &mut DbConn,
    filter: &ListingFilter,
    words: Words,
    digits: u8,
) -> Result<Vec<(String, i64)>, StoreError> {
    use diesel::dsl::sql;
    use diesel::sql_types::Text as SqlText;
    let backend = conn.backend();
    // The number of digits is one of 1, 2, 3 (never user text).
    let cut = format!("substr(listing_fields.field_code, 1, {})", digits.clamp(1, 3));
    // A boxed query takes no GROUP BY, but a grouped query may be boxed and then filtered.
    Ok(listing_fields::table
        .group_by(sql::<SqlText>(&cut))
        .select((sql::<SqlText>(&cut), sql::<diesel::sql_types::BigInt>("COUNT(DISTINCT listing_fields.listing_id)")))
        .into_boxed::<Backend>()
        .filter(IdIn::new(
            "listing_fields.listing_id",
            matching(backend, filter, words, Reach::All).select(listings::id),
        ))
        .load(conn)?)
}

/// The query with its words corrected for one typo each where a word finds nothing under the
/// filters but a word one typo away does (see [`techex_domain::search::best_correction`]);
/// `None` when no word was corrected. Scans the filtered listings: only asked when a query
/// found nothing.
pub fn correct(conn: &mut DbConn, filter: &ListingFilter) -> Result<Option<SearchQuery>, StoreError> {
    use crate::search::Matches as M;
    use techex_domain::search::{Term, best_correction, typo_patterns};
    let Some(query) = filter.refine.query.clone() else { return Ok(None) };
    let backend = conn.backend();
    let unsearched = ListingFilter { refine: Refine { query: None, ..filter.refine.clone() }, ..filter.clone() };
    let mut corrected = query.clone();
    for (word, prefix) in query.correctable_words() {
        let as_typed = Term { words: vec![word.clone()], prefix }.pattern();
        let found = matching(backend, &unsearched, None, Reach::Some)
            .filter(M::any_of(Column::Text, vec![as_typed]))
            .select(listings::id)
            .first::<String>(conn)
            .optional()?;
        if found.is_some() {
            continue;
        }
        let texts: Vec<String> = matching(backend, &unsearched, None, Reach::Some)
            .filter(M::any_of(Column::Text, typo_patterns(&word, prefix)))
            .order(listings::id.desc())
            .select(listings::search_text)
            .limit(TYPO_SAMPLE)
            .load(conn)?;
        if let Some(better) = best_correction(&word, prefix, texts.iter().map(String::as_str)) {
            corrected = corrected.replacing(&word, &better);
        }
    }
    Ok((corrected != query).then_some(corrected))
}

/// The most listings (newest first) read to choose a correction.
const TYPO_SAMPLE: i64 = 200;

/// Published, live listings whose title holds the query (its last word as a prefix), best
/// first (see [`Score`]), then newest: what a search box offers while someone types.
pub fn suggest(
    conn: &mut DbConn,
    query: &SearchQuery,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(ListingId, String, Option<String>)>, StoreError> {
    let backend = conn.backend();
    let words = prefix_words(conn, Some(query))?;
    let score = Score::of(query);
    let live_at = now.naive_utc();
    let rows = listings::table
        .filter(listings::status.eq(ListingStatus::Published.as_str()))
        .filter(listings::deleted_at.is_null())
        .filter(listings::expires_at.is_null().or(listings::expires_at.gt(live_at)))
        .filter(Matches::new(backend, Column::Title, query, words.as_deref(), &[]))
        .order((score.desc(), listings::id.desc()))
        .limit(limit)
        .select(ListingRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let listing = row.into_domain()?;
            let title = listing.content.title;
            Ok((listing.id, title.vi, title.en))
        })
        .collect()
}

/// Inserts a new listing and its side rows; pass it to [`crate::versioned::create`].
pub fn insert(conn: &mut DbConn, listing: &Listing) -> Result<(), StoreError> {
    let record = ListingRecord::of(listing);
    diesel::insert_into(listings::table).values(&record).execute(conn)?;
    add_words(conn, [record.search_text.as_str()])?;
    replace_fields(conn, listing)?;
    replace_terms(conn, listing)?;
    facet_counts::record(conn, None, Member::of(listing).as_ref())
}

impl Versioned for Listing {
    const ENTITY: Entity = Entity::Listing;
    type Id = ListingId;
    type Write = ListingWrite;

    versioned_basics!(listings, ListingId);

    fn overwrite(&self, conn: &mut DbConn, read_version: i64, _: &ListingWrite) -> Result<usize, StoreError> {
        // What the facet counts hold of the row being replaced (its side rows come back from
        // their deletion below).
        let before: Option<(String, String, String, Option<i64>)> = listings::table
            .filter(listings::id.eq(self.id.to_string()))
            .filter(listings::version.eq(read_version))
            .filter(listings::status.eq(ListingStatus::Published.as_str()))
            .filter(listings::deleted_at.is_null())
            .select((listings::kind, listings::province, listings::ip_status, listings::trl))
            .first(conn)
            .optional()?;
        let record = ListingRecord::of(self);
        let updated = diesel::update(listings::table)
            .filter(listings::id.eq(self.id.to_string()))
            .filter(listings::version.eq(read_version))
            .set(&record)
            .execute(conn)?;
        if updated > 0 {
            add_words(conn, [record.search_text.as_str()])?;
            let field_codes = replace_fields(conn, self)?;
            let terms = replace_terms(conn, self)?;
            let before = before.map(|(kind, province, ip_status, trl)| Member {
                kind,
                province,
                ip_status,
                trl,
                field_codes,
                transfer_forms: facet_counts::transfer_forms(&terms),
            });
            facet_counts::record(conn, before.as_ref(), Member::of(self).as_ref())?;
        }
        Ok(updated)
    }

    /// Partners follow a listing while it is on the market (and hear when it leaves it).
    fn audience(&self) -> Audience {
        if self.status == ListingStatus::Published && !self.is_deleted() {
            Audience::Everyone
        } else {
            Audience::Operator
        }
    }
}

/// Rewrites the listing's rows of `listing_fields`; returns the codes they held.
fn replace_fields(conn: &mut DbConn, listing: &Listing) -> Result<Vec<String>, StoreError> {
    let id = listing.id.to_string();
    let old = diesel::delete(listing_fields::table.filter(listing_fields::listing_id.eq(&id)))
        .returning(listing_fields::field_code)
        .load(conn)?;
    // One row at a time: multi-row inserts do not compile over a MultiConnection.
    for code in &listing.content.field_codes {
        diesel::insert_into(listing_fields::table)
            .values((listing_fields::listing_id.eq(&id), listing_fields::field_code.eq(code)))
            .execute(conn)?;
    }
    Ok(old)
}

/// The listing's transfer forms, transfer methods and rights as the rows of `listing_terms` keep
/// them, for filters and facets.
pub(crate) fn terms_of(listing: &Listing) -> Vec<String> {
    let c = &listing.content;
    let mut terms: Vec<String> = c.transfer_forms.iter().map(|w| term("transfer_form", w.as_str())).collect();
    terms.extend(c.transfer_methods.iter().map(|w| term("transfer_method", w.as_str())));
    terms.extend(c.rights.iter().map(|w| term("right", w.as_str())));
    terms.sort();
    terms.dedup();
    terms
}

/// Rewrites the listing's rows of `listing_terms`; returns the terms they held.
fn replace_terms(conn: &mut DbConn, listing: &Listing) -> Result<Vec<String>, StoreError> {
    let id = listing.id.to_string();
    let old = diesel::delete(listing_terms::table.filter(listing_terms::listing_id.eq(&id)))
        .returning(listing_terms::term)
        .load(conn)?;
    // One row at a time: multi-row inserts do not compile over a MultiConnection.
    for t in terms_of(listing) {
        diesel::insert_into(listing_terms::table)
            .values((listing_terms::listing_id.eq(&id), listing_terms::term.eq(t)))
            .execute(conn)?;
    }
    Ok(old)
}

/// Published listings whose expiry is at or before `now`, oldest expiry first.
pub fn due_to_expire(conn: &mut DbConn, now: DateTime<Utc>, limit: i64) -> Result<Vec<ListingId>, StoreError> {
    listings::table
        .filter(listings::status.eq(ListingStatus::Published.as_str()))
        .filter(listings::deleted_at.is_null())
        .filter(listings::expires_at.le(now.naive_utc()))
        .order(listings::expires_at.asc())
        .select(listings::id)
        .limit(limit)
        .load::<String>(conn)?
        .into_iter()
        .map(|id| {
            id.parse().map_err(|e: uuid::Error| StoreError::Corrupt { entity: ENTITY, id, reason: e.to_string() })
        })
        .collect()
}

/// Purges up to `limit` tombstones: listings deleted at or before `before`, with their side rows.
/// A tombstone an expression of interest or a contract still points at is kept. The change log
/// keeps every change of a purged listing. Returns how many were purged. A tombstone is not in
/// the whole published set, so the kept facet counts ([`crate::facet_counts`]) do not change.
pub fn purge_tombstones(conn: &mut DbConn, before: DateTime<Utc>, limit: i64) -> Result<usize, StoreError> {
    use crate::schema::{contracts, interests};
    crate::db::write(conn, |conn| {
        let referenced_by_interests = interests::table.select(interests::listing_id);
        let referenced_by_contracts = contracts::table
            .filter(contracts::listing_id.is_not_null())
            .select(contracts::listing_id.assume_not_null());
        let ids: Vec<String> = listings::table
            .filter(listings::deleted_at.le(before.naive_utc()))
            .filter(listings::id.ne_all(referenced_by_interests))
            .filter(listings::id.ne_all(referenced_by_contracts))
            .order(listings::deleted_at.asc())
            .select(listings::id)
            .limit(limit)
            .load(conn)?;
        diesel::delete(listing_fields::table.filter(listing_fields::listing_id.eq_any(&ids))).execute(conn)?;
        diesel::delete(listing_terms::table.filter(listing_terms::listing_id.eq_any(&ids))).execute(conn)?;
        Ok(diesel::delete(listings::table.filter(listings::id.eq_any(&ids))).execute(conn)?)
    })
}

/// Fills the folded title of listings written before titles were kept apart for search (a
/// derived column, like `search_text`: no new version, nothing in the change log). Returns how
/// many were filled.
pub fn fill_search_titles(conn: &mut DbConn) -> Result<usize, StoreError> {
    let mut filled = 0;
    loop {
        let rows: Vec<ListingRow> = listings::table
            .filter(listings::search_title.eq(""))
            .order(listings::id.asc())
            .limit(500)
            .select(ListingRow::as_select())
            .load(conn)?;
        if rows.is_empty() {
            return Ok(filled);
        }
        for row in rows {
            let listing = row.into_domain()?;
            let title = listing.search_title();
            // A title of punctuation only folds to nothing: a space marks it done.
            diesel::update(listings::table.filter(listings::id.eq(listing.id.to_string())))
                .set(listings::search_title.eq(if title.is_empty() { " ".to_owned() } else { title }))
                .execute(conn)?;
            filled += 1;
        }
    }
}

/// Whether any listing was ever stored; demo data goes only into an empty database.
pub fn is_empty(conn: &mut DbConn) -> Result<bool, StoreError> {
    let count: i64 = listings::table.count().get_result(conn)?;
    Ok(count == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::{Connection, InstrumentationEvent};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_page_without_facets_asks_the_database_nothing_for_them() {
        let dir = std::env::temp_dir().join(format!("techex-no-facets-{}", uuid::Uuid::now_v7()));
        let db = crate::Db::connect(dir.join("hub.db").to_str().unwrap(), 1).unwrap();
        let mut conn = db.conn().unwrap();
        let queries = Arc::new(AtomicUsize::new(0));
        let counted = queries.clone();
        let DbConn::Sqlite(sqlite) = &mut *conn else { unreachable!("a file path opens SQLite") };
        sqlite.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if matches!(event, InstrumentationEvent::StartQuery { .. }) {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        let whole_set = ListingFilter::published(None, 20, Utc::now());
        let searched = ListingFilter {
            refine: Refine { query: SearchQuery::parse("may say").unwrap(), ..Refine::default() },
            ..whole_set.clone()
        };
        for filter in [whole_set, searched] {
            assert!(facets(&mut conn, &filter, &[]).unwrap().is_empty());
        }
        assert_eq!(queries.load(Ordering::SeqCst), 0);
        drop(conn);
        drop(db);
        std::fs::remove_dir_all(dir).ok();
    }

    /// A schema of its own on the PostgreSQL of `TEST_DATABASE_URL`, migrated, with `rows`
    /// listings titled "Máy sấy", published unless `draft(n)`, in province `province(n)`, all in
    /// fields 206 and 401; dropped with the value.
    struct Scratch {
        admin: diesel::PgConnection,
        schema: String,
        db: Option<crate::Db>,
    }

    impl Scratch {
        fn with_listings(rows: i64, draft: &str, province: &str) -> Scratch {
            use diesel::{PgConnection, sql_query};
            let base = std::env::var("TEST_DATABASE_URL").unwrap();
            let schema = format!("plan_{}", uuid::Uuid::now_v7().simple());
            let mut admin = PgConnection::establish(&base).unwrap();
            sql_query(format!("CREATE SCHEMA {schema}")).execute(&mut admin).unwrap();
            let separator = if base.contains('?') { '&' } else { '?' };
            let db = crate::Db::connect(&format!("{base}{separator}options=-csearch_path%3D{schema}"), 1).unwrap();
            let mut conn = db.conn().unwrap();
            let DbConn::Pg(pg) = &mut *conn else { unreachable!("a postgres:// URL opens PostgreSQL") };
            sql_query(format!(
                r#"INSERT INTO listings (id, kind, status, province, province_as_sent, ip_status, title_vi,
                       search_text, search_title, search_filters, content, version, created_at, updated_at,
                       published_at)
                   SELECT format('%s-0000-7000-8000-000000000000', lpad(to_hex(g), 8, '0')), 'offer',
                       CASE WHEN {draft} THEN 'draft' ELSE 'published' END, {province}, {province}, 'none',
                       'Máy sấy', 'may say', 'may say',
                       '/kind/offer /province/' || {province} || ' /field/2 /field/20 /field/206 /field/4 /field/40 /field/401',
                       '{{"kind":"offer","title":{{"vi":"Máy sấy"}},"province":"79","owner":{{"name":"Viện A"}},
                       "field_codes":["206","401"]}}', 1, now(), now(), CASE WHEN {draft} THEN NULL ELSE now() END
                   FROM generate_series(1, {rows}) AS g"#
            ))
            .execute(pg)
            .unwrap();
            sql_query("INSERT INTO search_words (word) VALUES ('may'), ('say')").execute(pg).unwrap();
            sql_query("ANALYZE listings").execute(pg).unwrap();
            drop(conn);
            Scratch { admin, schema, db: Some(db) }
        }

        /// The rows of `listings` that `reads` read, in a transaction of their own.
        fn rows_read_by(&self, reads: impl FnOnce(&mut DbConn) -> Result<(), StoreError>) -> i64 {
            let mut conn = self.db.as_ref().unwrap().conn().unwrap();
            conn.transaction(|conn| {
                reads(conn)?;
                rows_read(conn)
            })
            .unwrap()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            self.db.take();
            diesel::sql_query(format!("DROP SCHEMA {} CASCADE", self.schema)).execute(&mut self.admin).unwrap();
        }
    }

    /// The rows of `listings` the transaction read so far: sequential and bitmap scans count on
    /// the table, index scans on the index they walk.
    fn rows_read(conn: &mut DbConn) -> Result<i64, StoreError> {
        #[derive(diesel::QueryableByName)]
        struct Read {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            rows: i64,
        }
        let DbConn::Pg(pg) = conn else { unreachable!() };
        let read: Read = diesel::sql_query(
            "SELECT pg_stat_get_xact_tuples_returned('listings'::regclass)
                  + pg_stat_get_xact_tuples_fetched('listings'::regclass)
                  + (SELECT sum(pg_stat_get_xact_tuples_fetched(indexrelid))::bigint
                     FROM pg_index WHERE indrelid = 'listings'::regclass) AS rows",
        )
        .get_result(pg)?;
        Ok(read.rows)
    }

    /// A portal importing drafts in bulk leaves them newer than every published listing: the
    /// newest page of published listings must still read about its own rows, not walk the
    /// primary key back through every newer draft (at 1,000,000 listings after 137,500 drafts:
    /// 494 ms and 20,831 buffers for one page of 20).
    #[test]
    #[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
    fn the_newest_published_page_reads_its_own_rows_past_a_burst_of_newer_drafts() {
        const PAGES: i64 = 8;
        // 20,000 published listings, then 3,000 drafts with higher (newer) ids.
        let scratch = Scratch::with_listings(23_000, "g > 20000", "'79'");
        let read = scratch.rows_read_by(|conn| {
            // Past PostgreSQL's first five executions of a prepared statement, after which it may
            // plan once for any bound values.
            for _ in 0..PAGES {
                let page = list(conn, &ListingFilter::published(None, 20, Utc::now()))?;
                assert_eq!(page.len(), 20);
                assert!(page.iter().all(|(l, _)| l.status == ListingStatus::Published));
            }
            Ok(())
        });
        assert!(read <= PAGES * 30, "{PAGES} pages of 20 read {read} rows");
    }

    /// An unfiltered page (a portal's front page, a mirror walking every listing) is prepared once
    /// per connection and, past PostgreSQL's first five runs, no longer planned; a filtered page
    /// is not kept, as the shapes filters combine into are many, each a statement the connection
    /// keeps. A page size between two buckets still gets its own number of listings.
    #[test]
    #[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
    fn an_unfiltered_page_is_prepared_and_planned_once_per_connection_and_a_filtered_one_is_not() {
        #[derive(diesel::QueryableByName)]
        struct Prepared {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            statements: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            planned_once: i64,
        }
        fn prepared_pages(conn: &mut DbConn) -> Prepared {
            let DbConn::Pg(pg) = conn else { unreachable!("a postgres:// URL opens PostgreSQL") };
            diesel::sql_query(
                r#"SELECT count(*) AS statements, count(*) FILTER (WHERE generic_plans > 0) AS planned_once
                   FROM pg_prepared_statements WHERE statement LIKE '%FROM "listings"%'"#,
            )
            .get_result(pg)
            .unwrap()
        }
        let scratch = Scratch::with_listings(50, "false", "'79'");
        let mut conn = scratch.db.as_ref().unwrap().conn().unwrap();
        let before = prepared_pages(&mut conn);
        for _ in 0..8 {
            let first = list(&mut conn, &ListingFilter::published(None, 21, Utc::now())).unwrap();
            assert_eq!(first.len(), 21);
            let after = Some(first[19].0.id);
            assert_eq!(list(&mut conn, &ListingFilter::published(after, 21, Utc::now())).unwrap().len(), 21);
        }
        // The first page and the pages after a cursor.
        let prepared = prepared_pages(&mut conn);
        assert_eq!((prepared.statements - before.statements, prepared.planned_once - before.planned_once), (2, 2));
        for trl in 1..=3 {
            let mut filter = ListingFilter::published(None, 21, Utc::now());
            filter.provinces = vec!["79".to_owned()];
            filter.refine.trl_min = Some(trl);
            list(&mut conn, &filter).unwrap();
        }
        assert_eq!(prepared_pages(&mut conn).statements - before.statements, 2);
        // 30 is read through the bucket of 51.
        let page = list(&mut conn, &ListingFilter::published(None, 30, Utc::now())).unwrap();
        let ids: Vec<_> = page.iter().map(|(l, _)| l.id).collect();
        let mut newest: Vec<_> = list(&mut conn, &ListingFilter::published(None, 200, Utc::now()))
            .unwrap()
            .into_iter()
            .map(|(l, _)| l.id)
            .collect();
        newest.truncate(30);
        assert_eq!(ids, newest);
    }

    /// Every stored document is compressed with LZ4 (migration 000027), which PostgreSQL reads
    /// back about twice as fast as its default pglz: each read by id, page, export and feed page
    /// decompresses them.
    #[test]
    #[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
    fn stored_documents_are_compressed_with_lz4() {
        #[derive(diesel::QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Text)]
            text: String,
        }
        let scratch = Scratch::with_listings(1, "false", "'79'");
        let mut conn = scratch.db.as_ref().unwrap().conn().unwrap();
        let DbConn::Pg(pg) = &mut *conn else { unreachable!("a postgres:// URL opens PostgreSQL") };
        let lz4_columns: Text = diesel::sql_query(
            "SELECT string_agg(c.relname || '.' || a.attname, ' ' ORDER BY c.relname, a.attname) AS text
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             WHERE c.relnamespace = current_schema()::regnamespace AND a.attcompression = 'l'",
        )
        .get_result(pg)
        .unwrap();
        assert_eq!(
            lz4_columns.text,
            "centers.content centers.search_text change_log.data contracts.content listings.content \
             listings.search_text organizations.content"
        );
        // A document long enough to be compressed at all (past about 2 KB).
        diesel::sql_query("UPDATE listings SET content = repeat(content, 20)").execute(pg).unwrap();
        let compression: Text =
            diesel::sql_query("SELECT pg_column_compression(content) AS text FROM listings").get_result(pg).unwrap();
        assert_eq!(compression.text, "lz4");
    }

    /// A search with a province reads its words within the province from the full-text index:
    /// the expression the SQL repeats must be the index's own, or PostgreSQL reads every row.
    #[test]
    #[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
    fn a_search_within_a_province_reads_only_that_provinces_matches() {
        const SEARCHES: i64 = 8;
        // 20,000 published listings over 20 provinces: 1,000 in each.
        let scratch = Scratch::with_listings(20_000, "false", "lpad((g % 20 + 1)::text, 2, '0')");
        let read = scratch.rows_read_by(|conn| {
            for n in 0..SEARCHES {
                let mut filter = ListingFilter::published(None, 20, Utc::now());
                filter.refine.query = SearchQuery::parse(if n % 2 == 0 { "máy" } else { "may say" }).unwrap();
                filter.provinces = vec![format!("{:02}", n + 1)];
                filter.field_prefixes = vec!["4".to_owned()];
                filter.kinds = vec![ListingKind::Offer];
                let page = list(conn, &filter)?;
                assert_eq!(page.len(), 20);
                assert!(page.iter().all(|(l, _)| l.province == filter.provinces[0]));
            }
            Ok(())
        });
        assert!(read <= SEARCHES * 1_100, "{SEARCHES} searches of 1,000 matches each read {read} rows");
    }

    /// The scratch listings' field codes (206 and 401, as their content says) and, for those
    /// of `holding` (a condition on the series number `g`), the word "hiem" in their text.
    /// Written through the admin connection: the statistics a test reads of the pool's one
    /// connection then count its own reads only.
    fn with_fields_and_a_rare_word(scratch: &mut Scratch, holding: &str) {
        let schema = &scratch.schema;
        for statement in [
            format!(
                "INSERT INTO {schema}.listing_fields (listing_id, field_code)
                 SELECT id, code FROM {schema}.listings, (VALUES ('206'), ('401')) AS codes (code)"
            ),
            format!(
                "UPDATE {schema}.listings SET search_text = 'may say hiem', updated_at = now() - interval '1 day'
                 WHERE ('x' || substr(id, 1, 8))::bit(32)::int IN
                       (SELECT g FROM generate_series(1, 30000) AS g WHERE {holding})"
            ),
            format!("ANALYZE {schema}.listings, {schema}.listing_fields"),
        ] {
            diesel::sql_query(statement).execute(&mut scratch.admin).unwrap();
        }
    }

    /// A listing's match candidates in its broad fields are the newest listings of those fields,
    /// found by walking the newest until enough are: with the fields' codes cut by `substr`,
    /// PostgreSQL expected 1% of the listings in them, gathered every one and sorted them all
    /// (345 ms at 100,000 listings).
    #[test]
    #[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
    fn match_candidates_in_broad_fields_read_about_as_many_listings_as_they_return() {
        let mut scratch = Scratch::with_listings(20_000, "false", "'79'");
        with_fields_and_a_rare_word(&mut scratch, "false");
        let except = ListingId(Uuid::now_v7());
        let mut found = 0;
        let read = scratch.rows_read_by(|conn| {
            let families = ["2".to_owned(), "4".to_owned()];
            found = match_candidates(conn, ListingKind::Offer, &families, &[], except, Utc::now(), 200, RECENT_WINDOW)?
                .len();
            Ok(())
        });
        assert_eq!(found, 200);
        assert!(read <= 600, "200 candidates read {read} listings");
    }

    /// Candidates by words: a common word's are the newest listings, found among the newest
    /// without the full-text index's per-row cost; a rare word's, too few there, through the
    /// index, the newest of all that hold it.
    #[test]
    #[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
    fn match_candidates_by_words_are_the_newest_holders_whether_the_words_are_common_or_rare() {
        let mut scratch = Scratch::with_listings(3_000, "false", "'79'");
        // Listings 1-40 hold the rare word, and are a day older than every other.
        with_fields_and_a_rare_word(&mut scratch, "g <= 40");
        let mut conn = scratch.db.as_ref().unwrap().conn().unwrap();
        let except = ListingId(Uuid::now_v7());
        let newest = |conn: &mut DbConn, word: &str| -> Vec<String> {
            let DbConn::Pg(pg) = conn else { unreachable!() };
            #[derive(diesel::QueryableByName)]
            struct Id {
                #[diesel(sql_type = diesel::sql_types::Text)]
                id: String,
            }
            diesel::sql_query(format!(
                "SELECT id FROM listings WHERE ' ' || search_text || ' ' LIKE '% {word} %'
                 ORDER BY updated_at DESC, id DESC LIMIT 25"
            ))
            .load::<Id>(pg)
            .unwrap()
            .into_iter()
            .map(|row| row.id)
            .collect()
        };
        for word in ["say", "hiem"] {
            let words = [word.to_owned()];
            let found: Vec<String> =
                match_candidates(&mut conn, ListingKind::Offer, &[], &words, except, Utc::now(), 25, 100)
                    .unwrap()
                    .into_iter()
                    .map(|l| l.id.to_string())
                    .collect();
            assert_eq!(found, newest(&mut conn, word), "candidates holding {word:?}");
        }
    }

    #[test]
    fn content_stored_before_the_exchange_fields_reads_with_their_defaults() {
        let old = r#"{"kind":"offer","title":{"vi":"Máy sấy"},"price":{"amount":5,"currency":"VND","negotiable":false},
            "province":"79","owner":{"name":"Viện A"}}"#;
        let content: ListingContent = stored::read::<StoredContent>(old).unwrap().into();
        assert_eq!(content.price.kind, None);
        assert_eq!(content.development_stage, None);
        assert!(content.ip_territory.is_empty() && content.co_owners.is_empty() && content.confidential.is_none());
    }

    #[test]
    fn the_exchange_fields_are_kept_as_written() {
        let mut content: ListingContent = stored::read::<StoredContent>(
            r#"{"kind":"offer","title":{"vi":"Máy sấy"},"province":"79","owner":{"name":"Viện A"}}"#,
        )
        .unwrap()
        .into();
        content.price.kind = Some(PriceType::Floor);
        content.development_stage = Some(DevelopmentStage::Pilot);
        content.ip_territory = vec!["VN".into()];
        content.co_owners = vec![CoOwner { name: "B".into(), organization_id: None, share_percent: 30 }];
        content.confidential = Some(Confidential { commercial_terms: Some("10%".into()), ..Confidential::default() });
        let text = stored::write(&StoredContent::from(&content));
        assert!(text.contains(r#""type":"floor""#), "{text}");
        let back: ListingContent = stored::read::<StoredContent>(&text).unwrap().into();
        assert_eq!(back, content);
    }
}
