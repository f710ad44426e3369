//! Connections and transactions on either backend.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::circuit::{Circuit, OpenOnConnectionError};
use crate::client_cache::ClientCache;
use crate::error::StoreError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

diesel::define_sql_function! {
    /// The `len` characters of `text` from `start` (1-based), in SQLite and PostgreSQL alike.
    fn substr(text: diesel::sql_types::Text, start: diesel::sql_types::Integer, len: diesel::sql_types::Integer) -> diesel::sql_types::Text;
}

/// One connection to whichever backend the URL named.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type PooledConn = PooledConnection<ConnectionManager<DbConn>>;

impl DbConn {
    /// Which backend this connection speaks to, for the few queries written per backend
    /// (full-text search, see [`crate::search`]).
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Pg(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` and `postgresql://` URLs select PostgreSQL; anything else is an SQLite file.
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Per-connection settings. SQLite: without WAL and a busy timeout, concurrent writers fail with
/// `database is locked` instead of waiting their turn; the timeout comes first so that even the
/// switch to WAL waits for connections opened alongside. PostgreSQL: the last word of a search is
/// a prefix, which the GIN index answers by collecting every row holding a word that starts with
/// it into one bitmap (270,000 rows for "nuoc" at 1,000,000 listings); under the default 4 MB of
/// `work_mem` that bitmap goes lossy and every row of its pages is parsed again (955 ms instead of
/// 179 ms in `EXPLAIN ANALYZE`).
#[derive(Debug)]
struct SessionSettings;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        match conn {
            DbConn::Sqlite(sqlite) => sqlite.batch_execute(&format!(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                 PRAGMA synchronous = NORMAL; PRAGMA soft_heap_limit = {SQLITE_HEAP_LIMIT};"
            )),
            DbConn::Pg(pg) => pg.batch_execute("SET work_mem = '32MB'"),
        }
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Bytes of heap SQLite aims to stay under, process-wide, by giving back cached pages: each
/// pooled connection keeps a page cache of up to 2 MB and each sort its own, and under sixteen
/// concurrent searches on 100,000 listings they held 95 MB (heaptrack: `pcache1Alloc`).
/// Pages it gives back are read again from the operating system's file cache. Whole `bench/run`
/// on SQLite, 100,000 listings: peak RSS 66 MB at 16 MB, 60 MB at 8 MB; sixteen concurrent
/// searches alone 17–19 req/s at 16 MB, 13–18 at 8 MB (within the run-to-run noise).
const SQLITE_HEAP_LIMIT: i64 = 8 * 1024 * 1024;

/// How long a request waits for a free connection (or a new one) before it hears 503: short,
/// so that a burst during an outage, before the circuit opens, frees its threads quickly.
pub const CONNECTION_WAIT: Duration = Duration::from_secs(1);

/// The same wait on the embedded SQLite file, which has no outage to shed load for: a request
/// queues behind slower ones (searches, facets, batches waiting for the writer ahead of them)
/// instead of hearing 503 while sixteen callers share ten connections.
pub const SQLITE_CONNECTION_WAIT: Duration = Duration::from_secs(10);

/// The pool of connections the API shares; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<DbConn>>,
    backend: Backend,
    /// Open while PostgreSQL cannot be reached (never for the embedded SQLite file).
    circuit: Circuit,
    /// The clients bearer tokens name, see [`crate::client_cache`].
    pub(crate) clients: ClientCache,
}

impl Db {
    /// Opens a pool on `url` and brings the schema up to date. An SQLite file and its folder are
    /// created when missing.
    pub fn connect(url: &str, pool_size: u32) -> Result<Db, StoreError> {
        let backend = Backend::of_url(url);
        let target = match backend {
            Backend::Postgres => url.to_owned(),
            Backend::Sqlite => {
                let path = url.strip_prefix("sqlite://").unwrap_or(url);
                if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreError::Migration(format!("cannot create {}: {e}", dir.display())))?;
                }
                path.to_owned()
            }
        };
        let circuit = Circuit::default();
        // No `SELECT 1` on check-out: it cost every request a round trip. A connection the
        // server dropped fails its next query as `ClosedConnection` (answered 503 like an outage,
        // see `StoreError::Unreachable`), which leaves libpq's transaction status unknown: diesel
        // then reports the connection broken and the pool replaces it instead of lending it again.
        let mut builder = Pool::builder()
            .max_size(pool_size)
            .test_on_check_out(false)
            .connection_timeout(match backend {
                Backend::Postgres => CONNECTION_WAIT,
                Backend::Sqlite => SQLITE_CONNECTION_WAIT,
            })
            .connection_customizer(Box::new(SessionSettings));
        if backend == Backend::Postgres {
            builder = builder.error_handler(Box::new(OpenOnConnectionError(circuit.clone())));
        }
        let clients = match backend {
            Backend::Postgres => ClientCache::postgres(&target),
            Backend::Sqlite => ClientCache::bypassed(),
        };
        let pool = builder.build(ConnectionManager::<DbConn>::new(target))?;
        let db = Db { pool, backend, circuit, clients };
        db.migrate()?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection from the pool; [`StoreError::Unreachable`] at once while the circuit is open.
    /// A wait for one that runs out is [`StoreError::Busy`] while the database answers (other
    /// requests held every connection), and `Unreachable` when a connection attempt failed
    /// meanwhile (which opens the circuit).
    pub fn conn(&self) -> Result<PooledConn, StoreError> {
        if self.circuit.is_open() {
            let db = self.clone();
            self.circuit.probe_until_closed(move || db.answers());
            return Err(StoreError::Unreachable);
        }
        self.pool.get().map_err(|_| if self.circuit.is_open() { StoreError::Unreachable } else { StoreError::Busy })
    }

