//! The `techex` command line: every setting has an environment variable and a default that works
//! on a fresh machine.

use clap::{Parser, Subcommand};

const AFTER_HELP: &str = "Logging follows RUST_LOG (default: info), e.g. RUST_LOG=debug or RUST_LOG=techex_api=debug,actix_web=warn.\n\
Any URL starting with postgres:// or postgresql:// selects PostgreSQL; anything else is an SQLite file.";

#[derive(Debug, Parser)]
#[command(name = "techex", version, about = "The data hub of Vietnam's Southeast technology exchanges", after_help = AFTER_HELP)]
pub struct Cli {
    /// Database URL: an SQLite file path, or postgres://user@host/db.
    #[arg(long, global = true, env = "TECHEX_DATABASE_URL", default_value = "data/techex.db")]
    pub database_url: String,

    /// Connections kept in the database pool.
    #[arg(long, global = true, env = "TECHEX_DB_POOL_SIZE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub pool_size: u32,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default command).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document and exit.
    Openapi {
        /// `3.1` (the contract) or `3.0` (the same contract for older client generators).
        #[arg(long = "spec-version", default_value = "3.1", value_parser = ["3.1", "3.0"])]
        spec_version: String,
    },
    /// Load data into an empty database.
    Seed {
        /// The demo exchange, its API client and the demo listings.
        #[arg(long, required = true)]
        demo: bool,
    },
    /// Register organizations (the first step of letting a party in).
    #[command(subcommand)]
    Orgs(OrgsCommand),
    /// Manage API clients: the way the first operator gets in.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Mirror another hub's organizations, centers and published listings from its change feed.
    Sync(SyncArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct SyncArgs {
    /// The other hub's address, e.g. https://techex.dongnai.gov.vn (without /v1).
    #[arg(long, value_parser = parse_public_url)]
    pub from: String,

    /// An API client of the other hub holding `changes:read`.
    #[arg(long, env = "TECHEX_SYNC_CLIENT_ID")]
    pub client_id: String,

    /// Its secret; better given in the environment than on the command line (shell history).
    #[arg(long, env = "TECHEX_SYNC_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: String,

    /// Catch up once and exit (the default).
    #[arg(long, conflicts_with = "follow")]
    pub once: bool,

    /// Keep following the other hub's feed, polling every `--interval` seconds once caught up.
    #[arg(long)]
    pub follow: bool,

    /// Seconds between polls with `--follow`.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub interval: u64,

    /// Changes asked for per page, each page applied in one transaction.
    #[arg(long, default_value_t = crate::sync::PAGE_SIZE, value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub page_size: i64,
}

#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// Register an organization (and, optionally, its first client) and print its id.
    Create {
        /// exchange, st_department, application_center, enterprise, university, research_institute or other.
        #[arg(long)]
        kind: String,
        /// Vietnamese name.
        #[arg(long)]
        name_vi: String,
        /// English name.
        #[arg(long)]
        name_en: Option<String>,
        /// Province code, current or pre-2025.
        #[arg(long)]
        province: String,
        /// Vietnamese tax code (mã số thuế).
        #[arg(long)]
        tax_code: Option<String>,
        /// A short name under which the organization pushes records (`source.exchange`), e.g.
        /// dongnai; repeat for several. Nobody else may write listings under it.
        #[arg(long = "source-exchange")]
        source_exchanges: Vec<String>,
        /// Also register the organization's first API client under this name, in the same
        /// transaction: both are registered or neither. Its secret is printed once.
        #[arg(long, requires = "client_scopes")]
        client_name: Option<String>,
        /// The first client's space-separated scopes, e.g. "listings:write listings:publish".
        #[arg(long, requires = "client_name")]
        client_scopes: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Register a client and print its id and secret (shown this once).
    Create {
        /// The organization the client acts for.
        #[arg(long)]
        organization: uuid::Uuid,
        #[arg(long)]
        name: String,
        /// Space-separated scopes, e.g. "admin" or "listings:write listings:publish".
        #[arg(long)]
        scopes: String,
    },
    /// List clients, without secrets.
    List {
        #[arg(long)]
        organization: Option<uuid::Uuid>,
    },
    /// Give a client a new secret and print it; the old one stops working.
    Rotate { id: uuid::Uuid },
    /// Revoke a client: no more tokens, and its tokens stop working.
    Revoke { id: uuid::Uuid },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "TECHEX_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "TECHEX_WORKERS")]
    pub workers: Option<usize>,

    /// Load the demo data when the embedded SQLite database is empty: `auto` or `off`.
    #[arg(long, env = "TECHEX_DEMO_DATA", default_value = "auto", value_parser = ["auto", "off"])]
    pub demo_data: String,

    /// Where a generated signing key is kept when none is configured.
    #[arg(long, env = "TECHEX_DATA_DIR", default_value = "data")]
    pub data_dir: std::path::PathBuf,

    /// Comma-separated PKCS#8 PEM files of Ed25519 keys that sign access tokens: the first signs,
    /// all verify (put a new key first to rotate). Every server of one hub needs the same files.
    #[arg(long, env = "TECHEX_SIGNING_KEYS", value_delimiter = ',')]
    pub signing_keys: Vec<String>,

    /// The algorithm of the key generated when TECHEX_SIGNING_KEYS names none: EdDSA (Ed25519)
    /// or ES256 (P-256, which .NET and Java verify out of the box). With key files, the first
    /// file's kind decides.
    #[arg(long, env = "TECHEX_SIGNING_ALGORITHM", default_value = "EdDSA", value_parser = ["EdDSA", "ES256"])]
    pub signing_algorithm: String,

    /// The base URL the hub is reached at from outside, e.g. https://techex.example.vn: named in
    /// the OpenAPI `servers` and the OAuth metadata, and the default token issuer.
    #[arg(long, env = "TECHEX_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// The `iss` of access tokens (default: TECHEX_PUBLIC_URL, or `techex` without one).
    #[arg(long, env = "TECHEX_TOKEN_ISSUER")]
    pub token_issuer: Option<String>,

    /// Seconds a request body may take to arrive in full; slower ones get 408.
    #[arg(long, env = "TECHEX_BODY_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_seconds: u64,

    /// Seconds the requests in flight get to finish after SIGTERM before the server drops them
    /// and exits.
    #[arg(long, env = "TECHEX_SHUTDOWN_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub shutdown_timeout_seconds: u64,

    /// Milliseconds after SIGTERM during which the server accepts no new connection but still
    /// takes requests on the connections it holds, before it stops (in-flight requests then get
    /// the shutdown timeout): the connections accepted just before the signal have their requests
    /// read and answered, and a load balancer has time to notice.
    #[arg(long, env = "TECHEX_SHUTDOWN_SETTLE_MILLISECONDS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(0..=60000))]
    pub shutdown_settle_milliseconds: u64,

    /// Days after its withdrawal or deletion (its last change) during which the owner may
    /// restore a listing as a draft.
    #[arg(long, env = "TECHEX_RESTORE_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=3650))]
    pub restore_days: u16,

    /// Let webhooks target internal addresses (loopback, private and link-local networks) and
    /// plain http to this machine: only for a hub whose receivers live in its own network.
    #[arg(long, env = "TECHEX_WEBHOOKS_ALLOW_PRIVATE", default_value_t = false)]
    pub webhooks_allow_private: bool,
    /// Days a deleted listing's row (its tombstone) is kept for pollers of
    /// `updated_since` + `include_deleted`, then purged; the change log keeps every change.
    #[arg(long, env = "TECHEX_TOMBSTONE_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u16).range(1..=3650))]
    pub tombstone_retention_days: u16,

    /// Client secrets checked at once by the token endpoint; more requests wait up to 2 s for a
    /// turn, then hear 503 with Retry-After.
    #[arg(long, env = "TECHEX_TOKEN_VERIFICATIONS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub token_verifications: u16,

    /// Failed token requests allowed per client id per minute; then 429 until the minute ends.
    #[arg(long, env = "TECHEX_TOKEN_FAILURES_PER_CLIENT", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub token_failures_per_client: u32,

    /// Failed token requests allowed per address per minute; then 429 until the minute ends.
    #[arg(long, env = "TECHEX_TOKEN_FAILURES_PER_ADDRESS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub token_failures_per_address: u32,

    /// The `aud` of access tokens.
    #[arg(long, env = "TECHEX_TOKEN_AUDIENCE", default_value = "techex-api")]
    pub token_audience: String,

    /// Lifetime of an access token in seconds (60 to 86400).
    #[arg(long, env = "TECHEX_TOKEN_TTL_SECONDS", default_value_t = 900, value_parser = clap::value_parser!(i64).range(crate::auth::TOKEN_TTL_SECONDS))]
    pub token_ttl_seconds: i64,

    /// Comma-separated origins allowed to call from browsers, e.g. https://sokhcn.dongnai.gov.vn.
    #[arg(long, env = "TECHEX_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Requests per minute for each API client.
    #[arg(long, env = "TECHEX_RATE_LIMIT_CLIENT", default_value_t = 1200, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_client: u32,

    /// Comma-separated addresses of reverse proxies in front of this server, whose
    /// X-Forwarded-For names the caller for the per-address rate limit.
    #[arg(long, env = "TECHEX_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Requests per minute for each IP address of anonymous callers.
    #[arg(long, env = "TECHEX_RATE_LIMIT_ANONYMOUS", default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_anonymous: u32,

    /// Expressions of interest per hour for each IP address of anonymous senders (all of them
    /// may come at once), on top of the anonymous rate limit.
    #[arg(long, env = "TECHEX_INTEREST_RATE_LIMIT", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub interest_rate_limit: u32,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs::parse_from_env()
    }
}

impl ServeArgs {
    /// The serve settings when `techex` runs with no command: environment and defaults.
    fn parse_from_env() -> Self {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Wrapper::parse_from(["techex"]).serve
    }
}

/// An absolute http(s) URL without query or fragment; a trailing slash is dropped.
fn parse_public_url(text: &str) -> Result<String, String> {
    let trimmed = text.trim().trim_end_matches('/');
    let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !trimmed.contains(['?', '#', ' ']) => {
            Ok(trimmed.to_owned())
        }
        _ => Err(format!("'{text}' is not an absolute http(s) URL such as https://techex.example.vn")),
    }
}

