//! The parties of the exchange through `/v1/organizations`, and the operator's lookups of
//! organizations and clients that are not there.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{TestApp, TestClient, backend_tests, organization_body};

/// A valid tax code (its check digit matches) and the same with a wrong check digit.
const TAX_CODE: &str = "0123456787";
const TAX_CODE_BAD_CHECK_DIGIT: &str = "0123456788";

async fn register(app: &TestApp, admin: &TestClient, body: &Value) -> String {
    let reply = app.as_client(admin).post("/v1/organizations", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// How many organization changes the change log holds.
fn organization_changes(app: &TestApp) -> i64 {
    techex_persistence::change_log::count(&mut app.db.conn().unwrap(), "organization").unwrap()
}

backend_tests! {
    async fn tax_codes_must_pass_their_check_digit(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let logged = organization_changes(&app);
        for bad in [TAX_CODE_BAD_CHECK_DIGIT, "012345678", "0123456787-000"] {
            let reply = app.as_client(&admin).post("/v1/organizations", &organization_body("Công ty TNHH Đồng Nai Xanh", Some(bad), &[])).await;
            reply.problem(422, "validation_failed");
            assert_eq!(reply.field_errors(), [("tax_code".to_owned(), "invalid_tax_code".to_owned())], "{bad}");
        }
        assert_eq!(organization_changes(&app), logged, "nothing registered");
        let id = register(&app, &admin, &organization_body("Công ty TNHH Đồng Nai Xanh", Some(TAX_CODE), &[])).await;
        let stored = app.anonymous().get(&format!("/v1/organizations/{id}")).await;
        assert_eq!(stored.body["tax_code"], TAX_CODE);
        let branch = register(&app, &admin, &organization_body("Chi nhánh Biên Hòa", Some("0123456787-001"), &[])).await;
        assert_eq!(app.anonymous().get(&format!("/v1/organizations/{branch}")).await.body["tax_code"], "0123456787-001");

        let patched = app.as_client(&admin).patch(&format!("/v1/organizations/{id}"), &json!({"tax_code": TAX_CODE_BAD_CHECK_DIGIT})).await;
        patched.problem(422, "validation_failed");
        assert_eq!(app.anonymous().get(&format!("/v1/organizations/{id}")).await.body["version"], 1);
    }

    async fn one_tax_code_is_one_organization(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let first = register(&app, &admin, &organization_body("Công ty Cổ phần Cơ khí Tân Uyên", Some(TAX_CODE), &[])).await;
        let logged = organization_changes(&app);
        let again = app.as_client(&admin).post("/v1/organizations", &organization_body("Một tên khác", Some(TAX_CODE), &[])).await;
        again.problem(409, "duplicate_tax_code");

        let second = register(&app, &admin, &organization_body("Công ty TNHH Hai", None, &[])).await;
        let path = format!("/v1/organizations/{second}");
        let taken = app.as_client(&admin).patch(&path, &json!({"tax_code": TAX_CODE})).await;
        taken.problem(409, "duplicate_tax_code");
        assert!(app.anonymous().get(&path).await.body["tax_code"].is_null(), "the refused update changed nothing");
        assert_eq!(organization_changes(&app), logged + 1, "only the second registration was logged");
        assert_eq!(app.anonymous().get(&format!("/v1/organizations/{first}")).await.body["name"]["vi"], "Công ty Cổ phần Cơ khí Tân Uyên");
    }

    async fn unknown_organizations_and_clients_are_404_with_their_own_codes(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let operator = app.as_client(&admin);
        let unknown = uuid::Uuid::now_v7();
        app.anonymous().get(&format!("/v1/organizations/{unknown}")).await.problem(404, "organization_not_found");
        operator.patch(&format!("/v1/organizations/{unknown}"), &json!({"province": "79"})).await.problem(404, "organization_not_found");
        operator.get(&format!("/v1/clients/{unknown}")).await.problem(404, "client_not_found");
        operator.patch(&format!("/v1/clients/{unknown}"), &json!({"name": "x"})).await.problem(404, "client_not_found");
        operator.post_empty(&format!("/v1/clients/{unknown}/rotate-secret")).await.problem(404, "client_not_found");
        operator.post_empty(&format!("/v1/clients/{unknown}/revoke")).await.problem(404, "client_not_found");
        let orphan = operator.post("/v1/clients", &json!({"organization_id": unknown, "name": "Cổng", "scopes": ["listings:write"]})).await;
        assert!(orphan.status.is_client_error(), "{:#}", orphan.body);
        assert_eq!(app.as_client(&admin).get(&format!("/v1/clients?organization={unknown}")).await.body["items"], json!([]));
        let malformed = app.anonymous().get("/v1/organizations/not-an-id").await;
        assert_eq!(malformed.problem(400, "invalid_path")["errors"][0]["field"], "id");
    }

    async fn organizations_are_read_listed_and_updated_with_etags(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let id = register(&app, &admin, &organization_body("Trung tâm Ứng dụng tiến bộ KH&CN Đồng Nai", None, &[])).await;
        let path = format!("/v1/organizations/{id}");

        let read = app.anonymous().get(&path).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.header("etag"), Some("\"v1\""));
        assert_eq!((read.body["id"].as_str(), read.body["province"].as_str(), read.body["kind"].as_str()), (Some(id.as_str()), Some("75"), Some("enterprise")));
        let cached = app.anonymous().send(TestRequest::get().uri(&path).insert_header(("if-none-match", "\"v1\""))).await;
        assert_eq!(cached.status, StatusCode::NOT_MODIFIED);

        let patch = |tag: &str, body: Value| TestRequest::patch().uri(&path).insert_header(("if-match", tag.to_owned())).set_json(body);
        let updated = app.as_client(&admin).send(patch("\"v1\"", json!({"province": "74", "contact": {"email": "ttud@dongnai.example.vn"}}))).await;
        assert_eq!(updated.status, StatusCode::OK, "{:#}", updated.body);
        assert_eq!(updated.header("etag"), Some("\"v2\""));
        assert_eq!((updated.body["province"].as_str(), updated.body["province_as_sent"].as_str()), (Some("79"), Some("74")));
        assert_eq!(updated.body["contact"]["email"], "ttud@dongnai.example.vn");
        assert_eq!(updated.body["name"]["vi"], "Trung tâm Ứng dụng tiến bộ KH&CN Đồng Nai", "keys left out stay");

        for stale in ["\"v1\"", "W/\"v2\""] {
            app.as_client(&admin).send(patch(stale, json!({"province": "75"}))).await.problem(412, "precondition_failed");
        }
        app.as_client(&admin).send(patch("garbage", json!({"province": "75"}))).await.problem(400, "invalid_header");
        let unchanged = app.as_client(&admin).send(patch("\"v2\"", json!({"province": "74"}))).await;
        assert_eq!(unchanged.body["version"], 2, "a patch that changes nothing writes nothing");
        let after = app.anonymous().get(&path).await;
        assert_eq!((after.body["version"].as_i64(), after.body["province"].as_str()), (Some(2), Some("79")));
        let changed = app.anonymous().send(TestRequest::get().uri(&path).insert_header(("if-none-match", "\"v1\""))).await;
        assert_eq!(changed.status, StatusCode::OK);

        let history = techex_persistence::change_log::history(&mut app.db.conn().unwrap(), "organization", &id).unwrap();
        let ops: Vec<(&str, i64)> = history.iter().map(|c| (c.op.as_str(), c.version)).collect();
        assert_eq!(ops, [("create", 1), ("update", 2)]);
    }

    async fn organizations_are_listed_in_pages_of_20_by_default(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        // The app starts with the publisher's and the operator's organizations.
        for i in 0..21 {
            register(&app, &admin, &organization_body(&format!("Doanh nghiệp số {i}"), None, &[])).await;
        }
        let first = app.anonymous().get("/v1/organizations").await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(first.body["items"].as_array().unwrap().len(), 20, "the default limit");
        let cursor = first.body["next_cursor"].as_str().expect("a next page").to_owned();
        assert!(first.header("link").is_some_and(|l| l.contains(&cursor) && l.ends_with("rel=\"next\"")));
        let second = app.anonymous().get(&format!("/v1/organizations?cursor={cursor}")).await;
        assert_eq!(second.body["items"].as_array().unwrap().len(), 3);
        assert!(second.body["next_cursor"].is_null());
        let mut ids: Vec<&str> = first.body["items"].as_array().unwrap().iter().chain(second.body["items"].as_array().unwrap()).map(|o| o["id"].as_str().unwrap()).collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "no organization twice");
        assert_eq!(app.anonymous().get("/v1/organizations?limit=101").await.field_errors(), [("limit".to_owned(), "out_of_range".to_owned())]);
    }
}
