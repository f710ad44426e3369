//! The wire shapes of listings: the content a publisher writes, the listing the hub answers, and
//! their conversions to and from the domain. Their limits are the domain's rules ([`LIMITS`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::access::{self, Caller, may_read_contact};
use techex_domain::listing::{
    self as domain, DESCRIPTION_MAX, EXTERNAL_ID_MAX, FIELD_CODES_MAX, IP_REFS_MAX, KEYWORD_MAX, KEYWORDS_MAX,
    MEDIA_MAX, SUMMARY_MAX, TITLE_MAX, TRL_MAX, TRL_MIN,
};
use techex_domain::values::{EXCHANGE_CODE_PATTERN, PHONE_MAX, SHORT_TEXT_MAX, URL_MAX};
use techex_domain::{
    IpStatus, LifecycleAction, Listing, ListingKind, ListingStatus, RestorePeriod, Right, TransferForm, TransferMethod,
};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kit::{Limit, Limits, Page};
use crate::routes::values_dto::{LocalizedDescription, LocalizedSummary, LocalizedText};
use crate::routes::vocabulary_dto as words;

/// What a publisher writes about a technology: the body of `POST /v1/listings`, and what a
/// `PATCH` merges into.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListingContent {
    #[schema(value_type = words::ListingKind)]
    pub kind: ListingKind,
    pub title: LocalizedText,
    #[serde(default)]
    pub summary: Option<LocalizedSummary>,
    #[serde(default)]
    pub description: Option<LocalizedDescription>,
    #[serde(default)]
    #[schema(example = json!(["sấy", "nông sản"]))]
    pub keywords: Vec<String>,
    /// Level-2 S&T field codes (`GET /v1/reference/fields`), at least one.
    #[schema(example = json!(["211", "401"]))]
    pub field_codes: Vec<String>,
    /// Technology readiness level 1-9: reached, for an offer; the minimum wanted, for a demand.
    #[serde(default)]
    #[schema(example = 7)]
    pub trl: Option<i64>,
    #[serde(default = "no_ip")]
    #[schema(value_type = words::IpStatus)]
    pub ip_status: IpStatus,
    /// Numbers of patents, utility solutions or applications.
    #[serde(default)]
    #[schema(example = json!(["2-0002345"]))]
    pub ip_refs: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<words::TransferForm>)]
    pub transfer_forms: Vec<TransferForm>,
    #[serde(default)]
    #[schema(value_type = Vec<words::TransferMethod>)]
    pub transfer_methods: Vec<TransferMethod>,
    #[serde(default)]
    #[schema(value_type = Vec<words::Right>)]
    pub rights: Vec<Right>,
    #[serde(default)]
    pub price: Price,
    /// Province code as the client knows it; pre-2025 codes are accepted and resolved to the
    /// current province.
    #[schema(example = "74")]
    pub province: String,
    pub owner: Owner,
    #[serde(default)]
    pub contact: Option<Contact>,
    #[serde(default)]
    pub media: Vec<Media>,
    #[serde(default)]
    pub source: Option<Source>,
    #[serde(default, deserialize_with = "crate::kit::optional_body_timestamp")]
    pub expires_at: Option<DateTime<Utc>>,
}

fn no_ip() -> IpStatus {
    IpStatus::None
}

/// A price (offers) or budget (demands) in whole Vietnamese đồng; `amount` may be left out when
/// the price is only negotiable.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Price {
    #[serde(default)]
    #[schema(example = 450000000)]
    pub amount: Option<i64>,
    #[serde(default = "vnd")]
    #[schema(example = "VND")]
    pub currency: String,
    #[serde(default)]
    pub negotiable: bool,
}

fn vnd() -> String {
    domain::Price::default().currency
}

