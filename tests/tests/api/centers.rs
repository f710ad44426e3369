//! The directory of application centers through `/v1/centers`: nearby search by great-circle
//! distance, words without marks, filters, pages, ETags, and who may write.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_domain::center::Position;
use techex_tests::{TestApp, TestClient, backend_tests};

/// City centres of the Southeast, in decimal degrees.
const HCMC: (f64, f64) = (10.7769, 106.7009);
const BIEN_HOA: (f64, f64) = (10.9574, 106.8427);
const TAY_NINH: (f64, f64) = (11.3100, 106.0983);
const VUNG_TAU: (f64, f64) = (10.3460, 107.0843);

/// Distances from [`HCMC`], computed apart (spherical law of cosines, R = 6371.0088 km) and
/// rounded to 0.01 km as the API answers them.
const TO_BIEN_HOA_KM: f64 = 25.35;
const TO_VUNG_TAU_KM: f64 = 63.66;
const TO_TAY_NINH_KM: f64 = 88.54;

fn body(name: &str, province: &str, (latitude, longitude): (f64, f64)) -> Value {
    json!({
        "kind": "application_transfer_center", "name": {"vi": name}, "province": province,
        "address": format!("Số 1, {name}"), "latitude": latitude, "longitude": longitude,
        "services": ["technology_transfer_consulting"], "field_codes": ["211"]
    })
}

/// `text` percent-encoded for a query string.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn near((lat, lon): (f64, f64)) -> String {
    format!("{lat},{lon}")
}

