//! One test binary for the whole API (one link instead of one per file).

mod auth;
mod clients;
mod errors;
mod kit;
mod languages;
mod listing_fields;
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
mod response_languages;
mod restore;
mod security;
mod snapshots;
mod storage;