    /// Whether a pooled connection runs a query now, bypassing the circuit.
    fn answers(&self) -> bool {
        self.pool.get().is_ok_and(|mut conn| diesel::sql_query("SELECT 1").execute(&mut *conn).is_ok())
    }

    /// Applies the migrations this binary carries that the database lacks.
    pub fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
        }
        .map_err(|e| StoreError::Migration(e.to_string()))?;
        if applied > 0 {
            log::info!("applied {applied} migration(s) on {}", self.backend.as_str());
            let filled = crate::listings::fill_search_titles(&mut conn)?;
            if filled > 0 {
                log::info!("folded the titles of {filled} listing(s) for search");
            }
        }
        Ok(())
    }

    /// Whether the database answers a query now; for readiness probes.
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        diesel::sql_query("SELECT 1").execute(&mut *conn)?;
        Ok(())
    }
}

/// Runs `work` in one write transaction: committed when it returns `Ok`, rolled back otherwise.
///
/// Use cases open it and pass the connection to every repository write they make, so writes to
/// several records commit or fail together. Called inside an open transaction, it nests as a
/// savepoint: its work is undone alone when it fails, and kept only if the outer one commits.
/// The outer one also marks the `Idempotency-Key` its request holds (if any) as committed.
///
/// SQLite transactions open with `BEGIN IMMEDIATE`, taking the write lock up front: a deferred
/// transaction that reads and then writes fails at once when another writer went first, instead
/// of waiting for the busy timeout. Before that, the writers of one process queue for the file
/// in the process (see [`sqlite_writers`]), so that a long queue of large batches waits its turn
/// instead of running out SQLite's busy timeout (`database is locked`).
pub fn write<T, E>(conn: &mut DbConn, work: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<StoreError>,
{
    let nested = in_transaction(conn).map_err(StoreError::from)?;
    let queue = match &mut *conn {
        DbConn::Sqlite(c) if !nested => Some(sqlite_writers(c)?),
        _ => None,
    };
    let _turn = match &queue {
        Some(queue) => Some(queue.try_lock_for(SQLITE_WRITE_WAIT).ok_or(StoreError::Busy)?),
        None => None,
    };
    match (&mut *conn, nested) {
        (DbConn::Sqlite(c), true) => AnsiTransactionManager::begin_transaction(c),
        (DbConn::Pg(c), true) => AnsiTransactionManager::begin_transaction(c),
        (DbConn::Sqlite(c), false) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        (DbConn::Pg(c), false) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN"),
    }
    .map_err(StoreError::from)?;
    // The request this thread runs for, if it came with an `Idempotency-Key`, is marked as
    // committed with its write (see `crate::idempotency`).
    let outcome = work(conn).and_then(|value| {
        if !nested {
            crate::idempotency::mark_committed(conn)?;
        }
        Ok(value)
    });
    let end = match (&outcome, &mut *conn) {
        (Ok(_), DbConn::Sqlite(c)) => AnsiTransactionManager::commit_transaction(c),
        (Ok(_), DbConn::Pg(c)) => AnsiTransactionManager::commit_transaction(c),
        (Err(_), DbConn::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(c),
        (Err(_), DbConn::Pg(c)) => AnsiTransactionManager::rollback_transaction(c),
    };
    match (outcome, end) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(commit_error)) => Err(StoreError::from(commit_error).into()),
        (Err(error), Err(rollback_error)) => {
            log::error!("rollback failed after an aborted write: {rollback_error}");
            Err(error)
        }
        (Err(error), Ok(())) => Err(error),
    }
}

