//! Who may do what: API clients act for one organization, within the scopes they were granted.
//! The rules are here, apart from HTTP, so each can be read and tested on its own.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::listing::{LifecycleAction, Listing, ListingStatus};
use crate::words::UnknownWord;

/// A permission an API client may hold and a token may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Create and edit the organization's own listings, submit them for review.
    #[serde(rename = "listings:write")]
    ListingsWrite,
    /// Publish the organization's own listings without review.
    #[serde(rename = "listings:publish")]
    ListingsPublish,
    /// Approve, reject and take down any organization's listings.
    #[serde(rename = "listings:moderate")]
    ListingsModerate,
    #[serde(rename = "contracts:read")]
    ContractsRead,
    #[serde(rename = "contracts:write")]
    ContractsWrite,
    #[serde(rename = "centers:write")]
    CentersWrite,
    #[serde(rename = "changes:read")]
    ChangesRead,
    /// The hub operator: everything, including organizations and API clients.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: &'static [Scope] = &[
        Scope::ListingsWrite,
        Scope::ListingsPublish,
        Scope::ListingsModerate,
        Scope::ContractsRead,
        Scope::ContractsWrite,
        Scope::CentersWrite,
        Scope::ChangesRead,
        Scope::Admin,
    ];
    const WORDS: &'static [&'static str] = &[
        "listings:write",
        "listings:publish",
        "listings:moderate",
        "contracts:read",
        "contracts:write",
        "centers:write",
        "changes:read",
        "admin",
    ];

    pub fn as_str(self) -> &'static str {
        Self::WORDS[Self::ALL.iter().position(|s| *s == self).expect("every scope has a word")]
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::WORDS.iter().position(|w| *w == s).map(|i| Self::ALL[i]).ok_or(UnknownWord { expected: Self::WORDS })
    }
}

/// Parses a space-separated scope list (RFC 6749 section 3.3), rejecting unknown words.
pub fn parse_scopes(text: &str) -> Result<BTreeSet<Scope>, String> {
    text.split_whitespace().map(|word| word.parse().map_err(|_| word.to_owned())).collect()
}

/// The space-separated form of a scope set.
pub fn format_scopes(scopes: &BTreeSet<Scope>) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

/// An authenticated API client acting for its organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub scopes: BTreeSet<Scope>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No credentials where they are required.
    #[error("this operation needs an access token")]
    Unauthenticated,
    #[error("this operation needs the scope {0}")]
    MissingScope(Scope),
    #[error("only the publishing organization may change this listing")]
    NotOwner,
    /// The record exists but this caller may not see it: answered as if it did not exist, so a
    /// write reveals no more than a read.
    #[error("listing not found")]
    Hidden,
    /// A center is changed by the organization it belongs to (or the operator).
    #[error("only the organization the center belongs to may change it")]
    NotCenterOwner,
    /// Approval needs someone outside the author's organization.
    #[error("a listing is approved by a moderator of another organization than its publisher")]
    SelfApproval,
}

impl Actor {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }

    pub fn require(&self, scope: Scope) -> Result<(), Denied> {
        if self.has(scope) { Ok(()) } else { Err(Denied::MissingScope(scope)) }
    }

    pub fn is_admin(&self) -> bool {
        self.scopes.contains(&Scope::Admin)
    }

    fn owns(&self, listing: &Listing) -> bool {
        listing.publisher == Some(self.organization_id)
    }

    /// Whether the actor may see a listing in any status, contact details included.
    pub fn sees_everything_of(&self, listing: &Listing) -> bool {
        self.owns(listing) || self.has(Scope::ListingsModerate)
    }
}

/// Anyone who is not authenticated, or the actor who is.
pub type Caller = Option<Actor>;

fn authenticated(caller: &Caller) -> Result<&Actor, Denied> {
    caller.as_ref().ok_or(Denied::Unauthenticated)
}

/// Who may create a listing: any client with `listings:write`; it is published for the client's
/// organization.
pub fn may_create_listing(caller: &Caller) -> Result<&Actor, Denied> {
    let actor = authenticated(caller)?;
    actor.require(Scope::ListingsWrite)?;
    Ok(actor)
}

