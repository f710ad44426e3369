//! Tombstones of deleted listings: kept for the retention period for pollers, then purged, while
//! the change log keeps every change.

use actix_web::http::StatusCode;
use serde_json::json;
use techex_tests::{backend_tests, listing_with};

const RETENTION_DAYS: i64 = 90;

backend_tests! {
    async fn a_tombstone_older_than_the_retention_is_purged_and_a_younger_one_stays(app: TestApp) {
        let old = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let young = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let live = app.publish_listing(&listing_with(json!({"source": null}))).await;
        assert_eq!(app.delete(&format!("/v1/listings/{old}")).await.status, StatusCode::NO_CONTENT);
        app.clock.advance(chrono::Duration::days(60));
        assert_eq!(app.delete(&format!("/v1/listings/{young}")).await.status, StatusCode::NO_CONTENT);
        app.clock.advance(chrono::Duration::days(RETENTION_DAYS - 60) - chrono::Duration::minutes(1));
        let retention = chrono::Duration::days(RETENTION_DAYS);
        let purge = || techex_api::jobs::purge_tombstones(&app.db, app.clock.now(), retention).unwrap();
        assert_eq!(purge(), 0, "a day short of its retention the older tombstone stays");

        app.clock.advance(chrono::Duration::minutes(2));
        let logged = app.history(&old).len();
        assert_eq!(purge(), 1);
        app.get(&format!("/v1/listings/{old}")).await.problem(404, "listing_not_found");
        assert!(app.get(&format!("/v1/listings/{young}")).await.body["deleted_at"].is_string(), "the younger tombstone stays");
        assert_eq!(app.get(&format!("/v1/listings/{live}")).await.body["status"], "published");
        assert_eq!(app.history(&old).len(), logged, "the change log keeps the purged listing's changes");
        assert_eq!(purge(), 0, "once only");
    }
}
