use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{TestApp, backend_tests, listing_body, listing_with};

/// Sends a raw body to create a listing.
async fn create_raw(app: &TestApp, body: &str) -> techex_tests::Reply {
    app.send_as_publisher(
        TestRequest::post()
            .uri("/v1/listings")
            .insert_header(("content-type", "application/json"))
            .set_payload(body.to_owned()),
    )
    .await
}

/// Asserts that nothing was stored: no listing at all and no change-log row.
async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(app.change_count(), 0);
    let id_less = app.get("/v1/listings").await;
    assert_eq!(id_less.body["items"], json!([]));
}

backend_tests! {
    async fn malformed_json_is_a_bad_request(app: TestApp) {
        for body in ["{\"kind\": \"offer\",", "not json", "", "{\"kind\": \"offer\"} trailing"] {
            let reply = create_raw(&app, body).await;
            reply.problem(400, "malformed_json");
        }
        assert_nothing_stored(&app).await;
    }

    async fn wrong_types_name_the_field(app: TestApp) {
        let cases = [
            (json!({"trl": "seven"}), "trl", "invalid_type"),
            (json!({"field_codes": "211"}), "field_codes", "invalid_type"),
            (json!({"price": {"amount": "450000000"}}), "price.amount", "invalid_type"),
            (json!({"price": {"amount": 1.5}}), "price.amount", "invalid_type"),
            (json!({"kind": "sale"}), "kind", "invalid_value"),
            (json!({"ip_status": "secret"}), "ip_status", "invalid_value"),
            (json!({"transfer_forms": ["independent", "lease"]}), "transfer_forms[1]", "invalid_value"),
            (json!({"title": {"vi": "Máy", "fr": "Machine"}}), "title.fr", "unknown_field"),
            (json!({"colour": "green"}), "colour", "unknown_field"),
            (json!({"owner": {}}), "owner.name", "required"),
            (json!({"expires_at": "next year"}), "expires_at", "invalid_value"),
            (json!({"title": ["Máy sấy", "Dryer"]}), "title", "invalid_type"),
            (json!({"price": [450000000, "VND", true]}), "price", "invalid_type"),
        ];
        for (change, field, code) in cases {
            let reply = app.post("/v1/listings", &listing_with(change.clone())).await;
            reply.problem(422, "validation_failed");
            assert_eq!(reply.field_errors(), [(field.to_owned(), code.to_owned())], "{change}");
        }
        let positional = app.post("/v1/listings", &json!(["offer", {"vi": "Máy sấy"}])).await;
        positional.problem(422, "validation_failed");
        assert_eq!(positional.field_errors(), [(String::new(), "invalid_type".to_owned())]);
        let mut missing = listing_body();
        missing.as_object_mut().unwrap().remove("kind");
        let reply = app.post("/v1/listings", &missing).await;
        assert_eq!(reply.field_errors(), [("kind".to_owned(), "required".to_owned())]);
        assert_nothing_stored(&app).await;
    }

    async fn domain_rules_name_every_failing_field(app: TestApp) {
        let cases = [
            (json!({"field_codes": ["999"]}), "field_codes[0]", "unknown_field_code"),
            (json!({"field_codes": []}), "field_codes", "required"),
            (json!({"trl": 12}), "trl", "out_of_range"),
            (json!({"trl": 0}), "trl", "out_of_range"),
            (json!({"province": "99"}), "province", "unknown_province"),
            (json!({"price": {"amount": -1, "currency": "VND", "negotiable": false}}), "price.amount", "negative"),
            (json!({"price": {"amount": 100, "currency": "USD"}}), "price.currency", "unsupported_currency"),
            (json!({"title": {"vi": "   "}}), "title.vi", "required"),
            (json!({"title": {"vi": "x".repeat(301)}}), "title.vi", "too_long"),
            (json!({"contact": {"email": "no-at-sign"}}), "contact.email", "invalid_email"),
            (json!({"media": [{"url": "javascript:alert(1)", "kind": "link"}]}), "media[0].url", "invalid_url"),
            (json!({"expires_at": "2020-01-01T00:00:00Z"}), "expires_at", "in_the_past"),
        ];
        for (change, field, code) in cases {
            let reply = app.post("/v1/listings", &listing_with(change.clone())).await;
            reply.problem(422, "validation_failed");
            assert_eq!(reply.field_errors(), [(field.to_owned(), code.to_owned())], "{change}");
        }
        let all_at_once = app
            .post("/v1/listings", &listing_with(json!({"trl": 12, "province": "00", "field_codes": ["206", "777"]})))
            .await;
        assert_eq!(all_at_once.field_errors().len(), 3, "{:#}", all_at_once.body);
        assert_nothing_stored(&app).await;
    }

    async fn oversize_bodies_are_refused_with_413(app: TestApp) {
        let huge = listing_with(json!({"description": {"vi": "x".repeat(2 * 1024 * 1024)}}));
        app.post("/v1/listings", &huge).await.problem(413, "body_too_large");
        assert_nothing_stored(&app).await;
    }

    async fn the_body_limit_is_exactly_1_mib(app: TestApp) {
        let limit = 1024 * 1024;
        let json = listing_with(json!({"source": null})).to_string();
        let padded = |size: usize| format!("{json}{}", " ".repeat(size - json.len()));
        let over = create_raw(&app, &padded(limit + 1)).await;
        over.problem(413, "body_too_large");
        assert_nothing_stored(&app).await;
        let at_limit = create_raw(&app, &padded(limit)).await;
        assert_eq!(at_limit.status.as_u16(), 201, "a body of exactly 1 MiB is taken: {:#}", at_limit.body);
        assert_eq!(app.change_count(), 1);
    }

    async fn a_body_without_a_content_type_is_415(app: TestApp) {
        let reply = app.send_as_publisher(TestRequest::post().uri("/v1/listings").set_payload(listing_body().to_string())).await;
        reply.problem(415, "unsupported_media_type");
        let id = app.create_listing(&listing_body()).await;
        let patch = app.send_as_publisher(TestRequest::patch().uri(&format!("/v1/listings/{id}")).set_payload(r#"{"trl": 8}"#)).await;
        patch.problem(415, "unsupported_media_type");
        assert_eq!(app.get(&format!("/v1/listings/{id}")).await.body["trl"], 7);
        assert_eq!(app.change_count(), 1);
    }

    async fn bodies_must_be_json(app: TestApp) {
        let reply = app
            .send_as_publisher(TestRequest::post().uri("/v1/listings").insert_header(("content-type", "text/plain")).set_payload(listing_body().to_string()))
            .await;
        reply.problem(415, "unsupported_media_type");
        assert_nothing_stored(&app).await;
    }

    async fn unknown_routes_and_ids_are_404(app: TestApp) {
        app.get("/v1/nothing-here").await.problem(404, "not_found");
        app.get("/v2/listings").await.problem(404, "not_found");
        let unknown = uuid::Uuid::now_v7();
        app.get(&format!("/v1/listings/{unknown}")).await.problem(404, "listing_not_found");
        app.patch(&format!("/v1/listings/{unknown}"), &json!({"trl": 3})).await.problem(404, "listing_not_found");
        app.post(&format!("/v1/listings/{unknown}/submit"), &Value::Null).await.problem(404, "listing_not_found");
        app.delete(&format!("/v1/listings/{unknown}")).await.problem(404, "listing_not_found");
    }

    async fn malformed_ids_are_400_naming_the_parameter(app: TestApp) {
        let reply = app.get("/v1/listings/42").await;
        assert_eq!(reply.problem(400, "invalid_path")["errors"][0]["field"], "id");
        let reply = app.post("/v1/listings/not-a-uuid/publish", &Value::Null).await;
        assert_eq!(reply.problem(400, "invalid_path")["errors"][0]["field"], "id");
    }

    async fn ids_longer_than_the_documented_36_characters_are_refused(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        assert_eq!(app.get(&format!("/v1/listings/{id}")).await.status, 200);
        let publisher = &app.publisher.organization_id;
        assert_eq!(app.get(&format!("/v1/listings?publisher={publisher}")).await.status, 200);
        // The URN and braced forms name the same UUIDs but are longer than the contract allows.
        for (long, publisher) in [
            (format!("urn:uuid:{id}"), format!("urn:uuid:{publisher}")),
            (format!("%7B{id}%7D"), format!("%7B{publisher}%7D")),
        ] {
            let reply = app.get(&format!("/v1/listings/{long}")).await;
            assert_eq!(reply.problem(400, "invalid_path")["errors"][0]["field"], "id", "{long}");
            let reply = app.get(&format!("/v1/listings?publisher={publisher}")).await;
            assert_eq!(reply.problem(400, "invalid_query")["errors"][0]["field"], "publisher", "{publisher}");
        }
        let urn = format!("urn:uuid:{publisher}");
        let listing = app.post("/v1/listings", &listing_with(json!({"owner": {"organization_id": urn, "name": "Viện"}}))).await;
        listing.problem(422, "validation_failed");
        assert!(listing.body["errors"][0]["message"].as_str().unwrap().contains("id"), "{:#}", listing.body);
        assert_eq!(listing.field_errors(), [("owner.organization_id".to_owned(), "invalid_value".to_owned())]);
        let admin = app.new_client(&["admin"]).await;
        let client = app.as_client(&admin).post("/v1/clients", &json!({"organization_id": urn, "name": "Cổng", "scopes": []})).await;
        client.problem(422, "validation_failed");
        assert_eq!(client.field_errors(), [("organization_id".to_owned(), "invalid_value".to_owned())]);
        assert_eq!(app.change_count(), 1, "only the listing created first");
    }

    async fn a_problem_stays_within_its_documented_lengths_whatever_it_echoes(app: TestApp) {
        let spec = app.anonymous().get("/openapi.json").await.body;
        let limit = |schema: &str, property: &str| {
            spec["components"]["schemas"][schema]["properties"][property]["maxLength"].as_u64().unwrap() as usize
        };
        let long = "x".repeat(5000);
        let route = app.get(&format!("/v1/{long}")).await;
        let detail = route.problem(404, "not_found")["detail"].as_str().unwrap();
        assert!(detail.chars().count() <= limit("Problem", "detail"), "{} characters", detail.chars().count());
        assert!(detail.ends_with('…'), "{detail}");
        let query = app.get(&format!("/v1/listings?{long}=1&province={long}")).await;
        let errors = query.problem(400, "invalid_query")["errors"].as_array().unwrap().clone();
        assert!(!errors.is_empty());
        for error in errors {
            for (property, text) in [("field", &error["field"]), ("message", &error["message"])] {
                let length = text.as_str().unwrap().chars().count();
                assert!(length <= limit("FieldError", property), "{property}: {length} characters");
            }
        }
    }

    async fn instants_longer_than_the_documented_35_characters_are_refused(app: TestApp) {
        let day = techex_tests::expiry_in_days(30);
        let longest = format!("{}.123456789+07:00", &day[..19]);
        assert_eq!(longest.len(), 35);
        let accepted = app.post("/v1/listings", &listing_with(json!({"expires_at": longest}))).await;
        assert_eq!(accepted.status, 201, "{:#}", accepted.body);
        let too_long = format!("{}.1234567891+07:00", &day[..19]);
        let refused = app.post("/v1/listings", &listing_with(json!({"expires_at": too_long}))).await;
        refused.problem(422, "validation_failed");
        assert_eq!(refused.field_errors(), [("expires_at".to_owned(), "invalid_value".to_owned())]);
        assert_eq!(app.change_count(), 1, "only the first listing");
    }

    async fn wrong_methods_are_405_with_allow(app: TestApp) {
        let reply = app.send(TestRequest::put().uri("/v1/listings")).await;
        reply.problem(405, "method_not_allowed");
        assert_eq!(reply.header("allow"), Some("GET, HEAD, POST"));
        let id = uuid::Uuid::now_v7();
        let reply = app.send(TestRequest::post().uri(&format!("/v1/listings/{id}"))).await;
        reply.problem(405, "method_not_allowed");
        assert_eq!(reply.header("allow"), Some("GET, HEAD, PATCH, DELETE"));
        let reply = app.get(&format!("/v1/listings/{id}/publish")).await;
        reply.problem(405, "method_not_allowed");
        assert_eq!(reply.header("allow"), Some("POST"));
        app.send(TestRequest::delete().uri("/healthz")).await.problem(405, "method_not_allowed");
    }
}
