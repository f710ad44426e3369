//! Organizations: rows <-> domain, each write with its change-log entry.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use techex_domain::organization::Organization;
use uuid::Uuid;

use crate::change_log::{self, Author, NewChange};
use crate::db::{DbConn, write};
use crate::error::{StoreError, on_unique_violation};
use crate::schema::{organizations, source_exchanges};

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
            content: serde_json::from_str(&self.content).map_err(|e| corrupt(e.to_string()))?,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
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
            content: serde_json::to_string(&org.content).expect("organization content serializes"),
            version: org.version,
            created_at: org.created_at.naive_utc(),
            updated_at: org.updated_at.naive_utc(),
        }
    }
}

pub fn find(conn: &mut DbConn, id: Uuid) -> Result<Option<Organization>, StoreError> {
    organizations::table
        .filter(organizations::id.eq(id.to_string()))
        .select(OrganizationRow::as_select())
        .first(conn)
        .optional()?
        .map(OrganizationRow::into_domain)
        .transpose()
}

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

pub fn create(conn: &mut DbConn, org: &Organization, author: &Author) -> Result<(), StoreError> {
    write(conn, |conn| {
        diesel::insert_into(organizations::table)
            .values(OrganizationRecord::of(org))
            .execute(conn)
            .map_err(on_unique_violation("tax_code"))?;
        replace_source_exchanges(conn, org)?;
        log_change(conn, org, "create", author)
    })
}

/// Loads an organization, lets `change` revise it, and stores it with its change-log entry;
/// nothing is written when `change` fails or answers `false` (nothing changed).
pub fn modify<E>(
    conn: &mut DbConn,
    id: Uuid,
    author: &Author,
    change: impl FnOnce(&mut Organization) -> Result<bool, E>,
) -> Result<Organization, E>
where
    E: From<StoreError>,
{
    write(conn, |conn| {
        let mut org = find(conn, id)?.ok_or(StoreError::NotFound { entity: ENTITY })?;
        let read_version = org.version;
        if !change(&mut org)? {
            return Ok(org);
        }
        let updated = diesel::update(organizations::table)
            .filter(organizations::id.eq(id.to_string()))
            .filter(organizations::version.eq(read_version))
            .set(OrganizationRecord::of(&org))
            .execute(conn)
            .map_err(on_unique_violation("tax_code"))?;
        if updated == 0 {
            return Err(StoreError::VersionConflict { entity: ENTITY }.into());
        }
        replace_source_exchanges(conn, &org)?;
        log_change(conn, &org, "update", author)?;
        Ok(org)
    })
}

fn replace_source_exchanges(conn: &mut DbConn, org: &Organization) -> Result<(), StoreError> {
    let id = org.id.to_string();
    diesel::delete(source_exchanges::table.filter(source_exchanges::organization_id.eq(&id))).execute(conn)?;
    // One row at a time: multi-row inserts do not compile over a MultiConnection.
    for code in &org.content.source_exchanges {
        diesel::insert_into(source_exchanges::table)
            .values((source_exchanges::code.eq(code), source_exchanges::organization_id.eq(&id)))
            .execute(conn)
            .map_err(on_unique_violation("source_exchange"))?;
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

fn log_change(conn: &mut DbConn, org: &Organization, op: &str, author: &Author) -> Result<(), StoreError> {
    change_log::append(
        conn,
        &NewChange {
            entity: ENTITY,
            entity_id: org.id.to_string(),
            op,
            version: org.version,
            author,
            at: org.updated_at,
            data: serde_json::to_value(org).expect("organization serializes"),
        },
    )
}
