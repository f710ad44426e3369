//! `techex sync`: a hub on PostgreSQL mirrors, over real HTTP, the public data of a hub on
//! SQLite through that hub's change feed: idempotently, resumably, deletions and withdrawals
//! included.

use std::ops::ControlFlow;

use actix_web::http::StatusCode;
use serde_json::{Value, json};
use techex_api::sync::{Applied, RemoteHub, sync_once};
use techex_persistence::{Db, change_log, mirror};
use techex_tests::{TestApp, TestBackend, TestClient, listing_with};

/// What two hubs legitimately show differently of the same record: its local version, the
/// actions offered, and the names an organization pushes under (held on its own hub only).
fn comparable(mut record: Value) -> Value {
    let fields = record.as_object_mut().unwrap();
    for local in ["version", "allowed_actions", "source_exchanges"] {
        fields.remove(local);
    }
    record
}

/// The public page at `path`, as an anonymous caller reads it, each item [`comparable`].
async fn public(app: &TestApp, path: &str) -> Vec<Value> {
    let reply = app.anonymous().get(path).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {:#}", reply.body);
    reply.body["items"].as_array().unwrap().iter().cloned().map(comparable).collect()
}

/// Every change the log of `db` holds, whatever the record.
fn changes_in(db: &Db) -> i64 {
    let mut conn = db.conn().unwrap();
    ["listing", "organization", "center", "api_client"].iter().map(|e| change_log::count(&mut conn, e).unwrap()).sum()
}

/// Runs the sync the command line runs from `base_url` into `db`, `page_size` changes a page,
/// stopping after `pages` pages if given.
async fn sync(db: &Db, base_url: &str, follower: &TestClient, page_size: i64, pages: Option<usize>) -> Applied {
    let (db, base_url, id, secret) = (db.clone(), base_url.to_owned(), follower.id.clone(), follower.secret.clone());
    actix_web::rt::task::spawn_blocking(move || {
        let mut remote = RemoteHub::new(&base_url, &id, &secret);
        let mut seen = 0;
        sync_once(&db, &mut remote, page_size, techex_domain::now, |_| {
            seen += 1;
            if pages.is_some_and(|p| seen >= p) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .unwrap()
    })
    .await
    .unwrap()
}

async fn assert_mirrored(a: &TestApp, b: &TestApp) {
    assert_eq!(public(b, "/v1/listings?limit=100").await, public(a, "/v1/listings?limit=100").await);
    assert_eq!(public(b, "/v1/centers?limit=100").await, public(a, "/v1/centers?limit=100").await);
    let on_a = public(a, "/v1/organizations?limit=100").await;
    let on_b: Vec<Value> = public(b, "/v1/organizations?limit=100")
        .await
        .into_iter()
        .filter(|org| on_a.iter().any(|theirs| theirs["id"] == org["id"]))
        .collect();
    assert_eq!(on_b, on_a, "every organization of A is on B as A shows it");
}

#[actix_web::test]
#[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
async fn a_hub_mirrors_another_hubs_public_data_once_and_resumes_where_it_stopped() {
    let a = TestApp::start(TestBackend::Sqlite).await;
    let b = TestApp::start(TestBackend::Postgres).await;
    let follower = a.new_client(&["changes:read"]).await;

    let kept = a.publish_listing(&listing_with(json!({"source": null}))).await;
    let revised = a.publish_listing(&listing_with(json!({"source": null, "trl": 5}))).await;
    let patched = a.patch(&format!("/v1/listings/{revised}"), &json!({"title": {"vi": "Máy sấy thế hệ hai"}})).await;
    assert_eq!(patched.status, StatusCode::OK, "{:#}", patched.body);
    let withdrawn = a.publish_listing(&listing_with(json!({"source": null, "trl": 6}))).await;
    let deleted = a.publish_listing(&listing_with(json!({"source": null, "trl": 4}))).await;
    let draft = a.create_listing(&listing_with(json!({"source": null}))).await;
    let center_writer = a.new_client(&["centers:write"]).await;
    let center = a
        .as_client(&center_writer)
        .post(
            "/v1/centers",
            &json!({"kind": "incubator", "name": {"vi": "Vườn ươm Biên Hòa"}, "province": "75",
                    "address": "Số 1, Biên Hòa", "latitude": 10.9574, "longitude": 106.8427,
                    "services": ["incubation"], "field_codes": ["211"]}),
        )
        .await;
    assert_eq!(center.status, StatusCode::CREATED, "{:#}", center.body);
    assert_eq!(a.post(&format!("/v1/listings/{withdrawn}/withdraw"), &Value::Null).await.status, StatusCode::OK);
    assert_eq!(a.delete(&format!("/v1/listings/{deleted}")).await.status, StatusCode::NO_CONTENT);
    let feed =
        a.as_client(&follower).get("/v1/changes?limit=1000&entity=organization&entity=center&entity=listing").await;
    let feed_length = feed.body["items"].as_array().unwrap().len();

    let base_url = a.serve_http();
    let hub = base_url.trim_start_matches("http://").to_owned();
    // Interrupted after its first page of two changes, the sync has stored where it stopped...
    let first = sync(&b.db, &base_url, &follower, 2, Some(1)).await;
    assert_eq!(first.applied + first.skipped, 2);
    assert!(mirror::cursor(&mut b.db.conn().unwrap(), &hub).unwrap().is_some());
    // ... and resumes there: it reads every other change once, and nothing twice.
    let rest = sync(&b.db, &base_url, &follower, 2, None).await;
    assert_eq!(first.applied + first.skipped + rest.applied + rest.skipped, feed_length);
    assert_mirrored(&a, &b).await;
    let listed: Vec<Value> = public(&b, "/v1/listings?limit=100").await.iter().map(|l| l["id"].clone()).collect();
    assert_eq!(listed, [json!(revised), json!(kept)], "withdrawn, deleted and draft listings are not on B");
    for gone in [&withdrawn, &deleted, &draft] {
        b.anonymous().get(&format!("/v1/listings/{gone}")).await.problem(404, "listing_not_found");
    }
    let history = b.history(&revised);
    assert!(history.iter().all(|c| c.actor.as_deref() == Some(&format!("sync:{hub}")[..])), "{history:?}");

    // Again: nothing new to apply, and nothing written.
    let logged = changes_in(&b.db);
    let again = sync(&b.db, &base_url, &follower, 2, None).await;
    assert_eq!(again.applied, 0);
    assert_eq!(changes_in(&b.db), logged, "B's change log does not grow");
    // Read again from the start, every change is at or below the version mirrored.
    let start = techex_api::routes::changes::encode_position(change_log::FeedPosition::default());
    mirror::set_cursor(&mut b.db.conn().unwrap(), &hub, &start, techex_domain::now()).unwrap();
    let replayed = sync(&b.db, &base_url, &follower, 1000, None).await;
    assert_eq!((replayed.applied, replayed.skipped), (0, feed_length));
    assert_eq!(changes_in(&b.db), logged, "re-applied changes write nothing");

    // Later changes on A follow.
    assert_eq!(a.post(&format!("/v1/listings/{kept}/withdraw"), &Value::Null).await.status, StatusCode::OK);
    let reworded = a.patch(&format!("/v1/listings/{revised}"), &json!({"trl": 8})).await;
    assert_eq!(reworded.status, StatusCode::OK, "{:#}", reworded.body);
    let later = sync(&b.db, &base_url, &follower, 2, None).await;
    assert_eq!(later.applied, 2);
    assert_mirrored(&a, &b).await;
    assert_eq!(b.anonymous().get(&format!("/v1/listings/{revised}")).await.body["trl"], 8);
}
