//! Many writers at once through the API: creates, edits and lifecycle moves interleaved. On
//! SQLite none fails with `database is locked`, on PostgreSQL no conflict surfaces as a 500; a
//! refusal is one of the documented answers to a race (412 `precondition_failed`, 409 conflict or
//! illegal move), and every acknowledged write is there afterwards.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{FIXTURE_EXCHANGE, Options, Reply, TestApp, backend_tests, listing_with};

const WRITERS: usize = 32;
const ROUNDS: usize = 4;
const SEEDED: usize = 8;

fn sourced(external_id: &str) -> Value {
    listing_with(json!({"source": {"exchange": FIXTURE_EXCHANGE, "external_id": external_id}}))
}

/// Whether a reply is a success, or a refusal a client racing others must expect.
fn acceptable(reply: &Reply) -> bool {
    match reply.status.as_u16() {
        200 | 201 => true,
        409 => ["edit_conflict", "illegal_transition"].contains(&reply.body["code"].as_str().unwrap_or("")),
        412 => reply.body["code"] == "precondition_failed",
        _ => false,
    }
}

/// One writer's rounds, by its number: creates, edits with and without `If-Match`, and moves
/// through the lifecycle, each on the listings the others touch too.
async fn writer(app: &TestApp, number: usize, seeded: &[String]) -> Vec<(String, Reply)> {
    let mut replies = Vec::new();
    for round in 0..ROUNDS {
        let target = &seeded[(number + round) % seeded.len()];
        let path = format!("/v1/listings/{target}");
        let (label, reply) = match (number + round) % 4 {
            0 => ("create".to_owned(), app.post("/v1/listings", &sourced(&format!("w{number}-r{round}"))).await),
            1 => {
                let read = app.get(&path).await;
                let etag = read.header("etag").unwrap_or("\"v0\"").to_owned();
                let request = TestRequest::patch()
                    .uri(&path)
                    .insert_header(("if-match", etag))
                    .set_json(json!({"keywords": [format!("w{number}-r{round}")]}));
                (format!("edit {target} with If-Match"), app.send_as_publisher(request).await)
            }
            2 => {
                let body = json!({"summary": {"vi": format!("Bản tóm tắt {number}-{round}")}});
                (format!("edit {target}"), app.patch(&path, &body).await)
            }
            _ => {
                let action = if round % 2 == 0 { "publish" } else { "withdraw" };
                (
                    format!("{action} {target}"),
                    app.send_as_publisher(TestRequest::post().uri(&format!("{path}/{action}"))).await,
                )
            }
        };
        replies.push((label, reply));
    }
    replies
}

backend_tests! {
    #[options(Options { pool_size: 8, ..Options::default() })]
    async fn thirty_two_concurrent_writers_get_no_server_error_and_lose_nothing(app: TestApp) {
        let mut seeded = Vec::new();
        for i in 0..SEEDED {
            seeded.push(app.create_listing(&sourced(&format!("seed-{i}"))).await);
        }
        let changes_before = app.change_count();

        let writers = (0..WRITERS).map(|number| writer(&app, number, &seeded));
        let replies: Vec<(String, Reply)> = futures_util::future::join_all(writers).await.into_iter().flatten().collect();

        let unexpected: Vec<String> = replies
            .iter()
            .filter(|(_, reply)| !acceptable(reply))
            .map(|(label, reply)| format!("{label}: {} {}", reply.status, reply.body))
            .collect();
        assert!(unexpected.is_empty(), "{} unexpected answers:\n{}", unexpected.len(), unexpected.join("\n"));
        assert!(
            replies.iter().all(|(_, reply)| !reply.body.to_string().contains("locked")),
            "no answer speaks of a locked database"
        );

        let acknowledged: Vec<&Reply> = replies.iter().map(|(_, r)| r).filter(|r| r.status.is_success()).collect();
        let created = replies.iter().filter(|(label, r)| label == "create" && r.status == StatusCode::CREATED).count();
        assert_eq!(created, WRITERS * ROUNDS / 4, "every create lands: they touch no shared record");
        for reply in &acknowledged {
            let id = reply.body["id"].as_str().unwrap();
            let stored = app.get(&format!("/v1/listings/{id}")).await;
            assert_eq!(stored.status, StatusCode::OK, "{:#}", stored.body);
            assert!(stored.body["version"].as_i64() >= reply.body["version"].as_i64(), "the acknowledged version stays");
        }
        assert_eq!(
            app.change_count() - changes_before,
            acknowledged.len() as i64,
            "each acknowledged write logged its change, and no refused one did"
        );
    }
}
