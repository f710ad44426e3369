//! The listing fields exchanges use: price types, development stage, IP territory, co-owners and
//! the confidential section, written, read, patched, refused and hidden as the rules say.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{backend_tests, listing_with};

/// A listing using every new field.
fn exchange_listing() -> Value {
    listing_with(json!({
        "source": null,
        "price": {"amount": 450000000, "currency": "VND", "negotiable": false, "type": "floor"},
        "development_stage": "pilot",
        "ip_territory": ["VN", "LA"],
        "co_owners": [{"name": "Trường Đại học Bách khoa", "share_percent": 30}],
        "confidential": {
            "technical_details": "Nhiệt độ sấy 55 °C\nĐộ ẩm đầu ra 12 %",
            "commercial_terms": "Phí bản quyền 3 % doanh thu",
            "attachments": [{"url": "https://example.vn/ban-ve.pdf", "title": "Bản vẽ"}]
        }
    }))
}

const SECRET: &str = "Phí bản quyền 3 % doanh thu";

backend_tests! {
    async fn the_exchange_fields_round_trip_through_create_read_patch_and_null(app: TestApp) {
        let created = app.post("/v1/listings", &exchange_listing()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/listings/{id}");
        let read = app.get(&path).await.body;
        assert_eq!(read["price"]["type"], "floor");
        assert_eq!(read["development_stage"], "pilot");
        assert_eq!(read["ip_territory"], json!(["VN", "LA"]));
        assert_eq!(read["co_owners"], json!([{"name": "Trường Đại học Bách khoa", "organization_id": null, "share_percent": 30}]));
        assert_eq!(read["confidential"]["commercial_terms"], SECRET);
        assert_eq!(read["confidential"]["attachments"][0]["title"], "Bản vẽ");
        assert_eq!(read, created.body);

        let patched = app.patch(&path, &json!({
            "price": {"type": "on_request", "amount": null},
            "development_stage": "commercial",
            "ip_territory": ["VN"],
            "co_owners": [{"name": "Công ty B", "organization_id": app.publisher.organization_id, "share_percent": 100}],
            "confidential": {"technical_details": null}
        })).await;
        assert_eq!(patched.status, StatusCode::OK, "{:#}", patched.body);
        assert_eq!(patched.body["price"], json!({"amount": null, "currency": "VND", "negotiable": false, "type": "on_request"}));
        assert_eq!(patched.body["development_stage"], "commercial");
        assert_eq!(patched.body["ip_territory"], json!(["VN"]));
        assert_eq!(patched.body["co_owners"][0]["organization_id"], app.publisher.organization_id.as_str());
        assert!(patched.body["confidential"]["technical_details"].is_null());
        assert_eq!(patched.body["confidential"]["commercial_terms"], SECRET, "a merge patch keeps what it does not name");

        let removed = app.patch(&path, &json!({
            "price": {"type": null, "negotiable": true}, "development_stage": null, "ip_territory": null, "co_owners": null, "confidential": null
        })).await;
        assert_eq!(removed.status, StatusCode::OK, "{:#}", removed.body);
        let read = app.get(&path).await.body;
        assert!(read["price"]["type"].is_null() && read["development_stage"].is_null() && read["confidential"].is_null());
        assert_eq!((read["ip_territory"].clone(), read["co_owners"].clone()), (json!([]), json!([])));
        assert_eq!(app.history(&id).len(), 3, "every write logged");
    }

    async fn each_refused_exchange_field_is_named_with_a_message_in_both_languages(app: TestApp) {
        let bad = listing_with(json!({
            "source": null,
            "ip_status": "none",
            "price": {"amount": 5, "currency": "VND", "negotiable": true, "type": "firm"},
            "ip_territory": ["vn"],
            "co_owners": [{"name": "A", "share_percent": 0}, {"name": "B", "share_percent": 70}, {"name": "C", "share_percent": 40}],
            "confidential": {"attachments": []}
        }));
        let expected = [
            ("price.negotiable", "contradiction", "a firm price is not negotiable; set negotiable to false or choose another type",
             "giá cố định thì không thỏa thuận; hãy đặt negotiable là false hoặc chọn loại giá khác"),
            ("ip_territory", "not_applicable", "an IP territory needs an IP right: set ip_status, or leave the territory out",
             "phạm vi bảo hộ chỉ có khi có quyền sở hữu trí tuệ: hãy đặt ip_status, hoặc bỏ trống phạm vi bảo hộ"),
            ("ip_territory[0]", "invalid_format", "'vn' is not a two-letter country code (ISO 3166-1 alpha-2), such as VN",
             "'vn' không phải là mã quốc gia hai chữ cái (ISO 3166-1 alpha-2), ví dụ VN"),
            ("co_owners[0].share_percent", "out_of_range", "a share must be from 1 to 100 percent, not 0",
             "tỷ lệ sở hữu phải từ 1 đến 100 phần trăm, không phải 0"),
            ("co_owners", "shares_exceed_whole", "the co-owners' shares add up to 110 percent; together they may hold at most 100",
             "tổng tỷ lệ của các đồng sở hữu là 110 phần trăm; cộng lại tối đa chỉ được 100"),
            ("confidential", "required", "a confidential section holds technical details, commercial terms or attachments; leave it out when there are none",
             "phần thông tin mật phải có chi tiết kỹ thuật, điều khoản thương mại hoặc tài liệu đính kèm; hãy bỏ trống nếu không có"),
        ];
        for (language, pick) in [("en", 2), ("vi", 3)] {
            let reply = app.send_as_publisher(TestRequest::post().uri("/v1/listings").insert_header(("accept-language", language)).set_json(&bad)).await;
            reply.problem(422, "validation_failed");
            let errors: Vec<(String, String, String)> = reply.body["errors"].as_array().unwrap().iter()
                .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned(), e["message"].as_str().unwrap().to_owned()))
                .collect();
            let wanted: Vec<(String, String, String)> = expected.iter()
                .map(|e| (e.0.to_owned(), e.1.to_owned(), if pick == 2 { e.2 } else { e.3 }.to_owned()))
                .collect();
            assert_eq!(errors, wanted, "{language}");
        }
        let on_request = listing_with(json!({"source": null, "price": {"amount": 5, "type": "on_request"}}));
        let reply = app.post("/v1/listings", &on_request).await;
        assert_eq!(reply.field_errors(), [("price.amount".to_owned(), "not_allowed".to_owned())]);
        let unpriced = listing_with(json!({"source": null, "price": {"type": "indicative"}}));
        assert_eq!(app.post("/v1/listings", &unpriced).await.field_errors(), [("price.amount".to_owned(), "required".to_owned())]);
        let unknown = listing_with(json!({"source": null, "development_stage": "prototype", "price": {"type": "cheap"}}));
        let reply = app.post("/v1/listings", &unknown).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", reply.body);
        let fields: Vec<String> = reply.field_errors().into_iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["development_stage", "price.type"]);
        let stray = listing_with(json!({"source": null, "confidential": {"commercial_terms": "x", "secret": true}}));
        assert_eq!(app.post("/v1/listings", &stray).await.field_errors(), [("confidential.secret".to_owned(), "unknown_field".to_owned())]);
        let nobody = listing_with(json!({"source": null, "co_owners": [{"name": "X", "organization_id": uuid::Uuid::now_v7(), "share_percent": 10}]}));
        assert_eq!(app.post("/v1/listings", &nobody).await.field_errors(), [("co_owners[0].organization_id".to_owned(), "unknown_organization".to_owned())]);
        assert_eq!(app.change_count(), 0, "nothing refused was written");
    }

    async fn the_confidential_section_is_seen_by_authenticated_callers_only_as_contacts_are(app: TestApp) {
        let published = app.publish_listing(&exchange_listing()).await;
        let path = format!("/v1/listings/{published}");
        let anonymous = app.anonymous().get(&path).await;
        assert_eq!(anonymous.status, StatusCode::OK);
        assert!(anonymous.body["confidential"].is_null() && anonymous.body["contact"].is_null(), "{:#}", anonymous.body);
        assert_eq!(anonymous.body["development_stage"], "pilot", "the rest of the listing is public");
        assert_eq!(anonymous.header("cache-control"), Some("public, max-age=30"));
        let page = app.anonymous().get("/v1/listings").await;
        assert_eq!(page.header("cache-control"), Some("public, max-age=30"));
        assert!(!page.body.to_string().contains(SECRET), "{:#}", page.body);
        assert!(page.body["items"][0]["confidential"].is_null());
        let revalidated = app.anonymous().send(TestRequest::get().uri(&path).insert_header(("if-none-match", anonymous.header("etag").unwrap().to_owned()))).await;
        assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);

        let other = app.new_client(&["listings:write"]).await;
        let own = app.client_in(&app.publisher.organization_id, &[]).await;
        let moderator = app.new_client(&["listings:moderate"]).await;
        let operator = app.new_client(&["admin"]).await;
        for (who, client) in [("another organization's client", &other), ("the own organization's client without scopes", &own), ("the publisher", &app.publisher), ("a moderator", &moderator), ("the operator", &operator)] {
            let seen = app.as_client(client).get(&path).await;
            assert_eq!(seen.body["confidential"]["commercial_terms"], SECRET, "{who}");
            assert_eq!(seen.body["contact"]["email"], "an@example.vn", "{who} sees the contact too");
            assert_eq!(seen.header("cache-control"), Some("private, no-cache"), "{who}");
            let page = app.as_client(client).get("/v1/listings").await;
            assert_eq!(page.body["items"][0]["confidential"]["commercial_terms"], SECRET, "{who}");
        }
    }

    async fn the_vocabulary_labels_the_new_words(app: TestApp) {
        let enums = app.anonymous().get("/v1/reference/enums").await.body;
        let values = |name: &str| enums[name].as_array().unwrap().iter().map(|v| v["value"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(values("price_type"), ["indicative", "floor", "firm", "on_request"]);
        assert_eq!(values("development_stage"), ["laboratory", "pilot", "production_scale", "commercial"]);
        assert_eq!(enums["price_type"][3], json!({"value": "on_request", "label_vi": "Giá liên hệ", "label_en": "Price on request"}));
    }
}