/// The caller, when it may see `listing`; [`Denied::Hidden`] otherwise.
fn seeing<'a>(caller: &'a Caller, listing: &Listing) -> Result<&'a Actor, Denied> {
    let actor = authenticated(caller)?;
    if may_read_listing(caller, listing) { Ok(actor) } else { Err(Denied::Hidden) }
}

/// Who may change a listing's content or delete it: its own organization's writers, or admin.
pub fn may_edit_listing<'a>(caller: &'a Caller, listing: &Listing) -> Result<&'a Actor, Denied> {
    let actor = seeing(caller, listing)?;
    if listing.is_deleted() {
        // Read-only until restored: as before restores existed, writes find nothing.
        return Err(Denied::Hidden);
    }
    actor.require(Scope::ListingsWrite)?;
    if actor.owns(listing) || actor.is_admin() { Ok(actor) } else { Err(Denied::NotOwner) }
}

/// Whether an edit by `actor` keeps a published listing public: only publishers trusted to
/// publish without review (`listings:publish`, or admin) edit without a new review.
pub fn edits_skip_review(actor: &Actor) -> bool {
    actor.has(Scope::ListingsPublish)
}

/// Whether `actor` may name `organization` as the owner of a listing: its own organization;
/// the operator may name any (it must exist, which the caller checks).
pub fn may_claim_owner(actor: &Actor, organization: Uuid) -> bool {
    organization == actor.organization_id || actor.is_admin()
}

/// Whether `action` approves another organization's listing under review: a moderator's decision
/// about content it read, so the request must name the version it read.
pub fn is_approval(actor: &Actor, listing: &Listing, action: LifecycleAction) -> bool {
    action == LifecycleAction::Publish && listing.status == ListingStatus::PendingReview && !actor.owns(listing)
}

/// Decides what a lifecycle request does for this caller: the action actually applied, or why not.
///
/// - `submit`, `close`: the owner's writers.
/// - `publish`: the owner with `listings:publish` publishes; the owner without it has the draft
///   submitted for review instead; a moderator of another organization approves a listing under
///   review (approval by the author's own organization is refused, the operator excepted).
/// - `reject`: moderators.
/// - `withdraw`: the owner's writers, and moderators (a takedown).
/// - `restore`: the owner's writers (and the operator) bring a withdrawn or deleted listing back
///   as a draft.
pub fn lifecycle_action<'a>(
    caller: &'a Caller,
    listing: &Listing,
    requested: LifecycleAction,
) -> Result<(&'a Actor, LifecycleAction), Denied> {
    use LifecycleAction as A;
    let actor = seeing(caller, listing)?;
    let owner_writer = actor.owns(listing) && actor.has(Scope::ListingsWrite);
    let moderator = actor.has(Scope::ListingsModerate);
    let under_review = listing.status == ListingStatus::PendingReview;
    if requested == A::Publish
        && owner_writer
        && !actor.has(Scope::ListingsPublish)
        && listing.status == ListingStatus::Draft
    {
        return Ok((actor, A::Submit));
    }
    let allowed = match requested {
        A::Submit | A::Close | A::Restore => owner_writer || actor.is_admin(),
        A::Withdraw => owner_writer || moderator,
        A::Reject => moderator,
        A::Publish => {
            (owner_writer && actor.has(Scope::ListingsPublish))
                || (moderator && under_review && !actor.owns(listing))
                || actor.is_admin()
        }
    };
    if allowed {
        return Ok((actor, requested));
    }
    Err(match requested {
        A::Publish if moderator && under_review => Denied::SelfApproval,
        A::Reject => Denied::MissingScope(Scope::ListingsModerate),
        A::Publish if owner_writer => Denied::MissingScope(Scope::ListingsPublish),
        _ if !actor.owns(listing) => Denied::NotOwner,
        _ => Denied::MissingScope(Scope::ListingsWrite),
    })
}

