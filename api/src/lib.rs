//! The techex HTTP API: routes, extraction, errors and the OpenAPI description.

pub mod alerts;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
mod contract;
pub mod demo;
pub mod error;
pub mod etag;
pub mod extract;
pub mod idempotency;
pub mod jobs;
pub mod kit;
pub mod language;
pub mod openapi30;
pub mod pagination;
pub mod query;
pub mod routes;
pub mod strict;
pub mod sync;
pub mod usecases;
pub mod webhooks;

pub use app::{AppState, build_app, openapi};

/// The contract as pretty JSON, in OpenAPI `3.1` (as written) or `3.0` (for older generators),
/// exactly as committed under `openapi/`.
pub fn openapi_text(version: &str) -> String {
    let document = openapi();
    if version == "3.0" {
        serde_json::to_string_pretty(&openapi30::downgrade(&document)).expect("the OpenAPI document serializes")
    } else {
        document.to_pretty_json().expect("the OpenAPI document serializes")
    }
}
