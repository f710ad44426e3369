//! Rules checked exactly at their limits, and the moves and refusals whose effect the other tests
//! did not pin down (found by mutation testing: each test here fails when its rule is weakened).

use chrono::{DateTime, Duration, TimeZone, Utc};
use techex_domain::access::{self, Actor, Caller, Denied, Scope};
use techex_domain::listing::{Contact, KEYWORDS_MAX, MEDIA_MAX, Media, MediaKind, Owner};
use techex_domain::organization::{Organization, OrganizationContent, OrganizationKind, SOURCE_EXCHANGES_MAX};
use techex_domain::values::LocalizedText;
use techex_domain::{
    LifecycleAction, Listing, ListingContent, ListingId, ListingKind, ListingStatus, Message, Text, ValidationErrors,
};
use uuid::Uuid;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 8, 0, 0).unwrap()
}

/// The smallest valid content, changed by `edit`.
fn listing_content(edit: impl FnOnce(&mut ListingContent)) -> ListingContent {
    let owner = Owner { organization_id: None, name: "Viện A".into() };
    let title = LocalizedText::vi("Máy sấy nông sản");
    let mut content = ListingContent::new(ListingKind::Offer, title, vec!["211".into()], "79", owner);
    edit(&mut content);
    content
}

/// A contact with only these details.
fn contact(name: Option<&str>, email: Option<&str>, phone: Option<&str>) -> Option<Contact> {
    let text = |t: Option<&str>| t.map(str::to_owned);
    Some(Contact { name: text(name), email: text(email), phone: text(phone) })
}

fn problems(errors: ValidationErrors) -> Vec<(String, String)> {
    errors.0.into_iter().map(|e| (e.field, e.code)).collect()
}

fn listing_problems(edit: impl FnOnce(&mut ListingContent)) -> Vec<(String, String)> {
    listing_content(edit).validate(at(1)).err().map(problems).unwrap_or_default()
}

fn pair(field: &str, code: &str) -> (String, String) {
    (field.to_owned(), code.to_owned())
}

fn image(url: String) -> Media {
    Media { url, kind: MediaKind::Image, title: None }
}

fn media(count: usize) -> Vec<Media> {
    (0..count).map(|i| image(format!("https://example.vn/{i}.jpg"))).collect()
}

#[test]
fn media_and_keywords_are_accepted_up_to_their_limit_and_refused_one_beyond() {
    assert_eq!(listing_problems(|c| c.media = media(MEDIA_MAX)), []);
    assert_eq!(listing_problems(|c| c.media = media(MEDIA_MAX + 1)), [pair("media", "too_many")]);
    assert_eq!(listing_problems(|c| c.media = media(1)), []);

    let keywords: Vec<String> = (0..KEYWORDS_MAX).map(|i| format!("từ {i}")).collect();
    assert_eq!(listing_problems(|c| c.keywords = keywords), []);
    let too_many: Vec<String> = (0..=KEYWORDS_MAX).map(|i| format!("từ {i}")).collect();
    assert_eq!(listing_problems(|c| c.keywords = too_many), [pair("keywords", "too_many")]);
}

#[test]
fn text_is_accepted_at_its_maximum_length_and_refused_one_character_beyond() {
    let at_limit = "ạ".repeat(techex_domain::values::SHORT_TEXT_MAX);
    let beyond = format!("{at_limit}a");
    assert_eq!(listing_problems(|c| c.contact = contact(Some(&at_limit), None, None)), []);
    assert_eq!(
        listing_problems(|c| c.contact = contact(Some(&beyond), None, None)),
        [pair("contact.name", "too_long")]
    );
}

#[test]
fn optional_text_is_trimmed_blank_becomes_absent_and_too_long_is_refused() {
    let valid =
        listing_content(|c| c.contact = contact(Some("  Chị Lan  "), None, Some("   "))).validate(at(1)).unwrap();
    let kept = valid.content.contact.unwrap();
    assert_eq!(kept.name.as_deref(), Some("Chị Lan"));
    assert_eq!(kept.phone, None);
    let long_phone = "0".repeat(31);
    assert_eq!(
        listing_problems(|c| c.contact = contact(None, None, Some(&long_phone))),
        [pair("contact.phone", "too_long")]
    );
}

#[test]
fn an_email_needs_a_local_part_a_dotted_domain_and_no_spaces() {
    for good in ["lan@sokhcn.gov.vn", "a@b.vn"] {
        assert_eq!(listing_problems(|c| c.contact = contact(None, Some(good), None)), [], "{good}");
    }
    for bad in ["@sokhcn.gov.vn", "lan@localhost", "lan@.gov.vn", "lan@sokhcn.gov.", "lan nguyen@sokhcn.gov.vn", "lan"]
    {
        assert_eq!(
            listing_problems(|c| c.contact = contact(None, Some(bad), None)),
            [pair("contact.email", "invalid_email")],
            "{bad}"
        );
    }
}

#[test]
fn a_url_needs_an_http_scheme_a_host_and_no_spaces() {
    let url_problems = |url: &str| listing_problems(|c| c.media = vec![image(url.to_owned())]);
    assert_eq!(url_problems("https://sokhcn.dongnai.gov.vn/a.jpg"), []);
    for bad in ["https://", "https:///a.jpg", "ftp://a.vn/x", "https://a.vn/máy sấy.jpg"] {
        assert_eq!(url_problems(bad), [pair("media[0].url", "invalid_url")], "{bad}");
    }
}

