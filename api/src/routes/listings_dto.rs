//! The wire shapes of listings: the content a publisher writes, the listing the hub answers, and
//! their conversions to and from the domain. Their limits are the domain's rules ([`LIMITS`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::access::{self, Caller, may_read_contact};
use techex_domain::listing::{
    self as domain, ATTACHMENTS_MAX, CO_OWNERS_MAX, CONFIDENTIAL_TEXT_MAX, DESCRIPTION_MAX, DevelopmentStage,
    EXTERNAL_ID_MAX, FIELD_CODES_MAX, IP_REFS_MAX, IP_TERRITORY_MAX, KEYWORD_MAX, KEYWORDS_MAX, MEDIA_MAX, PriceType,
    SHARE_MAX, SHARE_MIN, SUMMARY_MAX, TITLE_MAX, TRL_MAX, TRL_MIN,
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
    /// How far the technology has come, from the laboratory to the market.
    #[serde(default)]
    #[schema(value_type = Option<words::DevelopmentStage>)]
    pub development_stage: Option<DevelopmentStage>,
    /// Where the IP right holds: ISO 3166-1 alpha-2 country codes, each once (`VN` for Vietnam).
    /// Only with an IP right (`ip_status` other than `none`).
    #[serde(default)]
    #[schema(example = json!(["VN"]))]
    pub ip_territory: Vec<String>,
    /// Other holders of the rights and their shares; the owner holds the rest (100 less their
    /// sum, which may not pass 100).
    #[serde(default)]
    pub co_owners: Vec<CoOwner>,
    /// Details for the hub's members: never shown to anonymous callers (as the contact is not).
    #[serde(default)]
    pub confidential: Option<Confidential>,
}

/// Another holder of the technology's rights and the share it holds.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CoOwner {
    #[schema(example = "Trường Đại học Bách khoa")]
    pub name: String,
    /// The co-owner's organization in techex, when it has one.
    #[serde(default, deserialize_with = "crate::kit::optional_body_id")]
    pub organization_id: Option<Uuid>,
    /// Percent of the rights held, 1 to 100.
    #[schema(example = 30)]
    pub share_percent: i64,
}

/// What a publisher shares with authenticated callers only: at least one of its parts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Confidential {
    /// Process parameters, formulations, drawings described: several lines allowed.
    #[serde(default)]
    #[schema(example = "Nhiệt độ sấy 55 °C, độ ẩm đầu ra 12 %")]
    pub technical_details: Option<String>,
    /// Royalties, exclusivity, payment terms.
    #[serde(default)]
    #[schema(example = "Phí bản quyền 3 % doanh thu trong 5 năm")]
    pub commercial_terms: Option<String>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// A document of the confidential section, by its address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    #[schema(example = "https://example.vn/ban-ve-may-say.pdf")]
    pub url: String,
    #[serde(default)]
    pub title: Option<String>,
}

impl From<domain::CoOwner> for CoOwner {
    fn from(c: domain::CoOwner) -> Self {
        CoOwner { name: c.name, organization_id: c.organization_id, share_percent: c.share_percent }
    }
}

impl From<CoOwner> for domain::CoOwner {
    fn from(c: CoOwner) -> Self {
        domain::CoOwner { name: c.name, organization_id: c.organization_id, share_percent: c.share_percent }
    }
}

impl From<domain::Confidential> for Confidential {
    fn from(c: domain::Confidential) -> Self {
        Confidential {
            technical_details: c.technical_details,
            commercial_terms: c.commercial_terms,
            attachments: c.attachments.into_iter().map(|a| Attachment { url: a.url, title: a.title }).collect(),
        }
    }
}

impl From<Confidential> for domain::Confidential {
    fn from(c: Confidential) -> Self {
        domain::Confidential {
            technical_details: c.technical_details,
            commercial_terms: c.commercial_terms,
            attachments: c.attachments.into_iter().map(|a| domain::Attachment { url: a.url, title: a.title }).collect(),
        }
    }
}

fn no_ip() -> IpStatus {
    IpStatus::None
}

