//! The wire shapes of application centers: the content an organization writes, the center the
//! hub answers, and their conversions to and from the domain ([`LIMITS`] from its rules).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::center::{
    self as domain, ADDRESS_MAX, Center, CenterKind, CenterService, FIELD_CODES_MAX, OPENING_HOURS_MAX, Position,
    SERVICES_MAX,
};
use techex_domain::values::{PHONE_MAX, SHORT_TEXT_MAX, URL_MAX};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kit::{Limit, Limits, Page, optional_body_id};
use crate::routes::values_dto::{LocalizedDescription, LocalizedText};
use crate::routes::vocabulary_dto as words;

/// What an organization writes about one of its centers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "kind": "application_transfer_center",
    "name": {"vi": "Trung tâm Ứng dụng tiến bộ khoa học và công nghệ Đồng Nai", "en": "Dong Nai Center for Applying S&T Progress"},
    "province": "75",
    "address": "Đường Đồng Khởi, phường Tam Hiệp, Biên Hòa, Đồng Nai",
    "latitude": 10.9574,
    "longitude": 106.8427,
    "contact": {"phone": "+84 251 3822 123", "email": "lienhe@example.vn", "website": "https://example.vn"},
    "services": ["technology_transfer_consulting", "testing_measurement", "training"],
    "field_codes": ["211", "401"],
    "opening_hours": "Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:30–17:00"
}))]
pub struct CenterContent {
    #[schema(value_type = words::CenterKind)]
    pub kind: CenterKind,
    pub name: LocalizedText,
    /// The organization the center belongs to: the caller's own when left out (the operator may
    /// name any).
    #[serde(default, deserialize_with = "optional_body_id", skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// Province code, current or pre-2025 (`74`, Bình Dương, is kept as sent and filed under Ho Chi
    /// Minh City, `79`).
    #[schema(example = "75")]
    pub province: String,
    #[schema(example = "Đường Đồng Khởi, phường Tam Hiệp, Biên Hòa, Đồng Nai")]
    pub address: String,
    /// Decimal degrees north (WGS 84), within Vietnam: 6 to 24.
    #[schema(example = 10.9574, minimum = 6, maximum = 24)]
    pub latitude: f64,
    /// Decimal degrees east (WGS 84), within Vietnam: 102 to 118.
    #[schema(example = 106.8427, minimum = 102, maximum = 118)]
    pub longitude: f64,
    #[serde(default)]
    pub contact: CenterContact,
    /// What the center offers, each once.
    #[serde(default)]
    #[schema(value_type = Vec<words::CenterService>, example = json!(["technology_transfer_consulting", "testing_measurement"]))]
    pub services: Vec<CenterService>,
    /// S&T fields of expertise: three-digit codes of `GET /v1/reference/fields`, as listings use them.
    #[serde(default)]
    #[schema(example = json!(["211", "401"]))]
    pub field_codes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedDescription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:30–17:00")]
    pub opening_hours: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CenterContact {
    #[serde(default)]
    #[schema(example = "lienhe@example.vn")]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(example = "+84 251 3822 123")]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(example = "https://example.vn")]
    pub website: Option<String>,
}

/// A center as the hub answers it; in a nearby search, with its distance.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CenterResponse {
    pub id: Uuid,
    #[schema(value_type = words::CenterKind)]
    pub kind: CenterKind,
    pub name: LocalizedText,
    /// The organization the center belongs to; its clients with `centers:write` change it.
    pub organization_id: Uuid,
    /// The current province code.
    #[schema(example = "75")]
    pub province: String,
    /// The province code as sent.
    pub province_as_sent: String,
    pub address: String,
    #[schema(example = 10.9574, minimum = -90, maximum = 90)]
    pub latitude: f64,
    #[schema(example = 106.8427, minimum = -180, maximum = 180)]
    pub longitude: f64,
    pub contact: CenterContact,
    #[schema(value_type = Vec<words::CenterService>)]
    pub services: Vec<CenterService>,
    pub field_codes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedDescription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<String>,
    /// In a nearby search (`near`) only: the great-circle distance from `near`, in kilometres,
    /// rounded to 0.01 km.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 25.35, minimum = 0, maximum = 500)]
    pub distance_km: Option<f64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of them, as every list answers it (named in the document, which cannot name a generic).
pub type CenterPage = Page<CenterResponse>;

impl From<&Center> for CenterResponse {
    fn from(center: &Center) -> Self {
        let c = CenterContent::from(center.content.clone());
        CenterResponse {
            id: center.id,
            kind: c.kind,
            name: c.name,
            organization_id: center.organization_id(),
            province: center.province.clone(),
            province_as_sent: c.province,
            address: c.address,
            latitude: c.latitude,
            longitude: c.longitude,
            contact: c.contact,
            services: c.services,
            field_codes: c.field_codes,
            description: c.description,
            opening_hours: c.opening_hours,
            distance_km: None,
            version: center.version,
            created_at: center.created_at,
            updated_at: center.updated_at,
        }
    }
}

impl CenterContent {
    /// The domain's content, belonging to `organization` when the body names none.
    pub fn into_domain(self, organization: Uuid) -> domain::CenterContent {
        let k = self.contact;
        domain::CenterContent {
            kind: self.kind,
            name: self.name.into(),
            organization_id: self.organization_id.unwrap_or(organization),
            province: self.province,
            address: self.address,
            position: Position { latitude: self.latitude, longitude: self.longitude },
            contact: domain::CenterContact { email: k.email, phone: k.phone, website: k.website },
            services: self.services,
            field_codes: self.field_codes,
            description: self.description.map(Into::into),
            opening_hours: self.opening_hours,
        }
    }
}

impl From<domain::CenterContent> for CenterContent {
    fn from(c: domain::CenterContent) -> Self {
        let k = c.contact;
        CenterContent {
            kind: c.kind,
            name: c.name.into(),
            organization_id: Some(c.organization_id),
            province: c.province,
            address: c.address,
            latitude: c.position.latitude,
            longitude: c.position.longitude,
            contact: CenterContact { email: k.email, phone: k.phone, website: k.website },
            services: c.services,
            field_codes: c.field_codes,
            description: c.description.map(Into::into),
            opening_hours: c.opening_hours,
        }
    }
}

/// What the domain enforces on a center, in both the body written and the one answered. Its
/// name and description are limited with the listings' text.
pub const LIMITS: Limits = &[
    ("CenterContent", "province", Limit::MaxLength(2)),
    ("CenterContent", "province", Limit::Pattern("^[0-9]{2}$")),
    ("CenterContent", "address", Limit::MinLength(1)),
    ("CenterContent", "address", Limit::MaxLength(ADDRESS_MAX)),
    ("CenterContent", "services", Limit::MaxItems(SERVICES_MAX)),
    ("CenterContent", "field_codes", Limit::MaxItems(FIELD_CODES_MAX)),
    ("CenterContent", "field_codes[]", Limit::MaxLength(3)),
    ("CenterContent", "field_codes[]", Limit::Pattern("^[0-9]{3}$")),
    ("CenterContent", "opening_hours", Limit::MaxLength(OPENING_HOURS_MAX)),
    ("CenterContact", "email", Limit::MaxLength(SHORT_TEXT_MAX)),
    ("CenterContact", "phone", Limit::MaxLength(PHONE_MAX)),
    ("CenterContact", "phone", Limit::Pattern(r"^[0-9 +\-().]*$")),
    ("CenterContact", "website", Limit::MaxLength(URL_MAX)),
    ("CenterContact", "website", Limit::Pattern("^https?://[^/\\s]")),
    ("CenterResponse", "province", Limit::MaxLength(2)),
    ("CenterResponse", "province_as_sent", Limit::MaxLength(2)),
    ("CenterResponse", "address", Limit::MaxLength(ADDRESS_MAX)),
    ("CenterResponse", "services", Limit::MaxItems(SERVICES_MAX)),
    ("CenterResponse", "field_codes", Limit::MaxItems(FIELD_CODES_MAX)),
    ("CenterResponse", "field_codes[]", Limit::MaxLength(3)),
    ("CenterResponse", "opening_hours", Limit::MaxLength(OPENING_HOURS_MAX)),
    ("CenterResponse", "version", Limit::Minimum(1)),
    ("CenterResponse", "version", Limit::Maximum(i64::MAX)),
];