/// The lifecycle actions this caller may take on the listing now: those its status allows and
/// the caller's rights permit, each doing what it says (for a writer without `listings:publish`,
/// `publish` on a draft would only submit it, so only `submit` is offered). Anonymous callers may
/// do nothing.
pub fn allowed_actions(caller: &Caller, listing: &Listing) -> Vec<LifecycleAction> {
    listing
        .status
        .allowed_actions()
        .into_iter()
        .filter(|action| lifecycle_action(caller, listing, *action).is_ok_and(|(_, done)| done == *action))
        .collect()
}

/// Whether a caller may read a listing at all: published ones are public, others only for the
/// publishing organization and moderators; deleted ones only for the publishing organization
/// (and the operator).
pub fn may_read_listing(caller: &Caller, listing: &Listing) -> bool {
    if listing.is_deleted() {
        return caller.as_ref().is_some_and(|actor| actor.owns(listing) || actor.is_admin());
    }
    listing.status == ListingStatus::Published || caller.as_ref().is_some_and(|actor| actor.sees_everything_of(listing))
}

/// Whose listings in `status` a caller may list, given the publisher it asked for: published
/// listings of anyone; listings in any other status only of its own organization (the default
/// when it names none), or of any organization for moderators (the review queue).
pub fn listable_publisher(
    caller: &Caller,
    status: ListingStatus,
    requested: Option<Uuid>,
) -> Result<Option<Uuid>, Denied> {
    if status == ListingStatus::Published {
        return Ok(requested);
    }
    let actor = authenticated(caller)?;
    if actor.has(Scope::ListingsModerate) {
        return Ok(requested);
    }
    match requested {
        Some(publisher) if publisher != actor.organization_id => Err(Denied::NotOwner),
        _ => Ok(Some(actor.organization_id)),
    }
}

/// Whose deleted listings a caller may list, given the publisher it asked for: its own
/// organization's (the default), or any organization's for the operator. Moderators do not see
/// deleted listings.
pub fn listable_deleted(caller: &Caller, requested: Option<Uuid>) -> Result<Option<Uuid>, Denied> {
    let actor = authenticated(caller)?;
    if actor.is_admin() {
        return Ok(requested);
    }
    match requested {
        Some(publisher) if publisher != actor.organization_id => Err(Denied::NotOwner),
        _ => Ok(Some(actor.organization_id)),
    }
}

