//! Transfer contracts: their SQL and row mapping; writes go through [`crate::versioned`].

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use techex_domain::contract::{
    Attachment, Authority, Certificate, Contract, ContractContent, ContractStatus, ContractValue, Party, Payment,
    PaymentMode, RightKind, Rights, RoyaltyBase, StateFunding, Technology, TransferForm, TransferMethod,
    TransferObject,
};
use techex_domain::refdata;
use techex_domain::tax_code::TaxpayerKind;
use uuid::Uuid;

use crate::change_log::Audience;
use crate::db::DbConn;
use crate::error::{Entity, StoreError};
use crate::schema::contracts;
use crate::stored::{self, Text};
use crate::versioned::{Versioned, find_by_uuid, versioned_basics};
use techex_domain::contract::{Role, value_shown_to};

const ENTITY: &str = "contract";

type Backend = <DbConn as Connection>::Backend;

#[derive(Queryable, Selectable)]
#[diesel(table_name = contracts)]
struct ContractRow {
    id: String,
    status: String,
    recorded_by: String,
    content: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl ContractRow {
    fn into_domain(self) -> Result<Contract, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt { entity: ENTITY, id: self.id.clone(), reason };
        let stored = stored::read::<StoredContract>(&self.content).map_err(corrupt)?;
        Ok(Contract {
            id: self.id.parse().map_err(|e: uuid::Error| corrupt(e.to_string()))?,
            status: self.status.parse().map_err(|e: techex_domain::listing::UnknownWord| corrupt(e.to_string()))?,
            certificate: stored.certificate.map(Into::into),
            content: stored.content.into(),
            recorded_by: self.recorded_by.parse().map_err(|e: uuid::Error| corrupt(e.to_string()))?,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

/// A contract as its row keeps it (see [`stored`]): the content and the certificate.
#[derive(Serialize, Deserialize)]
struct StoredContract {
    content: StoredContent,
    #[serde(default)]
    certificate: Option<StoredCertificate>,
}

#[derive(Serialize, Deserialize)]
struct StoredParty {
    #[serde(default)]
    organization_id: Option<Uuid>,
    name: String,
    #[serde(default = "organization_kind")]
    taxpayer_kind: TaxpayerKind,
    #[serde(default)]
    tax_code: Option<String>,
    country: String,
    #[serde(default)]
    province: Option<String>,
}

fn organization_kind() -> TaxpayerKind {
    TaxpayerKind::Organization
}

#[derive(Serialize, Deserialize)]
struct StoredValue {
    amount: i64,
    currency: String,
    #[serde(default)]
    confidential: bool,
}

#[derive(Serialize, Deserialize)]
struct StoredPayment {
    mode: PaymentMode,
    #[serde(default)]
    royalty_rate_bp: Option<i64>,
    #[serde(default)]
    royalty_base: Option<RoyaltyBase>,
}

#[derive(Serialize, Deserialize)]
struct StoredAttachment {
    url: String,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredContent {
    transferor: StoredParty,
    transferee: StoredParty,
    technology_name: Text,
    #[serde(default)]
    listing_id: Option<Uuid>,
    #[serde(default)]
    field_codes: Vec<String>,
    #[serde(default)]
    objects: Vec<TransferObject>,
    #[serde(default)]
    forms: Vec<TransferForm>,
    #[serde(default)]
    methods: Vec<TransferMethod>,
    right_kind: RightKind,
    #[serde(default)]
    exclusive: bool,
    #[serde(default)]
    sublicensing: bool,
    #[serde(default)]
    territory: Vec<String>,
    #[serde(default)]
    value: Option<StoredValue>,
    #[serde(default)]
    payment: Option<StoredPayment>,
    #[serde(default = "no_state_funding")]
    state_funding: StateFunding,
    #[serde(default)]
    st_result_certificate: Option<String>,
    #[serde(default)]
    restricted_licence: Option<String>,
    #[serde(default)]
    signed_on: Option<NaiveDate>,
    #[serde(default)]
    effective_from: Option<NaiveDate>,
    #[serde(default)]
    term_months: Option<i64>,
    #[serde(default)]
    brokered_by: Option<Uuid>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    attachments: Vec<StoredAttachment>,
}

fn no_state_funding() -> StateFunding {
    StateFunding::None
}

#[derive(Serialize, Deserialize)]
struct StoredCertificate {
    number: String,
    authority: Authority,
    #[serde(default)]
    province: Option<String>,
    issued_on: NaiveDate,
}

impl From<&Party> for StoredParty {
    fn from(p: &Party) -> Self {
        StoredParty {
            organization_id: p.organization_id,
            name: p.name.clone(),
            taxpayer_kind: p.taxpayer_kind,
            tax_code: p.tax_code.clone(),
            country: p.country.clone(),
            province: p.province.clone(),
        }
    }
}

impl From<StoredParty> for Party {
    fn from(p: StoredParty) -> Self {
        Party {
            organization_id: p.organization_id,
            name: p.name,
            taxpayer_kind: p.taxpayer_kind,
            tax_code: p.tax_code,
            country: p.country,
            province: p.province,
        }
    }
}

impl From<&ContractContent> for StoredContent {
    fn from(c: &ContractContent) -> Self {
        let c = c.clone();
        StoredContent {
            transferor: (&c.transferor).into(),
            transferee: (&c.transferee).into(),
            technology_name: c.technology.name.into(),
            listing_id: c.technology.listing_id,
            field_codes: c.technology.field_codes,
            objects: c.objects,
            forms: c.forms,
            methods: c.methods,
            right_kind: c.rights.kind,
            exclusive: c.rights.exclusive,
            sublicensing: c.rights.sublicensing,
            territory: c.rights.territory,
            value: c.value.map(|v| StoredValue {
                amount: v.amount,
                currency: v.currency,
                confidential: v.confidential,
            }),
            payment: c.payment.map(|p| StoredPayment {
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
            attachments: c.attachments.into_iter().map(|a| StoredAttachment { url: a.url, title: a.title }).collect(),
        }
    }
}

impl From<StoredContent> for ContractContent {
    fn from(c: StoredContent) -> Self {
        ContractContent {
            transferor: c.transferor.into(),
            transferee: c.transferee.into(),
            technology: Technology {
                name: c.technology_name.into(),
                listing_id: c.listing_id,
                field_codes: c.field_codes,
            },
            objects: c.objects,
            forms: c.forms,
            methods: c.methods,
            rights: Rights {
                kind: c.right_kind,
                exclusive: c.exclusive,
                sublicensing: c.sublicensing,
                territory: c.territory,
            },
            value: c.value.map(|v| ContractValue {
                amount: v.amount,
                currency: v.currency,
                confidential: v.confidential,
            }),
            payment: c.payment.map(|p| Payment {
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
            attachments: c.attachments.into_iter().map(|a| Attachment { url: a.url, title: a.title }).collect(),
        }
    }
}

impl From<&Certificate> for StoredCertificate {
    fn from(c: &Certificate) -> Self {
        StoredCertificate {
            number: c.number.clone(),
            authority: c.authority,
            province: c.province.clone(),
            issued_on: c.issued_on,
        }
    }
}

impl From<StoredCertificate> for Certificate {
    fn from(c: StoredCertificate) -> Self {
        Certificate { number: c.number, authority: c.authority, province: c.province, issued_on: c.issued_on }
    }
}

/// A `None` is written as NULL, never as the column's default, so that rows also go through
/// multi-row inserts and `COPY` ([`crate::bulk`]).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = contracts, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(crate) struct ContractRecord {
    id: String,
    status: String,
    transferor_org: Option<String>,
    transferee_org: Option<String>,
    brokered_by: Option<String>,
    recorded_by: String,
    listing_id: Option<String>,
    province: Option<String>,
    signed_on: Option<String>,
    registration_deadline: Option<String>,
    content: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl ContractRecord {
    pub(crate) fn of(contract: &Contract) -> Self {
        let c = &contract.content;
        let today = refdata::vietnam_date(contract.updated_at);
        let duty = c.registration_duty(today);
        let id = |id: Option<Uuid>| id.map(|id| id.to_string());
        ContractRecord {
            id: contract.id.to_string(),
            status: contract.status.as_str().to_owned(),
            transferor_org: id(c.transferor.organization_id),
            transferee_org: id(c.transferee.organization_id),
            brokered_by: id(c.brokered_by),
            recorded_by: contract.recorded_by.to_string(),
            listing_id: id(c.technology.listing_id),
            province: c.province(),
            signed_on: c.signed_on.map(|d| d.to_string()),
            registration_deadline: duty.deadline.filter(|_| duty.mandatory).map(|d| d.to_string()),
            content: stored::write(&StoredContract {
                content: c.into(),
                certificate: contract.certificate.as_ref().map(Into::into),
            }),
            version: contract.version,
            created_at: contract.created_at.naive_utc(),
            updated_at: contract.updated_at.naive_utc(),
        }
    }
}

find_by_uuid!(contracts, ContractRow, Contract);

pub fn insert(conn: &mut DbConn, contract: &Contract) -> Result<(), StoreError> {
    diesel::insert_into(contracts::table).values(ContractRecord::of(contract)).execute(conn)?;
    Ok(())
}

impl Versioned for Contract {
    const ENTITY: Entity = Entity::Contract;
    type Id = Uuid;
    type Write = bool;

    versioned_basics!(contracts, Uuid);

    fn overwrite(&self, conn: &mut DbConn, read_version: i64, _: &bool) -> Result<usize, StoreError> {
        Ok(diesel::update(contracts::table)
            .filter(contracts::id.eq(self.id.to_string()))
            .filter(contracts::version.eq(read_version))
            .set(ContractRecord::of(self))
            .execute(conn)?)
    }

    /// Confidential: in the feed only for the organizations that may read the contract, and
    /// for its broker only while its value is not confidential (the log carries the value).
    fn audience(&self) -> Audience {
        let c = &self.content;
        let value_shown_to_broker = c.value.as_ref().is_none_or(|v| value_shown_to(Role::Broker, v));
        let broker = c.brokered_by.filter(|_| value_shown_to_broker);
        let readers =
            [c.transferor.organization_id, c.transferee.organization_id, broker].into_iter().flatten().collect();
        Audience::Organizations(readers)
    }
}

/// Registrations a department must chase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chase {
    /// Signed, mandatory, not registered, past the deadline on this day.
    Overdue { today: NaiveDate },
    /// Signed, mandatory, not registered, due on or before `until` (and not yet overdue).
    DueBy { today: NaiveDate, until: NaiveDate },
}

/// Which contracts a list shows.
#[derive(Debug, Clone, Default)]
pub struct ContractFilter {
    /// Only those this organization is a party to or brokered; `None`: all (the operator).
    pub involving: Option<Uuid>,
    pub statuses: Vec<ContractStatus>,
    pub chase: Option<Chase>,
    /// Current province codes; empty for any.
    pub provinces: Vec<String>,
    /// Signed on or after / on or before.
    pub signed_from: Option<NaiveDate>,
    pub signed_to: Option<NaiveDate>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

fn filtered(filter: &ContractFilter) -> contracts::BoxedQuery<'static, Backend> {
    let mut query = contracts::table.into_boxed();
    if let Some(org) = filter.involving {
        let org = org.to_string();
        query = query.filter(
            contracts::transferor_org
                .eq(org.clone())
                .or(contracts::transferee_org.eq(org.clone()))
                .or(contracts::brokered_by.eq(org)),
        );
    }
    if !filter.statuses.is_empty() {
        query = query.filter(contracts::status.eq_any(filter.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()));
    }
    match filter.chase {
        Some(Chase::Overdue { today }) => {
            query = query
                .filter(contracts::status.eq(ContractStatus::Signed.as_str()))
                .filter(contracts::registration_deadline.lt(today.to_string()));
        }
        Some(Chase::DueBy { today, until }) => {
            query = query
                .filter(contracts::status.eq(ContractStatus::Signed.as_str()))
                .filter(contracts::registration_deadline.ge(today.to_string()))
                .filter(contracts::registration_deadline.le(until.to_string()));
        }
        None => {}
    }
    if !filter.provinces.is_empty() {
        query = query.filter(contracts::province.eq_any(filter.provinces.clone()));
    }
    if let Some(from) = filter.signed_from {
        query = query.filter(contracts::signed_on.ge(from.to_string()));
    }
    if let Some(to) = filter.signed_to {
        query = query.filter(contracts::signed_on.le(to.to_string()));
    }
    query
}

/// Contracts in the order they were recorded, starting after `filter.after`.
pub fn list(conn: &mut DbConn, filter: &ContractFilter) -> Result<Vec<Contract>, StoreError> {
    let mut query = filtered(filter).select(ContractRow::as_select()).order(contracts::id.asc()).limit(filter.limit);
    if let Some(after) = filter.after {
        query = query.filter(contracts::id.gt(after.to_string()));
    }
    query.load(conn)?.into_iter().map(ContractRow::into_domain).collect()
}

/// How many contracts match (the page and its position aside).
pub fn count(conn: &mut DbConn, filter: &ContractFilter) -> Result<i64, StoreError> {
    Ok(filtered(filter).count().get_result(conn)?)
}

/// Every concluded contract (signed, whatever came after) matching the filter, for statistics.
pub fn concluded(conn: &mut DbConn, filter: &ContractFilter) -> Result<Vec<Contract>, StoreError> {
    let statuses: Vec<&str> = ContractStatus::ALL.iter().filter(|s| s.is_concluded()).map(|s| s.as_str()).collect();
    filtered(filter)
        .filter(contracts::status.eq_any(statuses))
        .select(ContractRow::as_select())
        .order(contracts::id.asc())
        .load(conn)?
        .into_iter()
        .map(ContractRow::into_domain)
        .collect()
}
