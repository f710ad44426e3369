//! `techex-bench`: loads a generated national-scale data set into a techex database (SQLite or
//! PostgreSQL) for the benchmark suite in `bench/run`. See [`techex_bench::load`].

use std::cell::Cell;
use std::time::Instant;

use clap::Parser;
use techex_bench::load::{self, Options, Path};
use techex_persistence::Db;

#[derive(Parser)]
#[command(about = "Load a generated techex data set for benchmarks")]
struct Args {
    /// `sqlite://path` or `postgres://...`; migrated first.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// How many listings (up to 1,000,000 and beyond).
    #[arg(long, default_value_t = 100_000)]
    listings: u64,
    /// One exchange (with its API client) per this many listings.
    #[arg(long, default_value_t = 1_000)]
    listings_per_organization: u64,
    /// One contracting organization (company, university, institute) per this many listings.
    #[arg(long, default_value_t = 200)]
    listings_per_party: u64,
    /// One transfer contract per this many listings; 0 for none.
    #[arg(long, default_value_t = 20)]
    listings_per_contract: u64,
    /// One application center per this many listings.
    #[arg(long, default_value_t = 200)]
    listings_per_center: u64,
    /// Listings written per transaction.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    #[arg(long, default_value_t = 14)]
    seed: u64,
    /// The time the data set is made at (RFC 3339; default: now): listings are dated over the
    /// two years before it. The same seed and time give the same data, ids included.
    #[arg(long)]
    now: Option<chrono::DateTime<chrono::Utc>>,
    /// Write listings and contracts one at a time through the API's writes (`kit::create`)
    /// instead of in bulk: slower, for comparison.
    #[arg(long)]
    api_writes: bool,
    /// Where to write the first exchange's client id, secret and source exchange code (JSON), for
    /// the token and batch scenarios.
    #[arg(long)]
    credentials: Option<std::path::PathBuf>,
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let db = Db::connect(&args.database_url, 2).map_err(|e| format!("cannot open the database: {e}"))?;
    let options = Options {
        listings: args.listings,
        listings_per_exchange: args.listings_per_organization,
        listings_per_party: args.listings_per_party,
        listings_per_contract: args.listings_per_contract,
        listings_per_center: args.listings_per_center,
        batch: args.batch,
        seed: args.seed,
    };
    let path = if args.api_writes { Path::Api } else { Path::Bulk };
    let started = Instant::now();
    let reported = Cell::new(Instant::now());
    let progress = move |line: String| {
        // The rate at most every 5 s.
        if reported.get().elapsed().as_secs() >= 5 || !line.ends_with("/s)") {
            eprintln!("{:6.1} s  {line}", started.elapsed().as_secs_f64());
            reported.set(Instant::now());
        }
    };
    let loaded = load::load(&db, &options, path, args.now.unwrap_or_else(techex_domain::now), &progress)?;
    if let Some(file) = &args.credentials {
        std::fs::write(file, loaded.credentials.to_string())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "loaded {} listings, {} contracts, {} organizations and {} centers in {seconds:.1} s \
         ({:.0} listings/s; indexes built in {:.1} s)",
        args.listings,
        loaded.contracts,
        loaded.organizations,
        loaded.centers,
        args.listings as f64 / seconds,
        loaded.index_seconds
    );
    Ok(())
}
