//! Loads a generated data set into a techex database: exchanges (each with its API client), the
//! organizations that sign contracts, listings, transfer contracts and application centers.
//!
//! Every record is built as the API builds it from a request body (the DTO, the domain's
//! validation and lifecycle) and stored with the rows and the `create` change the API's writes
//! derive from it. Listings and contracts, the bulk of the set, take one of two paths:
//! [`Path::Bulk`] writes them through [`techex_persistence::bulk`] (`COPY` on PostgreSQL,
//! multi-row inserts on SQLite), [`Path::Api`] through `kit::create`, as the API does, one
//! record at a time; the organizations and centers always take the API's.
//!
//! One difference from a portal's history: a record is logged once, created in its final status,
//! where a portal's listing logs its create, submit and publish (and the close a contract taking
//! effect makes), and a contract each move of its lifecycle.

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use techex_api::kit::{self, Resource};
use techex_api::routes::contracts::fill_party;
use techex_api::routes::{centers_dto, contracts_dto, listings_dto};
use techex_api::usecases::register_client;
use techex_domain::access::Scope;
use techex_domain::center::Center;
use techex_domain::contract::{self, Contract, ContractAction, ContractStatus};
use techex_domain::organization::{Organization, OrganizationContent, OrganizationKind};
use techex_domain::values::LocalizedText;
use techex_domain::{LifecycleAction, Listing, ListingContent, ListingId, refdata};
use techex_persistence::bulk::{self, Batch};
use techex_persistence::change_log::Author;
use techex_persistence::{Db, DbConn, StoreError, centers, contracts, db, listings, organizations};

use crate::generate::Generator;

/// The size and shape of a data set.
#[derive(Debug, Clone)]
pub struct Options {
    pub listings: u64,
    /// One exchange (with its API client) per this many listings; they publish the listings.
    pub listings_per_exchange: u64,
    /// One contracting organization (company, university, institute) per this many listings.
    pub listings_per_party: u64,
    /// One transfer contract per this many listings (of published ones); 0 for none.
    pub listings_per_contract: u64,
    /// One application center per this many listings.
    pub listings_per_center: u64,
    /// Listings per transaction.
    pub batch: usize,
    pub seed: u64,
}

/// How listings and contracts are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Many rows per statement, `COPY` on PostgreSQL; the secondary indexes of an empty
    /// PostgreSQL database built after the load.
    Bulk,
    /// One record at a time through `kit::create`, as the API writes.
    Api,
}

/// What a load wrote.
#[derive(Debug)]
pub struct Loaded {
    /// The first exchange's client id, secret and source exchange code.
    pub credentials: Value,
    pub contracts: u64,
    pub organizations: usize,
    pub centers: usize,
    /// Seconds spent building the indexes dropped for the load.
    pub index_seconds: f64,
}

struct Exchange {
    organization: Organization,
    author: Author,
}

/// One transaction's worth of records, built on the generating thread.
enum Work {
    Bulk(Batch),
    Api(Vec<Record>),
}

enum Record {
    Listing(Listing, Author),
    Contract(Contract, Author),
}

