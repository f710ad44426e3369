//! The wire shapes of transfer contracts: the content a party or broker records, the contract the
//! hub answers (with its registration duty), the registration certificate, and their conversions
//! ([`LIMITS`] from the domain's rules).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::contract::{
    self as domain, ATTACHMENTS_MAX, Authority, Contract, ContractAction, ContractStatus, Exemption, FIELD_CODES_MAX,
    Ground, NAME_MAX, NOTES_MAX, PaymentMode, REFERENCE_MAX, ROYALTY_BP_MAX, RightKind, Role, RoyaltyBase,
    StateFunding, TAX_CODE_MAX, TERM_MONTHS_MAX, TERRITORY_MAX, TransferForm, TransferMethod, TransferObject,
    VALUE_MAX,
};
use techex_domain::tax_code::TaxpayerKind;
use techex_domain::values::URL_MAX;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kit::{Limit, Limits, Page, optional_body_id};
use crate::routes::values_dto::LocalizedText;
use crate::routes::vocabulary_dto as words;

fn vietnam() -> String {
    domain::VIETNAM.to_owned()
}

fn organization() -> TaxpayerKind {
    TaxpayerKind::Organization
}

fn no_state_funding() -> StateFunding {
    StateFunding::None
}

/// A party: an organization of the hub (`organization_id`: its name, tax code and province are
/// taken from its record), or one written inline with its name and country.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractParty {
    #[serde(default, deserialize_with = "optional_body_id", skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    #[serde(default)]
    #[schema(example = "Viện Cơ điện Nông nghiệp và Công nghệ sau thu hoạch")]
    pub name: Option<String>,
    #[serde(default = "organization")]
    #[schema(value_type = words::TaxpayerKind)]
    pub taxpayer_kind: TaxpayerKind,
    /// An organization's tax code (10 digits with its check digit, or a branch's 13), or an
    /// individual's 12-digit personal number; checked for parties in Vietnam.
    #[serde(default)]
    #[schema(example = "0123456787")]
    pub tax_code: Option<String>,
    /// ISO 3166-1 alpha-2; `VN` when left out.
    #[serde(default = "vietnam")]
    #[schema(example = "VN")]
    pub country: String,
    /// Province code, current or pre-2025; required for a party in Vietnam.
    #[serde(default)]
    #[schema(example = "74")]
    pub province: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractTechnology {
    pub name: LocalizedText,
    /// The listing that offered or asked for it; when the contract takes effect, the listing is
    /// closed (the deal is done).
    #[serde(default, deserialize_with = "optional_body_id", skip_serializing_if = "Option::is_none")]
    pub listing_id: Option<Uuid>,
    /// Level-2 S&T field codes (`GET /v1/reference/fields`).
    #[serde(default)]
    #[schema(example = json!(["211"]))]
    pub field_codes: Vec<String>,
}

/// Ownership, or the right to use (exclusive or not, with sub-licensing or not, in a territory).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractRights {
    #[schema(value_type = words::RightKind)]
    pub kind: RightKind,
    #[serde(default)]
    pub exclusive: bool,
    #[serde(default)]
    pub sublicensing: bool,
    /// ISO 3166-1 alpha-2 codes of where the rights hold.
    #[serde(default)]
    #[schema(example = json!(["VN"]))]
    pub territory: Vec<String>,
}

/// The price, in the smallest unit of its currency: whole đồng for VND, cents for USD.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractValue {
    #[schema(example = 850000000)]
    pub amount: i64,
    /// ISO 4217.
    #[schema(example = "VND")]
    pub currency: String,
    /// `true`: shown only to the parties and the operator (not to the broker), and counted in
    /// statistics only in groups of at least three contracts.
    #[serde(default)]
    pub confidential: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractPayment {
    #[schema(value_type = words::PaymentMode)]
    pub mode: PaymentMode,
    /// Royalty rate in basis points (250 is 2.5 %); required for `royalty` and `mixed`.
    #[serde(default)]
    #[schema(example = 300)]
    pub royalty_rate_bp: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<words::RoyaltyBase>)]
    pub royalty_base: Option<RoyaltyBase>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractAttachment {
    #[schema(example = "https://example.vn/hop-dong-123.pdf")]
    pub url: String,
    #[serde(default)]
    pub title: Option<String>,
}

