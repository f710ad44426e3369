//! Webhooks, the Standard Webhooks way: how a delivery is signed, which addresses a subscription
//! may target, and when a failed delivery is tried again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What every signing secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a generated secret.
pub const SECRET_BYTES: usize = 32;

/// A secret as shown to its subscriber: `whsec_` and the base64 of its bytes.
pub fn format_secret(bytes: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The key bytes of a `whsec_` secret, `None` when it is not one.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok().filter(|key| !key.is_empty())
}

/// One `webhook-signature` entry: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`
/// keyed with the secret's bytes.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per key, space-separated (two while a rotated
/// secret's predecessor is still honoured).
pub fn signature_header(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter().map(|key| sign(key, id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// Whether a subscription's event type (`*`, `listing.*` or `listing.publish`) takes `event`.
pub fn event_matches(pattern: &str, event: &str) -> bool {
    pattern == "*"
        || pattern == event
        || pattern.strip_suffix(".*").is_some_and(|entity| event.split_once('.').is_some_and(|(e, _)| e == entity))
}

/// When a delivery that failed is tried again: after each failed attempt, the next delay of the
/// schedule, give or take a tenth (so that receivers that failed together are not retried in
/// one burst); once the schedule is spent the delivery has failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

impl Default for RetrySchedule {
    /// 5 s, 30 s, 2 min, 10 min, 1 h, 6 h, 12 h, 24 h: eight retries over about two days.
    fn default() -> Self {
        RetrySchedule(
            [5, 30, 120, 600, 3600, 6 * 3600, 12 * 3600, 24 * 3600].into_iter().map(Duration::from_secs).collect(),
        )
    }
}

impl RetrySchedule {
    /// The wait after `failed` failed attempts (1 for the first), `None` when no retry is left.
    /// `jitter` in `[0, 1)` picks the point in the ±10% window.
    pub fn delay(&self, failed: u32, jitter: f64) -> Option<Duration> {
        let base = *self.0.get(usize::try_from(failed).ok()?.checked_sub(1)?)?;
        let factor = 0.9 + 0.2 * jitter.clamp(0.0, 1.0);
        Some(base.mul_f64(factor))
    }
}

/// Why a target URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetRefused {
    TooLong,
    /// Not an absolute `https://` (or `http://`) URL with a host.
    Malformed,
    /// Plain `http` to a host other than the local machine.
    NotHttps,
    /// An address inside a private, loopback, link-local or otherwise internal network.
    PrivateAddress,
}

/// The longest target URL.
pub const URL_MAX_LENGTH: usize = 2000;

/// What may be targeted beyond public `https` hosts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Internal addresses (loopback, private, link-local) may be targeted, and plain `http` to
    /// loopback: for a hub whose receivers live in its own network, and for tests.
    pub allow_private: bool,
}

impl TargetPolicy {
    /// Checks a target as written: its form, scheme, and host when the host is an address. A
    /// name is checked again on each delivery against the addresses it resolves to (see
    /// [`TargetPolicy::allows_address`]).
    pub fn check(&self, url: &str) -> Result<(), TargetRefused> {
        if url.len() > URL_MAX_LENGTH {
            return Err(TargetRefused::TooLong);
        }
        let (scheme, rest) = url.split_once("://").ok_or(TargetRefused::Malformed)?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(TargetRefused::Malformed);
        }
        let host = host_of(authority).ok_or(TargetRefused::Malformed)?;
        let address = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        let loopback = address.is_some_and(|a| a.is_loopback()) || host.eq_ignore_ascii_case("localhost");
        match scheme {
            "https" => {}
            "http" if loopback && self.allow_private => {}
            "http" => return Err(TargetRefused::NotHttps),
            _ => return Err(TargetRefused::Malformed),
        }
        if (loopback || address.is_some_and(is_internal)) && !self.allow_private {
            return Err(TargetRefused::PrivateAddress);
        }
        Ok(())
    }

    /// Whether a delivery may connect to this address (one a target's name resolved to).
    pub fn allows_address(&self, address: IpAddr) -> bool {
        self.allow_private || !is_internal(address)
    }
}

/// The host of `host[:port]` or `[v6]:port`, if it has one that is well formed.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        (&authority[..=end], authority[end + 1..].strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if port.is_some_and(|p| p.is_empty() || p.parse::<u16>().is_err()) {
        return None;
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']');
    (!host.is_empty() && host.chars().all(valid)).then_some(host)
}

/// Loopback, private, link-local, shared, unspecified, multicast, documentation or broadcast:
/// anything that is not a host on the public internet.
pub fn is_internal(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => internal_v4(v4),
            None => internal_v6(v6),
        },
    }
}

fn internal_v4(a: Ipv4Addr) -> bool {
    let [first, second, ..] = a.octets();
    a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_multicast()
        || a.is_broadcast()
        || a.is_documentation()
        || first == 0
        || (first == 100 && (64..128).contains(&second))
        || (first == 192 && second == 0 && a.octets()[2] == 0)
        || (first == 198 && (second & 0xfe) == 18)
        || first >= 240
}

