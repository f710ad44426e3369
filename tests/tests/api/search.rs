//! Searching the listings: `q` with Vietnamese folding, phrases, prefixes, ranking and typos;
//! the filters and sorts that come with it, their cursors, the facets and the suggestions.

use std::collections::{BTreeSet, HashMap};

use actix_web::http::StatusCode;
use diesel::RunQueryDsl;
use serde_json::{Value, json};
use techex_tests::{FIXTURE_EXCHANGE, TestApp, backend_tests, listing_with};

fn ids_of(reply: &techex_tests::Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    reply.body["items"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect()
}

fn set(ids: Vec<String>) -> BTreeSet<String> {
    ids.into_iter().collect()
}

/// A query string value, percent-encoded.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Publishes a listing with this title (vi, en), summary and description, owner and keywords.
async fn publish_text(app: &TestApp, title: (&str, Option<&str>), description: Option<&str>) -> String {
    app.publish_listing(&listing_with(json!({
        "title": {"vi": title.0, "en": title.1},
        "summary": null,
        "description": description.map(|d| json!({"vi": d})),
        "keywords": [],
        "owner": {"organization_id": null, "name": "Trung tâm Ứng dụng"},
        "source": null,
    })))
    .await
}

/// The Vietnamese fixture of the search tests, in the order published (oldest first).
async fn vietnamese_fixture(app: &TestApp) -> Vec<String> {
    vec![
        publish_text(app, ("Công nghệ sinh học xử lý phân bón hữu cơ", None), None).await,
        publish_text(app, ("Máy sấy nông sản Đà Nẵng", Some("Crop dryer")), None).await,
        publish_text(app, ("Hệ thống tưới tiết kiệm nước", None), Some("Ứng dụng CÔNG NGHỆ IoT cho nhà vườn")).await,
        publish_text(app, ("Phân bón vi sinh cho cây cà phê", Some("Microbial fertilizer for coffee")), None).await,
        publish_text(app, ("Quy trình ủ rác", None), Some("Sản phẩm cuối là phân bón dùng cho rau")).await,
    ]
}

/// A keyed cursor with its key changed by hand (base64url of `k1:<sort>:<key>:<id>:<check>`).
fn edited(cursor: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).unwrap()).unwrap();
    let mut parts: Vec<&str> = text.split(':').collect();
    let key = (parts[2].parse::<i64>().unwrap() - 1).to_string();
    parts[2] = &key;
    URL_SAFE_NO_PAD.encode(parts.join(":"))
}

async fn got(app: &TestApp, uri: &str) -> BTreeSet<String> {
    set(ids_of(&app.anonymous().get(uri).await))
}

/// Every listing in the order of `sort`, one page at a time.
async fn order(app: &TestApp, sort: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut uri = format!("/v1/listings?sort={sort}&limit=1");
    loop {
        let reply = app.get(&uri).await;
        all.extend(ids_of(&reply));
        match reply.body["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/listings?sort={sort}&limit=1&cursor={c}"),
            None => return all,
        }
    }
}

async fn search(app: &TestApp, q: &str) -> techex_tests::Reply {
    app.anonymous().get(&format!("/v1/listings?q={}", enc(q))).await
}

/// A listing's filter tokens as stored.
#[derive(Debug, PartialEq, diesel::QueryableByName)]
struct FilterTokens {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    search_filters: String,
}

