//! Organizations: their SQL and row mapping; writes go through [`crate::versioned`].

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use techex_domain::organization::{Organization, OrganizationContact, OrganizationContent, OrganizationKind};
use uuid::Uuid;

use crate::change_log::Audience;
use crate::db::DbConn;
use crate::error::{Entity, StoreError};
use crate::schema::{organizations, source_exchanges};
use crate::stored::{self, Text};
use crate::versioned::{Versioned, find_by_uuid, versioned_basics};

const ENTITY: &str = "organization";

#[derive(Queryable, Selectable)]
#[diesel(table_name = organizations)]
struct OrganizationRow {
    id: String,
    province: String,
    content: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl OrganizationRow {
    fn into_domain(self) -> Result<Organization, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt { entity: ENTITY, id: self.id.clone(), reason };
        Ok(Organization {
            id: self.id.parse().map_err(|e: uuid::Error| corrupt(e.to_string()))?,
            province: self.province.clone(),
            content: stored::read::<StoredContent>(&self.content).map_err(corrupt)?.into(),
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

/// An organization's content as its row keeps it (see [`stored`]): apart from the API's body,
/// so either can change without the other. Fields it may lack read as their default.
#[derive(Serialize, Deserialize)]
struct StoredContent {
    kind: OrganizationKind,
    name: Text,
    province: String,
    #[serde(default)]
    tax_code: Option<String>,
    #[serde(default)]
    contact: StoredContact,
    #[serde(default)]
    source_exchanges: Vec<String>,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredContact {
    email: Option<String>,
    phone: Option<String>,
    website: Option<String>,
    address: Option<String>,
}

impl From<&OrganizationContent> for StoredContent {
    fn from(c: &OrganizationContent) -> Self {
        let c = c.clone();
        let k = c.contact;
        StoredContent {
            kind: c.kind,
            name: c.name.into(),
            province: c.province,
            tax_code: c.tax_code,
            contact: StoredContact { email: k.email, phone: k.phone, website: k.website, address: k.address },
            source_exchanges: c.source_exchanges,
        }
    }
}

impl From<StoredContent> for OrganizationContent {
    fn from(c: StoredContent) -> Self {
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

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = organizations, treat_none_as_null = true)]
struct OrganizationRecord {
    id: String,
    kind: String,
    name_vi: String,
    province: String,
    tax_code: Option<String>,
    content: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl OrganizationRecord {
    fn of(org: &Organization) -> Self {
        OrganizationRecord {
            id: org.id.to_string(),
            kind: org.content.kind.as_str().to_owned(),
            name_vi: org.content.name.vi.clone(),
            province: org.province.clone(),
            tax_code: org.content.tax_code.clone(),
            content: stored::write(&StoredContent::from(&org.content)),
            version: org.version,
            created_at: org.created_at.naive_utc(),
            updated_at: org.updated_at.naive_utc(),
        }
    }
}

find_by_uuid!(organizations, OrganizationRow, Organization);

/// Organizations in the order they were registered, starting after `after`.
pub fn list(conn: &mut DbConn, after: Option<Uuid>, limit: i64) -> Result<Vec<Organization>, StoreError> {
    let mut query = organizations::table
        .select(OrganizationRow::as_select())
        .order(organizations::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(organizations::id.gt(after.to_string()));
    }
    query.load(conn)?.into_iter().map(OrganizationRow::into_domain).collect()
}

/// How many organizations there are.
pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(organizations::table.count().get_result(conn)?)
}

/// Inserts a new organization and its side rows; pass it to [`crate::versioned::create`].
pub fn insert(conn: &mut DbConn, org: &Organization) -> Result<(), StoreError> {
    diesel::insert_into(organizations::table).values(OrganizationRecord::of(org)).execute(conn)?;
    replace_source_exchanges(conn, org)
}

impl Versioned for Organization {
    const ENTITY: Entity = Entity::Organization;
    type Id = Uuid;
    type Write = bool;

    versioned_basics!(organizations, Uuid);

    fn overwrite(&self, conn: &mut DbConn, read_version: i64, _: &bool) -> Result<usize, StoreError> {
        let updated = diesel::update(organizations::table)
            .filter(organizations::id.eq(self.id.to_string()))
            .filter(organizations::version.eq(read_version))
            .set(OrganizationRecord::of(self))
            .execute(conn)?;
        if updated > 0 {
            replace_source_exchanges(conn, self)?;
        }
        Ok(updated)
    }

    /// The parties of the exchange are public.
    fn audience(&self) -> Audience {
        Audience::Everyone
    }
}

fn replace_source_exchanges(conn: &mut DbConn, org: &Organization) -> Result<(), StoreError> {
    let id = org.id.to_string();
    diesel::delete(source_exchanges::table.filter(source_exchanges::organization_id.eq(&id))).execute(conn)?;
    // One row at a time: multi-row inserts do not compile over a MultiConnection.
    for code in &org.content.source_exchanges {
        diesel::insert_into(source_exchanges::table)
            .values((source_exchanges::code.eq(code), source_exchanges::organization_id.eq(&id)))
            .execute(conn)?;
    }
    Ok(())
}

/// The organization that holds the source exchange `code`, if any does.
pub fn source_exchange_holder(conn: &mut DbConn, code: &str) -> Result<Option<Uuid>, StoreError> {
    let holder = source_exchanges::table
        .filter(source_exchanges::code.eq(code))
        .select(source_exchanges::organization_id)
        .first::<String>(conn)
        .optional()?;
    holder
        .map(|id| {
            id.parse().map_err(|e: uuid::Error| StoreError::Corrupt {
                entity: "source_exchange",
                id: code.to_owned(),
                reason: e.to_string(),
            })
        })
        .transpose()
}