fn internal_v6(a: Ipv6Addr) -> bool {
    let segments = a.segments();
    let first = segments[0];
    // Addresses that carry an IPv4 one and lead to it: IPv4-compatible (`::a.b.c.d`), NAT64
    // (`64:ff9b::/96`) and 6to4 (`2002::/16`); each is as internal as the address it carries.
    let embedded = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    let carried = if segments[..6] == [0; 6] || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        Some(embedded(segments[6], segments[7]))
    } else if first == 0x2002 {
        Some(embedded(segments[1], segments[2]))
    } else {
        None
    };
    a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        || carried.is_some_and(internal_v4)
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || first == 0x2001 && segments[1] == 0x0db8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification; checked independently with
    /// `base64.b64encode(hmac.new(base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    /// b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}', hashlib.sha256).digest())`.
    #[test]
    fn signs_the_specification_example() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_header_carries_one_signature_per_key() {
        let keys = vec![b"new".to_vec(), b"old".to_vec()];
        let header = signature_header(&keys, "id", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts, [sign(b"new", "id", 1, b"{}"), sign(b"old", "id", 1, b"{}")]);
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn secrets_round_trip_and_others_are_refused() {
        let secret = format_secret(&[7; SECRET_BYTES]);
        assert!(secret.starts_with("whsec_"));
        assert_eq!(secret_key(&secret), Some(vec![7; SECRET_BYTES]));
        for bad in ["", "whsec_", "whsec_!!", "sk_AAAA"] {
            assert_eq!(secret_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn event_types_match_exactly_by_entity_or_all() {
        assert!(event_matches("*", "contract.update"));
        assert!(event_matches("listing.*", "listing.publish"));
        assert!(event_matches("listing.publish", "listing.publish"));
        assert!(!event_matches("listing.publish", "listing.withdraw"));
        assert!(!event_matches("listing.*", "listings.publish"));
        assert!(!event_matches("list*", "listing.publish"));
    }

    #[test]
    fn retries_follow_the_schedule_within_a_tenth() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.delay(1, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(schedule.delay(1, 0.0), Some(Duration::from_millis(4500)));
        assert_eq!(schedule.delay(2, 1.0), Some(Duration::from_secs(33)));
        assert_eq!(schedule.delay(8, 0.5), Some(Duration::from_secs(24 * 3600)));
        assert_eq!(schedule.delay(9, 0.5), None);
        assert_eq!(schedule.delay(0, 0.5), None);
    }

    #[test]
    fn targets_are_public_https_unless_the_operator_allows_internal_ones() {
        let strict = TargetPolicy::default();
        assert_eq!(strict.check("https://hooks.example.vn/techex"), Ok(()));
        assert_eq!(strict.check("https://hooks.example.vn:8443/a?b=c"), Ok(()));
        assert_eq!(strict.check("https://203.0.113.1/"), Err(TargetRefused::PrivateAddress));
        assert_eq!(strict.check("https://8.8.8.8/"), Ok(()));
        for internal in [
            "https://127.0.0.1/",
            "https://localhost/",
            "https://10.1.2.3/",
            "https://192.168.1.1/",
            "https://172.16.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://0.0.0.0/",
            "https://100.64.0.1/",
        ] {
            assert_eq!(strict.check(internal), Err(TargetRefused::PrivateAddress), "{internal}");
        }
        assert_eq!(strict.check("http://hooks.example.vn/"), Err(TargetRefused::NotHttps));
        assert_eq!(strict.check("http://127.0.0.1:8080/"), Err(TargetRefused::NotHttps));
        for malformed in
            ["hooks.example.vn", "ftp://x.vn/", "https://", "https://user@x.vn/", "https://x.vn:99999/", "https://a b/"]
        {
            assert_eq!(strict.check(malformed), Err(TargetRefused::Malformed), "{malformed}");
        }
        assert_eq!(strict.check(&format!("https://x.vn/{}", "a".repeat(URL_MAX_LENGTH))), Err(TargetRefused::TooLong));
        let open = TargetPolicy { allow_private: true };
        assert_eq!(open.check("http://127.0.0.1:8080/hook"), Ok(()));
        assert_eq!(open.check("https://10.1.2.3/"), Ok(()));
        assert_eq!(open.check("http://10.1.2.3/"), Err(TargetRefused::NotHttps));
        assert!(!strict.allows_address("10.0.0.1".parse().unwrap()));
        for internal in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.255.254",
            "10.255.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.169.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:0a00:0001::1",
            "fc00::1",
            "fdff:ffff::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "2001:db8::1",
        ] {
            assert!(!strict.allows_address(internal.parse().unwrap()), "{internal}");
            assert!(open.allows_address(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "198.20.0.1",
            "223.255.255.254",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
        ] {
            assert!(strict.allows_address(public.parse().unwrap()), "{public}");
        }
        assert!(strict.allows_address("8.8.8.8".parse().unwrap()));
        assert!(open.allows_address("10.0.0.1".parse().unwrap()));
    }
}