impl Default for Price {
    fn default() -> Self {
        domain::Price::default().into()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Owner {
    /// The owner's organization in techex, when it has one.
    #[serde(default, deserialize_with = "crate::kit::optional_body_id")]
    pub organization_id: Option<Uuid>,
    #[schema(example = "Viện Cơ điện Nông nghiệp")]
    pub name: String,
}

/// How to reach the people behind a listing; never shown to anonymous callers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Media {
    #[schema(example = "https://example.vn/may-say.jpg")]
    pub url: String,
    #[schema(value_type = words::MediaKind)]
    pub kind: domain::MediaKind,
    #[serde(default)]
    pub title: Option<String>,
}

/// Where a record came from when a portal or a partner exchange pushed it: the exchange's short
/// name and the record's id there. The pair identifies one listing across pushes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Source {
    #[schema(example = "binhduong")]
    pub exchange: String,
    #[schema(example = "SP-2024-117")]
    pub external_id: String,
    #[serde(default)]
    pub url: Option<String>,
}

/// A listing as the hub answers it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListingResponse {
    pub id: Uuid,
    #[schema(value_type = words::ListingKind)]
    pub kind: ListingKind,
    #[schema(value_type = words::ListingStatus)]
    pub status: ListingStatus,
    /// Grows by one with every write; the ETag is `"v<version>"`.
    pub version: i64,
    pub title: LocalizedText,
    pub summary: Option<LocalizedSummary>,
    pub description: Option<LocalizedDescription>,
    pub keywords: Vec<String>,
    pub field_codes: Vec<String>,
    pub trl: Option<i64>,
    #[schema(value_type = words::IpStatus)]
    pub ip_status: IpStatus,
    pub ip_refs: Vec<String>,
    #[schema(value_type = Vec<words::TransferForm>)]
    pub transfer_forms: Vec<TransferForm>,
    #[schema(value_type = Vec<words::TransferMethod>)]
    pub transfer_methods: Vec<TransferMethod>,
    #[schema(value_type = Vec<words::Right>)]
    pub rights: Vec<Right>,
    pub price: Price,
    /// The current province code (after the 2025 reorganization).
    #[schema(example = "79")]
    pub province: String,
    /// The province code as the publisher sent it.
    #[schema(example = "74")]
    pub province_as_sent: String,
    pub owner: Owner,
    /// Shown to authenticated callers only.
    pub contact: Option<Contact>,
    pub media: Vec<Media>,
    pub source: Option<Source>,
    /// The organization whose client published the listing.
    pub publisher: Option<Uuid>,
    /// The lifecycle actions this caller may take on the listing now (none for anonymous callers).
    #[schema(value_type = Vec<words::LifecycleAction>)]
    pub allowed_actions: Vec<LifecycleAction>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// When the listing was deleted (its status is then `withdrawn`): only its organization sees
    /// it, and may `restore` it within the restore period.
    pub deleted_at: Option<DateTime<Utc>>,
    /// How many expressions of interest the listing received: only on `GET /v1/listings/{id}`
    /// when `fields` names it (`fields=interests`, or with other members), and only for its
    /// publisher's clients with `listings:write` and the operator. Asked for, it is counted in
    /// one query over the listing's interests; the ETag then changes with each new or answered
    /// interest (and still names the listing's version for `If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interests: Option<crate::routes::interests_dto::InterestCount>,
}

/// A page of them, as every list answers it (named in the document, which cannot name a generic).
pub type ListingPage = Page<ListingResponse>;

/// The listing as the operator and its publisher see it: with the contact.
impl From<&Listing> for ListingResponse {
    fn from(listing: &Listing) -> Self {
        ListingResponse::with_contact(listing.clone(), true)
    }
}

impl ListingResponse {
    /// The listing as this caller may see it: contact details only for authenticated callers.
    pub fn for_caller(listing: Listing, caller: &Caller) -> Self {
        let allowed_actions = access::allowed_actions(caller, &listing);
        ListingResponse { allowed_actions, ..ListingResponse::with_contact(listing, may_read_contact(caller)) }
    }

