use actix_web::http::StatusCode;
use serde_json::{Value, json};
use techex_tests::{Reply, TestApp, backend_tests, listing_with};

/// A listing of `kind` with the given title, field, TRL, amount and province; the rest of the
/// fixture's fields (independent transfer, non-exclusive use) stay.
fn listing(kind: &str, title: &str, summary: &str, field: &str, trl: i64, amount: i64, province: &str) -> Value {
    listing_with(json!({
        "kind": kind, "title": {"vi": title}, "summary": {"vi": summary}, "keywords": [],
        "field_codes": [field], "trl": trl, "province": province, "source": null,
        "price": {"amount": amount, "currency": "VND", "negotiable": true},
        "owner": {"organization_id": null, "name": "Công ty Thử nghiệm"},
    }))
}

fn matches_of(reply: &Reply) -> Vec<(String, i64)> {
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["listing"]["id"].as_str().unwrap().to_owned(), m["score"].as_i64().unwrap()))
        .collect()
}

fn reason_codes(item: &Value) -> Vec<&str> {
    item["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect()
}

struct Market {
    demand: String,
    right: String,
    low_trl: String,
    over_budget: String,
    other_field: String,
    unrelated: Vec<String>,
}

/// A demand for a solar coffee dryer (Ho Chi Minh City, food engineering 211, TRL 6, budget
/// 500 million) and the offers a person would sort by hand.
async fn market(app: &TestApp) -> Market {
    let demand = app
        .publish_listing(&listing(
            "demand",
            "Cần công nghệ sấy cà phê bằng năng lượng mặt trời",
            "Hợp tác xã cần máy sấy cà phê dùng năng lượng mặt trời, công suất 1 tấn mỗi mẻ.",
            "211",
            6,
            500_000_000,
            "79",
        ))
        .await;
    let right = app
        .publish_listing(&listing(
            "offer",
            "Máy sấy cà phê năng lượng mặt trời",
            "Sấy cà phê nhân 1 tấn mỗi mẻ bằng năng lượng mặt trời.",
            "211",
            7,
            450_000_000,
            "75",
        ))
        .await;
    let low_trl = app
        .publish_listing(&listing(
            "offer",
            "Mô hình sấy cà phê năng lượng mặt trời trong phòng thí nghiệm",
            "Mẫu thử sấy cà phê bằng năng lượng mặt trời.",
            "211",
            3,
            300_000_000,
            "75",
        ))
        .await;
    let over_budget = app
        .publish_listing(&listing(
            "offer",
            "Dây chuyền sấy cà phê năng lượng mặt trời công suất lớn",
            "Sấy cà phê 10 tấn mỗi mẻ bằng năng lượng mặt trời.",
            "211",
            8,
            2_000_000_000,
            "75",
        ))
        .await;
    let other_field = app
        .publish_listing(&listing(
            "offer",
            "Phần mềm dự báo giá cà phê",
            "Dự báo giá cà phê xuất khẩu bằng học máy.",
            "102",
            7,
            200_000_000,
            "75",
        ))
        .await;
    let unrelated = vec![
        app.publish_listing(&listing(
            "offer",
            "Phần mềm quản lý bệnh viện",
            "Hồ sơ bệnh án điện tử.",
            "302",
            9,
            100_000_000,
            "79",
        ))
        .await,
        // Same broad field (engineering) and province, nothing else in common.
        app.publish_listing(&listing(
            "offer",
            "Hợp kim nhôm chịu nhiệt",
            "Luyện kim bột cho chi tiết ô tô.",
            "205",
            8,
            100_000_000,
            "79",
        ))
        .await,
        // Another demand for the same thing: demands do not match demands.
        app.publish_listing(&listing(
            "demand",
            "Tìm máy sấy cà phê năng lượng mặt trời",
            "Sấy cà phê.",
            "211",
            6,
            500_000_000,
            "79",
        ))
        .await,
    ];
    Market { demand, right, low_trl, over_budget, other_field, unrelated }
}

backend_tests! {
    async fn a_demand_is_matched_best_first_with_its_reasons_and_without_unrelated_listings(app: TestApp) {
        let m = market(&app).await;
        let reply = app.anonymous().get(&format!("/v1/listings/{}/matches", m.demand)).await;
        let found = matches_of(&reply);
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids[0], m.right, "{:#}", reply.body);
        for near in [&m.low_trl, &m.over_budget, &m.other_field] {
            assert!(ids[1..].contains(&near.as_str()), "near miss {near} listed below the right one: {:#}", reply.body);
        }
        for unrelated in &m.unrelated {
            assert!(!ids.contains(&unrelated.as_str()), "{unrelated} is no match: {:#}", reply.body);
        }
        assert_eq!(ids.len(), 4);
        let scores: Vec<i64> = found.iter().map(|(_, s)| *s).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]) && scores[0] > scores[1], "{scores:?}");
        assert!(scores.iter().all(|s| (30..=100).contains(s)), "{scores:?}");

        let items = reply.body["items"].as_array().unwrap();
        let item = |id: &str| items.iter().find(|i| i["listing"]["id"] == id).unwrap();
        let right = item(&m.right);
        assert_eq!(
            reason_codes(right),
            ["shared_words", "same_field", "trl_meets", "transfer_form", "rights", "price_within_budget", "same_region"]
        );
        let words = right["reasons"][0]["values"].as_array().unwrap();
        for word in ["say ca", "ca phe", "nang luong", "mat troi"] {
            assert!(words.contains(&json!(word)), "{word} in {words:?}");
        }
        assert_eq!(right["reasons"][1]["values"], json!(["211"]));
        assert_eq!(right["reasons"][2]["values"], json!(["7", "6"]));
        assert_eq!(right["reasons"][1]["text_en"], "same S&T field: 211 Food and beverage engineering");
        assert_eq!(right["reasons"][1]["text_vi"], "cùng lĩnh vực KH&CN: 211 Kỹ thuật thực phẩm và đồ uống");
        assert!(!reason_codes(item(&m.low_trl)).contains(&"trl_meets"));
        assert!(!reason_codes(item(&m.over_budget)).contains(&"price_within_budget"));
        assert!(!reason_codes(item(&m.other_field)).iter().any(|c| c.starts_with("field") || *c == "same_field"));
        assert!(right["listing"]["contact"].is_null(), "anonymous callers see no contact");

        let in_english = app.anonymous().get(&format!("/v1/listings/{}/matches?lang=en&limit=1", m.demand)).await;
        assert_eq!(matches_of(&in_english), found[..1]);
        assert_eq!(in_english.body["items"][0]["reasons"][1]["text"], "same S&T field: 211 Food and beverage engineering");
    }

    async fn an_offer_is_matched_with_the_demands_it_could_meet(app: TestApp) {
        let m = market(&app).await;
        let found = matches_of(&app.get(&format!("/v1/listings/{}/matches", m.right)).await);
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids.len(), 2, "the two demands for a solar coffee dryer");
        assert!(ids.contains(&m.demand.as_str()) && ids.contains(&m.unrelated[2].as_str()));
    }

    async fn a_drafts_matches_are_for_its_publisher_only(app: TestApp) {
        let m = market(&app).await;
        let draft = app
            .create_listing(&listing("demand", "Cần máy sấy cà phê năng lượng mặt trời", "Sấy cà phê.", "211", 6, 500_000_000, "79"))
            .await;
        let path = format!("/v1/listings/{draft}/matches");
        let own = matches_of(&app.get(&path).await);
        assert_eq!(own[0].0, m.right);
        app.anonymous().get(&path).await.problem(404, "listing_not_found");
        let stranger = app.new_client(&["listings:write"]).await;
        app.as_client(&stranger).get(&path).await.problem(404, "listing_not_found");
        app.anonymous().get("/v1/listings/0190c3a2-7b4e-7c1d-9a8f-2b1e6d5c4a3f/matches").await.problem(404, "listing_not_found");
    }

    async fn matches_refuse_a_limit_out_of_range_and_other_parameters(app: TestApp) {
        let m = market(&app).await;
        for query in ["limit=0", "limit=51", "limit=ten", "sort=score"] {
            app.get(&format!("/v1/listings/{}/matches?{query}", m.demand)).await.problem(400, "invalid_query");
        }
        app.get("/v1/listings/not-an-id/matches").await.problem(400, "invalid_path");
        assert_eq!(matches_of(&app.get(&format!("/v1/listings/{}/matches?limit=2", m.demand)).await).len(), 2);
    }
}
