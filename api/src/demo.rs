//! The demo data set: a demo exchange with its API client, and Vietnamese listings across the
//! Southeast provinces, so a fresh `cargo run` shows real-looking data at once and the README's
//! walk-through has credentials to use. Loaded through the same domain rules and repositories as
//! any client's write.

use std::collections::BTreeSet;

use serde::Deserialize;
use techex_domain::access::Scope;
use techex_domain::client::ApiClient;
use techex_domain::organization::{Organization, OrganizationContent};
use techex_domain::{LifecycleAction, Listing, ListingContent, ListingStatus};
use techex_persistence::change_log::Author;
use techex_persistence::listings::{self, ListingWrite};
use techex_persistence::{Db, organizations};

use crate::error::ApiError;
use crate::routes::clients::register_client;

const DEMO_LISTINGS: &str = include_str!("../demo/listings.json");

#[derive(Deserialize)]
struct DemoItem {
    status: ListingStatus,
    listing: ListingContent,
}

/// What the demo load created: the client to try the API with (its secret shown this once).
pub struct DemoLoad {
    pub listings: usize,
    pub client: ApiClient,
    pub client_secret: String,
}

/// The moves that bring a new draft to `status`.
fn path_to(status: ListingStatus) -> Result<&'static [LifecycleAction], String> {
    match status {
        ListingStatus::Draft => Ok(&[]),
        ListingStatus::PendingReview => Ok(&[LifecycleAction::Submit]),
        ListingStatus::Published => Ok(&[LifecycleAction::Submit, LifecycleAction::Publish]),
        other => Err(format!("demo listings cannot start as {other}")),
    }
}

fn demo_exchange() -> OrganizationContent {
    serde_json::from_value(serde_json::json!({
        "kind": "exchange",
        "name": {"vi": "Sàn giao dịch công nghệ mẫu (demo)", "en": "Demo technology exchange"},
        "province": "79",
        "contact": {"email": "demo@example.vn", "website": "https://example.vn"}
    }))
    .expect("the demo exchange is well-formed")
}

/// Loads the demo exchange, its client and the demo listings; every listing is validated before
/// the first write.
pub fn load(db: &Db) -> Result<DemoLoad, String> {
    let items: Vec<DemoItem> = serde_json::from_str(DEMO_LISTINGS).map_err(|e| format!("demo data: {e}"))?;
    let now = techex_domain::now();
    let mut exchange = demo_exchange();
    // The demo exchange holds the source exchanges its listings came from, as the operator would
    // register them for a real one.
    let held: BTreeSet<String> =
        items.iter().filter_map(|item| item.listing.source.as_ref().map(|s| s.exchange.clone())).collect();
    exchange.source_exchanges = held.into_iter().collect();
    let exchange = Organization::new(exchange.validate().map_err(|e| e.to_string())?, now);
    let mut planned = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let valid = item.listing.validate(now).map_err(|e| format!("demo listing {i}: {e}"))?;
        planned.push((Listing::draft(valid, Some(exchange.id), now), path_to(item.status)?));
    }

    let mut conn = db.conn().map_err(|e| e.to_string())?;
    organizations::create(&mut conn, &exchange, &Author::command_line()).map_err(|e| e.to_string())?;
    let scopes = BTreeSet::from([Scope::ListingsWrite, Scope::ListingsPublish]);
    let (client, client_secret) =
        register_client(&mut conn, exchange.id, "Demo portal", scopes, &Author::command_line())
            .map_err(|e| e.to_string())?;
    let author = Author::client(client.id, exchange.id);
    for (listing, moves) in &planned {
        listings::create(&mut conn, listing, &author).map_err(|e| e.to_string())?;
        for action in moves.iter().copied() {
            listings::modify(&mut conn, listing.id, &author, |_, l| {
                l.apply(action, techex_domain::now())?;
                Ok::<_, ApiError>(ListingWrite::Moved(action))
            })
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(DemoLoad { listings: planned.len(), client, client_secret })
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_data_passes_every_rule() {
        let items: Vec<super::DemoItem> = serde_json::from_str(super::DEMO_LISTINGS).unwrap();
        assert!(items.len() >= 30);
        for (i, item) in items.into_iter().enumerate() {
            item.listing.validate(techex_domain::now()).unwrap_or_else(|e| panic!("item {i}: {e:?}"));
            super::path_to(item.status).unwrap();
        }
        assert!(super::demo_exchange().validate().is_ok());
    }
}
