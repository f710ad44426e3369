//! What a search of the listings answers beyond the listings: the query it searched after a
//! correction, the counts of the facets asked for, and title suggestions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::search::Q_MAX_CHARS;
use techex_domain::{Listing, ListingStatus};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kit::{CURSOR_MAX, Limit, Limits};
use crate::pagination::MAX_LIMIT;
use crate::routes::listings_dto::ListingResponse;

/// The labels of a facet value, from the reference data and vocabularies.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacetLabel {
    #[schema(example = "Thành phố Hồ Chí Minh")]
    pub vi: String,
    #[schema(example = "Ho Chi Minh City")]
    pub en: String,
}

/// How many listings of the search hold one value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacetCount {
    /// The value as a filter takes it (`province=79`, `field=2`, `trl=7`, ...).
    #[schema(example = "79")]
    pub value: String,
    pub label: FacetLabel,
    #[schema(example = 12)]
    pub count: i64,
}

/// The counts asked for with `facets=`, each under the query and every filter of the search
/// (a facet's own filter included), values with no match left out, most frequent first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Facets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Vec<FacetCount>>,
    /// Current provinces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<Vec<FacetCount>>,
    /// S&T fields at the level of `field_level` (1 by default: the six broad fields); a listing
    /// in two fields of one group counts once for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Vec<FacetCount>>,
    /// TRL 1 to 9; listings without a TRL are not counted here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trl: Option<Vec<FacetCount>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_status: Option<Vec<FacetCount>>,
    /// A listing offering several forms counts once for each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_form: Option<Vec<FacetCount>>,
}

/// One page of a search of the listings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListingSearchPage {
    /// At most `limit` items; with `include_deleted=true`, tombstones among them.
    #[schema(max_items = 100)]
    pub items: Vec<ListingItem>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// The number of matches on all pages; sent with `total=true` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// Sent when `q` found nothing as typed and the page shows what it finds with one typo
    /// corrected in a word of five letters or more: the query searched instead (folded, phrases
    /// in quotes), to show as "results for ...".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "may say nong san")]
    pub corrected_query: Option<String>,
    /// Sent with `facets=` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facets: Option<Facets>,
}

/// An item of a listing page: a listing, or (with `include_deleted=true`) the tombstone of one
/// taken off the market.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ListingItem {
    Listing(Box<ListingResponse>),
    Tombstone(ListingTombstone),
}

/// A listing taken off the market since `updated_since`: take it down. Nothing of its content.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListingTombstone {
    pub id: Uuid,
    /// Always `true`: the listing is no longer published.
    #[schema(example = true)]
    pub deleted: bool,
    /// Its status now (`withdrawn`, `closed`, `expired`, `pending_review`, `draft`, or
    /// `published` past its expiry, which the hub marks `expired` shortly).
    #[schema(value_type = crate::routes::vocabulary_dto::ListingStatus)]
    pub status: ListingStatus,
    #[schema(minimum = 1, maximum = 9223372036854775807_i64)]
    pub version: i64,
    /// When it left the market; the time of its last change.
    pub updated_at: DateTime<Utc>,
    /// When it was deleted, if it was.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl ListingTombstone {
    /// The tombstone of a listing off the market at `now`; one past its expiry reads `expired`.
    pub fn of(listing: &Listing, now: DateTime<Utc>) -> Self {
        let expired = listing.status == ListingStatus::Published && !listing.is_deleted();
        let updated_at = match listing.content.expires_at {
            Some(expiry) if expired && expiry <= now => expiry.max(listing.updated_at),
            _ => listing.updated_at,
        };
        ListingTombstone {
            id: listing.id.0,
            deleted: true,
            status: if expired { ListingStatus::Expired } else { listing.status },
            version: listing.version,
            updated_at,
            deleted_at: listing.deleted_at,
        }
    }
}

/// A published listing whose title completes what was typed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Suggestion {
    pub id: Uuid,
    pub title: SuggestedTitle,
}

/// A listing's title in its languages.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SuggestedTitle {
    #[schema(example = "Máy sấy nông sản dùng năng lượng mặt trời")]
    pub vi: String,
    #[schema(example = "Solar crop dryer")]
    pub en: Option<String>,
}

/// Up to ten suggestions, best first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Suggestions {
    pub items: Vec<Suggestion>,
}

/// The most suggestions an answer holds.
pub const SUGGESTIONS_MAX: i64 = 10;
/// The most values a facet lists (the three-digit fields are the most numerous).
pub const FACET_VALUES_MAX: usize = 1000;

pub const LIMITS: Limits = &[
    ("FacetLabel", "vi", Limit::MaxLength(300)),
    ("FacetLabel", "en", Limit::MaxLength(300)),
    ("FacetCount", "value", Limit::MaxLength(40)),
    ("FacetCount", "count", Limit::Minimum(0)),
    ("FacetCount", "count", Limit::Maximum(i64::MAX)),
    ("Facets", "kind", Limit::MaxItems(FACET_VALUES_MAX)),
    ("Facets", "province", Limit::MaxItems(FACET_VALUES_MAX)),
    ("Facets", "field", Limit::MaxItems(FACET_VALUES_MAX)),
    ("Facets", "trl", Limit::MaxItems(FACET_VALUES_MAX)),
    ("Facets", "ip_status", Limit::MaxItems(FACET_VALUES_MAX)),
    ("Facets", "transfer_form", Limit::MaxItems(FACET_VALUES_MAX)),
    ("ListingSearchPage", "items", Limit::MaxItems(MAX_LIMIT as usize)),
    ("ListingSearchPage", "next_cursor", Limit::MaxLength(CURSOR_MAX)),
    ("ListingSearchPage", "total", Limit::Minimum(0)),
    ("ListingSearchPage", "total", Limit::Maximum(i64::MAX)),
    ("ListingSearchPage", "corrected_query", Limit::MaxLength(2 * Q_MAX_CHARS)),
    ("Suggestions", "items", Limit::MaxItems(SUGGESTIONS_MAX as usize)),
    ("SuggestedTitle", "vi", Limit::MaxLength(techex_domain::listing::TITLE_MAX)),
    ("SuggestedTitle", "en", Limit::MaxLength(techex_domain::listing::TITLE_MAX)),
];
