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
    Openapi,
    /// Load data into an empty database.
    Seed {
        /// The demo listings.
        #[arg(long, required = true)]
        demo: bool,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "TECHEX_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "TECHEX_WORKERS")]
    pub workers: Option<usize>,

    /// Load the demo listings when the embedded SQLite database is empty: `auto` or `off`.
    #[arg(long, env = "TECHEX_DEMO_DATA", default_value = "auto", value_parser = ["auto", "off"])]
    pub demo_data: String,
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

/// The URL with any password replaced, fit for a log line.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.rsplit_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(redact_url("postgres://techex:s3cret@db:5432/techex"), "postgres://techex:***@db:5432/techex");
        assert_eq!(redact_url("postgres://techex@db/techex"), "postgres://techex@db/techex");
        assert_eq!(redact_url("data/techex.db"), "data/techex.db");
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
