//! Technology transfer contracts (hợp đồng chuyển giao công nghệ): who transfers what to whom,
//! in which form and by which methods, for what value; whether the contract must be registered
//! with the authorities and by when; and who may see it.
//!
//! The law's dated rules are in [`law`], the lifecycle in [`lifecycle`].

pub mod law;
pub mod lifecycle;

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::access::{Actor, Caller, Denied, Scope};
use crate::messages::{Message, Text};
use crate::refdata;
use crate::tax_code::{TaxpayerKind, check_tax_code_of};
use crate::text::Lines;
use crate::validation::ValidationErrors;
use crate::values::{LocalizedText, check_localized, check_url, optional_text, trim_optional, trim_required};
pub use crate::vocabulary::{TransferForm, TransferMethod};
pub use law::{Exemption, Ground, RegistrationDuty, RegistrationFacts, TransferObject};
pub use lifecycle::{ContractAction, ContractStatus, MoveRefused};

word_enum!(
    /// Transfer of ownership, or of the right to use (Art. 7 of the 2017 law as summarized).
    RightKind {
        Ownership => "ownership", "Chuyển giao quyền sở hữu công nghệ", "Transfer of ownership",
        Use => "use", "Chuyển giao quyền sử dụng công nghệ", "Transfer of the right to use",
    }
);

word_enum!(
    /// How the price is paid (Art. 23 cl. 6).
    PaymentMode {
        LumpSum => "lump_sum", "Trả gọn một lần", "Lump sum",
        Royalty => "royalty", "Trả theo phần trăm (royalty)", "Royalty",
        Mixed => "mixed", "Kết hợp trả gọn và royalty", "Lump sum and royalty",
    }
);

word_enum!(
    /// What a royalty rate applies to.
    RoyaltyBase {
        NetSales => "net_sales", "Doanh thu thuần", "Net sales",
        Revenue => "revenue", "Doanh thu", "Revenue",
        Profit => "profit", "Lợi nhuận", "Profit",
        Units => "units", "Số lượng sản phẩm", "Units produced",
    }
);

word_enum!(
    /// Whether the transfer uses state money (Art. 31 cl. 1 point c).
    StateFunding {
        None => "none", "Không sử dụng vốn nhà nước", "No state money",
        StateCapital => "state_capital", "Vốn nhà nước", "State capital",
        StateBudget => "state_budget", "Ngân sách nhà nước", "State budget",
    }
);

word_enum!(
    /// Who issued a technology transfer registration certificate (Decree 76/2018/ND-CP Art. 6).
    Authority {
        Ministry => "ministry", "Bộ Khoa học và Công nghệ", "Ministry of Science and Technology",
        ProvinceDepartment => "province_department", "Sở Khoa học và Công nghệ", "Provincial Department of Science and Technology",
    }
);

/// A party: an organization of the hub (its name, tax code and province are taken from its
/// record), or one written inline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub organization_id: Option<Uuid>,
    pub name: String,
    pub taxpayer_kind: TaxpayerKind,
    pub tax_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Province code, current or pre-2025 (resolved to the current one); for parties in Vietnam.
    pub province: Option<String>,
}

