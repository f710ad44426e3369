//! Rate limits: per API client for authenticated requests (provinces sit behind shared NATs, so
//! an address says little), per IP address for anonymous ones. Two limiters, each passing the
//! other's requests through, so each class has its own quota.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use actix_governor::governor::NotUntil;
use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::governor::middleware::NoOpMiddleware;
use actix_governor::{GovernorConfig, GovernorConfigBuilder, KeyExtractor, SimpleKeyExtractionError};
use actix_web::dev::ServiceRequest;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use crate::auth::token_guard::retry_after_seconds;

use crate::auth::KeySet;
use crate::auth::caller::{Bearer, bearer};

/// Requests a caller may make per minute, and how many at once after a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub per_minute: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    Client(String),
    Address(IpAddr),
    /// Counted by the other limiter.
    Elsewhere,
}

/// The client id of a request whose bearer token verifies; `None` for anonymous requests and
/// for tokens that do not verify (those are refused later, and counted per address until then).
fn verified_client(keys: &KeySet, req: &ServiceRequest) -> Option<String> {
    match bearer(req.request(), keys) {
        Bearer::Verified(claims) => Some(claims.sub),
        Bearer::Absent | Bearer::Invalid => None,
    }
}

/// What one limiter counts: requests of verified clients, each client apart, or anonymous
/// requests, each address apart. Each passes the other's requests through.
#[derive(Clone)]
enum Counted {
    Clients,
    /// With the reverse proxies whose `X-Forwarded-For` names the caller.
    Addresses(Arc<Vec<IpAddr>>),
}

/// The key a request is counted under by one of the two limiters.
#[derive(Clone)]
pub struct CallerKey {
    keys: Arc<KeySet>,
    counted: Counted,
}

/// The address a request comes from. Behind a trusted reverse proxy that is the last address
/// in `X-Forwarded-For` that is not itself a trusted proxy; anyone else's `X-Forwarded-For` is
/// ignored, so it cannot be used to dodge the limit.
pub fn client_address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> IpAddr {
    let peer = req.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded.into_iter().rev().find(|address| !trusted_proxies.contains(address)).unwrap_or(peer)
}

impl KeyExtractor for CallerKey {
    type Key = RateKey;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<RateKey, Self::KeyExtractionError> {
        Ok(match (&self.counted, verified_client(&self.keys, req)) {
            (Counted::Clients, Some(client)) => RateKey::Client(client),
            (Counted::Addresses(proxies), None) => RateKey::Address(client_address(req.request(), proxies)),
            _ => RateKey::Elsewhere,
        })
    }

    fn whitelisted_keys(&self) -> Vec<RateKey> {
        vec![RateKey::Elsewhere]
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        response: HttpResponseBuilder,
    ) -> HttpResponse {
        too_many_requests(negative, response)
    }
}

/// The 429 of both limiters, with `Retry-After` rounded up to whole seconds (the limiter's own
/// rounds down, to 0 within the last second). The body becomes problem+json on the way out.
fn too_many_requests(negative: &NotUntil<QuantaInstant>, mut response: HttpResponseBuilder) -> HttpResponse {
    let wait = retry_after_seconds(negative.wait_time_from(DefaultClock::default().now()));
    response
        .insert_header(("retry-after", wait))
        .insert_header(("x-ratelimit-after", wait))
        .content_type(ContentType::plaintext())
        .body(format!("too many requests; retry in {wait} s"))
}

/// Both limiters; built once per process so every worker shares the counts.
#[derive(Clone)]
pub struct RateLimits {
    pub clients: GovernorConfig<CallerKey, NoOpMiddleware>,
    pub addresses: GovernorConfig<CallerKey, NoOpMiddleware>,
    trusted_proxies: Arc<Vec<IpAddr>>,
}

fn config<K: KeyExtractor>(key: K, quota: Quota) -> GovernorConfig<K, NoOpMiddleware> {
    let per_request_ms = (60_000 / u64::from(quota.per_minute.max(1))).max(1);
    GovernorConfigBuilder::default()
        .milliseconds_per_request(per_request_ms)
        .burst_size(quota.burst.max(1))
        .key_extractor(key)
        .finish()
        .expect("a positive rate and burst make a valid quota")
}

impl RateLimits {
    /// `trusted_proxies`: the reverse proxies whose `X-Forwarded-For` names the caller.
    pub fn new(keys: Arc<KeySet>, clients: Quota, anonymous: Quota, trusted_proxies: Vec<IpAddr>) -> Self {
        let trusted_proxies = Arc::new(trusted_proxies);
        let addresses = CallerKey { keys: keys.clone(), counted: Counted::Addresses(trusted_proxies.clone()) };
        RateLimits {
            clients: config(CallerKey { keys, counted: Counted::Clients }, clients),
            addresses: config(addresses, anonymous),
            trusted_proxies,
        }
    }

    /// The reverse proxies whose `X-Forwarded-For` names the caller.
    pub fn trusted_proxies(&self) -> TrustedProxies {
        TrustedProxies(self.trusted_proxies.clone())
    }
}

/// The reverse proxies whose `X-Forwarded-For` names the caller, for handlers that need the
/// caller's address.
#[derive(Clone)]
pub struct TrustedProxies(pub Arc<Vec<IpAddr>>);
