//! Tombstones of deleted listings: kept for the retention period for pollers, then purged, while
//! the change log keeps every change.

use actix_web::http::StatusCode;
use chrono::SecondsFormat;
use serde_json::{Value, json};
use techex_tests::{Session, backend_tests, listing_with};

const RETENTION_DAYS: i64 = 90;

/// Every item of every page of `path`, following `next_cursor`.
async fn all_pages(session: &Session<'_>, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = path.to_owned();
    loop {
        let reply = session.get(&next).await;
        assert_eq!(reply.status, StatusCode::OK, "{next}: {:#}", reply.body);
        items.extend(reply.body["items"].as_array().unwrap().iter().cloned());
        match reply.body["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}&cursor={cursor}"),
            None => return items,
        }
    }
}

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
        assert!(
            app.get(&format!("/v1/listings/{young}")).await.body["deleted_at"].is_string(),
            "the younger tombstone stays"
        );
        assert_eq!(app.get(&format!("/v1/listings/{live}")).await.body["status"], "published");
        assert_eq!(app.history(&old).len(), logged, "the change log keeps the purged listing's changes");
        assert_eq!(purge(), 0, "once only");
    }

    async fn a_poller_sees_listings_taken_off_the_market_since_its_last_poll_as_tombstones(app: TestApp) {
        let unchanged = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let withdrawn = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let deleted = app.publish_listing(&listing_with(json!({"source": null}))).await;
        app.clock.advance(chrono::Duration::hours(1));
        let since = app.clock.now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let fresh = app.publish_listing(&listing_with(json!({"source": null}))).await;
        assert_eq!(app.post(&format!("/v1/listings/{withdrawn}/withdraw"), &Value::Null).await.status, StatusCode::OK);
        assert_eq!(app.delete(&format!("/v1/listings/{deleted}")).await.status, StatusCode::NO_CONTENT);
        let draft = app.create_listing(&listing_with(json!({"source": null}))).await;

        let polled = all_pages(&app.anonymous(), &format!("/v1/listings?updated_since={since}&include_deleted=true&limit=2")).await;
        let ids: Vec<&str> = polled.iter().map(|item| item["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [fresh.as_str(), deleted.as_str(), withdrawn.as_str()], "newest first, over pages of two");
        assert!(!ids.contains(&draft.as_str()), "never published, never on the market");
        assert!(!ids.contains(&unchanged.as_str()), "unchanged since the last poll");
        assert_eq!(polled[0]["title"]["vi"], "Máy sấy nông sản dùng năng lượng mặt trời");
        assert!(polled[0].get("deleted").is_none(), "a listing on the market is no tombstone");
        let tombstone = |id: &str| polled.iter().find(|item| item["id"] == id).unwrap().clone();
        let gone = tombstone(&deleted);
        assert_eq!((gone["deleted"].clone(), gone["status"].clone()), (json!(true), json!("withdrawn")));
        assert!(gone["deleted_at"].is_string() && gone["updated_at"].is_string() && gone["version"].is_i64());
        let taken_down = tombstone(&withdrawn);
        assert_eq!((taken_down["deleted"].clone(), taken_down["status"].clone(), taken_down["deleted_at"].clone()), (json!(true), json!("withdrawn"), Value::Null));
        let mut keys: Vec<&str> = taken_down.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["deleted", "deleted_at", "id", "status", "updated_at", "version"], "nothing of its content");
        // The publisher sees the same tombstones: nothing of a listing off the market either.
        let own = all_pages(&app.as_client(&app.publisher), &format!("/v1/listings?updated_since={since}&include_deleted=true")).await;
        assert_eq!(own.iter().map(|item| item["id"].as_str().unwrap()).collect::<Vec<_>>(), ids);
        assert!(own.iter().skip(1).all(|item| item.get("contact").is_none() && item["deleted"] == true));

        let live = all_pages(&app.anonymous(), &format!("/v1/listings?updated_since={since}")).await;
        assert_eq!(live.iter().map(|item| item["id"].as_str().unwrap()).collect::<Vec<_>>(), [fresh.as_str()], "no tombstones unless asked");
    }

    async fn tombstones_are_asked_for_with_updated_since_and_among_published_listings_only(app: TestApp) {
        let reply = app.anonymous().get("/v1/listings?include_deleted=true").await;
        reply.problem(400, "invalid_query");
        assert_eq!(reply.field_errors(), [("include_deleted".to_owned(), "required".to_owned())]);
        let since = app.clock.now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let reply = app.get(&format!("/v1/listings?updated_since={since}&include_deleted=true&status=draft")).await;
        reply.problem(400, "invalid_query");
        assert_eq!(reply.field_errors(), [("include_deleted".to_owned(), "invalid_value".to_owned())]);
        let reply = app.anonymous().get(&format!("/v1/listings?updated_since={since}&include_deleted=yes")).await;
        assert_eq!(reply.field_errors(), [("include_deleted".to_owned(), "invalid_value".to_owned())]);
    }
}