impl Party {
    pub fn in_vietnam(&self) -> bool {
        self.country == VIETNAM
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Technology {
    pub name: LocalizedText,
    /// The listing that offered (or asked for) it, when there was one.
    pub listing_id: Option<Uuid>,
    pub field_codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rights {
    pub kind: RightKind,
    pub exclusive: bool,
    pub sublicensing: bool,
    /// ISO 3166-1 alpha-2 codes of where the rights hold; empty for unstated.
    pub territory: Vec<String>,
}

/// The price in the smallest unit of its currency (whole đồng for VND, cents for USD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractValue {
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// Shown to the parties and the operator only; counted in statistics only within groups of
    /// at least [`crate::stats::SMALL_GROUP`] contracts.
    pub confidential: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub mode: PaymentMode,
    /// Royalty rate in basis points (1/100 of a percent): 250 is 2.5 %.
    pub royalty_rate_bp: Option<i64>,
    pub royalty_base: Option<RoyaltyBase>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub url: String,
    pub title: Option<String>,
}

/// What the parties (or the exchange that brokered it) record about a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractContent {
    pub transferor: Party,
    pub transferee: Party,
    pub technology: Technology,
    /// Art. 4.
    pub objects: Vec<TransferObject>,
    /// Art. 5.
    pub forms: Vec<TransferForm>,
    /// Art. 6.
    pub methods: Vec<TransferMethod>,
    pub rights: Rights,
    pub value: Option<ContractValue>,
    pub payment: Option<Payment>,
    pub state_funding: StateFunding,
    /// The number of the S&T task result registration certificate, when the result has one.
    pub st_result_certificate: Option<String>,
    /// The number of the transfer licence of a restricted technology (Arts. 9-11, 29-30).
    pub restricted_licence: Option<String>,
    pub signed_on: Option<NaiveDate>,
    pub effective_from: Option<NaiveDate>,
    pub term_months: Option<i64>,
    /// The exchange that brokered the deal.
    pub brokered_by: Option<Uuid>,
    pub notes: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// A technology transfer registration certificate (Giấy chứng nhận đăng ký chuyển giao công nghệ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub number: String,
    pub authority: Authority,
    /// The department's province, for [`Authority::ProvinceDepartment`] (current code).
    pub province: Option<String>,
    pub issued_on: NaiveDate,
}

pub const VIETNAM: &str = "VN";
pub const NAME_MAX: usize = 300;
pub const TAX_CODE_MAX: usize = 30;
pub const FIELD_CODES_MAX: usize = 10;
pub const TERRITORY_MAX: usize = 50;
pub const ATTACHMENTS_MAX: usize = 20;
pub const NOTES_MAX: usize = 5_000;
pub const REFERENCE_MAX: usize = 100;
/// The largest value: a thousand trillion units of a currency.
pub const VALUE_MAX: i64 = 1_000_000_000_000_000;
pub const ROYALTY_BP_MAX: i64 = 10_000;
/// Fifty years.
pub const TERM_MONTHS_MAX: i64 = 600;
/// The earliest day a contract may be dated.
pub const EARLIEST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1990, 1, 1) {
    Some(day) => day,
    None => panic!("a valid date"),
};

fn is_code(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_uppercase())
}

fn check_party(errors: &mut ValidationErrors, field: &str, party: &mut Party) -> Option<&'static refdata::Province> {
    trim_required(errors, &format!("{field}.name"), &mut party.name, NAME_MAX);
    party.country = party.country.trim().to_ascii_uppercase();
    if !is_code(&party.country, 2) {
        errors.add(format!("{field}.country"), Text::CountryCode);
    }
    trim_optional(errors, &format!("{field}.tax_code"), &mut party.tax_code, TAX_CODE_MAX);
    if let Some(code) = party.tax_code.as_deref()
        && party.in_vietnam()
        && let Err(reason) = check_tax_code_of(party.taxpayer_kind, code)
    {
        errors.add(format!("{field}.tax_code"), reason);
    }
    trim_optional(errors, &format!("{field}.province"), &mut party.province, 2);
    match party.province.as_deref() {
        Some(code) => {
            let province = refdata::current_province(code);
            if province.is_none() {
                errors.add(format!("{field}.province"), Message::new(Text::UnknownProvince).with("value", code));
            }
            province
        }
        None if party.in_vietnam() => {
            errors.add(format!("{field}.province"), Text::ProvinceForVietnam);
            None
        }
        None => None,
    }
}

fn check_unique<T: Eq + std::hash::Hash + std::fmt::Display>(
    errors: &mut ValidationErrors,
    field: &str,
    items: &[T],
    max: usize,
) {
    if items.len() > max {
        errors.add(field, Message::new(Text::TooMany).with("max", max));
        return;
    }
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if !seen.insert(item) {
            errors.add(format!("{field}[{i}]"), Message::new(Text::ListedTwice).with("value", item));
        }
    }
}

