//! The techex HTTP API: routes, extraction, errors and the OpenAPI description.

pub mod app;
pub mod cli;
pub mod demo;
pub mod error;
pub mod etag;
pub mod extract;
pub mod routes;

pub use app::{build_app, openapi};
