//! What bounds the cost of `POST /v1/auth/token` to the server, whoever calls it and however
//! often: a fixed number of secret verifications at a time (the rest wait briefly, then hear
//! 503), and failed attempts counted per client id and per address (past the limit, 429 until
//! the window ends). Database connections are never held while a secret is checked.
//!
//! Verifications run on threads of their own, as many as may run at once. An argon2 check (the
//! hashes of earlier versions) takes 19 MiB; the allocator keeps what a thread freed for that
//! thread, so on the shared blocking pool a burst left tens of threads each holding 19 MiB.
//! On a fixed few threads the memory is reused, and the burst leaves the server as it found it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use std::sync::mpsc;

use tokio::sync::{Semaphore, oneshot};
use uuid::Uuid;

/// How the token endpoint limits its work; the defaults suit a 2-core server.
#[derive(Debug, Clone, Copy)]
pub struct TokenGuardConfig {
    /// Secret verifications running at once, server-wide.
    pub concurrent_verifications: usize,
    /// How long a request waits for a verification slot before it is told to come back.
    pub queue_wait: Duration,
    /// Failed attempts allowed per client id, and per address, within `failure_window`.
    pub failures_per_client: u32,
    pub failures_per_address: u32,
    pub failure_window: Duration,
}

impl Default for TokenGuardConfig {
    fn default() -> Self {
        TokenGuardConfig {
            concurrent_verifications: 2,
            queue_wait: Duration::from_secs(2),
            failures_per_client: 10,
            failures_per_address: 30,
            failure_window: Duration::from_secs(60),
        }
    }
}

