//! Organizations: the parties of the exchange. API clients act for one of them, and listings are
//! published by one of them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::messages::{Message, Text};
use crate::refdata;
use crate::validation::ValidationErrors;
use crate::values::{LocalizedText, check_contact_fields, check_localized, check_url, is_exchange_code, trim_optional};

pub use crate::tax_code::check_tax_code;

pub use crate::vocabulary::OrganizationKind;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationContact {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
}

/// What the operator writes about an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationContent {
    pub kind: OrganizationKind,
    pub name: LocalizedText,
    /// Province code, current or pre-2025.
    pub province: String,
    /// Vietnamese tax code (mã số thuế) of an organization: 10 digits ending in a check digit, or
    /// those 10 digits, a dash and 3 for a branch.
    pub tax_code: Option<String>,
    pub contact: OrganizationContact,
    /// The short names under which this organization pushes records into techex (the
    /// `source.exchange` of its listings). Each belongs to one organization: nobody else may
    /// write listings under it. Set by the operator.
    pub source_exchanges: Vec<String>,
}

/// The longest name, in either language.
pub const NAME_MAX: usize = 300;
/// The longest postal address.
pub const ADDRESS_MAX: usize = 300;

/// The most source exchange names one organization holds.
pub const SOURCE_EXCHANGES_MAX: usize = 20;

fn check_source_exchanges(errors: &mut ValidationErrors, codes: &mut [String]) {
    if codes.len() > SOURCE_EXCHANGES_MAX {
        errors.add("source_exchanges", Message::new(Text::TooMany).with("max", SOURCE_EXCHANGES_MAX));
        return;
    }
    let mut seen = std::collections::HashSet::new();
    for (i, code) in codes.iter_mut().enumerate() {
        *code = code.trim().to_owned();
        if !is_exchange_code(code) {
            errors.add(format!("source_exchanges[{i}]"), Text::ExchangeCode);
        } else if !seen.insert(code.clone()) {
            errors.add(format!("source_exchanges[{i}]"), Message::new(Text::ListedTwice).with("value", &code));
        }
    }
}

/// Content that passed every rule, with the province resolved to today's code.
#[derive(Debug, Clone)]
pub struct ValidOrganization {
    pub content: OrganizationContent,
    pub province: &'static refdata::Province,
}

impl OrganizationContent {
    /// Content saying only what every organization must: no tax code, contact or source exchange.
    pub fn new(kind: OrganizationKind, name: LocalizedText, province: &str) -> Self {
        OrganizationContent {
            kind,
            name,
            province: province.to_owned(),
            tax_code: None,
            contact: OrganizationContact::default(),
            source_exchanges: Vec::new(),
        }
    }

    pub fn validate(mut self) -> Result<ValidOrganization, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        check_localized(&mut errors, "name", Some(&mut self.name), NAME_MAX, true);
        self.province = self.province.trim().to_owned();
        let province = refdata::current_province(&self.province);
        if province.is_none() {
            errors.add("province", Message::new(Text::UnknownProvince).with("value", &self.province));
        }
        if let Some(code) = self.tax_code.as_mut() {
            *code = code.trim().to_owned();
            if let Err(reason) = check_tax_code(code) {
                errors.add("tax_code", reason);
            }
        }
        check_source_exchanges(&mut errors, &mut self.source_exchanges);
        let c = &mut self.contact;
        check_contact_fields(&mut errors, "contact", &mut c.email, &mut c.phone);
        trim_optional(&mut errors, "contact.address", &mut c.address, ADDRESS_MAX);
        if let Some(website) = c.website.as_mut() {
            check_url(&mut errors, "contact.website", website);
        }
        match province {
            Some(province) if errors.is_empty() => Ok(ValidOrganization { content: self, province }),
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: Uuid,
    /// The current province code; `content.province` keeps the code as sent.
    pub province: String,
    pub content: OrganizationContent,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Organization {
    pub fn new(valid: ValidOrganization, now: DateTime<Utc>) -> Self {
        Organization {
            id: Uuid::now_v7(),
            province: valid.province.code.clone(),
            content: valid.content,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn revise(&mut self, valid: ValidOrganization, now: DateTime<Utc>) {
        self.province = valid.province.code.clone();
        self.content = valid.content;
        self.version += 1;
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organization_with_a_fictitious_valid_tax_code_passes() {
        let content = OrganizationContent {
            tax_code: Some(" 0123456787-001 ".into()),
            ..OrganizationContent::new(OrganizationKind::Enterprise, LocalizedText::vi("Công ty mẫu"), "79")
        };
        assert_eq!(content.validate().unwrap().content.tax_code.as_deref(), Some("0123456787-001"));
    }

    #[test]
    fn an_organization_cannot_use_a_personal_number() {
        let content = OrganizationContent {
            tax_code: Some("079201000123".into()),
            ..OrganizationContent::new(OrganizationKind::Enterprise, LocalizedText::vi("Công ty mẫu"), "79")
        };
        let errors = content.validate().unwrap_err().0;
        assert_eq!((errors[0].field.as_str(), errors[0].code.as_str()), ("tax_code", "invalid_tax_code"));
    }

    #[test]
    fn source_exchange_names_are_short_lower_case_words_listed_once() {
        let content = OrganizationContent {
            source_exchanges: [" dongnai ", "Đồng Nai", "dongnai", "dn_2"].map(String::from).into(),
            ..OrganizationContent::new(OrganizationKind::Exchange, LocalizedText::vi("Sàn Đồng Nai"), "75")
        };
        let errors: Vec<(String, String)> =
            content.validate().unwrap_err().0.into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            errors,
            [
                ("source_exchanges[1]".to_owned(), "invalid_format".to_owned()),
                ("source_exchanges[2]".to_owned(), "duplicate".to_owned())
            ]
        );
    }

    #[test]
    fn organizations_are_validated_field_by_field() {
        let content = OrganizationContent {
            tax_code: Some("123".into()),
            contact: OrganizationContact {
                email: Some("x".into()),
                website: Some("ftp://a".into()),
                ..OrganizationContact::default()
            },
            ..OrganizationContent::new(OrganizationKind::Exchange, LocalizedText::vi(" "), "99")
        };
        let fields: Vec<String> = content.validate().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name.vi", "province", "tax_code", "contact.email", "contact.website"]);
    }

    #[test]
    fn old_province_codes_resolve() {
        let content =
            OrganizationContent::new(OrganizationKind::StDepartment, LocalizedText::vi("Sở KH&CN Bình Dương"), "74");
        assert_eq!(content.validate().unwrap().province.code, "79");
    }
}
