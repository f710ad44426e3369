//! Technology listings: offers (supply) and demands (requests), their content rules and their
//! lifecycle `draft -> pending_review -> published -> withdrawn | expired | closed`, plus `rejected`.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::messages::{Message, Text};
use crate::refdata;
use crate::text::{Lines, fold};
use crate::validation::ValidationErrors;
pub use crate::words::UnknownWord;

/// UUIDv7: unique across hubs and ordered by creation time, so its text form sorts newest-last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListingId(pub Uuid);

impl ListingId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for ListingId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ListingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ListingId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

pub use crate::values::{LocalizedText, SHORT_TEXT_MAX, URL_MAX, is_exchange_code};
use crate::values::{
    check_contact_fields, check_localized, check_localized_lines, check_url, cleaned, optional_text, trim_optional,
    trim_required,
};
pub use crate::vocabulary::{
    DevelopmentStage, IpStatus, LifecycleAction, ListingKind, ListingStatus, MediaKind, PriceType, Right, TransferForm,
    TransferMethod,
};

/// The move refused: `action` is not allowed from `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a listing that is {from} cannot be {}", past_tense(*action))]
pub struct IllegalTransition {
    pub from: ListingStatus,
    pub action: LifecycleAction,
}

/// What an action makes of a listing, in English: "published" for `publish`.
pub fn past_tense(action: LifecycleAction) -> &'static str {
    match action {
        LifecycleAction::Submit => "submitted",
        LifecycleAction::Publish => "published",
        LifecycleAction::Reject => "rejected",
        LifecycleAction::Withdraw => "withdrawn",
        LifecycleAction::Close => "closed",
        LifecycleAction::Restore => "restored",
    }
}

impl ListingStatus {
    /// The status a lifecycle action leads to from this one.
    ///
    /// A rejected listing may be edited and submitted again; publishing straight from a draft is for
    /// publishers trusted to skip review; only published listings close (the deal is done); a
    /// withdrawn (or deleted) listing is restored as a draft, to go through review again.
    pub fn after(self, action: LifecycleAction) -> Result<ListingStatus, IllegalTransition> {
        use LifecycleAction as A;
        use ListingStatus as S;
        match (self, action) {
            (S::Draft | S::Rejected, A::Submit) => Ok(S::PendingReview),
            (S::Draft | S::PendingReview, A::Publish) => Ok(S::Published),
            (S::PendingReview, A::Reject) => Ok(S::Rejected),
            (S::PendingReview | S::Published, A::Withdraw) => Ok(S::Withdrawn),
            (S::Published, A::Close) => Ok(S::Closed),
            (S::Withdrawn, A::Restore) => Ok(S::Draft),
            (from, action) => Err(IllegalTransition { from, action }),
        }
    }

    /// The actions allowed from this status, for clients that show buttons.
    pub fn allowed_actions(self) -> Vec<LifecycleAction> {
        LifecycleAction::ALL.iter().copied().filter(|a| self.after(*a).is_ok()).collect()
    }
}

/// A price (offers) or budget (demands) in whole Vietnamese đồng; `amount` may be left out when
/// the price is only negotiable, and must be when it is given on request. `kind` says what the
/// amount means; a firm price is not negotiable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub amount: Option<i64>,
    pub currency: String,
    pub negotiable: bool,
    /// What the amount means; absent on listings written before price types were kept.
    pub kind: Option<PriceType>,
}

impl Default for Price {
    fn default() -> Self {
        Self { amount: None, currency: "VND".to_owned(), negotiable: true, kind: None }
    }
}

/// Another holder of the technology's rights and the share it holds; the owner holds the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoOwner {
    pub name: String,
    /// The co-owner's organization in techex, when it has one.
    pub organization_id: Option<Uuid>,
    /// Percent of the rights, 1 to 100.
    pub share_percent: i64,
}

/// Details a publisher shares with the hub's members but not with the public: never shown to
/// anonymous callers (as contacts are not).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Confidential {
    pub technical_details: Option<String>,
    pub commercial_terms: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// A document behind the confidential section, by its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub url: String,
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The owner's organization in techex, when it has one.
    pub organization_id: Option<Uuid>,
    pub name: String,
}

/// How to reach the people behind a listing; never shown to anonymous callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub url: String,
    pub kind: MediaKind,
    pub title: Option<String>,
}

/// Where a record came from when a portal or a partner exchange pushed it: the exchange's short
/// name and the record's id there. The pair identifies one listing across pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub exchange: String,
    pub external_id: String,
    pub url: Option<String>,
}

/// What a publisher writes about a technology, whole: a `PATCH` merges into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingContent {
    pub kind: ListingKind,
    pub title: LocalizedText,
    pub summary: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub keywords: Vec<String>,
    /// Level-2 S&T field codes (`GET /v1/reference/fields`), at least one.
    pub field_codes: Vec<String>,
    /// Technology readiness level 1-9: reached, for an offer; the minimum wanted, for a demand.
    pub trl: Option<i64>,
    pub ip_status: IpStatus,
    /// Numbers of patents, utility solutions or applications.
    pub ip_refs: Vec<String>,
    pub transfer_forms: Vec<TransferForm>,
    pub transfer_methods: Vec<TransferMethod>,
    pub rights: Vec<Right>,
    pub price: Price,
    /// Province code as the client knows it; pre-2025 codes are accepted and resolved to the
    /// current province.
    pub province: String,
    pub owner: Owner,
    pub contact: Option<Contact>,
    pub media: Vec<Media>,
    pub source: Option<Source>,
    pub expires_at: Option<DateTime<Utc>>,
    /// How far the technology has come: from the laboratory to the market.
    pub development_stage: Option<DevelopmentStage>,
    /// Where the IP right holds: ISO 3166-1 alpha-2 country codes (`VN`), each once; only with
    /// an IP right (`ip_status` other than `none`).
    pub ip_territory: Vec<String>,
    /// Other holders of the rights, with their shares; the owner holds what they leave.
    pub co_owners: Vec<CoOwner>,
    /// Shown to authenticated callers only.
    pub confidential: Option<Confidential>,
}

