//! Sending webhook deliveries: a worker on every server follows the change log into deliveries
//! (the relay, one server at a time) and sends the due ones it leases, each a `POST` signed the
//! Standard Webhooks way, retried on the [`RetrySchedule`] and recorded attempt by attempt.
//! A subscription is turned off after [`WebhookSettings::disable_after`] consecutive failed
//! deliveries.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use techex_domain::webhook::{RetrySchedule, TargetPolicy, secret_key, signature_header};
use techex_persistence::change_log::Author;
use techex_persistence::webhooks::{self, Attempt, Claimed, Next, Webhook, WebhookWrite};
use techex_persistence::{Db, DbConn, StoreError};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::clock::Clock;
use crate::kit;

/// How webhooks are sent.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// What subscriptions may target besides public `https` hosts.
    pub targets: TargetPolicy,
    pub retries: RetrySchedule,
    /// Consecutive failed deliveries (each with its retries spent) after which a subscription
    /// is turned off.
    pub disable_after: i64,
    /// How long a rotated-out secret still signs deliveries beside the new one.
    pub rotation_overlap: chrono::Duration,
    /// How often a server looks for deliveries to make and send.
    pub interval: Duration,
    /// The longest wait for a receiver's connection.
    pub connect_timeout: Duration,
    /// The longest a whole delivery (connect, send, answer) may take.
    pub timeout: Duration,
}

impl WebhookSettings {
    /// How long a worker holds a delivery it is about to send: the send's timeout and a margin.
    /// A killed server's deliveries are due again this long after it last took one (15 s).
    pub fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.timeout + LEASE_MARGIN).unwrap_or(chrono::Duration::minutes(5))
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            targets: TargetPolicy::default(),
            retries: RetrySchedule::default(),
            disable_after: 5,
            rotation_overlap: chrono::Duration::hours(24),
            interval: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The most of a receiver's answer read (and then dropped).
const ANSWER_MAX_BYTES: u64 = 16 * 1024;
/// Changes the relay reads per transaction.
const RELAY_BATCH: i64 = 500;
/// Deliveries a worker leases at a time.
const CLAIM_BATCH: i64 = 10;
/// How long a delivery's lease outlasts its send's timeout, for the attempt to be recorded.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// The most deliveries one pass sends, so that a pass ends.
const PASS_MAX_SENDS: usize = 200;
/// The longest error text kept with an attempt.
const ERROR_MAX_CHARS: usize = 300;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Changes of the log turned into deliveries.
    pub relayed: usize,
    pub delivered: usize,
    pub failed_attempts: usize,
}

/// Makes and sends deliveries; one per server, or several in a test.
pub struct Worker {
    db: Db,
    clock: Clock,
    settings: WebhookSettings,
    agent: ureq::Agent,
    /// Set when the server stops: no further delivery is sent.
    stopping: AtomicBool,
    /// Wakes [`deliver_periodically`] from its wait between passes when the server stops.
    stopped: tokio::sync::Notify,
}

