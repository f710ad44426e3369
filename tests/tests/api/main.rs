//! One test binary for the whole API (one link instead of one per file).

mod auth;
mod centers;
mod clients;
mod errors;
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
mod security;
mod snapshots;
mod storage;
