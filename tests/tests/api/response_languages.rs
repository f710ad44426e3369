//! The language of reads: `lang` or `Accept-Language` picks it, bilingual members come as strings
//! in it (Vietnamese where English is missing), `Content-Language` names it, every answer varies
//! with `Accept-Language`, and each language has its own entity tag.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{Reply, TestApp, backend_tests, listing_with, organization_body};

/// A published listing with an English title and a Vietnamese-only summary.
async fn published(app: &TestApp) -> String {
    app.publish_listing(&listing_with(json!({"source": null}))).await
}

async fn read(app: &TestApp, path: &str, accept_language: Option<&str>) -> Reply {
    let mut req = TestRequest::get().uri(path);
    if let Some(header) = accept_language {
        req = req.insert_header(("accept-language", header));
    }
    app.anonymous().send(req).await
}

async fn read_if_none_match(app: &TestApp, path: &str, tag: &str) -> Reply {
    app.anonymous().send(TestRequest::get().uri(path).insert_header(("if-none-match", tag.to_owned()))).await
}

/// The values of `Vary`, lower-cased, however many headers carry them.
fn vary(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all("vary")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .collect()
}

fn english_listing(listing: &Value) {
    assert_eq!(listing["title"], "Solar crop dryer", "{listing:#}");
    assert_eq!(listing["summary"], "Sấy 500 kg mỗi mẻ, tiết kiệm 40% điện năng.", "no English summary: Vietnamese");
    assert_eq!(listing["owner"]["name"], "Viện Cơ điện Nông nghiệp", "plain text stays");
}

