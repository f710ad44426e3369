//! The techex HTTP API: routes, extraction, errors and the OpenAPI description.

pub mod app;
pub mod auth;
pub mod cli;
pub mod demo;
pub mod error;
pub mod etag;
pub mod extract;
pub mod jobs;
pub mod kit;
pub mod pagination;
pub mod routes;
pub mod strict;
pub mod usecases;

pub use app::{AppState, build_app, openapi};