async fn create(app: &TestApp, client: &TestClient, body: &Value) -> String {
    let reply = app.as_client(client).post("/v1/centers", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// Four centers: Ho Chi Minh City, Biên Hòa, Tây Ninh and Vũng Tàu, in that order of creation.
async fn four_cities(app: &TestApp) -> (TestClient, [String; 4]) {
    let writer = app.new_client(&["centers:write"]).await;
    let hcmc = create(app, &writer, &body("Trung tâm Ứng dụng tiến bộ KH&CN Thành phố", "79", HCMC)).await;
    let mut dong_nai = body("Trung tâm Ứng dụng tiến bộ KH&CN Đồng Nai", "75", BIEN_HOA);
    dong_nai["kind"] = json!("incubator");
    dong_nai["services"] = json!(["incubation", "testing_measurement"]);
    dong_nai["field_codes"] = json!(["401", "202"]);
    let bien_hoa = create(app, &writer, &dong_nai).await;
    let mut tay_ninh = body("Phòng thí nghiệm nông nghiệp Tây Ninh", "72", TAY_NINH);
    tay_ninh["kind"] = json!("laboratory");
    tay_ninh["services"] = json!(["testing_measurement"]);
    tay_ninh["field_codes"] = json!(["405"]);
    let tay_ninh = create(app, &writer, &tay_ninh).await;
    let vung_tau = create(app, &writer, &body("Sàn giao dịch công nghệ biển", "77", VUNG_TAU)).await;
    (writer, [hcmc, bien_hoa, tay_ninh, vung_tau])
}

fn ids(reply: &techex_tests::Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    reply.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

fn distances(reply: &techex_tests::Reply) -> Vec<f64> {
    reply.body["items"].as_array().unwrap().iter().map(|c| c["distance_km"].as_f64().unwrap()).collect()
}

/// How many center changes the change log holds.
fn center_changes(app: &TestApp) -> i64 {
    techex_persistence::change_log::count(&mut app.db.conn().unwrap(), "center").unwrap()
}

backend_tests! {
    async fn nearby_centers_come_nearest_first_with_their_distances(app: TestApp) {
        let (_, [hcmc, bien_hoa, tay_ninh, vung_tau]) = four_cities(&app).await;
        let all = app.anonymous().get(&format!("/v1/centers?near={}&radius_km=100", near(HCMC))).await;
        assert_eq!(ids(&all), [hcmc.as_str(), bien_hoa.as_str(), vung_tau.as_str(), tay_ninh.as_str()]);
        assert_eq!(distances(&all), [0.0, TO_BIEN_HOA_KM, TO_VUNG_TAU_KM, TO_TAY_NINH_KM]);
        // From Tây Ninh the order turns around: Ho Chi Minh City, then Biên Hòa, Vũng Tàu last.
        let from_tay_ninh = app.anonymous().get(&format!("/v1/centers?near={}&radius_km=200", near(TAY_NINH))).await;
        assert_eq!(ids(&from_tay_ninh), [tay_ninh.as_str(), hcmc.as_str(), bien_hoa.as_str(), vung_tau.as_str()]);
        // 50 km by default; a list without `near` carries no distance.
        let default = app.anonymous().get(&format!("/v1/centers?near={}", near(HCMC))).await;
        assert_eq!(ids(&default), [hcmc.as_str(), bien_hoa.as_str()]);
        let plain = app.anonymous().get("/v1/centers").await;
        assert_eq!(ids(&plain), [hcmc.as_str(), bien_hoa.as_str(), tay_ninh.as_str(), vung_tau.as_str()], "in the order registered");
        assert!(plain.body["items"][0].get("distance_km").is_none());
        let counted = app.anonymous().get(&format!("/v1/centers?near={}&radius_km=70&total=true", near(HCMC))).await;
        assert_eq!((ids(&counted).len(), &counted.body["total"]), (3, &json!(3)));
    }

    async fn the_radius_takes_centers_at_its_edge_and_none_beyond(app: TestApp) {
        let (_, [hcmc, bien_hoa, ..]) = four_cities(&app).await;
        let exact = Position { latitude: HCMC.0, longitude: HCMC.1 }
            .distance_km(Position { latitude: BIEN_HOA.0, longitude: BIEN_HOA.1 });
        // The edge itself is inside: the radius written as the very distance (Rust writes the
        // shortest text that reads back as the same number) takes the center.
        for (radius, expected) in [
            (exact, vec![hcmc.as_str(), bien_hoa.as_str()]),
            (exact + 0.001, vec![hcmc.as_str(), bien_hoa.as_str()]),
            (exact - 0.001, vec![hcmc.as_str()]),
        ] {
            let reply = app.anonymous().get(&format!("/v1/centers?near={}&radius_km={radius}", near(HCMC))).await;
            assert_eq!(ids(&reply), expected, "radius {radius}");
        }
        let tiny = app.anonymous().get(&format!("/v1/centers?near={}&radius_km=0.001", near(HCMC))).await;
        assert_eq!(ids(&tiny), [hcmc.as_str()], "a center at the point itself is within any radius");
        let widest = app.anonymous().get(&format!("/v1/centers?near={}&radius_km=500", near(HCMC))).await;
        assert_eq!(ids(&widest).len(), 4);
    }

    async fn nearby_pages_continue_after_the_last_center_by_distance(app: TestApp) {
        let (writer, [hcmc, bien_hoa, tay_ninh, vung_tau]) = four_cities(&app).await;
        // A second center at Biên Hòa's very point: equal distances are ordered by id.
        let twin = create(&app, &writer, &body("Vườn ươm Biên Hòa", "75", BIEN_HOA)).await;
        let mut path = format!("/v1/centers?near={}&radius_km=100&limit=2", near(HCMC));
        let mut seen = Vec::new();
        loop {
            assert!(seen.len() <= 6, "the pages never end: {seen:?}");
            let reply = app.anonymous().get(&path).await;
            seen.extend(ids(&reply));
            let Some(cursor) = reply.body["next_cursor"].as_str() else { break };
            assert!(reply.header("link").unwrap().contains("near="), "the Link repeats the query");
            path = format!("/v1/centers?near={}&radius_km=100&limit=2&cursor={cursor}", near(HCMC));
        }
        let mut pair = [bien_hoa.clone(), twin.clone()];
        pair.sort();
        assert_eq!(seen, [hcmc.as_str(), pair[0].as_str(), pair[1].as_str(), vung_tau.as_str(), tay_ninh.as_str()]);
    }

    async fn points_far_away_find_nothing_and_malformed_points_are_refused(app: TestApp) {
        four_cities(&app).await;
        // Across the antimeridian, at the poles and on the other side of the Earth: no center,
        // no error. Vietnam lies far from all of them.
        for point in ["10.7769,-179.99", "10.7769,179.99", "90,0", "-90,0", "-10.7769,-73.2991"] {
            let reply = app.anonymous().get(&format!("/v1/centers?near={point}&radius_km=500")).await;
            assert_eq!(ids(&reply), Vec::<String>::new(), "{point}");
        }
        for (query, field, code) in [
            ("near=91,106", "near", "out_of_range"),
            ("near=10.7,181", "near", "out_of_range"),
            ("near=-90.5,0", "near", "out_of_range"),
            ("near=10.7769", "near", "invalid_format"),
            ("near=abc,def", "near", "invalid_format"),
            ("near=NaN,106", "near", "invalid_format"),
            ("near=10.7769,106.7009&radius_km=0", "radius_km", "out_of_range"),
            ("near=10.7769,106.7009&radius_km=500.1", "radius_km", "out_of_range"),
            ("near=10.7769,106.7009&radius_km=-5", "radius_km", "out_of_range"),
            ("near=10.7769,106.7009&radius_km=far", "radius_km", "out_of_range"),
            ("radius_km=10", "near", "required"),
        ] {
            let reply = app.anonymous().get(&format!("/v1/centers?{query}")).await;
            reply.problem(400, "invalid_query");
            assert_eq!(reply.field_errors(), [(field.to_owned(), code.to_owned())], "{query}");
        }
        let in_vietnamese = app
            .anonymous()
            .send(TestRequest::get().uri("/v1/centers?near=10.7769").insert_header(("accept-language", "vi")))
            .await;
        assert_eq!(
            in_vietnamese.problem(400, "invalid_query")["errors"][0]["message"],
            "phải là vĩ độ và kinh độ bằng độ thập phân, cách nhau bởi dấu phẩy, ví dụ 10.7769,106.7009"
        );
        let long = format!("near=10.{},106.7", "7".repeat(40));
        let reply = app.anonymous().get(&format!("/v1/centers?{long}")).await;
        reply.problem(400, "invalid_query");
        assert_eq!(reply.field_errors(), [("near".to_owned(), "too_long".to_owned())]);
    }

    async fn words_are_found_without_marks_and_the_last_by_its_beginning(app: TestApp) {
        let (_, [hcmc, bien_hoa, tay_ninh, vung_tau]) = four_cities(&app).await;
        let found = |q: &'static str| {
            let app = &app;
            async move { ids(&app.anonymous().get(&format!("/v1/centers?q={}", encoded(q))).await) }
        };
        assert_eq!(found("trung tam ung dung").await, [hcmc.as_str(), bien_hoa.as_str()]);
        assert_eq!(found("TRUNG TÂM ứng dụng đồng nai").await, [bien_hoa.as_str()]);
        assert_eq!(found("ung dung tien b").await, [hcmc.as_str(), bien_hoa.as_str()], "the last word as a prefix");
        assert_eq!(found("tien b dung").await, Vec::<String>::new(), "words before the last are whole");
        // The province's current name is searched too: Vũng Tàu (77) is Ho Chi Minh City now.
        assert_eq!(found("ho chi minh").await, [hcmc.as_str(), vung_tau.as_str()]);
        assert_eq!(found("tay ninh nong").await, [tay_ninh.as_str()]);
        assert_eq!(found("nghiep tay").await, [tay_ninh.as_str()]);
        assert_eq!(found("tien b").await, [hcmc.as_str(), bien_hoa.as_str()]);
        assert_eq!(found("ti%b").await, Vec::<String>::new(), "LIKE's wildcards are no wildcards here");
        assert_eq!(found("t_en").await, Vec::<String>::new(), "nor is _");
        assert_eq!(found("%").await.len(), 4, "a search of no words is no filter");
        let many = ["a"; 11].join("+");
        let reply = app.anonymous().get(&format!("/v1/centers?q={many}")).await;
        reply.problem(400, "invalid_query");
        assert_eq!(reply.field_errors(), [("q".to_owned(), "too_many".to_owned())]);
        let nearby = app.anonymous().get(&format!("/v1/centers?q=trung+tam&near={}&radius_km=30", near(BIEN_HOA))).await;
        assert_eq!(ids(&nearby), [bien_hoa.as_str(), hcmc.as_str()], "words and distance together");
    }

    async fn filters_by_province_kind_service_field_and_organization_combine(app: TestApp) {
        let (writer, [hcmc, bien_hoa, tay_ninh, vung_tau]) = four_cities(&app).await;
        let other = app.new_client(&["centers:write"]).await;
        let elsewhere = create(&app, &other, &body("Trung tâm Thông tin Long Thành", "75", (10.78, 106.95))).await;
        let list = |query: String| {
            let app = &app;
            async move { ids(&app.anonymous().get(&format!("/v1/centers?{query}")).await) }
        };
        // Old codes: 74 (Bình Dương) and 77 (Bà Rịa - Vũng Tàu) are Ho Chi Minh City now, 72 Tây Ninh is 80.
        assert_eq!(list("province=74".into()).await, [hcmc.as_str(), vung_tau.as_str()]);
        assert_eq!(list("province=72".into()).await, [tay_ninh.as_str()]);
        assert_eq!(list("province=75,80".into()).await, [bien_hoa.as_str(), tay_ninh.as_str(), elsewhere.as_str()]);
        assert_eq!(list("kind=incubator&kind=laboratory".into()).await, [bien_hoa.as_str(), tay_ninh.as_str()]);
        assert_eq!(list("service=testing_measurement".into()).await, [bien_hoa.as_str(), tay_ninh.as_str()]);
        assert_eq!(list("service[]=incubation&service[]=technology_transfer_consulting".into()).await, [hcmc.as_str(), bien_hoa.as_str(), vung_tau.as_str(), elsewhere.as_str()]);
        assert_eq!(list("field=4".into()).await, [bien_hoa.as_str(), tay_ninh.as_str()]);
        assert_eq!(list("field=40".into()).await, [bien_hoa.as_str(), tay_ninh.as_str()]);
        assert_eq!(list("field=405".into()).await, [tay_ninh.as_str()]);
        assert_eq!(list("field=21&province=79".into()).await, [hcmc.as_str(), vung_tau.as_str()]);
        assert_eq!(list(format!("organization={}", writer.organization_id)).await.len(), 4);
        assert_eq!(list(format!("organization={}", other.organization_id)).await, [elsewhere.as_str()]);
        assert_eq!(list("service=testing_measurement&province=75".into()).await, [bien_hoa.as_str()]);
        let paged = app.anonymous().get("/v1/centers?limit=2&total=true").await;
        assert_eq!((ids(&paged), &paged.body["total"]), (vec![hcmc.clone(), bien_hoa.clone()], &json!(5)));
        let next = app.anonymous().get(&format!("/v1/centers?limit=2&cursor={}", paged.body["next_cursor"].as_str().unwrap())).await;
        assert_eq!(ids(&next), [tay_ninh.as_str(), vung_tau.as_str()]);
        for (query, field) in [
            ("kind=school", "kind"),
            ("service=cooking", "service"),
            ("province=99", "province"),
            ("field=2a", "field"),
            ("organization=not-an-id", "organization"),
            ("colour=red", "colour"),
        ] {
            let reply = app.anonymous().get(&format!("/v1/centers?{query}")).await;
            reply.problem(400, "invalid_query");
            assert_eq!(reply.field_errors()[0].0, field, "{query}");
        }
    }

    /// The whole directory in one download: each center as `GET` shows it, or a CSV line.
    async fn the_directory_exports_every_center(app: TestApp) {
        let (_, ids) = four_cities(&app).await;
        let reply = app.anonymous().get("/v1/export/centers").await;
        assert_eq!((reply.status, reply.header("content-type")), (StatusCode::OK, Some("application/x-ndjson")));
        let text = reply.body.as_str().unwrap().to_owned();
        let records: Vec<serde_json::Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        let mut exported: Vec<String> = records.iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
        let mut expected = ids.to_vec();
        exported.sort();
        expected.sort();
        assert_eq!(exported, expected);
        let one = app.anonymous().get(&format!("/v1/centers/{}", records[0]["id"].as_str().unwrap())).await;
        assert_eq!(records[0], one.body);
        let csv = app.anonymous().get("/v1/export/centers?format=csv").await;
        let csv = csv.body.as_str().unwrap().strip_prefix('\u{FEFF}').unwrap().to_owned();
        let mut lines = csv.lines();
        assert!(lines.next().unwrap().starts_with("id,kind,name_vi,name_en,organization_id,province"));
        assert_eq!(lines.count(), 4);
    }

    async fn a_center_is_read_with_its_version_as_etag(app: TestApp) {
        let (writer, [hcmc, ..]) = four_cities(&app).await;
        let path = format!("/v1/centers/{hcmc}");
        let read = app.anonymous().get(&path).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.header("etag"), Some("\"v1\""));
        assert_eq!((read.body["province"].as_str(), read.body["latitude"].as_f64()), (Some("79"), Some(HCMC.0)));
        assert_eq!(read.body["organization_id"], writer.organization_id.as_str());
        let unchanged = app.anonymous().send(TestRequest::get().uri(&path).insert_header(("if-none-match", "\"v1\""))).await;
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
        let list = app.anonymous().get("/v1/centers").await;
        let tag = list.header("etag").unwrap().to_owned();
        let again = app.anonymous().send(TestRequest::get().uri("/v1/centers").insert_header(("if-none-match", tag))).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "a page's ETag is a hash of its body");
        let stale = app.as_client(&writer).send(
            TestRequest::patch().uri(&path).insert_header(("if-match", "\"v7\"")).set_json(json!({"opening_hours": "8:00-17:00"})),
        ).await;
        stale.problem(412, "precondition_failed");
        let fresh = app.as_client(&writer).send(
            TestRequest::patch().uri(&path).insert_header(("if-match", "\"v1\"")).set_json(json!({"opening_hours": "8:00-17:00"})),
        ).await;
        assert_eq!((fresh.status, fresh.header("etag")), (StatusCode::OK, Some("\"v2\"")), "{:#}", fresh.body);
        let chosen = app.anonymous().get(&format!("{path}?fields=name,opening_hours")).await;
        assert_eq!(chosen.body, json!({"id": hcmc, "name": {"vi": "Trung tâm Ứng dụng tiến bộ KH&CN Thành phố"}, "opening_hours": "8:00-17:00"}));
        // Answered in one language like listings: English asked, Vietnamese where none exists.
        let english = app.anonymous().get(&format!("{path}?fields=name&lang=en")).await;
        assert_eq!((english.body["name"].as_str(), english.header("content-language")), (Some("Trung tâm Ứng dụng tiến bộ KH&CN Thành phố"), Some("en")));
        let page = app.anonymous().send(TestRequest::get().uri("/v1/centers?fields=name").insert_header(("accept-language", "vi"))).await;
        assert!(page.body["items"].as_array().unwrap().iter().all(|c| c["name"].is_string()), "{:#}", page.body);
        app.anonymous().get(&format!("/v1/centers/{}", uuid::Uuid::now_v7())).await.problem(404, "center_not_found");
        let malformed = app.anonymous().get("/v1/centers/not-an-id").await;
        assert_eq!(malformed.problem(400, "invalid_path")["errors"][0]["field"], "id");
    }

    async fn centers_are_checked_whole_and_kept_as_sent(app: TestApp) {
        let writer = app.new_client(&["centers:write"]).await;
        let logged = center_changes(&app);
        let mut outside = body("Trung tâm ngoài lãnh thổ", "99", (1.29, 103.85));
        outside["services"] = json!(["incubation", "incubation"]);
        outside["field_codes"] = json!(["2"]);
        outside["contact"] = json!({"email": "khong-phai-email"});
        let reply = app.as_client(&writer).post("/v1/centers", &outside).await;
        reply.problem(422, "validation_failed");
        let fields: Vec<(String, String)> = reply.field_errors();
        assert_eq!(fields, [
            ("province".to_owned(), "unknown_province".to_owned()),
            ("latitude".to_owned(), "out_of_range".to_owned()),
            ("contact.email".to_owned(), "invalid_email".to_owned()),
            ("services[1]".to_owned(), "duplicate".to_owned()),
            ("field_codes[0]".to_owned(), "field_too_broad".to_owned()),
        ]);
        let wrong_types = app.as_client(&writer).post("/v1/centers", &json!({"kind": "school", "latitude": "10.7", "colour": 1})).await;
        wrong_types.problem(422, "validation_failed");
        let codes: Vec<(String, String)> = wrong_types.field_errors();
        for expected in [("kind", "invalid_value"), ("latitude", "invalid_type"), ("colour", "unknown_field"), ("name", "required")] {
            assert!(codes.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{expected:?} in {codes:?}");
        }
        assert_eq!(center_changes(&app), logged, "nothing written");
        let id = create(&app, &writer, &body("Trung tâm Bình Dương", "74", (10.9804, 106.6519))).await;
        let read = app.anonymous().get(&format!("/v1/centers/{id}")).await;
        assert_eq!((read.body["province"].as_str(), read.body["province_as_sent"].as_str()), (Some("79"), Some("74")));
        let patched = app.as_client(&writer).patch(&format!("/v1/centers/{id}"), &json!({"longitude": 120.5})).await;
        patched.problem(422, "validation_failed");
        assert_eq!(app.anonymous().get(&format!("/v1/centers/{id}")).await.body["version"], 1);
        let same = app.as_client(&writer).patch(&format!("/v1/centers/{id}"), &json!({"province": "74"})).await;
        assert_eq!(same.body["version"], 1, "an edit that changes nothing writes nothing");
        assert_eq!(center_changes(&app), logged + 1, "the creation alone");
    }

    async fn writes_belong_to_the_center_s_organization_with_centers_write(app: TestApp) {
        let owner = app.new_client(&["centers:write"]).await;
        let owner_reader = app.client_in(&owner.organization_id, &["listings:write"]).await;
        let other = app.new_client(&["centers:write"]).await;
        let operator = app.new_client(&["admin"]).await;
        let center = body("Trung tâm Ứng dụng tiến bộ KH&CN Đồng Nai", "75", BIEN_HOA);
        let logged = center_changes(&app);

        // Create: anonymous 401, without the scope 403, another organization named 422.
        app.anonymous().post("/v1/centers", &center).await.problem(401, "unauthorized");
        app.as_client(&owner_reader).post("/v1/centers", &center).await.problem(403, "insufficient_scope");
        let mut for_other = center.clone();
        for_other["organization_id"] = json!(other.organization_id);
        let claimed = app.as_client(&owner).post("/v1/centers", &for_other).await;
        claimed.problem(422, "validation_failed");
        assert_eq!(claimed.field_errors(), [("organization_id".to_owned(), "not_your_organization".to_owned())]);
        let mut unknown = center.clone();
        unknown["organization_id"] = json!(uuid::Uuid::now_v7());
        let nobody = app.as_client(&operator).post("/v1/centers", &unknown).await;
        assert_eq!(nobody.field_errors(), [("organization_id".to_owned(), "unknown_organization".to_owned())]);
        assert_eq!(center_changes(&app), logged, "no refused write is logged");

        let id = create(&app, &owner, &center).await;
        assert_eq!(app.anonymous().get(&format!("/v1/centers/{id}")).await.body["organization_id"], owner.organization_id.as_str());
        let by_operator = create(&app, &operator, &for_other).await;
        assert_eq!(app.anonymous().get(&format!("/v1/centers/{by_operator}")).await.body["organization_id"], other.organization_id.as_str());

        // Change: every caller, cell by cell.
        let path = format!("/v1/centers/{id}");
        let change = json!({"opening_hours": "7:30-17:00"});
        app.anonymous().patch(&path, &change).await.problem(401, "unauthorized");
        app.as_client(&owner_reader).patch(&path, &change).await.problem(403, "insufficient_scope");
        let moderator = app.new_client(&["listings:moderate", "listings:write", "listings:publish"]).await;
        app.as_client(&moderator).patch(&path, &change).await.problem(403, "insufficient_scope");
        app.as_client(&moderator).post("/v1/centers", &center).await.problem(403, "insufficient_scope");
        app.as_client(&other).patch(&path, &change).await.problem(403, "forbidden");
        app.as_client(&other).patch(&format!("/v1/centers/{}", uuid::Uuid::now_v7()), &change).await.problem(404, "center_not_found");
        let moved = app.as_client(&owner).patch(&path, &json!({"organization_id": other.organization_id})).await;
        assert_eq!(moved.field_errors(), [("organization_id".to_owned(), "not_your_organization".to_owned())]);
        assert_eq!(app.anonymous().get(&path).await.body["version"], 1, "refused changes change nothing");
        let own = app.as_client(&owner).patch(&path, &change).await;
        assert_eq!((own.status, &own.body["opening_hours"]), (StatusCode::OK, &json!("7:30-17:00")));
        let handed = app.as_client(&operator).patch(&path, &json!({"organization_id": other.organization_id})).await;
        assert_eq!((handed.status, &handed.body["version"]), (StatusCode::OK, &json!(3)));
        app.as_client(&owner).patch(&path, &change).await.problem(403, "forbidden");
        let now_theirs = app.as_client(&other).patch(&path, &json!({"opening_hours": null})).await;
        assert_eq!(now_theirs.status, StatusCode::OK, "{:#}", now_theirs.body);
        assert!(now_theirs.body.get("opening_hours").is_none());

        let log = techex_persistence::change_log::count(&mut app.db.conn().unwrap(), "center").unwrap();
        assert_eq!(log, logged + 5, "two creations and three changes");
    }
    async fn a_center_is_deleted_by_its_organization_and_leaves_a_tombstone(app: TestApp) {
        let (owner, [hcmc, bien_hoa, ..]) = four_cities(&app).await;
        let owner_reader = app.client_in(&owner.organization_id, &["listings:write"]).await;
        let other = app.new_client(&["centers:write"]).await;
        let operator = app.new_client(&["admin"]).await;
        let path = format!("/v1/centers/{bien_hoa}");
        app.anonymous().delete(&path).await.problem(401, "unauthorized");
        app.as_client(&owner_reader).delete(&path).await.problem(403, "insufficient_scope");
        app.as_client(&other).delete(&path).await.problem(403, "forbidden");
        let stale = app.as_client(&owner).send(TestRequest::delete().uri(&path).insert_header(("if-match", "\"v9\""))).await;
        stale.problem(412, "precondition_failed");
        assert_eq!(app.anonymous().get(&path).await.status, StatusCode::OK, "refused deletions delete nothing");

        let deleted = app.as_client(&owner).send(TestRequest::delete().uri(&path).insert_header(("if-match", "\"v1\""))).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:#}", deleted.body);
        app.anonymous().get(&path).await.problem(404, "center_not_found");
        app.as_client(&owner).delete(&path).await.problem(404, "center_not_found");
        let nearby = app.anonymous().get(&format!("/v1/centers?near={}&radius_km=30&service=incubation", near(HCMC))).await;
        assert_eq!(ids(&nearby), Vec::<String>::new(), "gone from every search, its services too");
        let history = techex_persistence::change_log::history(&mut app.db.conn().unwrap(), "center", &bien_hoa).unwrap();
        let ops: Vec<(&str, i64)> = history.iter().map(|c| (c.op.as_str(), c.version)).collect();
        assert_eq!(ops, [("create", 1), ("delete", 2)]);
        assert_eq!(history[1].data["name"]["vi"], "Trung tâm Ứng dụng tiến bộ KH&CN Đồng Nai", "the tombstone carries the last representation");
        assert_eq!(history[1].actor, Some(format!("client:{}", owner.id)));

        let by_operator = app.as_client(&operator).delete(&format!("/v1/centers/{hcmc}")).await;
        assert_eq!(by_operator.status, StatusCode::NO_CONTENT);
        assert_eq!(ids(&app.anonymous().get("/v1/centers").await).len(), 2);
    }
}