pub const TITLE_MAX: usize = 300;
pub const SUMMARY_MAX: usize = 2_000;
pub const DESCRIPTION_MAX: usize = 20_000;
pub const KEYWORDS_MAX: usize = 20;
pub const KEYWORD_MAX: usize = 60;
pub const FIELD_CODES_MAX: usize = 10;
pub const IP_REFS_MAX: usize = 20;
pub const MEDIA_MAX: usize = 20;
/// The longest id of a record at its source exchange.
pub const EXTERNAL_ID_MAX: usize = 100;
/// Technology readiness levels run from 1 to 9.
pub const TRL_MIN: i64 = 1;
pub const TRL_MAX: i64 = 9;
/// How far ahead an expiry may lie (ten years): later dates are mistakes or placeholders.
pub const EXPIRY_MAX_DAYS: i64 = 3_652;
/// The most countries an IP right is listed for.
pub const IP_TERRITORY_MAX: usize = 30;
/// The most co-owners a listing names.
pub const CO_OWNERS_MAX: usize = 10;
/// A share runs from 1 to 100 percent, and all co-owners' shares together to 100 at most.
pub const SHARE_MIN: i64 = 1;
pub const SHARE_MAX: i64 = 100;
/// The longest text of a confidential section (technical details, commercial terms).
pub const CONFIDENTIAL_TEXT_MAX: usize = 10_000;
/// The most attachments of a confidential section.
pub const ATTACHMENTS_MAX: usize = 10;

/// Content that passed every rule, with the province resolved to today's code.
#[derive(Debug, Clone)]
pub struct ValidContent {
    pub content: ListingContent,
    pub province: &'static refdata::Province,
}

impl ListingContent {
    /// Content saying only what every listing must: nothing optional, no IP protection, a price
    /// left to negotiation.
    pub fn new(
        kind: ListingKind,
        title: LocalizedText,
        field_codes: Vec<String>,
        province: &str,
        owner: Owner,
    ) -> Self {
        ListingContent {
            kind,
            title,
            summary: None,
            description: None,
            keywords: Vec::new(),
            field_codes,
            trl: None,
            ip_status: IpStatus::None,
            ip_refs: Vec::new(),
            transfer_forms: Vec::new(),
            transfer_methods: Vec::new(),
            rights: Vec::new(),
            price: Price::default(),
            province: province.to_owned(),
            owner,
            contact: None,
            media: Vec::new(),
            source: None,
            expires_at: None,
            development_stage: None,
            ip_territory: Vec::new(),
            co_owners: Vec::new(),
            confidential: None,
        }
    }

    /// Trims text, then checks every rule and reports every failure at once. `now` is when the
    /// write happens: an expiry must lie after it.
    pub fn validate(mut self, now: DateTime<Utc>) -> Result<ValidContent, ValidationErrors> {
        let mut errors = ValidationErrors::default();

        check_localized(&mut errors, "title", Some(&mut self.title), TITLE_MAX, true);
        check_text_block(&mut errors, "summary", &mut self.summary, SUMMARY_MAX);
        check_text_block(&mut errors, "description", &mut self.description, DESCRIPTION_MAX);

        check_list_of_text(&mut errors, "keywords", &mut self.keywords, KEYWORDS_MAX, KEYWORD_MAX);
        check_list_of_text(&mut errors, "ip_refs", &mut self.ip_refs, IP_REFS_MAX, SHORT_TEXT_MAX);
        check_field_codes(&mut errors, &mut self.field_codes);
        check_unique(&mut errors, "transfer_forms", &self.transfer_forms, TransferForm::ALL.len());
        check_unique(&mut errors, "transfer_methods", &self.transfer_methods, TransferMethod::ALL.len());
        check_unique(&mut errors, "rights", &self.rights, Right::ALL.len());

        if let Some(trl) = self.trl
            && !(TRL_MIN..=TRL_MAX).contains(&trl)
        {
            errors.add("trl", Message::new(Text::TrlOutOfRange).with("value", trl));
        }
        check_price(&mut errors, &self.price);

        self.province = self.province.trim().to_owned();
        let province = refdata::current_province(&self.province);
        if province.is_none() {
            errors.add("province", Message::new(Text::UnknownProvince).with("value", &self.province));
        }

        trim_required(&mut errors, "owner.name", &mut self.owner.name, SHORT_TEXT_MAX);
        if let Some(contact) = self.contact.as_mut() {
            check_contact(&mut errors, contact);
        }
        if self.media.len() > MEDIA_MAX {
            errors.add("media", Message::new(Text::TooMany).with("max", MEDIA_MAX));
        } else {
            for (i, media) in self.media.iter_mut().enumerate() {
                check_url(&mut errors, &format!("media[{i}].url"), &mut media.url);
                trim_optional(&mut errors, &format!("media[{i}].title"), &mut media.title, SHORT_TEXT_MAX);
            }
        }
        if let Some(source) = self.source.as_mut() {
            check_source(&mut errors, source);
        }
        check_ip_territory(&mut errors, &mut self.ip_territory, self.ip_status);
        check_co_owners(&mut errors, &mut self.co_owners);
        if let Some(confidential) = self.confidential.as_mut() {
            check_confidential(&mut errors, confidential);
        }
        if let Some(expires_at) = self.expires_at {
            if expires_at <= now {
                errors.add("expires_at", Text::ExpiryPast);
            } else if expires_at > now + chrono::Duration::days(EXPIRY_MAX_DAYS) {
                errors.add("expires_at", Message::new(Text::ExpiryTooFar).with("years", EXPIRY_MAX_DAYS / 365));
            }
        }

        match province {
            Some(province) if errors.is_empty() => Ok(ValidContent { content: self, province }),
            _ => Err(errors),
        }
    }
}