impl ServeArgs {
    /// The issuer of access tokens: as set, else the public URL, else `techex`.
    pub fn issuer(&self) -> String {
        self.token_issuer.clone().or_else(|| self.public_url.clone()).unwrap_or_else(|| "techex".to_owned())
    }
}

/// The URL with every password replaced, fit for a log line: the one in the user information
/// (`postgres://user:secret@host/db`) and any query parameter whose name says password
/// (`?password=secret`, `?sslpassword=…`, in any case or percent-encoding).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let (query, fragment) = match query.split_once('#') {
                Some((query, fragment)) => (query, Some(fragment)),
                None => (query, None),
            };
            let params: Vec<String> = query
                .split('&')
                .map(|param| match param.split_once('=') {
                    Some((key, _value)) if names_a_password(key) => format!("{key}=***"),
                    _ => param.to_owned(),
                })
                .collect();
            let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();
            format!("{path}?{}{fragment}", params.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Whether a query parameter's name, percent-decoded, mentions a password.
fn names_a_password(key: &str) -> bool {
    let mut decoded = Vec::with_capacity(key.len());
    let bytes = key.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                decoded.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).to_ascii_lowercase().contains("password")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_absolute_and_lose_their_trailing_slash() {
        assert_eq!(parse_public_url("https://techex.example.vn/").unwrap(), "https://techex.example.vn");
        assert_eq!(parse_public_url("http://127.0.0.1:8080/hub").unwrap(), "http://127.0.0.1:8080/hub");
        for bad in ["techex.example.vn", "https://", "ftp://x", "https://x?y=1", "https:///path"] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_issuer_defaults_to_the_public_url() {
        let mut args = ServeArgs { token_issuer: None, public_url: None, ..ServeArgs::default() };
        assert_eq!(args.issuer(), "techex");
        args.public_url = Some("https://techex.example.vn".into());
        assert_eq!(args.issuer(), "https://techex.example.vn");
        args.token_issuer = Some("techex-hcm".into());
        assert_eq!(args.issuer(), "techex-hcm");
    }

    #[test]
    fn passwords_never_reach_the_log() {
        let cases = [
            ("postgres://techex:s3cret@db:5432/techex", "postgres://techex:***@db:5432/techex"),
            ("postgresql://:s3cret@db/techex", "postgresql://:***@db/techex"),
            ("postgres://techex:p@ss:w0rd@db/techex", "postgres://techex:***@db/techex"),
            (
                "postgres://techex:s3cret@db1,db2/techex?sslmode=require",
                "postgres://techex:***@db1,db2/techex?sslmode=require",
            ),
            ("postgres://db/techex?password=s3cret", "postgres://db/techex?password=***"),
            ("postgres://techex@db?password=s3cret", "postgres://techex@db?password=***"),
            (
                "postgres://techex@db/techex?sslmode=require&password=s3cret&application_name=hub",
                "postgres://techex@db/techex?sslmode=require&password=***&application_name=hub",
            ),
            ("postgres://db/techex?PASSWORD=s3cret", "postgres://db/techex?PASSWORD=***"),
            ("postgres://db/techex?pass%77ord=s3cret", "postgres://db/techex?pass%77ord=***"),
            ("postgres://db/techex?sslpassword=s3cret", "postgres://db/techex?sslpassword=***"),
            ("postgres://u:s3cret@db/techex?password=s3cret@x", "postgres://u:***@db/techex?password=***"),
            ("postgres://techex@db/techex", "postgres://techex@db/techex"),
            ("postgres://db/techex?user=techex@corp", "postgres://db/techex?user=techex@corp"),
            ("data/techex.db", "data/techex.db"),
        ];
        for (url, redacted) in cases {
            assert_eq!(redact_url(url), redacted, "{url}");
            assert!(!redact_url(url).contains("s3cret"), "{url}");
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
