//! `/v1/organizations`: reads, the operator's writes, versions and conflicts.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::json;
use techex_tests::backend_tests;

const UNKNOWN: &str = "/v1/organizations/01937a4e-0000-7000-8000-000000000000";

backend_tests! {
    async fn an_unknown_organization_is_organization_not_found(app: TestApp) {
        app.anonymous().get(UNKNOWN).await.problem(404, "organization_not_found");
        let admin = app.new_client(&["admin"]).await;
        app.as_client(&admin).patch(UNKNOWN, &json!({"tax_code": null})).await.problem(404, "organization_not_found");
        app.anonymous().get("/v1/organizations/not-an-id").await.problem(400, "invalid_path");
    }

    async fn a_tax_code_belongs_to_one_organization_on_create_and_on_update(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let operator = app.as_client(&admin);
        let body = |name: &str, tax_code: &str| json!({"kind": "enterprise", "name": {"vi": name}, "province": "79", "tax_code": tax_code});
        let first = operator.post("/v1/organizations", &body("Công ty Một", "0123456787")).await;
        assert_eq!(first.status, StatusCode::CREATED, "{:#}", first.body);
        operator.post("/v1/organizations", &body("Công ty Hai", "0123456787")).await.problem(409, "duplicate_tax_code");
        let other = format!("/v1/organizations/{}", app.publisher.organization_id);
        operator.patch(&other, &json!({"tax_code": "0123456787"})).await.problem(409, "duplicate_tax_code");
        let unchanged = app.anonymous().get(&other).await;
        assert_eq!((unchanged.body["tax_code"].clone(), unchanged.body["version"].as_i64()), (json!(null), Some(1)));
    }

    async fn if_match_guards_organization_updates(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let path = format!("/v1/organizations/{}", app.publisher.organization_id);
        let read = app.anonymous().get(&path).await;
        let etag = read.header("etag").unwrap().to_owned();
        assert_eq!(etag, "\"v1\"");
        let patch = |tag: &str, phone: &str| {
            TestRequest::patch().uri(&path).insert_header(("if-match", tag.to_owned())).set_json(json!({"contact": {"phone": phone}}))
        };
        let updated = app.as_client(&admin).send(patch(&etag, "0251 3822 111")).await;
        assert_eq!(updated.status, StatusCode::OK, "{:#}", updated.body);
        assert_eq!(updated.header("etag"), Some("\"v2\""));
        app.as_client(&admin).send(patch(&etag, "0251 3822 222")).await.problem(412, "precondition_failed");
        app.as_client(&admin).send(patch("", "0251 3822 222")).await.problem(400, "invalid_header");
        assert_eq!(app.anonymous().get(&path).await.body["contact"]["phone"], "0251 3822 111");
    }

    // Concurrent edits of one organization queue on its row lock, as listings' do: none is
    // refused as a conflict and none is lost.
    async fn concurrent_updates_without_if_match_all_land(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let operator = app.as_client(&admin);
        let path = format!("/v1/organizations/{}", app.publisher.organization_id);
        let before = app.anonymous().get(&path).await.body["version"].as_i64().unwrap();
        let bodies: Vec<_> = (0..8).map(|i| json!({"contact": {"address": format!("Số {i} Đồng Khởi, Biên Hòa")}})).collect();
        let replies = futures_util::future::join_all(bodies.iter().map(|body| operator.patch(&path, body))).await;
        for reply in &replies {
            assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
        }
        let mut versions: Vec<i64> = replies.iter().map(|r| r.body["version"].as_i64().unwrap()).collect();
        versions.sort();
        assert_eq!(versions, ((before + 1)..=(before + 8)).collect::<Vec<_>>());
        assert_eq!(app.anonymous().get(&path).await.body["version"], before + 8);
    }
}
