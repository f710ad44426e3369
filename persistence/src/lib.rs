//! Storage for techex on SQLite (the embedded default) and PostgreSQL (production), from one
//! code base: a diesel `MultiConnection` over both, one portable schema, and repositories that
//! speak domain types. Writes go through `versioned`, in the caller's transaction when it opened one,
//! each appending to the change log.

pub mod bulk;
pub mod centers;
pub mod change_log;
pub mod circuit;
mod client_cache;
pub mod clients;
pub mod contracts;
pub mod db;
pub mod error;
pub mod facet_counts;
pub mod idempotency;
pub mod interests;
pub mod leases;
pub mod listings;
pub mod mirror;
pub mod organizations;
mod schema;
pub mod search;
pub mod searches;
pub mod stats;
pub mod stored;
pub mod versioned;
pub mod webhooks;

pub use db::{Backend, Db, DbConn};
pub use error::{Constraint, Entity, StoreError};
