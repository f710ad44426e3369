//! Rate limits: per API client for authenticated requests (provinces sit behind shared NATs, so
//! an address says little), per IP address for anonymous ones, each class with its own quota.
//!
//! Every answer tells the caller where it stands, in the fields of
//! draft-ietf-httpapi-ratelimit-headers (revision 11): `RateLimit-Policy: "client";q=30;w=15`
//! (30 requests per 15 seconds, all 30 of which may come at once) and
//! `RateLimit: "client";r=29;t=1` (29 left now; within 1 second at least one more comes back).
//! A 429 says `r=0`, with `t` equal to its `Retry-After`.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{ContentType, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota as Gcra, RateLimiter};

use crate::auth::KeySet;
use crate::auth::caller::{Bearer, bearer};
use crate::auth::token_guard::retry_after_seconds;

/// Requests a caller may make per minute, and how many at once after a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub per_minute: u32,
    pub burst: u32,
}

impl Quota {
    /// The interval after which one more request is allowed.
    fn per_request(self) -> Duration {
        Duration::from_millis((60_000 / u64::from(self.per_minute.max(1))).max(1))
    }

    fn burst_size(self) -> NonZeroU32 {
        NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RateKey {
    Client(String),
    Address(IpAddr),
}

type Limiter = RateLimiter<RateKey, DefaultKeyedStateStore<RateKey>, DefaultClock, StateInformationMiddleware>;

/// One class of callers: its quota, the name its answers announce, and the counts.
struct Policy {
    name: &'static str,
    /// The interval after which one more request is allowed.
    interval: Duration,
    burst: NonZeroU32,
    limiter: Limiter,
}

impl Policy {
    fn new(name: &'static str, quota: Quota) -> Self {
        Policy::every(name, quota.per_request(), quota.burst_size())
    }

    fn every(name: &'static str, interval: Duration, burst: NonZeroU32) -> Self {
        let gcra =
            Gcra::with_period(interval).expect("a quota's interval is at least a millisecond").allow_burst(burst);
        Policy {
            name,
            interval,
            burst,
            limiter: RateLimiter::keyed(gcra).with_middleware::<StateInformationMiddleware>(),
        }
    }

    /// Whole seconds until one more request is allowed.
    fn next_in(&self) -> u64 {
        self.interval.as_secs_f64().ceil() as u64
    }

    /// Writes the policy (the burst as the quota `q`, over the window `w` in which that many
    /// come back, so `q / w` is the sustained rate) and the caller's standing under it.
    fn announce(&self, headers: &mut HeaderMap, remaining: u32, next_in: u64) {
        for (field, value) in self.fields(remaining, next_in) {
            headers.insert(field, value);
        }
    }

    fn fields(&self, remaining: u32, next_in: u64) -> Vec<(HeaderName, HeaderValue)> {
        let burst = self.burst.get();
        let window = ((self.interval * burst).as_secs_f64().ceil() as u64).max(1);
        [
            (HeaderName::from_static("ratelimit-policy"), format!("\"{}\";q={burst};w={window}", self.name)),
            (HeaderName::from_static("ratelimit"), format!("\"{}\";r={remaining};t={next_in}", self.name)),
        ]
        .into_iter()
        .filter_map(|(field, value)| HeaderValue::from_str(&value).ok().map(|value| (field, value)))
        .collect()
    }
}

/// Both limiters; built once per process so every worker shares the counts.
#[derive(Clone)]
pub struct RateLimits {
    keys: Arc<KeySet>,
    clients: Arc<Policy>,
    addresses: Arc<Policy>,
    senders: SenderLimit,
    trusted_proxies: Arc<Vec<IpAddr>>,
}

impl RateLimits {
    /// `trusted_proxies`: the reverse proxies whose `X-Forwarded-For` names the caller.
    pub fn new(keys: Arc<KeySet>, clients: Quota, anonymous: Quota, trusted_proxies: Vec<IpAddr>) -> Self {
        let trusted_proxies = Arc::new(trusted_proxies);
        RateLimits {
            keys,
            clients: Arc::new(Policy::new("client", clients)),
            addresses: Arc::new(Policy::new("address", anonymous)),
            senders: SenderLimit::new(HourlyQuota::default(), trusted_proxies.clone()),
            trusted_proxies,
        }
    }

    /// These limits with `quota` for anonymous senders of expressions of interest.
    pub fn with_sender_quota(mut self, quota: HourlyQuota) -> Self {
        self.senders = SenderLimit::new(quota, self.trusted_proxies.clone());
        self
    }

    /// The stricter limit of anonymous senders of expressions of interest.
    pub fn senders(&self) -> SenderLimit {
        self.senders.clone()
    }

    /// The reverse proxies whose `X-Forwarded-For` names the caller.
    pub fn trusted_proxies(&self) -> TrustedProxies {
        TrustedProxies(self.trusted_proxies.clone())
    }

    /// The policy a request is counted under, and its key there: a verified client by its id;
    /// anyone else (anonymous, or a token that does not verify, refused later) by address.
    fn counting(&self, req: &ServiceRequest) -> (&Policy, RateKey) {
        match bearer(req.request(), &self.keys) {
            Bearer::Verified(claims) => (&self.clients, RateKey::Client(claims.sub)),
            Bearer::Absent | Bearer::Invalid => {
                (&self.addresses, RateKey::Address(client_address(req.request(), &self.trusted_proxies)))
            }
        }
    }
}

/// Counts every request against its caller's quota: over it, a 429 with `Retry-After` rounded up
/// to whole seconds; within it, the answer. Both carry `RateLimit-Policy` and `RateLimit`.
pub async fn limit(
    limits: RateLimits,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (policy, key) = limits.counting(&req);
    match policy.limiter.check_key(&key) {
        Ok(snapshot) => {
            let mut response = next.call(req).await?.map_into_boxed_body();
            // A handler that refused under a policy of its own (see [`SenderLimit`]) announced it.
            if !response.headers().contains_key("ratelimit-policy") {
                policy.announce(response.headers_mut(), snapshot.remaining_burst_capacity(), policy.next_in());
            }
            Ok(response)
        }
        Err(negative) => {
            let wait = retry_after_seconds(negative.wait_time_from(policy.limiter.clock().now()));
            // The body becomes problem+json on the way out.
            let mut response = HttpResponse::TooManyRequests()
                .insert_header((RETRY_AFTER, wait))
                .content_type(ContentType::plaintext())
                .body(format!("too many requests; retry in {wait} s"));
            // The draft wants Retry-After no earlier than the end of `t`.
            policy.announce(response.headers_mut(), 0, wait);
            Ok(req.into_response(response))
        }
    }
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

/// The reverse proxies whose `X-Forwarded-For` names the caller, for handlers that need the
/// caller's address.
#[derive(Clone)]
pub struct TrustedProxies(pub Arc<Vec<IpAddr>>);

/// Requests a caller may make per hour, and how many at once after a pause: the quota of an
/// endpoint that people, not programs, call (`TECHEX_INTEREST_RATE_LIMIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourlyQuota {
    pub per_hour: u32,
    pub burst: u32,
}

/// Five per hour per address, all five at once.
impl Default for HourlyQuota {
    fn default() -> Self {
        HourlyQuota { per_hour: 5, burst: 5 }
    }
}

/// The stricter quota of anonymous senders of expressions of interest, per address, on top of
/// the quota every anonymous request counts against: a form anyone can post must not become a
/// way to flood publishers. Announced as the policy `"interest"`.
#[derive(Clone)]
pub struct SenderLimit {
    policy: Arc<Policy>,
    trusted_proxies: Arc<Vec<IpAddr>>,
}

/// Why a request was refused under a handler's own policy: when to come back, and the fields
/// that announce the policy.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub retry_after: u64,
    pub fields: Vec<(HeaderName, HeaderValue)>,
}

impl SenderLimit {
    fn new(quota: HourlyQuota, trusted_proxies: Arc<Vec<IpAddr>>) -> Self {
        let interval = Duration::from_millis((3_600_000 / u64::from(quota.per_hour.max(1))).max(1));
        let burst = NonZeroU32::new(quota.burst).unwrap_or(NonZeroU32::MIN);
        SenderLimit { policy: Arc::new(Policy::every("interest", interval, burst)), trusted_proxies }
    }

    /// Counts one request of the address `req` comes from; over the quota, when to come back.
    pub fn check(&self, req: &HttpRequest) -> Result<(), Refusal> {
        let key = RateKey::Address(client_address(req, &self.trusted_proxies));
        match self.policy.limiter.check_key(&key) {
            Ok(_) => Ok(()),
            Err(negative) => {
                let retry_after = retry_after_seconds(negative.wait_time_from(self.policy.limiter.clock().now()));
                Err(Refusal { retry_after, fields: self.policy.fields(0, retry_after) })
            }
        }
    }
}
