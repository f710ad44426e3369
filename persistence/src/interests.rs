//! Expressions of interest: their SQL and row mapping; writes go through [`crate::versioned`].

use chrono::NaiveDateTime;
use diesel::prelude::*;
use techex_domain::ListingId;
use techex_domain::interest::{Interest, InterestCount, Sender};
use uuid::Uuid;

use crate::db::DbConn;
use crate::error::{Entity, StoreError};
use crate::schema::interests;
use crate::versioned::{Versioned, WriteKind, find_by_uuid, versioned_basics};

const ENTITY: &str = "interest";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = interests, treat_none_as_null = true)]
struct InterestRow {
    id: String,
    listing_id: String,
    sender_organization_id: Option<String>,
    sender_client_id: Option<String>,
    sender_name: Option<String>,
    sender_organization: Option<String>,
    sender_email: Option<String>,
    sender_phone: Option<String>,
    message: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    answered_at: Option<NaiveDateTime>,
}

impl InterestRow {
    fn of(interest: &Interest) -> Self {
        let s = &interest.sender;
        InterestRow {
            id: interest.id.to_string(),
            listing_id: interest.listing_id.to_string(),
            sender_organization_id: s.organization_id.map(|id| id.to_string()),
            sender_client_id: s.client_id.map(|id| id.to_string()),
            sender_name: s.name.clone(),
            sender_organization: s.organization.clone(),
            sender_email: s.email.clone(),
            sender_phone: s.phone.clone(),
            message: interest.message.clone(),
            version: interest.version,
            created_at: interest.created_at.naive_utc(),
            updated_at: interest.updated_at.naive_utc(),
            answered_at: interest.answered_at.map(|t| t.naive_utc()),
        }
    }

    fn into_domain(self) -> Result<Interest, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt { entity: ENTITY, id: self.id.clone(), reason };
        let id = |text: &str| text.parse::<Uuid>().map_err(|e| corrupt(e.to_string()));
        let optional_id = |text: &Option<String>| text.as_deref().map(id).transpose();
        Ok(Interest {
            id: id(&self.id)?,
            listing_id: ListingId(id(&self.listing_id)?),
            sender: Sender {
                organization_id: optional_id(&self.sender_organization_id)?,
                client_id: optional_id(&self.sender_client_id)?,
                name: self.sender_name.clone(),
                organization: self.sender_organization.clone(),
                email: self.sender_email.clone(),
                phone: self.sender_phone.clone(),
            },
            message: self.message.clone(),
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            answered_at: self.answered_at.map(|t| t.and_utc()),
        })
    }
}

/// What a change of an interest did: it was answered (logged as `answer`), or nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered(pub bool);

impl WriteKind for Answered {
    fn op(&self) -> Option<&'static str> {
        self.0.then_some("answer")
    }
}

find_by_uuid!(interests, InterestRow, Interest);

/// Inserts a new interest; pass it to [`crate::versioned::create`].
pub fn insert(conn: &mut DbConn, interest: &Interest) -> Result<(), StoreError> {
    diesel::insert_into(interests::table).values(InterestRow::of(interest)).execute(conn)?;
    Ok(())
}

/// Which interests of a listing a page shows: newest first, after the `after` id, only the
/// answered (or unanswered) ones when `answered` says so.
#[derive(Debug, Clone, Copy)]
pub struct InterestFilter {
    pub listing: ListingId,
    pub answered: Option<bool>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

fn matching(filter: &InterestFilter) -> interests::BoxedQuery<'static, <DbConn as Connection>::Backend> {
    let mut query = interests::table.filter(interests::listing_id.eq(filter.listing.to_string())).into_boxed();
    match filter.answered {
        Some(true) => query = query.filter(interests::answered_at.is_not_null()),
        Some(false) => query = query.filter(interests::answered_at.is_null()),
        None => {}
    }
    query
}

pub fn list(conn: &mut DbConn, filter: &InterestFilter) -> Result<Vec<Interest>, StoreError> {
    let mut query = matching(filter).select(InterestRow::as_select()).order(interests::id.desc()).limit(filter.limit);
    if let Some(after) = filter.after {
        query = query.filter(interests::id.lt(after.to_string()));
    }
    query.load(conn)?.into_iter().map(InterestRow::into_domain).collect()
}

/// How many interests match the filter on every page.
pub fn count(conn: &mut DbConn, filter: &InterestFilter) -> Result<i64, StoreError> {
    Ok(matching(filter).count().get_result(conn)?)
}

/// A listing's interests and how many of them are unanswered, in one query over its index.
pub fn count_of(conn: &mut DbConn, listing: ListingId) -> Result<InterestCount, StoreError> {
    let (total, answered): (i64, i64) = interests::table
        .filter(interests::listing_id.eq(listing.to_string()))
        .select((diesel::dsl::count_star(), diesel::dsl::count(interests::answered_at)))
        .get_result(conn)?;
    Ok(InterestCount { total, unanswered: total - answered })
}

impl Versioned for Interest {
    const ENTITY: Entity = Entity::Interest;
    type Id = Uuid;
    type Write = Answered;

    versioned_basics!(interests, Uuid);

    fn overwrite(&self, conn: &mut DbConn, read_version: i64, _: &Answered) -> Result<usize, StoreError> {
        Ok(diesel::update(interests::table)
            .filter(interests::id.eq(self.id.to_string()))
            .filter(interests::version.eq(read_version))
            .set(InterestRow::of(self))
            .execute(conn)?)
    }
}
