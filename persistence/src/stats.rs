//! What statistics read of listings: a few columns of every live listing, and its fields.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use techex_domain::refdata::vietnam_date;
use techex_domain::stats::ListingFact;

use crate::db::DbConn;
use crate::error::StoreError;
use crate::schema::{listing_fields, listings};

/// Which listings statistics count: not deleted, created within the period, in these provinces.
#[derive(Debug, Clone, Default)]
pub struct ListingFactFilter {
    pub created_from: Option<DateTime<Utc>>,
    /// Created before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Current province codes; empty for any.
    pub provinces: Vec<String>,
    /// Whether to read each listing's fields (only grouping by field needs them).
    pub with_fields: bool,
}

/// The facts of every listing the filter admits.
pub fn listing_facts(conn: &mut DbConn, filter: &ListingFactFilter) -> Result<Vec<ListingFact>, StoreError> {
    let mut query = listings::table
        .filter(listings::deleted_at.is_null())
        .select((listings::id, listings::kind, listings::status, listings::province, listings::created_at))
        .into_boxed();
    if let Some(from) = filter.created_from {
        query = query.filter(listings::created_at.ge(from.naive_utc()));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(listings::created_at.lt(before.naive_utc()));
    }
    if !filter.provinces.is_empty() {
        query = query.filter(listings::province.eq_any(filter.provinces.clone()));
    }
    let rows: Vec<(String, String, String, String, NaiveDateTime)> = query.load(conn)?;
    let mut fields: HashMap<String, Vec<String>> = HashMap::new();
    if filter.with_fields {
        let pairs: Vec<(String, String)> = listing_fields::table
            .select((listing_fields::listing_id, listing_fields::field_code))
            .order((listing_fields::listing_id, listing_fields::field_code))
            .load(conn)?;
        for (id, code) in pairs {
            fields.entry(id).or_default().push(code);
        }
    }
    rows.into_iter()
        .map(|(id, kind, status, province, created_at)| {
            let corrupt = |reason: String| StoreError::Corrupt { entity: "listing", id: id.clone(), reason };
            Ok(ListingFact {
                kind: kind.parse().map_err(|e: techex_domain::listing::UnknownWord| corrupt(e.to_string()))?,
                status: status.parse().map_err(|e: techex_domain::listing::UnknownWord| corrupt(e.to_string()))?,
                province,
                created_on: vietnam_date(created_at.and_utc()),
                fields: fields.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}