/// Runs the reads of `work` in one read-only transaction, so that they see one state of the
/// database: on PostgreSQL `REPEATABLE READ` (under the default each statement sees what was
/// committed before it began), on SQLite a deferred transaction (one WAL snapshot from its first
/// read). Inside an open transaction, `work` runs in it.
pub fn snapshot<T>(
    conn: &mut DbConn,
    work: impl FnOnce(&mut DbConn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if in_transaction(conn)? {
        return work(conn);
    }
    match &mut *conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN DEFERRED"),
        DbConn::Pg(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        }
    }?;
    let outcome = work(conn);
    // Nothing was written: ending it either way releases the snapshot.
    let end = match &mut *conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::commit_transaction(c),
        DbConn::Pg(c) => AnsiTransactionManager::commit_transaction(c),
    };
    let value = outcome?;
    end?;
    Ok(value)
}

/// How long a write waits for the SQLite writers ahead of it in this process.
pub const SQLITE_WRITE_WAIT: Duration = Duration::from_secs(30);

/// The queue of this process's writers to the SQLite file `conn` is open on: SQLite takes one
/// writer at a time per file, and its busy handler polls instead of queueing.
fn sqlite_writers(conn: &mut SqliteConnection) -> Result<Arc<parking_lot::Mutex<()>>, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Attached {
        #[diesel(sql_type = diesel::sql_types::Text)]
        file: String,
    }
    static QUEUES: LazyLock<parking_lot::Mutex<HashMap<String, Arc<parking_lot::Mutex<()>>>>> =
        LazyLock::new(Default::default);
    let file = diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .get_result::<Attached>(conn)?
        .file;
    Ok(QUEUES.lock().entry(file).or_default().clone())
}

/// Whether a transaction is open on the connection.
pub fn in_transaction(conn: &mut DbConn) -> Result<bool, diesel::result::Error> {
    let status = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
        DbConn::Pg(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
    };
    Ok(status?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The errors of `writers` threads, each holding a write on a fresh SQLite file with
    /// `pool_size` pooled connections for `hold`.
    fn concurrent_sqlite_writes(pool_size: u32, writers: usize, hold: Duration) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("techex-writers-{}", uuid::Uuid::now_v7()));
        let db = Db::connect(dir.join("hub.db").to_str().unwrap(), pool_size).unwrap();
        let threads: Vec<_> = (0..writers)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut conn = db.conn()?;
                    write(&mut conn, |_| {
                        std::thread::sleep(hold);
                        Ok::<_, StoreError>(())
                    })
                })
            })
            .collect();
        let outcomes: Vec<Result<(), StoreError>> = threads.into_iter().map(|w| w.join().unwrap()).collect();
        std::fs::remove_dir_all(dir).unwrap();
        outcomes.iter().filter_map(|o| o.as_ref().err().map(|e| e.to_string())).collect()
    }

    /// The page caches of SQLite are bounded together, whichever connection opened first.
    #[test]
    fn sqlite_connections_share_one_bound_on_their_memory() {
        #[derive(diesel::QueryableByName)]
        struct Limit {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            soft_heap_limit: i64,
        }
        let dir = std::env::temp_dir().join(format!("techex-heap-{}", uuid::Uuid::now_v7()));
        let db = Db::connect(dir.join("hub.db").to_str().unwrap(), 2).unwrap();
        let limit: Limit = diesel::sql_query("PRAGMA soft_heap_limit").get_result(&mut *db.conn().unwrap()).unwrap();
        assert_eq!(limit.soft_heap_limit, SQLITE_HEAP_LIMIT);
        drop(db);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Sixteen writers, each holding the file for longer than SQLite's busy timeout divided
    /// among them: SQLite's busy handler alone would fail the last ones with `database is locked`.
    #[test]
    fn sqlite_writers_of_one_process_wait_their_turn_past_the_busy_timeout() {
        let failed = concurrent_sqlite_writes(16, 16, Duration::from_millis(400));
        assert!(failed.is_empty(), "{failed:?}");
    }

    /// Four writers on two pooled connections, each holding its connection longer than
    /// PostgreSQL's wait for one: on the embedded file they queue instead of hearing 503.
    #[test]
    fn sqlite_requests_queue_for_a_pooled_connection_longer_than_postgresql_ones() {
        let failed = concurrent_sqlite_writes(2, 4, CONNECTION_WAIT + Duration::from_millis(200));
        assert!(failed.is_empty(), "{failed:?}");
    }
}
