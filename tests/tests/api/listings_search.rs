use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{backend_tests, listing_with};

fn ids_of(reply: &techex_tests::Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    reply.body["items"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect()
}

backend_tests! {
    async fn only_published_listings_are_listed_newest_first(app: TestApp) {
        let published = app.publish_all(&[("offer", "79", &["206"]), ("demand", "75", &["401"])]).await;
        let draft = app.create_listing(&listing_with(json!({"source": null}))).await;
        let pending = app.create_listing(&listing_with(json!({"source": null}))).await;
        let submitted = app.post(&format!("/v1/listings/{pending}/submit"), &Value::Null).await;
        assert_eq!((submitted.status, submitted.body["status"].as_str()), (StatusCode::OK, Some("pending_review")), "{:#}", submitted.body);
        let under_review = ids_of(&app.get("/v1/listings?status=pending_review").await);
        assert_eq!(under_review, std::slice::from_ref(&pending), "the set-up holds one listing under review");
        let reply = app.get("/v1/listings").await;
        assert_eq!(ids_of(&reply), [published[1].clone(), published[0].clone()]);
        assert!(!ids_of(&reply).contains(&draft) && !ids_of(&reply).contains(&pending));
        assert!(reply.body["next_cursor"].is_null());
        assert_eq!(reply.header("cache-control"), Some("private, no-cache"), "what a client sees is its own");
        let anonymous = app.anonymous().get("/v1/listings").await;
        assert_eq!(anonymous.header("cache-control"), Some("public, max-age=30"));
        assert_eq!(ids_of(&anonymous), ids_of(&reply));
    }

    async fn filters_by_kind_province_and_field_prefix(app: TestApp) {
        let ids = app.publish_all(&[
            ("offer", "74", &["206", "401"]),   // sent as Bình Dương, now Ho Chi Minh City
            ("offer", "79", &["211"]),
            ("demand", "75", &["401"]),
            ("demand", "70", &["102"]),         // Bình Phước, now Đồng Nai
        ]).await;
        let set = |reply: techex_tests::Reply| ids_of(&reply).into_iter().collect::<HashSet<_>>();
        let expect = |indexes: &[usize]| indexes.iter().map(|&i| ids[i].clone()).collect::<HashSet<_>>();

        assert_eq!(set(app.get("/v1/listings?kind=offer").await), expect(&[0, 1]));
        assert_eq!(set(app.get("/v1/listings?kind=demand").await), expect(&[2, 3]));
        assert_eq!(set(app.get("/v1/listings?province=79").await), expect(&[0, 1]), "79 finds what was sent as 74");
        assert_eq!(set(app.get("/v1/listings?province=74").await), expect(&[0, 1]), "an old code filters by its successor");
        assert_eq!(set(app.get("/v1/listings?province=75").await), expect(&[2, 3]));
        assert_eq!(set(app.get("/v1/listings?province=80").await), expect(&[]));
        assert_eq!(set(app.get("/v1/listings?field=2").await), expect(&[0, 1]), "2 matches 206 and 211");
        assert_eq!(set(app.get("/v1/listings?field=206").await), expect(&[0]));
        assert_eq!(set(app.get("/v1/listings?field=40").await), expect(&[0, 2]));
        assert_eq!(set(app.get("/v1/listings?field=1").await), expect(&[3]));
        assert_eq!(set(app.get("/v1/listings?kind=offer&province=79&field=4").await), expect(&[0]));
        // A listing matching two codes of the prefix is listed once.
        assert_eq!(ids_of(&app.get("/v1/listings?field=4").await).len(), 2);
    }

    async fn cursor_pages_cover_everything_once_even_while_data_changes(app: TestApp) {
        let specs: Vec<(&str, &str, &[&str])> = (0..7).map(|_| ("offer", "79", &["206"][..])).collect();
        let mut expected = app.publish_all(&specs).await;
        expected.reverse();
        let mut seen = Vec::new();
        let mut uri = "/v1/listings?limit=3".to_owned();
        let mut pages = 0;
        loop {
            let reply = app.get(&uri).await;
            let ids = ids_of(&reply);
            assert!(ids.len() <= 3);
            seen.extend(ids);
            pages += 1;
            if pages == 1 {
                // A listing published between pages lands before the cursor: it neither shifts
                // later pages nor appears twice.
                app.publish_all(&[("offer", "79", &["206"])]).await;
            }
            match reply.body["next_cursor"].as_str() {
                Some(cursor) => {
                    let link = reply.header("link").expect("Link header with a next page");
                    assert!(link.ends_with("; rel=\"next\"") && link.contains(&format!("cursor={cursor}")), "{link}");
                    uri = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
                    assert!(uri.contains("limit=3"), "the next link keeps the query: {uri}");
                }
                None => {
                    assert!(reply.header("link").is_none());
                    break;
                }
            }
        }
        assert_eq!(seen, expected);
        assert_eq!(pages, 3);
    }

    async fn pages_carry_etags_and_answer_304_until_they_change(app: TestApp) {
        app.publish_all(&[("offer", "79", &["206"])]).await;
        let first = app.anonymous().get("/v1/listings?kind=offer").await;
        let tag = first.header("etag").expect("a page has an ETag").to_owned();
        let again = app.anonymous().send(TestRequest::get().uri("/v1/listings?kind=offer").insert_header(("if-none-match", tag.as_str()))).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert_eq!(again.header("etag"), Some(tag.as_str()));
        assert_eq!(again.header("cache-control"), Some("public, max-age=30"));
        assert!(again.body.is_null(), "304 has no body");
        app.publish_all(&[("offer", "79", &["206"])]).await;
        let changed = app.anonymous().send(TestRequest::get().uri("/v1/listings?kind=offer").insert_header(("if-none-match", tag.as_str()))).await;
        assert_eq!(changed.status, StatusCode::OK);
        assert_ne!(changed.header("etag"), Some(tag.as_str()));
        assert_eq!(ids_of(&changed).len(), 2);
        let fields = app.anonymous().get("/v1/reference/fields").await;
        let fields_tag = fields.header("etag").unwrap().to_owned();
        let cached = app.anonymous().send(TestRequest::get().uri("/v1/reference/fields").insert_header(("if-none-match", fields_tag.as_str()))).await;
        assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    }

    async fn a_page_holds_20_listings_unless_asked_otherwise(app: TestApp) {
        let specs: Vec<(&str, &str, &[&str])> = (0..21).map(|_| ("offer", "79", &["206"][..])).collect();
        let mut published = app.publish_all(&specs).await;
        published.reverse();
        let first = app.anonymous().get("/v1/listings").await;
        assert_eq!(ids_of(&first), published[..20]);
        let cursor = first.body["next_cursor"].as_str().expect("a next page");
        let rest = app.anonymous().get(&format!("/v1/listings?cursor={cursor}")).await;
        assert_eq!(ids_of(&rest), published[20..]);
        assert_eq!(ids_of(&app.anonymous().get("/v1/listings?limit=21").await), published);
    }

    async fn bad_query_parameters_are_refused_not_ignored(app: TestApp) {
        let cases = [
            ("/v1/listings?limit=0", "limit", "out_of_range"),
            ("/v1/listings?limit=101", "limit", "out_of_range"),
            ("/v1/listings?limit=ten", "limit", "invalid_format"),
            ("/v1/listings?kind=sale", "kind", "invalid_value"),
            ("/v1/listings?province=99", "province", "unknown_province"),
            ("/v1/listings?field=2%25", "field", "invalid_format"),
            ("/v1/listings?field=2060", "field", "too_long"),
            ("/v1/listings?cursor=bm90LWEtY3Vyc29y", "cursor", "invalid_cursor"),
            ("/v1/listings?cursor=%%%", "cursor", "invalid_cursor"),
            ("/v1/listings?provnce=79", "provnce", "unknown_field"),
        ];
        for (uri, field, code) in cases {
            let reply = app.get(uri).await;
            reply.problem(400, "invalid_query");
            assert_eq!(reply.field_errors(), [(field.to_owned(), code.to_owned())], "{uri}");
        }
        let limit_100 = app.get("/v1/listings?limit=100").await;
        assert_eq!(limit_100.status, StatusCode::OK);
    }

    async fn each_organization_lists_its_own_unpublished_listings_and_moderators_all(app: TestApp) {
        let mine = app.create_listing(&listing_with(json!({"source": null}))).await;
        let other = app.new_client(&["listings:write"]).await;
        let theirs = app.as_client(&other).post("/v1/listings", &listing_with(json!({"source": null}))).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let published = app.publish_listing(&listing_with(json!({"source": null}))).await;

        assert_eq!(ids_of(&app.get("/v1/listings?status=draft").await), std::slice::from_ref(&mine));
        assert_eq!(ids_of(&app.as_client(&other).get("/v1/listings?status=draft").await), std::slice::from_ref(&theirs));
        let peeking = app.get(&format!("/v1/listings?status=draft&publisher={}", other.organization_id)).await;
        peeking.problem(403, "forbidden");
        app.anonymous().get("/v1/listings?status=draft").await.problem(401, "unauthorized");
        let private = app.get("/v1/listings?status=draft").await;
        assert_eq!(private.header("cache-control"), Some("private, no-cache"));

        for id in [&mine, &theirs] {
            let session = if *id == mine { app.as_client(&app.publisher) } else { app.as_client(&other) };
            let submitted = session.post_empty(&format!("/v1/listings/{id}/submit")).await;
            assert_eq!(submitted.body["status"], "pending_review", "{:#}", submitted.body);
        }
        let moderator = app.new_client(&["listings:moderate"]).await;
        let queue = ids_of(&app.as_client(&moderator).get("/v1/listings?status=pending_review").await);
        assert_eq!(queue.into_iter().collect::<HashSet<_>>(), HashSet::from([mine.clone(), theirs.clone()]));
        let one_org = app.as_client(&moderator).get(&format!("/v1/listings?status=pending_review&publisher={}", other.organization_id)).await;
        assert_eq!(ids_of(&one_org), [theirs]);

        let by_publisher = app.anonymous().get(&format!("/v1/listings?publisher={}", app.publisher.organization_id)).await;
        assert_eq!(ids_of(&by_publisher), [published]);
        let bad = app.anonymous().get("/v1/listings?status=archived&publisher=x").await;
        assert_eq!(
            bad.field_errors(),
            [("status".to_owned(), "invalid_value".to_owned()), ("publisher".to_owned(), "invalid_format".to_owned())]
        );
    }
}
