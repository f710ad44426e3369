//! Bulk writes of new records, for national-scale data sets (`techex-bench`) and the new listings
//! of a `POST /v1/listings/batch`: the rows of each record are derived by the same code as the
//! API's single writes (the record's columns, its `listing_fields` and `listing_terms` rows, its
//! `create` change with the representation the caller logs), and written many at a time: `COPY`
//! on PostgreSQL, multi-row inserts on SQLite, in one transaction (a savepoint inside the
//! caller's). Nothing is read back or checked against what is stored: the records must be new,
//! and a unique index that refuses one fails the whole write. The kept facet counts take the
//! batch's listings as one sum per value.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use techex_domain::Listing;
use techex_domain::contract::Contract;

use crate::change_log::{Author, NewChangeRow};
use crate::contracts::ContractRecord;
use crate::db::{self, DbConn};
use crate::error::StoreError;
use crate::facet_counts::{Changes, Member};
use crate::listings::{ListingRecord, terms_of};
use crate::schema::{change_log, contracts, listing_fields, listing_terms, listings};
use crate::search;
use crate::versioned::{Represent, creation};

#[derive(Insertable)]
#[diesel(table_name = listing_fields, treat_none_as_default_value = false)]
struct FieldRow {
    listing_id: String,
    field_code: String,
}

#[derive(Insertable)]
#[diesel(table_name = listing_terms, treat_none_as_default_value = false)]
struct TermRow {
    listing_id: String,
    term: String,
}

/// New records and their changes, written together by [`Batch::write`], in the order added.
#[derive(Default)]
pub struct Batch {
    listings: Vec<ListingRecord>,
    fields: Vec<FieldRow>,
    terms: Vec<TermRow>,
    contracts: Vec<ContractRecord>,
    changes: Vec<NewChangeRow>,
    facets: Changes,
}

/// Rows per SQLite statement: the widest row (a listing's 22 columns) times this stays under
/// SQLite's 32,766 bound parameters.
const SQLITE_ROWS: usize = 1_000;

/// Writes every row of `$rows` into `$table` on either backend.
macro_rules! write_rows {
    ($conn:expr, $table:path, $rows:expr) => {
        match &mut *$conn {
            DbConn::Pg(pg) => {
                diesel::copy_from($table).from_insertable(&$rows[..]).execute(pg)?;
            }
            DbConn::Sqlite(sqlite) => {
                for chunk in $rows.chunks(SQLITE_ROWS) {
                    diesel::insert_into($table).values(chunk).execute(sqlite)?;
                }
            }
        }
    };
}

impl Batch {
    /// A new listing as `kit::create` would store it for `author`, logged as `represent` shows it.
    pub fn listing(&mut self, listing: &Listing, author: &Author, represent: Represent<'_, Listing>) {
        let id = listing.id.to_string();
        self.fields.extend(
            listing
                .content
                .field_codes
                .iter()
                .map(|code| FieldRow { listing_id: id.clone(), field_code: code.clone() }),
        );
        self.terms.extend(terms_of(listing).into_iter().map(|term| TermRow { listing_id: id.clone(), term }));
        self.facets.add(None, Member::of(listing).as_ref());
        self.listings.push(ListingRecord::of(listing));
        self.changes.push(NewChangeRow::of(&creation(listing, author, represent)));
    }

    /// A new contract as `kit::create` would store it for `author`, logged as `represent` shows it.
    pub fn contract(&mut self, contract: &Contract, author: &Author, represent: Represent<'_, Contract>) {
        self.contracts.push(ContractRecord::of(contract));
        self.changes.push(NewChangeRow::of(&creation(contract, author, represent)));
    }

    /// How many records the batch holds.
    pub fn len(&self) -> usize {
        self.listings.len() + self.contracts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the batch in one transaction and empties it. Listings go first: contracts and the
    /// side rows refer to them.
    pub fn write(&mut self, conn: &mut DbConn) -> Result<(), StoreError> {
        db::write(conn, |conn| {
            write_rows!(conn, listings::table, self.listings);
            search::add_words(conn, self.listings.iter().map(|l| l.search_text.as_str()))?;
            write_rows!(conn, listing_fields::table, self.fields);
            write_rows!(conn, listing_terms::table, self.terms);
            write_rows!(conn, contracts::table, self.contracts);
            write_rows!(conn, change_log::table, self.changes);
            self.facets.write(conn)?;
            Ok::<_, StoreError>(())
        })?;
        *self = Batch::default();
        Ok(())
    }
}

/// The secondary indexes of the bulk-loaded tables, dropped while they are loaded (PostgreSQL
/// only) and built again by [`DeferredIndexes::restore`]: building an index once from all the
/// rows is several times faster than keeping it up to date row by row, above all the GIN
/// indexes of full-text search.
#[must_use = "the indexes are gone until restored"]
pub struct DeferredIndexes(Vec<String>);

/// Drops the secondary indexes of the tables [`Batch`] writes, if they are empty (PostgreSQL;
/// nothing on SQLite, whose full-text index is kept by triggers). Primary keys and unique
/// constraints stay.
pub fn defer_indexes(conn: &mut DbConn) -> Result<DeferredIndexes, StoreError> {
    #[derive(QueryableByName)]
    struct Index {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        definition: String,
    }
    let DbConn::Pg(pg) = conn else { return Ok(DeferredIndexes(Vec::new())) };
    let loaded: i64 = listings::table.count().get_result(pg)?;
    if loaded > 0 {
        return Ok(DeferredIndexes(Vec::new()));
    }
    let indexes: Vec<Index> = diesel::sql_query(
        "SELECT indexname AS name, indexdef AS definition FROM pg_indexes
         WHERE schemaname = current_schema()
           AND tablename IN ('listings', 'listing_fields', 'listing_terms', 'contracts', 'change_log')
           AND indexname NOT IN (SELECT conname FROM pg_constraint)
         ORDER BY tablename, indexname",
    )
    .load(pg)?;
    for index in &indexes {
        pg.batch_execute(&format!("DROP INDEX \"{}\"", index.name))?;
    }
    Ok(DeferredIndexes(indexes.into_iter().map(|i| i.definition).collect()))
}

impl DeferredIndexes {
    /// Builds the dropped indexes again, as their migrations defined them.
    pub fn restore(self, conn: &mut DbConn) -> Result<(), StoreError> {
        let DbConn::Pg(pg) = conn else { return Ok(()) };
        // The GIN indexes are built from sorted runs in memory: with the default 64 MB they spill
        // to many small runs.
        pg.batch_execute("SET maintenance_work_mem = '512MB'")?;
        for definition in self.0 {
            pg.batch_execute(&definition)?;
        }
        pg.batch_execute("RESET maintenance_work_mem")?;
        Ok(())
    }

    /// How many indexes wait to be built again.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
