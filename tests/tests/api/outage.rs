//! A database outage on PostgreSQL, played with a proxy the test cuts: requests hear 503 with
//! `Retry-After` instead of hanging, liveness stays green while readiness turns red, and service
//! comes back by itself once the database is reachable again, with nothing acknowledged lost.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use serde_json::json;
use techex_tests::proxy::{Proxy, reroute};
use techex_tests::{Options, TestApp, TestBackend, listing_with};

#[actix_web::test]
#[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
async fn an_outage_answers_503_with_retry_after_and_heals_by_itself() {
    let base = std::env::var("TEST_DATABASE_URL").unwrap();
    let proxy = Proxy::start(&reroute(&base, "unused:0").0);
    let options = Options { postgres_via: Some(proxy.addr.to_string()), ..Options::default() };
    let app = TestApp::start_with(TestBackend::Postgres, options).await;
    let before = app.create_listing(&source_id("before")).await;
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);

    proxy.cut();
    for _ in 0..3 {
        for reply in [
            app.get("/readyz").await,
            app.get(&format!("/v1/listings/{before}")).await,
            app.post("/v1/listings", &source_id("during")).await,
        ] {
            reply.problem(503, "service_unavailable");
            assert_eq!(reply.header("retry-after"), Some("1"), "{:#}", reply.body);
        }
    }
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK, "the process itself is alive");

    proxy.restore();
    // No timing is asserted: the deadline only keeps a broken build from hanging here.
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.get("/readyz").await.status != StatusCode::OK {
        assert!(Instant::now() < deadline, "the service never recovered");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.get(&format!("/v1/listings/{before}")).await.status, StatusCode::OK, "the write before is kept");
    let after = app.create_listing(&source_id("after")).await;
    assert_eq!(app.get(&format!("/v1/listings/{after}")).await.status, StatusCode::OK);
}

fn source_id(external_id: &str) -> serde_json::Value {
    listing_with(json!({"source": {"exchange": techex_tests::FIXTURE_EXCHANGE, "external_id": external_id}}))
}

/// The pool lends connections without a `SELECT 1` first; a connection the server closed is
/// still found out and replaced: the one request that meets it hears 503, the next is served.
#[actix_web::test]
#[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
async fn a_connection_the_server_closed_is_replaced() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    let app = TestApp::start_with(TestBackend::Postgres, Options { pool_size: 1, ..Options::default() }).await;
    let listing = app.create_listing(&source_id("kept")).await;
    let pid: i32 = {
        let mut conn = app.db.conn().unwrap();
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("pg_backend_pid()"))
            .get_result(&mut *conn)
            .unwrap()
    };
    let mut admin = PgConnection::establish(&std::env::var("TEST_DATABASE_URL").unwrap()).unwrap();
    let terminated: bool =
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!("pg_terminate_backend({pid})")))
            .get_result(&mut admin)
            .unwrap();
    assert!(terminated, "the pooled connection was closed by the server");

    app.get(&format!("/v1/listings/{listing}")).await.problem(503, "service_unavailable");
    assert_eq!(app.get(&format!("/v1/listings/{listing}")).await.status, StatusCode::OK, "a new connection serves");
    let now: i32 = {
        let mut conn = app.db.conn().unwrap();
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("pg_backend_pid()"))
            .get_result(&mut *conn)
            .unwrap()
    };
    assert_ne!(now, pid, "the closed connection is not lent again");
}