/// What the parties or the brokering exchange record about a transfer contract (Law 07/2017/QH14
/// Art. 23).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "transferor": {"name": "Viện Cơ điện Nông nghiệp", "tax_code": "0123456787", "country": "VN", "province": "74"},
    "transferee": {"name": "Tanaka Machinery Co., Ltd.", "country": "JP"},
    "technology": {"name": {"vi": "Quy trình sấy nông sản bằng năng lượng mặt trời"}, "field_codes": ["211"]},
    "objects": ["know_how", "technology_plan"],
    "forms": ["independent"],
    "methods": ["documents", "training"],
    "rights": {"kind": "use", "exclusive": true, "sublicensing": false, "territory": ["JP"]},
    "value": {"amount": 45000000, "currency": "USD", "confidential": true},
    "payment": {"mode": "mixed", "royalty_rate_bp": 300, "royalty_base": "net_sales"},
    "signed_on": "2026-09-15",
    "term_months": 60
}))]
pub struct ContractContent {
    pub transferor: ContractParty,
    pub transferee: ContractParty,
    pub technology: ContractTechnology,
    /// Art. 4: at least one.
    #[schema(value_type = Vec<words::TransferObject>)]
    pub objects: Vec<TransferObject>,
    /// Art. 5: at least one.
    #[schema(value_type = Vec<words::TransferForm>)]
    pub forms: Vec<TransferForm>,
    /// Art. 6.
    #[serde(default)]
    #[schema(value_type = Vec<words::TransferMethod>)]
    pub methods: Vec<TransferMethod>,
    pub rights: ContractRights,
    #[serde(default)]
    pub value: Option<ContractValue>,
    #[serde(default)]
    pub payment: Option<ContractPayment>,
    #[serde(default = "no_state_funding")]
    #[schema(value_type = words::StateFunding)]
    pub state_funding: StateFunding,
    /// The number of the S&T task result registration certificate, when the result holds one
    /// (it lifts the registration duty of a state-funded domestic transfer).
    #[serde(default)]
    pub st_result_certificate: Option<String>,
    /// The number of the transfer licence of a restricted technology (licensed transfers are not
    /// registered).
    #[serde(default)]
    pub restricted_licence: Option<String>,
    /// The day it was signed; required to sign it.
    #[serde(default)]
    pub signed_on: Option<NaiveDate>,
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
    #[serde(default)]
    pub term_months: Option<i64>,
    /// The exchange that brokered the deal.
    #[serde(default, deserialize_with = "optional_body_id", skip_serializing_if = "Option::is_none")]
    pub brokered_by: Option<Uuid>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub attachments: Vec<ContractAttachment>,
}

/// A technology transfer registration certificate, as `POST /v1/contracts/{id}/register` records it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"number": "125/GCN-SKHCN", "authority": "province_department", "province": "79", "issued_on": "2026-10-02"}))]
pub struct RegistrationCertificate {
    pub number: String,
    #[schema(value_type = words::Authority)]
    pub authority: Authority,
    /// The department's province, for `province_department`.
    #[serde(default)]
    pub province: Option<String>,
    pub issued_on: NaiveDate,
}

/// Whether the contract must be registered, why, and by when.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Registration {
    /// `true`: Art. 31 cl. 1 requires registration, and the contract takes effect only once
    /// registered.
    pub mandatory: bool,
    #[schema(value_type = Option<words::RegistrationGround>)]
    pub ground: Option<Ground>,
    #[schema(value_type = Option<words::RegistrationExemption>)]
    pub exemption: Option<Exemption>,
    /// The clause that decides, `31.1.a` ... `31.1.c`, `31.1` (a licensed restricted technology)
    /// or `31.2` (registration on request).
    #[schema(example = "31.1.a")]
    pub clause: String,
    /// The text the contract follows: the one in force on its signing day.
    #[schema(example = "Law 07/2017/QH14 as amended by Law 115/2025/QH15")]
    pub law: String,
    /// The last day to file the dossier: 90 days after signing (when mandatory and signed).
    pub deadline: Option<NaiveDate>,
    /// Signed, mandatory, not registered and past the deadline.
    pub overdue: bool,
    /// The authority answers a complete dossier within this many working days.
    pub answer_working_days: i64,
    pub certificate: Option<RegistrationCertificate>,
}

