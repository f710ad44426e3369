//! The facet counts of the whole published set, kept at write time, so that a search without a
//! filter counts its facets from a few hundred rows instead of every listing (1,000,000 listings:
//! seconds).
//!
//! The whole set is what [`crate::listings::facets`] counts for a filter that only asks for
//! published, live listings: status `published`, not deleted, not past its expiry. Membership
//! and facet values change only in a listing's writes, which record the difference here, in
//! their own transaction, as signed rows `(facet, value, n)`: rows are only ever inserted by
//! writers, so concurrent writers neither queue on a hot counter row nor deadlock. A value's
//! count is the sum of its rows; [`compact`] folds them into one row per value. Expiry is a
//! matter of the clock, not of a write: a published listing past its expiry counts until the
//! expiry job moves it, and is taken out at read time ([`whole_set`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use techex_domain::{Listing, ListingStatus};

use crate::db::{DbConn, snapshot, write};
use crate::error::StoreError;
use crate::listings::Facet;
use crate::schema::{facet_counts, listing_fields, listing_terms, listings};
use crate::search::IdIn;

/// What the counts know of a listing of the whole set.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) kind: String,
    pub(crate) province: String,
    pub(crate) ip_status: String,
    pub(crate) trl: Option<i64>,
    pub(crate) field_codes: Vec<String>,
    pub(crate) transfer_forms: Vec<String>,
}

/// The facets the counts keep, by the name a row carries. The field facet is kept at each of its
/// three levels: a field code cut to 1, 2 and 3 digits.
fn facet_name(facet: Facet) -> &'static str {
    match facet {
        Facet::Kind => "kind",
        Facet::Province => "province",
        Facet::Field(digits) => FIELD_LEVELS[usize::from(digits.clamp(1, 3)) - 1],
        Facet::Trl => "trl",
        Facet::IpStatus => "ip_status",
        Facet::TransferForm => "transfer_form",
    }
}

const FIELD_LEVELS: [&str; 3] = ["field1", "field2", "field3"];

/// The prefix of a transfer form's row in `listing_terms`.
const TRANSFER_FORM: &str = "transfer_form:";

impl Member {
    /// The listing as the counts hold it; `None` when it is not in the whole set (not published,
    /// or deleted). Its expiry is left to the reader.
    pub(crate) fn of(listing: &Listing) -> Option<Member> {
        let c = &listing.content;
        (listing.status == ListingStatus::Published && !listing.is_deleted()).then(|| Member {
            kind: c.kind.as_str().to_owned(),
            province: listing.province.clone(),
            ip_status: c.ip_status.as_str().to_owned(),
            trl: c.trl,
            field_codes: c.field_codes.clone(),
            transfer_forms: c.transfer_forms.iter().map(|f| f.as_str().to_owned()).collect(),
        })
    }

    /// Every (facet, value) the listing counts once for: a listing in two fields of one group
    /// counts once for the group, as the live count does.
    fn values(&self) -> BTreeSet<(&'static str, String)> {
        let mut values = BTreeSet::from([
            ("kind", self.kind.clone()),
            ("province", self.province.clone()),
            ("ip_status", self.ip_status.clone()),
        ]);
        if let Some(trl) = self.trl {
            values.insert(("trl", trl.to_string()));
        }
        for code in &self.field_codes {
            for (cut, level) in FIELD_LEVELS.iter().enumerate() {
                // As SQL's `substr(code, 1, digits)`: characters, the whole code when shorter.
                values.insert((level, code.chars().take(cut + 1).collect()));
            }
        }
        for form in &self.transfer_forms {
            values.insert(("transfer_form", form.clone()));
        }
        values
    }
}

#[derive(Insertable)]
#[diesel(table_name = facet_counts)]
struct CountRow {
    facet: String,
    value: String,
    n: i64,
}

