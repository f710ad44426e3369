//! The bodies of portal sync: a batch of pushes and moves, and its per-item results.

use serde::{Deserialize, Serialize};
use techex_domain::ListingStatus;
use techex_domain::listing::EXTERNAL_ID_MAX;
use techex_domain::values::EXCHANGE_CODE_MAX;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::Problem;
use crate::kit::{Limit, Limits};
use crate::routes::listings_dto::ListingContent;
use crate::routes::vocabulary_dto as words;

/// The most items of one batch.
pub const BATCH_MAX_ITEMS: usize = 1_000;

/// The largest body of a batch: 1,000 listings of a few KiB each.
pub const BATCH_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// What a create-or-update by source did: the `Sync-Result` header of `PUT
/// /v1/listings/by-source/...`, and the `result` of a batch item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncResult {
    /// A new listing (a draft) was made for the source record.
    Created,
    /// The listing of the source record changed; its version grew by one.
    Updated,
    /// Nothing changed: the listing already held this content (or status); nothing was written.
    Unchanged,
    /// A lifecycle move was applied.
    Moved,
    /// The item was refused; `problem` says why. The other items are not affected.
    Failed,
}

impl SyncResult {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncResult::Created => "created",
            SyncResult::Updated => "updated",
            SyncResult::Unchanged => "unchanged",
            SyncResult::Moved => "moved",
            SyncResult::Failed => "failed",
        }
    }
}

/// What an item of a batch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchOp {
    /// Create or update the listing of `listing.source`, as `PUT /v1/listings/by-source/...`.
    Upsert,
    Submit,
    Publish,
    Withdraw,
    Close,
    Restore,
}

/// A source record: the exchange's short name and the record's id there.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SourceKey {
    #[schema(example = "binhduong")]
    pub exchange: String,
    #[schema(example = "SP-2024-117")]
    pub external_id: String,
}

/// One item of a batch: an `upsert` with its `listing` (whose `source` names the record), or a
/// lifecycle move of the listing named by its `id` or its `source`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"op": "publish", "source": {"exchange": "binhduong", "external_id": "SP-2024-117"}}))]
pub struct BatchItem {
    pub op: BatchOp,
    /// The listing to move (moves only; or `source`).
    #[serde(default, deserialize_with = "crate::kit::optional_body_id")]
    pub id: Option<Uuid>,
    /// The source record of the listing to move (moves only; or `id`).
    #[serde(default)]
    pub source: Option<SourceKey>,
    /// The listing to push (`upsert` only), with its `source`.
    #[serde(default)]
    pub listing: Option<ListingContent>,
}

/// The body of `POST /v1/listings/batch`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"items": [
    {"op": "upsert", "listing": {"kind": "offer", "title": {"vi": "Máy sấy nông sản"}, "field_codes": ["211"],
     "province": "74", "owner": {"name": "Viện Cơ điện Nông nghiệp"},
     "source": {"exchange": "binhduong", "external_id": "SP-2024-117"}}},
    {"op": "publish", "source": {"exchange": "binhduong", "external_id": "SP-2024-117"}}
]}))]
pub struct BatchRequest {
    /// 1 to 1,000 items, done in order, each on its own.
    #[schema(value_type = Vec<BatchItem>)]
    pub items: Vec<serde_json::Value>,
}

/// What became of one item.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// The item's position in the request, from 0.
    pub index: u32,
    pub result: SyncResult,
    /// The listing written or found (absent when the item failed before one was known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// The listing's version after the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// The listing's status after the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<words::ListingStatus>)]
    pub status: Option<ListingStatus>,
    /// Why the item failed: the problem its own request would have answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

/// The answer to a batch: one result per item, in the order of the items.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub items: Vec<BatchItemResult>,
}

pub const LIMITS: Limits = &[
    ("SourceKey", "exchange", Limit::MaxLength(EXCHANGE_CODE_MAX)),
    ("SourceKey", "exchange", Limit::Pattern(techex_domain::values::EXCHANGE_CODE_PATTERN)),
    ("SourceKey", "external_id", Limit::MinLength(1)),
    ("SourceKey", "external_id", Limit::MaxLength(EXTERNAL_ID_MAX)),
    ("BatchRequest", "items", Limit::MinItems(1)),
    ("BatchRequest", "items", Limit::MaxItems(BATCH_MAX_ITEMS)),
    ("BatchResponse", "items", Limit::MaxItems(BATCH_MAX_ITEMS)),
    ("BatchItemResult", "index", Limit::Minimum(0)),
    ("BatchItemResult", "index", Limit::Maximum(BATCH_MAX_ITEMS as i64 - 1)),
    ("BatchItemResult", "version", Limit::Minimum(1)),
    ("BatchItemResult", "version", Limit::Maximum(i64::MAX)),
];
