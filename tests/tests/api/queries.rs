//! Query strings as web forms send them, on every list: empty values, cache-busters, campaign
//! tags, multi-selects in three forms; `fields=` with its entity tags; `total=true`.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{Reply, backend_tests, listing_with};

fn id_set(reply: &Reply) -> BTreeSet<String> {
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    reply.body["items"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect()
}

fn members(value: &Value) -> BTreeSet<&str> {
    value.as_object().unwrap().keys().map(String::as_str).collect()
}

backend_tests! {
    async fn values_longer_than_documented_are_refused_naming_the_parameter(app: TestApp) {
        let spec = app.anonymous().get("/openapi.json").await.body;
        let parameters = spec["paths"]["/v1/listings"]["get"]["parameters"].as_array().unwrap().clone();
        let max_of = |name: &str| {
            let schema = &parameters.iter().find(|p| p["name"] == name).unwrap()["schema"];
            let string = if schema["type"] == "array" { &schema["items"] } else { schema };
            string["maxLength"].as_u64().unwrap() as usize
        };
        app.publish_all(&[("offer", "79", &["206"])]).await;
        for (name, fits) in [("province", "79"), ("field", "206"), ("fields", "title"), ("cursor", "")] {
            let max = max_of(name);
            if !fits.is_empty() {
                assert!(fits.len() <= max, "{name}={fits}");
                let reply = app.anonymous().get(&format!("/v1/listings?{name}={fits}")).await;
                assert_eq!(reply.status, StatusCode::OK, "{name}={fits}: {:#}", reply.body);
            }
            let long = "7".repeat(max + 1);
            for query in [format!("{name}={long}"), format!("{name}=79,{long}")] {
                if name == "cursor" && query.contains(',') {
                    continue;
                }
                let reply = app.anonymous().get(&format!("/v1/listings?{query}")).await;
                reply.problem(400, "invalid_query");
                assert_eq!(reply.field_errors(), [(name.to_owned(), "too_long".to_owned())], "{query}");
            }
        }
    }

    /// A multi-select arrives repeated, comma-separated or PHP-style (also percent-encoded), and
    /// its values are OR-ed; different filters are AND-ed.
    async fn every_form_of_a_multi_select_matches_any_of_its_values(app: TestApp) {
        let ids = app.publish_all(&[
            ("offer", "79", &["206"]),
            ("demand", "75", &["401"]),
            ("offer", "72", &["102"]),   // the old Tây Ninh, now in Tây Ninh (80)
            ("demand", "79", &["501"]),
        ]).await;
        let expect = |indexes: &[usize]| indexes.iter().map(|&i| ids[i].clone()).collect::<BTreeSet<_>>();
        for query in [
            "province=79&province=75",
            "province=79,75",
            "province=79%2C75",
            "province[]=79&province[]=75",
            "province%5B%5D=79&province%5B%5D=75",
            "province=79,%2075&province=79",
            "province=79,74&province=75",       // 74 is an old code of 79: the same province twice
        ] {
            assert_eq!(id_set(&app.anonymous().get(&format!("/v1/listings?{query}")).await), expect(&[0, 1, 3]), "{query}");
        }
        assert_eq!(id_set(&app.anonymous().get("/v1/listings?field[]=2&field[]=4").await), expect(&[0, 1]));
        assert_eq!(id_set(&app.anonymous().get("/v1/listings?field=2,4,5").await), expect(&[0, 1, 3]));
        assert_eq!(id_set(&app.anonymous().get("/v1/listings?field=206,1").await), expect(&[0, 2]), "prefixes of any length");
        assert_eq!(id_set(&app.anonymous().get("/v1/listings?kind=offer,demand").await), expect(&[0, 1, 2, 3]));
        assert_eq!(id_set(&app.anonymous().get("/v1/listings?kind=demand&province=72,79").await), expect(&[3]), "filters AND");
        assert_eq!(id_set(&app.anonymous().get("/v1/listings?kind=offer&province=72&province=79&field=1,2").await), expect(&[0, 2]));
    }

    /// An "All" choice sends an empty value; jQuery adds `_`; campaign links add `utm_*`.
    async fn empty_values_cache_busters_and_campaign_tags_change_nothing(app: TestApp) {
        let ids = app.publish_all(&[("offer", "79", &["206"]), ("demand", "75", &["401"])]).await;
        let all: BTreeSet<String> = ids.iter().cloned().collect();
        for query in [
            "kind=",
            "kind=&province=&field=&status=&publisher=&limit=&cursor=&total=&fields=",
            "_=1700000000123",
            "utm_source=fb&utm_medium=social&utm_campaign=hoi-cho-2026",
            "province[]=&kind=,",
        ] {
            let reply = app.anonymous().get(&format!("/v1/listings?{query}")).await;
            assert_eq!(id_set(&reply), all, "{query}");
            assert!(reply.body.get("total").is_none(), "{query}");
        }
        assert_eq!(id_set(&app.anonymous().get("/v1/listings?kind=offer&_=1700000000123&utm_source=fb").await).len(), 1);
        for path in ["/v1/organizations?limit=&fields=", "/v1/reference/provinces?kind="] {
            let reply = app.anonymous().get(&format!("{path}&_=1700000000123&utm_source=zalo")).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {:#}", reply.body);
        }
        let admin = app.new_client(&["admin"]).await;
        let clients = app.as_client(&admin).get("/v1/clients?organization=&_=1&utm_term=x&limit=").await;
        assert_eq!(clients.status, StatusCode::OK, "{:#}", clients.body);
    }

    /// A typo stays an error that names what is known; a single value given twice differently
    /// is refused; the work of reading a query string is bounded.
    async fn typos_conflicting_repeats_and_oversized_queries_are_refused(app: TestApp) {
        let typo = app.anonymous().get("/v1/listings?provnce=79").await;
        typo.problem(400, "invalid_query");
        assert_eq!(typo.field_errors(), [("provnce".to_owned(), "unknown_field".to_owned())]);
        let message = typo.body["errors"][0]["message"].as_str().unwrap();
        for known in ["status", "publisher", "kind", "province", "field", "limit", "cursor", "total", "fields"] {
            assert!(message.contains(known), "{message} names {known}");
        }
        let detail = typo.body["detail"].as_str().unwrap();
        assert!(detail.starts_with("1 query parameter"), "{detail}");

        for (uri, field) in [
            ("/v1/listings?limit=5&limit=6", "limit"),
            ("/v1/listings?cursor=abc&cursor=abd", "cursor"),
            ("/v1/listings?status=draft&status=published", "status"),
            ("/v1/listings?total=true&total=false", "total"),
            ("/v1/organizations?limit=5&limit=6", "limit"),
        ] {
            let reply = app.get(uri).await;
            reply.problem(400, "invalid_query");
            assert_eq!(reply.field_errors(), [(field.to_owned(), "repeated_parameter".to_owned())], "{uri}");
        }
        assert_eq!(app.get("/v1/listings?limit=5&limit=5").await.status, StatusCode::OK, "the same value twice is one value");

        let reply = app.get("/v1/listings?field=1,2,3,4,5,6,10,20,30,40&field[]=50").await;
        reply.problem(400, "invalid_query");
        assert_eq!(reply.field_errors(), [("field".to_owned(), "too_many_values".to_owned())]);
        let reply = app.get("/v1/listings?kind=offer&kind=demand&kind=offer,lease").await;
        assert_eq!(reply.field_errors(), [("kind".to_owned(), "too_many_values".to_owned())]);

        let many = vec!["utm_x=1"; 51].join("&");
        let reply = app.anonymous().get(&format!("/v1/listings?{many}")).await;
        reply.problem(400, "invalid_query");
        assert_eq!(reply.field_errors(), [(String::new(), "too_many_parameters".to_owned())]);
        let fifty = vec!["_=1"; 50].join("&");
        assert_eq!(app.anonymous().get(&format!("/v1/listings?{fifty}")).await.status, StatusCode::OK);

        for (path, known) in [
            ("/v1/organizations?organisation=1", "cursor"),
            ("/v1/reference/provinces?knd=old", "kind"),
            ("/v1/listings/00000000-0000-0000-0000-000000000000?feilds=id", "fields"),
        ] {
            let reply = app.get(path).await;
            reply.problem(400, "invalid_query");
            assert!(reply.body["errors"][0]["message"].as_str().unwrap().contains(known), "{path}: {:#}", reply.body);
        }
        for path in ["/v1/reference/fields", "/v1/reference/trl", "/v1/reference/enums"] {
            assert_eq!(app.anonymous().get(&format!("{path}?_=1&utm_source=fb")).await.status, StatusCode::OK, "{path}");
            app.anonymous().get(&format!("{path}?language=vi")).await.problem(400, "invalid_query");
            assert_eq!(app.anonymous().get(&format!("{path}?lang=vi")).await.status, StatusCode::OK, "{path}: lang picks the language");
        }
        let reply = app.get("/v1/reference/provinces?kind=current,old").await;
        assert_eq!(reply.body["items"].as_array().unwrap().len(), app.get("/v1/reference/provinces").await.body["items"].as_array().unwrap().len());
        let current = app.get("/v1/reference/provinces?kind[]=current").await;
        assert!(current.body["items"].as_array().unwrap().iter().all(|p| p["kind"] == "current"));
    }

    /// `fields=` sends only the members named (and `id`), as its own representation with its own
    /// entity tag: a 304 for the tag of that field set only.
    async fn sparse_fieldsets_have_their_own_entity_tags(app: TestApp) {
        let id = app.publish_all(&[("offer", "79", &["206"])]).await.remove(0);
        let path = format!("/v1/listings/{id}");
        let full = app.anonymous().get(&path).await;
        let full_tag = full.header("etag").unwrap().to_owned();
        assert!(members(&full.body).len() > 20);

        let sparse_path = format!("{path}?fields=title,province,kind");
        let sparse = app.anonymous().get(&sparse_path).await;
        assert_eq!(sparse.status, StatusCode::OK, "{:#}", sparse.body);
        assert_eq!(members(&sparse.body), BTreeSet::from(["id", "title", "province", "kind"]));
        assert_eq!(sparse.body["title"], full.body["title"]);
        let sparse_tag = sparse.header("etag").unwrap().to_owned();
        assert_ne!(sparse_tag, full_tag, "another representation, another tag");
        let same_set = app.anonymous().get(&format!("{path}?fields=kind,province&fields=title,id")).await;
        assert_eq!(same_set.header("etag"), Some(sparse_tag.as_str()), "the same set in another order");

        let if_none_match = |uri: &str, tag: &str| TestRequest::get().uri(uri).insert_header(("if-none-match", tag.to_owned()));
        let cached = app.anonymous().send(if_none_match(&sparse_path, &sparse_tag)).await;
        assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
        assert_eq!(cached.header("etag"), Some(sparse_tag.as_str()));
        assert_eq!(app.anonymous().send(if_none_match(&sparse_path, &full_tag)).await.status, StatusCode::OK);
        assert_eq!(app.anonymous().send(if_none_match(&path, &sparse_tag)).await.status, StatusCode::OK);
        assert_eq!(app.anonymous().send(if_none_match(&path, &full_tag)).await.status, StatusCode::NOT_MODIFIED);

        // Compressed, the field set's tag also names its coding, and still answers 304.
        let gzip = || TestRequest::get().uri(&sparse_path).insert_header(("accept-encoding", "gzip"));
        let coded = app.call_raw(gzip().to_request()).await;
        let coded_tag = coded.headers().get("etag").unwrap().to_str().unwrap().to_owned();
        assert_eq!(coded_tag, format!("{}-gzip\"", sparse_tag.trim_end_matches('"')));
        for held in [&coded_tag, &sparse_tag] {
            let cached = app.call_raw(gzip().insert_header(("if-none-match", held.as_str())).to_request()).await;
            assert_eq!(cached.status(), StatusCode::NOT_MODIFIED, "{held}");
        }
        let other_set = app.call_raw(TestRequest::get().uri(&format!("{path}?fields=title")).insert_header(("if-none-match", coded_tag.as_str())).to_request()).await;
        assert_eq!(other_set.status(), StatusCode::OK);

        // A write names the version read, whichever fields were read.
        let edit = app.send_as_publisher(TestRequest::patch().uri(&path).insert_header(("if-match", sparse_tag.as_str())).set_json(json!({"trl": 8}))).await;
        assert_eq!(edit.status, StatusCode::OK, "{:#}", edit.body);
        let stale = app.anonymous().send(if_none_match(&sparse_path, &sparse_tag)).await;
        assert_eq!(stale.status, StatusCode::OK, "a new version");
        assert_ne!(stale.header("etag"), Some(sparse_tag.as_str()));

        let page = app.anonymous().get("/v1/listings?fields=id,title").await;
        assert_eq!(members(&page.body["items"][0]), BTreeSet::from(["id", "title"]));
        assert!(page.body.get("next_cursor").is_some(), "the page itself keeps its members");
        let page_tag = page.header("etag").unwrap().to_owned();
        assert_ne!(Some(page_tag.as_str()), app.anonymous().get("/v1/listings").await.header("etag"));
        assert_eq!(app.anonymous().send(if_none_match("/v1/listings?fields=id,title", &page_tag)).await.status, StatusCode::NOT_MODIFIED);

        let org = app.anonymous().get(&format!("/v1/organizations/{}?fields=name", app.publisher.organization_id)).await;
        assert_eq!(members(&org.body), BTreeSet::from(["id", "name"]));
        let orgs = app.anonymous().get("/v1/organizations?fields=province").await;
        assert_eq!(members(&orgs.body["items"][0]), BTreeSet::from(["id", "province"]));
        let admin = app.new_client(&["admin"]).await;
        let client = app.as_client(&admin).get(&format!("/v1/clients/{}?fields=scopes,active", app.publisher.id)).await;
        assert_eq!(members(&client.body), BTreeSet::from(["id", "scopes", "active"]));

        let unknown = app.anonymous().get(&format!("{path}?fields=title,colour")).await;
        unknown.problem(400, "invalid_query");
        assert_eq!(unknown.field_errors(), [("fields".to_owned(), "invalid_value".to_owned())]);
        let message = unknown.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("colour") && message.contains("province_as_sent") && message.contains("allowed_actions"), "{message}");
        app.anonymous().get("/v1/organizations?fields=title").await.problem(400, "invalid_query");
    }

    /// `total=true` counts every match of the filters, whatever the page; without it nothing is
    /// counted.
    async fn totals_count_every_match_of_the_filters(app: TestApp) {
        app.publish_all(&[
            ("offer", "79", &["206"]), ("offer", "79", &["211"]), ("offer", "75", &["206"]),
            ("demand", "79", &["206"]), ("offer", "79", &["401"]),
        ]).await;
        app.create_listing(&listing_with(json!({"province": "79", "source": null}))).await; // a draft
        let first = app.anonymous().get("/v1/listings?kind=offer&province=79,75&field=2&limit=2&total=true").await;
        assert_eq!(first.body["total"], 3, "{:#}", first.body);
        assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
        let cursor = first.body["next_cursor"].as_str().unwrap();
        let second = app.anonymous().get(&format!("/v1/listings?kind=offer&province=79,75&field=2&limit=2&total=true&cursor={cursor}")).await;
        assert_eq!((second.body["total"].as_i64(), second.body["items"].as_array().unwrap().len()), (Some(3), 1));
        assert_eq!(app.anonymous().get("/v1/listings?total=true").await.body["total"], 5);
        assert_eq!(app.anonymous().get("/v1/listings?province=79&total=true").await.body["total"], 4);
        assert_eq!(app.get("/v1/listings?status=draft&total=true").await.body["total"], 1);
        assert_eq!(app.anonymous().get("/v1/listings?province=80&total=true").await.body["total"], 0);
        for no_count in ["/v1/listings", "/v1/listings?total=false", "/v1/listings?total="] {
            let reply = app.anonymous().get(no_count).await;
            assert_eq!(reply.status, StatusCode::OK);
            assert!(reply.body.get("total").is_none(), "{no_count}: {:#}", reply.body);
        }
        let bad = app.anonymous().get("/v1/listings?total=yes").await;
        bad.problem(400, "invalid_query");
        assert_eq!(bad.field_errors(), [("total".to_owned(), "invalid_value".to_owned())]);

        let admin = app.new_client(&["admin"]).await;
        let orgs = app.anonymous().get("/v1/organizations?limit=1&total=true").await;
        assert_eq!(orgs.body["total"], 2, "the publisher's and the operator's");
        let own = app.as_client(&admin).get(&format!("/v1/clients?organization={}&total=true", app.publisher.organization_id)).await;
        assert_eq!(own.body["total"], 1);
        assert_eq!(app.as_client(&admin).get("/v1/clients?total=true&limit=1").await.body["total"], 2);
    }
}

/// Every list reads its parameters by the rules above, so the contract must say which take
/// several values and how many: each array parameter is a form-exploded list with `maxItems`,
/// and every list documents `limit`, `cursor`, `total` and `fields`.
#[test]
fn the_contract_declares_each_multi_valued_parameter_and_its_bound() {
    let document = serde_json::to_value(techex_api::openapi()).unwrap();
    let (mut arrays, mut lists) = (0, 0);
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let parameters = get["parameters"].as_array().cloned().unwrap_or_default();
        for parameter in parameters.iter().filter(|p| p["in"] == "query" && p["schema"]["type"] == "array") {
            arrays += 1;
            assert_eq!(
                (&parameter["style"], &parameter["explode"]),
                (&json!("form"), &json!(true)),
                "{path}: {parameter}"
            );
            assert!(parameter["schema"]["maxItems"].as_u64().is_some_and(|n| n > 1), "{path}: {parameter}");
        }
        if get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .is_some_and(|r| r.ends_with("Page"))
        {
            lists += 1;
            let names: BTreeSet<&str> = parameters.iter().filter_map(|p| p["name"].as_str()).collect();
            for common in ["limit", "cursor", "total", "fields"] {
                assert!(names.contains(common), "{path} documents {common}");
            }
        }
    }
    assert_eq!(
        lists, 10,
        "listings, organizations, clients, a listing's interests, contracts, centers, webhooks, a webhook's deliveries, saved searches, a search's alerts"
    );
    assert!(arrays >= 8, "kind, province, field and fields of listings, fields of the others, kind of provinces");
}
