use actix_web::http::StatusCode;
use serde_json::Value;
use techex_tests::backend_tests;

fn items(body: &Value) -> &Vec<Value> {
    body["items"].as_array().unwrap()
}

backend_tests! {
    async fn provinces_come_current_and_old_with_successors(app: TestApp) {
        let all = app.get("/v1/reference/provinces").await;
        assert_eq!(all.status, StatusCode::OK);
        assert_eq!(all.header("cache-control"), Some("public, max-age=86400"));
        assert_eq!(items(&all.body).len(), 97);
        let current = app.get("/v1/reference/provinces?kind=current").await;
        assert_eq!(items(&current.body).len(), 34);
        let old = app.get("/v1/reference/provinces?kind=old").await;
        let binh_duong = items(&old.body).iter().find(|p| p["code"] == "74").unwrap();
        assert_eq!(binh_duong["name_vi"], "Tỉnh Bình Dương");
        assert_eq!(binh_duong["successor_code"], "79");
        assert_eq!(binh_duong["valid_to"], "2025-06-30");
        let hcmc = items(&current.body).iter().find(|p| p["code"] == "79").unwrap();
        assert_eq!((hcmc["name_en"].as_str(), hcmc["region"].as_str()), (Some("Ho Chi Minh City"), Some("Southeast")));
        app.get("/v1/reference/provinces?kind=future").await.problem(400, "invalid_query");
    }

    async fn provinces_bear_todays_name_and_renamed_ones_their_history(app: TestApp) {
        let current = app.get("/v1/reference/provinces?kind=current").await;
        let dong_nai = items(&current.body).iter().find(|p| p["code"] == "75").unwrap();
        // A centrally-run city since 2026-04-30, before any day this test runs.
        assert_eq!((dong_nai["name_vi"].as_str(), dong_nai["name_en"].as_str()), (Some("Thành phố Đồng Nai"), Some("Dong Nai City")));
        assert_eq!((dong_nai["valid_from"].as_str(), dong_nai["valid_to"].as_str()), (Some("2025-07-01"), None));
        assert_eq!(
            dong_nai["names"],
            serde_json::json!([
                {"name_vi": "Tỉnh Đồng Nai", "name_en": "Dong Nai Province", "valid_from": "2025-07-01", "valid_to": "2026-04-29"},
                {"name_vi": "Thành phố Đồng Nai", "name_en": "Dong Nai City", "valid_from": "2026-04-30", "valid_to": null},
            ])
        );
        let old = app.get("/v1/reference/provinces?kind=old").await;
        let hue = items(&old.body).iter().find(|p| p["code"] == "46").unwrap();
        assert_eq!(hue["name_vi"], "Thành phố Huế");
        let hue_names: Vec<(&str, Option<&str>, Option<&str>)> = hue["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["name_vi"].as_str().unwrap(), n["valid_from"].as_str(), n["valid_to"].as_str()))
            .collect();
        assert_eq!(hue_names, [("Tỉnh Thừa Thiên Huế", None, Some("2024-12-31")), ("Thành phố Huế", Some("2025-01-01"), Some("2025-06-30"))]);
        let binh_duong = items(&old.body).iter().find(|p| p["code"] == "74").unwrap();
        assert!(binh_duong.get("names").is_none(), "a unit that kept its name lists no history: {binh_duong}");
    }

    async fn fields_and_trl_levels_have_both_languages(app: TestApp) {
        let fields = app.get("/v1/reference/fields").await;
        let medical = items(&fields.body).iter().find(|f| f["code"] == "206").unwrap();
        assert_eq!(medical["name_vi"], "Kỹ thuật y học");
        assert_eq!(medical["name_en"], "Medical engineering");
        assert_eq!(medical["parent"], "2");
        let trl = app.get("/v1/reference/trl").await;
        let levels: Vec<i64> = items(&trl.body).iter().map(|t| t["level"].as_i64().unwrap()).collect();
        assert_eq!(levels, (1..=9).collect::<Vec<_>>());
        assert!(items(&trl.body).iter().all(|t| t["name_vi"].is_string() && t["name_en"].is_string()));
        assert_eq!(items(&trl.body)[7]["name_vi"], "Hệ thống hoàn chỉnh và được xác nhận đạt yêu cầu");
    }

    async fn every_enum_the_api_uses_is_listed_with_labels(app: TestApp) {
        let enums = app.get("/v1/reference/enums").await.body;
        let names: Vec<&str> = enums.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(names, ["center_kind", "center_service", "contract_action", "contract_status", "development_stage", "ip_status", "lifecycle_action", "listing_kind", "listing_status", "media_kind", "organization_kind", "payment_mode", "price_type", "registration_authority", "registration_exemption", "registration_ground", "right", "right_kind", "royalty_base", "state_funding", "taxpayer_kind", "transfer_form", "transfer_method", "transfer_object"]);
        let forms: Vec<&str> = enums["transfer_form"].as_array().unwrap().iter().map(|v| v["value"].as_str().unwrap()).collect();
        assert_eq!(forms, ["independent", "investment_project", "capital_contribution", "franchise", "ip_transfer", "equipment_sale", "other"]);
        let label = |name: &str, value: &str| {
            let found = enums[name].as_array().unwrap().iter().find(|v| v["value"] == value).unwrap();
            (found["label_vi"].as_str().unwrap().to_owned(), found["label_en"].as_str().unwrap().to_owned())
        };
        assert_eq!(label("transfer_form", "equipment_sale").0, "Mua bán máy móc, thiết bị kèm theo đối tượng công nghệ");
        assert_eq!(label("transfer_form", "equipment_sale").1, "Sale of machinery and equipment accompanying the technology");
        assert_eq!(label("transfer_form", "investment_project").0, "Phần chuyển giao công nghệ trong dự án đầu tư");
        assert_eq!(label("ip_status", "industrial_design").0, "Bằng độc quyền kiểu dáng công nghiệp");
        assert_eq!(label("ip_status", "plant_variety").0, "Bằng bảo hộ giống cây trồng");
        assert_eq!(label("ip_status", "pending").0, "Đã nộp đơn, đang chờ cấp văn bằng");
        for values in enums.as_object().unwrap().values() {
            for value in values.as_array().unwrap() {
                assert!(!value["label_vi"].as_str().unwrap().is_empty() && !value["label_en"].as_str().unwrap().is_empty());
            }
        }
    }
}
