//! Application centers: their SQL, row mapping and stored shape; writes go through
//! [`crate::versioned`]. Search is portable SQL: `LIKE` over the folded `search_text` (the same
//! on both backends, since both sides are folded in Rust), and a nearby search narrows the
//! candidates with a bounding box on the indexed `(latitude, longitude)` before the API computes
//! the exact distance.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use techex_domain::center::{BoundingBox, Center, CenterContact, CenterContent, CenterKind, CenterService, Position};
use uuid::Uuid;

use crate::change_log::Audience;
use crate::db::{DbConn, substr};
use crate::error::{Entity, StoreError};
use crate::schema::{center_fields, center_services, centers};
use crate::stored::{self, Text};
use crate::versioned::{Versioned, WriteKind, find_by_uuid, versioned_basics};

const ENTITY: &str = "center";

type Backend = <DbConn as Connection>::Backend;

#[derive(Queryable, Selectable)]
#[diesel(table_name = centers)]
struct CenterRow {
    id: String,
    province: String,
    content: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl CenterRow {
    fn into_domain(self) -> Result<Center, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt { entity: ENTITY, id: self.id.clone(), reason };
        let content = stored::read::<StoredContent>(&self.content).map_err(corrupt)?.into();
        Ok(Center {
            id: self.id.parse().map_err(|e: uuid::Error| corrupt(e.to_string()))?,
            province: self.province.clone(),
            content,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

/// A center's content as its row keeps it (see [`stored`]), apart from the API's body. Fields it
/// may lack read as their default.
#[derive(Serialize, Deserialize)]
struct StoredContent {
    kind: CenterKind,
    name: Text,
    organization_id: Uuid,
    province: String,
    address: String,
    latitude: f64,
    longitude: f64,
    #[serde(default)]
    contact: StoredContact,
    #[serde(default)]
    services: Vec<CenterService>,
    #[serde(default)]
    field_codes: Vec<String>,
    #[serde(default)]
    description: Option<Text>,
    #[serde(default)]
    opening_hours: Option<String>,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredContact {
    email: Option<String>,
    phone: Option<String>,
    website: Option<String>,
}

impl From<&CenterContent> for StoredContent {
    fn from(c: &CenterContent) -> Self {
        let c = c.clone();
        let k = c.contact;
        StoredContent {
            kind: c.kind,
            name: c.name.into(),
            organization_id: c.organization_id,
            province: c.province,
            address: c.address,
            latitude: c.position.latitude,
            longitude: c.position.longitude,
            contact: StoredContact { email: k.email, phone: k.phone, website: k.website },
            services: c.services,
            field_codes: c.field_codes,
            description: c.description.map(Into::into),
            opening_hours: c.opening_hours,
        }
    }
}

impl From<StoredContent> for CenterContent {
    fn from(c: StoredContent) -> Self {
        let k = c.contact;
        CenterContent {
            kind: c.kind,
            name: c.name.into(),
            organization_id: c.organization_id,
            province: c.province,
            address: c.address,
            position: Position { latitude: c.latitude, longitude: c.longitude },
            contact: CenterContact { email: k.email, phone: k.phone, website: k.website },
            services: c.services,
            field_codes: c.field_codes,
            description: c.description.map(Into::into),
            opening_hours: c.opening_hours,
        }
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = centers, treat_none_as_null = true)]
struct CenterRecord {
    id: String,
    kind: String,
    organization_id: String,
    name_vi: String,
    province: String,
    latitude: f64,
    longitude: f64,
    search_text: String,
    content: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl CenterRecord {
    fn of(center: &Center) -> Self {
        let c = &center.content;
        CenterRecord {
            id: center.id.to_string(),
            kind: c.kind.as_str().to_owned(),
            organization_id: c.organization_id.to_string(),
            name_vi: c.name.vi.clone(),
            province: center.province.clone(),
            latitude: c.position.latitude,
            longitude: c.position.longitude,
            search_text: center.search_text(),
            content: stored::write(&StoredContent::from(c)),
            version: center.version,
            created_at: center.created_at.naive_utc(),
            updated_at: center.updated_at.naive_utc(),
        }
    }
}

/// What a list of centers asks for; every part given must match.
#[derive(Debug, Clone, Default)]
pub struct CenterFilter {
    pub kinds: Vec<CenterKind>,
    /// Current province codes.
    pub provinces: Vec<String>,
    /// Centers offering any of these.
    pub services: Vec<CenterService>,
    /// Digits a field code starts with: `2` matches `211`.
    pub field_prefixes: Vec<String>,
    pub organization: Option<Uuid>,
    /// `LIKE` patterns over the folded search text, all of which must match (see
    /// [`techex_domain::center::like_patterns`]).
    pub patterns: Vec<String>,
    /// Only centers inside this box.
    pub area: Option<BoundingBox>,
}

find_by_uuid!(centers, CenterRow, Center);

fn matching(filter: &CenterFilter) -> centers::BoxedQuery<'static, Backend> {
    let mut query = centers::table.into_boxed();
    if !filter.kinds.is_empty() {
        query = query.filter(centers::kind.eq_any(filter.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>()));
    }
    if !filter.provinces.is_empty() {
        query = query.filter(centers::province.eq_any(filter.provinces.clone()));
    }
    if let Some(organization) = filter.organization {
        query = query.filter(centers::organization_id.eq(organization.to_string()));
    }
    for pattern in &filter.patterns {
        query = query.filter(centers::search_text.like(pattern.clone()));
    }
    if !filter.services.is_empty() {
        let words: Vec<&str> = filter.services.iter().map(|s| s.as_str()).collect();
        let offering =
            center_services::table.filter(center_services::service.eq_any(words)).select(center_services::center_id);
        query = query.filter(centers::id.eq_any(offering));
    }
    if !filter.field_prefixes.is_empty() {
        // As for listings: one fixed expression for any number of prefixes, grouped by length.
        let of_length = |n: usize| filter.field_prefixes.iter().filter(|p| p.len() == n).cloned().collect::<Vec<_>>();
        let code = center_fields::field_code;
        let matching = center_fields::table
            .filter(
                substr(code, 1, 1)
                    .eq_any(of_length(1))
                    .or(substr(code, 1, 2).eq_any(of_length(2)))
                    .or(substr(code, 1, 3).eq_any(of_length(3))),
            )
            .select(center_fields::center_id);
        query = query.filter(centers::id.eq_any(matching));
    }
    if let Some(area) = &filter.area {
        query = query.filter(centers::latitude.between(area.lat_min, area.lat_max));
        query = match area.longitudes.as_slice() {
            [(west, east)] => query.filter(centers::longitude.between(*west, *east)),
            [(w1, e1), (w2, e2)] => {
                query.filter(centers::longitude.between(*w1, *e1).or(centers::longitude.between(*w2, *e2)))
            }
            _ => query,
        };
    }
    query
}

/// The centers `filter` matches in the order they were registered, after `after`.
pub fn list(
    conn: &mut DbConn,
    filter: &CenterFilter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Center>, StoreError> {
    let mut query = matching(filter).select(CenterRow::as_select()).order(centers::id.asc()).limit(limit);
    if let Some(after) = after {
        query = query.filter(centers::id.gt(after.to_string()));
    }
    query.load(conn)?.into_iter().map(CenterRow::into_domain).collect()
}

/// How many centers `filter` matches.
pub fn count(conn: &mut DbConn, filter: &CenterFilter) -> Result<i64, StoreError> {
    Ok(matching(filter).count().get_result(conn)?)
}

/// The id and position of every center `filter` matches: the candidates of a nearby search
/// (its `area` narrows them through the index), whose exact distances the caller computes.
pub fn positions(conn: &mut DbConn, filter: &CenterFilter) -> Result<Vec<(Uuid, Position)>, StoreError> {
    let rows: Vec<(String, f64, f64)> =
        matching(filter).select((centers::id, centers::latitude, centers::longitude)).load(conn)?;
    rows.into_iter()
        .map(|(id, latitude, longitude)| {
            let parsed = id.parse().map_err(|e: uuid::Error| StoreError::Corrupt {
                entity: ENTITY,
                id: id.clone(),
                reason: e.to_string(),
            })?;
            Ok((parsed, Position { latitude, longitude }))
        })
        .collect()
}

/// The centers with these ids, in no particular order.
pub fn by_ids(conn: &mut DbConn, ids: &[Uuid]) -> Result<Vec<Center>, StoreError> {
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    centers::table
        .filter(centers::id.eq_any(ids))
        .select(CenterRow::as_select())
        .load(conn)?
        .into_iter()
        .map(CenterRow::into_domain)
        .collect()
}

/// Inserts a new center and its side rows; pass it to [`crate::versioned::create`].
pub fn insert(conn: &mut DbConn, center: &Center) -> Result<(), StoreError> {
    diesel::insert_into(centers::table).values(CenterRecord::of(center)).execute(conn)?;
    replace_side_rows(conn, center)
}

/// What a modification of a center did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CenterWrite {
    Unchanged,
    Updated,
    /// The center is gone; the change log keeps its last representation as the tombstone.
    Deleted,
}

impl WriteKind for CenterWrite {
    fn op(&self) -> Option<&'static str> {
        match self {
            CenterWrite::Unchanged => None,
            CenterWrite::Updated => Some("update"),
            CenterWrite::Deleted => Some("delete"),
        }
    }
}

impl Versioned for Center {
    const ENTITY: Entity = Entity::Center;
    type Id = Uuid;
    type Write = CenterWrite;

    versioned_basics!(centers, Uuid);

    fn overwrite(&self, conn: &mut DbConn, read_version: i64, write: &CenterWrite) -> Result<usize, StoreError> {
        let id = self.id.to_string();
        let this = centers::table.filter(centers::id.eq(&id)).filter(centers::version.eq(read_version));
        if *write == CenterWrite::Deleted {
            diesel::delete(center_fields::table.filter(center_fields::center_id.eq(&id))).execute(conn)?;
            diesel::delete(center_services::table.filter(center_services::center_id.eq(&id))).execute(conn)?;
            return Ok(diesel::delete(this).execute(conn)?);
        }
        let updated = diesel::update(this).set(CenterRecord::of(self)).execute(conn)?;
        if updated > 0 {
            replace_side_rows(conn, self)?;
        }
        Ok(updated)
    }

    /// The directory is public.
    fn audience(&self) -> Audience {
        Audience::Everyone
    }
}

/// The rows the service and field filters read. One row at a time: multi-row inserts do not
/// compile over a MultiConnection.
fn replace_side_rows(conn: &mut DbConn, center: &Center) -> Result<(), StoreError> {
    let id = center.id.to_string();
    diesel::delete(center_fields::table.filter(center_fields::center_id.eq(&id))).execute(conn)?;
    diesel::delete(center_services::table.filter(center_services::center_id.eq(&id))).execute(conn)?;
    for code in &center.content.field_codes {
        diesel::insert_into(center_fields::table)
            .values((center_fields::center_id.eq(&id), center_fields::field_code.eq(code)))
            .execute(conn)?;
    }
    for service in &center.content.services {
        diesel::insert_into(center_services::table)
            .values((center_services::center_id.eq(&id), center_services::service.eq(service.as_str())))
            .execute(conn)?;
    }
    Ok(())
}