/// An optional multi-line text in two languages (a summary, a description).
fn check_text_block(errors: &mut ValidationErrors, field: &str, text: &mut Option<LocalizedText>, max: usize) {
    if let Some(block) = text.as_mut() {
        check_localized_lines(errors, field, block, max, Lines::Many);
    }
}

fn check_list_of_text(
    errors: &mut ValidationErrors,
    field: &str,
    items: &mut [String],
    max_items: usize,
    max_len: usize,
) {
    if items.len() > max_items {
        errors.add(field, Message::new(Text::TooMany).with("max", max_items));
        return;
    }
    for (i, item) in items.iter_mut().enumerate() {
        trim_required(errors, &format!("{field}[{i}]"), item, max_len);
    }
}

/// Refuses repeated items; a list longer than `max_items` is refused whole, unread.
fn check_unique<T: Eq + std::hash::Hash + fmt::Display>(
    errors: &mut ValidationErrors,
    field: &str,
    items: &[T],
    max_items: usize,
) {
    if items.len() > max_items {
        errors.add(field, Message::new(Text::TooMany).with("max", max_items));
        return;
    }
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if !seen.insert(item) {
            errors.add(format!("{field}[{i}]"), Message::new(Text::ListedTwice).with("value", item));
        }
    }
}

fn check_field_codes(errors: &mut ValidationErrors, codes: &mut [String]) {
    if codes.is_empty() {
        errors.add("field_codes", Text::FieldCodeRequired);
    }
    if codes.len() > FIELD_CODES_MAX {
        errors.add("field_codes", Message::new(Text::TooMany).with("max", FIELD_CODES_MAX));
        return;
    }
    for (i, code) in codes.iter_mut().enumerate() {
        *code = code.trim().to_owned();
        match refdata::field(code) {
            Some(field) if field.level() == 2 => {}
            Some(_) => errors.add(format!("field_codes[{i}]"), Message::new(Text::FieldTooBroad).with("value", &code)),
            None => errors.add(format!("field_codes[{i}]"), Message::new(Text::UnknownFieldCode).with("value", &code)),
        }
    }
    check_unique(errors, "field_codes", codes, FIELD_CODES_MAX);
}

/// A price is an amount, or negotiable without one; its type, when given, decides: a price on
/// request has no amount, every other type needs one, and a firm price is not negotiable.
fn check_price(errors: &mut ValidationErrors, price: &Price) {
    match (price.amount, price.kind) {
        (Some(amount), _) if amount < 0 => errors.add("price.amount", Text::NegativePrice),
        (Some(_), Some(PriceType::OnRequest)) => errors.add("price.amount", Text::AmountOnRequest),
        (None, Some(kind)) if kind != PriceType::OnRequest => errors.add(
            "price.amount",
            Message::new(Text::AmountOfPriceType).with_words("type", kind.as_str(), kind.label_vi()),
        ),
        (None, None) if !price.negotiable => errors.add("price.amount", Text::AmountOrNegotiable),
        _ => {}
    }
    if price.kind == Some(PriceType::Firm) && price.negotiable {
        errors.add("price.negotiable", Text::FirmNotNegotiable);
    }
    if price.currency != "VND" {
        errors.add("price.currency", Text::OnlyVnd);
    }
}

/// Two capital letters each (ISO 3166-1 alpha-2), each once, and only for a right that exists.
fn check_ip_territory(errors: &mut ValidationErrors, codes: &mut [String], ip_status: IpStatus) {
    if codes.len() > IP_TERRITORY_MAX {
        errors.add("ip_territory", Message::new(Text::TooMany).with("max", IP_TERRITORY_MAX));
        return;
    }
    if !codes.is_empty() && ip_status == IpStatus::None {
        errors.add("ip_territory", Text::TerritoryWithoutRight);
    }
    for (i, code) in codes.iter_mut().enumerate() {
        *code = code.trim().to_owned();
        if !is_country_code(code) {
            errors.add(format!("ip_territory[{i}]"), Message::new(Text::CountryCodeNamed).with("value", &code));
        }
    }
    check_unique(errors, "ip_territory", codes, IP_TERRITORY_MAX);
}

/// The form of an ISO 3166-1 alpha-2 code: two capital letters A-Z.
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

fn check_co_owners(errors: &mut ValidationErrors, co_owners: &mut [CoOwner]) {
    if co_owners.len() > CO_OWNERS_MAX {
        errors.add("co_owners", Message::new(Text::TooMany).with("max", CO_OWNERS_MAX));
        return;
    }
    let mut total = 0;
    for (i, co_owner) in co_owners.iter_mut().enumerate() {
        trim_required(errors, &format!("co_owners[{i}].name"), &mut co_owner.name, SHORT_TEXT_MAX);
        let share = co_owner.share_percent;
        if (SHARE_MIN..=SHARE_MAX).contains(&share) {
            total += share;
        } else {
            errors
                .add(format!("co_owners[{i}].share_percent"), Message::new(Text::ShareOutOfRange).with("value", share));
        }
    }
    if total > SHARE_MAX {
        errors.add("co_owners", Message::new(Text::SharesOverWhole).with("total", total));
    }
}

