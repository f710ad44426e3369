//! The business of techex: what a technology listing is, which status may follow which, how
//! Vietnamese text is folded for search, and the reference data every record is checked against.
//!
//! This crate knows nothing of HTTP or SQL; the API and the persistence layer both speak its types.

#[macro_use]
pub mod words;
pub mod access;
pub mod center;
pub mod client;
pub mod contract;
pub mod interest;
pub mod listing;
pub mod matching;
pub mod messages;
pub mod organization;
pub mod refdata;
pub mod search;
pub mod stats;
pub mod tax_code;
pub mod text;
pub mod validation;
pub mod values;
pub mod vocabulary;
pub mod webhook;

pub use listing::{
    IpStatus, LifecycleAction, Listing, ListingContent, ListingId, ListingKind, ListingStatus, RestorePeriod, Right,
    TransferForm, TransferMethod,
};
pub use messages::{Lang, Message, Text};
pub use validation::{FieldError, ValidationErrors};

/// The current time at the precision both backends store (microseconds), so a record read back
/// equals the record as written.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
