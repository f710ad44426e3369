//! Exports (`GET /v1/export/...`): every public record in one streamed answer.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{Options, backend_tests, listing_with};

fn lines(reply: &techex_tests::Reply) -> Vec<Value> {
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    // A body of several JSON lines is not one JSON value: the harness hands it over as text.
    let text = match &reply.body {
        Value::String(text) => text.clone(),
        single => format!("{single}\n"),
    };
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

backend_tests! {
    /// Every published listing once, as an anonymous caller sees it, across batches.
    #[options(Options { export_slots: (2, 2), ..Options::default() })]
    async fn the_listing_export_holds_every_published_listing_once(app: TestApp) {
        let mut published = app.publish_all(&[("offer", "79", &["206"]), ("demand", "75", &["401"]), ("offer", "74", &["211"])]).await;
        published.extend(app.publish_all(&[("offer", "79", &["206"]), ("demand", "79", &["102"])]).await);
        let draft = app.create_listing(&listing_with(json!({"source": null}))).await;

        let reply = app.anonymous().get("/v1/export/listings").await;
        assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
        let records = lines(&reply);
        let mut ids: Vec<String> = records.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids.len(), 5, "five listings in batches of two: {ids:?}");
        ids.sort();
        published.sort();
        assert_eq!(ids, published);
        assert!(!ids.contains(&draft));
        assert!(records.iter().all(|r| r["contact"].is_null() && r["status"] == "published"), "the public view");
        let one = app.anonymous().get(&format!("/v1/listings/{}", records[0]["id"].as_str().unwrap())).await;
        assert_eq!(records[0], one.body, "each record as GET shows it to an anonymous caller");
    }

    /// The export says where the change feed takes over: a write after it comes through the feed.
    async fn the_feed_takes_over_where_an_export_began(app: TestApp) {
        let first = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let reply = app.anonymous().get("/v1/export/listings").await;
        assert_eq!(lines(&reply).len(), 1);
        let cursor = reply.header("changes-cursor").unwrap().to_owned();
        let second = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let partner = app.new_client(&["changes:read"]).await;
        let mut seen = Vec::new();
        for _ in 0..100 {
            let feed = app.as_client(&partner).get(&format!("/v1/changes?entity=listing&after={cursor}")).await;
            seen = feed.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
            // On PostgreSQL the feed may first hand out the first listing's changes again and
            // hold the second back while another test's older transaction runs.
            if seen.contains(&second) {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(seen.contains(&second), "{seen:?}");
        if app.backend() == techex_tests::TestBackend::Sqlite {
            // On PostgreSQL the cursor may lie before the first listing's changes while another
            // test's older transaction runs: they come again, as documented, and none is missed.
            assert!(!seen.contains(&first), "the first was in the export and changed no more");
        }
    }

    /// CSV for spreadsheets: a byte-order mark, a header line, Vietnamese and commas intact.
    async fn the_csv_export_opens_in_a_spreadsheet(app: TestApp) {
        let id = app.publish_listing(&listing_with(json!({
            "source": null, "title": {"vi": "Máy sấy, loại \"mặt trời\"", "en": "Solar dryer"}, "field_codes": ["211", "401"]
        }))).await;
        let reply = app.anonymous().get("/v1/export/listings?format=csv").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-type"), Some("text/csv; charset=utf-8"));
        assert_eq!(reply.header("content-disposition"), Some("attachment; filename=\"techex-listings.csv\""));
        let text = reply.body.as_str().unwrap();
        let text = text.strip_prefix('\u{FEFF}').expect("a byte-order mark first");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(&header[..4], ["id", "kind", "status", "title_vi"]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        let column = |name: &str| rows[0].get(header.iter().position(|h| h == name).unwrap()).unwrap().to_owned();
        assert_eq!(column("id"), id);
        assert_eq!(column("title_vi"), "Máy sấy, loại \"mặt trời\"");
        assert_eq!(column("field_codes"), "211;401");
        assert_eq!(column("status"), "published");

        let orgs = app.anonymous().get("/v1/export/organizations?format=csv").await;
        let text = orgs.body.as_str().unwrap().strip_prefix('\u{FEFF}').unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.records().count(), 1, "the publisher's organization");
        let orgs = lines(&app.anonymous().get("/v1/export/organizations").await);
        assert_eq!(orgs[0]["id"], json!(app.publisher.organization_id));
    }

    /// A portal's page reads the feed position of an export across origins.
    async fn a_browser_may_read_where_the_feed_takes_over(app: TestApp) {
        let reply = app
            .anonymous()
            .send(TestRequest::get().uri("/v1/export/listings").insert_header(("origin", techex_tests::PORTAL_ORIGIN)))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let exposed = reply.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
        assert!(exposed.contains("changes-cursor") && exposed.contains("content-disposition"), "{exposed}");
    }

    async fn an_unknown_format_is_refused(app: TestApp) {
        let reply = app.anonymous().get("/v1/export/listings?format=xlsx").await;
        reply.problem(400, "invalid_query");
        assert_eq!(reply.field_errors()[0].0, "format");
        app.anonymous().get("/v1/export/organizations?page=2").await.problem(400, "invalid_query");
    }

    /// A server runs only so many exports at once; beyond them callers hear when to retry.
    #[options(Options { export_slots: (0, 500), ..Options::default() })]
    async fn exports_beyond_the_servers_slots_are_turned_away(app: TestApp) {
        let reply = app.anonymous().send(TestRequest::get().uri("/v1/export/listings")).await;
        reply.problem(503, "exports_busy");
        assert_eq!(reply.header("retry-after"), Some("10"));
    }

    /// An export's slot is free again once its answer has ended: a partner taking one copy after
    /// another, on a server of one slot, is never turned away.
    #[options(Options { export_slots: (1, 2), ..Options::default() })]
    async fn the_slot_of_an_ended_export_is_free_for_the_next(app: TestApp) {
        app.publish_all(&[("offer", "79", &["206"]), ("demand", "75", &["401"]), ("offer", "74", &["211"])]).await;
        for _ in 0..30 {
            for path in ["/v1/export/listings", "/v1/export/organizations"] {
                let reply = app.anonymous().get(path).await;
                assert_eq!(reply.status, StatusCode::OK, "{path}: {:#}", reply.body);
            }
        }
    }
}
