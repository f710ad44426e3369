//! The change feed (`GET /v1/changes`) and the audit trail (`GET /v1/admin/audit`).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_persistence::change_log::{self, Audience, Author, NewChange};
use techex_tests::{Options, TestApp, TestClient, backend_tests, listing_with};

/// One change as the feed shows it: (entity, id, op, version).
type Seen = (String, String, String, i64);

fn seen(page: &Value) -> Vec<Seen> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["entity"].as_str().unwrap().to_owned(),
                c["id"].as_str().unwrap().to_owned(),
                c["op"].as_str().unwrap().to_owned(),
                c["version"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Reads the feed from `after` until it holds at least `want` changes or five seconds pass: on
/// PostgreSQL a change waits until every older transaction of the cluster (other tests') ended.
async fn follow(
    app: &TestApp,
    reader: &TestClient,
    query: &str,
    after: Option<&str>,
    want: usize,
) -> (Vec<Seen>, String) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut cursor = after.map(str::to_owned);
    let mut all = Vec::new();
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/changes?{query}&after={c}"),
            None => format!("/v1/changes?{query}"),
        };
        let reply = app.as_client(reader).get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
        all.extend(seen(&reply.body));
        cursor = Some(reply.body["next_cursor"].as_str().unwrap().to_owned());
        if all.len() >= want || Instant::now() > deadline {
            return (all, cursor.unwrap());
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

backend_tests! {
    /// A partner sees organizations and what is on the market, including the move that takes a
    /// listing off it; drafts and edits of unpublished listings never reach it.
    async fn partners_follow_published_listings_and_their_tombstones(app: TestApp) {
        let partner = app.new_client(&["changes:read"]).await;
        let (before, start) = follow(&app, &partner, "entity=listing", None, 0).await;
        assert_eq!(before, []);

        let draft = app.create_listing(&listing_with(json!({"source": null}))).await;
        let listing = app.publish_listing(&listing_with(json!({"source": null}))).await;
        assert_eq!(app.patch(&format!("/v1/listings/{listing}"), &json!({"trl": 8})).await.status, StatusCode::OK);
        assert_eq!(app.post(&format!("/v1/listings/{listing}/withdraw"), &Value::Null).await.status, StatusCode::OK);
        // Off the market: an edit of the withdrawn listing and of the draft stay private.
        assert_eq!(app.post(&format!("/v1/listings/{listing}/restore"), &Value::Null).await.status, StatusCode::OK);
        assert_eq!(app.patch(&format!("/v1/listings/{draft}"), &json!({"trl": 3})).await.status, StatusCode::OK);

        let (changes, cursor) = follow(&app, &partner, "entity=listing", Some(&start), 3).await;
        let ops: Vec<(&str, &str, i64)> = changes.iter().map(|(_, id, op, v)| (id.as_str(), op.as_str(), *v)).collect();
        assert_eq!(ops, [(listing.as_str(), "publish", 2), (listing.as_str(), "update", 3), (listing.as_str(), "withdraw", 4)]);

        // Resuming from the cursor: nothing new until the next public write, then exactly it.
        let (nothing, same) = follow(&app, &partner, "entity=listing", Some(&cursor), 0).await;
        assert_eq!((nothing, same.as_str()), (vec![], cursor.as_str()));
        assert_eq!(app.post(&format!("/v1/listings/{listing}/publish"), &Value::Null).await.status, StatusCode::OK);
        let (next, _) = follow(&app, &partner, "entity=listing", Some(&cursor), 1).await;
        assert_eq!(next, [("listing".to_owned(), listing.clone(), "publish".to_owned(), 6)]);

        // Organizations are public; the data of a change is the record as GET shows it.
        let (orgs, _) = follow(&app, &partner, "entity=organization", None, 2).await;
        assert!(orgs.iter().any(|(_, id, op, _)| id == &partner.organization_id && op == "create"), "{orgs:?}");
        let first = app.as_client(&partner).get("/v1/changes?entity=listing&limit=1").await;
        assert_eq!(first.body["items"][0]["data"]["id"], json!(listing));
        assert_eq!(first.body["items"][0]["data"]["status"], json!("published"));
    }

    /// The operator follows every change, drafts and API clients included.
    async fn the_operator_follows_every_change(app: TestApp) {
        let operator = app.new_client(&["admin"]).await;
        let draft = app.create_listing(&listing_with(json!({"source": null}))).await;
        let created = ("listing".to_owned(), draft.clone(), "create".to_owned(), 1);
        let mut changes = Vec::new();
        for _ in 0..100 {
            changes = follow(&app, &operator, "limit=1000", None, 0).await.0;
            if changes.contains(&created) {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(changes.contains(&created), "{changes:?}");
        assert!(changes.iter().any(|(entity, id, ..)| entity == "api_client" && id == &operator.id));
        let partner = app.new_client(&["changes:read"]).await;
        let (theirs, _) = follow(&app, &partner, "limit=1000", None, 0).await;
        assert!(theirs.iter().all(|(entity, id, ..)| entity == "organization" && id != &draft), "{theirs:?}");
    }

    /// Small pages walk the feed without a gap or a repeat.
    async fn small_pages_cover_the_feed_once(app: TestApp) {
        let operator = app.new_client(&["admin"]).await;
        for _ in 0..4 {
            app.publish_listing(&listing_with(json!({"source": null}))).await;
        }
        let (whole, _) = follow(&app, &operator, "entity=listing&limit=1000", None, 8).await;
        assert_eq!(whole.len(), 8, "four listings created and published");
        let mut paged = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/changes?entity=listing&limit=3&after={c}"),
                None => "/v1/changes?entity=listing&limit=3".to_owned(),
            };
            let reply = app.as_client(&operator).get(&path).await;
            let page = seen(&reply.body);
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 3);
            paged.extend(page);
            cursor = Some(reply.body["next_cursor"].as_str().unwrap().to_owned());
        }
        assert_eq!(paged, whole);
        assert_eq!(paged.iter().collect::<HashSet<_>>().len(), paged.len(), "no change twice");
    }

    /// A page is tagged by what it holds: asked again with its tag, it is 304 until a change the
    /// reader may see follows its cursor; another reader's tag never stands for it.
    async fn a_feed_page_is_not_modified_until_a_change_follows_its_cursor(app: TestApp) {
        let partner = app.new_client(&["changes:read"]).await;
        let operator = app.new_client(&["admin"]).await;
        let asked = |reader: &TestClient, path: &str, tag: Option<&str>| {
            let mut request = TestRequest::get().uri(path);
            if let Some(tag) = tag {
                request = request.insert_header(("if-none-match", tag.to_owned()));
            }
            let session = app.as_client(reader);
            async move { session.send(request).await }
        };
        let first = asked(&partner, "/v1/changes?entity=organization&limit=1", None).await;
        let tag = first.header("etag").unwrap().to_owned();
        let again = asked(&partner, "/v1/changes?entity=organization&limit=1", Some(&tag)).await;
        assert_eq!((again.status, again.header("etag")), (StatusCode::NOT_MODIFIED, Some(tag.as_str())));

        app.publish_listing(&listing_with(json!({"source": null}))).await;
        let (_, tail) = follow(&app, &partner, "entity=listing", None, 1).await;
        let path = format!("/v1/changes?entity=listing&after={tail}");
        let caught_up = asked(&partner, &path, None).await;
        assert_eq!(caught_up.body["items"], json!([]));
        let tag = caught_up.header("etag").unwrap().to_owned();
        assert_eq!(asked(&partner, &path, Some(&tag)).await.status, StatusCode::NOT_MODIFIED);
        // The same cursor read by the operator is another page, whatever it holds.
        let operators = asked(&operator, &path, Some(&tag)).await;
        assert_eq!(operators.status, StatusCode::OK);
        assert_ne!(operators.header("etag"), Some(tag.as_str()));

        let listing = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        let moved = loop {
            let reply = asked(&partner, &path, Some(&tag)).await;
            if reply.status == StatusCode::OK || Instant::now() > deadline {
                break reply;
            }
            assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(moved.status, StatusCode::OK);
        assert_eq!(moved.body["items"][0]["id"], json!(listing));
        assert_ne!(moved.header("etag"), Some(tag.as_str()));
        // Longer than the 400 characters the document allows: refused, as on a listing.
        let too_long = format!("\"{}\"", "a".repeat(399));
        asked(&partner, &path, Some(&too_long)).await.problem(400, "invalid_header");
    }

    /// Who may follow the feed, and what the operator's audit trail shows.
    async fn the_feed_needs_changes_read_and_the_audit_trail_admin(app: TestApp) {
        assert_eq!(app.anonymous().get("/v1/changes").await.problem(401, "unauthorized")["status"], json!(401));
        app.get("/v1/changes").await.problem(403, "insufficient_scope");
        let partner = app.new_client(&["changes:read"]).await;
        assert_eq!(app.as_client(&partner).get("/v1/changes").await.status, StatusCode::OK);
        app.as_client(&partner).get("/v1/admin/audit").await.problem(403, "insufficient_scope");
        app.anonymous().get("/v1/admin/audit").await.problem(401, "unauthorized");
    }

    async fn malformed_feed_and_audit_queries_are_refused(app: TestApp) {
        let operator = app.new_client(&["admin"]).await;
        for (query, field) in [
            ("after=bm90LWEtY3Vyc29y", "after"),
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=many", "limit"),
            ("entity=contract_draft", "entity"),
        ] {
            let reply = app.as_client(&operator).get(&format!("/v1/changes?{query}")).await;
            reply.problem(400, "invalid_query");
            assert!(reply.field_errors().iter().any(|(f, _)| f == field), "{query}: {:?}", reply.field_errors());
        }
        for (query, field) in [
            ("since=yesterday", "since"),
            ("until=2026-13-01T00:00:00Z", "until"),
            ("organization=nobody", "organization"),
            ("entity_id=42", "entity_id"),
            ("cursor=%21%21", "cursor"),
            ("limit=101", "limit"),
        ] {
            let reply = app.as_client(&operator).get(&format!("/v1/admin/audit?{query}")).await;
            reply.problem(400, "invalid_query");
            assert!(reply.field_errors().iter().any(|(f, _)| f == field), "{query}: {:?}", reply.field_errors());
        }
    }

    /// The audit trail: every write with its actor, newest first, filtered and paged.
    async fn the_audit_trail_filters_by_actor_record_and_period(app: TestApp) {
        let operator = app.new_client(&["admin"]).await;
        let listing = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let other = app.new_client(&["listings:write"]).await;
        app.as_client(&other).post("/v1/listings", &listing_with(json!({"source": null}))).await;

        let audit = |query: String| {
            let operator = operator.clone();
            let app = &app;
            async move {
                let reply = app.as_client(&operator).get(&format!("/v1/admin/audit?{query}")).await;
                assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
                reply.body
            }
        };
        let of_listing = audit(format!("entity_id={listing}")).await;
        let ops: Vec<&str> = of_listing["items"].as_array().unwrap().iter().map(|c| c["op"].as_str().unwrap()).collect();
        assert_eq!(ops, ["publish", "create"], "newest first");
        assert_eq!(of_listing["items"][0]["actor"], json!(format!("client:{}", app.publisher.id)));
        assert_eq!(of_listing["items"][0]["actor_organization"], json!(app.publisher.organization_id));

        let by_other = audit(format!("organization={}&entity=listing", other.organization_id)).await;
        assert_eq!(by_other["items"].as_array().unwrap().len(), 1);
        let by_actor = audit(format!("actor=client:{}", other.id)).await;
        assert_eq!(by_actor["items"], by_other["items"]);

        let future = audit("since=2999-01-01T00:00:00Z".to_owned()).await;
        assert_eq!(future["items"], json!([]));
        let past = audit("until=2000-01-01T00:00:00Z".to_owned()).await;
        assert_eq!(past["items"], json!([]));

        // Pages of one walk the trail once, newest first.
        let whole = audit("limit=100".to_owned()).await;
        let mut paged = Vec::new();
        let mut next = Some(String::new());
        while let Some(cursor) = next {
            let query = if cursor.is_empty() { "limit=1".to_owned() } else { format!("limit=1&cursor={cursor}") };
            let page = audit(query).await;
            paged.extend(page["items"].as_array().unwrap().iter().map(|c| c["seq"].clone()));
            next = page["next_cursor"].as_str().map(str::to_owned);
        }
        let all: Vec<Value> = whole["items"].as_array().unwrap().iter().map(|c| c["seq"].clone()).collect();
        assert_eq!(paged, all);
    }

    /// Writers commit in an order other than that of their change numbers while a reader
    /// follows the feed: the reader sees every committed change exactly once. (A pool with room
    /// for the writers and the reader, so the reader reads while they write.)
    #[options(Options { pool_size: 10, ..Options::default() })]
    async fn the_feed_never_skips_a_change_that_commits_late(app: TestApp) {
        let operator = app.new_client(&["admin"]).await;
        let (_, start) = follow(&app, &operator, "entity=organization", None, 0).await;
        let writing = Arc::new(AtomicBool::new(true));
        let writers: Vec<_> = (0..6u64)
            .map(|writer| {
                let db = app.db.clone();
                std::thread::spawn(move || {
                    let mut written = Vec::new();
                    let mut state = writer * 7919 + 13;
                    for n in 0..15u64 {
                        // A small deterministic scramble of how long each transaction stays open
                        // after taking its number.
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        let hold = Duration::from_millis((state >> 33) % 25);
                        let id = format!("writer-{writer}-{n}");
                        let mut conn = db.conn().unwrap();
                        techex_persistence::db::write(&mut conn, |conn| {
                            change_log::append(conn, &NewChange {
                                entity: "organization",
                                entity_id: id.clone(),
                                op: "update",
                                version: 1,
                                audience: Audience::Everyone,
                                author: &Author::system(),
                                at: chrono::Utc::now(),
                                data: json!({"id": id}),
                            })?;
                            std::thread::sleep(hold);
                            Ok::<_, techex_persistence::StoreError>(())
                        })
                        .unwrap();
                        written.push(id);
                    }
                    written
                })
            })
            .collect();
        let mut read = Vec::new();
        let mut cursor = start;
        let finished = {
            let writing = writing.clone();
            std::thread::spawn(move || {
                let written: Vec<String> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
                writing.store(false, Ordering::SeqCst);
                written
            })
        };
        while writing.load(Ordering::SeqCst) {
            let (page, next) = follow(&app, &operator, "entity=organization&limit=7", Some(&cursor), 0).await;
            read.extend(page.into_iter().map(|(_, id, ..)| id).filter(|id| id.starts_with("writer-")));
            cursor = next;
            actix_web::rt::time::sleep(Duration::from_millis(3)).await;
        }
        let written = finished.join().unwrap();
        // Other organizations' changes (the set-up's, still held back when `start` was read) are
        // not the writers'.
        let deadline = Instant::now() + Duration::from_secs(5);
        while read.len() < written.len() && Instant::now() < deadline {
            let (rest, next) = follow(&app, &operator, "entity=organization&limit=1000", Some(&cursor), 0).await;
            read.extend(rest.into_iter().map(|(_, id, ..)| id).filter(|id| id.starts_with("writer-")));
            cursor = next;
        }
        assert_eq!(read.len(), written.len(), "every change once: read {read:?}");
        assert_eq!(read.iter().collect::<HashSet<_>>(), written.iter().collect::<HashSet<_>>());
    }
}
