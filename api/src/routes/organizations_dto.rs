//! The wire shapes of organizations: the content the operator writes, the organization the hub
//! answers, and their conversions to and from the domain ([`LIMITS`] from its rules).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::organization::{self as domain, ADDRESS_MAX, Organization, OrganizationKind, SOURCE_EXCHANGES_MAX};
use techex_domain::values::{EXCHANGE_CODE_MAX, EXCHANGE_CODE_PATTERN, PHONE_MAX, SHORT_TEXT_MAX, URL_MAX};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kit::{Limit, Limits, Page};
use crate::routes::values_dto::LocalizedText;
use crate::routes::vocabulary_dto as words;

/// What the operator writes about an organization.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganizationContent {
    #[schema(value_type = words::OrganizationKind)]
    pub kind: OrganizationKind,
    pub name: LocalizedText,
    /// Province code, current or pre-2025.
    #[schema(example = "79")]
    pub province: String,
    /// Vietnamese tax code (mã số thuế) of an organization: 10 digits ending in a check digit, or
    /// those 10 digits, a dash and 3 for a branch.
    #[serde(default)]
    #[schema(example = "0123456787")]
    pub tax_code: Option<String>,
    #[serde(default)]
    pub contact: OrganizationContact,
    /// The short names under which this organization pushes records into techex (the
    /// `source.exchange` of its listings). Each belongs to one organization: nobody else may
    /// write listings under it. Set by the operator.
    #[serde(default)]
    #[schema(example = json!(["dongnai"]))]
    pub source_exchanges: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct OrganizationContact {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(example = "https://example.vn")]
    pub website: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationResponse {
    pub id: Uuid,
    #[schema(value_type = words::OrganizationKind)]
    pub kind: OrganizationKind,
    pub name: LocalizedText,
    /// The current province code.
    #[schema(example = "79")]
    pub province: String,
    /// The province code as sent.
    pub province_as_sent: String,
    pub tax_code: Option<String>,
    pub contact: OrganizationContact,
    /// The short names under which the organization pushes records (`source.exchange` of its
    /// listings); nobody else may write under them.
    pub source_exchanges: Vec<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of them, as every list answers it (named in the document, which cannot name a generic).
pub type OrganizationPage = Page<OrganizationResponse>;

impl From<&Organization> for OrganizationResponse {
    fn from(org: &Organization) -> Self {
        let c = OrganizationContent::from(org.content.clone());
        OrganizationResponse {
            id: org.id,
            kind: c.kind,
            name: c.name,
            province: org.province.clone(),
            province_as_sent: c.province,
            tax_code: c.tax_code,
            source_exchanges: c.source_exchanges,
            contact: c.contact,
            version: org.version,
            created_at: org.created_at,
            updated_at: org.updated_at,
        }
    }
}

impl From<OrganizationContent> for domain::OrganizationContent {
    fn from(c: OrganizationContent) -> Self {
        let k = c.contact;
        domain::OrganizationContent {
            kind: c.kind,
            name: c.name.into(),
            province: c.province,
            tax_code: c.tax_code,
            contact: domain::OrganizationContact {
                email: k.email,
                phone: k.phone,
                website: k.website,
                address: k.address,
            },
            source_exchanges: c.source_exchanges,
        }
    }
}

impl From<domain::OrganizationContent> for OrganizationContent {
    fn from(c: domain::OrganizationContent) -> Self {
        let k = c.contact;
        OrganizationContent {
            kind: c.kind,
            name: c.name.into(),
            province: c.province,
            tax_code: c.tax_code,
            contact: OrganizationContact { email: k.email, phone: k.phone, website: k.website, address: k.address },
            source_exchanges: c.source_exchanges,
        }
    }
}

/// A tax code as [`techex_domain::tax_code::check_tax_code`] reads it (the check digit aside).
const TAX_CODE_PATTERN: &str = "^[0-9]{10}(-[0-9]{3})?$";

/// What the domain enforces on an organization, in both the body written and the one answered.
/// Its name is a [`LocalizedText`], limited with the listings' ones.
pub const LIMITS: Limits = &[
    ("OrganizationContent", "province", Limit::MaxLength(2)),
    ("OrganizationContent", "province", Limit::Pattern("^[0-9]{2}$")),
    ("OrganizationContent", "tax_code", Limit::MaxLength(14)),
    ("OrganizationContent", "tax_code", Limit::Pattern(TAX_CODE_PATTERN)),
    ("OrganizationContent", "source_exchanges", Limit::MaxItems(SOURCE_EXCHANGES_MAX)),
    ("OrganizationContent", "source_exchanges[]", Limit::MaxLength(EXCHANGE_CODE_MAX)),
    ("OrganizationContent", "source_exchanges[]", Limit::Pattern(EXCHANGE_CODE_PATTERN)),
    ("OrganizationContact", "email", Limit::MaxLength(SHORT_TEXT_MAX)),
    ("OrganizationContact", "phone", Limit::MaxLength(PHONE_MAX)),
    ("OrganizationContact", "phone", Limit::Pattern(r"^[0-9 +\-().]*$")),
    ("OrganizationContact", "website", Limit::MaxLength(URL_MAX)),
    ("OrganizationContact", "website", Limit::Pattern("^https?://[^/\\s]")),
    ("OrganizationContact", "address", Limit::MaxLength(ADDRESS_MAX)),
    ("OrganizationResponse", "province", Limit::MaxLength(2)),
    ("OrganizationResponse", "province_as_sent", Limit::MaxLength(2)),
    ("OrganizationResponse", "tax_code", Limit::MaxLength(14)),
    ("OrganizationResponse", "source_exchanges", Limit::MaxItems(SOURCE_EXCHANGES_MAX)),
    ("OrganizationResponse", "source_exchanges[]", Limit::MaxLength(EXCHANGE_CODE_MAX)),
    ("OrganizationResponse", "version", Limit::Minimum(1)),
    ("OrganizationResponse", "version", Limit::Maximum(i64::MAX)),
];