impl Worker {
    pub fn new(db: Db, clock: Clock, settings: WebhookSettings) -> Worker {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(settings.connect_timeout))
            .timeout_global(Some(settings.timeout))
            .http_status_as_error(false)
            // A redirect could lead anywhere, inside the network too: it is a failure.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent("techex-webhooks/1")
            // Straight to the target: through a proxy, the addresses checked would be the proxy's.
            .proxy(None)
            .build();
        let resolver = CheckedResolver { targets: settings.targets, inner: DefaultResolver::default() };
        let agent = ureq::Agent::with_parts(config, DefaultConnector::new(), resolver);
        Worker { db, clock, settings, agent, stopping: AtomicBool::new(false), stopped: tokio::sync::Notify::new() }
    }

    /// Stops the worker: the delivery being sent is finished and recorded, the others it leased
    /// are given back at once (another server sends them without waiting for the lease to run
    /// out), and [`deliver_periodically`] returns.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stopped.notify_one();
    }

    /// Whether [`Worker::stop`] was called.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Relays the new changes of the log, then sends every due delivery this worker can lease
    /// (up to a bound). Blocking: run it off the async runtime.
    pub fn run_once(&self) -> Result<Pass, StoreError> {
        let mut conn = self.db.conn()?;
        let mut pass = Pass::default();
        loop {
            let read = webhooks::relay(&mut conn, self.clock.now(), RELAY_BATCH)?;
            pass.relayed += read;
            if (read as i64) < RELAY_BATCH {
                break;
            }
        }
        let lease = self.settings.lease();
        let mut sent = 0;
        while sent < PASS_MAX_SENDS && !self.is_stopping() {
            let mut claimed = webhooks::claim(&mut conn, self.clock.now(), lease, CLAIM_BATCH)?;
            if claimed.is_empty() {
                break;
            }
            for index in 0..claimed.len() {
                if self.is_stopping() {
                    webhooks::release(&mut conn, &claimed[index..])?;
                    break;
                }
                let delivery = &mut claimed[index];
                // A batch takes a while to send: its subscription may have been deleted or turned
                // off since the claim.
                if !webhooks::still_wanted(&mut conn, delivery)? {
                    continue;
                }
                // Each send gets a lease of its own, so that a killed server's deliveries wait
                // one lease, not a batch's; one that ran out meanwhile is another worker's now.
                if !webhooks::renew(&mut conn, delivery, self.clock.now() + lease)? {
                    continue;
                }
                sent += 1;
                if self.deliver(&mut conn, delivery)? {
                    pass.delivered += 1;
                } else {
                    pass.failed_attempts += 1;
                }
            }
        }
        Ok(pass)
    }

    /// Sends one leased delivery and records how it went; `true` when it was delivered.
    fn deliver(&self, conn: &mut DbConn, delivery: &Claimed) -> Result<bool, StoreError> {
        let at = self.clock.now();
        let started = Instant::now();
        let (status_code, error) = self.send(delivery, at.timestamp());
        let attempt = Attempt {
            attempt: delivery.attempt,
            at,
            status_code,
            error,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        };
        let delivered = status_code.is_some_and(|code| (200..300).contains(&code));
        let next = if delivered {
            Next::Delivered
        } else {
            let jitter = f64::from(uuid::Uuid::now_v7().as_bytes()[15]) / 256.0;
            let failed = u32::try_from(delivery.attempt).unwrap_or(u32::MAX);
            match self.settings.retries.delay(failed, jitter) {
                Some(delay) => Next::RetryAt(at + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX)),
                None => Next::GiveUp,
            }
        };
        let Some(failures) = webhooks::record(conn, delivery, &attempt, next)? else {
            // Deleted while it was being sent: nothing left to record or to turn off.
            return Ok(delivered);
        };
        if next == Next::GiveUp && failures >= self.settings.disable_after {
            self.disable(conn, delivery.webhook_id, at)?;
        }
        Ok(delivered)
    }

    fn disable(&self, conn: &mut DbConn, id: uuid::Uuid, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
        let disabled = kit::modify(conn, id, &Author::system(), |_, webhook: &mut Webhook| {
            if !webhook.is_enabled() {
                return Ok(WebhookWrite::Unchanged);
            }
            webhook.disabled_at = Some(at);
            webhook.version += 1;
            webhook.updated_at = at;
            Ok::<_, StoreError>(WebhookWrite::Disabled)
        });
        match disabled {
            Ok(webhook) => {
                log::warn!("webhook {} turned off after {} failed deliveries", webhook.id, self.settings.disable_after);
                Ok(())
            }
            // Deleted meanwhile, or changed by its owner: nothing to turn off now.
            Err(StoreError::NotFound(_) | StoreError::VersionConflict(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// One `POST`: the receiver's status, or why there was none. The target's name is resolved
    /// first and refused if it leads into an internal network the operator did not allow.
    fn send(&self, delivery: &Claimed, timestamp: i64) -> (Option<u16>, Option<String>) {
        let keys: Vec<Vec<u8>> = delivery.secrets.iter().filter_map(|s| secret_key(s)).collect();
        let id = delivery.id.to_string();
        let signature = signature_header(&keys, &id, timestamp, delivery.body.as_bytes());
        let sent = self
            .agent
            .post(&delivery.url)
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header("content-type", "application/json")
            .send(delivery.body.as_bytes());
        match sent {
            Ok(mut answer) => {
                let status = answer.status().as_u16();
                // Read (a bounded part of) the answer so the connection can be reused; its
                // words are the receiver's and are not kept.
                let _ = answer.body_mut().with_config().limit(ANSWER_MAX_BYTES).read_to_vec();
                let error = (!(200..300).contains(&status)).then(|| format!("the receiver answered {status}"));
                (Some(status), error)
            }
            Err(error) => (None, Some(error.to_string().chars().take(ERROR_MAX_CHARS).collect())),
        }
    }
}

/// Resolves a target's name as ureq would, and refuses the lot if one address is internal and
/// the policy does not allow it. The connection is made to exactly the addresses checked here:
/// a name that answers with a public address to a check and an internal one to the connection a
/// moment later (DNS rebinding) cannot lead a delivery into the network.
#[derive(Debug)]
struct CheckedResolver {
    targets: TargetPolicy,
    inner: DefaultResolver,
}

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addresses = self.inner.resolve(uri, config, timeout)?;
        if addresses.iter().any(|address| !self.targets.allows_address(address.ip())) {
            let refused = "the target resolves to an internal address";
            return Err(ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::PermissionDenied, refused)));
        }
        Ok(addresses)
    }
}

