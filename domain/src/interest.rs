//! Expressions of interest: a company that read a published listing tells its publisher it is
//! interested, and the publisher answers it outside the hub. The hub passes the sender's message
//! and contact to the publisher only, and never hands the listing's contact to the sender.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::access::{Actor, Caller, Denied, Scope};
use crate::listing::{Listing, ListingId, ListingStatus};
use crate::messages::Text;
use crate::text::Lines;
use crate::validation::ValidationErrors;
use crate::values::{PHONE_MAX, SHORT_TEXT_MAX, check_contact_fields, optional_text, required_text};

/// The longest message, in characters.
pub const MESSAGE_MAX: usize = 2_000;
/// The longest name of a sender or of its organization.
pub const SENDER_NAME_MAX: usize = SHORT_TEXT_MAX;
/// The longest e-mail address of a sender.
pub const SENDER_EMAIL_MAX: usize = SHORT_TEXT_MAX;
/// The longest phone number of a sender.
pub const SENDER_PHONE_MAX: usize = PHONE_MAX;

/// Who sent an interest: an API client's organization, or a person who gave a name, an
/// organization and a way to be reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender {
    /// The organization of the authenticated client that sent it; `None` for anonymous senders.
    pub organization_id: Option<Uuid>,
    /// The client that sent it, for the change log.
    pub client_id: Option<Uuid>,
    pub name: Option<String>,
    /// The organization as an anonymous sender wrote it.
    pub organization: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// An interest as a sender writes it, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterestRequest {
    pub name: Option<String>,
    pub organization: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: String,
}

/// A checked interest, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidInterest {
    sender: Sender,
    message: String,
}

impl InterestRequest {
    /// Checks and cleans the request for `caller`. An anonymous sender must give its name, its
    /// organization and an e-mail address or a phone number (or both), so the publisher can
    /// answer; an authenticated client is known by its organization, and its contact fields are
    /// optional. Every problem is reported at once, under `sender.*` and `message`.
    pub fn validate(self, caller: &Caller) -> Result<ValidInterest, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let InterestRequest { mut name, mut organization, mut email, mut phone, mut message } = self;
        optional_text(&mut errors, "sender.name", &mut name, SENDER_NAME_MAX, Lines::One);
        optional_text(&mut errors, "sender.organization", &mut organization, SENDER_NAME_MAX, Lines::One);
        check_contact_fields(&mut errors, "sender", &mut email, &mut phone);
        required_text(&mut errors, "message", &mut message, MESSAGE_MAX, Lines::Many);
        if caller.is_none() {
            if name.is_none() && !has_error(&errors, "sender.name") {
                errors.add("sender.name", Text::Required);
            }
            if organization.is_none() && !has_error(&errors, "sender.organization") {
                errors.add("sender.organization", Text::Required);
            }
            let contact_refused = has_error(&errors, "sender.email") || has_error(&errors, "sender.phone");
            if email.is_none() && phone.is_none() && !contact_refused {
                errors.add("sender.email", Text::EmailOrPhone);
            }
        }
        let sender = Sender {
            organization_id: caller.as_ref().map(|a| a.organization_id),
            client_id: caller.as_ref().map(|a| a.client_id),
            name,
            organization,
            email,
            phone,
        };
        errors.finish(ValidInterest { sender, message })
    }
}

fn has_error(errors: &ValidationErrors, field: &str) -> bool {
    errors.0.iter().any(|e| e.field == field)
}

/// One expression of interest in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interest {
    pub id: Uuid,
    pub listing_id: ListingId,
    pub sender: Sender,
    pub message: String,
    /// 1 when sent, 2 once answered.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the publisher marked it answered.
    pub answered_at: Option<DateTime<Utc>>,
}

impl Interest {
    pub fn new(valid: ValidInterest, listing: ListingId, now: DateTime<Utc>) -> Self {
        Interest {
            id: Uuid::now_v7(),
            listing_id: listing,
            sender: valid.sender,
            message: valid.message,
            version: 1,
            created_at: now,
            updated_at: now,
            answered_at: None,
        }
    }

    pub fn is_answered(&self) -> bool {
        self.answered_at.is_some()
    }

    /// Marks the interest answered; `false` when it already was (answering is idempotent: the
    /// first answer's time stays).
    pub fn answer(&mut self, now: DateTime<Utc>) -> bool {
        if self.is_answered() {
            return false;
        }
        self.answered_at = Some(now);
        self.version += 1;
        self.updated_at = now;
        true
    }
}

