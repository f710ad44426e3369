//! The bulk load writes what the API's writes would: the same generated data set, loaded in bulk
//! into one hub and through `kit::create` into another, is served alike by both, record by
//! record, in the change feed, in a search and in facet counts.

use chrono::{DateTime, Utc};
use serde_json::Value;
use techex_bench::load::{self, Options, Path};
use techex_tests::{TestApp, TestBackend, TestClient, backend_tests};

fn options() -> Options {
    Options {
        listings: 300,
        listings_per_exchange: 100,
        listings_per_party: 50,
        listings_per_contract: 8,
        listings_per_center: 100,
        batch: 120,
        seed: 3,
    }
}

/// A hub holding the data set, written along `path`, and its operator's client.
async fn hub(backend: TestBackend, path: Path, now: DateTime<Utc>) -> (TestApp, TestClient) {
    let app = TestApp::start(backend).await;
    load::load(&app.db, &options(), path, now, &|_| {}).unwrap();
    let operator = app.new_client(&["admin"]).await;
    (app, operator)
}

/// `GET path` as the operator: the status, the ETag and the body.
async fn get(app: &TestApp, operator: &TestClient, path: &str) -> (u16, Option<String>, Value) {
    let reply = app.as_client(operator).get(path).await;
    (reply.status.as_u16(), reply.header("etag").map(str::to_owned), reply.body)
}

/// The whole change feed as the operator reads it, but for the changes of the records the test
/// harness made itself (its organizations and clients, different in each hub).
async fn feed(app: &TestApp, operator: &TestClient) -> Vec<Value> {
    let mut changes = Vec::new();
    let mut path = "/v1/changes?limit=200".to_owned();
    loop {
        let (status, _, body) = get(app, operator, &path).await;
        assert_eq!(status, 200, "{body}");
        let items = body["items"].as_array().unwrap();
        if items.is_empty() {
            return changes;
        }
        changes.extend(items.iter().filter(|c| generated(app, operator, c)).cloned());
        path = format!("/v1/changes?limit=200&after={}", body["next_cursor"].as_str().unwrap());
    }
}

fn generated(app: &TestApp, operator: &TestClient, change: &Value) -> bool {
    match change["entity"].as_str().unwrap() {
        "listing" | "contract" | "center" => true,
        "organization" => ![&app.publisher.organization_id, &operator.organization_id]
            .contains(&&change["id"].as_str().unwrap().to_owned()),
        _ => false,
    }
}

backend_tests! {
    async fn the_bulk_load_is_served_as_the_api_writes_are(app: TestApp) {
        let backend = app.backend();
        drop(app);
        let now = "2026-11-20T03:00:00Z".parse().unwrap();
        let (bulk, bulk_operator) = hub(backend, Path::Bulk, now).await;
        let (api, api_operator) = hub(backend, Path::Api, now).await;

        // The newest listings and every contract, with the listing each closed or left open, one
        // by one: body and ETag.
        let contracts = "/v1/contracts?limit=100";
        let (status, _, listed) = get(&api, &api_operator, contracts).await;
        assert_eq!(status, 200, "{listed}");
        let listed = listed["items"].as_array().unwrap().clone();
        assert!(listed.len() >= 30, "{listed:?}");
        let (_, _, newest) = get(&api, &api_operator, "/v1/listings?limit=100").await;
        assert_eq!(get(&bulk, &bulk_operator, "/v1/listings?limit=100").await.2, newest);
        let mut paths: Vec<String> = newest["items"].as_array().unwrap().iter().map(|l| format!("/v1/listings/{}", l["id"].as_str().unwrap())).collect();
        assert!(paths.len() >= 50, "{newest}");
        for contract in &listed {
            paths.push(format!("/v1/contracts/{}", contract["id"].as_str().unwrap()));
            paths.push(format!("/v1/listings/{}", contract["technology"]["listing_id"].as_str().unwrap()));
        }
        for path in &paths {
            let answer = get(&api, &api_operator, path).await;
            assert_eq!(answer.0, 200, "{path}: {}", answer.2);
            assert_eq!(get(&bulk, &bulk_operator, path).await, answer, "{path}");
        }
        assert!(listed.iter().any(|c| c["status"] == "in_effect"), "{listed:?}");

        // The change feed: every change, in the same order, with the same data.
        let changes = feed(&api, &api_operator).await;
        assert!(changes.len() > 300, "{}", changes.len());
        let bulk_changes = feed(&bulk, &bulk_operator).await;
        assert_eq!(bulk_changes.len(), changes.len());
        for (bulk_change, change) in bulk_changes.iter().zip(&changes) {
            assert_eq!(bulk_change, change);
        }

        // Searches by words and by the filters the side rows serve (fields, transfer forms,
        // methods and rights), and facet counts over every listing.
        for path in [
            "/v1/listings?q=m%C3%A1y%20s%E1%BA%A5y&limit=100",
            "/v1/listings?q=nuoc&province=79&limit=100",
            "/v1/listings?limit=1&facets=kind,province,field,trl,ip_status,transfer_form",
            "/v1/listings?limit=1&transfer_form=independent&field=2&facets=transfer_form,field",
            "/v1/listings?right=ownership&transfer_method=training&total=true&limit=100",
            "/v1/listings?right=non_exclusive_use&right=exclusive_use&total=true&limit=100",
        ] {
            let answer = get(&api, &api_operator, path).await;
            assert_eq!(answer.0, 200, "{path}: {}", answer.2);
            let found = answer.2["items"].as_array().unwrap().len() + answer.2["facets"].as_object().map_or(0, |f| f.len());
            assert!(found > 0, "{path}: {}", answer.2);
            assert_eq!(get(&bulk, &bulk_operator, path).await, answer, "{path}");
        }
        // The bulk load keeps the facet counts of the whole published set as the API's writes do:
        // without a filter they answer as the live count through a filter that keeps everything.
        for level in 1..=3 {
            let kept = format!("/v1/listings?limit=1&field_level={level}&facets=kind,province,field,trl,ip_status,transfer_form");
            let live = format!("{kept}&kind=offer,demand");
            assert_eq!(get(&bulk, &bulk_operator, &kept).await.2["facets"], get(&bulk, &bulk_operator, &live).await.2["facets"], "{kept}");
        }
    }
}