/// Contact details never go to anonymous callers.
pub fn may_read_contact(caller: &Caller) -> bool {
    caller.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::{ListingContent, ListingKind, ListingStatus, LocalizedText, Owner};

    fn listing_of(publisher: Uuid, status: ListingStatus) -> Listing {
        let owner = Owner { organization_id: None, name: "Viện A".into() };
        let content =
            ListingContent::new(ListingKind::Offer, LocalizedText::vi("Máy sấy"), vec!["211".into()], "79", owner);
        let mut listing = Listing::draft(content.validate(crate::now()).unwrap(), Some(publisher), crate::now());
        listing.status = status;
        listing
    }

    fn actor(org: Uuid, scopes: &[Scope]) -> Caller {
        Some(Actor { client_id: Uuid::now_v7(), organization_id: org, scopes: scopes.iter().copied().collect() })
    }

    #[test]
    fn scopes_parse_and_print_as_rfc_6749_lists() {
        let scopes = parse_scopes("listings:write  admin").unwrap();
        assert_eq!(format_scopes(&scopes), "listings:write admin");
        assert_eq!(parse_scopes("listings:write listings:read"), Err("listings:read".to_owned()));
        assert!(parse_scopes("").unwrap().is_empty());
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), *scope);
            assert_eq!(serde_json::to_value(scope).unwrap(), scope.as_str());
        }
    }

    #[test]
    fn creating_needs_listings_write() {
        let org = Uuid::now_v7();
        assert_eq!(may_create_listing(&None).unwrap_err(), Denied::Unauthenticated);
        assert_eq!(
            may_create_listing(&actor(org, &[Scope::ListingsPublish])).unwrap_err(),
            Denied::MissingScope(Scope::ListingsWrite)
        );
        assert!(may_create_listing(&actor(org, &[Scope::ListingsWrite])).is_ok());
        assert!(may_create_listing(&actor(org, &[Scope::Admin])).is_ok());
    }

    #[test]
    fn only_the_owner_or_admin_edits() {
        let (mine, theirs) = (Uuid::now_v7(), Uuid::now_v7());
        let listing = listing_of(mine, ListingStatus::Draft);
        assert!(may_edit_listing(&actor(mine, &[Scope::ListingsWrite]), &listing).is_ok());
        assert_eq!(may_edit_listing(&actor(theirs, &[Scope::ListingsWrite]), &listing).unwrap_err(), Denied::Hidden);
        let published = listing_of(mine, ListingStatus::Published);
        assert_eq!(
            may_edit_listing(&actor(theirs, &[Scope::ListingsWrite]), &published).unwrap_err(),
            Denied::NotOwner
        );
        assert_eq!(
            may_edit_listing(&actor(mine, &[Scope::ChangesRead]), &listing).unwrap_err(),
            Denied::MissingScope(Scope::ListingsWrite)
        );
        assert_eq!(
            may_edit_listing(&actor(theirs, &[Scope::ListingsModerate]), &listing).unwrap_err(),
            Denied::MissingScope(Scope::ListingsWrite)
        );
        assert!(may_edit_listing(&actor(theirs, &[Scope::Admin]), &listing).is_ok());
    }

    #[test]
    fn publishing_without_the_publish_scope_goes_to_review() {
        let org = Uuid::now_v7();
        let writer = actor(org, &[Scope::ListingsWrite]);
        let draft = listing_of(org, ListingStatus::Draft);
        assert_eq!(lifecycle_action(&writer, &draft, LifecycleAction::Publish).unwrap().1, LifecycleAction::Submit);
        let pending = listing_of(org, ListingStatus::PendingReview);
        assert_eq!(
            lifecycle_action(&writer, &pending, LifecycleAction::Publish).unwrap_err(),
            Denied::MissingScope(Scope::ListingsPublish)
        );
        let publisher = actor(org, &[Scope::ListingsWrite, Scope::ListingsPublish]);
        assert_eq!(lifecycle_action(&publisher, &draft, LifecycleAction::Publish).unwrap().1, LifecycleAction::Publish);
    }

    #[test]
    fn moderators_approve_reject_and_take_down_any_listing_but_do_not_edit() {
        let (owner, moderator_org) = (Uuid::now_v7(), Uuid::now_v7());
        let moderator = actor(moderator_org, &[Scope::ListingsModerate]);
        let pending = listing_of(owner, ListingStatus::PendingReview);
        for action in [LifecycleAction::Publish, LifecycleAction::Reject, LifecycleAction::Withdraw] {
            assert_eq!(lifecycle_action(&moderator, &pending, action).unwrap().1, action);
        }
        for action in [LifecycleAction::Submit, LifecycleAction::Close] {
            assert!(lifecycle_action(&moderator, &pending, action).is_err(), "{action}");
        }
        let owner_writer = actor(owner, &[Scope::ListingsWrite, Scope::ListingsPublish]);
        assert_eq!(
            lifecycle_action(&owner_writer, &pending, LifecycleAction::Reject).unwrap_err(),
            Denied::MissingScope(Scope::ListingsModerate)
        );
    }

    #[test]
    fn a_moderator_does_not_approve_its_own_organizations_listing() {
        let org = Uuid::now_v7();
        let pending = listing_of(org, ListingStatus::PendingReview);
        let own_moderator = actor(org, &[Scope::ListingsWrite, Scope::ListingsModerate]);
        assert_eq!(
            lifecycle_action(&own_moderator, &pending, LifecycleAction::Publish).unwrap_err(),
            Denied::SelfApproval
        );
        let moderator_only = actor(org, &[Scope::ListingsModerate]);
        assert_eq!(
            lifecycle_action(&moderator_only, &pending, LifecycleAction::Publish).unwrap_err(),
            Denied::SelfApproval
        );
        let operator = actor(org, &[Scope::Admin]);
        assert_eq!(
            lifecycle_action(&operator, &pending, LifecycleAction::Publish).unwrap().1,
            LifecycleAction::Publish
        );
        assert!(!is_approval(operator.as_ref().unwrap(), &pending, LifecycleAction::Publish));
        let other_moderator = actor(Uuid::now_v7(), &[Scope::ListingsModerate]);
        assert!(is_approval(other_moderator.as_ref().unwrap(), &pending, LifecycleAction::Publish));
        assert!(!is_approval(other_moderator.as_ref().unwrap(), &pending, LifecycleAction::Reject));
        let trusted = actor(org, &[Scope::ListingsWrite, Scope::ListingsPublish, Scope::ListingsModerate]);
        assert_eq!(lifecycle_action(&trusted, &pending, LifecycleAction::Publish).unwrap().1, LifecycleAction::Publish);
    }

    #[test]
    fn writes_to_a_listing_the_caller_cannot_see_are_answered_as_not_found() {
        let (owner, other) = (Uuid::now_v7(), Uuid::now_v7());
        let draft = listing_of(owner, ListingStatus::Draft);
        let stranger = actor(other, &[Scope::ListingsWrite, Scope::ListingsPublish]);
        assert_eq!(may_edit_listing(&stranger, &draft).unwrap_err(), Denied::Hidden);
        for action in LifecycleAction::ALL {
            assert_eq!(lifecycle_action(&stranger, &draft, *action).unwrap_err(), Denied::Hidden, "{action}");
        }
        let published = listing_of(owner, ListingStatus::Published);
        assert_eq!(may_edit_listing(&stranger, &published).unwrap_err(), Denied::NotOwner);
    }

    #[test]
    fn owners_are_claimed_for_the_own_organization_only_but_by_the_operator() {
        let (mine, theirs) = (Uuid::now_v7(), Uuid::now_v7());
        let writer = actor(mine, &[Scope::ListingsWrite, Scope::ListingsPublish]).unwrap();
        assert!(may_claim_owner(&writer, mine));
        assert!(!may_claim_owner(&writer, theirs));
        assert!(!may_claim_owner(&writer, Uuid::nil()));
        assert!(may_claim_owner(&actor(mine, &[Scope::Admin]).unwrap(), theirs));
        assert!(edits_skip_review(&writer));
        assert!(!edits_skip_review(&actor(mine, &[Scope::ListingsWrite]).unwrap()));
        assert!(edits_skip_review(&actor(mine, &[Scope::Admin]).unwrap()));
    }

    #[test]
    fn allowed_actions_are_what_this_caller_may_do_now() {
        use LifecycleAction as A;
        let org = Uuid::now_v7();
        let draft = listing_of(org, ListingStatus::Draft);
        let published = listing_of(org, ListingStatus::Published);
        let pending = listing_of(org, ListingStatus::PendingReview);
        assert!(allowed_actions(&None, &published).is_empty());
        let writer = actor(org, &[Scope::ListingsWrite]);
        assert_eq!(allowed_actions(&writer, &draft), [A::Submit]);
        assert_eq!(allowed_actions(&writer, &published), [A::Withdraw, A::Close]);
        let publisher = actor(org, &[Scope::ListingsWrite, Scope::ListingsPublish]);
        assert_eq!(allowed_actions(&publisher, &draft), [A::Submit, A::Publish]);
        let moderator = actor(Uuid::now_v7(), &[Scope::ListingsModerate]);
        assert_eq!(allowed_actions(&moderator, &pending), [A::Publish, A::Reject, A::Withdraw]);
        assert_eq!(allowed_actions(&moderator, &published), [A::Withdraw]);
        let stranger = actor(Uuid::now_v7(), &[Scope::ListingsWrite, Scope::ListingsPublish]);
        assert!(allowed_actions(&stranger, &published).is_empty());
        assert!(allowed_actions(&stranger, &draft).is_empty());
    }

    #[test]
    fn other_tenants_cannot_move_a_listing() {
        let (owner, other) = (Uuid::now_v7(), Uuid::now_v7());
        let published = listing_of(owner, ListingStatus::Published);
        let stranger = actor(other, &[Scope::ListingsWrite, Scope::ListingsPublish]);
        for action in
            [LifecycleAction::Submit, LifecycleAction::Publish, LifecycleAction::Withdraw, LifecycleAction::Close]
        {
            assert_eq!(lifecycle_action(&stranger, &published, action).unwrap_err(), Denied::NotOwner, "{action}");
        }
        assert_eq!(lifecycle_action(&None, &published, LifecycleAction::Close).unwrap_err(), Denied::Unauthenticated);
    }

    #[test]
    fn only_published_listings_are_listed_for_anyone() {
        let (mine, theirs) = (Uuid::now_v7(), Uuid::now_v7());
        let writer = actor(mine, &[Scope::ListingsWrite]);
        let moderator = actor(theirs, &[Scope::ListingsModerate]);
        assert_eq!(listable_publisher(&None, ListingStatus::Published, Some(theirs)), Ok(Some(theirs)));
        assert_eq!(listable_publisher(&None, ListingStatus::Draft, None), Err(Denied::Unauthenticated));
        assert_eq!(listable_publisher(&writer, ListingStatus::Draft, None), Ok(Some(mine)));
        assert_eq!(listable_publisher(&writer, ListingStatus::Draft, Some(theirs)), Err(Denied::NotOwner));
        assert_eq!(listable_publisher(&moderator, ListingStatus::PendingReview, None), Ok(None));
        assert_eq!(listable_publisher(&moderator, ListingStatus::PendingReview, Some(mine)), Ok(Some(mine)));
    }

    #[test]
    fn drafts_are_private_and_contacts_hidden_from_anonymous_callers() {
        let (owner, other) = (Uuid::now_v7(), Uuid::now_v7());
        let draft = listing_of(owner, ListingStatus::Draft);
        assert!(!may_read_listing(&None, &draft));
        assert!(!may_read_listing(&actor(other, &[Scope::ListingsWrite]), &draft));
        assert!(may_read_listing(&actor(owner, &[]), &draft));
        assert!(may_read_listing(&actor(other, &[Scope::ListingsModerate]), &draft));
        assert!(may_read_listing(&None, &listing_of(owner, ListingStatus::Published)));
        assert!(!may_read_contact(&None));
        assert!(may_read_contact(&actor(other, &[])));
    }

    #[test]
    fn deleted_listings_are_their_organizations_alone_to_read_list_and_restore() {
        let (owner, other) = (Uuid::now_v7(), Uuid::now_v7());
        let mut deleted = listing_of(owner, ListingStatus::Published);
        deleted.withdraw_for_deletion(crate::now());
        let writer = actor(owner, &[Scope::ListingsWrite]);
        let moderator = actor(other, &[Scope::ListingsModerate]);
        let admin = actor(other, &[Scope::Admin]);
        assert!(may_read_listing(&writer, &deleted) && may_read_listing(&admin, &deleted));
        for outsider in [&None, &moderator, &actor(other, &[Scope::ListingsWrite])] {
            assert!(!may_read_listing(outsider, &deleted));
            assert_eq!(allowed_actions(outsider, &deleted), []);
        }
        assert_eq!(allowed_actions(&writer, &deleted), [LifecycleAction::Restore]);
        assert_eq!(allowed_actions(&actor(owner, &[]), &deleted), [], "reading is not restoring");
        assert_eq!(may_edit_listing(&writer, &deleted).unwrap_err(), Denied::Hidden, "read-only until restored");
        assert_eq!(listable_deleted(&writer, None), Ok(Some(owner)));
        assert_eq!(listable_deleted(&writer, Some(owner)), Ok(Some(owner)), "naming its own organization");
        assert_eq!(listable_deleted(&moderator, None), Ok(Some(other)), "a moderator's own, never others'");
        assert_eq!(listable_deleted(&moderator, Some(owner)), Err(Denied::NotOwner));
        assert_eq!(listable_deleted(&admin, Some(owner)), Ok(Some(owner)));
        assert_eq!(listable_deleted(&None, None), Err(Denied::Unauthenticated));
    }
}