/// Loads the data set `options` describe, as of `now`, reporting progress through `progress`.
pub fn load(
    db: &Db,
    options: &Options,
    path: Path,
    now: DateTime<Utc>,
    progress: &dyn Fn(String),
) -> Result<Loaded, String> {
    let started = Instant::now();
    let mut generator = Generator::new(options.seed);
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let deferred = match path {
        Path::Bulk => Some(bulk::defer_indexes(&mut conn).map_err(|e| e.to_string())?),
        Path::Api => None,
    };

    // Listings are dated over the past two years, oldest first, so `newest` pages and date
    // filters meet a realistic spread.
    let span = Duration::days(730).num_seconds() as u64;
    let step = (span / options.listings.max(1)).max(1) as i64;
    let first = now - Duration::seconds(step * options.listings as i64);

    let exchange_count = options.listings.div_ceil(options.listings_per_exchange).max(1) as usize;
    let (exchanges, credentials) = load_exchanges(&mut conn, &mut generator, exchange_count, first)?;
    let party_count = options.listings.div_ceil(options.listings_per_party).max(2) as usize;
    let parties = load_parties(&mut conn, &mut generator, party_count, first)?;
    progress(format!("{exchange_count} exchanges, {party_count} contracting organizations"));

    // One thread builds the records (and, for the bulk path, their rows) while this one writes
    // the previous batch: the two halves take about as long on these machines.
    let (sender, receiver) = mpsc::sync_channel::<Result<Work, String>>(1);
    let built = std::thread::scope(|scope| {
        let producer = scope.spawn(|| {
            let mut contracts = 0u64;
            let mut n = 0u64;
            while n < options.listings {
                let end = (n + options.batch as u64).min(options.listings);
                let work =
                    build_batch(&mut generator, options, path, (n, end), (first, step, now), &exchanges, &parties).map(
                        |(work, made)| {
                            contracts += made;
                            work
                        },
                    );
                let failed = work.is_err();
                if sender.send(work).is_err() || failed {
                    break;
                }
                n = end;
            }
            drop(sender);
            (generator, contracts)
        });
        let mut written = 0u64;
        for work in receiver {
            match work? {
                Work::Bulk(mut batch) => {
                    written += batch.len() as u64;
                    batch.write(&mut conn).map_err(|e| e.to_string())?;
                }
                Work::Api(records) => {
                    written += records.len() as u64;
                    db::write(&mut conn, |conn| records.iter().try_for_each(|record| create(conn, record)))
                        .map_err(|e: StoreError| e.to_string())?;
                }
            }
            let rate = written as f64 / started.elapsed().as_secs_f64();
            progress(format!("{written} listings and contracts ({rate:.0}/s)"));
        }
        producer.join().map_err(|_| "the generating thread panicked".to_owned())
    });
    let (mut generator, contract_count) = built?;

    let center_count = options.listings.div_ceil(options.listings_per_center) as usize;
    load_centers(&mut conn, &mut generator, center_count, &exchanges, options.batch, now)?;

    let index_started = Instant::now();
    if let Some(deferred) = deferred.filter(|d| !d.is_empty()) {
        progress(format!("building {} indexes", deferred.len()));
        deferred.restore(&mut conn).map_err(|e| format!("cannot build the indexes: {e}"))?;
    }
    Ok(Loaded {
        credentials,
        contracts: contract_count,
        organizations: exchange_count + party_count,
        centers: center_count,
        index_seconds: index_started.elapsed().as_secs_f64(),
    })
}

/// Listings `from..to` with their contracts, built for `path`; how many contracts they hold.
fn build_batch(
    generator: &mut Generator,
    options: &Options,
    path: Path,
    (from, to): (u64, u64),
    (first, step, now): (DateTime<Utc>, i64, DateTime<Utc>),
    exchanges: &[Exchange],
    parties: &[Organization],
) -> Result<(Work, u64), String> {
    let mut batch = Batch::default();
    let mut records = Vec::new();
    let mut contracts = 0;
    for n in from..to {
        let exchange = &exchanges[(n % exchanges.len() as u64) as usize];
        let at = first + Duration::seconds(step * n as i64);
        // Drafts and contracts are counted within the exchange's own listings, so that every
        // exchange has both: counted over all listings, the listings of every twentieth exchange
        // were all drafts, and only the exchanges of every twentieth listing recorded contracts.
        let nth_of_exchange = n / exchanges.len() as u64;
        let mut listing = listing(generator, n, nth_of_exchange.is_multiple_of(DRAFT_EVERY), exchange, at, now)?;
        let per_contract = options.listings_per_contract;
        let contract =
            if per_contract > 0 && nth_of_exchange % per_contract == per_contract / 2 && listing.published_at.is_some()
            {
                // Signed within three months of the listing, never after now.
                let signed_at = (at + Duration::days(1 + (n % 90) as i64)).min(now);
                let contract = transfer(generator, n, &mut listing, exchange, parties, signed_at)?;
                contracts += 1;
                Some(contract)
            } else {
                None
            };
        match path {
            Path::Bulk => {
                batch.listing(&listing, &exchange.author, &Listing::public);
                if let Some(c) = &contract {
                    batch.contract(c, &exchange.author, &Contract::public);
                }
            }
            Path::Api => {
                records.push(Record::Listing(listing, exchange.author.clone()));
                records.extend(contract.map(|c| Record::Contract(c, exchange.author.clone())));
            }
        }
    }
    let work = match path {
        Path::Bulk => Work::Bulk(batch),
        Path::Api => Work::Api(records),
    };
    Ok((work, contracts))
}

