//! Error messages a person can read: every problem of a body at once, in plain words, in
//! English or, when the caller prefers it, in Vietnamese.

use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_api::auth::rate_limit::Quota;
use techex_tests::{Options, Reply, TestApp, backend_tests, listing_with};

async fn post_listing(app: &TestApp, body: &Value, accept_language: Option<&str>) -> Reply {
    let mut req = TestRequest::post().uri("/v1/listings").set_json(body);
    if let Some(range) = accept_language {
        req = req.insert_header(("accept-language", range));
    }
    app.send_as_publisher(req).await
}

fn sorted(mut errors: Vec<(String, String)>) -> Vec<(String, String)> {
    errors.sort();
    errors
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    sorted(list.iter().map(|(field, code)| (field.to_string(), code.to_string())).collect())
}

fn message_of<'a>(reply: &'a Reply, field: &str) -> &'a str {
    let errors = reply.body["errors"].as_array().expect("errors");
    errors.iter().find(|e| e["field"] == field).and_then(|e| e["message"].as_str()).expect(field)
}

/// Words of Rust and serde that no person should be shown.
fn assert_plain(reply: &Reply) {
    let text = [&reply.body["title"], &reply.body["detail"]]
        .into_iter()
        .chain(reply.body["errors"].as_array().into_iter().flatten().map(|e| &e["message"]))
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join(" | ");
    for jargon in ["i64", "u8", "struct ", "enum ", "invalid type", "expected", "variant", "`", "sequence", "map"] {
        assert!(!text.contains(jargon), "{jargon:?} in {text}");
    }
}