/// A transfer contract as its parties, its broker and the operator see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContractResponse {
    pub id: Uuid,
    #[schema(value_type = words::ContractStatus)]
    pub status: ContractStatus,
    pub transferor: ContractParty,
    pub transferee: ContractParty,
    pub technology: ContractTechnology,
    #[schema(value_type = Vec<words::TransferObject>)]
    pub objects: Vec<TransferObject>,
    #[schema(value_type = Vec<words::TransferForm>)]
    pub forms: Vec<TransferForm>,
    #[schema(value_type = Vec<words::TransferMethod>)]
    pub methods: Vec<TransferMethod>,
    pub rights: ContractRights,
    /// `null` when there is none, or when it is confidential and the caller is the broker.
    pub value: Option<ContractValue>,
    /// Whether a confidential value was left out for this caller.
    pub value_withheld: bool,
    pub payment: Option<ContractPayment>,
    #[schema(value_type = words::StateFunding)]
    pub state_funding: StateFunding,
    pub st_result_certificate: Option<String>,
    pub restricted_licence: Option<String>,
    pub signed_on: Option<NaiveDate>,
    pub effective_from: Option<NaiveDate>,
    pub term_months: Option<i64>,
    pub brokered_by: Option<Uuid>,
    pub notes: Option<String>,
    pub attachments: Vec<ContractAttachment>,
    /// The current province code the contract counts under: the transferee's, or the
    /// transferor's when the transferee is abroad.
    pub province: Option<String>,
    pub registration: Registration,
    /// The moves allowed now.
    #[schema(value_type = Vec<words::ContractAction>)]
    pub allowed_actions: Vec<ContractAction>,
    /// The organization whose client recorded it.
    pub recorded_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub type ContractPage = Page<ContractResponse>;

impl ContractResponse {
    /// The contract as someone in `role` sees it on `today`.
    pub fn seen_by(contract: &Contract, role: Role, today: NaiveDate) -> Self {
        let c = ContractContent::from(contract.content.clone());
        let duty = contract.registration_duty(today);
        let shown = contract.content.value.as_ref().is_none_or(|v| domain::value_shown_to(role, v));
        ContractResponse {
            id: contract.id,
            status: contract.status,
            transferor: c.transferor,
            transferee: c.transferee,
            technology: c.technology,
            objects: c.objects,
            forms: c.forms,
            methods: c.methods,
            rights: c.rights,
            value: c.value.filter(|_| shown),
            value_withheld: !shown,
            payment: c.payment,
            state_funding: c.state_funding,
            st_result_certificate: c.st_result_certificate,
            restricted_licence: c.restricted_licence,
            signed_on: c.signed_on,
            effective_from: c.effective_from,
            term_months: c.term_months,
            brokered_by: c.brokered_by,
            notes: c.notes,
            attachments: c.attachments,
            province: contract.content.province(),
            registration: Registration {
                mandatory: duty.mandatory,
                ground: duty.ground,
                exemption: duty.exemption,
                clause: duty.clause.to_owned(),
                law: duty.law.to_owned(),
                deadline: duty.deadline.filter(|_| duty.mandatory),
                overdue: contract.is_registration_overdue(today),
                answer_working_days: i64::from(duty.answer_working_days),
                certificate: contract.certificate.clone().map(Into::into),
            },
            allowed_actions: contract.allowed_actions(today),
            recorded_by: contract.recorded_by,
            version: contract.version,
            created_at: contract.created_at,
            updated_at: contract.updated_at,
        }
    }
}

/// What the change log keeps: the operator's view on the day of the write.
impl From<&Contract> for ContractResponse {
    fn from(contract: &Contract) -> Self {
        ContractResponse::seen_by(contract, Role::Operator, techex_domain::refdata::vietnam_date(contract.updated_at))
    }
}