fn check_day(errors: &mut ValidationErrors, field: &str, day: Option<NaiveDate>, today: NaiveDate) {
    if let Some(day) = day
        && !(EARLIEST_DAY..=today + chrono::Days::new(3_660)).contains(&day)
    {
        errors.add(field, Message::new(Text::DayOutOfRange).with("from", EARLIEST_DAY));
    }
}

/// Content that passed every rule.
#[derive(Debug, Clone)]
pub struct ValidContract {
    pub content: ContractContent,
}

impl ContractContent {
    /// Checks every rule and reports every failure at once. `today` is the day of the write in
    /// Vietnam: a contract is not signed in the future, and its objects are those of the text in
    /// force on its signing day (today's, while unsigned).
    pub fn validate(mut self, today: NaiveDate) -> Result<ValidContract, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        check_party(&mut errors, "transferor", &mut self.transferor);
        check_party(&mut errors, "transferee", &mut self.transferee);

        check_localized(&mut errors, "technology.name", Some(&mut self.technology.name), NAME_MAX, true);
        let codes = &mut self.technology.field_codes;
        if codes.len() > FIELD_CODES_MAX {
            errors.add("technology.field_codes", Message::new(Text::TooMany).with("max", FIELD_CODES_MAX));
        } else {
            for (i, code) in codes.iter_mut().enumerate() {
                *code = code.trim().to_owned();
                let field = format!("technology.field_codes[{i}]");
                match refdata::field(code) {
                    Some(f) if f.level() == 2 => {}
                    Some(_) => errors.add(field, Message::new(Text::FieldTooBroad).with("value", &code)),
                    None => errors.add(field, Message::new(Text::UnknownFieldCode).with("value", &code)),
                }
            }
            check_unique(&mut errors, "technology.field_codes", codes, FIELD_CODES_MAX);
        }

        let text = law::in_force_on(self.signed_on.unwrap_or(today));
        if self.objects.is_empty() {
            errors.add("objects", Text::ObjectRequired);
        }
        check_unique(&mut errors, "objects", &self.objects, TransferObject::ALL.len());
        for (i, object) in self.objects.iter().enumerate().take(TransferObject::ALL.len()) {
            if !text.objects.contains(object) {
                let from = law::object_listed_from(*object).map(|d| d.to_string()).unwrap_or_default();
                errors.add(
                    format!("objects[{i}]"),
                    Message::new(Text::ObjectNotYetInLaw).with("value", object).with("from", from),
                );
            }
        }
        if self.objects == [TransferObject::Equipment] {
            errors.add("objects", Text::EquipmentAlone);
        }
        if self.forms.is_empty() {
            errors.add("forms", Text::FormRequired);
        }
        check_unique(&mut errors, "forms", &self.forms, TransferForm::ALL.len());
        check_unique(&mut errors, "methods", &self.methods, TransferMethod::ALL.len());
        if self.methods == [TransferMethod::EquipmentWithKnowhow] {
            errors.add("methods", Text::EquipmentAlone);
        }

        let rights = &mut self.rights;
        check_unique(&mut errors, "rights.territory", &rights.territory, TERRITORY_MAX);
        for (i, code) in rights.territory.iter_mut().enumerate().take(TERRITORY_MAX) {
            *code = code.trim().to_ascii_uppercase();
            if !is_code(code, 2) {
                errors.add(format!("rights.territory[{i}]"), Text::CountryCode);
            }
        }

        if let Some(value) = self.value.as_mut() {
            if !(0..=VALUE_MAX).contains(&value.amount) {
                errors
                    .add("value.amount", Message::new(Text::WholeNumberBetween).with("min", 0).with("max", VALUE_MAX));
            }
            value.currency = value.currency.trim().to_ascii_uppercase();
            if !is_code(&value.currency, 3) {
                errors.add("value.currency", Text::CurrencyCode);
            }
        }
        if let Some(payment) = &self.payment {
            let royalty = payment.mode != PaymentMode::LumpSum;
            match payment.royalty_rate_bp {
                Some(rate) if !(0..=ROYALTY_BP_MAX).contains(&rate) => errors.add(
                    "payment.royalty_rate_bp",
                    Message::new(Text::WholeNumberBetween).with("min", 0).with("max", ROYALTY_BP_MAX),
                ),
                None if royalty => errors.add("payment.royalty_rate_bp", Text::RoyaltyTerms),
                _ => {}
            }
            if royalty && payment.royalty_base.is_none() {
                errors.add("payment.royalty_base", Text::RoyaltyTerms);
            }
        }
        trim_optional(&mut errors, "st_result_certificate", &mut self.st_result_certificate, REFERENCE_MAX);
        trim_optional(&mut errors, "restricted_licence", &mut self.restricted_licence, REFERENCE_MAX);

