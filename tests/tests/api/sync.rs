//! Portal sync: create-or-update by the portal's own id, batches, and `Idempotency-Key`.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_persistence::change_log;
use techex_tests::{FIXTURE_EXCHANGE, Reply, TestApp, TestClient, backend_tests, listing_body, listing_with};

const RECORD: &str = "/v1/listings/by-source/cong-thu-nghiem/SP-2024-117";

fn by_source(external_id: &str) -> String {
    format!("/v1/listings/by-source/{FIXTURE_EXCHANGE}/{external_id}")
}

/// `listing_body` as the record `external_id` of the fixture exchange.
fn record(external_id: &str) -> Value {
    listing_with(json!({"source": {"exchange": FIXTURE_EXCHANGE, "external_id": external_id}}))
}

async fn put(app: &TestApp, client: Option<&TestClient>, path: &str, body: &Value) -> Reply {
    let req = TestRequest::put().uri(path).set_json(body);
    match client {
        Some(client) => app.as_client(client).send(req).await,
        None => app.send_as_publisher(req).await,
    }
}

async fn batch(app: &TestApp, items: Value) -> Reply {
    app.post("/v1/listings/batch", &json!({ "items": items })).await
}

fn results(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    reply.body["items"].as_array().unwrap().iter().map(|r| r["result"].as_str().unwrap().to_owned()).collect()
}

