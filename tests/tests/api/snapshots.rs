//! The public representations as clients receive them, kept as committed snapshots
//! (`tests/tests/api/snapshots/`): a change of any answer shows as a diff to review. Both backends
//! compare against the same snapshot, so they must answer alike. Ids, times and the fixture's
//! expiry (a date relative to today) are redacted; everything else is literal.

use serde_json::{Value, json};
use techex_tests::{backend_tests, listing_body};

/// Compares `value` with the snapshot `name`, shared by both backends' runs.
fn assert_snapshot(name: &str, value: &Value) {
    insta::with_settings!({ prepend_module_to_snapshot => false, snapshot_path => "snapshots" }, {
        insta::assert_json_snapshot!(name, value, {
            ".id" => "[id]",
            ".publisher" => "[id]",
            ".organization_id" => "[id]",
            ".created_at" => "[time]",
            ".updated_at" => "[time]",
            ".published_at" => "[time]",
            ".expires_at" => "[time]",
            ".items[].id" => "[id]",
            ".items[].publisher" => "[id]",
            ".items[].organization_id" => "[id]",
            ".items[].created_at" => "[time]",
            ".items[].updated_at" => "[time]",
            ".items[].published_at" => "[time]",
            ".items[].expires_at" => "[time]",
        });
    });
}

backend_tests! {
    async fn a_listing_as_its_owner_and_as_an_anonymous_caller_see_it(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        let published = app.post(&format!("/v1/listings/{id}/publish"), &Value::Null).await;
        assert_eq!(published.body["status"], "published", "{:#}", published.body);
        assert_snapshot("listing_as_owner", &app.get(&format!("/v1/listings/{id}")).await.body);
        assert_snapshot("listing_as_anonymous", &app.anonymous().get(&format!("/v1/listings/{id}")).await.body);
        assert_snapshot("listing_page", &app.anonymous().get("/v1/listings?limit=5").await.body);
        assert_snapshot("listing_in_english", &app.anonymous().get(&format!("/v1/listings/{id}?lang=en")).await.body);
    }

    async fn an_organization_and_a_client_as_the_operator_reads_them(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let body = json!({
            "kind": "university",
            "name": {"vi": "Trường Đại học Thủ Dầu Một", "en": "Thu Dau Mot University"},
            "province": "74",
            "tax_code": "0123456787",
            "contact": {"email": "khcn@tdmu.edu.vn", "phone": "0274 3822 518", "website": "https://tdmu.edu.vn"},
            "source_exchanges": ["tdmu"]
        });
        let created = app.as_client(&admin).post("/v1/organizations", &body).await;
        let id = created.body["id"].as_str().expect("an id").to_owned();
        assert_snapshot("organization", &app.anonymous().get(&format!("/v1/organizations/{id}")).await.body);
        let client = app.as_client(&admin).get(&format!("/v1/clients/{}", app.publisher.id)).await;
        assert_snapshot("client", &client.body);
    }
    async fn a_nearby_page_of_centers_with_their_distances(app: TestApp) {
        let writer = app.new_client(&["centers:write"]).await;
        let body = json!({
            "kind": "application_transfer_center",
            "name": {"vi": "Trung tâm Ứng dụng tiến bộ KH&CN Đồng Nai", "en": "Dong Nai Center for Applying S&T Progress"},
            "province": "75", "address": "Đường Đồng Khởi, phường Tam Hiệp, Thành phố Đồng Nai",
            "latitude": 10.9574, "longitude": 106.8427,
            "contact": {"phone": "+84 251 3822 123", "email": "lienhe@example.vn", "website": "https://example.vn"},
            "services": ["technology_transfer_consulting", "testing_measurement"], "field_codes": ["211", "401"],
            "opening_hours": "Thứ Hai – Thứ Sáu, 7:30–17:00"
        });
        let created = app.as_client(&writer).post("/v1/centers", &body).await;
        assert_eq!(created.status, actix_web::http::StatusCode::CREATED, "{:#}", created.body);
        assert_snapshot("center_page_nearby", &app.anonymous().get("/v1/centers?near=10.7769,106.7009&radius_km=30").await.body);
    }
}