        check_day(&mut errors, "signed_on", self.signed_on, today);
        check_day(&mut errors, "effective_from", self.effective_from, today);
        if self.signed_on.is_some_and(|day| day > today) {
            errors.add("signed_on", Text::SignedInFuture);
        }
        if let (Some(signed), Some(effective)) = (self.signed_on, self.effective_from)
            && effective < signed
        {
            errors.add("effective_from", Text::EffectiveBeforeSigning);
        }
        if let Some(term) = self.term_months
            && !(1..=TERM_MONTHS_MAX).contains(&term)
        {
            errors
                .add("term_months", Message::new(Text::WholeNumberBetween).with("min", 1).with("max", TERM_MONTHS_MAX));
        }
        optional_text(&mut errors, "notes", &mut self.notes, NOTES_MAX, Lines::Many);
        if self.attachments.len() > ATTACHMENTS_MAX {
            errors.add("attachments", Message::new(Text::TooMany).with("max", ATTACHMENTS_MAX));
        } else {
            for (i, a) in self.attachments.iter_mut().enumerate() {
                check_url(&mut errors, &format!("attachments[{i}].url"), &mut a.url);
                trim_optional(&mut errors, &format!("attachments[{i}].title"), &mut a.title, NAME_MAX);
            }
        }
        errors.finish(ValidContract { content: self })
    }

    /// What decides the registration duty.
    pub fn registration_facts(&self) -> RegistrationFacts {
        RegistrationFacts {
            transferor_in_vietnam: self.transferor.in_vietnam(),
            transferee_in_vietnam: self.transferee.in_vietnam(),
            state_capital: self.state_funding == StateFunding::StateCapital,
            state_budget: self.state_funding == StateFunding::StateBudget,
            restricted_licensed: self.restricted_licence.is_some(),
            st_result_certified: self.st_result_certificate.is_some(),
        }
    }

    /// Whether registration is mandatory and why, under the text in force on the signing day
    /// (today's while unsigned), with the filing deadline once signed.
    pub fn registration_duty(&self, today: NaiveDate) -> RegistrationDuty {
        law::in_force_on(self.signed_on.unwrap_or(today)).registration_duty(&self.registration_facts(), self.signed_on)
    }

    /// The province the contract is counted under: the transferee's, or the transferor's when
    /// the transferee is abroad (current codes).
    pub fn province(&self) -> Option<String> {
        [&self.transferee, &self.transferor]
            .into_iter()
            .find_map(|p| p.province.as_deref().filter(|_| p.in_vietnam()))
            .and_then(refdata::current_province)
            .map(|p| p.code.clone())
    }

    /// The organizations of the hub involved: parties and broker.
    pub fn organizations(&self) -> impl Iterator<Item = Uuid> + '_ {
        [self.transferor.organization_id, self.transferee.organization_id, self.brokered_by].into_iter().flatten()
    }
}

impl Certificate {
    /// Checks the certificate of a contract signed on `signed_on`, recorded on `today`.
    pub fn validate(mut self, signed_on: Option<NaiveDate>, today: NaiveDate) -> Result<Certificate, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        trim_required(&mut errors, "number", &mut self.number, REFERENCE_MAX);
        match (self.authority, self.province.as_deref().map(str::trim)) {
            (Authority::ProvinceDepartment, None) => errors.add("province", Text::CertificateProvince),
            (Authority::ProvinceDepartment, Some(code)) => match refdata::current_province(code) {
                Some(p) => self.province = Some(p.code.clone()),
                None => errors.add("province", Message::new(Text::UnknownProvince).with("value", code)),
            },
            (Authority::Ministry, _) => self.province = None,
        }
        if self.issued_on > today {
            errors.add("issued_on", Text::SignedInFuture);
        } else if signed_on.is_some_and(|signed| self.issued_on < signed) {
            errors.add("issued_on", Text::EffectiveBeforeSigning);
        }
        errors.finish(self)
    }
}