backend_tests! {
    async fn an_empty_body_names_every_missing_field(app: TestApp) {
        let reply = post_listing(&app, &json!({}), None).await;
        reply.problem(422, "validation_failed");
        let expected = [("kind", "required"), ("title", "required"), ("field_codes", "required"), ("province", "required"), ("owner", "required")];
        assert_eq!(sorted(reply.field_errors()), pairs(&expected));
        assert_eq!(message_of(&reply, "owner"), "is required");
        assert_eq!(reply.body["detail"], "5 field(s) are not as required; errors lists each");
        assert_plain(&reply);
        assert_eq!(app.change_count(), 0);
    }

    async fn missing_fields_at_every_depth_come_with_the_type_errors_beside_them(app: TestApp) {
        let body = json!({
            "title": {"en": "Dryer"},
            "owner": {},
            "trl": "seven",
            "price": {"amount": "450.000.000", "negotiable": "yes"},
            "kind": "sale",
            "colour": "green",
            "media": [{"url": "https://example.vn/a.jpg", "kind": "image"}, {"kind": "hologram"}],
        });
        let reply = post_listing(&app, &body, None).await;
        reply.problem(422, "validation_failed");
        let expected = [
            ("title.vi", "required"),
            ("owner.name", "required"),
            ("trl", "invalid_type"),
            ("price.amount", "invalid_type"),
            ("price.negotiable", "invalid_type"),
            ("kind", "invalid_value"),
            ("colour", "unknown_field"),
            ("media[1].url", "required"),
            ("media[1].kind", "invalid_value"),
            ("field_codes", "required"),
            ("province", "required"),
        ];
        assert_eq!(sorted(reply.field_errors()), pairs(&expected), "{:#}", reply.body);
        assert_eq!(message_of(&reply, "trl"), "must be a whole number, such as 7");
        assert_eq!(message_of(&reply, "price.negotiable"), "must be true or false");
        assert!(message_of(&reply, "kind").starts_with("must be one of: offer, demand"), "{}", message_of(&reply, "kind"));
        assert!(message_of(&reply, "colour").contains("kind, title,"), "{}", message_of(&reply, "colour"));
        assert_plain(&reply);
        assert_eq!(app.change_count(), 0);
    }

    async fn a_wrong_typed_price_is_told_in_plain_words(app: TestApp) {
        let body = listing_with(json!({"price": {"amount": "450.000.000", "currency": "VND"}}));
        let reply = post_listing(&app, &body, None).await;
        reply.problem(422, "validation_failed");
        assert_eq!(reply.field_errors(), pairs(&[("price.amount", "invalid_type")]));
        assert_eq!(message_of(&reply, "price.amount"), "must be a whole number of đồng, without dots or spaces, such as 450000000");
        assert_eq!(reply.body["title"], "Validation failed");
        assert_eq!(reply.header("content-language"), Some("en"));
        assert_plain(&reply);
    }

    async fn vietnamese_is_answered_to_whoever_prefers_it(app: TestApp) {
        let body = listing_with(json!({"price": {"amount": "450.000.000"}, "trl": 12, "colour": "xanh"}));
        let english = post_listing(&app, &body, None).await;
        for range in ["vi", "vi-VN", "en;q=0.5, vi", "fr-FR, vi;q=0.8, en;q=0.7", "VI-vn;q=0.9"] {
            let reply = post_listing(&app, &body, Some(range)).await;
            reply.problem(422, "validation_failed");
            assert_eq!(reply.header("content-language"), Some("vi"), "{range}");
            assert!(reply.headers.get_all("vary").any(|v| v.to_str().unwrap().to_ascii_lowercase().contains("accept-language")));
            assert_eq!(reply.body["title"], "Dữ liệu không hợp lệ", "{range}");
            assert_eq!(reply.body["detail"], "2 trường không đúng yêu cầu; xem từng trường trong errors");
            assert_eq!(
                message_of(&reply, "price.amount"),
                "phải là một số nguyên tính bằng đồng, không có dấu chấm hay khoảng trắng, ví dụ 450000000"
            );
            assert!(message_of(&reply, "colour").starts_with("không phải là trường hợp lệ ở đây"), "{:#}", reply.body);
            // Codes, fields, the type and the status do not change with the language.
            assert_eq!(reply.field_errors(), english.field_errors());
            for key in ["type", "code", "status"] {
                assert_eq!(reply.body[key], english.body[key], "{key}");
            }
            assert_plain(&reply);
        }
        // A rule of the domain, read after the body fits, speaks Vietnamese too.
        let rule = post_listing(&app, &listing_with(json!({"trl": 12})), Some("vi")).await;
        assert_eq!(rule.field_errors(), pairs(&[("trl", "out_of_range")]));
        assert_eq!(message_of(&rule, "trl"), "mức độ sẵn sàng công nghệ (TRL) phải từ 1 đến 9, không phải 12");
    }

    async fn other_languages_and_refusals_of_vietnamese_fall_back_to_english(app: TestApp) {
        let body = listing_with(json!({"price": {"amount": "450.000.000"}}));
        for range in ["fr-FR, de;q=0.8", "en, vi;q=0.9", "vi;q=0, fr", "*", "not a language;;", "en-GB"] {
            let reply = post_listing(&app, &body, Some(range)).await;
            reply.problem(422, "validation_failed");
            assert_eq!(reply.header("content-language"), Some("en"), "{range}");
            assert_eq!(reply.body["title"], "Validation failed", "{range}");
            assert_eq!(message_of(&reply, "price.amount"), "must be a whole number of đồng, without dots or spaces, such as 450000000");
        }
    }

    async fn every_kind_of_refusal_speaks_the_language_asked_for(app: TestApp) {
        let vi = |req: TestRequest| req.insert_header(("accept-language", "vi"));
        let anonymous = app.anonymous().send(vi(TestRequest::post().uri("/v1/listings").set_json(json!({})))).await;
        anonymous.problem(401, "unauthorized");
        assert_eq!((anonymous.body["title"].as_str(), anonymous.body["detail"].as_str()), (Some("Cần xác thực"), Some("thao tác này cần mã truy cập")));
        let missing = app.send_as_publisher(vi(TestRequest::get().uri("/v1/listings/0190c3a2-7b4e-7c1d-9a8f-2b1e6d5c4a3f"))).await;
        missing.problem(404, "listing_not_found");
        assert_eq!(missing.body["title"], "Không tìm thấy tin công nghệ");
        assert_eq!(missing.header("content-language"), Some("vi"));
        let bad_id = app.send_as_publisher(vi(TestRequest::get().uri("/v1/listings/12"))).await;
        bad_id.problem(400, "invalid_path");
        assert_eq!(bad_id.body["errors"][0]["message"], "'12' không phải là mã tin công nghệ (UUID)");
        let bad_query = app.send_as_publisher(vi(TestRequest::get().uri("/v1/listings?limit=0"))).await;
        bad_query.problem(400, "invalid_query");
        assert_eq!(bad_query.body["errors"][0]["message"], "phải là một số nguyên từ 1 đến 100");
        let malformed = app.send_as_publisher(vi(TestRequest::post().uri("/v1/listings").insert_header(("content-type", "application/json")).set_payload("{\"kind\": \"offer\",\n  oops}"))).await;
        malformed.problem(400, "malformed_json");
        assert_eq!(malformed.body["detail"], "nội dung yêu cầu không phải là JSON hợp lệ: lỗi nằm ở dòng 2, cột 3");
        let english = app.send_as_publisher(TestRequest::post().uri("/v1/listings").insert_header(("content-type", "application/json")).set_payload("{\"kind\": \"offer\",\n  oops}")).await;
        assert_eq!(english.body["detail"], "the body is not well-formed JSON: the mistake is at line 2, column 3");
    }

    async fn ids_and_dates_are_described_by_example(app: TestApp) {
        let body = listing_with(json!({"expires_at": "next year", "owner": {"organization_id": "abc", "name": "Viện"}}));
        let reply = post_listing(&app, &body, None).await;
        assert_eq!(sorted(reply.field_errors()), pairs(&[("expires_at", "invalid_value"), ("owner.organization_id", "invalid_value")]));
        assert_eq!(message_of(&reply, "expires_at"), "must be a date and time with its offset from UTC (RFC 3339), such as 2027-06-30T17:00:00+07:00");
        assert_eq!(message_of(&reply, "owner.organization_id"), "must be an id (UUID), such as 0190c3a2-7b4e-7c1d-9a8f-2b1e6d5c4a3f");
        assert_plain(&reply);
    }

    /// Refusals written by layers beneath the API (CORS, rate limits) speak the language too.
    #[options(Options { anonymous_quota: Quota { per_minute: 1, burst: 2 }, ..Options::default() })]
    async fn refusals_before_routing_speak_the_language_asked_for(app: TestApp) {
        let preflight = app
            .anonymous()
            .send(
                TestRequest::default()
                    .method(actix_web::http::Method::OPTIONS)
                    .uri("/v1/listings")
                    .insert_header(("origin", "https://evil.example"))
                    .insert_header(("access-control-request-method", "POST"))
                    .insert_header(("accept-language", "vi-VN")),
            )
            .await;
        preflight.problem(preflight.status.as_u16(), "bad_request");
        assert_eq!(preflight.header("content-language"), Some("vi"));
        assert_eq!(preflight.body["title"], "Yêu cầu không hợp lệ");
        assert!(preflight.body["detail"].as_str().unwrap().contains("cấu hình CORS"), "{:#}", preflight.body);
        let mut refused = None;
        for _ in 0..5 {
            let reply = app.anonymous().send(TestRequest::get().uri("/v1/reference/trl").insert_header(("accept-language", "vi"))).await;
            if reply.status.as_u16() == 429 {
                refused = Some(reply);
                break;
            }
        }
        let refused = refused.expect("the quota runs out");
        refused.problem(429, "rate_limited");
        assert_eq!((refused.body["title"].as_str(), refused.header("content-language")), (Some("Quá nhiều yêu cầu"), Some("vi")));
        assert!(refused.header("retry-after").is_some());
    }

    /// The token endpoint answers in the form of RFC 6749, whose `error_description` is ASCII:
    /// English, but plain words too.
    async fn token_request_refusals_are_plain_english(app: TestApp) {
        let reply = app
            .anonymous()
            .send(
                TestRequest::post()
                    .uri("/v1/auth/token")
                    .insert_header(("content-type", "application/x-www-form-urlencoded"))
                    .insert_header(("accept-language", "vi"))
                    .set_payload("grant_type=client_credentials&grant_type=client_credentials"),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 400, "{:#}", reply.body);
        assert_eq!(reply.body["error"], "invalid_request");
        assert_eq!(reply.body["error_description"], "grant_type: is given more than once");
    }

    async fn problems_past_the_cap_are_counted_out(app: TestApp) {
        let media: Vec<Value> = (0..60).map(|_| json!({"kind": "hologram"})).collect();
        let reply = post_listing(&app, &listing_with(json!({"media": media})), Some("vi")).await;
        reply.problem(422, "validation_failed");
        let errors = reply.field_errors();
        assert_eq!(errors.len(), 51, "{:#}", reply.body);
        assert_eq!(errors[..2], pairs(&[("media[0].kind", "invalid_value"), ("media[0].url", "required")]));
        assert_eq!(errors[50], (String::new(), "too_many_errors".to_owned()));
        assert_eq!(reply.body["errors"][50]["message"], "chỉ 50 lỗi đầu tiên được báo; hãy sửa các lỗi này rồi gửi lại");
        assert_eq!(reply.body["detail"], "50 trường không đúng yêu cầu; xem từng trường trong errors");
    }
}
