//! One test binary for the whole API (one link instead of one per file).

mod auth;
mod changes;
mod clients;
mod contracts;
mod errors;
mod export;
mod interests;
mod kit;
mod languages;
mod listings;
mod listings_search;
mod matrix;
mod ops;
mod organization_writes;
mod organizations;
mod platforms;
mod queries;
mod reference;
mod repository;
mod restore;
mod search;
mod security;
mod snapshots;
mod storage;
mod sync;