fn organization_content() -> OrganizationContent {
    OrganizationContent::new(OrganizationKind::Exchange, LocalizedText::vi("Sàn Đồng Nai"), "75")
}

#[test]
fn an_organization_holds_up_to_its_limit_of_source_exchanges() {
    let holding = |count: usize| OrganizationContent {
        source_exchanges: (0..count).map(|i| format!("san-{i}")).collect(),
        ..organization_content()
    };
    assert!(holding(SOURCE_EXCHANGES_MAX).validate().is_ok());
    assert!(holding(1).validate().is_ok());
    let refused = holding(SOURCE_EXCHANGES_MAX + 1).validate();
    assert_eq!(problems(refused.unwrap_err()), [pair("source_exchanges", "too_many")]);
}

#[test]
fn revising_an_organization_replaces_its_content_and_advances_its_version_by_one() {
    let mut organization = Organization::new(organization_content().validate().unwrap(), at(1));
    let revised = OrganizationContent {
        name: LocalizedText::vi("Sàn công nghệ Đồng Nai"),
        province: "74".into(),
        ..organization_content()
    };
    organization.revise(revised.validate().unwrap(), at(2));
    assert_eq!(organization.version, 2);
    assert_eq!(organization.updated_at, at(2));
    assert_eq!(organization.created_at, at(1));
    assert_eq!(organization.content.name.vi, "Sàn công nghệ Đồng Nai");
    assert_eq!(organization.province, "79", "the pre-2025 code is resolved to today's");
    assert_eq!(organization.content.province, "74", "the code as sent is kept");
}

fn draft_of(publisher: Uuid) -> Listing {
    Listing::draft(listing_content(|_| ()).validate(at(1)).unwrap(), Some(publisher), at(1))
}

#[test]
fn only_publishing_stamps_the_publication_time() {
    let mut listing = draft_of(Uuid::now_v7());
    listing.apply(LifecycleAction::Submit, at(2)).unwrap();
    assert_eq!(listing.status, ListingStatus::PendingReview);
    assert_eq!(listing.published_at, None);
    listing.apply(LifecycleAction::Publish, at(3)).unwrap();
    assert_eq!(listing.published_at, Some(at(3)));
    listing.apply(LifecycleAction::Close, at(4)).unwrap();
    assert_eq!(listing.published_at, Some(at(3)), "closing keeps when it was published");
    assert_eq!((listing.version, listing.updated_at), (4, at(4)));
}

#[test]
fn deletion_takes_the_listing_off_the_market_as_a_new_version() {
    let mut listing = draft_of(Uuid::now_v7());
    listing.withdraw_for_deletion(at(5));
    assert_eq!(listing.status, ListingStatus::Withdrawn);
    assert_eq!((listing.version, listing.updated_at), (2, at(5)));
}

fn actor(organization: Uuid, scopes: &[Scope]) -> Caller {
    Some(Actor { client_id: Uuid::now_v7(), organization_id: organization, scopes: scopes.iter().copied().collect() })
}

#[test]
fn an_owner_without_the_write_scope_is_told_the_scope_it_lacks() {
    let organization = Uuid::now_v7();
    let listing = draft_of(organization);
    let reader = actor(organization, &[Scope::ListingsModerate]);
    let refusal = access::lifecycle_action(&reader, &listing, LifecycleAction::Submit).unwrap_err();
    assert_eq!(refusal, Denied::MissingScope(Scope::ListingsWrite));
}

#[test]
fn an_organization_may_name_itself_as_the_publisher_of_its_unpublished_listings() {
    let organization = Uuid::now_v7();
    let writer = actor(organization, &[Scope::ListingsWrite]);
    assert_eq!(access::listable_publisher(&writer, ListingStatus::Draft, Some(organization)), Ok(Some(organization)));
    assert_eq!(access::listable_publisher(&writer, ListingStatus::Draft, None), Ok(Some(organization)));
    assert_eq!(access::listable_publisher(&writer, ListingStatus::Draft, Some(Uuid::now_v7())), Err(Denied::NotOwner));
}

#[test]
fn ids_and_scopes_print_as_they_are_written() {
    let id: ListingId = "0192f0c4-7d3a-7cc0-9a43-4f1e0a6b5c2d".parse().unwrap();
    assert_eq!(id.to_string(), "0192f0c4-7d3a-7cc0-9a43-4f1e0a6b5c2d");
    assert!("not-an-id".parse::<ListingId>().is_err());
    assert_eq!(Scope::ListingsModerate.to_string(), "listings:moderate");
}

#[test]
fn validation_errors_read_as_one_sentence() {
    let only = ValidationErrors::single("title.vi", Text::Required);
    assert_eq!(only.to_string(), "title.vi: is required");
    let unplaced = ValidationErrors::single("", Text::NotEmpty);
    assert_eq!(unplaced.to_string(), "must not be empty");
    let mut several = ValidationErrors::default();
    several.add("title.vi", Text::Required);
    several.add("trl", Message::new(Text::TrlOutOfRange).with("value", 12));
    assert_eq!(several.to_string(), "2 invalid fields: title.vi, trl");
}

#[test]
fn an_expiry_just_inside_its_window_is_accepted() {
    let max = techex_domain::listing::EXPIRY_MAX_DAYS;
    let inside = at(1) + Duration::days(max);
    assert_eq!(listing_problems(|c| c.expires_at = Some(inside)), []);
    let beyond = inside + Duration::seconds(1);
    assert_eq!(listing_problems(|c| c.expires_at = Some(beyond)), [pair("expires_at", "too_far")]);
}