/// Differences to the counts, summed per value before they are written.
#[derive(Default)]
pub(crate) struct Changes(BTreeMap<(&'static str, String), i64>);

/// Rows per SQLite statement: three bound parameters each, under SQLite's 32,766.
const SQLITE_ROWS: usize = 10_000;

impl Changes {
    /// A listing's write: it was `before` (`None`: outside the whole set or new) and is `after`.
    pub(crate) fn add(&mut self, before: Option<&Member>, after: Option<&Member>) {
        let before = before.map(Member::values).unwrap_or_default();
        let after = after.map(Member::values).unwrap_or_default();
        for value in after.difference(&before) {
            *self.0.entry(value.clone()).or_default() += 1;
        }
        for value in before.difference(&after) {
            *self.0.entry(value.clone()).or_default() -= 1;
        }
    }

    /// Inserts the non-zero differences in the caller's transaction.
    pub(crate) fn write(&self, conn: &mut DbConn) -> Result<(), StoreError> {
        let rows: Vec<CountRow> = self
            .0
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|((facet, value), n)| CountRow { facet: (*facet).to_owned(), value: value.clone(), n: *n })
            .collect();
        insert(conn, &rows)
    }
}

/// Multi-row inserts do not compile over a MultiConnection: one per backend.
fn insert(conn: &mut DbConn, rows: &[CountRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        DbConn::Pg(pg) => {
            diesel::insert_into(facet_counts::table).values(rows).execute(pg)?;
        }
        DbConn::Sqlite(sqlite) => {
            for chunk in rows.chunks(SQLITE_ROWS) {
                diesel::insert_into(facet_counts::table).values(chunk).execute(sqlite)?;
            }
        }
    }
    Ok(())
}

/// Records one listing's write (see [`Changes::add`]) in the caller's transaction.
pub(crate) fn record(conn: &mut DbConn, before: Option<&Member>, after: Option<&Member>) -> Result<(), StoreError> {
    let mut changes = Changes::default();
    changes.add(before, after);
    changes.write(conn)
}

/// The sum of every row per (facet, value), of the facets `names` (all when `None`).
fn sums(conn: &mut DbConn, names: Option<&[&str]>) -> Result<Vec<(String, String, i64)>, StoreError> {
    let mut query = facet_counts::table
        .group_by((facet_counts::facet, facet_counts::value))
        .select((facet_counts::facet, facet_counts::value, sql::<BigInt>("CAST(SUM(n) AS BIGINT)")))
        .into_boxed::<crate::listings::Backend>();
    if let Some(names) = names {
        query = query.filter(facet_counts::facet.eq_any(names.to_vec()));
    }
    Ok(query.load(conn)?)
}

/// How many published listings of the whole set hold each value of each facet of `wanted`, as
/// [`crate::listings::facets`] answers for a filter without conditions: the kept counts, less
/// the listings past their expiry at `live_at` that the expiry job has not moved yet, read in one
/// snapshot so that a move between the two reads is counted once.
pub(crate) fn whole_set(
    conn: &mut DbConn,
    wanted: &[Facet],
    live_at: DateTime<Utc>,
) -> Result<Vec<Vec<(String, i64)>>, StoreError> {
    let names: Vec<&str> = wanted.iter().map(|f| facet_name(*f)).collect();
    let (kept, lapsed) = snapshot(conn, |conn| Ok((sums(conn, Some(&names))?, lapsed(conn, live_at)?)))?;
    let mut counts: HashMap<(String, String), i64> =
        kept.into_iter().map(|(facet, value, n)| ((facet, value), n)).collect();
    for member in &lapsed {
        for (facet, value) in member.values() {
            if let Some(n) = counts.get_mut(&(facet.to_owned(), value)) {
                *n -= 1;
            }
        }
    }
    let mut by_facet: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for ((facet, value), n) in counts {
        if n > 0 {
            by_facet.entry(facet).or_default().push((value, n));
        }
    }
    Ok(names.iter().map(|name| by_facet.get(*name).cloned().unwrap_or_default()).collect())
}

/// The published listings past their expiry at `live_at` that are still in the counts.
fn lapsed(conn: &mut DbConn, live_at: DateTime<Utc>) -> Result<Vec<Member>, StoreError> {
    let due = || {
        listings::table
            .filter(listings::status.eq(ListingStatus::Published.as_str()))
            .filter(listings::deleted_at.is_null())
            .filter(listings::expires_at.le(live_at.naive_utc()))
            .into_boxed::<crate::listings::Backend>()
    };
    let rows: Vec<(String, String, String, String, Option<i64>)> = due()
        .select((listings::id, listings::kind, listings::province, listings::ip_status, listings::trl))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut members: HashMap<String, Member> = rows
        .into_iter()
        .map(|(id, kind, province, ip_status, trl)| {
            (id, Member { kind, province, ip_status, trl, field_codes: Vec::new(), transfer_forms: Vec::new() })
        })
        .collect();
    let fields: Vec<(String, String)> = listing_fields::table
        .filter(IdIn::new("listing_fields.listing_id", due().select(listings::id)))
        .select((listing_fields::listing_id, listing_fields::field_code))
        .load(conn)?;
    for (id, code) in fields {
        if let Some(member) = members.get_mut(&id) {
            member.field_codes.push(code);
        }
    }
    let terms: Vec<(String, String)> = listing_terms::table
        .filter(IdIn::new("listing_terms.listing_id", due().select(listings::id)))
        .filter(listing_terms::term.like(format!("{TRANSFER_FORM}%")))
        .select((listing_terms::listing_id, listing_terms::term))
        .load(conn)?;
    for (id, term) in terms {
        if let (Some(member), Some(form)) = (members.get_mut(&id), term.strip_prefix(TRANSFER_FORM)) {
            member.transfer_forms.push(form.to_owned());
        }
    }
    Ok(members.into_values().collect())
}

/// The transfer forms among a listing's rows of `listing_terms`.
pub(crate) fn transfer_forms(terms: &[String]) -> Vec<String> {
    terms.iter().filter_map(|t| t.strip_prefix(TRANSFER_FORM)).map(str::to_owned).collect()
}

#[derive(QueryableByName)]
struct Folded {
    #[diesel(sql_type = BigInt)]
    folded: i64,
}

/// Folds the rows of each (facet, value) into one (none when they sum to zero), so that reads
/// sum few rows. Returns how many rows it took away.
///
/// PostgreSQL: one statement deletes the rows its snapshot sees and inserts their sums, so rows
/// that writers commit meanwhile are left for the next run, and a reader sees the rows before or
/// after, never both. Writers only insert, so they never wait on it. SQLite's single writer
/// serializes the same steps.
pub fn compact(conn: &mut DbConn) -> Result<usize, StoreError> {
    write(conn, |conn| {
        let folded = match conn {
            DbConn::Pg(_) => {
                diesel::sql_query(
                    "WITH gone AS (DELETE FROM facet_counts RETURNING facet, value, n),
                     kept AS (INSERT INTO facet_counts (facet, value, n)
                              SELECT facet, value, SUM(n) FROM gone GROUP BY facet, value HAVING SUM(n) <> 0
                              RETURNING 1)
                     SELECT (SELECT COUNT(*) FROM gone) - (SELECT COUNT(*) FROM kept) AS folded",
                )
                .get_result::<Folded>(conn)?
                .folded
            }
            DbConn::Sqlite(_) => {
                let rows: i64 = facet_counts::table.count().get_result(conn)?;
                let kept: Vec<CountRow> = sums(conn, None)?
                    .into_iter()
                    .filter(|(_, _, n)| *n != 0)
                    .map(|(facet, value, n)| CountRow { facet, value, n })
                    .collect();
                diesel::delete(facet_counts::table).execute(conn)?;
                insert(conn, &kept)?;
                rows - kept.len() as i64
            }
        };
        Ok(usize::try_from(folded).unwrap_or(0))
    })
}
