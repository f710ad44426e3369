//! The wire shapes of expressions of interest: what a sender writes, the interest as the sender
//! and the publisher see it, the record the change log keeps (without personal data), and the
//! counts a publisher sees on its listing. Their limits are the domain's rules ([`LIMITS`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::interest::{
    self as domain, Interest, MESSAGE_MAX, SENDER_EMAIL_MAX, SENDER_NAME_MAX, SENDER_PHONE_MAX,
};
use techex_domain::values::URL_MAX;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kit::{Limit, Limits, Page};

/// An expression of interest in a listing: the body of `POST /v1/listings/{id}/interests`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({
    "sender": {"name": "Trần Thị Bình", "organization": "Công ty TNHH Nông sản Xanh",
               "email": "binh@nongsanxanh.vn", "phone": "+84 28 3822 1234"},
    "message": "Chúng tôi quan tâm đến máy sấy này cho hợp tác xã ở Long An. Xin liên hệ để trao đổi về giá và chuyển giao.",
    "website": ""
}))]
pub struct SendInterestRequest {
    /// Who is interested. Anonymous senders give `name`, `organization` and an `email` or a
    /// `phone` (or both); an authenticated client is known by its organization, and may add a
    /// contact person.
    #[serde(default)]
    pub sender: Option<SenderContact>,
    /// What the sender wants the publisher to know; one to 2,000 characters, line breaks kept.
    pub message: String,
    /// Leave empty. Forms show it to programs only, not to people.
    #[serde(default)]
    pub website: Option<String>,
}

/// How the publisher can reach the sender.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SenderContact {
    #[serde(default)]
    #[schema(example = "Trần Thị Bình")]
    pub name: Option<String>,
    /// The sender's organization, as the sender writes it.
    #[serde(default)]
    #[schema(example = "Công ty TNHH Nông sản Xanh")]
    pub organization: Option<String>,
    #[serde(default)]
    #[schema(example = "binh@nongsanxanh.vn")]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(example = "+84 28 3822 1234")]
    pub phone: Option<String>,
}

impl SendInterestRequest {
    /// Whether the field people never see was filled: a program sent this.
    pub fn is_decoy(&self) -> bool {
        self.website.as_deref().is_some_and(|w| !w.trim().is_empty())
    }

    /// The honeypot's own bound, refused like any other over-long field.
    pub fn website_too_long(&self) -> Option<usize> {
        self.website.as_deref().map(|w| w.chars().count()).filter(|n| *n > URL_MAX)
    }
}

impl From<SendInterestRequest> for domain::InterestRequest {
    fn from(r: SendInterestRequest) -> Self {
        let s = r.sender.unwrap_or_default();
        domain::InterestRequest {
            name: s.name,
            organization: s.organization,
            email: s.email,
            phone: s.phone,
            message: r.message,
        }
    }
}

/// The sender of an interest as the hub answers it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InterestSender {
    /// The organization of the API client that sent it; `null` for an anonymous sender.
    pub organization_id: Option<Uuid>,
    #[schema(example = "Trần Thị Bình")]
    pub name: Option<String>,
    #[schema(example = "Công ty TNHH Nông sản Xanh")]
    pub organization: Option<String>,
    #[schema(example = "binh@nongsanxanh.vn")]
    pub email: Option<String>,
    #[schema(example = "+84 28 3822 1234")]
    pub phone: Option<String>,
}