/// Why a token request was turned away before its secret was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnedAway {
    /// Every verification slot stayed busy for the whole wait; retry after this long.
    Busy(Duration),
    /// Too many failed attempts for this client id or address; retry after this long.
    TooManyFailures(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Attempter {
    Client(Uuid),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Entries kept at most per kind of counter; when full, expired windows are dropped, and if none
/// has expired, new attempters go uncounted (the verification slots still bound their cost).
const TRACKED_MAX: usize = 100_000;

type Job = Box<dyn FnOnce() + Send>;

pub struct TokenGuard {
    config: TokenGuardConfig,
    slots: Semaphore,
    /// Hands verifications to the verifier threads; they end when the guard goes.
    verifiers: Mutex<mpsc::Sender<Job>>,
    running: AtomicUsize,
    peak: AtomicUsize,
    failures: Mutex<HashMap<Attempter, Window>>,
}

impl TokenGuard {
    pub fn new(config: TokenGuardConfig) -> Self {
        let threads = config.concurrent_verifications.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("techex-verify-{i}"))
                .spawn(move || {
                    loop {
                        let next = queue.lock().map(|queue| queue.recv());
                        match next {
                            Ok(Ok(job)) => job(),
                            _ => break,
                        }
                    }
                })
                .expect("the operating system starts a verifier thread");
        }
        TokenGuard {
            verifiers: Mutex::new(jobs),
            slots: Semaphore::new(threads),
            config,
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Refuses a client id or an address that failed too often lately.
    pub fn admit(&self, client: Option<Uuid>, address: IpAddr) -> Result<(), TurnedAway> {
        let now = Instant::now();
        let failures = self.failures.lock().expect("failure counts are never left poisoned");
        let blocked = |who: Attempter, limit: u32| {
            failures.get(&who).and_then(|window| {
                let elapsed = now.duration_since(window.started);
                (elapsed < self.config.failure_window && window.failures >= limit)
                    .then(|| self.config.failure_window - elapsed)
            })
        };
        let wait = [
            client.and_then(|id| blocked(Attempter::Client(id), self.config.failures_per_client)),
            blocked(Attempter::Address(address), self.config.failures_per_address),
        ]
        .into_iter()
        .flatten()
        .max();
        match wait {
            Some(wait) => Err(TurnedAway::TooManyFailures(wait)),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt against the client id (when it named one) and the address.
    pub fn record_failure(&self, client: Option<Uuid>, address: IpAddr) {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("failure counts are never left poisoned");
        let attempters = client.map(Attempter::Client).into_iter().chain([Attempter::Address(address)]);
        for who in attempters {
            if failures.len() >= TRACKED_MAX && !failures.contains_key(&who) {
                let window = self.config.failure_window;
                failures.retain(|_, w| now.duration_since(w.started) < window);
                if failures.len() >= TRACKED_MAX {
                    continue;
                }
            }
            let entry = failures.entry(who).or_insert(Window { started: now, failures: 0 });
            if now.duration_since(entry.started) >= self.config.failure_window {
                *entry = Window { started: now, failures: 0 };
            }
            entry.failures += 1;
        }
    }

    /// A client that proved its secret starts afresh (its address does not: other callers may
    /// share it).
    pub fn record_success(&self, client: Uuid) {
        self.failures.lock().expect("failure counts are never left poisoned").remove(&Attempter::Client(client));
    }

    /// Runs `verify` on a verifier thread once a verification slot is free, waiting at most the
    /// configured time for one.
    pub async fn verify<T: Send + 'static>(
        &self,
        verify: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, VerifyError> {
        let permit = tokio::time::timeout(self.config.queue_wait, self.slots.acquire())
            .await
            .map_err(|_| VerifyError::TurnedAway(TurnedAway::Busy(Duration::from_secs(1))))?
            .map_err(|_| VerifyError::Failed("the verification slots are closed".into()))?;
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(running, Ordering::SeqCst);
        let (done, outcome) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(verify());
        });
        let handed = self.verifiers.lock().map_err(|_| ()).and_then(|jobs| jobs.send(job).map_err(|_| ()));
        let outcome = match handed {
            Ok(()) => outcome.await.map_err(|_| VerifyError::Failed("a verifier thread stopped".into())),
            Err(()) => Err(VerifyError::Failed("the verifier threads are gone".into())),
        };
        self.running.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
        outcome
    }

    /// Takes every verification slot until the value is dropped, as if that many verifications
    /// were running: what a flood of slow verifications does to the requests behind it, on
    /// demand (for drills and tests).
    pub async fn occupy_all_slots(&self) -> impl Drop + '_ {
        let slots = u32::try_from(self.config.concurrent_verifications.max(1)).unwrap_or(u32::MAX);
        self.slots.acquire_many(slots).await.expect("the verification slots are never closed")
    }

    /// The most verifications that ever ran at once in this process.
    pub fn peak_concurrent_verifications(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    pub fn config(&self) -> TokenGuardConfig {
        self.config
    }
}

#[derive(Debug)]
pub enum VerifyError {
    TurnedAway(TurnedAway),
    Failed(String),
}

/// Whole seconds to put in `Retry-After`: rounded up, at least 1.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(failures_per_client: u32, failures_per_address: u32) -> TokenGuard {
        TokenGuard::new(TokenGuardConfig {
            failures_per_client,
            failures_per_address,
            failure_window: Duration::from_secs(60),
            ..TokenGuardConfig::default()
        })
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_never_zero() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(999)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(59)), 59);
    }

    #[test]
    fn failures_are_counted_per_client_id_and_per_address() {
        let guard = guard(3, 5);
        let (client, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (here, there): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(guard.admit(Some(client), here), Ok(()));
            guard.record_failure(Some(client), here);
        }
        assert!(matches!(guard.admit(Some(client), there), Err(TurnedAway::TooManyFailures(_))), "per client id");
        assert_eq!(guard.admit(Some(other), here), Ok(()), "the address has failures left");
        guard.record_failure(Some(other), here);
        guard.record_failure(None, here);
        assert!(matches!(guard.admit(None, here), Err(TurnedAway::TooManyFailures(_))), "per address");
        assert_eq!(guard.admit(Some(other), there), Ok(()));
        guard.record_success(client);
        assert_eq!(guard.admit(Some(client), there), Ok(()), "a proven secret starts afresh");
    }

    #[actix_web::test]
    async fn no_more_than_the_configured_verifications_run_at_once() {
        let guard = std::sync::Arc::new(TokenGuard::new(TokenGuardConfig {
            concurrent_verifications: 2,
            queue_wait: Duration::from_secs(30),
            ..TokenGuardConfig::default()
        }));
        let runs: Vec<_> = (0..12)
            .map(|_| {
                let guard = guard.clone();
                actix_web::rt::spawn(
                    async move { guard.verify(|| std::thread::sleep(Duration::from_millis(20))).await },
                )
            })
            .collect();
        for run in runs {
            assert!(run.await.unwrap().is_ok());
        }
        assert_eq!(guard.peak_concurrent_verifications(), 2);
    }

    #[actix_web::test]
    async fn verifications_run_on_the_guards_own_few_threads() {
        let guard = TokenGuard::new(TokenGuardConfig { concurrent_verifications: 2, ..TokenGuardConfig::default() });
        let mut names = std::collections::BTreeSet::new();
        for _ in 0..20 {
            let name = guard.verify(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
            names.insert(name.unwrap_or_default());
        }
        assert!(names.iter().all(|n| n.starts_with("techex-verify-")), "{names:?}");
        assert!(names.len() <= 2, "{names:?}");
    }

    #[actix_web::test]
    async fn a_request_that_waits_too_long_for_a_slot_is_told_to_retry() {
        let guard = TokenGuard::new(TokenGuardConfig {
            concurrent_verifications: 1,
            queue_wait: Duration::from_millis(1),
            ..TokenGuardConfig::default()
        });
        let held = guard.slots.acquire().await.unwrap();
        let outcome = guard.verify(|| ()).await;
        assert!(matches!(outcome, Err(VerifyError::TurnedAway(TurnedAway::Busy(_)))));
        drop(held);
        assert!(guard.verify(|| ()).await.is_ok());
    }
}