fn create(conn: &mut DbConn, record: &Record) -> Result<(), StoreError> {
    match record {
        Record::Listing(l, author) => kit::create(conn, l, author, |conn| listings::insert(conn, l)),
        Record::Contract(c, author) => kit::create(conn, c, author, |conn| contracts::insert(conn, c)),
    }
}

/// One listing in this many of each exchange is left as a draft.
const DRAFT_EVERY: u64 = 20;

/// A published listing (a draft if `draft`) as portal `exchange` would have written it at `at`,
/// validated as the API validates a request at `now`.
fn listing(
    generator: &mut Generator,
    n: u64,
    draft: bool,
    exchange: &Exchange,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Listing, String> {
    let body: listings_dto::ListingContent =
        serde_json::from_value(generator.listing(n, now)).map_err(|e| format!("listing {n}: {e}"))?;
    let valid = ListingContent::from(body).validate(now).map_err(|e| format!("listing {n}: {e}"))?;
    let mut listing = Listing::draft(valid, Some(exchange.organization.id), at);
    listing.id = ListingId(generator.id(at));
    if !draft {
        for action in [LifecycleAction::Submit, LifecycleAction::Publish] {
            listing.apply(action, at).map_err(|e| format!("listing {n}: {e}"))?;
        }
    }
    Ok(listing)
}

/// The contract transferring the technology of `listing`, between two contracting
/// organizations, brokered and recorded by the listing's exchange at `at`, moved through its
/// lifecycle to the status the generator drew. A contract that takes effect closes its listing,
/// as the API's `take_effect` does when the listing's exchange is involved.
fn transfer(
    generator: &mut Generator,
    n: u64,
    listing: &mut Listing,
    exchange: &Exchange,
    parties: &[Organization],
    at: DateTime<Utc>,
) -> Result<Contract, String> {
    let failed = |e: &dyn std::fmt::Display| format!("contract of listing {n}: {e}");
    let transferor = &parties[(n as usize * 7) % parties.len()];
    let transferee = &parties[(n as usize * 13 + 1) % parties.len()];
    let transferee =
        if transferee.id == transferor.id { &parties[(n as usize * 7 + 1) % parties.len()] } else { transferee };
    let title = &listing.content.title;
    let technology = json!({ "title": { "vi": title.vi, "en": title.en }, "field_codes": listing.content.field_codes });
    let today = refdata::vietnam_date(at);
    let (body, status) =
        generator.contract(&technology, listing.id.0, (transferor.id, transferee.id, exchange.organization.id), today);
    let body: contracts_dto::ContractContent = serde_json::from_value(body).map_err(|e| failed(&e))?;
    let mut content = contract::ContractContent::from(body);
    fill_party(&mut content.transferor, transferor);
    fill_party(&mut content.transferee, transferee);
    let valid = content.validate(today).map_err(|e| failed(&e))?;
    let mut contract = Contract::draft(valid, exchange.organization.id, at);
    contract.id = generator.id(at);
    let moves: &[ContractAction] = match status {
        ContractStatus::Draft => &[],
        ContractStatus::Signed => &[ContractAction::Sign],
        ContractStatus::InEffect => &[ContractAction::Sign, ContractAction::TakeEffect],
        ContractStatus::Completed => &[ContractAction::Sign, ContractAction::TakeEffect, ContractAction::Complete],
        ContractStatus::Terminated => &[ContractAction::Sign, ContractAction::TakeEffect, ContractAction::Terminate],
        ContractStatus::Cancelled => &[ContractAction::Cancel],
        ContractStatus::Registered => &[ContractAction::Sign, ContractAction::Register],
    };
    for &action in moves {
        contract.apply(action, None, at).map_err(|e| failed(&e))?;
    }
    if moves.contains(&ContractAction::TakeEffect) {
        listing.apply(LifecycleAction::Close, at).map_err(|e| failed(&e))?;
    }
    Ok(contract)
}

/// The exchanges, each with a client that may write and publish listings, read the feed and the
/// contracts its exchange recorded; the first client's credentials as JSON.
fn load_exchanges(
    conn: &mut DbConn,
    generator: &mut Generator,
    count: usize,
    at: DateTime<Utc>,
) -> Result<(Vec<Exchange>, Value), String> {
    let scopes = BTreeSet::from([
        Scope::ListingsWrite,
        Scope::ListingsPublish,
        Scope::ChangesRead,
        Scope::CentersWrite,
        Scope::ContractsRead,
    ]);
    let operator = Author::command_line();
    db::write(conn, |conn| {
        let mut exchanges = Vec::with_capacity(count);
        let mut credentials = Value::Null;
        for n in 0..count {
            let (name_vi, province, name_en) = generator.exchange(n);
            let mut content = OrganizationContent::new(
                OrganizationKind::Exchange,
                LocalizedText { vi: name_vi, en: Some(name_en) },
                province,
            );
            // The exchange's own portal, for `PUT /v1/listings/by-source` and batch upserts.
            let source = format!("san-{n}");
            content.source_exchanges = vec![source.clone()];
            let organization = organization(generator, content, at).map_err(|e| format!("exchange {n}: {e}"))?;
            kit::create(conn, &organization, &operator, |conn| organizations::insert(conn, &organization))
                .map_err(|e| e.to_string())?;
            let (client, secret) = register_client(conn, organization.id, "Cổng thông tin", scopes.clone(), &operator)
                .map_err(|e| format!("client of exchange {n}: {e:?}"))?;
            if n == 0 {
                credentials = json!({ "client_id": client.id, "client_secret": secret, "source_exchange": source });
            }
            exchanges.push(Exchange { author: Author::client(client.id, organization.id), organization });
        }
        Ok((exchanges, credentials))
    })
    .map_err(|e: Failed| e.0)
}

/// The companies, universities and institutes that sign contracts, registered by the operator.
fn load_parties(
    conn: &mut DbConn,
    generator: &mut Generator,
    count: usize,
    at: DateTime<Utc>,
) -> Result<Vec<Organization>, String> {
    let operator = Author::command_line();
    db::write(conn, |conn| {
        let mut parties = Vec::with_capacity(count);
        for n in 0..count {
            let (kind, name_vi, province, name_en) = generator.party(n);
            let content = OrganizationContent::new(kind, LocalizedText { vi: name_vi, en: Some(name_en) }, province);
            let organization = organization(generator, content, at).map_err(|e| format!("organization {n}: {e}"))?;
            kit::create(conn, &organization, &operator, |conn| organizations::insert(conn, &organization))
                .map_err(|e| e.to_string())?;
            parties.push(organization);
        }
        Ok(parties)
    })
    .map_err(|e: Failed| e.0)
}

fn organization(
    generator: &mut Generator,
    content: OrganizationContent,
    at: DateTime<Utc>,
) -> Result<Organization, String> {
    let mut organization = Organization::new(content.validate().map_err(|e| e.to_string())?, at);
    organization.id = generator.id(at);
    Ok(organization)
}

fn load_centers(
    conn: &mut DbConn,
    generator: &mut Generator,
    count: usize,
    exchanges: &[Exchange],
    batch: usize,
    now: DateTime<Utc>,
) -> Result<(), String> {
    for chunk in (0..count).collect::<Vec<_>>().chunks(batch) {
        let planned: Vec<(Center, &Exchange)> = chunk
            .iter()
            .map(|&n| {
                let exchange = &exchanges[n % exchanges.len()];
                let body: centers_dto::CenterContent =
                    serde_json::from_value(generator.center(n)).map_err(|e| format!("center {n}: {e}"))?;
                let valid =
                    body.into_domain(exchange.organization.id).validate().map_err(|e| format!("center {n}: {e}"))?;
                let mut center = Center::new(valid, now);
                center.id = generator.id(now);
                Ok((center, exchange))
            })
            .collect::<Result<_, String>>()?;
        db::write(conn, |conn| {
            planned
                .iter()
                .try_for_each(|(c, exchange)| kit::create(conn, c, &exchange.author, |conn| centers::insert(conn, c)))
        })
        .map_err(|e: StoreError| e.to_string())?;
    }
    Ok(())
}

/// A failed load, told in words; a transaction's own errors become one too.
struct Failed(String);

impl From<StoreError> for Failed {
    fn from(error: StoreError) -> Self {
        Failed(error.to_string())
    }
}

impl From<String> for Failed {
    fn from(message: String) -> Self {
        Failed(message)
    }
}