    /// The listing with or without contact details, offering every action its status allows
    /// (what the operator may do: the representation of the change log).
    fn with_contact(listing: Listing, contact: bool) -> Self {
        let allowed_actions = listing.status.allowed_actions();
        let c = ListingContent::from(listing.content);
        ListingResponse {
            id: listing.id.0,
            kind: c.kind,
            status: listing.status,
            version: listing.version,
            title: c.title,
            summary: c.summary,
            description: c.description,
            keywords: c.keywords,
            field_codes: c.field_codes,
            trl: c.trl,
            ip_status: c.ip_status,
            ip_refs: c.ip_refs,
            transfer_forms: c.transfer_forms,
            transfer_methods: c.transfer_methods,
            rights: c.rights,
            price: c.price,
            province: listing.province,
            province_as_sent: c.province,
            owner: c.owner,
            contact: if contact { c.contact } else { None },
            media: c.media,
            source: c.source,
            publisher: listing.publisher,
            allowed_actions,
            expires_at: c.expires_at,
            created_at: listing.created_at,
            updated_at: listing.updated_at,
            published_at: listing.published_at,
            deleted_at: listing.deleted_at,
            interests: None,
        }
    }

    /// The listing as this caller sees it at `now`: `restore` is offered within the restore
    /// period only.
    pub fn seen_at(listing: Listing, caller: &Caller, now: DateTime<Utc>, period: RestorePeriod) -> Self {
        let restorable = listing.is_restorable(now, period);
        let mut seen = ListingResponse::for_caller(listing, caller);
        seen.allowed_actions.retain(|action| restorable || *action != LifecycleAction::Restore);
        seen
    }
}

impl From<ListingContent> for domain::ListingContent {
    fn from(c: ListingContent) -> Self {
        let (p, o) = (c.price, c.owner);
        domain::ListingContent {
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
            price: domain::Price { amount: p.amount, currency: p.currency, negotiable: p.negotiable },
            province: c.province,
            owner: domain::Owner { organization_id: o.organization_id, name: o.name },
            contact: c.contact.map(|k| domain::Contact { name: k.name, email: k.email, phone: k.phone }),
            media: c.media.into_iter().map(|m| domain::Media { url: m.url, kind: m.kind, title: m.title }).collect(),
            source: c.source.map(|s| domain::Source { exchange: s.exchange, external_id: s.external_id, url: s.url }),
            expires_at: c.expires_at,
        }
    }
}

impl From<domain::Price> for Price {
    fn from(p: domain::Price) -> Self {
        Price { amount: p.amount, currency: p.currency, negotiable: p.negotiable }
    }
}

impl From<domain::ListingContent> for ListingContent {
    fn from(c: domain::ListingContent) -> Self {
        let o = c.owner;
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
            price: c.price.into(),
            province: c.province,
            owner: Owner { organization_id: o.organization_id, name: o.name },
            contact: c.contact.map(|k| Contact { name: k.name, email: k.email, phone: k.phone }),
            media: c.media.into_iter().map(|m| Media { url: m.url, kind: m.kind, title: m.title }).collect(),
            source: c.source.map(|s| Source { exchange: s.exchange, external_id: s.external_id, url: s.url }),
            expires_at: c.expires_at,
        }
    }
}

