//! `techex-bench`: loads a generated national-scale data set into a techex database (SQLite or
//! PostgreSQL) for the benchmark suite in `bench/run`.
//!
//! Records go through the same domain rules, repositories and change-log writes as the API's
//! (`kit::create`), many to a transaction, so the search index, filter rows and change log are
//! exactly what the API would have written. One difference: a listing is logged once, as created
//! in its final status, where a portal would log its create, submit and publish as three changes.

mod generate;

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use clap::Parser;
use techex_api::kit;
use techex_api::routes::{centers_dto, listings_dto};
use techex_api::usecases::register_client;
use techex_domain::access::Scope;
use techex_domain::center::Center;
use techex_domain::organization::{Organization, OrganizationContent, OrganizationKind};
use techex_domain::values::LocalizedText;
use techex_domain::{LifecycleAction, Listing, ListingContent};
use techex_persistence::change_log::Author;
use techex_persistence::{Db, StoreError, centers, db, listings, organizations};

use crate::generate::Generator;

#[derive(Parser)]
#[command(about = "Load a generated techex data set for benchmarks")]
struct Args {
    /// `sqlite://path` or `postgres://...`; migrated first.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// How many listings (up to 1,000,000 and beyond).
    #[arg(long, default_value_t = 100_000)]
    listings: u64,
    /// One organization (an exchange with its API client) per this many listings.
    #[arg(long, default_value_t = 1_000)]
    listings_per_organization: u64,
    /// One application center per this many listings.
    #[arg(long, default_value_t = 200)]
    listings_per_center: u64,
    /// Records written per transaction.
    #[arg(long, default_value_t = 2_000)]
    batch: usize,
    #[arg(long, default_value_t = 14)]
    seed: u64,
    /// Where to write the first exchange's client id, secret and source exchange code (JSON), for
    /// the token and batch scenarios.
    #[arg(long)]
    credentials: Option<std::path::PathBuf>,
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

struct Exchange {
    organization: Organization,
    author: Author,
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let db = Db::connect(&args.database_url, 2).map_err(|e| format!("cannot open the database: {e}"))?;
    db.migrate().map_err(|e| format!("cannot migrate: {e}"))?;
    let now = techex_domain::now();
    let mut generator = Generator::new(args.seed);
    let started = Instant::now();

    let organization_count = args.listings.div_ceil(args.listings_per_organization).max(1) as usize;
    let (exchanges, credentials) = load_exchanges(&db, &mut generator, organization_count, now)?;
    if let Some(path) = &args.credentials {
        std::fs::write(path, credentials.to_string()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }

    // Listings are dated over the past two years, oldest first, so `newest` pages and date
    // filters meet a realistic spread.
    let span = Duration::days(730).num_seconds() as u64;
    let step = (span / args.listings.max(1)).max(1) as i64;
    let first = now - Duration::seconds(step * args.listings as i64);
    let mut written = 0u64;
    while written < args.listings {
        let batch_end = (written + args.batch as u64).min(args.listings);
        let mut batch = Vec::with_capacity(args.batch);
        for n in written..batch_end {
            let exchange = &exchanges[(n % exchanges.len() as u64) as usize];
            let at = first + Duration::seconds(step * n as i64);
            batch.push((listing(&mut generator, n, exchange, at, now)?, exchange));
        }
        let mut conn = db.conn().map_err(|e| e.to_string())?;
        db::write(&mut conn, |conn| {
            batch
                .iter()
                .try_for_each(|(l, exchange)| kit::create(conn, l, &exchange.author, |conn| listings::insert(conn, l)))
        })
        .map_err(|e: StoreError| e.to_string())?;
        written = batch_end;
        if written % 50_000 < args.batch as u64 || written == args.listings {
            let rate = written as f64 / started.elapsed().as_secs_f64();
            eprintln!("{written} listings ({rate:.0}/s)");
        }
    }

    let center_count = args.listings.div_ceil(args.listings_per_center) as usize;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    for chunk in (0..center_count).collect::<Vec<_>>().chunks(args.batch) {
        let planned: Vec<(Center, &Exchange)> = chunk
            .iter()
            .map(|&n| {
                let exchange = &exchanges[n % exchanges.len()];
                let body: centers_dto::CenterContent =
                    serde_json::from_value(generator.center(n)).map_err(|e| format!("center {n}: {e}"))?;
                let valid =
                    body.into_domain(exchange.organization.id).validate().map_err(|e| format!("center {n}: {e}"))?;
                Ok((Center::new(valid, now), exchange))
            })
            .collect::<Result<_, String>>()?;
        db::write(&mut conn, |conn| {
            planned
                .iter()
                .try_for_each(|(c, exchange)| kit::create(conn, c, &exchange.author, |conn| centers::insert(conn, c)))
        })
        .map_err(|e: StoreError| e.to_string())?;
    }
    eprintln!(
        "loaded {} listings, {organization_count} exchanges and {center_count} centers in {:.1} s",
        args.listings,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A published listing (one in twenty left as a draft) as portal `exchange` would have written
/// it at `at`, validated as the API validates a request at `now`.
fn listing(
    generator: &mut Generator,
    n: u64,
    exchange: &Exchange,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Listing, String> {
    let body: listings_dto::ListingContent =
        serde_json::from_value(generator.listing(n, now)).map_err(|e| format!("listing {n}: {e}"))?;
    let valid = ListingContent::from(body).validate(now).map_err(|e| format!("listing {n}: {e}"))?;
    let mut listing = Listing::draft(valid, Some(exchange.organization.id), at);
    if !n.is_multiple_of(20) {
        for action in [LifecycleAction::Submit, LifecycleAction::Publish] {
            listing.apply(action, at).map_err(|e| format!("listing {n}: {e}"))?;
        }
    }
    Ok(listing)
}

/// The exchanges, each with a client that may write and publish listings and read the feed;
/// the first client's credentials as JSON.
fn load_exchanges(
    db: &Db,
    generator: &mut Generator,
    count: usize,
    now: DateTime<Utc>,
) -> Result<(Vec<Exchange>, serde_json::Value), String> {
    let scopes =
        BTreeSet::from([Scope::ListingsWrite, Scope::ListingsPublish, Scope::ChangesRead, Scope::CentersWrite]);
    let operator = Author::command_line();
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let loaded = db::write(&mut conn, |conn| {
        let mut exchanges = Vec::with_capacity(count);
        let mut credentials = serde_json::Value::Null;
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
            let organization = Organization::new(content.validate().map_err(|e| format!("exchange {n}: {e}"))?, now);
            kit::create(conn, &organization, &operator, |conn| organizations::insert(conn, &organization))?;
            let (client, secret) = register_client(conn, organization.id, "Cổng thông tin", scopes.clone(), &operator)
                .map_err(|e| format!("client of exchange {n}: {e:?}"))?;
            if n == 0 {
                credentials =
                    serde_json::json!({ "client_id": client.id, "client_secret": secret, "source_exchange": source });
            }
            exchanges.push(Exchange { author: Author::client(client.id, organization.id), organization });
        }
        Ok::<_, Failed>((exchanges, credentials))
    });
    loaded.map_err(|Failed(message)| message)
}
