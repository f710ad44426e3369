use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{FIXTURE_EXCHANGE, backend_tests, listing_body, listing_with};

/// The ids of a page of listings, in order.
fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("a page").iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect()
}

backend_tests! {
    async fn create_answers_the_listing_as_the_hub_holds_it(app: TestApp) {
        let reply = app.post("/v1/listings", &listing_body()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
        let listing = &reply.body;
        let id = listing["id"].as_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
        assert_eq!(reply.header("location"), Some(format!("/v1/listings/{id}").as_str()));
        assert_eq!(reply.header("etag"), Some("\"v1\""));
        assert_eq!(listing["status"], "draft");
        assert_eq!(listing["version"], 1);
        assert_eq!(listing["province"], "79", "Bình Dương (74) is part of Ho Chi Minh City since 2025-07-01");
        assert_eq!(listing["province_as_sent"], "74");
        assert_eq!(listing["title"]["vi"], "Máy sấy nông sản dùng năng lượng mặt trời");
        assert_eq!(listing["price"]["amount"], 450000000);
        assert_eq!(listing["source"]["external_id"], "SP-2024-117");
        assert_eq!(listing["allowed_actions"], json!(["submit", "publish"]));
        assert!(listing["published_at"].is_null());

        let read = app.get(&format!("/v1/listings/{id}")).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(&read.body, listing, "a read returns what the create answered");
    }

    async fn lifecycle_goes_from_draft_to_withdrawn_and_refuses_illegal_moves(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        let steps = [("submit", "pending_review", 2), ("publish", "published", 3), ("withdraw", "withdrawn", 4)];
        for (action, status, version) in steps {
            let reply = app.post(&format!("/v1/listings/{id}/{action}"), &Value::Null).await;
            assert_eq!(reply.status, StatusCode::OK, "{action}: {:#}", reply.body);
            assert_eq!(reply.body["status"], status);
            assert_eq!(reply.body["version"], version);
            assert_eq!(reply.header("etag"), Some(format!("\"v{version}\"").as_str()));
        }
        let refused = app.post(&format!("/v1/listings/{id}/publish"), &Value::Null).await;
        let problem = refused.problem(409, "illegal_transition");
        assert_eq!(problem["detail"], "a listing that is withdrawn cannot be published");

        let listing = app.get(&format!("/v1/listings/{id}")).await;
        assert_eq!(listing.body["status"], "withdrawn");
        assert_eq!(listing.body["version"], 4, "a refused move changes nothing");
        let ops: Vec<String> = app.history(&id).into_iter().map(|c| c.op).collect();
        assert_eq!(ops, ["create", "submit", "publish", "withdraw"]);
    }

    async fn every_illegal_move_from_a_draft_is_a_conflict(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        let admin = app.new_client(&["admin"]).await;
        for action in ["reject", "withdraw", "close"] {
            app.as_client(&admin).post_empty(&format!("/v1/listings/{id}/{action}")).await.problem(409, "illegal_transition");
        }
        assert_eq!(app.history(&id).len(), 1);
    }

    async fn a_rejected_listing_can_be_resubmitted(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        let moderator = app.new_client(&["listings:moderate"]).await;
        for (action, status) in [("submit", "pending_review"), ("reject", "rejected"), ("submit", "pending_review"), ("publish", "published"), ("close", "closed")] {
            let session = if action == "reject" { app.as_client(&moderator) } else { app.as_client(&app.publisher) };
            let reply = session.post_empty(&format!("/v1/listings/{id}/{action}")).await;
            assert_eq!(reply.body["status"], status, "{action}: {:#}", reply.body);
        }
        let published_at = app.get(&format!("/v1/listings/{id}")).await.body["published_at"].clone();
        assert!(published_at.is_string(), "publishing stamps the time");
    }

    async fn each_successful_write_logs_exactly_one_change_with_the_record(app: TestApp) {
        assert_eq!(app.change_count(), 0);
        let id = app.create_listing(&listing_body()).await;
        assert_eq!(app.change_count(), 1);
        app.patch(&format!("/v1/listings/{id}"), &json!({"trl": 8})).await;
        assert_eq!(app.change_count(), 2);
        app.post(&format!("/v1/listings/{id}/submit"), &Value::Null).await;
        assert_eq!(app.change_count(), 3);
        let deleted = app.delete(&format!("/v1/listings/{id}")).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        assert_eq!(app.change_count(), 4);

        let history = app.history(&id);
        let summary: Vec<(&str, i64)> = history.iter().map(|c| (c.op.as_str(), c.version)).collect();
        assert_eq!(summary, [("create", 1), ("update", 2), ("submit", 3), ("delete", 4)]);
        for change in &history {
            assert_eq!(change.entity, "listing");
            assert_eq!(change.data["id"], id.as_str());
            assert_eq!(change.data["version"], change.version, "the record as written");
        }
        assert_eq!(history[1].data["trl"], 8, "the change carries what GET answers");
        assert_eq!(history[3].data["status"], "withdrawn", "a tombstone carries the last state");
        assert!(history.windows(2).all(|w| w[0].seq < w[1].seq && w[0].at <= w[1].at));
    }

    async fn patch_merges_and_revalidates_the_whole_listing(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        let reply = app
            .patch(&format!("/v1/listings/{id}"), &json!({"trl": 8, "title": {"en": null}, "province": "77", "contact": null}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
        assert_eq!(reply.body["trl"], 8);
        assert_eq!(reply.body["title"], json!({"vi": "Máy sấy nông sản dùng năng lượng mặt trời"}));
        assert_eq!(reply.body["province"], "79");
        assert_eq!(reply.body["province_as_sent"], "77");
        assert!(reply.body["contact"].is_null());
        assert_eq!(reply.body["field_codes"], json!(["211", "401"]), "keys left out stay");
        assert_eq!(reply.body["version"], 2);
        assert_eq!(reply.header("etag"), Some("\"v2\""));
    }

    async fn a_patch_that_changes_nothing_writes_nothing(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        for same in [json!({}), json!({"trl": 7, "province": "74"}), json!({"title": {"vi": "  Máy sấy nông sản dùng năng lượng mặt trời "}})] {
            let reply = app.patch(&format!("/v1/listings/{id}"), &same).await;
            assert_eq!((reply.status, reply.body["version"].as_i64()), (StatusCode::OK, Some(1)), "{same}");
            assert_eq!(reply.header("etag"), Some("\"v1\""));
        }
        assert_eq!(app.change_count(), 1, "re-pushing the same record is not a change partners must mirror");
    }

    async fn an_invalid_patch_changes_nothing(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        let reply = app.patch(&format!("/v1/listings/{id}"), &json!({"trl": 12, "province": "99"})).await;
        reply.problem(422, "validation_failed");
        assert_eq!(reply.field_errors(), [("trl".into(), "out_of_range".into()), ("province".into(), "unknown_province".into())]);
        for patch in [json!({"status": "published"}), json!({"trl": "eight"}), json!([1, 2])] {
            app.patch(&format!("/v1/listings/{id}"), &patch).await.problem(422, "validation_failed");
        }
        let listing = app.get(&format!("/v1/listings/{id}")).await.body;
        assert_eq!((listing["version"].clone(), listing["trl"].clone()), (json!(1), json!(7)));
        assert_eq!(app.change_count(), 1);
    }

    async fn if_match_guards_against_lost_updates(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        let path = format!("/v1/listings/{id}");
        let fresh = app.send_as_publisher(TestRequest::patch().uri(&path).insert_header(("if-match", "\"v1\"")).set_json(json!({"trl": 8}))).await;
        assert_eq!(fresh.status, StatusCode::OK);
        let stale = app.send_as_publisher(TestRequest::patch().uri(&path).insert_header(("if-match", "\"v1\"")).set_json(json!({"trl": 9}))).await;
        stale.problem(412, "precondition_failed");
        // RFC 9110 13.1.1: If-Match compares strongly, so a weak tag never matches, even the current one.
        let weak = app.send_as_publisher(TestRequest::patch().uri(&path).insert_header(("if-match", "W/\"v2\"")).set_json(json!({"trl": 9}))).await;
        weak.problem(412, "precondition_failed");
        let stale_move = app.send_as_publisher(TestRequest::post().uri(&format!("{path}/submit")).insert_header(("if-match", "\"v1\""))).await;
        stale_move.problem(412, "precondition_failed");
        let garbage = app.send_as_publisher(TestRequest::delete().uri(&path).insert_header(("if-match", "yesterday"))).await;
        garbage.problem(400, "invalid_header");
        let listed = app.send_as_publisher(TestRequest::post().uri(&format!("{path}/submit")).insert_header(("if-match", "\"v1\", \"v2\""))).await;
        assert_eq!(listed.status, StatusCode::OK, "a list of tags matches when one does");
        let any = app.send_as_publisher(TestRequest::patch().uri(&path).insert_header(("if-match", "*")).set_json(json!({"trl": 9}))).await;
        assert_eq!((any.status, any.body["version"].as_i64()), (StatusCode::OK, Some(4)), "* matches any current version: {:#}", any.body);
        assert_eq!(app.get(&path).await.body["trl"], 9);
        assert_eq!(app.change_count(), 4, "the create and the three writes whose If-Match matched");
    }

    async fn reads_answer_304_when_the_etag_still_matches(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        let path = format!("/v1/listings/{id}");
        let unchanged = app.send_as_publisher(TestRequest::get().uri(&path).insert_header(("if-none-match", "\"v1\""))).await;
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
        assert_eq!(unchanged.header("etag"), Some("\"v1\""));
        // If-None-Match compares weakly (RFC 9110 13.1.2).
        let weakly = app.send_as_publisher(TestRequest::get().uri(&path).insert_header(("if-none-match", "W/\"v1\""))).await;
        assert_eq!(weakly.status, StatusCode::NOT_MODIFIED);
        app.post(&format!("{path}/submit"), &Value::Null).await;
        let changed = app.send_as_publisher(TestRequest::get().uri(&path).insert_header(("if-none-match", "\"v1\""))).await;
        assert_eq!(changed.status, StatusCode::OK);
        assert_eq!(changed.header("etag"), Some("\"v2\""));
    }

    async fn a_deleted_listing_is_gone_but_its_tombstone_stays(app: TestApp) {
        let id = app.publish_listing(&listing_body()).await;
        let path = format!("/v1/listings/{id}");
        assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
        app.anonymous().get(&path).await.problem(404, "listing_not_found");
        assert_eq!(app.get(&path).await.body["status"], "withdrawn", "its owner still reads it");
        app.delete(&path).await.problem(404, "listing_not_found");
        app.post(&format!("{path}/publish"), &Value::Null).await.problem(409, "illegal_transition");
        assert_eq!(app.get("/v1/listings").await.body["items"], json!([]));
        let last = app.history(&id).pop().unwrap();
        assert_eq!((last.op.as_str(), last.data["status"].as_str()), ("delete", Some("withdrawn")));
    }

    async fn expired_listings_leave_the_market_and_the_log_says_so(app: TestApp) {
        let in_an_hour = (app.clock.now() + chrono::Duration::hours(1)).to_rfc3339();
        let expiring = app.publish_listing(&listing_with(json!({"source": null, "expires_at": in_an_hour}))).await;
        let lasting = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let ids_listed = || async { ids(&app.anonymous().get("/v1/listings").await.body) };
        assert_eq!(ids_listed().await, [lasting.as_str(), expiring.as_str()], "before its expiry a listing is found");
        assert_eq!(techex_api::jobs::expire_listings(&app.db, app.clock.now()).unwrap(), 0, "not due yet");

        app.clock.advance(chrono::Duration::minutes(61));
        assert_eq!(ids_listed().await, [lasting.as_str()], "past its expiry a listing leaves search before the periodic job runs");
        // What a reader sees follows the clock, not the job: expired at once, off the public web.
        let seen = app.get(&format!("/v1/listings/{expiring}")).await.body;
        assert_eq!((seen["status"].as_str(), seen["allowed_actions"].clone(), seen["version"].as_i64()), (Some("expired"), json!([]), Some(2)));
        app.anonymous().get(&format!("/v1/listings/{expiring}")).await.problem(404, "listing_not_found");

        assert_eq!(techex_api::jobs::expire_listings(&app.db, app.clock.now()).unwrap(), 1);
        let listing = app.get(&format!("/v1/listings/{expiring}")).await.body;
        assert_eq!((listing["status"].as_str(), listing["allowed_actions"].clone()), (Some("expired"), json!([])));
        app.anonymous().get(&format!("/v1/listings/{expiring}")).await.problem(404, "listing_not_found");
        let last = app.history(&expiring).pop().unwrap();
        assert_eq!((last.op.as_str(), last.actor.as_deref(), last.version), ("expire", Some("system"), 3));
        assert_eq!(techex_api::jobs::expire_listings(&app.db, app.clock.now()).unwrap(), 0, "once only");
        assert_eq!(app.get(&format!("/v1/listings/{lasting}")).await.body["status"], "published");
    }

    async fn the_expiry_job_runs_on_its_own_schedule(app: TestApp) {
        let in_an_hour = (app.clock.now() + chrono::Duration::hours(1)).to_rfc3339();
        let expiring = app.publish_listing(&listing_with(json!({"source": null, "expires_at": in_an_hour}))).await;
        let job = actix_web::rt::spawn(techex_api::jobs::expire_periodically(
            app.db.clone(),
            app.clock.clone(),
            std::time::Duration::from_millis(10),
            chrono::Duration::days(90),
        ));
        app.clock.advance(chrono::Duration::hours(2));
        // Waits for the job's next runs; bounded so that a job that never runs fails the test.
        // (Reads say `expired` at once; the job's own mark is its change-log row.)
        let mut last_op = String::new();
        for _ in 0..3000 {
            last_op = app.history(&expiring).pop().unwrap().op;
            if last_op == "expire" {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        job.abort();
        assert_eq!(last_op, "expire", "the periodic job recorded the expiry");
        let last = app.history(&expiring).pop().unwrap();
        assert_eq!((last.actor.as_deref(), last.version, last.data["status"].as_str()), (Some("system"), 3, Some("expired")));
    }

    async fn one_source_record_is_one_listing(app: TestApp) {
        app.create_listing(&listing_body()).await;
        app.post("/v1/listings", &listing_body()).await.problem(409, "duplicate_source");
        let other_record = listing_with(json!({"source": {"exchange": FIXTURE_EXCHANGE, "external_id": "SP-2024-118"}}));
        app.create_listing(&other_record).await;
        let dong_nai = app.new_client_holding(&["listings:write"], &["dongnai"]).await;
        let other_exchange = listing_with(json!({"source": {"exchange": "dongnai", "external_id": "SP-2024-117"}}));
        assert_eq!(app.as_client(&dong_nai).post("/v1/listings", &other_exchange).await.status, StatusCode::CREATED);
        let no_source = listing_with(json!({"source": null}));
        app.create_listing(&no_source).await;
        app.create_listing(&no_source).await;
        assert_eq!(app.change_count(), 5, "the refused duplicate logged nothing");
    }

    async fn concurrent_writes_all_land(app: TestApp) {
        let id = app.create_listing(&listing_with(json!({"source": null}))).await;
        let body = listing_with(json!({"source": null}));
        let path = format!("/v1/listings/{id}");
        let patch_bodies: Vec<Value> = (0..12).map(|i| json!({"keywords": [format!("k{i}")]})).collect();
        let creates = (0..12).map(|_| app.post("/v1/listings", &body));
        let patches = patch_bodies.iter().map(|patch| app.patch(&path, patch));
        let (created, patched) = futures_util::future::join(
            futures_util::future::join_all(creates),
            futures_util::future::join_all(patches),
        )
        .await;
        assert!(created.iter().all(|r| r.status == StatusCode::CREATED), "{:?}", created.iter().map(|r| &r.body).collect::<Vec<_>>());
        // Concurrent edits of one listing queue up: every one lands, none is lost.
        assert!(patched.iter().all(|r| r.status == StatusCode::OK), "{:?}", patched.iter().map(|r| &r.body).collect::<Vec<_>>());
        let mut versions: Vec<i64> = patched.iter().map(|r| r.body["version"].as_i64().unwrap()).collect();
        versions.sort();
        assert_eq!(versions, (2..=13).collect::<Vec<_>>());
        assert_eq!(app.change_count(), 1 + 12 + 12);
    }
}
