//! Authentication: OAuth 2.0 client credentials, EdDSA-signed JWT access tokens, the
//! authenticated-caller extractor, rate limits.

pub mod caller;
pub mod keys;
pub mod rate_limit;
pub mod secrets;
pub mod token_guard;

pub use caller::CallerOf;
pub use keys::{Claims, KeySet, TokenError};

/// The lifetimes, in seconds, an operator may give access tokens (`TECHEX_TOKEN_TTL_SECONDS`).
pub const TOKEN_TTL_SECONDS: std::ops::RangeInclusive<i64> = 60..=86400;

/// How long an access token lives.
#[derive(Debug, Clone, Copy)]
pub struct TokenLifetime(pub i64);