fn check_confidential(errors: &mut ValidationErrors, confidential: &mut Confidential) {
    for (field, text) in [
        ("confidential.technical_details", &mut confidential.technical_details),
        ("confidential.commercial_terms", &mut confidential.commercial_terms),
    ] {
        optional_text(errors, field, text, CONFIDENTIAL_TEXT_MAX, Lines::Many);
    }
    if confidential.attachments.len() > ATTACHMENTS_MAX {
        errors.add("confidential.attachments", Message::new(Text::TooMany).with("max", ATTACHMENTS_MAX));
    } else {
        for (i, attachment) in confidential.attachments.iter_mut().enumerate() {
            check_url(errors, &format!("confidential.attachments[{i}].url"), &mut attachment.url);
            let title = format!("confidential.attachments[{i}].title");
            trim_optional(errors, &title, &mut attachment.title, SHORT_TEXT_MAX);
        }
    }
    if confidential.technical_details.is_none()
        && confidential.commercial_terms.is_none()
        && confidential.attachments.is_empty()
    {
        errors.add("confidential", Text::ConfidentialEmpty);
    }
}

fn check_contact(errors: &mut ValidationErrors, contact: &mut Contact) {
    trim_optional(errors, "contact.name", &mut contact.name, SHORT_TEXT_MAX);
    check_contact_fields(errors, "contact", &mut contact.email, &mut contact.phone);
}

fn check_source(errors: &mut ValidationErrors, source: &mut Source) {
    let Some(exchange) = cleaned(errors, "source.exchange", &source.exchange, Lines::One) else { return };
    source.exchange = exchange;
    if !is_exchange_code(&source.exchange) {
        errors.add("source.exchange", Text::ExchangeCode);
    }
    trim_required(errors, "source.external_id", &mut source.external_id, EXTERNAL_ID_MAX);
    if let Some(url) = source.url.as_mut() {
        check_url(errors, "source.url", url);
    }
}

/// How long a withdrawn or deleted listing may be restored after its last change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestorePeriod(pub chrono::Duration);

impl Default for RestorePeriod {
    fn default() -> Self {
        RestorePeriod(chrono::Duration::days(30))
    }
}

impl RestorePeriod {
    pub fn days(self) -> i64 {
        self.0.num_days()
    }
}