/// How many interests a listing received, and how many of them wait for an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InterestCount {
    pub total: i64,
    pub unanswered: i64,
}

/// Why an interest cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsendable {
    /// The caller may not read the listing: answered as if it did not exist.
    Hidden,
    /// The caller sees the listing, but it is not published (a draft, closed, expired...).
    NotPublished(ListingStatus),
}

/// Whether `caller` may send an interest in `listing` (as seen now, expiry applied): only
/// published listings accept them. A listing the caller cannot read is hidden, as a read would
/// hide it; one it can read but that is not published (its own draft, or a closed listing for
/// the publisher) is refused as not open.
pub fn may_send_interest(caller: &Caller, listing: &Listing) -> Result<(), Unsendable> {
    if !crate::access::may_read_listing(caller, listing) {
        return Err(Unsendable::Hidden);
    }
    if listing.is_deleted() || listing.status != ListingStatus::Published {
        return Err(Unsendable::NotPublished(listing.status));
    }
    Ok(())
}

/// Who reads a listing's interests and marks them answered: the clients of its publishing
/// organization that hold `listings:write`, and the operator. Anonymous callers must
/// authenticate; the publisher's clients without the scope are told which scope they lack;
/// anyone else (another organization, a moderator, the sender) is told the listing does not
/// exist, so an interest's existence never leaks.
pub fn may_read_interests<'a>(caller: &'a Caller, listing: &Listing) -> Result<&'a Actor, Denied> {
    let actor = caller.as_ref().ok_or(Denied::Unauthenticated)?;
    if actor.is_admin() {
        return Ok(actor);
    }
    if listing.publisher != Some(actor.organization_id) {
        return Err(Denied::Hidden);
    }
    actor.require(Scope::ListingsWrite)?;
    Ok(actor)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn actor(organization: Uuid, scopes: &[Scope]) -> Actor {
        Actor { client_id: Uuid::now_v7(), organization_id: organization, scopes: scopes.iter().copied().collect() }
    }

    fn fields(errors: &ValidationErrors) -> BTreeSet<(String, String)> {
        errors.0.iter().map(|e| (e.field.clone(), e.code.clone())).collect()
    }

    fn pair(field: &str, code: &str) -> (String, String) {
        (field.to_owned(), code.to_owned())
    }

    fn anonymous_request() -> InterestRequest {
        InterestRequest {
            name: Some(" Trần Thị Bình ".into()),
            organization: Some("Công ty TNHH Nông sản Xanh".into()),
            email: Some("binh@nongsanxanh.vn".into()),
            phone: None,
            message: "Chúng tôi muốn mua\r\nmáy sấy".into(),
        }
    }

    #[test]
    fn an_anonymous_sender_gives_a_name_an_organization_and_a_way_to_answer() {
        let valid = anonymous_request().validate(&None).unwrap();
        assert_eq!(valid.sender.name.as_deref(), Some("Trần Thị Bình"));
        assert_eq!(valid.message, "Chúng tôi muốn mua\nmáy sấy");
        assert_eq!(valid.sender.organization_id, None);

        let missing = InterestRequest { message: "x".into(), ..Default::default() }.validate(&None).unwrap_err();
        assert_eq!(
            fields(&missing),
            [
                pair("sender.name", "required"),
                pair("sender.organization", "required"),
                pair("sender.email", "required")
            ]
            .into()
        );
        let by_phone = InterestRequest { email: None, phone: Some("+84 28 3822 1234".into()), ..anonymous_request() };
        assert!(by_phone.validate(&None).is_ok());
    }

    #[test]
    fn contacts_messages_and_lengths_are_checked_like_elsewhere() {
        let bad = InterestRequest {
            email: Some("not-an-email".into()),
            phone: Some("call me".into()),
            message: "m".repeat(MESSAGE_MAX + 1),
            name: Some("n".repeat(SENDER_NAME_MAX + 1)),
            ..anonymous_request()
        };
        assert_eq!(
            fields(&bad.validate(&None).unwrap_err()),
            [
                pair("sender.name", "too_long"),
                pair("sender.email", "invalid_email"),
                pair("sender.phone", "invalid_phone"),
                pair("message", "too_long")
            ]
            .into()
        );
        let blank = InterestRequest { message: " \u{200B} ".into(), ..anonymous_request() };
        assert_eq!(fields(&blank.validate(&None).unwrap_err()), [pair("message", "required")].into());
        let control = InterestRequest { message: "a\u{1B}[31m".into(), ..anonymous_request() };
        assert_eq!(fields(&control.validate(&None).unwrap_err()), [pair("message", "control_character")].into());
        let at_limit = InterestRequest { message: "ư".repeat(MESSAGE_MAX), ..anonymous_request() };
        assert!(at_limit.validate(&None).is_ok());
    }

    #[test]
    fn an_authenticated_sender_is_its_organization_and_needs_only_a_message() {
        let org = Uuid::now_v7();
        let caller = Some(actor(org, &[]));
        let valid = InterestRequest { message: "Quan tâm".into(), ..Default::default() }.validate(&caller).unwrap();
        assert_eq!(valid.sender.organization_id, Some(org));
        assert_eq!(valid.sender.client_id, caller.as_ref().map(|a| a.client_id));
        let bad = InterestRequest { email: Some("x".into()), message: String::new(), ..Default::default() };
        assert_eq!(
            fields(&bad.validate(&caller).unwrap_err()),
            [pair("sender.email", "invalid_email"), pair("message", "required")].into()
        );
    }

    #[test]
    fn answering_is_idempotent_and_keeps_the_first_time() {
        let valid = anonymous_request().validate(&None).unwrap();
        let t0 = crate::now();
        let mut interest = Interest::new(valid, ListingId::new(), t0);
        assert!(!interest.is_answered());
        let t1 = t0 + chrono::Duration::minutes(5);
        assert!(interest.answer(t1));
        assert_eq!((interest.version, interest.answered_at), (2, Some(t1)));
        assert!(!interest.answer(t1 + chrono::Duration::minutes(5)));
        assert_eq!((interest.version, interest.answered_at), (2, Some(t1)));
    }

    fn listing(publisher: Uuid, status: ListingStatus) -> Listing {
        use crate::listing::{ListingContent, ListingKind, LocalizedText, Owner};
        let owner = Owner { organization_id: None, name: "Viện A".into() };
        let content =
            ListingContent::new(ListingKind::Offer, LocalizedText::vi("Máy sấy"), vec!["211".into()], "79", owner);
        let mut listing = Listing::draft(content.validate(crate::now()).unwrap(), Some(publisher), crate::now());
        listing.status = status;
        listing
    }

    #[test]
    fn only_published_listings_accept_interests_and_hidden_ones_stay_hidden() {
        let publisher = Uuid::now_v7();
        let own = Some(actor(publisher, &[Scope::ListingsWrite]));
        let other = Some(actor(Uuid::now_v7(), &[Scope::ListingsWrite]));
        assert_eq!(may_send_interest(&None, &listing(publisher, ListingStatus::Published)), Ok(()));
        assert_eq!(may_send_interest(&other, &listing(publisher, ListingStatus::Published)), Ok(()));
        for status in ListingStatus::ALL.iter().copied().filter(|s| *s != ListingStatus::Published) {
            let listing = listing(publisher, status);
            assert_eq!(may_send_interest(&None, &listing), Err(Unsendable::Hidden), "{status:?}");
            assert_eq!(may_send_interest(&other, &listing), Err(Unsendable::Hidden), "{status:?}");
            assert_eq!(may_send_interest(&own, &listing), Err(Unsendable::NotPublished(status)), "{status:?}");
        }
    }

    #[test]
    fn interests_are_read_by_the_publishers_writers_and_the_operator_only() {
        let publisher = Uuid::now_v7();
        let listing = listing(publisher, ListingStatus::Published);
        let cell = |caller: Caller| may_read_interests(&caller, &listing).map(|_| ());
        assert_eq!(cell(None), Err(Denied::Unauthenticated));
        assert_eq!(cell(Some(actor(publisher, &[Scope::ListingsWrite]))), Ok(()));
        assert_eq!(cell(Some(actor(publisher, &[]))), Err(Denied::MissingScope(Scope::ListingsWrite)));
        assert_eq!(cell(Some(actor(Uuid::now_v7(), &[Scope::ListingsWrite]))), Err(Denied::Hidden));
        assert_eq!(cell(Some(actor(Uuid::now_v7(), &[Scope::ListingsModerate]))), Err(Denied::Hidden));
        assert_eq!(cell(Some(actor(Uuid::now_v7(), &[Scope::Admin]))), Ok(()));
    }
}