backend_tests! {
    async fn search_ignores_diacritics_case_and_finds_d_with_stroke(app: TestApp) {
        let ids = vietnamese_fixture(&app).await;
        let expect = |indexes: &[usize]| indexes.iter().map(|&i| ids[i].clone()).collect::<BTreeSet<_>>();
        for (q, expected) in [
            ("cong nghe sinh hoc", expect(&[0])),
            ("Công nghệ sinh học", expect(&[0])),
            ("CÔNG NGHỆ SINH HỌC", expect(&[0])),
            ("công nghệ ", expect(&[0, 2])),
            ("CONG NGHE ", expect(&[0, 2])),
            ("da nang", expect(&[1])),
            ("Đà Nẵng", expect(&[1])),
            ("ĐÀ NẴNG", expect(&[1])),
            ("phân bón", expect(&[0, 3, 4])),
            ("phan bon", expect(&[0, 3, 4])),
            ("fertilizer coffee", expect(&[3])),
            ("Crop DRYER", expect(&[1])),
            ("trung tam ung dung", expect(&[0, 1, 2, 3, 4])),
        ] {
            assert_eq!(set(ids_of(&search(&app, q).await)), expected, "{q}");
        }
        for q in ["cà phê sữa", "sinh hoc cong nghe vien", "\"nang da\"", "\"bón phân\"", "máy bay"] {
            let reply = search(&app, q).await;
            assert_eq!(ids_of(&reply), Vec::<String>::new(), "{q} must not match");
            assert!(reply.body.get("corrected_query").is_none(), "{q}: {:#}", reply.body);
        }
    }

    async fn phrases_must_follow_each_other_and_the_last_word_is_a_prefix(app: TestApp) {
        let ids = vietnamese_fixture(&app).await;
        assert_eq!(ids_of(&search(&app, "\"phân bón vi sinh\"").await), [ids[3].clone()]);
        assert_eq!(ids_of(&search(&app, "\"sinh phan bon\"").await), Vec::<String>::new(), "words of a phrase in another order");
        assert_eq!(set(ids_of(&search(&app, "\"phan bon\" huu").await)), set(vec![ids[0].clone()]));
        // Type-ahead: the last word may be the start of one.
        assert_eq!(ids_of(&search(&app, "may s").await), [ids[1].clone()]);
        assert_eq!(ids_of(&search(&app, "nông sả").await), [ids[1].clone()]);
        assert_eq!(ids_of(&search(&app, "may s ").await), Vec::<String>::new(), "a space ends the word");
        assert_eq!(ids_of(&search(&app, "\"may s\"").await), Vec::<String>::new(), "a quoted word is whole");
    }

    /// A prefix finds a word as soon as the listing holding it is written, by a create, an
    /// update or a batch: on PostgreSQL the prefix is spelled out as the indexed words that start
    /// with it, which every write keeps; a prefix that starts too many words is searched as one.
    async fn a_prefix_finds_a_word_written_a_moment_ago(app: TestApp) {
        let drafts = |q: &str| format!("/v1/listings?status=draft&q={}", enc(q));
        let body = |title: &str, external_id: Option<&str>| {
            listing_with(json!({
                "title": {"vi": title, "en": null},
                "source": external_id.map(|id| json!({"exchange": FIXTURE_EXCHANGE, "external_id": id})),
            }))
        };
        // Words no other is one typo away from: a search that finds nothing tries corrections.
        let created = app.create_listing(&body("Máy ép Quorblat", None)).await;
        assert_eq!(ids_of(&app.get(&drafts("may quorb")).await), std::slice::from_ref(&created));
        assert_eq!(ids_of(&app.get(&drafts("quorblat")).await), std::slice::from_ref(&created));
        assert_eq!(ids_of(&app.get(&drafts("zentr")).await), Vec::<String>::new());

        let patched = app.patch(&format!("/v1/listings/{created}"), &json!({"title": {"vi": "Máy ép Zentrovex"}})).await;
        assert_eq!(patched.status, StatusCode::OK, "{:#}", patched.body);
        assert_eq!(ids_of(&app.get(&drafts("zentr")).await), std::slice::from_ref(&created));
        assert_eq!(ids_of(&app.get(&drafts("quorbl")).await), Vec::<String>::new(), "a word no listing holds any more");

        let pushed = app
            .post("/v1/listings/batch", &json!({"items": [{"op": "upsert", "listing": body("Lò sấy Zentrolux", Some("Q-1"))}]}))
            .await;
        assert_eq!(pushed.body["items"][0]["result"], "created", "{:#}", pushed.body);
        let batched = pushed.body["items"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(ids_of(&app.get(&drafts("zentrol")).await), std::slice::from_ref(&batched));
        assert_eq!(set(ids_of(&app.get(&drafts("zentro")).await)), set(vec![created.clone(), batched.clone()]));

        let many: Vec<String> = (0..70).map(|n| format!("quorbz{n}")).collect();
        let mut crowded = body("Quorbz", None);
        crowded["description"] = json!({"vi": many.join(" ")});
        let crowded = app.create_listing(&crowded).await;
        for q in ["quorbz", "quorbz6", "quorbz69", "quorbz quorbz1"] {
            assert_eq!(ids_of(&app.get(&drafts(q)).await), std::slice::from_ref(&crowded), "{q}");
        }
    }

    /// On PostgreSQL a prefix spelled out within a province is decided by the index alone: it
    /// must find what the prefix finds anywhere, in that province, also for a word the index's
    /// parser cuts (a letter outside ASCII) and words spelled like the filter tokens.
    async fn a_prefix_within_a_province_finds_what_it_finds_anywhere(app: TestApp) {
        let titles = ["Nước mắm Phú Quốc", "Nướcø sạch", "Nướcmắm cô đặc", "Field kind province", "Máy sấy nước"];
        for title in titles {
            for province in ["79", "01"] {
                app.publish_listing(&listing_with(json!({"title": {"vi": title, "en": null}, "province": province, "source": null}))).await;
            }
        }
        let nuoc = got(&app, "/v1/listings?q=nuoc&province=79&limit=100").await;
        assert_eq!(nuoc.len(), 4, "every word starting with nuoc, once for each title in 79");
        for q in ["nuoc", "nuocm", "nuoc ", "nuocø", "fie", "field", "kin", "prov", "may nu", "mam", "phu q"] {
            let q = enc(q);
            let anywhere = got(&app, &format!("/v1/listings?q={q}&limit=100")).await;
            for provinces in ["79", "01", "79,01"] {
                let alone = got(&app, &format!("/v1/listings?province={provinces}&limit=100")).await;
                let expected: BTreeSet<String> = alone.intersection(&anywhere).cloned().collect();
                let within = got(&app, &format!("/v1/listings?q={q}&province={provinces}&limit=100")).await;
                assert_eq!(within, expected, "{q} in {provinces}");
            }
        }
    }

    async fn titles_rank_above_descriptions_and_ties_come_newest_first(app: TestApp) {
        let ids = vietnamese_fixture(&app).await;
        // 3 and 0 hold "phân bón" in their titles (3 is newer), 4 only in its description.
        assert_eq!(ids_of(&search(&app, "phan bon").await), [ids[3].clone(), ids[0].clone(), ids[4].clone()]);
        // All the words in the title above some of them.
        let some = publish_text(&app, ("Phân loại rác", None), Some("kèm phân bón")).await;
        let all = publish_text(&app, ("Rác và phân bón", None), None).await;
        let order = ids_of(&search(&app, "phan bon rac").await);
        assert_eq!(order.first(), Some(&all), "{order:?}");
        let position = |id: &String| order.iter().position(|x| x == id).unwrap();
        assert!(position(&all) < position(&some) && position(&some) < position(&ids[4]), "{order:?}");
        // Another sort leaves relevance aside.
        assert_eq!(ids_of(&app.anonymous().get("/v1/listings?q=phan+bon&sort=newest").await), [all, some, ids[4].clone(), ids[3].clone(), ids[0].clone()]);
    }

    async fn one_typo_is_forgiven_when_nothing_matches_and_the_page_says_so(app: TestApp) {
        let ids = vietnamese_fixture(&app).await;
        let reply = search(&app, "fertiliser").await;
        assert_eq!(ids_of(&reply), [ids[3].clone()]);
        assert_eq!(reply.body["corrected_query"], "fertilizer");
        let reply = search(&app, "tiet kiwm nuoc").await;
        assert_eq!(ids_of(&reply), Vec::<String>::new(), "words under five letters are taken as typed");
        assert!(reply.body.get("corrected_query").is_none());
        let reply = search(&app, "vườn cà phê nhà vưon").await;
        assert_eq!(ids_of(&reply), Vec::<String>::new());
        let reply = search(&app, "microbail ").await;
        assert_eq!(ids_of(&reply), [ids[3].clone()], "two letters swapped");
        assert_eq!(reply.body["corrected_query"], "microbial");
        let exact = search(&app, "fertilizer").await;
        assert!(exact.body.get("corrected_query").is_none(), "{:#}", exact.body);
        // Two typos are too many.
        assert_eq!(ids_of(&search(&app, "fertilisr").await), Vec::<String>::new());
    }

    async fn query_syntax_in_q_is_only_text(app: TestApp) {
        let ids = vietnamese_fixture(&app).await;
        for q in ["phan\" OR \"bon", "NEAR(phan bon)", "phan* bon:*", "'); DROP TABLE listings; --", "a & b | !c <-> d", "{search_text}: phan", "\\\"", "%_%"] {
            let reply = search(&app, q).await;
            assert_eq!(reply.status, StatusCode::OK, "{q}: {:#}", reply.body);
        }
        assert_eq!(ids_of(&search(&app, "%").await).len(), ids.len(), "a q without words searches nothing: every listing");
        for q in ["phan_bon", "phan-bon", "phan%bon"] {
            assert_eq!(set(ids_of(&search(&app, q).await)), set(vec![ids[0].clone(), ids[3].clone(), ids[4].clone()]), "{q}");
        }
    }

    async fn new_filters_narrow_and_several_values_of_one_are_alternatives(app: TestApp) {
        let a = app.publish_listing(&listing_with(json!({"source": null, "trl": 3, "ip_status": "patent", "transfer_forms": ["franchise"], "transfer_methods": ["training"], "rights": ["exclusive_use"], "price": {"amount": 100, "currency": "VND", "negotiable": false}}))).await;
        let b = app.publish_listing(&listing_with(json!({"source": null, "trl": 7, "ip_status": "utility_solution", "transfer_forms": ["independent", "franchise"], "transfer_methods": ["documents"], "rights": ["non_exclusive_use"], "price": {"amount": 500, "currency": "VND", "negotiable": false}}))).await;
        let c = app.publish_listing(&listing_with(json!({"source": null, "trl": null, "ip_status": "none", "ip_refs": [], "transfer_forms": ["independent"], "transfer_methods": ["documents", "training"], "rights": ["non_exclusive_use"], "price": {"amount": null, "currency": "VND", "negotiable": true}}))).await;
        let ids = |list: &[&String]| list.iter().map(|s| (*s).clone()).collect::<BTreeSet<_>>();
        assert_eq!(got(&app, "/v1/listings?trl_min=3&trl_max=6").await, ids(&[&a]));
        assert_eq!(got(&app, "/v1/listings?trl_min=4").await, ids(&[&b]));
        assert_eq!(got(&app, "/v1/listings?trl_max=9").await, ids(&[&a, &b]), "no TRL matches no TRL range");
        assert_eq!(got(&app, "/v1/listings?ip_status=patent,none").await, ids(&[&a, &c]));
        assert_eq!(got(&app, "/v1/listings?ip_status=patent&ip_status=none").await, ids(&[&a, &c]));
        assert_eq!(got(&app, "/v1/listings?transfer_form=franchise").await, ids(&[&a, &b]));
        assert_eq!(got(&app, "/v1/listings?transfer_form=independent&transfer_method=training").await, ids(&[&c]));
        assert_eq!(got(&app, "/v1/listings?right=exclusive_use,non_exclusive_use").await, ids(&[&a, &b, &c]));
        assert_eq!(got(&app, "/v1/listings?right=exclusive_use").await, ids(&[&a]));
        assert_eq!(got(&app, "/v1/listings?price_min=100&price_max=499&currency=VND").await, ids(&[&a]));
        assert_eq!(got(&app, "/v1/listings?price_min=100&currency=VND").await, ids(&[&a, &b]), "no amount matches no price range");
        assert_eq!(got(&app, "/v1/listings?price_max=500&currency=VND").await, ids(&[&a, &b]));
        let c_now = app.get(&format!("/v1/listings/{c}")).await.body;
        let (updated, published) = (c_now["updated_at"].as_str().unwrap(), c_now["published_at"].as_str().unwrap());
        assert_eq!(got(&app, &format!("/v1/listings?updated_since={}", enc(updated))).await, ids(&[&c]));
        assert_eq!(got(&app, &format!("/v1/listings?published_since={}", enc(published))).await, ids(&[&c]));
        assert_eq!(got(&app, "/v1/listings?updated_since=2000-01-01T00:00:00%2B07:00").await, ids(&[&a, &b, &c]));
        assert_eq!(got(&app, "/v1/listings?published_since=2999-01-01T00:00:00Z").await, ids(&[]));
    }

    async fn words_with_filters_find_what_the_words_and_the_filters_find_apart(app: TestApp) {
        // On PostgreSQL a search's kind, province and field filters are tokens of its full-text
        // index, written with each listing, and with a province its words and filters are looked
        // up within the province: they must find what the filters find on their own, for a
        // province sent by its pre-2025 code and after an edit moves a listing.
        let ids = app
            .publish_all(&[
                ("offer", "79", &["206"]),
                ("demand", "79", &["211", "401"]),
                ("offer", "75", &["401"]),
                ("demand", "01", &["102", "206"]),
                ("offer", "74", &["211"]),
            ])
            .await;
        let unrelated = json!({"title": {"vi": "Phân bón vi sinh"}, "summary": null, "keywords": [], "source": null, "province": "79", "field_codes": ["206"]});
        app.publish_listing(&listing_with(unrelated)).await;
        let moved = app.patch(&format!("/v1/listings/{}", ids[2]), &json!({"kind": "demand", "province": "79", "field_codes": ["206", "102"]})).await;
        assert_eq!(moved.status, StatusCode::OK, "{:#}", moved.body);
        let words = got(&app, "/v1/listings?q=may%20say&limit=100").await;
        assert_eq!(words.len(), 5);
        for filters in [
            "province=79", "province=75", "province=79,01", "field=2", "field=20", "field=206", "field=21,1", "field=4",
            "field=9", "kind=offer", "kind=demand&province=79&field=2", "kind=offer,demand&province=01&field=10",
            // Words and filters within one to three provinces on PostgreSQL; four, beside them.
            "province=79&field=2,4", "province=75,01&kind=offer", "province=79,75,01&field=20,4&kind=offer,demand",
            "province=79,75,01,92", "province=79,75,01,92&field=2&kind=demand",
        ] {
            let alone = got(&app, &format!("/v1/listings?limit=100&{filters}")).await;
            let expected: BTreeSet<String> = alone.intersection(&words).cloned().collect();
            assert_eq!(got(&app, &format!("/v1/listings?q=may%20say&limit=100&{filters}")).await, expected, "{filters}");
            let total = app.anonymous().get(&format!("/v1/listings?q=may%20sa&total=true&limit=1&{filters}")).await;
            assert_eq!(total.body["total"], json!(expected.len()), "{filters}");
        }
    }

    async fn the_migration_gives_stored_listings_the_filter_tokens_the_app_writes(app: TestApp) {
        app.publish_all(&[("offer", "79", &["206", "211", "102"]), ("demand", "74", &["401"])]).await;
        let mut conn = app.db.conn().unwrap();
        let stored = |conn: &mut _| {
            diesel::sql_query("SELECT id, search_filters FROM listings ORDER BY id").load::<FilterTokens>(conn).unwrap()
        };
        let written = stored(&mut *conn);
        assert_eq!(written[0].search_filters, "/kind/offer /province/79 /field/1 /field/10 /field/102 /field/2 /field/20 /field/206 /field/21 /field/211");
        assert_eq!(written[1].search_filters, "/kind/demand /province/79 /field/4 /field/40 /field/401");
        diesel::sql_query("UPDATE listings SET search_filters = ''").execute(&mut *conn).unwrap();
        let path = format!("{}/../migrations/{}/2026-11-29-000020_search_filters/up.sql", env!("CARGO_MANIFEST_DIR"), app.backend_name());
        let up = std::fs::read_to_string(path).unwrap();
        let fill = up.split(';').find_map(|statement| statement.find("UPDATE listings").map(|at| &statement[at..])).unwrap();
        diesel::sql_query(fill).execute(&mut *conn).unwrap();
        assert_eq!(stored(&mut *conn), written);
    }

    async fn bad_search_parameters_are_refused_naming_the_parameter(app: TestApp) {
        app.publish_all(&[("offer", "79", &["206"]), ("offer", "79", &["206"])]).await;
        let price_page = app.get("/v1/listings?sort=price&limit=1").await;
        let price_cursor = price_page.body["next_cursor"].as_str().expect("a next page").to_owned();
        let newest_cursor = app.get("/v1/listings?limit=1").await.body["next_cursor"].as_str().unwrap().to_owned();
        let relevance_cursor = app.get("/v1/listings?q=may&limit=1").await.body["next_cursor"].as_str().unwrap().to_owned();
        let long_q = "a".repeat(201);
        let cases = [
            ("/v1/listings?sort=cheapest".to_owned(), "sort", "invalid_value"),
            ("/v1/listings?sort=relevance".to_owned(), "sort", "invalid_value"),
            (format!("/v1/listings?sort=trl&cursor={price_cursor}"), "cursor", "invalid_cursor"),
            (format!("/v1/listings?sort=price&cursor={newest_cursor}"), "cursor", "invalid_cursor"),
            (format!("/v1/listings?cursor={price_cursor}"), "cursor", "invalid_cursor"),
            (format!("/v1/listings?q={}&cursor={relevance_cursor}", enc("sấy")), "cursor", "invalid_cursor"),
            ("/v1/listings?sort=price&cursor=azE6cHJpY2U6MTAwOm5vdC1hbi1pZA".to_owned(), "cursor", "invalid_cursor"),
            (format!("/v1/listings?sort=price&cursor={}", edited(&price_cursor)), "cursor", "invalid_cursor"),
            ("/v1/listings?trl_min=5&trl_max=3".to_owned(), "trl_min", "invalid_range"),
            ("/v1/listings?trl_min=0".to_owned(), "trl_min", "invalid_value"),
            ("/v1/listings?trl_max=ten".to_owned(), "trl_max", "invalid_format"),
            ("/v1/listings?price_min=100".to_owned(), "currency", "required"),
            ("/v1/listings?price_max=100&currency=USD".to_owned(), "currency", "unsupported_currency"),
            ("/v1/listings?price_min=200&price_max=100&currency=VND".to_owned(), "price_min", "invalid_range"),
            ("/v1/listings?price_min=-1&currency=VND".to_owned(), "price_min", "invalid_value"),
            (format!("/v1/listings?q={long_q}"), "q", "too_long"),
            ("/v1/listings?q=a+b+c+d+e+f+g+h+i".to_owned(), "q", "too_many_words"),
            ("/v1/listings?updated_since=yesterday".to_owned(), "updated_since", "invalid_format"),
            ("/v1/listings?published_since=2026-11-01".to_owned(), "published_since", "invalid_format"),
            ("/v1/listings?facets=colour".to_owned(), "facets", "invalid_value"),
            ("/v1/listings?field_level=4".to_owned(), "field_level", "invalid_value"),
            ("/v1/listings?ip_status=secret".to_owned(), "ip_status", "invalid_value"),
            ("/v1/listings?transfer_form=gift".to_owned(), "transfer_form", "invalid_value"),
            (format!("/v1/listings/suggest?q={long_q}"), "q", "too_long"),
            ("/v1/listings/suggest?query=may".to_owned(), "query", "unknown_field"),
        ];
        for (uri, field, code) in cases {
            let reply = app.get(&uri).await;
            reply.problem(400, "invalid_query");
            assert_eq!(reply.field_errors(), [(field.to_owned(), code.to_owned())], "{uri}");
        }
        assert_eq!(app.get(&format!("/v1/listings?sort=price&cursor={price_cursor}")).await.status, StatusCode::OK);
    }

    async fn cursor_pages_never_skip_or_repeat_for_any_sort_while_listings_change(app: TestApp) {
        let specs: [(Option<i64>, Option<i64>, &str); 8] = [
            (Some(300), Some(5), "Máy sấy nông sản"),
            (None, Some(7), "Máy sấy cà phê"),
            (Some(100), None, "Máy nghiền"),
            (Some(300), Some(5), "Máy sấy lúa"),
            (Some(200), Some(2), "Máy sấy hạt điều"),
            (None, None, "Máy ép"),
            (Some(100), Some(9), "Máy sấy tiêu"),
            (Some(500), Some(7), "Máy đóng gói"),
        ];
        let mut ids = Vec::new();
        for (amount, trl, title) in specs {
            ids.push(app.publish_listing(&listing_with(json!({
                "source": null, "trl": trl, "title": {"vi": title},
                "price": {"amount": amount, "currency": "VND", "negotiable": amount.is_none()},
            }))).await);
        }
        for sort in ["newest", "updated", "price", "-price", "trl", "-trl", "relevance"] {
            let start = set(ids_of(&app.get("/v1/listings?limit=100&q=may").await));
            let mut uri = format!("/v1/listings?limit=2&q=may&sort={sort}");
            let mut seen: Vec<String> = Vec::new();
            let mut changed: Vec<String> = Vec::new();
            let mut pages = 0;
            loop {
                let reply = app.get(&uri).await;
                seen.extend(ids_of(&reply));
                pages += 1;
                if pages <= 2 {
                    // Between pages: a new listing (anywhere in the order), and a change to one not
                    // seen yet that leaves its sort key (but not its change time) as it was.
                    app.publish_listing(&listing_with(json!({"source": null, "trl": 5, "title": {"vi": "Máy sấy mới"},
                        "price": {"amount": 300, "currency": "VND", "negotiable": false}}))).await;
                    if let Some(unseen) = start.iter().find(|id| !seen.contains(id) && !changed.contains(id)) {
                        let reply = app.patch(&format!("/v1/listings/{unseen}"), &json!({"contact": {"name": format!("Người {pages}")}})).await;
                        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
                        changed.push(unseen.clone());
                    }
                }
                match reply.body["next_cursor"].as_str() {
                    Some(cursor) => uri = format!("/v1/listings?limit=2&q=may&sort={sort}&cursor={cursor}"),
                    None => break,
                }
            }
            let unique = set(seen.clone());
            assert_eq!(unique.len(), seen.len(), "{sort}: a listing came twice: {seen:?}");
            // Under `updated`, a change moves a listing before the cursor: it may be missed.
            let must_see: BTreeSet<String> = start.iter().filter(|id| sort != "updated" || !changed.contains(id)).cloned().collect();
            assert!(must_see.is_subset(&unique), "{sort}: missed {:?}", must_see.difference(&unique).collect::<Vec<_>>());
            assert!(pages >= 4, "{sort}: {pages} pages");
        }
    }

    async fn sorts_order_by_their_key_with_missing_values_last(app: TestApp) {
        let mut ids = Vec::new();
        for (amount, trl) in [(Some(300), Some(5)), (None, Some(7)), (Some(100), None), (Some(300), Some(2))] {
            ids.push(app.publish_listing(&listing_with(json!({"source": null, "trl": trl,
                "price": {"amount": amount, "currency": "VND", "negotiable": amount.is_none()}}))).await);
        }
        let pick = |indexes: &[usize]| indexes.iter().map(|&i| ids[i].clone()).collect::<Vec<_>>();
        assert_eq!(order(&app, "price").await, pick(&[2, 0, 3, 1]), "cheapest first, equal amounts by id, none last");
        assert_eq!(order(&app, "-price").await, pick(&[3, 0, 2, 1]), "dearest first, equal amounts newest first, none last");
        assert_eq!(order(&app, "trl").await, pick(&[3, 0, 1, 2]));
        assert_eq!(order(&app, "-trl").await, pick(&[1, 0, 3, 2]));
        assert_eq!(order(&app, "newest").await, pick(&[3, 2, 1, 0]));
        app.patch(&format!("/v1/listings/{}", ids[1]), &json!({"trl": 8})).await;
        assert_eq!(order(&app, "updated").await, pick(&[1, 3, 2, 0]));
    }

    async fn facets_count_what_the_same_filters_find(app: TestApp) {
        // A seeded loop over random filter combinations against a fixed fixture (a black-box
        // property test): every facet count equals the total of the same search narrowed to
        // that value.
        let kinds = ["offer", "demand"];
        let provinces = ["79", "75", "74", "01"];
        let fields = [&["206"][..], &["211", "401"], &["102"], &["206", "211"], &["401"]];
        let ips = ["patent", "none", "utility_solution"];
        let forms = [&["franchise"][..], &["independent"], &["independent", "franchise"]];
        let titles = ["Máy sấy nông sản", "Phân bón vi sinh", "Máy sấy cà phê", "Công nghệ sinh học"];
        for n in 0..12usize {
            app.publish_listing(&listing_with(json!({
                "source": null, "kind": kinds[n % 2], "province": provinces[n % 4], "field_codes": fields[n % 5],
                "trl": if n % 5 == 4 { Value::Null } else { json!(1 + n % 9) }, "ip_status": ips[n % 3],
                "transfer_forms": forms[n % 3], "title": {"vi": titles[n % 4]},
                "ip_refs": if ips[n % 3] == "none" { json!([]) } else { json!(["2-0002345"]) },
            }))).await;
        }
        let mut seed: u64 = 0x7ec4_2026;
        let mut next = |bound: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % bound
        };
        let all_facets = "facets=kind,province,field,trl,ip_status,transfer_form";
        for _ in 0..20 {
            let mut filters: Vec<(&str, String)> = Vec::new();
            if next(3) == 0 { filters.push(("kind", kinds[next(2)].to_owned())); }
            if next(3) == 0 { filters.push(("province", format!("{},{}", provinces[next(4)], provinces[next(4)]))); }
            if next(4) == 0 { filters.push(("field", ["2", "4", "1", "206"][next(4)].to_owned())); }
            if next(3) == 0 { filters.push(("trl_min", (1 + next(4)).to_string())); }
            if next(3) == 0 { filters.push(("ip_status", ips[next(3)].to_owned())); }
            if next(4) == 0 { filters.push(("transfer_form", ["franchise", "independent"][next(2)].to_owned())); }
            if next(3) == 0 { filters.push(("q", ["may say", "sinh", "phan bon"][next(3)].to_owned())); }
            let query = |extra: &[(&str, String)], skip: &[&str]| {
                filters.iter().filter(|(k, _)| !skip.contains(k)).chain(extra.iter())
                    .map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&")
            };
            let reply = app.anonymous().get(&format!("/v1/listings?total=true&{all_facets}&{}", query(&[], &[]))).await;
            assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
            let total = reply.body["total"].as_i64().unwrap();
            let facets = &reply.body["facets"];
            let sum = |name: &str| facets[name].as_array().unwrap().iter().map(|v| v["count"].as_i64().unwrap()).sum::<i64>();
            assert_eq!(sum("kind"), total, "{}", query(&[], &[]));
            assert_eq!(sum("province"), total);
            assert_eq!(sum("ip_status"), total);
            let has = |name: &str| filters.iter().any(|(k, _)| *k == name);
            for (name, narrow, skip) in [
                ("kind", "kind", &["kind"][..]),
                ("province", "province", &["province"]),
                ("ip_status", "ip_status", &["ip_status"]),
                ("trl", "trl_min", &["trl_min"]),
                ("field", "field", &["field"]),
                ("transfer_form", "transfer_form", &["transfer_form"]),
            ] {
                // A listing holds several fields and forms: narrowing to one checks the count only
                // when the search did not already pick some.
                if matches!(name, "field" | "transfer_form") && has(name) {
                    continue;
                }
                for value in facets[name].as_array().unwrap() {
                    let v = value["value"].as_str().unwrap().to_owned();
                    assert!(!value["label"]["vi"].as_str().unwrap().is_empty() && !value["label"]["en"].as_str().unwrap().is_empty());
                    let mut extra = vec![(narrow, v.clone())];
                    if name == "trl" {
                        extra.push(("trl_max", v.clone()));
                    }
                    let narrowed = app.anonymous().get(&format!("/v1/listings?total=true&limit=1&{}", query(&extra, skip))).await;
                    assert_eq!(narrowed.body["total"], value["count"], "{name}={v} under {}", query(&[], &[]));
                }
            }
        }
        // Labels come from the vocabularies and the reference data.
        let reply = app.anonymous().get("/v1/listings?facets=province,kind,field&province=79").await;
        let province = &reply.body["facets"]["province"][0];
        assert_eq!((province["value"].as_str(), province["label"]["vi"].as_str()), (Some("79"), Some("Thành phố Hồ Chí Minh")), "{:#}", reply.body);
        let labels: HashMap<&str, &str> = reply.body["facets"]["kind"].as_array().unwrap().iter().map(|v| (v["value"].as_str().unwrap(), v["label"]["en"].as_str().unwrap())).collect();
        assert!(labels.contains_key("offer"), "{labels:?}");
        assert!(reply.body["facets"]["field"].as_array().unwrap().iter().all(|v| v["value"].as_str().unwrap().len() == 1));
        let deeper = app.anonymous().get("/v1/listings?facets=field&field_level=3").await;
        assert!(deeper.body["facets"]["field"].as_array().unwrap().iter().all(|v| v["value"].as_str().unwrap().len() == 3));
        assert!(app.anonymous().get("/v1/listings").await.body.get("facets").is_none(), "no facets unless asked");
    }

    async fn titles_of_listings_stored_before_search_are_folded_when_migrating(app: TestApp) {
        let id = publish_text(&app, ("Máy sấy nông sản", None), None).await;
        let mut conn = app.db.conn().unwrap();
        diesel::sql_query("UPDATE listings SET search_title = ''").execute(&mut *conn).unwrap();
        assert_eq!(app.anonymous().get("/v1/listings/suggest?q=may").await.body["items"], json!([]), "the title is not known yet");
        assert_eq!(techex_persistence::listings::fill_search_titles(&mut conn).unwrap(), 1);
        assert_eq!(techex_persistence::listings::fill_search_titles(&mut conn).unwrap(), 0, "once");
        assert_eq!(app.anonymous().get("/v1/listings/suggest?q=may").await.body["items"][0]["id"], id.as_str());
    }

    async fn suggest_completes_titles_of_published_listings(app: TestApp) {
        let ids = vietnamese_fixture(&app).await;
        let draft = app.create_listing(&listing_with(json!({"source": null, "title": {"vi": "Máy sấy bản nháp"}}))).await;
        let reply = app.anonymous().get("/v1/listings/suggest?q=may%20s").await;
        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
        assert_eq!(reply.header("cache-control"), Some("public, max-age=60"));
        let items = reply.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{:#}", reply.body);
        assert_eq!(items[0]["id"], ids[1].as_str());
        assert_eq!(items[0]["title"]["vi"], "Máy sấy nông sản Đà Nẵng");
        assert!(!items.iter().any(|i| i["id"] == draft.as_str()));
        let phan = app.anonymous().get(&format!("/v1/listings/suggest?q={}", enc("PHÂN"))).await;
        let found: BTreeSet<String> = phan.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(found, set(vec![ids[0].clone(), ids[3].clone()]), "titles only, not descriptions");
        let english = app.anonymous().get("/v1/listings/suggest?q=microb").await;
        assert_eq!(english.body["items"][0]["id"], ids[3].as_str());
        assert_eq!(app.anonymous().get("/v1/listings/suggest?q=%2C%2C").await.body["items"], json!([]));
        assert_eq!(app.anonymous().get("/v1/listings/suggest").await.body["items"], json!([]));
    }
}