/// An expression of interest. The sender gets it back once, as sent; afterwards only the
/// listing's publisher and the operator read it. It never carries the listing's contact.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ac4a1-3b2c-7d4e-8f10-2a3b4c5d6e7f",
    "listing_id": "019ac49f-0a1b-7c2d-9e3f-4a5b6c7d8e9f",
    "sender": {"organization_id": null, "name": "Trần Thị Bình", "organization": "Công ty TNHH Nông sản Xanh",
               "email": "binh@nongsanxanh.vn", "phone": "+84 28 3822 1234"},
    "message": "Chúng tôi quan tâm đến máy sấy này cho hợp tác xã ở Long An.",
    "answered": false,
    "answered_at": null,
    "version": 1,
    "created_at": "2026-11-28T09:30:00Z",
    "updated_at": "2026-11-28T09:30:00Z"
}))]
pub struct InterestResponse {
    pub id: Uuid,
    /// The listing it is about.
    pub listing_id: Uuid,
    pub sender: InterestSender,
    #[schema(example = "Chúng tôi quan tâm đến máy sấy này cho hợp tác xã ở Long An.")]
    pub message: String,
    /// Whether the publisher marked it answered.
    pub answered: bool,
    pub answered_at: Option<DateTime<Utc>>,
    /// 1 when sent, 2 once answered.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of them, as every list answers it.
pub type InterestPage = Page<InterestResponse>;

impl From<&Interest> for InterestResponse {
    fn from(i: &Interest) -> Self {
        let s = &i.sender;
        InterestResponse {
            id: i.id,
            listing_id: i.listing_id.0,
            sender: InterestSender {
                organization_id: s.organization_id,
                name: s.name.clone(),
                organization: s.organization.clone(),
                email: s.email.clone(),
                phone: s.phone.clone(),
            },
            message: i.message.clone(),
            answered: i.is_answered(),
            answered_at: i.answered_at,
            version: i.version,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// An interest as the change log records it: which listing, which organization (if any) sent
/// it, and whether it was answered; never the sender's name, contact or message, so that no
/// reader of the log, nor any feed built on it, learns a person's details.
#[derive(Debug, Serialize)]
pub struct InterestLogEntry {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub sender_organization_id: Option<Uuid>,
    pub answered: bool,
    pub answered_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl InterestLogEntry {
    pub fn of(i: &Interest) -> serde_json::Value {
        serde_json::to_value(InterestLogEntry {
            id: i.id,
            listing_id: i.listing_id.0,
            sender_organization_id: i.sender.organization_id,
            answered: i.is_answered(),
            answered_at: i.answered_at,
            version: i.version,
            created_at: i.created_at,
            updated_at: i.updated_at,
        })
        .expect("log entries serialize")
    }
}

/// How many interests a listing received: shown to its publisher and the operator only.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct InterestCount {
    #[schema(example = 3)]
    pub total: i64,
    /// Not yet marked answered.
    #[schema(example = 1)]
    pub unanswered: i64,
}

impl From<domain::InterestCount> for InterestCount {
    fn from(c: domain::InterestCount) -> Self {
        InterestCount { total: c.total, unanswered: c.unanswered }
    }
}

/// What the domain enforces on an interest, in the body written and the interest answered.
pub const LIMITS: Limits = &[
    ("SendInterestRequest", "message", Limit::MinLength(1)),
    ("SendInterestRequest", "message", Limit::MaxLength(MESSAGE_MAX)),
    ("SendInterestRequest", "website", Limit::MaxLength(URL_MAX)),
    ("SenderContact", "name", Limit::MaxLength(SENDER_NAME_MAX)),
    ("SenderContact", "organization", Limit::MaxLength(SENDER_NAME_MAX)),
    ("SenderContact", "email", Limit::MaxLength(SENDER_EMAIL_MAX)),
    ("SenderContact", "phone", Limit::MaxLength(SENDER_PHONE_MAX)),
    ("SenderContact", "phone", Limit::Pattern(r"^[0-9 +\-().]*$")),
    ("InterestSender", "name", Limit::MaxLength(SENDER_NAME_MAX)),
    ("InterestSender", "organization", Limit::MaxLength(SENDER_NAME_MAX)),
    ("InterestSender", "email", Limit::MaxLength(SENDER_EMAIL_MAX)),
    ("InterestSender", "phone", Limit::MaxLength(SENDER_PHONE_MAX)),
    ("InterestResponse", "message", Limit::MaxLength(MESSAGE_MAX)),
    ("InterestResponse", "version", Limit::Minimum(1)),
    ("InterestResponse", "version", Limit::Maximum(2)),
    ("InterestCount", "total", Limit::Minimum(0)),
    ("InterestCount", "total", Limit::Maximum(i64::MAX)),
    ("InterestCount", "unanswered", Limit::Minimum(0)),
    ("InterestCount", "unanswered", Limit::Maximum(i64::MAX)),
];