backend_tests! {
    /// A listing `techex sync` brought from another hub is that hub's: every write through the
    /// API (`PATCH`, `DELETE`, a lifecycle move, `PUT` by source, a batch) is refused with `mirrored_record` naming the hub
    /// and changes nothing; the sync itself still writes it.
    async fn a_mirrored_listing_is_written_by_the_sync_alone(app: TestApp) {
        let mut body = listing_body();
        body["source"]["external_id"] = json!("SP-MIRROR-1");
        let id = app.publish_listing(&body).await;
        let hub = "techex.dongnai.example.vn";
        let mut conn = app.db.conn().unwrap();
        techex_persistence::mirror::record(&mut conn, hub, "listing", &id, &id, 3, techex_domain::now()).unwrap();
        assert_eq!(techex_persistence::mirror::hub_of(&mut conn, "listing", &id).unwrap().as_deref(), Some(hub));
        let path = format!("/v1/listings/{id}");
        let before = app.get(&path).await.body;
        let tag = format!("\"v{}\"", before["version"]);
        let by_source = format!("/v1/listings/by-source/{FIXTURE_EXCHANGE}/SP-MIRROR-1");
        let mut changed = body.clone();
        changed["trl"] = json!(8);
        let refused = [
            app.send_as_publisher(
                TestRequest::patch().uri(&path).insert_header(("if-match", tag.clone())).set_json(json!({"trl": 8})),
            )
            .await,
            app.send_as_publisher(TestRequest::delete().uri(&path).insert_header(("if-match", tag.clone()))).await,
            app.send_as_publisher(TestRequest::post().uri(&format!("{path}/withdraw"))).await,
            app.send_as_publisher(TestRequest::put().uri(&by_source).set_json(&changed)).await,
        ];
        for reply in &refused {
            reply.problem(409, "mirrored_record");
            assert!(reply.body["detail"].as_str().unwrap().contains(hub), "{:#}", reply.body);
        }
        let batch = app.post("/v1/listings/batch", &json!({"items": [{"op": "upsert", "listing": changed}]})).await;
        assert!(batch.body.to_string().contains("mirrored_record"), "{:#}", batch.body);
        assert_eq!(app.get(&path).await.body, before);

        let listing_id = techex_domain::ListingId(id.parse().unwrap());
        let synced = techex_api::kit::modify(&mut conn, listing_id, &techex_api::sync::author(hub), |_, l: &mut techex_domain::Listing| {
            l.version += 1;
            Ok::<_, techex_persistence::StoreError>(techex_persistence::listings::ListingWrite::Updated)
        });
        assert!(synced.is_ok(), "{synced:?}");
    }

    /// The nightly push of the same record: created once, then unchanged (same version, nothing
    /// logged), then updated with the next version when something changed.
    async fn put_by_source_creates_then_leaves_unchanged_then_updates(app: TestApp) {
        let body = listing_body();
        let created = put(&app, None, RECORD, &body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
        assert_eq!(created.header("sync-result"), Some("created"));
        let id = created.body["id"].as_str().unwrap().to_owned();
        assert_eq!(created.header("location"), Some(format!("/v1/listings/{id}").as_str()));
        assert_eq!(created.header("etag"), Some("\"v1\""));
        assert_eq!(created.body["status"], "draft");
        assert_eq!(app.history(&id).len(), 1);

        let changes = app.change_count();
        let again = put(&app, None, RECORD, &body).await;
        assert_eq!(again.status, StatusCode::OK, "{:#}", again.body);
        assert_eq!(again.header("sync-result"), Some("unchanged"));
        assert_eq!((again.body["id"].as_str(), &again.body["version"]), (Some(id.as_str()), &json!(1)));
        assert_eq!(again.header("etag"), Some("\"v1\""));
        assert_eq!(app.change_count(), changes, "an unchanged push writes nothing");

        let changed = listing_with(json!({"trl": 8}));
        let updated = put(&app, None, RECORD, &changed).await;
        assert_eq!(updated.status, StatusCode::OK, "{:#}", updated.body);
        assert_eq!(updated.header("sync-result"), Some("updated"));
        assert_eq!((updated.body["id"].as_str(), &updated.body["version"]), (Some(id.as_str()), &json!(2)));
        assert_eq!(updated.body["trl"], 8);
        assert_eq!(app.change_count(), changes + 1);
        assert_eq!(app.history(&id).last().unwrap().op, "update");

        let listed = app.get("/v1/listings?status=draft").await;
        assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "one listing however often it is pushed");
    }

    /// A body without `source` takes the path's; one naming another record is refused.
    async fn put_by_source_fills_the_source_from_the_path_and_refuses_another(app: TestApp) {
        let without = listing_with(json!({"source": null}));
        let created = put(&app, None, &by_source("SP-1"), &without).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
        assert_eq!(created.body["source"], json!({"exchange": FIXTURE_EXCHANGE, "external_id": "SP-1", "url": null}));

        let changes = app.change_count();
        let other = put(&app, None, &by_source("SP-2"), &record("SP-3")).await;
        other.problem(422, "validation_failed");
        assert_eq!(other.field_errors(), vec![("source".to_owned(), "source_mismatch".to_owned())]);
        let other_exchange = listing_with(json!({"source": {"exchange": "dongnai", "external_id": "SP-2"}}));
        put(&app, None, &by_source("SP-2"), &other_exchange).await.problem(422, "validation_failed");
        assert_eq!(app.change_count(), changes);

        for bad in ["/v1/listings/by-source/Dong%20Nai/SP-1", "/v1/listings/by-source/cong-thu-nghiem/%20SP-1"] {
            put(&app, None, bad, &without).await.problem(400, "invalid_path");
        }
        let long = by_source(&"x".repeat(101));
        put(&app, None, &long, &without).await.problem(400, "invalid_path");
    }

    /// Only the organization holding the source exchange writes its records: another one hears
    /// 403 whether or not the record exists, and nothing changes.
    async fn put_by_source_is_only_for_the_holder_of_the_exchange(app: TestApp) {
        let created = put(&app, None, RECORD, &listing_body()).await;
        assert_eq!(created.status, StatusCode::CREATED);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let changes = app.change_count();

        let other = app.new_client_holding(&["listings:write", "listings:publish"], &["dongnai"]).await;
        let existing = put(&app, Some(&other), RECORD, &listing_with(json!({"trl": 3}))).await;
        existing.problem(403, "source_exchange_not_held");
        let missing = put(&app, Some(&other), &by_source("SP-404"), &record("SP-404")).await;
        missing.problem(403, "source_exchange_not_held");
        assert_eq!(existing.body["detail"], missing.body["detail"], "nothing tells whether the record exists");

        let operator = app.new_client(&["admin"]).await;
        put(&app, Some(&operator), RECORD, &listing_body()).await.problem(403, "source_exchange_not_held");
        let reader = app.client_in(&app.publisher.organization_id, &[]).await;
        put(&app, Some(&reader), RECORD, &listing_body()).await.problem(403, "insufficient_scope");
        let anonymous = app.anonymous().send(TestRequest::put().uri(RECORD).set_json(listing_body())).await;
        anonymous.problem(401, "unauthorized");

        assert_eq!(app.change_count(), changes);
        assert_eq!(app.get(&format!("/v1/listings/{id}")).await.body["trl"], 7);
    }

    /// `If-Match` guards the update; a deleted listing gave its source back, so the record is
    /// created anew; an edit of a published listing follows the review rules.
    async fn put_by_source_honours_if_match_deletion_and_review(app: TestApp) {
        let stale = app.send_as_publisher(TestRequest::put().uri(RECORD).insert_header(("if-match", "\"v1\"")).set_json(listing_body())).await;
        stale.problem(412, "precondition_failed");
        let created = put(&app, None, RECORD, &listing_body()).await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let wrong = app.send_as_publisher(TestRequest::put().uri(RECORD).insert_header(("if-match", "\"v7\"")).set_json(listing_with(json!({"trl": 5})))).await;
        wrong.problem(412, "precondition_failed");
        let right = app.send_as_publisher(TestRequest::put().uri(RECORD).insert_header(("if-match", "\"v1\"")).set_json(listing_with(json!({"trl": 5})))).await;
        assert_eq!((right.status, right.header("sync-result")), (StatusCode::OK, Some("updated")));

        // Published by a writer without listings:publish: its edit goes back to review.
        let publish = app.post(&format!("/v1/listings/{id}/publish"), &Value::Null).await;
        assert_eq!(publish.body["status"], "published");
        let writer = app.client_in(&app.publisher.organization_id, &["listings:write"]).await;
        let edited = put(&app, Some(&writer), RECORD, &listing_with(json!({"trl": 6}))).await;
        assert_eq!((edited.header("sync-result"), &edited.body["status"]), (Some("updated"), &json!("pending_review")));

        assert_eq!(app.delete(&format!("/v1/listings/{id}")).await.status, StatusCode::NO_CONTENT);
        let anew = put(&app, None, RECORD, &listing_body()).await;
        assert_eq!((anew.status, anew.header("sync-result")), (StatusCode::CREATED, Some("created")), "{:#}", anew.body);
        assert_ne!(anew.body["id"].as_str(), Some(id.as_str()));
    }

    /// A batch of good and bad items stores exactly the good ones, reports each in order, and
    /// sent again reports every item unchanged and writes nothing.
    async fn a_batch_stores_the_good_items_and_sent_again_writes_nothing(app: TestApp) {
        let items = json!([
            {"op": "upsert", "listing": record("B-1")},
            {"op": "upsert", "listing": listing_with(json!({"trl": 12, "source": {"exchange": FIXTURE_EXCHANGE, "external_id": "B-2"}}))},
            {"op": "upsert", "listing": record("B-3")},
            {"op": "publish", "source": {"exchange": FIXTURE_EXCHANGE, "external_id": "B-1"}},
            {"op": "upsert", "listing": listing_with(json!({"source": {"exchange": "dongnai", "external_id": "B-4"}}))},
            {"op": "publish", "source": {"exchange": FIXTURE_EXCHANGE, "external_id": "B-404"}},
            {"op": "upsert", "listing": listing_with(json!({"source": null}))},
            {"op": "frobnicate", "id": "0190c3a2-7b4e-7c1d-9a8f-2b1e6d5c4a3f"},
            {"op": "publish"},
        ]);
        let before = app.change_count();
        let first = batch(&app, items.clone()).await;
        assert_eq!(
            results(&first),
            ["created", "failed", "created", "moved", "failed", "failed", "failed", "failed", "failed"]
        );
        let answered = first.body["items"].as_array().unwrap();
        for (index, result) in answered.iter().enumerate() {
            assert_eq!(result["index"], index);
        }
        assert_eq!(answered[1]["problem"]["code"], "validation_failed");
        assert_eq!(answered[1]["problem"]["errors"][0]["field"], "listing.trl");
        assert_eq!(answered[3]["status"], "published");
        assert_eq!(answered[4]["problem"]["code"], "source_exchange_not_held");
        assert_eq!(answered[5]["problem"]["code"], "listing_not_found");
        assert_eq!(answered[6]["problem"]["errors"][0]["field"], "listing.source");
        assert_eq!(answered[7]["problem"]["errors"][0]["field"], "op");
        assert_eq!(answered[8]["problem"]["code"], "validation_failed");
        assert_eq!(app.change_count(), before + 3, "two creations and a publication");
        let published = app.anonymous().get("/v1/listings").await;
        assert_eq!(published.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(published.body["items"][0]["id"], answered[0]["id"]);

        let again = batch(&app, items).await;
        let results = results(&again);
        assert_eq!(
            results,
            ["unchanged", "failed", "unchanged", "unchanged", "failed", "failed", "failed", "failed", "failed"]
        );
        let answered_again = again.body["items"].as_array().unwrap();
        // Item 0's listing was published by item 3 of the first batch: its version is the last.
        for (index, last) in [(0, 3), (2, 2), (3, 3)] {
            assert_eq!(answered_again[index]["id"], answered[index]["id"]);
            assert_eq!(answered_again[index]["version"], answered[last]["version"]);
        }
        assert_eq!(app.change_count(), before + 3, "a batch sent again writes nothing");
    }

    /// Moves by id, refusals by the tenancy rules, and the bounds of a batch.
    async fn a_batch_moves_by_id_and_keeps_its_bounds(app: TestApp) {
        let id = app.create_listing(&record("M-1")).await;
        let reply = batch(&app, json!([
            {"op": "submit", "id": id},
            {"op": "submit", "id": id},
            {"op": "close", "id": id},
            {"op": "publish", "id": id, "source": {"exchange": FIXTURE_EXCHANGE, "external_id": "M-1"}},
        ])).await;
        assert_eq!(results(&reply), ["moved", "unchanged", "failed", "failed"]);
        assert_eq!(reply.body["items"][2]["problem"]["code"], "illegal_transition");

        let other = app.new_client_holding(&["listings:write"], &["dongnai"]).await;
        let foreign = app.as_client(&other).post("/v1/listings/batch", &json!({"items": [{"op": "withdraw", "id": id}]})).await;
        assert_eq!(foreign.body["items"][0]["problem"]["code"], "listing_not_found", "{:#}", foreign.body);

        batch(&app, json!([])).await.problem(422, "validation_failed");
        let many: Vec<Value> = (0..1001).map(|_| json!({"op": "publish", "id": id})).collect();
        let refused = batch(&app, Value::Array(many)).await;
        refused.problem(422, "validation_failed");
        assert_eq!(refused.field_errors(), vec![("items".to_owned(), "too_many".to_owned())]);
        app.post("/v1/listings/batch", &json!({"items": [], "extra": 1})).await.problem(422, "validation_failed");
        let huge = "x".repeat(9 * 1024 * 1024);
        let too_large = app.send_as_publisher(TestRequest::post().uri("/v1/listings/batch").insert_header(("content-type", "application/json")).set_payload(huge)).await;
        too_large.problem(413, "body_too_large");
        app.anonymous().post("/v1/listings/batch", &json!({"items": []})).await.problem(401, "unauthorized");
        let reader = app.client_in(&app.publisher.organization_id, &[]).await;
        app.as_client(&reader).post("/v1/listings/batch", &json!({"items": []})).await.problem(403, "insufficient_scope");
    }

    /// A full batch: 1,000 records created, then sent again, all unchanged with nothing written.
    /// The time each takes is printed (`--nocapture`), measured here, never asserted.
    async fn a_full_batch_of_a_thousand_is_stored_once(app: TestApp) {
        let items: Vec<Value> = (0..1000).map(|i| json!({"op": "upsert", "listing": record(&format!("N-{i}"))})).collect();
        let items = Value::Array(items);
        let before = app.change_count();
        let started = std::time::Instant::now();
        let first = batch(&app, items.clone()).await;
        let created = started.elapsed();
        assert!(results(&first).iter().all(|r| r == "created"), "{:#}", first.body["items"][0]);
        assert_eq!(app.change_count(), before + 1000);
        let started = std::time::Instant::now();
        let again = batch(&app, items).await;
        let unchanged = started.elapsed();
        assert!(results(&again).iter().all(|r| r == "unchanged"));
        assert_eq!(app.change_count(), before + 1000);
        println!("batch of 1000 on {}: created in {created:?}, unchanged in {unchanged:?}", app.backend_name());
    }

    /// A batch mixing new, changed, unchanged and invalid records, a record named twice and a
    /// move between them answers each item as it would alone, writes nothing of a failed item,
    /// and logs its changes in the order of its items.
    async fn a_mixed_batch_answers_and_logs_each_item_in_order(app: TestApp) {
        let changed = app.create_listing(&record("X-changed")).await;
        let same = app.create_listing(&record("X-same")).await;
        let before = app.change_count();
        let with = |external_id: &str, changes: Value| {
            let mut body = listing_with(changes);
            body["source"] = json!({"exchange": FIXTURE_EXCHANGE, "external_id": external_id});
            json!({"op": "upsert", "listing": body})
        };
        let reply = batch(&app, json!([
            {"op": "upsert", "listing": record("X-new-1")},
            with("X-changed", json!({"trl": 5})),
            {"op": "upsert", "listing": record("X-same")},
            with("X-bad", json!({"trl": 12})),
            {"op": "upsert", "listing": record("X-new-2")},
            with("X-new-1", json!({"trl": 8})),
            {"op": "upsert", "listing": record("X-new-2")},
            {"op": "publish", "source": {"exchange": FIXTURE_EXCHANGE, "external_id": "X-new-1"}},
            {"op": "upsert", "listing": record("X-new-3")},
            with("X-new-1", json!({"trl": 8})),
            with("X-bad-2", json!({"title": {"vi": ""}})),
        ])).await;
        assert_eq!(
            results(&reply),
            ["created", "updated", "unchanged", "failed", "created", "updated", "unchanged", "moved", "created", "unchanged", "failed"]
        );
        let items = reply.body["items"].as_array().unwrap();
        let id = |index: usize| items[index]["id"].as_str().unwrap().to_owned();
        assert_eq!(id(1), changed);
        assert_eq!((id(2), items[2]["version"].as_i64()), (same, Some(1)));
        assert_eq!((id(5), id(7), id(9)), (id(0), id(0), id(0)), "a record named again is the listing made before");
        assert_eq!(id(6), id(4));
        assert_eq!([&items[0]["version"], &items[5]["version"], &items[7]["version"], &items[9]["version"]], [1, 2, 3, 3]);
        assert_eq!(items[3]["problem"]["errors"][0]["field"], "listing.trl");
        assert_eq!(items[10]["problem"]["code"], "validation_failed");
        assert_eq!(items[7]["status"], "published");

        let logged = change_log::audit(
            &mut app.db.conn().unwrap(),
            &change_log::AuditQuery { entity: Some("listing"), limit: 6, ..Default::default() },
        )
        .unwrap();
        let logged: Vec<(String, String)> = logged.into_iter().rev().map(|c| (c.entity_id, c.op)).collect();
        let expected: Vec<(String, String)> =
            [(0, "create"), (1, "update"), (4, "create"), (5, "update"), (7, "publish"), (8, "create")]
                .into_iter()
                .map(|(index, op)| (id(index), op.to_owned()))
                .collect();
        assert_eq!(logged, expected, "one change per write, in the order of the items");
        assert_eq!(app.change_count(), before + 6);
        for bad in ["X-bad", "X-bad-2"] {
            let pushed = put(&app, None, &by_source(bad), &record(bad)).await;
            assert_eq!(pushed.header("sync-result"), Some("created"), "a failed item stored nothing of itself");
        }
    }

    /// Batches pushing overlapping records at once, each with its own content: every item is
    /// answered (none failed, no server error), each record is one listing, and every write that
    /// was answered is logged once.
    #[options(techex_tests::Options { pool_size: 8, ..Default::default() })]
    async fn concurrent_batches_of_overlapping_records_make_each_listing_once(app: TestApp) {
        const BATCHES: usize = 4;
        let before = app.change_count();
        let send = |number: usize| {
            let items: Vec<Value> = (number * 10..number * 10 + 20)
                .map(|i| {
                    let mut body = record(&format!("O-{i}"));
                    body["keywords"] = json!([format!("batch-{number}")]);
                    json!({"op": "upsert", "listing": body})
                })
                .collect();
            batch(&app, Value::Array(items))
        };
        let replies = futures_util::future::join_all((0..BATCHES).map(send)).await;
        let mut ids: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        let mut writes = 0;
        for (number, reply) in replies.iter().enumerate() {
            for (offset, result) in results(reply).iter().enumerate() {
                assert!(["created", "updated"].contains(&result.as_str()), "batch {number}: {:#}", reply.body);
                writes += 1;
                let external_id = format!("O-{}", number * 10 + offset);
                let id = reply.body["items"][offset]["id"].as_str().unwrap().to_owned();
                assert_eq!(ids.entry(external_id).or_insert_with(|| id.clone()), &id, "one listing per record");
            }
        }
        assert_eq!(ids.len(), BATCHES * 10 + 10);
        assert_eq!(app.change_count(), before + writes);
        let drafts = app.get("/v1/listings?status=draft&limit=100").await;
        assert_eq!(drafts.body["items"].as_array().unwrap().len(), ids.len());
    }

    /// A retry with the same key replays the first answer, status, body and fields, and writes
    /// nothing; another body is refused; another client's same key is its own.
    async fn a_retry_with_the_same_idempotency_key_replays_the_first_answer(app: TestApp) {
        let body = record("I-1");
        let first = post_keyed(&app, None, "/v1/listings", "key-1", &body).await;
        assert_eq!(first.status, StatusCode::CREATED, "{:#}", first.body);
        assert_eq!(first.header("idempotent-replayed"), None);
        let changes = app.change_count();

        let retry = post_keyed(&app, None, "/v1/listings", "key-1", &body).await;
        assert_eq!(retry.status, StatusCode::CREATED);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(retry.body, first.body);
        for field in ["location", "etag", "content-type"] {
            assert_eq!(retry.header(field), first.header(field), "{field}");
        }
        assert_eq!(app.change_count(), changes, "a replay writes nothing");

        let other_body = post_keyed(&app, None, "/v1/listings", "key-1", &record("I-2")).await;
        other_body.problem(422, "idempotency_key_reused");
        let other_path = post_keyed(&app, None, "/v1/listings/batch", "key-1", &body).await;
        other_path.problem(422, "idempotency_key_reused");

        let colleague = app.client_in(&app.publisher.organization_id, &["listings:write"]).await;
        let own = post_keyed(&app, Some(&colleague), "/v1/listings", "key-1", &record("I-3")).await;
        assert_eq!((own.status, own.header("idempotent-replayed")), (StatusCode::CREATED, None), "{:#}", own.body);
        assert_eq!(app.change_count(), changes + 1);

        // A lifecycle move retried is not refused as illegal: the first answer is replayed.
        let id = first.body["id"].as_str().unwrap();
        let publish = format!("/v1/listings/{id}/publish");
        let moved = post_keyed(&app, None, &publish, "key-2", &Value::Null).await;
        assert_eq!(moved.body["status"], "published", "{:#}", moved.body);
        let again = post_keyed(&app, None, &publish, "key-2", &Value::Null).await;
        assert_eq!((again.status, again.header("idempotent-replayed")), (StatusCode::OK, Some("true")));
        let unkeyed = app.post(&publish, &Value::Null).await;
        unkeyed.problem(409, "illegal_transition");
        // A refusal about the request is kept too.
        let refused = post_keyed(&app, None, "/v1/listings", "key-3", &listing_with(json!({"trl": 12}))).await;
        refused.problem(422, "validation_failed");
        let refused_again = post_keyed(&app, None, "/v1/listings", "key-3", &listing_with(json!({"trl": 12}))).await;
        refused_again.problem(422, "validation_failed");
        assert_eq!(refused_again.header("idempotent-replayed"), Some("true"));
    }

    /// Keys are bounded; without a token they are ignored (the operation refuses the caller);
    /// the token endpoint never replays credentials; the operator's writes are covered too.
    async fn idempotency_keys_are_bounded_and_apply_to_every_post_but_the_token(app: TestApp) {
        for bad in ["", "khóa", "a b", &"k".repeat(256)] {
            let req = TestRequest::post().uri("/v1/listings").set_json(listing_body());
            let req = if bad.is_ascii() { req.insert_header(("idempotency-key", bad)) } else {
                req.insert_header(("idempotency-key", actix_web::http::header::HeaderValue::from_bytes(bad.as_bytes()).unwrap()))
            };
            app.send_as_publisher(req).await.problem(400, "invalid_header");
        }
        let anonymous = app.anonymous().send(TestRequest::post().uri("/v1/listings").insert_header(("idempotency-key", "k")).set_json(listing_body())).await;
        anonymous.problem(401, "unauthorized");

        let form = format!("grant_type=client_credentials&client_id={}&client_secret={}", app.publisher.id, app.publisher.secret);
        let token = |form: String| TestRequest::post().uri("/v1/auth/token").insert_header(("content-type", "application/x-www-form-urlencoded")).insert_header(("idempotency-key", "t")).set_payload(form);
        let one = app.send(token(form.clone())).await;
        let two = app.send(token(form)).await;
        assert_eq!((one.status, two.status), (StatusCode::OK, StatusCode::OK));
        assert_eq!(two.header("idempotent-replayed"), None);
        assert_ne!(one.body["access_token"], two.body["access_token"], "a token is never replayed");

        let operator = app.new_client(&["admin"]).await;
        let org = techex_tests::organization_body("Sàn Bình Phước", None, &[]);
        let created = post_keyed(&app, Some(&operator), "/v1/organizations", "org-1", &org).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
        let replayed = post_keyed(&app, Some(&operator), "/v1/organizations", "org-1", &org).await;
        assert_eq!((replayed.header("idempotent-replayed"), &replayed.body["id"]), (Some("true"), &created.body["id"]));
    }

    /// The same request sent twice at once with one key, on two connections: one listing.
    #[options(techex_tests::Options { pool_size: 6, ..Default::default() })]
    async fn a_concurrent_retry_with_the_same_key_creates_one_record(app: TestApp) {
        let body = record("C-1");
        let send = || app.send_as_publisher(TestRequest::post().uri("/v1/listings").insert_header(("idempotency-key", "same")).set_json(body.clone()));
        let (a, b) = futures_util::future::join(send(), send()).await;
        assert_eq!((a.status, b.status), (StatusCode::CREATED, StatusCode::CREATED), "{:#} {:#}", a.body, b.body);
        assert_eq!(a.body["id"], b.body["id"]);
        let replayed: Vec<_> = [&a, &b].iter().filter_map(|r| r.header("idempotent-replayed")).collect();
        assert_eq!(replayed, ["true"], "one ran, the other replayed it");
        let drafts = app.get("/v1/listings?status=draft").await;
        assert_eq!(drafts.body["items"].as_array().unwrap().len(), 1);
    }

    /// Who may push and move, cell by cell: anonymous, another organization (writer and
    /// publisher), the own organization without and with `listings:write`, a moderator of
    /// another organization, the operator (who holds no exchange). Each refusal changes nothing.
    async fn who_may_push_cell_by_cell(app: TestApp) {
        let callers = [
            ("anonymous", None),
            ("other tenant", Some(app.new_client(&["listings:write", "listings:publish"]).await)),
            ("own without scope", Some(app.client_in(&app.publisher.organization_id, &["changes:read"]).await)),
            ("own with scope", Some(app.publisher.clone())),
            ("moderator", Some(app.new_client(&["listings:moderate"]).await)),
            ("operator", Some(app.new_client(&["admin"]).await)),
        ];
        // (status, problem code of the answer, or of the batch's one item; none: done)
        let put_cells = [(401, "unauthorized"), (403, "source_exchange_not_held"), (403, "insufficient_scope"), (200, ""), (403, "insufficient_scope"), (403, "source_exchange_not_held")];
        let push_cells = [(401, "unauthorized"), (200, "source_exchange_not_held"), (403, "insufficient_scope"), (200, ""), (403, "insufficient_scope"), (200, "source_exchange_not_held")];
        let move_cells = [(401, "unauthorized"), (200, "forbidden"), (403, "insufficient_scope"), (200, ""), (403, "insufficient_scope"), (200, "")];
        for (cell, (who, client)) in callers.iter().enumerate() {
            let session = match client { Some(client) => app.as_client(client), None => app.anonymous() };
            let external_id = format!("W-{cell}");
            let id = app.publish_listing(&record(&external_id)).await;
            let before = app.change_count();
            let changed = listing_with(json!({"trl": 3, "source": {"exchange": FIXTURE_EXCHANGE, "external_id": external_id}}));

            let reply = session.send(TestRequest::put().uri(&by_source(&external_id)).set_json(&changed)).await;
            let (status, code) = put_cells[cell];
            if code.is_empty() {
                assert_eq!((reply.status.as_u16(), reply.header("sync-result")), (status, Some("updated")), "put, {who}: {:#}", reply.body);
            } else {
                reply.problem(status, code);
            }

            let pushed = session.post("/v1/listings/batch", &json!({"items": [{"op": "upsert", "listing": listing_with(json!({"trl": 4, "source": changed["source"]}))}]})).await;
            let moved = session.post("/v1/listings/batch", &json!({"items": [{"op": "withdraw", "id": id}]})).await;
            for (reply, (status, code), done, what) in [(&pushed, push_cells[cell], "updated", "push"), (&moved, move_cells[cell], "moved", "move")] {
                assert_eq!(reply.status.as_u16(), status, "{what}, {who}: {:#}", reply.body);
                match (status, code) {
                    (200, "") => assert_eq!(reply.body["items"][0]["result"], done, "{what}, {who}"),
                    (200, code) => assert_eq!(reply.body["items"][0]["problem"]["code"], code, "{what}, {who}"),
                    (status, code) => { reply.problem(status, code); }
                }
            }
            let writes = [put_cells[cell], push_cells[cell], move_cells[cell]].iter().filter(|(_, code)| code.is_empty()).count() as i64;
            assert_eq!(app.change_count(), before + writes, "{who}: only what was done is logged");
        }
    }

    /// A server stopped after a request's write committed and before its answer was kept: the
    /// retry never runs the write again, whether the key is freed by the server's restart or
    /// deemed abandoned after 5 minutes; it hears `idempotency_answer_lost`.
    async fn a_committed_write_whose_answer_was_lost_is_not_run_again(app: TestApp) {
        let created = post_keyed(&app, None, "/v1/listings", "lost-1", &listing_body()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
        let changes = app.change_count();
        lose_answer(&app, "lost-1", Some("server-a"));
        // The restart of the server that held it.
        let mut conn = app.db.conn().unwrap();
        assert_eq!(techex_persistence::idempotency::release_held_by(&mut conn, "server-a").unwrap(), 1);
        for _ in 0..2 {
            let retry = post_keyed(&app, None, "/v1/listings", "lost-1", &listing_body()).await;
            retry.problem(409, "idempotency_answer_lost");
            assert_eq!(retry.header("idempotent-replayed"), None);
        }
        assert_eq!(app.change_count(), changes, "the creation ran once");
        let other = post_keyed(&app, None, "/v1/listings", "lost-1", &record("L-1")).await;
        other.problem(422, "idempotency_key_reused");
        assert_eq!(techex_persistence::idempotency::release_held_by(&mut conn, "server-a").unwrap(), 0);

        // On another server: abandoned after 5 minutes, the move is not replayed as illegal.
        let publish = format!("/v1/listings/{}/publish", created.body["id"].as_str().unwrap());
        let moved = post_keyed(&app, None, &publish, "lost-2", &Value::Null).await;
        assert_eq!(moved.body["status"], "published", "{:#}", moved.body);
        lose_answer(&app, "lost-2", None);
        app.clock.advance(chrono::Duration::minutes(6));
        post_keyed(&app, None, &publish, "lost-2", &Value::Null).await.problem(409, "idempotency_answer_lost");
        assert_eq!(app.change_count(), changes + 1, "the move ran once");

        // A key freed after the commit because its answer was not kept (a 5xx): lost at once.
        let second = post_keyed(&app, None, "/v1/listings", "lost-3", &record("L-3")).await;
        assert_eq!(second.status, StatusCode::CREATED, "{:#}", second.body);
        lose_answer(&app, "lost-3", None);
        techex_persistence::idempotency::release(&mut conn, &app.publisher.id, "lost-3").unwrap();
        post_keyed(&app, None, "/v1/listings", "lost-3", &record("L-3")).await.problem(409, "idempotency_answer_lost");
        assert_eq!(app.change_count(), changes + 2, "the creation ran once");
    }

    /// A key left unanswered by a stopped server whose request did not commit (it was cut short
    /// or its write rolled back) is freed: the retry runs the request.
    async fn a_request_that_did_not_commit_runs_again_on_retry(app: TestApp) {
        let changes = app.change_count();
        let mut conn = app.db.conn().unwrap();
        let now = app.clock.now();
        let reserved = techex_persistence::idempotency::reserve(&mut conn, &app.publisher.id, "cut-1", "-", now, now + chrono::Duration::hours(24), now - chrono::Duration::minutes(5), Some("server-a")).unwrap();
        assert_eq!(reserved, techex_persistence::idempotency::Reservation::Reserved);
        assert_eq!(techex_persistence::idempotency::release_held_by(&mut conn, "server-a").unwrap(), 1);
        let ran = post_keyed(&app, None, "/v1/listings", "cut-1", &record("N-1")).await;
        assert_eq!((ran.status, ran.header("idempotent-replayed")), (StatusCode::CREATED, None), "{:#}", ran.body);
        assert_eq!(app.change_count(), changes + 1);

        // A write refused inside its transaction (rolled back) leaves no mark either.
        let refused = post_keyed(&app, None, "/v1/listings", "cut-2", &record("N-1")).await;
        refused.problem(409, "duplicate_source");
        lose_answer(&app, "cut-2", Some("server-a"));
        assert_eq!(techex_persistence::idempotency::release_held_by(&mut conn, "server-a").unwrap(), 1);
        let again = post_keyed(&app, None, "/v1/listings", "cut-2", &record("N-1")).await;
        again.problem(409, "duplicate_source");
        assert_eq!(again.header("idempotent-replayed"), None, "the request ran again");
        assert_eq!(app.change_count(), changes + 1);
    }

    /// A key is kept 24 hours: a day later the same key runs the request anew, and the periodic
    /// job forgets the keys past their time.
    async fn an_idempotency_key_is_forgotten_after_a_day(app: TestApp) {
        let body = record("E-1");
        let first = post_keyed(&app, None, "/v1/listings", "daily", &body).await;
        assert_eq!(first.status, StatusCode::CREATED);
        app.clock.advance(chrono::Duration::hours(23));
        let replayed = post_keyed(&app, None, "/v1/listings", "daily", &body).await;
        assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
        app.clock.advance(chrono::Duration::hours(2));
        let anew = post_keyed(&app, None, "/v1/listings", "daily", &body).await;
        anew.problem(409, "duplicate_source");
        assert_eq!(anew.header("idempotent-replayed"), None, "the request ran again");
        assert_eq!(techex_api::idempotency::purge(&app.db, app.clock.now()).unwrap(), 0, "the key holds the new answer");
        app.clock.advance(chrono::Duration::hours(25));
        assert_eq!(techex_api::idempotency::purge(&app.db, app.clock.now()).unwrap(), 1);
    }
}

async fn post_keyed(app: &TestApp, client: Option<&TestClient>, path: &str, key: &str, body: &Value) -> Reply {
    let mut req = TestRequest::post().uri(path).insert_header(("idempotency-key", key));
    if !body.is_null() {
        req = req.set_json(body);
    }
    match client {
        Some(client) => app.as_client(client).send(req).await,
        None => app.send_as_publisher(req).await,
    }
}

/// Makes `key`'s answer lost, as when its server (named `holder`) stopped before keeping it.
fn lose_answer(app: &TestApp, key: &str, holder: Option<&str>) {
    use diesel::RunQueryDsl;
    let holder = holder.map_or("NULL".to_owned(), |holder| format!("'{holder}'"));
    let query = format!(
        "UPDATE idempotency_keys SET status = NULL, body = NULL, headers = {holder} WHERE idempotency_key = '{key}'"
    );
    assert_eq!(diesel::sql_query(query).execute(&mut *app.db.conn().unwrap()).unwrap(), 1);
}