/// A price (offers) or budget (demands) in whole Vietnamese đồng. `type` says what the amount
/// means: `indicative`, `floor` and `firm` need an amount, `on_request` refuses one (the price is
/// told on asking). Without a type, `amount` may be left out when the price is negotiable. A
/// `firm` price is not `negotiable`.
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
    #[serde(default, rename = "type")]
    #[schema(value_type = Option<words::PriceType>)]
    pub kind: Option<PriceType>,
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
    #[schema(value_type = Option<words::DevelopmentStage>)]
    pub development_stage: Option<DevelopmentStage>,
    pub ip_territory: Vec<String>,
    pub co_owners: Vec<CoOwner>,
    /// Shown to authenticated callers only, as the contact.
    pub confidential: Option<Confidential>,
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
    /// The listing as this caller may see it: contact details and the confidential section only
    /// for authenticated callers.
    pub fn for_caller(listing: Listing, caller: &Caller) -> Self {
        let allowed_actions = access::allowed_actions(caller, &listing);
        ListingResponse { allowed_actions, ..ListingResponse::with_contact(listing, may_read_contact(caller)) }
    }

    /// The listing with or without contact details and confidential section, offering every action its status allows
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
            development_stage: c.development_stage,
            ip_territory: c.ip_territory,
            co_owners: c.co_owners,
            confidential: if contact { c.confidential } else { None },
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
            price: domain::Price { amount: p.amount, currency: p.currency, negotiable: p.negotiable, kind: p.kind },
            province: c.province,
            owner: domain::Owner { organization_id: o.organization_id, name: o.name },
            contact: c.contact.map(|k| domain::Contact { name: k.name, email: k.email, phone: k.phone }),
            media: c.media.into_iter().map(|m| domain::Media { url: m.url, kind: m.kind, title: m.title }).collect(),
            source: c.source.map(|s| domain::Source { exchange: s.exchange, external_id: s.external_id, url: s.url }),
            expires_at: c.expires_at,
            development_stage: c.development_stage,
            ip_territory: c.ip_territory,
            co_owners: c.co_owners.into_iter().map(Into::into).collect(),
            confidential: c.confidential.map(Into::into),
        }
    }
}

impl From<domain::Price> for Price {
    fn from(p: domain::Price) -> Self {
        Price { amount: p.amount, currency: p.currency, negotiable: p.negotiable, kind: p.kind }
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
            development_stage: c.development_stage,
            ip_territory: c.ip_territory,
            co_owners: c.co_owners.into_iter().map(Into::into).collect(),
            confidential: c.confidential.map(Into::into),
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
    ("ListingContent", "ip_territory", Limit::MaxItems(IP_TERRITORY_MAX)),
    ("ListingContent", "ip_territory[]", Limit::MaxLength(2)),
    ("ListingContent", "ip_territory[]", Limit::Pattern("^[A-Z]{2}$")),
    ("ListingContent", "co_owners", Limit::MaxItems(CO_OWNERS_MAX)),
    ("ListingResponse", "ip_territory", Limit::MaxItems(IP_TERRITORY_MAX)),
    ("ListingResponse", "ip_territory[]", Limit::MaxLength(2)),
    ("ListingResponse", "co_owners", Limit::MaxItems(CO_OWNERS_MAX)),
    ("CoOwner", "name", Limit::MinLength(1)),
    ("CoOwner", "name", Limit::MaxLength(SHORT_TEXT_MAX)),
    ("CoOwner", "share_percent", Limit::Minimum(SHARE_MIN)),
    ("CoOwner", "share_percent", Limit::Maximum(SHARE_MAX)),
    ("Confidential", "technical_details", Limit::MaxLength(CONFIDENTIAL_TEXT_MAX)),
    ("Confidential", "commercial_terms", Limit::MaxLength(CONFIDENTIAL_TEXT_MAX)),
    ("Confidential", "attachments", Limit::MaxItems(ATTACHMENTS_MAX)),
    ("Attachment", "url", Limit::MaxLength(URL_MAX)),
    ("Attachment", "url", Limit::Pattern("^https?://[^/\\s]")),
    ("Attachment", "title", Limit::MaxLength(SHORT_TEXT_MAX)),
];
