//! The demo data set: Vietnamese listings across the Southeast provinces, so a fresh `cargo run`
//! shows real-looking data at once. Loaded through the same domain rules and repository as any
//! client's write, with the actor `demo`.

use serde::Deserialize;
use techex_domain::{LifecycleAction, Listing, ListingContent, ListingStatus};
use techex_persistence::Db;
use techex_persistence::listings::{self, ListingWrite};

use crate::error::ApiError;

const DEMO_LISTINGS: &str = include_str!("../demo/listings.json");
const ACTOR: &str = "demo";

#[derive(Deserialize)]
struct DemoItem {
    status: ListingStatus,
    listing: ListingContent,
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

/// Loads the demo listings; every one is validated before the first is written.
pub fn load(db: &Db) -> Result<usize, String> {
    let items: Vec<DemoItem> = serde_json::from_str(DEMO_LISTINGS).map_err(|e| format!("demo data: {e}"))?;
    let now = techex_domain::now();
    let mut planned = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let valid = item.listing.validate(now).map_err(|e| format!("demo listing {i}: {:?}", e.0))?;
        planned.push((Listing::draft(valid, None, now), path_to(item.status)?));
    }
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    for (listing, moves) in &planned {
        listings::create(&mut conn, listing, Some(ACTOR)).map_err(|e| e.to_string())?;
        for action in moves.iter().copied() {
            listings::modify(&mut conn, listing.id, Some(ACTOR), |l| {
                l.apply(action, techex_domain::now())?;
                Ok::<_, ApiError>(ListingWrite::Moved(action))
            })
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(planned.len())
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
    }
}