/// What the domain enforces on a listing, in both the body written and the listing answered.
pub const LIMITS: Limits = &[
    ("LocalizedText", "vi", Limit::MinLength(1)),
    ("LocalizedText", "vi", Limit::MaxLength(TITLE_MAX)),
    ("LocalizedText", "en", Limit::MaxLength(TITLE_MAX)),
    ("LocalizedSummary", "vi", Limit::MinLength(1)),
    ("LocalizedSummary", "vi", Limit::MaxLength(SUMMARY_MAX)),
    ("LocalizedSummary", "en", Limit::MaxLength(SUMMARY_MAX)),
    ("LocalizedDescription", "vi", Limit::MinLength(1)),
    ("LocalizedDescription", "vi", Limit::MaxLength(DESCRIPTION_MAX)),
    ("LocalizedDescription", "en", Limit::MaxLength(DESCRIPTION_MAX)),
    ("Price", "amount", Limit::Minimum(0)),
    ("Price", "amount", Limit::Maximum(i64::MAX)),
    ("Price", "currency", Limit::Pattern("^VND$")),
    ("Price", "currency", Limit::MaxLength(3)),
    ("Owner", "name", Limit::MinLength(1)),
    ("Owner", "name", Limit::MaxLength(SHORT_TEXT_MAX)),
    ("Contact", "name", Limit::MaxLength(SHORT_TEXT_MAX)),
    ("Contact", "email", Limit::MaxLength(SHORT_TEXT_MAX)),
    ("Contact", "phone", Limit::MaxLength(PHONE_MAX)),
    ("Contact", "phone", Limit::Pattern(r"^[0-9 +\-().]*$")),
    ("Media", "url", Limit::MaxLength(URL_MAX)),
    ("Media", "url", Limit::Pattern("^https?://[^/\\s]")),
    ("Media", "title", Limit::MaxLength(SHORT_TEXT_MAX)),
    ("Source", "exchange", Limit::MaxLength(techex_domain::values::EXCHANGE_CODE_MAX)),
    ("Source", "exchange", Limit::Pattern(EXCHANGE_CODE_PATTERN)),
    ("Source", "external_id", Limit::MinLength(1)),
    ("Source", "external_id", Limit::MaxLength(EXTERNAL_ID_MAX)),
    ("Source", "url", Limit::MaxLength(URL_MAX)),
    ("Source", "url", Limit::Pattern("^https?://[^/\\s]")),
    ("ListingContent", "keywords", Limit::MaxItems(KEYWORDS_MAX)),
    ("ListingContent", "keywords[]", Limit::MinLength(1)),
    ("ListingContent", "keywords[]", Limit::MaxLength(KEYWORD_MAX)),
    ("ListingContent", "field_codes", Limit::MinItems(1)),
    ("ListingContent", "field_codes", Limit::MaxItems(FIELD_CODES_MAX)),
    ("ListingContent", "field_codes[]", Limit::MaxLength(3)),
    ("ListingContent", "field_codes[]", Limit::Pattern("^[0-9]{3}$")),
    ("ListingContent", "trl", Limit::Minimum(TRL_MIN)),
    ("ListingContent", "trl", Limit::Maximum(TRL_MAX)),
    ("ListingContent", "ip_refs", Limit::MaxItems(IP_REFS_MAX)),
    ("ListingContent", "ip_refs[]", Limit::MinLength(1)),
    ("ListingContent", "ip_refs[]", Limit::MaxLength(SHORT_TEXT_MAX)),
    ("ListingContent", "transfer_forms", Limit::MaxItems(TransferForm::ALL.len())),
    ("ListingContent", "transfer_methods", Limit::MaxItems(TransferMethod::ALL.len())),
    ("ListingContent", "rights", Limit::MaxItems(Right::ALL.len())),
    ("ListingContent", "province", Limit::MaxLength(2)),
    ("ListingContent", "province", Limit::Pattern("^[0-9]{2}$")),
    ("ListingContent", "media", Limit::MaxItems(MEDIA_MAX)),
    ("ListingResponse", "keywords", Limit::MaxItems(KEYWORDS_MAX)),
    ("ListingResponse", "keywords[]", Limit::MaxLength(KEYWORD_MAX)),
    ("ListingResponse", "field_codes", Limit::MaxItems(FIELD_CODES_MAX)),
    ("ListingResponse", "field_codes[]", Limit::MaxLength(3)),
    ("ListingResponse", "trl", Limit::Minimum(TRL_MIN)),
    ("ListingResponse", "trl", Limit::Maximum(TRL_MAX)),
    ("ListingResponse", "ip_refs", Limit::MaxItems(IP_REFS_MAX)),
    ("ListingResponse", "ip_refs[]", Limit::MaxLength(SHORT_TEXT_MAX)),
    ("ListingResponse", "transfer_forms", Limit::MaxItems(TransferForm::ALL.len())),
    ("ListingResponse", "transfer_methods", Limit::MaxItems(TransferMethod::ALL.len())),
    ("ListingResponse", "rights", Limit::MaxItems(Right::ALL.len())),
    ("ListingResponse", "province", Limit::MaxLength(2)),
    ("ListingResponse", "province_as_sent", Limit::MaxLength(2)),
    ("ListingResponse", "media", Limit::MaxItems(MEDIA_MAX)),
    ("ListingResponse", "allowed_actions", Limit::MaxItems(LifecycleAction::ALL.len())),
    ("ListingResponse", "version", Limit::Minimum(1)),
    ("ListingResponse", "version", Limit::Maximum(i64::MAX)),
];
