//! The clients that bearer tokens name, kept in memory on PostgreSQL so that a request with a
//! token costs no extra round trip, without delaying a revocation.
//!
//! Every change of an `api_clients` row, by whatever process, notifies the channel
//! [`CHANNEL`] in its transaction (a trigger), and PostgreSQL delivers the notice when it commits.
//! One connection of each server listens; a client's entry is dropped on its notice, and before
//! any entry is trusted the notices already received are read (a non-blocking read of the
//! listener's socket). A write made by this process also drops the entry itself right after its
//! commit ([`ClientCache::forget`]), so the same server refuses the very next request; another
//! server refuses once the notice reaches it, as fast as PostgreSQL delivers it.
//!
//! While the listener is not connected (at start, after a lost connection, during an outage) the
//! cache is bypassed and emptied: notices may have been missed, so nothing cached is trusted, and
//! every check reads the row as it did before. A read that raced with a change is not kept: entries
//! carry the generation they were read in, and every notice starts a new one.
//!
//! On SQLite the cache is always bypassed: the check is a read of the embedded file, with no round
//! trip to save, and the file can be written by another process (`techex clients revoke`) that
//! could not tell this one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use techex_domain::client::ApiClient;
use uuid::Uuid;

/// The channel the `api_clients` trigger notifies, with the client's id as payload.
pub const CHANNEL: &str = "techex_clients";

/// How many clients are kept at most; past it the cache starts over, which only costs reads.
const CAPACITY: usize = 10_000;

/// How often the listener reads notices when no request does, and retries a lost connection.
const POLL: Duration = Duration::from_millis(200);

/// Shared by every clone of a [`crate::Db`].
#[derive(Clone)]
pub(crate) struct ClientCache {
    state: Option<Arc<State>>,
}

struct State {
    url: String,
    started: AtomicBool,
    listener: Mutex<Option<PgConnection>>,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    /// Whether a listener is connected: entries are kept and trusted only then.
    listening: bool,
    /// Bumped by every notice and every loss of the listener.
    generation: u64,
    clients: HashMap<Uuid, ApiClient>,
}

impl Entries {
    fn invalidate(&mut self, id: Option<Uuid>) {
        self.generation += 1;
        match id {
            Some(id) => {
                self.clients.remove(&id);
            }
            None => self.clients.clear(),
        }
    }
}

impl ClientCache {
    /// A cache fed by the notices of the PostgreSQL database at `url`.
    pub(crate) fn postgres(url: &str) -> ClientCache {
        ClientCache {
            state: Some(Arc::new(State {
                url: url.to_owned(),
                started: AtomicBool::new(false),
                listener: Mutex::new(None),
                entries: Mutex::new(Entries::default()),
            })),
        }
    }

    /// A cache that never keeps anything.
    pub(crate) fn bypassed() -> ClientCache {
        ClientCache { state: None }
    }

    /// The client, if it is cached and the cache can be trusted now.
    pub(crate) fn lookup(&self, id: Uuid) -> Option<ApiClient> {
        let state = self.state.as_ref()?;
        state.start();
        state.drain();
        let entries = state.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.listening.then(|| entries.clients.get(&id).cloned()).flatten()
    }

    /// The generation a read of the database starts in, to [`ClientCache::keep`] its answer.
    pub(crate) fn generation(&self) -> Option<u64> {
        let entries = self.state.as_ref()?.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.listening.then_some(entries.generation)
    }

    /// Keeps a client read in `generation`, unless a change was noticed since.
    pub(crate) fn keep(&self, generation: u64, client: &ApiClient) {
        let Some(state) = &self.state else { return };
        let mut entries = state.entries.lock().unwrap_or_else(|e| e.into_inner());
        if !entries.listening || entries.generation != generation {
            return;
        }
        if entries.clients.len() >= CAPACITY {
            entries.clients.clear();
        }
        entries.clients.insert(client.id, client.clone());
    }

    /// Drops a client this process has just changed (after the commit).
    pub(crate) fn forget(&self, id: Uuid) {
        if let Some(state) = &self.state {
            state.entries.lock().unwrap_or_else(|e| e.into_inner()).invalidate(Some(id));
        }
    }
}

impl State {
    /// Starts the listener thread on first use, so that commands that check no token open no
    /// listening connection. The thread ends when the last clone of the cache is dropped.
    fn start(self: &Arc<State>) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let state = Arc::downgrade(self);
        let spawned = std::thread::Builder::new().name("techex-client-notices".into()).spawn(move || listen(state));
        if let Err(error) = spawned {
            log::error!("cannot start the client notice listener, checking every token in the database: {error}");
        }
    }

    /// Applies the notices received so far; on an error, drops the listener and every entry.
    fn drain(&self) {
        let mut listener = self.listener.lock().unwrap_or_else(|e| e.into_inner());
        let Some(conn) = listener.as_mut() else { return };
        let mut lost = false;
        let mut changed = Vec::new();
        for notice in conn.notifications_iter() {
            match notice {
                Ok(notice) => changed.push(notice.payload.parse::<Uuid>().ok()),
                Err(error) => {
                    log::warn!("lost the client notice listener, checking every token in the database: {error}");
                    lost = true;
                    break;
                }
            }
        }
        if lost {
            *listener = None;
        }
        if !lost && changed.is_empty() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        for id in changed {
            // A payload that is no client id drops everything rather than nothing.
            entries.invalidate(id);
        }
        if lost {
            entries.listening = false;
            entries.invalidate(None);
        }
    }

    fn connect(&self) -> Result<(), String> {
        let mut conn = PgConnection::establish(&self.url).map_err(|e| e.to_string())?;
        diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn).map_err(|e| e.to_string())?;
        *self.listener.lock().unwrap_or_else(|e| e.into_inner()) = Some(conn);
        // Changes made before the LISTEN took effect were not notified: start from nothing.
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.invalidate(None);
        entries.listening = true;
        Ok(())
    }
}

/// The listener thread: connects (again) when needed and reads notices while no request does.
fn listen(state: Weak<State>) {
    let mut failing = false;
    while let Some(state) = state.upgrade() {
        let connected = state.listener.lock().unwrap_or_else(|e| e.into_inner()).is_some();
        if connected {
            state.drain();
        } else {
            match state.connect() {
                Ok(()) if failing => {
                    failing = false;
                    log::info!("listening to client changes again; caching the client check");
                }
                Ok(()) => {}
                Err(error) if !failing => {
                    failing = true;
                    log::warn!("cannot listen to client changes, checking every token in the database: {error}");
                }
                Err(_) => {}
            }
        }
        drop(state);
        std::thread::sleep(POLL);
    }
}
