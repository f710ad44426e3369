//! Saved searches and match subscriptions through `/v1/searches`: one alert per listing that
//! newly matches, none for the rest, delivered to webhooks as `search.alert`; validation as
//! `GET /v1/listings` validates, tenancy and roles. The alert job's passes are run by hand.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{TestApp, TestClient, backend_tests, listing_with};

use crate::webhooks::{Receiver, pass_until, subscribe};

/// A listing of `kind` with the given title, field and province, without a source.
fn listing(kind: &str, title: &str, field: &str, province: &str) -> Value {
    listing_with(json!({
        "kind": kind, "title": {"vi": title}, "summary": {"vi": title}, "keywords": [],
        "field_codes": [field], "trl": 7, "province": province, "source": null,
        "owner": {"organization_id": null, "name": "Công ty Thử nghiệm"},
    }))
}

const DRYER: &str = "Máy sấy cà phê bằng năng lượng mặt trời";
const ROBOT: &str = "Robot hàn công nghiệp sáu trục";

/// Runs alert passes until `changes` more listing changes have been read (PostgreSQL hands a
/// change to the job only once no older transaction runs in the cluster, so a pass may find
/// nothing yet), or a generous deadline passes. Returns the alerts recorded.
fn alert_passes(app: &TestApp, changes: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut read, mut alerts) = (0, 0);
    while read < changes && Instant::now() < deadline {
        let pass = techex_api::alerts::run_once(&app.db, app.clock.now()).unwrap();
        read += pass.read;
        alerts += pass.alerts;
        if read < changes {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    assert!(read >= changes, "the alert job read {read} of {changes} changes");
    alerts
}

async fn save(app: &TestApp, who: &TestClient, body: Value) -> Value {
    let reply = app.as_client(who).post("/v1/searches", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    reply.body
}

async fn alerts_of(app: &TestApp, who: &TestClient, search: &str) -> Vec<Value> {
    let reply = app.as_client(who).get(&format!("/v1/searches/{search}/alerts")).await;
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

fn listed(alerts: &[Value]) -> Vec<&str> {
    alerts.iter().map(|a| a["listing"]["id"].as_str().unwrap()).collect()
}

backend_tests! {
    /// The case: publishing a matching listing creates exactly one alert, an unrelated
    /// one none, and an update that keeps it matching none either. A listing that stops matching
    /// and matches again alerts again; a draft never does.
    async fn a_saved_search_alerts_once_per_newly_matching_listing(app: TestApp) {
        let watcher = app.new_client(&["changes:read"]).await;
        let search = save(&app, &watcher, json!({"name": "Coffee dryers", "query": "q=sấy cà phê&kind=offer"})).await;
        let id = search["id"].as_str().unwrap();
        assert_eq!(search["kind"], "query");

        let unrelated = app.publish_listing(&listing("offer", ROBOT, "202", "79")).await;
        let dryer = app.publish_listing(&listing("offer", DRYER, "211", "79")).await;
        let draft = app.create_listing(&listing("offer", DRYER, "211", "75")).await;
        assert_eq!(alert_passes(&app, 5), 1);
        let alerts = alerts_of(&app, &watcher, id).await;
        assert_eq!(listed(&alerts), vec![dryer.as_str()], "{alerts:#?}");
        assert_ne!(dryer, unrelated);
        assert_ne!(dryer, draft);
        assert_eq!(alerts[0]["search_id"], id);
        assert_eq!(alerts[0]["listing"]["title_vi"], DRYER);
        assert!(alerts[0]["score"].is_null() && alerts[0]["reasons"].is_null());

        // The list agrees: the search's query finds the one listing alerted.
        let found = app.anonymous().get("/v1/listings?q=s%E1%BA%A5y%20c%C3%A0%20ph%C3%AA&kind=offer").await;
        let ids: Vec<&str> = found.body["items"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![dryer.as_str()]);

        let path = format!("/v1/listings/{dryer}");
        let still = app.patch(&path, &json!({"trl": 8})).await;
        assert_eq!(still.status, StatusCode::OK, "{:#}", still.body);
        assert_eq!(alert_passes(&app, 1), 0);
        assert_eq!(alerts_of(&app, &watcher, id).await.len(), 1);

        let away = app.patch(&path, &json!({"title": {"vi": ROBOT}, "summary": {"vi": ROBOT}})).await;
        assert_eq!(away.status, StatusCode::OK, "{:#}", away.body);
        assert_eq!(alert_passes(&app, 1), 0);
        let back = app.patch(&path, &json!({"title": {"vi": DRYER}, "summary": {"vi": DRYER}})).await;
        assert_eq!(back.status, StatusCode::OK, "{:#}", back.body);
        assert_eq!(alert_passes(&app, 1), 1);
        assert_eq!(listed(&alerts_of(&app, &watcher, id).await), vec![dryer.as_str(), dryer.as_str()]);
    }

    /// Listings written before a search was made are no news to it, even when the job reads
    /// their changes after; a later change that keeps them matching alerts once.
    async fn a_search_alerts_only_for_changes_after_it_was_made(app: TestApp) {
        let dryer = app.publish_listing(&listing("offer", DRYER, "211", "79")).await;
        let watcher = app.new_client(&["changes:read"]).await;
        let search = save(&app, &watcher, json!({"name": "Coffee dryers", "query": "q=sấy cà phê"})).await;
        let id = search["id"].as_str().unwrap();
        assert_eq!(alert_passes(&app, 2), 0);
        assert!(alerts_of(&app, &watcher, id).await.is_empty());
        let edited = app.patch(&format!("/v1/listings/{dryer}"), &json!({"trl": 8})).await;
        assert_eq!(edited.status, StatusCode::OK, "{:#}", edited.body);
        assert_eq!(alert_passes(&app, 1), 1);
        assert_eq!(listed(&alerts_of(&app, &watcher, id).await), vec![dryer.as_str()]);
    }

    /// A demand's publisher subscribes to the new offers that match it: a matching offer of
    /// another organization alerts with its score and reasons, an unrelated one does not.
    async fn a_match_subscription_alerts_with_score_and_reasons(app: TestApp) {
        let demand = app.publish_listing(&listing("demand", "Cần công nghệ sấy cà phê bằng năng lượng mặt trời", "211", "79")).await;
        let keeper = app.client_in(&app.publisher.organization_id, &["changes:read"]).await;
        let subscription = save(&app, &keeper, json!({"name": "Dryer offers", "matches_for": demand})).await;
        assert_eq!(subscription["kind"], "matches");
        assert_eq!(subscription["matches_for"], demand.as_str());
        let id = subscription["id"].as_str().unwrap();

        let other = app.new_client(&["listings:write", "listings:publish"]).await;
        let offer = app.as_client(&other).post("/v1/listings", &listing("offer", DRYER, "211", "75")).await;
        let offer = offer.body["id"].as_str().unwrap().to_owned();
        let published = app.as_client(&other).post_empty(&format!("/v1/listings/{offer}/publish")).await;
        assert_eq!(published.status, StatusCode::OK, "{:#}", published.body);
        let robot = app.as_client(&other).post("/v1/listings", &listing("offer", ROBOT, "202", "01")).await;
        let robot = robot.body["id"].as_str().unwrap().to_owned();
        app.as_client(&other).post_empty(&format!("/v1/listings/{robot}/publish")).await;
        assert_eq!(alert_passes(&app, 4), 1);

        let alerts = alerts_of(&app, &keeper, id).await;
        assert_eq!(listed(&alerts), vec![offer.as_str()]);
        let score = alerts[0]["score"].as_i64().unwrap();
        assert!((30..=100).contains(&score), "{score}");
        let codes: Vec<&str> = alerts[0]["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
        assert!(codes.contains(&"same_field") && codes.contains(&"shared_words"), "{codes:?}");
        // The same score as the matches endpoint gives.
        let matches = app.anonymous().get(&format!("/v1/listings/{demand}/matches")).await;
        assert_eq!(matches.body["items"][0]["listing"]["id"], offer.as_str());
        assert_eq!(matches.body["items"][0]["score"], score);
    }

    /// Each alert goes to the webhook subscriptions of the client that saved the search and
    /// take `search.alert`, signed and sent like every delivery.
    async fn alerts_are_delivered_to_webhooks(app: TestApp) {
        let watcher = app.new_client(&["changes:read"]).await;
        let receiver = Receiver::start(&[]);
        subscribe(&app, &watcher, &receiver.url, &["search.alert"]).await;
        let search = save(&app, &watcher, json!({"name": "Coffee dryers", "query": "q=sấy cà phê"})).await;
        let dryer = app.publish_listing(&listing("offer", DRYER, "211", "79")).await;
        assert_eq!(alert_passes(&app, 2), 1);
        pass_until(&app, || !receiver.received().is_empty());
        let received = receiver.received();
        assert_eq!(received.len(), 1, "{received:?}");
        let body = received[0].json();
        assert_eq!(body["type"], "search.alert");
        assert_eq!(body["data"]["search_id"], search["id"]);
        assert_eq!(body["data"]["search_name"], "Coffee dryers");
        assert_eq!(body["data"]["listing"]["id"], dryer.as_str());
    }

    /// The query is read as `GET /v1/listings` reads it, problems named `query.<parameter>`
    /// with the same codes; paging, order and status have no place in it.
    async fn a_saved_query_is_checked_as_the_listing_search_checks_it(app: TestApp) {
        let keeper = app.client_in(&app.publisher.organization_id, &["changes:read"]).await;
        let session = app.as_client(&keeper);
        let cases: [(Value, &[(&str, &str)]); 9] = [
            (json!({"name": "x", "query": "trl_min=12"}), &[("query.trl_min", "invalid_value")]),
            (json!({"name": "x", "query": "colour=red"}), &[("query.colour", "unknown_field")]),
            (json!({"name": "x", "query": "province=99"}), &[("query.province", "unknown_province")]),
            (json!({"name": "x", "query": "sort=newest&limit=5"}), &[("query.sort", "not_in_saved_search"), ("query.limit", "not_in_saved_search")]),
            (json!({"name": "x", "query": "status=draft&trl_min=0"}), &[("query.status", "not_in_saved_search"), ("query.trl_min", "invalid_value")]),
            (json!({"name": "x", "query": format!("q={}", "a".repeat(201))}), &[("query.q", "too_long")]),
            (json!({"name": "", "query": "q=sấy"}), &[("name", "required")]),
            (json!({"name": "x"}), &[("", "invalid_value")]),
            (json!({"name": "x", "query": "q=sấy", "matches_for": "019391a2-7c1e-7d3a-9f00-2b8c4d5e6f70"}), &[("", "invalid_value")]),
        ];
        for (body, expected) in cases {
            let reply = session.post("/v1/searches", &body).await;
            reply.problem(422, "validation_failed");
            let found = reply.field_errors();
            let expected: Vec<(String, String)> = expected.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect();
            assert_eq!(found, expected, "{body}");
        }
        let unknown = session.post("/v1/searches", &json!({"name": "x", "query": "q=a", "extra": 1})).await;
        assert_eq!(unknown.status.as_u16(), 422, "{:#}", unknown.body);
        // A listing of another organization cannot be followed for matches.
        let other = app.new_client(&["listings:write", "listings:publish"]).await;
        let theirs = app.as_client(&other).post("/v1/listings", &listing("demand", DRYER, "211", "79")).await;
        let theirs = theirs.body["id"].as_str().unwrap();
        let refused = session.post("/v1/searches", &json!({"name": "x", "matches_for": theirs})).await;
        refused.problem(422, "validation_failed");
        assert_eq!(refused.field_errors(), vec![("matches_for".to_owned(), "listing_not_found".to_owned())]);
        // A query is accepted with or without its `?`, and kept without it.
        let kept = save(&app, &keeper, json!({"name": " Dryers ", "query": "?q=sấy&province=74,79"})).await;
        assert_eq!((kept["name"].as_str(), kept["query"].as_str()), (Some("Dryers"), Some("q=sấy&province=74,79")));
        // A patch is checked alike, and a match subscription keeps its listing.
        let path = format!("/v1/searches/{}", kept["id"].as_str().unwrap());
        let bad = session.patch(&path, &json!({"query": "cursor=abc"})).await;
        assert_eq!(bad.field_errors(), vec![("query.cursor".to_owned(), "not_in_saved_search".to_owned())]);
        let to_matches = session.patch(&path, &json!({"query": null, "matches_for": theirs})).await;
        assert_eq!(to_matches.field_errors(), vec![("matches_for".to_owned(), "invalid_value".to_owned())]);
    }

    /// An organization keeps at most 50 searches.
    async fn an_organization_keeps_a_bounded_number_of_searches(app: TestApp) {
        let keeper = app.client_in(&app.publisher.organization_id, &["changes:read"]).await;
        for n in 0..50 {
            save(&app, &keeper, json!({"name": format!("search {n}"), "query": "kind=offer"})).await;
        }
        let over = app.as_client(&keeper).post("/v1/searches", &json!({"name": "one more", "query": "kind=offer"})).await;
        over.problem(422, "validation_failed");
        assert_eq!(over.field_errors(), vec![(String::new(), "too_many".to_owned())]);
        let counted = app.as_client(&keeper).get("/v1/searches?total=true&limit=10").await;
        assert_eq!(counted.body["total"], 50);
        assert_eq!(counted.body["items"].as_array().unwrap().len(), 10);
        assert!(counted.body["next_cursor"].is_string());
    }

    /// Reads, patches (with If-Match) and deletion, by every kind of caller: a search is its
    /// organization's (and the operator's), kept with `changes:read`; anyone else finds nothing.
    async fn searches_belong_to_their_organization(app: TestApp) {
        let keeper = app.client_in(&app.publisher.organization_id, &["changes:read"]).await;
        let colleague = app.client_in(&app.publisher.organization_id, &["changes:read"]).await;
        let other_tenant = app.new_client(&["changes:read", "listings:write", "listings:publish"]).await;
        let moderator = app.new_client(&["listings:moderate"]).await;
        let admin = app.new_client(&["admin"]).await;
        let search = save(&app, &keeper, json!({"name": "Dryers", "query": "q=sấy"})).await;
        let id = search["id"].as_str().unwrap();
        let path = format!("/v1/searches/{id}");
        let alerts = format!("{path}/alerts");
        let body = json!({"name": "x", "query": "q=a"});

        for path in ["/v1/searches", path.as_str(), alerts.as_str()] {
            app.anonymous().get(path).await.problem(401, "unauthorized");
            // The publisher's own organization, without changes:read; a moderator likewise.
            app.get(path).await.problem(403, "insufficient_scope");
            app.as_client(&moderator).get(path).await.problem(403, "insufficient_scope");
        }
        app.anonymous().post("/v1/searches", &body).await.problem(401, "unauthorized");
        app.anonymous().patch(&path, &json!({"name": "y"})).await.problem(401, "unauthorized");
        app.anonymous().delete(&path).await.problem(401, "unauthorized");
        app.post("/v1/searches", &body).await.problem(403, "insufficient_scope");
        app.patch(&path, &json!({"name": "y"})).await.problem(403, "insufficient_scope");
        app.delete(&path).await.problem(403, "insufficient_scope");

        let stranger = app.as_client(&other_tenant);
        stranger.get(&path).await.problem(404, "search_not_found");
        stranger.get(&alerts).await.problem(404, "search_not_found");
        stranger.patch(&path, &json!({"name": "mine"})).await.problem(404, "search_not_found");
        stranger.delete(&path).await.problem(404, "search_not_found");
        let list = stranger.get("/v1/searches").await;
        assert_eq!(list.body["items"], json!([]), "{:#}", list.body);
        let theirs = save(&app, &other_tenant, body.clone()).await;

        // Every client of the organization with changes:read keeps the organization's searches.
        let mine = app.as_client(&colleague).get(&path).await;
        assert_eq!(mine.status, StatusCode::OK, "{:#}", mine.body);
        let own = app.as_client(&colleague).get("/v1/searches").await;
        assert_eq!(own.body["items"].as_array().unwrap().len(), 1, "{:#}", own.body);
        let everyone = app.as_client(&admin).get("/v1/searches").await;
        assert_eq!(everyone.body["items"].as_array().unwrap().len(), 2);
        assert_eq!(app.as_client(&admin).get(&alerts).await.status, StatusCode::OK);
        let theirs_path = format!("/v1/searches/{}", theirs["id"].as_str().unwrap());
        assert_eq!(app.as_client(&admin).get(&theirs_path).await.status, StatusCode::OK);

        let session = app.as_client(&colleague);
        let read = session.get(&path).await;
        assert_eq!(read.header("etag"), Some("\"v1\""));
        let stale = session
            .send(TestRequest::patch().uri(&path).insert_header(("if-match", "\"v7\"")).set_json(json!({"name": "y"})))
            .await;
        stale.problem(412, "precondition_failed");
        let renamed = session
            .send(TestRequest::patch().uri(&path).insert_header(("if-match", "\"v1\"")).set_json(json!({"name": "Dryers, all"})))
            .await;
        assert_eq!(renamed.status, StatusCode::OK, "{:#}", renamed.body);
        assert_eq!((renamed.body["name"].as_str(), renamed.body["version"].as_i64()), (Some("Dryers, all"), Some(2)));
        session.get("/v1/searches/not-a-uuid").await.problem(400, "invalid_path");
        let gone = session.delete(&path).await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT, "{:#}", gone.body);
        session.get(&path).await.problem(404, "search_not_found");
        app.as_client(&admin).delete(&theirs_path).await;
        app.as_client(&other_tenant).get(&theirs_path).await.problem(404, "search_not_found");
    }
}