backend_tests! {
    async fn lang_en_answers_a_listing_in_english_with_vietnamese_where_english_is_missing(app: TestApp) {
        let id = published(&app).await;
        let reply = read(&app, &format!("/v1/listings/{id}?lang=en"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
        english_listing(&reply.body);
        assert_eq!(reply.header("content-language"), Some("en"));
        assert!(vary(&reply).contains(&"accept-language".to_owned()) && vary(&reply).contains(&"authorization".to_owned()), "{:?}", vary(&reply));
        let vietnamese = read(&app, &format!("/v1/listings/{id}?lang=vi"), Some("en")).await;
        assert_eq!(vietnamese.body["title"], "Máy sấy nông sản dùng năng lượng mặt trời", "lang wins over Accept-Language");
        assert_eq!(vietnamese.header("content-language"), Some("vi"));
        let page = read(&app, "/v1/listings?lang=en&fields=title,summary", None).await;
        english_listing(&json!({"title": page.body["items"][0]["title"], "summary": page.body["items"][0]["summary"], "owner": {"name": "Viện Cơ điện Nông nghiệp"}}));
        assert_eq!(page.header("content-language"), Some("en"));
        let own = app.send_as_publisher(TestRequest::get().uri(&format!("/v1/listings/{id}?lang=en"))).await;
        english_listing(&own.body);
    }

    async fn accept_language_picks_the_language_when_it_ranks_vi_or_en_and_otherwise_both_come(app: TestApp) {
        let id = published(&app).await;
        let path = format!("/v1/listings/{id}");
        let english = read(&app, &path, Some("en-US,en;q=0.9")).await;
        english_listing(&english.body);
        assert_eq!(english.header("content-language"), Some("en"));
        english_listing(&read(&app, &path, Some("fr, en;q=0.5")).await.body);
        for header in [Some("fr"), Some("*"), None] {
            let both = read(&app, &path, header).await;
            assert_eq!(both.body["title"], json!({"vi": "Máy sấy nông sản dùng năng lượng mặt trời", "en": "Solar crop dryer"}), "{header:?}");
            assert_eq!(both.body["summary"], json!({"vi": "Sấy 500 kg mỗi mẻ, tiết kiệm 40% điện năng."}));
            assert_eq!(both.header("content-language"), None, "{header:?}");
            assert!(vary(&both).contains(&"accept-language".to_owned()), "{header:?}: {:?}", vary(&both));
        }
        let vietnamese = read(&app, "/v1/listings", Some("vi-VN")).await;
        assert_eq!(vietnamese.body["items"][0]["title"], "Máy sấy nông sản dùng năng lượng mặt trời");
    }

    async fn an_unknown_lang_is_refused_on_every_read_and_errors_keep_their_own_rule(app: TestApp) {
        let id = published(&app).await;
        for path in [format!("/v1/listings/{id}?lang=xx"), "/v1/listings?lang=fr".into(), "/v1/organizations?lang=EN".into(), "/v1/reference/enums?lang=vn".into(), "/v1/reference/provinces?lang=de".into()] {
            let reply = read(&app, &path, None).await;
            reply.problem(400, "invalid_query");
            assert_eq!(reply.field_errors(), [("lang".to_owned(), "invalid_value".to_owned())], "{path}");
            assert_eq!(reply.body["errors"][0]["message"], "must be one of: vi, en");
        }
        let vietnamese_problem = read(&app, "/v1/listings?lang=xx", Some("vi")).await;
        assert_eq!(vietnamese_problem.body["errors"][0]["message"], "phải là một trong các giá trị: vi, en");
        let missing = read(&app, &format!("/v1/listings/{}?lang=vi", uuid::Uuid::now_v7()), None).await;
        missing.problem(404, "listing_not_found");
        assert_eq!(missing.header("content-language"), Some("en"), "errors follow Accept-Language only, as before");
        assert_eq!(read(&app, "/v1/listings?lang=", None).await.status, StatusCode::OK, "an empty value is no value");
    }

    async fn each_language_has_its_own_entity_tag_and_a_304_never_serves_another(app: TestApp) {
        let id = published(&app).await;
        let path = format!("/v1/listings/{id}");
        let both = read(&app, &path, None).await;
        let english = read(&app, &format!("{path}?lang=en"), None).await;
        let vietnamese = read(&app, &path, Some("vi")).await;
        let tags: Vec<&str> = [&both, &english, &vietnamese].iter().map(|r| r.header("etag").unwrap()).collect();
        assert_eq!(tags, ["\"v2\"", "\"v2.en\"", "\"v2.vi\""]);
        assert_eq!(read_if_none_match(&app, &format!("{path}?lang=en"), "\"v2.en\"").await.status, StatusCode::NOT_MODIFIED);
        let crossed = read_if_none_match(&app, &format!("{path}?lang=en"), "\"v2\"").await;
        assert_eq!(crossed.status, StatusCode::OK, "the tag of both languages is not the English one");
        assert_eq!(crossed.body["title"], "Solar crop dryer");
        assert_eq!(read_if_none_match(&app, &format!("{path}?lang=vi"), "\"v2.en\"").await.status, StatusCode::OK);
        assert_eq!(read_if_none_match(&app, &path, "\"v2.en\"").await.status, StatusCode::OK);
        assert_eq!(read_if_none_match(&app, &path, "\"v2\"").await.status, StatusCode::NOT_MODIFIED);
        let not_modified = read_if_none_match(&app, &format!("{path}?lang=en"), "\"v2.en\"").await;
        assert_eq!(not_modified.header("content-language"), Some("en"));
        assert!(vary(&not_modified).contains(&"accept-language".to_owned()));

        let edited = app.send_as_publisher(TestRequest::patch().uri(&path).insert_header(("if-match", "\"v2.en\"")).set_json(json!({"trl": 8}))).await;
        assert_eq!(edited.status, StatusCode::OK, "a language's tag names the version to write over: {:#}", edited.body);

        let mut page_tags = Vec::new();
        for (page, header) in [("/v1/listings", None), ("/v1/listings?lang=en", None), ("/v1/listings?lang=vi", None)] {
            page_tags.push(read(&app, page, header).await.header("etag").unwrap().to_owned());
        }
        page_tags.dedup();
        assert_eq!(page_tags.len(), 3, "{page_tags:?}");
        let english_by_header = read(&app, "/v1/listings", Some("en")).await;
        assert_eq!(english_by_header.header("etag"), Some(page_tags[1].as_str()), "the same English page, however it was asked for");
        assert_eq!(read_if_none_match(&app, "/v1/listings?lang=en", &page_tags[1]).await.status, StatusCode::NOT_MODIFIED);
        assert_eq!(read_if_none_match(&app, "/v1/listings?lang=vi", &page_tags[1]).await.status, StatusCode::OK);
        assert_eq!(read_if_none_match(&app, "/v1/listings", &page_tags[1]).await.status, StatusCode::OK);
    }

    async fn a_vietnamese_only_listing_has_another_tag_in_each_language_though_its_bytes_match(app: TestApp) {
        let id = app.publish_listing(&listing_with(json!({"source": null, "title": {"vi": "Chế phẩm vi sinh"}}))).await;
        let english = read(&app, &format!("/v1/listings/{id}?lang=en&fields=title"), None).await;
        let vietnamese = read(&app, &format!("/v1/listings/{id}?lang=vi&fields=title"), None).await;
        assert_eq!(english.body, vietnamese.body);
        assert_ne!(english.header("etag"), vietnamese.header("etag"));
        let english = read(&app, "/v1/listings?lang=en&fields=title", None).await;
        let vietnamese = read(&app, "/v1/listings?lang=vi&fields=title", None).await;
        assert_eq!(english.body, vietnamese.body);
        assert_ne!(english.header("etag"), vietnamese.header("etag"), "the page's language is part of its tag");
    }

    async fn organizations_answer_their_names_in_the_language_picked(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let mut body = organization_body("Trung tâm Ứng dụng Tiến bộ KH&CN Đồng Nai", None, &[]);
        body["name"]["en"] = json!("Dong Nai S&T Application Center");
        let created = app.as_client(&admin).post("/v1/organizations", &body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
        assert_eq!(created.body["name"]["en"], "Dong Nai S&T Application Center", "writes take and answer both languages");
        let id = created.body["id"].as_str().unwrap();
        let english = read(&app, &format!("/v1/organizations/{id}?lang=en"), None).await;
        assert_eq!(english.body["name"], "Dong Nai S&T Application Center");
        assert_eq!((english.header("content-language"), english.header("etag")), (Some("en"), Some("\"v1.en\"")));
        let vietnamese = read(&app, &format!("/v1/organizations/{id}"), Some("vi;q=0.9, en;q=0.8")).await;
        assert_eq!(vietnamese.body["name"], "Trung tâm Ứng dụng Tiến bộ KH&CN Đồng Nai");
        assert!(vary(&vietnamese).contains(&"accept-language".to_owned()));
        let page = read(&app, "/v1/organizations?lang=en", None).await;
        let names: Vec<&Value> = page.body["items"].as_array().unwrap().iter().map(|o| &o["name"]).collect();
        assert!(names.iter().all(|n| n.is_string()), "{names:?}");
        assert!(names.contains(&&json!("Dong Nai S&T Application Center")));
        assert!(read(&app, "/v1/organizations", None).await.body["items"][0]["name"]["vi"].is_string());
    }

    async fn the_vocabulary_and_reference_lists_label_in_the_language_picked(app: TestApp) {
        let enums = read(&app, "/v1/reference/enums?lang=en", None).await;
        assert_eq!(enums.header("content-language"), Some("en"));
        assert_eq!(enums.body["price_type"][3], json!({"value": "on_request", "label": "Price on request"}));
        let enums = read(&app, "/v1/reference/enums", Some("vi")).await;
        assert_eq!(enums.body["development_stage"][0], json!({"value": "laboratory", "label": "Quy mô phòng thí nghiệm"}));
        let both = read(&app, "/v1/reference/enums", Some("fr")).await;
        assert_eq!(both.body["price_type"][0], json!({"value": "indicative", "label_vi": "Giá tham khảo", "label_en": "Indicative price"}));
        assert!(vary(&both).contains(&"accept-language".to_owned()));
        let tags: Vec<String> = [&enums, &both, &read(&app, "/v1/reference/enums?lang=en", None).await].iter().map(|r| r.header("etag").unwrap().to_owned()).collect();
        assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2], "{tags:?}");

        let provinces = read(&app, "/v1/reference/provinces?kind=current&lang=en", None).await;
        let hcmc = provinces.body["items"].as_array().unwrap().iter().find(|p| p["code"] == "79").unwrap();
        assert_eq!(hcmc["name"], "Ho Chi Minh City");
        assert!(hcmc.get("name_vi").is_none() && hcmc.get("name_en").is_none());
        let trl = read(&app, "/v1/reference/trl?lang=vi", None).await;
        assert_eq!(trl.body["items"][7]["name"], "Hệ thống hoàn chỉnh và được xác nhận đạt yêu cầu");
        assert!(trl.body["items"][7]["description"].is_string());
        let fields = read(&app, "/v1/reference/fields?lang=en", None).await;
        assert!(fields.body["items"].as_array().unwrap().iter().all(|f| f["name"].is_string() && f.get("name_vi").is_none()));
    }

    async fn the_change_log_keeps_both_languages_whatever_the_reads_pick(app: TestApp) {
        let id = published(&app).await;
        read(&app, &format!("/v1/listings/{id}?lang=en"), None).await;
        let history = app.history(&id);
        let last = history.last().unwrap();
        assert_eq!(last.data["title"], json!({"vi": "Máy sấy nông sản dùng năng lượng mặt trời", "en": "Solar crop dryer"}), "{:#}", last.data);
    }
}