impl From<ContractParty> for domain::Party {
    fn from(p: ContractParty) -> Self {
        domain::Party {
            organization_id: p.organization_id,
            name: p.name.unwrap_or_default(),
            taxpayer_kind: p.taxpayer_kind,
            tax_code: p.tax_code,
            country: p.country,
            province: p.province,
        }
    }
}

impl From<domain::Party> for ContractParty {
    fn from(p: domain::Party) -> Self {
        ContractParty {
            organization_id: p.organization_id,
            name: Some(p.name),
            taxpayer_kind: p.taxpayer_kind,
            tax_code: p.tax_code,
            country: p.country,
            province: p.province,
        }
    }
}

impl From<ContractContent> for domain::ContractContent {
    fn from(c: ContractContent) -> Self {
        domain::ContractContent {
            transferor: c.transferor.into(),
            transferee: c.transferee.into(),
            technology: domain::Technology {
                name: c.technology.name.into(),
                listing_id: c.technology.listing_id,
                field_codes: c.technology.field_codes,
            },
            objects: c.objects,
            forms: c.forms,
            methods: c.methods,
            rights: domain::Rights {
                kind: c.rights.kind,
                exclusive: c.rights.exclusive,
                sublicensing: c.rights.sublicensing,
                territory: c.rights.territory,
            },
            value: c.value.map(|v| domain::ContractValue {
                amount: v.amount,
                currency: v.currency,
                confidential: v.confidential,
            }),
            payment: c.payment.map(|p| domain::Payment {
                mode: p.mode,
                royalty_rate_bp: p.royalty_rate_bp,
                royalty_base: p.royalty_base,
            }),
            state_funding: c.state_funding,
            st_result_certificate: c.st_result_certificate,
            restricted_licence: c.restricted_licence,
            signed_on: c.signed_on,
            effective_from: c.effective_from,
            term_months: c.term_months,
            brokered_by: c.brokered_by,
            notes: c.notes,
            attachments: c.attachments.into_iter().map(|a| domain::Attachment { url: a.url, title: a.title }).collect(),
        }
    }
}

impl From<domain::ContractContent> for ContractContent {
    fn from(c: domain::ContractContent) -> Self {
        ContractContent {
            transferor: c.transferor.into(),
            transferee: c.transferee.into(),
            technology: ContractTechnology {
                name: c.technology.name.into(),
                listing_id: c.technology.listing_id,
                field_codes: c.technology.field_codes,
            },
            objects: c.objects,
            forms: c.forms,
            methods: c.methods,
            rights: ContractRights {
                kind: c.rights.kind,
                exclusive: c.rights.exclusive,
                sublicensing: c.rights.sublicensing,
                territory: c.rights.territory,
            },
            value: c.value.map(|v| ContractValue {
                amount: v.amount,
                currency: v.currency,
                confidential: v.confidential,
            }),
            payment: c.payment.map(|p| ContractPayment {
                mode: p.mode,
                royalty_rate_bp: p.royalty_rate_bp,
                royalty_base: p.royalty_base,
            }),
            state_funding: c.state_funding,
            st_result_certificate: c.st_result_certificate,
            restricted_licence: c.restricted_licence,
            signed_on: c.signed_on,
            effective_from: c.effective_from,
            term_months: c.term_months,
            brokered_by: c.brokered_by,
            notes: c.notes,
            attachments: c.attachments.into_iter().map(|a| ContractAttachment { url: a.url, title: a.title }).collect(),
        }
    }
}

impl From<RegistrationCertificate> for domain::Certificate {
    fn from(c: RegistrationCertificate) -> Self {
        domain::Certificate { number: c.number, authority: c.authority, province: c.province, issued_on: c.issued_on }
    }
}

impl From<domain::Certificate> for RegistrationCertificate {
    fn from(c: domain::Certificate) -> Self {
        RegistrationCertificate {
            number: c.number,
            authority: c.authority,
            province: c.province,
            issued_on: c.issued_on,
        }
    }
}