/// Runs the worker every [`WebhookSettings::interval`] until [`Worker::stop`]; returns once the
/// pass under way, if any, has finished.
pub async fn deliver_periodically(worker: std::sync::Arc<Worker>) {
    let mut interval = actix_web::rt::time::interval(worker.settings.interval);
    loop {
        let tick = std::pin::pin!(interval.tick());
        let stopped = std::pin::pin!(worker.stopped.notified());
        futures_util::future::select(tick, stopped).await;
        if worker.is_stopping() {
            return;
        }
        let worker = worker.clone();
        match actix_web::web::block(move || worker.run_once()).await {
            Ok(Ok(pass)) if pass.delivered + pass.failed_attempts > 0 => {
                log::info!("webhooks: {} delivered, {} attempts failed", pass.delivered, pass.failed_attempts)
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => log::error!("sending webhooks failed: {error}"),
            Err(error) => log::error!("sending webhooks failed: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The addresses a connection is made to are those the policy passed: a name that resolves
    /// into the network is refused by the resolver itself, not by an earlier separate lookup.
    #[test]
    fn the_resolver_hands_over_only_allowed_addresses() {
        let config = ureq::config::Config::default();
        let resolve = |allow_private: bool, url: &str| {
            let resolver =
                CheckedResolver { targets: TargetPolicy { allow_private }, inner: DefaultResolver::default() };
            resolver.resolve(&url.parse().unwrap(), &config, NextTimeout::default())
        };
        for url in ["https://localhost/", "http://127.0.0.1:8080/hook", "https://[::1]/", "https://10.0.0.1/"] {
            let refused = resolve(false, url).unwrap_err();
            assert!(refused.to_string().contains("internal address"), "{url}: {refused}");
        }
        let allowed = resolve(true, "http://127.0.0.1:8080/hook").unwrap();
        assert_eq!(allowed.iter().map(|a| a.to_string()).collect::<Vec<_>>(), ["127.0.0.1:8080"]);
        let public = resolve(false, "https://8.8.8.8/").unwrap();
        assert_eq!(public.iter().map(|a| a.to_string()).collect::<Vec<_>>(), ["8.8.8.8:443"]);
    }
}
