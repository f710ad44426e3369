//! What `GET /v1/listings/{id}/matches` answers.

use serde::{Deserialize, Serialize};
use techex_domain::Lang;
use techex_domain::matching::Reason;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kit::{Limit, Limits};
use crate::routes::listings_dto::ListingResponse;

/// The most matches an answer holds.
pub const MATCHES_MAX: usize = 50;

pub const LIMITS: Limits = &[("MatchReason", "values[]", Limit::MaxLength(300))];

/// One thing a listing and its match agree on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchReason {
    /// `shared_words`, `same_field`, `field_parent`, `trl_meets`, `trl_near`, `transfer_form`,
    /// `rights`, `price_within_budget`, `same_province` or `same_region`.
    #[schema(example = "same_field", max_length = 40)]
    pub code: String,
    /// What agreed: the shared words, the field or province code, the region, the forms or
    /// rights, the offer's and the demand's TRL, the price and the budget.
    #[schema(example = json!(["211"]), max_items = 8)]
    pub values: Vec<String>,
    /// The reason in Vietnamese (with `lang`, the one language asked for, as `text`).
    #[schema(example = "cùng lĩnh vực KH&CN: 211 Công nghệ sinh học nông nghiệp", max_length = 500)]
    pub text_vi: String,
    #[schema(example = "same S&T field: 211 Agricultural biotechnology", max_length = 500)]
    pub text_en: String,
}

impl From<&Reason> for MatchReason {
    fn from(reason: &Reason) -> Self {
        let message = reason.message();
        MatchReason {
            code: reason.code().to_owned(),
            values: reason.values(),
            text_vi: message.render(Lang::Vi),
            text_en: message.render(Lang::En),
        }
    }
}

/// A listing that could meet the one asked about, with how well and why.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MatchItem {
    /// 0 to 100; matches under 30 are not proposed.
    #[schema(example = 80, minimum = 0, maximum = 100)]
    pub score: u8,
    /// What agreed, in the order of the score's parts: words, field, TRL, transfer, price, region.
    #[schema(max_items = 10)]
    pub reasons: Vec<MatchReason>,
    pub listing: ListingResponse,
}

/// The matches of a listing, best first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Matches {
    /// The listing matched.
    pub listing_id: Uuid,
    /// At most `limit` matches.
    #[schema(max_items = 50)]
    pub items: Vec<MatchItem>,
}