/// A contract as the hub holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    pub id: Uuid,
    pub status: ContractStatus,
    pub content: ContractContent,
    pub certificate: Option<Certificate>,
    /// The organization whose client recorded it.
    pub recorded_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Contract {
    pub fn draft(valid: ValidContract, recorded_by: Uuid, now: DateTime<Utc>) -> Self {
        Contract {
            id: Uuid::now_v7(),
            status: ContractStatus::Draft,
            content: valid.content,
            certificate: None,
            recorded_by,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// Replaces the content while it may still be edited.
    pub fn revise(&mut self, valid: ValidContract, now: DateTime<Utc>) -> Result<(), MoveRefused> {
        if !self.status.is_editable() {
            return Err(MoveRefused::Locked(self.status));
        }
        self.content = valid.content;
        self.touch(now);
        Ok(())
    }

    pub fn registration_duty(&self, today: NaiveDate) -> RegistrationDuty {
        self.content.registration_duty(today)
    }

    /// Applies a move; `register` needs the certificate, which the caller checked.
    pub fn apply(
        &mut self,
        action: ContractAction,
        certificate: Option<Certificate>,
        now: DateTime<Utc>,
    ) -> Result<(), MoveRefused> {
        let today = refdata::vietnam_date(now);
        let mandatory = self.registration_duty(today).mandatory;
        self.status = self.status.after(action, mandatory)?;
        if action == ContractAction::Register {
            self.certificate = certificate;
        }
        self.touch(now);
        Ok(())
    }

    /// The moves allowed now, for clients that show buttons.
    pub fn allowed_actions(&self, today: NaiveDate) -> Vec<ContractAction> {
        self.status.allowed_actions(self.registration_duty(today).mandatory)
    }

    /// Whether the registration is overdue on `today`: mandatory, signed, not registered, past
    /// its deadline.
    pub fn is_registration_overdue(&self, today: NaiveDate) -> bool {
        let duty = self.registration_duty(today);
        self.status == ContractStatus::Signed && duty.mandatory && duty.deadline.is_some_and(|d| d < today)
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }
}

/// How an organization stands to a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Party,
    Broker,
    Operator,
}

/// The organization's role in the contract, if it has one (the operator always has).
pub fn role_of(actor: &Actor, contract: &Contract) -> Option<Role> {
    let c = &contract.content;
    let org = Some(actor.organization_id);
    if actor.is_admin() {
        Some(Role::Operator)
    } else if c.transferor.organization_id == org || c.transferee.organization_id == org {
        Some(Role::Party)
    } else if c.brokered_by == org {
        Some(Role::Broker)
    } else {
        None
    }
}

/// The caller, if it may use `scope` on contracts at all: checked before any contract is read, so
/// the answer says nothing about which contracts exist.
pub fn may_use(caller: &Caller, scope: Scope) -> Result<&Actor, Denied> {
    let actor = caller.as_ref().ok_or(Denied::Unauthenticated)?;
    actor.require(scope)?;
    Ok(actor)
}

/// The role of an actor in a contract it may see; [`Denied::Hidden`] for everyone else, so that
/// the answer is the same as for a contract that does not exist.
pub fn seeing(actor: &Actor, contract: &Contract) -> Result<Role, Denied> {
    role_of(actor, contract).ok_or(Denied::Hidden)
}

/// Whether the value shows to someone in `role`: a confidential value only to the parties and the
/// operator, not to the broker.
pub fn value_shown_to(role: Role, value: &ContractValue) -> bool {
    !value.confidential || role != Role::Broker
}

/// Whether an actor may record a contract with this content: the operator any, others only one
/// their organization is a party to or brokers.
pub fn may_record(actor: &Actor, content: &ContractContent) -> bool {
    actor.is_admin() || content.organizations().any(|org| org == actor.organization_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    pub(crate) fn party(country: &str, province: Option<&str>) -> Party {
        Party {
            organization_id: None,
            name: "Công ty TNHH Mẫu".into(),
            taxpayer_kind: TaxpayerKind::Organization,
            tax_code: None,
            country: country.into(),
            province: province.map(Into::into),
        }
    }

    pub(crate) fn content() -> ContractContent {
        ContractContent {
            transferor: party("VN", Some("74")),
            transferee: party("VN", Some("75")),
            technology: Technology {
                name: LocalizedText::vi("Quy trình sấy nông sản"),
                listing_id: None,
                field_codes: vec!["211".into()],
            },
            objects: vec![TransferObject::KnowHow],
            forms: vec![TransferForm::Independent],
            methods: vec![TransferMethod::Documents],
            rights: Rights {
                kind: RightKind::Use,
                exclusive: false,
                sublicensing: false,
                territory: vec!["VN".into()],
            },
            value: Some(ContractValue { amount: 500_000_000, currency: "VND".into(), confidential: false }),
            payment: Some(Payment { mode: PaymentMode::LumpSum, royalty_rate_bp: None, royalty_base: None }),
            state_funding: StateFunding::None,
            st_result_certificate: None,
            restricted_licence: None,
            signed_on: Some(day(2026, 2, 1)),
            effective_from: None,
            term_months: Some(24),
            brokered_by: None,
            notes: None,
            attachments: vec![],
        }
    }

    fn codes(c: ContractContent, today: NaiveDate) -> Vec<(String, String)> {
        c.validate(today).map(|_| vec![]).unwrap_or_else(|e| e.0.into_iter().map(|e| (e.field, e.code)).collect())
    }

    fn pair(f: &str, c: &str) -> (String, String) {
        (f.into(), c.into())
    }

    #[test]
    fn a_valid_contract_passes_and_is_counted_under_the_current_province_of_the_transferee() {
        let valid = content().validate(day(2026, 11, 28)).unwrap();
        assert_eq!(valid.content.province().as_deref(), Some("75"));
        let mut abroad = content();
        abroad.transferee = party("TH", None);
        assert_eq!(abroad.province().as_deref(), Some("79"), "the transferor's Bình Dương is now Ho Chi Minh City");
    }

    #[test]
    fn models_may_be_transferred_only_by_contracts_signed_from_april_2026() {
        let mut c = content();
        c.objects = vec![TransferObject::Model, TransferObject::Algorithm];
        c.signed_on = Some(day(2026, 3, 31));
        assert_eq!(
            codes(c.clone(), day(2026, 11, 28)),
            [pair("objects[0]", "not_yet_in_law"), pair("objects[1]", "not_yet_in_law")]
        );
        c.signed_on = Some(day(2026, 4, 1));
        assert_eq!(codes(c.clone(), day(2026, 11, 28)), []);
        c.signed_on = None;
        assert_eq!(codes(c.clone(), day(2026, 3, 1)).len(), 2, "an unsigned draft follows today's text");
        assert_eq!(codes(c, day(2026, 4, 1)), []);
    }

    #[test]
    fn parties_are_checked_field_by_field() {
        let mut c = content();
        c.transferor.country = "Viet Nam".into();
        c.transferee.province = None;
        c.transferee.tax_code = Some("0123456788".into());
        c.objects = vec![TransferObject::Equipment];
        c.value = Some(ContractValue { amount: -1, currency: "đồng".into(), confidential: false });
        c.payment = Some(Payment { mode: PaymentMode::Royalty, royalty_rate_bp: Some(10_001), royalty_base: None });
        assert_eq!(
            codes(c, day(2026, 11, 28)),
            [
                pair("transferor.country", "invalid_format"),
                pair("transferee.tax_code", "invalid_tax_code"),
                pair("transferee.province", "required"),
                pair("objects", "equipment_alone"),
                pair("value.amount", "invalid_value"),
                pair("value.currency", "invalid_format"),
                pair("payment.royalty_rate_bp", "invalid_value"),
                pair("payment.royalty_base", "required"),
            ]
        );
    }

    #[test]
    fn a_contract_is_not_signed_in_the_future_nor_takes_effect_before_signing() {
        let mut c = content();
        c.signed_on = Some(day(2026, 11, 29));
        c.effective_from = Some(day(2026, 11, 1));
        assert_eq!(
            codes(c, day(2026, 11, 28)),
            [pair("signed_on", "in_the_future"), pair("effective_from", "before_signing")]
        );
    }

    #[test]
    fn registration_follows_the_clause_the_contract_meets() {
        let today = day(2026, 11, 28);
        let mut inbound = content();
        inbound.transferor = party("JP", None);
        assert_eq!(inbound.registration_duty(today).ground, Some(Ground::Inbound));
        let mut outbound = content();
        outbound.transferee = party("LA", None);
        assert_eq!(outbound.registration_duty(today).clause, "31.1.b");
        let mut budget = content();
        budget.state_funding = StateFunding::StateBudget;
        assert!(budget.registration_duty(today).mandatory);
        budget.st_result_certificate = Some("12/2025/GCN-KHCN".into());
        assert!(!budget.registration_duty(today).mandatory);
        assert!(!content().registration_duty(today).mandatory);
    }

    #[test]
    fn overdue_means_signed_mandatory_and_past_the_ninetieth_day() {
        let mut c = content();
        c.transferor = party("KR", None);
        let mut contract = Contract::draft(c.validate(day(2026, 11, 28)).unwrap(), Uuid::now_v7(), crate::now());
        let deadline = day(2026, 5, 2);
        assert_eq!(contract.registration_duty(day(2026, 11, 28)).deadline, Some(deadline));
        assert!(!contract.is_registration_overdue(day(2026, 6, 1)), "a draft is not chased");
        contract.status = ContractStatus::Signed;
        assert!(!contract.is_registration_overdue(deadline), "on the ninetieth day it is still on time");
        assert!(contract.is_registration_overdue(deadline + chrono::Days::new(1)));
        contract.status = ContractStatus::Registered;
        assert!(!contract.is_registration_overdue(day(2027, 1, 1)));
    }

    #[test]
    fn confidentiality_matrix() {
        let (a, b, broker, stranger) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut c = content();
        c.transferor.organization_id = Some(a);
        c.transferee.organization_id = Some(b);
        c.brokered_by = Some(broker);
        let contract = Contract::draft(c.validate(day(2026, 11, 28)).unwrap(), broker, crate::now());
        let actor = |org: Uuid, scopes: &[Scope]| Actor {
            client_id: Uuid::now_v7(),
            organization_id: org,
            scopes: scopes.iter().copied().collect(),
        };
        assert_eq!(seeing(&actor(a, &[]), &contract), Ok(Role::Party));
        assert_eq!(seeing(&actor(b, &[]), &contract), Ok(Role::Party));
        assert_eq!(seeing(&actor(broker, &[]), &contract), Ok(Role::Broker));
        assert_eq!(seeing(&actor(stranger, &[Scope::ContractsRead]), &contract), Err(Denied::Hidden));
        assert_eq!(seeing(&actor(stranger, &[Scope::Admin]), &contract), Ok(Role::Operator));
        assert_eq!(may_use(&None, Scope::ContractsRead).unwrap_err(), Denied::Unauthenticated);
        let reader = Some(actor(a, &[Scope::ContractsRead]));
        assert_eq!(may_use(&reader, Scope::ContractsWrite).unwrap_err(), Denied::MissingScope(Scope::ContractsWrite));
        let secret = ContractValue { amount: 1, currency: "VND".into(), confidential: true };
        assert!(value_shown_to(Role::Party, &secret) && value_shown_to(Role::Operator, &secret));
        assert!(!value_shown_to(Role::Broker, &secret));
        assert!(value_shown_to(Role::Broker, &ContractValue { confidential: false, ..secret }));
        assert!(may_record(&actor(broker, &[]), &contract.content));
        assert!(!may_record(&actor(stranger, &[Scope::ContractsWrite]), &contract.content));
    }
}