/// Two letters of an ISO 3166-1 code (stored in upper case).
const COUNTRY_PATTERN: &str = "^[A-Za-z]{2}$";
const LISTED: usize = 10;

/// What the domain enforces on a contract, in the bodies written and answered.
pub const LIMITS: Limits = &[
    ("ContractParty", "name", Limit::MaxLength(NAME_MAX)),
    ("ContractParty", "tax_code", Limit::MaxLength(TAX_CODE_MAX)),
    ("ContractParty", "country", Limit::MaxLength(2)),
    ("ContractParty", "country", Limit::Pattern(COUNTRY_PATTERN)),
    ("ContractParty", "province", Limit::MaxLength(2)),
    ("ContractTechnology", "field_codes", Limit::MaxItems(FIELD_CODES_MAX)),
    ("ContractTechnology", "field_codes[]", Limit::MaxLength(3)),
    ("ContractRights", "territory", Limit::MaxItems(TERRITORY_MAX)),
    ("ContractRights", "territory[]", Limit::MaxLength(2)),
    ("ContractRights", "territory[]", Limit::Pattern(COUNTRY_PATTERN)),
    ("ContractValue", "amount", Limit::Minimum(0)),
    ("ContractValue", "amount", Limit::Maximum(VALUE_MAX)),
    ("ContractValue", "currency", Limit::MaxLength(3)),
    ("ContractValue", "currency", Limit::Pattern("^[A-Za-z]{3}$")),
    ("ContractPayment", "royalty_rate_bp", Limit::Minimum(0)),
    ("ContractPayment", "royalty_rate_bp", Limit::Maximum(ROYALTY_BP_MAX)),
    ("ContractAttachment", "url", Limit::MaxLength(URL_MAX)),
    ("ContractAttachment", "title", Limit::MaxLength(NAME_MAX)),
    ("ContractContent", "objects", Limit::MaxItems(LISTED)),
    ("ContractContent", "forms", Limit::MaxItems(7)),
    ("ContractContent", "methods", Limit::MaxItems(5)),
    ("ContractContent", "st_result_certificate", Limit::MaxLength(REFERENCE_MAX)),
    ("ContractContent", "restricted_licence", Limit::MaxLength(REFERENCE_MAX)),
    ("ContractContent", "term_months", Limit::Minimum(1)),
    ("ContractContent", "term_months", Limit::Maximum(TERM_MONTHS_MAX)),
    ("ContractContent", "notes", Limit::MaxLength(NOTES_MAX)),
    ("ContractContent", "attachments", Limit::MaxItems(ATTACHMENTS_MAX)),
    ("RegistrationCertificate", "number", Limit::MaxLength(REFERENCE_MAX)),
    ("RegistrationCertificate", "province", Limit::MaxLength(2)),
    ("Registration", "clause", Limit::MaxLength(10)),
    ("Registration", "law", Limit::MaxLength(100)),
    ("Registration", "answer_working_days", Limit::Minimum(0)),
    ("Registration", "answer_working_days", Limit::Maximum(60)),
    ("ContractResponse", "objects", Limit::MaxItems(LISTED)),
    ("ContractResponse", "forms", Limit::MaxItems(7)),
    ("ContractResponse", "methods", Limit::MaxItems(5)),
    ("ContractResponse", "st_result_certificate", Limit::MaxLength(REFERENCE_MAX)),
    ("ContractResponse", "restricted_licence", Limit::MaxLength(REFERENCE_MAX)),
    ("ContractResponse", "term_months", Limit::Minimum(1)),
    ("ContractResponse", "term_months", Limit::Maximum(TERM_MONTHS_MAX)),
    ("ContractResponse", "notes", Limit::MaxLength(NOTES_MAX)),
    ("ContractResponse", "attachments", Limit::MaxItems(ATTACHMENTS_MAX)),
    ("ContractResponse", "province", Limit::MaxLength(2)),
    ("ContractResponse", "allowed_actions", Limit::MaxItems(6)),
    ("ContractResponse", "version", Limit::Minimum(1)),
    ("ContractResponse", "version", Limit::Maximum(i64::MAX)),
];
