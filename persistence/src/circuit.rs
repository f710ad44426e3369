//! A circuit breaker in front of the PostgreSQL pool, so that an outage costs callers no time.
//!
//! Without it every request during an outage waits the pool's full connection timeout before it
//! fails, tying up a blocking thread each. The pool reports each failed connection attempt here
//! (its error handler); from then on the circuit is open and [`crate::Db::conn`] refuses at once.
//! One background probe at a time tries the database every [`PROBE_INTERVAL`] and closes the
//! circuit as soon as a query succeeds again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often an open circuit checks whether the database is back.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// Whether the database is believed unreachable, shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct Circuit {
    state: Arc<State>,
}

#[derive(Debug, Default)]
struct State {
    open: AtomicBool,
    probing: AtomicBool,
}

impl Circuit {
    pub fn is_open(&self) -> bool {
        self.state.open.load(Ordering::Acquire)
    }

    /// Marks the database unreachable; returns whether the circuit was closed until now.
    pub fn open(&self) -> bool {
        !self.state.open.swap(true, Ordering::AcqRel)
    }

    /// Marks the database reachable again; returns whether the circuit was open until now.
    pub fn close(&self) -> bool {
        self.state.open.swap(false, Ordering::AcqRel)
    }

    /// Runs `probe` every [`PROBE_INTERVAL`] on a thread of its own until it succeeds, then
    /// closes the circuit. At most one probe runs at a time: a call while one runs does nothing.
    pub fn probe_until_closed(&self, probe: impl Fn() -> bool + Send + 'static) {
        if self.state.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let circuit = self.clone();
        let spawned = std::thread::Builder::new().name("techex-db-probe".into()).spawn(move || {
            loop {
                std::thread::sleep(PROBE_INTERVAL);
                if probe() {
                    break;
                }
            }
            // Closed before the probe flag drops, so that no second probe starts for this outage.
            if circuit.close() {
                log::info!("the database answers again; serving requests from it");
            }
            circuit.state.probing.store(false, Ordering::Release);
        });
        if let Err(error) = spawned {
            log::error!("cannot start the database probe: {error}");
            self.state.probing.store(false, Ordering::Release);
        }
    }
}

/// The pool's error handler: a failed connection attempt opens the circuit.
#[derive(Debug)]
pub(crate) struct OpenOnConnectionError(pub Circuit);

impl<E: std::fmt::Display> r2d2::HandleError<E> for OpenOnConnectionError {
    fn handle_error(&self, error: E) {
        if self.0.open() {
            log::error!("cannot connect to the database ({error}); answering 503 until it is back");
        } else {
            log::debug!("still cannot connect to the database: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    fn wait_until(mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition() {
            assert!(Instant::now() < deadline, "the condition never held");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_connection_error_opens_the_circuit_once() {
        let circuit = Circuit::default();
        assert!(!circuit.is_open());
        let handler = OpenOnConnectionError(circuit.clone());
        r2d2::HandleError::handle_error(&handler, "connection refused");
        assert!(circuit.is_open());
        assert!(!circuit.open(), "already open");
        assert!(circuit.close());
        assert!(!circuit.is_open());
        assert!(!circuit.close(), "already closed");
    }

    #[test]
    fn the_probe_closes_the_circuit_when_the_database_answers_again() {
        let circuit = Circuit::default();
        circuit.open();
        let attempts = Arc::new(AtomicUsize::new(0));
        let seen = attempts.clone();
        circuit.probe_until_closed(move || seen.fetch_add(1, Ordering::SeqCst) >= 2);
        // A second caller during the same outage starts no second probe.
        circuit.probe_until_closed(|| panic!("a second probe ran"));
        wait_until(|| !circuit.is_open());
        assert_eq!(attempts.load(Ordering::SeqCst), 3, "probed until the third attempt succeeded");
        wait_until(|| !circuit.state.probing.load(Ordering::Acquire));

        // The next outage gets a probe of its own.
        circuit.open();
        circuit.probe_until_closed(|| true);
        wait_until(|| !circuit.is_open());
    }
}