/// A listing as the hub holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub id: ListingId,
    pub status: ListingStatus,
    /// Starts at 1 and grows by one with every write; the ETag and If-Match are built on it.
    pub version: i64,
    /// The current code of the province; `content.province` keeps the code as sent.
    pub province: String,
    /// The organization whose client wrote the listing.
    pub publisher: Option<Uuid>,
    pub content: ListingContent,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// When the listing was deleted: withdrawn, hidden from everyone but its owner, and
    /// restorable for a [`RestorePeriod`].
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Listing {
    /// A new draft from validated content.
    pub fn draft(valid: ValidContent, publisher: Option<Uuid>, now: DateTime<Utc>) -> Self {
        Self {
            id: ListingId::new(),
            status: ListingStatus::Draft,
            version: 1,
            province: valid.province.code.clone(),
            publisher,
            content: valid.content,
            created_at: now,
            updated_at: now,
            published_at: None,
            deleted_at: None,
        }
    }

    /// Replaces the content (an update). A moderator's approval covers the content the moderator
    /// saw: a published listing whose publisher may not publish without review goes back to
    /// review (`publisher_trusted` is false), so an edit after approval is never public
    /// unreviewed. Any other status stays.
    pub fn revise(&mut self, valid: ValidContent, now: DateTime<Utc>, publisher_trusted: bool) {
        self.province = valid.province.code.clone();
        self.content = valid.content;
        if self.status == ListingStatus::Published && !publisher_trusted {
            self.status = ListingStatus::PendingReview;
        }
        self.touch(now);
    }

    /// Applies a lifecycle action, or says why it is not allowed.
    pub fn apply(&mut self, action: LifecycleAction, now: DateTime<Utc>) -> Result<(), IllegalTransition> {
        self.status = self.status.after(action)?;
        if self.status == ListingStatus::Published {
            self.published_at = Some(now);
        }
        if action == LifecycleAction::Restore {
            self.deleted_at = None;
        }
        self.touch(now);
        Ok(())
    }

    /// The listing as a reader sees it at `now`: a published listing past its expiry reads as
    /// expired at once, before the periodic expiry records the move (the version and the change
    /// log are the expiry's to write).
    pub fn as_seen_at(mut self, now: DateTime<Utc>) -> Self {
        if self.is_due_to_expire(now) {
            self.status = ListingStatus::Expired;
        }
        self
    }

    /// Whether the listing is published and its expiry has passed.
    pub fn is_due_to_expire(&self, now: DateTime<Utc>) -> bool {
        self.status == ListingStatus::Published && self.content.expires_at.is_some_and(|at| at <= now)
    }

    /// Takes a published listing whose expiry has passed off the market; `false` (and no change)
    /// for any other.
    pub fn expire(&mut self, now: DateTime<Utc>) -> bool {
        if !self.is_due_to_expire(now) {
            return false;
        }
        self.status = ListingStatus::Expired;
        self.touch(now);
        true
    }

    /// Deletion keeps the record (partners mirror it) but takes it off the market.
    pub fn withdraw_for_deletion(&mut self, now: DateTime<Utc>) {
        self.status = ListingStatus::Withdrawn;
        self.deleted_at = Some(now);
        self.touch(now);
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Whether a withdrawn or deleted listing may still be restored at `now`: within `period`
    /// of its last change (its withdrawal or deletion, unless edited since).
    pub fn is_restorable(&self, now: DateTime<Utc>, period: RestorePeriod) -> bool {
        self.status == ListingStatus::Withdrawn && now - self.updated_at <= period.0
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }

    /// The folded text full-text search runs on: titles, summaries, descriptions, keywords,
    /// the owner's name.
    pub fn search_text(&self) -> String {
        let c = &self.content;
        let mut parts: Vec<&str> = Vec::new();
        for text in [Some(&c.title), c.summary.as_ref(), c.description.as_ref()].into_iter().flatten() {
            parts.push(&text.vi);
            parts.extend(text.en.as_deref());
        }
        parts.extend(c.keywords.iter().map(String::as_str));
        parts.push(&c.owner.name);
        fold(&parts.join(" "))
    }

    /// The listing's kind, province and fields as tokens of the full-text index (see
    /// [`crate::search::filter_tokens`]).
    pub fn search_filters(&self) -> String {
        let c = &self.content;
        crate::search::filter_tokens(c.kind.as_str(), &self.province, &c.field_codes)
    }

    /// The title in both languages, folded: words found there rank higher (see [`crate::search`]).
    pub fn search_title(&self) -> String {
        let title = &self.content.title;
        fold(&[Some(title.vi.as_str()), title.en.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap()
    }

    fn content() -> ListingContent {
        let title = LocalizedText {
            vi: "  Máy sấy nông sản dùng năng lượng mặt trời ".into(),
            en: Some("Solar crop dryer".into()),
        };
        let owner = Owner { organization_id: None, name: "Viện Cơ điện Nông nghiệp".into() };
        ListingContent {
            trl: Some(7),
            price: Price { amount: Some(450_000_000), ..Price::default() },
            contact: Some(Contact {
                name: None,
                email: Some("lienhe@example.vn".into()),
                phone: Some("+84 274 3123 456".into()),
            }),
            media: vec![Media { url: "https://example.vn/a.jpg".into(), kind: MediaKind::Image, title: None }],
            source: Some(Source { exchange: "binhduong".into(), external_id: "SP-2024-117".into(), url: None }),
            expires_at: Some(Utc.with_ymd_and_hms(2027, 6, 30, 0, 0, 0).unwrap()),
            ..ListingContent::new(ListingKind::Offer, title, vec!["211".into(), "401".into()], "74", owner)
        }
    }

    fn codes(result: Result<ValidContent, ValidationErrors>) -> Vec<(String, String)> {
        result.unwrap_err().0.into_iter().map(|e| (e.field, e.code)).collect()
    }

    fn pair(field: &str, code: &str) -> (String, String) {
        (field.to_owned(), code.to_owned())
    }

    #[test]
    fn valid_content_is_trimmed_and_its_old_province_resolved() {
        let valid = content().validate(now()).unwrap();
        assert_eq!(valid.content.title.vi, "Máy sấy nông sản dùng năng lượng mặt trời");
        assert_eq!(valid.content.province, "74");
        assert_eq!(valid.province.code, "79");
    }

    #[test]
    fn vietnamese_title_is_required() {
        let mut c = content();
        c.title.vi = "   ".into();
        assert_eq!(codes(c.validate(now())), vec![pair("title.vi", "required")]);
    }

    #[test]
    fn overlong_text_is_refused() {
        let mut c = content();
        c.title.en = Some("x".repeat(TITLE_MAX + 1));
        assert_eq!(codes(c.validate(now())), vec![pair("title.en", "too_long")]);
    }

    #[test]
    fn trl_must_be_one_to_nine() {
        for bad in [0, 10, 12, -1] {
            let mut c = content();
            c.trl = Some(bad);
            assert_eq!(codes(c.validate(now())), vec![pair("trl", "out_of_range")], "{bad}");
        }
        for good in [1, 9] {
            let mut c = content();
            c.trl = Some(good);
            assert!(c.validate(now()).is_ok());
        }
    }

    #[test]
    fn field_codes_must_exist_at_level_two_once_each() {
        let mut c = content();
        c.field_codes = vec!["999".into(), "2".into(), "211".into(), "211".into()];
        assert_eq!(
            codes(c.validate(now())),
            vec![
                pair("field_codes[0]", "unknown_field_code"),
                pair("field_codes[1]", "field_too_broad"),
                pair("field_codes[3]", "duplicate"),
            ]
        );
        let mut c = content();
        c.field_codes.clear();
        assert_eq!(codes(c.validate(now())), vec![pair("field_codes", "required")]);
    }

    #[test]
    fn unknown_province_is_refused() {
        let mut c = content();
        c.province = "99".into();
        assert_eq!(codes(c.validate(now())), vec![pair("province", "unknown_province")]);
    }

    #[test]
    fn price_is_a_non_negative_vnd_amount_or_negotiable() {
        let mut c = content();
        c.price = Price { amount: Some(-1), currency: "VND".into(), negotiable: false, kind: None };
        assert_eq!(codes(c.clone().validate(now())), vec![pair("price.amount", "negative")]);
        c.price = Price { amount: None, currency: "USD".into(), negotiable: false, kind: None };
        assert_eq!(
            codes(c.validate(now())),
            vec![pair("price.amount", "required"), pair("price.currency", "unsupported_currency")]
        );
        let mut c = content();
        c.price = Price { amount: Some(0), currency: "VND".into(), negotiable: false, kind: None };
        assert!(c.validate(now()).is_ok());
    }

    #[test]
    fn contact_media_and_source_are_checked() {
        let mut c = content();
        c.contact = Some(Contact { name: None, email: Some("not-an-email".into()), phone: Some("call me".into()) });
        c.media[0].url = "ftp://example.vn/a".into();
        c.source = Some(Source { exchange: "Bình Dương".into(), external_id: " ".into(), url: None });
        assert_eq!(
            codes(c.validate(now())),
            vec![
                pair("contact.email", "invalid_email"),
                pair("contact.phone", "invalid_phone"),
                pair("media[0].url", "invalid_url"),
                pair("source.exchange", "invalid_format"),
                pair("source.external_id", "required"),
            ]
        );
    }

    #[test]
    fn expiry_must_lie_in_the_future() {
        let mut c = content();
        c.expires_at = Some(now());
        assert_eq!(codes(c.validate(now())), vec![pair("expires_at", "in_the_past")]);
    }

    #[test]
    fn every_failure_is_reported_at_once() {
        let mut c = content();
        c.title.vi.clear();
        c.trl = Some(12);
        c.province = "00".into();
        assert_eq!(codes(c.validate(now())).len(), 3);
    }

    #[test]
    fn lifecycle_follows_the_state_machine() {
        use LifecycleAction as A;
        use ListingStatus as S;
        let allowed = [
            (S::Draft, A::Submit, S::PendingReview),
            (S::Rejected, A::Submit, S::PendingReview),
            (S::Draft, A::Publish, S::Published),
            (S::PendingReview, A::Publish, S::Published),
            (S::PendingReview, A::Reject, S::Rejected),
            (S::PendingReview, A::Withdraw, S::Withdrawn),
            (S::Published, A::Withdraw, S::Withdrawn),
            (S::Published, A::Close, S::Closed),
            (S::Withdrawn, A::Restore, S::Draft),
        ];
        for from in S::ALL {
            for action in A::ALL {
                let expected = allowed.iter().find(|(f, a, _)| f == from && a == action).map(|(_, _, to)| *to);
                assert_eq!(from.after(*action).ok(), expected, "{from} + {action}");
            }
        }
    }

    #[test]
    fn withdrawn_listings_are_restored_as_drafts_and_deletion_is_undone() {
        assert_eq!(ListingStatus::Withdrawn.allowed_actions(), [LifecycleAction::Restore]);
        let mut listing = Listing::draft(content().validate(now()).unwrap(), None, now());
        listing.withdraw_for_deletion(now());
        assert!(listing.is_deleted());
        let period = RestorePeriod::default();
        assert_eq!(period.days(), 30);
        assert!(listing.is_restorable(now() + chrono::Duration::days(30), period));
        assert!(!listing.is_restorable(now() + chrono::Duration::days(31), period));
        listing.apply(LifecycleAction::Restore, now()).unwrap();
        assert_eq!((listing.status, listing.is_deleted()), (ListingStatus::Draft, false));
        assert!(!listing.is_restorable(now(), period), "only withdrawn listings are restored");
        assert!(ListingStatus::Published.after(LifecycleAction::Restore).is_err());
    }

    #[test]
    fn terminal_states_allow_no_action() {
        for status in [ListingStatus::Expired, ListingStatus::Closed] {
            assert!(status.allowed_actions().is_empty(), "{status}");
        }
    }

    #[test]
    fn illegal_transition_explains_itself() {
        let err = ListingStatus::Withdrawn.after(LifecycleAction::Publish).unwrap_err();
        assert_eq!(err.to_string(), "a listing that is withdrawn cannot be published");
    }

    #[test]
    fn every_write_bumps_the_version_and_publishing_stamps_the_time() {
        let mut listing = Listing::draft(content().validate(now()).unwrap(), None, now());
        assert_eq!((listing.version, listing.status), (1, ListingStatus::Draft));
        listing.apply(LifecycleAction::Submit, now()).unwrap();
        listing.apply(LifecycleAction::Publish, now()).unwrap();
        assert_eq!((listing.version, listing.published_at), (3, Some(now())));
        assert!(listing.apply(LifecycleAction::Submit, now()).is_err());
        assert_eq!(listing.version, 3, "a refused move changes nothing");
    }

    #[test]
    fn only_published_listings_past_their_expiry_expire() {
        let later = now() + chrono::Duration::days(365 * 4);
        let mut listing = Listing::draft(content().validate(now()).unwrap(), None, now());
        assert!(!listing.expire(later), "a draft does not expire");
        listing.apply(LifecycleAction::Publish, now()).unwrap();
        assert!(!listing.expire(now()), "not before its time");
        assert!(listing.expire(later));
        assert_eq!((listing.status, listing.version), (ListingStatus::Expired, 3));
        assert!(!listing.expire(later), "once");
        listing.content.expires_at = None;
        listing.status = ListingStatus::Published;
        assert!(!listing.expire(later), "no expiry, no expiring");
    }

    #[test]
    fn search_text_is_folded() {
        let listing = Listing::draft(content().validate(now()).unwrap(), None, now());
        let text = listing.search_text();
        assert!(text.contains("may say nong san dung nang luong mat troi"), "{text}");
        assert!(text.contains("vien co dien nong nghiep"), "{text}");
    }

    #[test]
    fn transfer_forms_read_as_in_law_07_2017_article_5() {
        assert_eq!(TransferForm::EquipmentSale.label_vi(), "Mua bán máy móc, thiết bị kèm theo đối tượng công nghệ");
        assert_eq!(
            TransferForm::EquipmentSale.label_en(),
            "Sale of machinery and equipment accompanying the technology"
        );
        assert_eq!(TransferForm::InvestmentProject.label_vi(), "Phần chuyển giao công nghệ trong dự án đầu tư");
        assert_eq!(TransferForm::InvestmentProject.label_en(), "Technology transfer within an investment project");
    }

    #[test]
    fn ip_statuses_name_the_title_of_protection() {
        assert_eq!(IpStatus::IndustrialDesign.label_vi(), "Bằng độc quyền kiểu dáng công nghiệp");
        assert_eq!(IpStatus::IndustrialDesign.label_en(), "Industrial design patent");
        assert_eq!(IpStatus::PlantVariety.label_vi(), "Bằng bảo hộ giống cây trồng");
        assert_eq!(IpStatus::PlantVariety.label_en(), "Plant variety protection certificate");
        assert_eq!(IpStatus::Pending.label_vi(), "Đã nộp đơn, đang chờ cấp văn bằng");
        assert_eq!(IpStatus::Pending.label_en(), "Application filed, awaiting grant");
    }

    #[test]
    fn words_round_trip() {
        for status in ListingStatus::ALL {
            assert_eq!(status.as_str().parse::<ListingStatus>().unwrap(), *status);
        }
        assert!("archived".parse::<ListingStatus>().is_err());
    }

    #[test]
    fn control_characters_are_refused_in_every_text_field_and_invisible_text_is_empty() {
        let mut c = content();
        c.title.vi = "Máy\u{0}sấy".into();
        c.owner.name = "Viện\u{1B}[2J".into();
        c.keywords = vec!["sấy\r\nSet-Cookie: x".into()];
        c.source.as_mut().unwrap().external_id = "SP\u{202E}711".into();
        c.summary = Some(LocalizedText { vi: "\u{200B}\u{FEFF}".into(), en: Some("Dòng một\r\nDòng hai".into()) });
        assert_eq!(
            codes(c.validate(now())),
            vec![
                pair("title.vi", "control_character"),
                pair("summary.vi", "required"),
                pair("keywords[0]", "control_character"),
                pair("owner.name", "control_character"),
                pair("source.external_id", "control_character"),
            ]
        );
        let mut c = content();
        c.description = Some(LocalizedText { vi: "Dòng một\r\nDòng hai".into(), en: None });
        c.title.vi = "Cong nghe\u{0301}".into();
        let valid = c.validate(now()).unwrap();
        assert_eq!(valid.content.description.unwrap().vi, "Dòng một\nDòng hai");
        assert_eq!(valid.content.title.vi, "Cong nghé", "stored in NFC");
    }

    #[test]
    fn overlong_lists_are_refused_whole_without_reading_their_items() {
        let mut c = content();
        c.field_codes = vec!["999".into(); 150_000];
        c.keywords = vec!["\u{0}".into(); 1_000];
        c.transfer_forms = vec![TransferForm::Franchise; 500];
        assert_eq!(
            codes(c.validate(now())),
            vec![pair("keywords", "too_many"), pair("field_codes", "too_many"), pair("transfer_forms", "too_many")]
        );
        let mut c = content();
        c.field_codes = vec!["999".into(); FIELD_CODES_MAX];
        let errors = codes(c.validate(now()));
        assert_eq!(errors.len(), 2 * FIELD_CODES_MAX - 1, "every unknown code, then each repetition");
    }

    #[test]
    fn an_expiry_lies_in_the_future_but_not_beyond_ten_years() {
        let mut c = content();
        c.expires_at = Some(now() + chrono::Duration::days(EXPIRY_MAX_DAYS));
        assert!(c.clone().validate(now()).is_ok());
        c.expires_at = Some(now() + chrono::Duration::days(EXPIRY_MAX_DAYS) + chrono::Duration::seconds(1));
        assert_eq!(codes(c.clone().validate(now())), vec![pair("expires_at", "too_far")]);
        let too_far = &c.clone().validate(now()).unwrap_err().0[0];
        assert_eq!(
            too_far.message.render(crate::messages::Lang::En),
            "the expiry may lie at most 10 years ahead; leave it out for no expiry"
        );
        c.expires_at = Some("+262142-01-01T00:00:00Z".parse().unwrap());
        assert_eq!(codes(c.validate(now())), vec![pair("expires_at", "too_far")]);
    }

    #[test]
    fn a_published_listing_past_its_expiry_is_seen_as_expired_without_a_write() {
        let mut c = content();
        c.expires_at = Some(now() + chrono::Duration::hours(1));
        let mut listing = Listing::draft(c.validate(now()).unwrap(), Some(Uuid::now_v7()), now());
        listing.status = ListingStatus::Published;
        assert_eq!(listing.clone().as_seen_at(now()).status, ListingStatus::Published);
        let seen = listing.clone().as_seen_at(now() + chrono::Duration::hours(1));
        assert_eq!((seen.status, seen.version), (ListingStatus::Expired, listing.version));
        listing.status = ListingStatus::Draft;
        assert_eq!(listing.as_seen_at(now() + chrono::Duration::days(9)).status, ListingStatus::Draft);
    }

    #[test]
    fn an_edit_by_an_untrusted_publisher_sends_a_published_listing_back_to_review() {
        let mut listing = Listing::draft(content().validate(now()).unwrap(), Some(Uuid::now_v7()), now());
        listing.status = ListingStatus::Published;
        let mut edited = content();
        edited.title.vi = "Tiêu đề khác".into();
        listing.revise(edited.clone().validate(now()).unwrap(), now(), true);
        assert_eq!(listing.status, ListingStatus::Published);
        listing.revise(edited.clone().validate(now()).unwrap(), now(), false);
        assert_eq!(listing.status, ListingStatus::PendingReview);
        assert_eq!(listing.version, 3);
        for status in [ListingStatus::Draft, ListingStatus::Rejected, ListingStatus::Withdrawn, ListingStatus::Closed] {
            listing.status = status;
            listing.revise(edited.clone().validate(now()).unwrap(), now(), false);
            assert_eq!(listing.status, status);
        }
    }
    #[test]
    fn a_price_type_decides_whether_an_amount_is_needed() {
        let priced = |amount: Option<i64>, kind: PriceType, negotiable: bool| {
            let mut c = content();
            c.price = Price { amount, currency: "VND".into(), negotiable, kind: Some(kind) };
            c.validate(now())
        };
        for kind in [PriceType::Indicative, PriceType::Floor, PriceType::Firm] {
            assert!(priced(Some(1), kind, false).is_ok(), "{kind}");
            assert_eq!(codes(priced(None, kind, false)), vec![pair("price.amount", "required")], "{kind}");
        }
        assert!(priced(None, PriceType::OnRequest, false).is_ok());
        assert!(priced(None, PriceType::OnRequest, true).is_ok());
        assert_eq!(codes(priced(Some(5), PriceType::OnRequest, true)), vec![pair("price.amount", "not_allowed")]);
        assert!(priced(Some(5), PriceType::Floor, true).is_ok(), "a floor may be negotiated upwards");
        assert_eq!(codes(priced(Some(5), PriceType::Firm, true)), vec![pair("price.negotiable", "contradiction")]);
        let refused = &priced(None, PriceType::Floor, false).unwrap_err().0[0];
        assert_eq!(refused.message.render(crate::messages::Lang::En), "a price of type floor needs an amount in đồng");
        assert_eq!(
            refused.message.render(crate::messages::Lang::Vi),
            "giá thuộc loại “Giá sàn” cần có số tiền bằng đồng"
        );
    }

    #[test]
    fn an_ip_territory_lists_country_codes_once_and_only_with_an_ip_right() {
        let mut c = content();
        c.ip_status = IpStatus::Patent;
        c.ip_territory = vec![" VN ".into(), "US".into()];
        assert_eq!(c.clone().validate(now()).unwrap().content.ip_territory, ["VN", "US"]);
        c.ip_territory = vec!["vn".into(), "VNM".into(), "V1".into(), "US".into(), "US".into()];
        assert_eq!(
            codes(c.clone().validate(now())),
            vec![
                pair("ip_territory[0]", "invalid_format"),
                pair("ip_territory[1]", "invalid_format"),
                pair("ip_territory[2]", "invalid_format"),
                pair("ip_territory[4]", "duplicate"),
            ]
        );
        c.ip_territory = vec!["VN".into(); IP_TERRITORY_MAX + 1];
        assert_eq!(codes(c.clone().validate(now())), vec![pair("ip_territory", "too_many")]);
        c.ip_status = IpStatus::None;
        c.ip_territory = vec!["VN".into()];
        assert_eq!(codes(c.validate(now())), vec![pair("ip_territory", "not_applicable")]);
    }

    #[test]
    fn co_owners_hold_one_to_a_hundred_percent_each_and_no_more_than_the_whole_together() {
        let co = |name: &str, share: i64| CoOwner { name: name.into(), organization_id: None, share_percent: share };
        let mut c = content();
        c.co_owners = vec![co(" Trường Đại học A ", 40), co("Công ty B", 60)];
        assert_eq!(c.clone().validate(now()).unwrap().content.co_owners[0].name, "Trường Đại học A");
        c.co_owners = vec![co("A", 0), co(" ", 101), co("C", 100)];
        assert_eq!(
            codes(c.clone().validate(now())),
            vec![
                pair("co_owners[0].share_percent", "out_of_range"),
                pair("co_owners[1].name", "required"),
                pair("co_owners[1].share_percent", "out_of_range"),
            ]
        );
        c.co_owners = vec![co("A", 50), co("B", 51)];
        let refused = c.clone().validate(now()).unwrap_err();
        assert_eq!(
            refused.0.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect::<Vec<_>>(),
            [("co_owners", "shares_exceed_whole")]
        );
        assert!(refused.0[0].message.render(crate::messages::Lang::En).contains("101 percent"));
        c.co_owners = vec![co("A", 1); CO_OWNERS_MAX + 1];
        assert_eq!(codes(c.validate(now())), vec![pair("co_owners", "too_many")]);
    }

    #[test]
    fn a_confidential_section_holds_something_and_is_checked_like_the_rest() {
        let mut c = content();
        c.confidential = Some(Confidential {
            technical_details: Some(" Nhiệt độ sấy 55°C\r\nĐộ ẩm 12% ".into()),
            commercial_terms: None,
            attachments: vec![Attachment { url: "https://example.vn/ban-ve.pdf".into(), title: None }],
        });
        let valid = c.clone().validate(now()).unwrap().content.confidential.unwrap();
        assert_eq!(valid.technical_details.as_deref(), Some("Nhiệt độ sấy 55°C\nĐộ ẩm 12%"));
        c.confidential = Some(Confidential {
            technical_details: Some("x".repeat(CONFIDENTIAL_TEXT_MAX + 1)),
            commercial_terms: Some("a\u{0}b".into()),
            attachments: vec![Attachment { url: "file:///etc/passwd".into(), title: None }],
        });
        assert_eq!(
            codes(c.clone().validate(now())),
            vec![
                pair("confidential.technical_details", "too_long"),
                pair("confidential.commercial_terms", "control_character"),
                pair("confidential.attachments[0].url", "invalid_url"),
            ]
        );
        c.confidential = Some(Confidential { technical_details: Some(" ".into()), ..Confidential::default() });
        assert_eq!(codes(c.clone().validate(now())), vec![pair("confidential", "required")]);
        let many = vec![Attachment { url: "https://example.vn/a.pdf".into(), title: None }; ATTACHMENTS_MAX + 1];
        c.confidential = Some(Confidential { attachments: many, ..Confidential::default() });
        assert_eq!(codes(c.validate(now())), vec![pair("confidential.attachments", "too_many")]);
    }

    #[test]
    fn new_words_have_labels_in_both_languages() {
        assert_eq!(PriceType::OnRequest.label_vi(), "Giá liên hệ");
        assert_eq!(DevelopmentStage::ProductionScale.as_str(), "production_scale");
        assert_eq!("commercial".parse::<DevelopmentStage>().unwrap().label_en(), "Commercialized");
    }
}
