//! One test binary for the whole API (one link instead of one per file).

mod errors;
mod listings;
mod listings_search;
mod ops;
mod reference;
mod repository;
