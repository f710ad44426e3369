//! What the README promises of storage: a write and its change-log row commit together or not at
//! all, server-side failures name the request and keep their cause in the log, an unreachable
//! database answers 503, and concurrent writes queue or are refused, never lost.

use actix_web::http::StatusCode;
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Bool, Integer};
use serde_json::{Value, json};
use techex_persistence::DbConn;
use techex_tests::{FIXTURE_EXCHANGE, Reply, TestApp, TestClient, backend_tests, listing_with};

/// Runs SQL on a connection of the app's own pool, on whichever backend it is.
fn execute(app: &TestApp, sql: &str) {
    let mut conn = app.db.conn().unwrap();
    match &mut *conn {
        DbConn::Sqlite(c) => c.batch_execute(sql),
        DbConn::Pg(c) => c.batch_execute(sql),
    }
    .unwrap();
}

/// Asserts a 500 that names the request and says nothing of its cause.
#[track_caller]
fn assert_internal_error(reply: &Reply) -> String {
    let problem = reply.problem(500, "internal_error");
    let request_id = reply.header("x-request-id").expect("every response names its request").to_owned();
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("X-Request-Id"), "the detail points at the request id: {detail}");
    let text = reply.body.to_string();
    assert!(
        !text.contains("change_log") && !text.to_lowercase().contains("table"),
        "the cause stays in the log: {text}"
    );
    request_id
}

#[derive(diesel::QueryableByName)]
struct Settled {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Bool)]
    settled: bool,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[derive(diesel::QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

/// Writes `change` to a record (row `id` of `table`, organizations or api_clients) as `admin`,
/// while another writer changes the same record; returns the API's answer and the record as
/// read back afterwards.
///
/// On PostgreSQL the other writer holds the row while the API reads it, so the API's write waits
/// and then finds the version changed under it. On SQLite writers take the write lock up front,
/// so the API's write queues behind the other one and applies to what it wrote.
async fn race(app: &TestApp, admin: &TestClient, table: &str, id: &str, change: &Value) -> (Reply, Value) {
    let path = match table {
        "organizations" => format!("/v1/organizations/{id}"),
        _ => format!("/v1/clients/{id}"),
    };
    let operator = app.as_client(admin);
    let interfere = format!("UPDATE {table} SET version = version + 1 WHERE id = '{id}'");
    let mut side = app.db.conn().unwrap();
    let reply = match &mut *side {
        DbConn::Pg(c) => {
            c.batch_execute(&format!("BEGIN; SELECT 1 FROM {table} WHERE id = '{id}' FOR UPDATE")).unwrap();
            let own_pid = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result::<Pid>(c).unwrap().pid;
            let other = async {
                let mut watcher = app.db.conn().unwrap();
                let DbConn::Pg(w) = &mut *watcher else { unreachable!() };
                let mut waiting = 0;
                // Bounded: a write that never waits fails the test instead of hanging it.
                for _ in 0..6000 {
                    waiting = diesel::sql_query(
                        "SELECT count(*) AS count FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                    )
                    .bind::<Integer, _>(own_pid)
                    .get_result::<Count>(w)
                    .unwrap()
                    .count;
                    if waiting > 0 {
                        break;
                    }
                    actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                assert_eq!(waiting, 1, "the API's write waits for the other writer");
                c.batch_execute(&format!("{interfere}; COMMIT")).unwrap();
            };
            futures_util::future::join(operator.patch(&path, change), other).await.0
        }
        DbConn::Sqlite(c) => {
            c.batch_execute(&format!("BEGIN IMMEDIATE; {interfere}")).unwrap();
            let other = async {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
                c.batch_execute("COMMIT").unwrap();
            };
            futures_util::future::join(operator.patch(&path, change), other).await.0
        }
    };
    drop(side);
    let after = operator.get(&path).await.body;
    (reply, after)
}

backend_tests! {
    async fn a_write_whose_change_log_row_fails_leaves_nothing_behind(app: TestApp) {
        techex_tests::capture_logs();
        let id = app.create_listing(&listing_with(json!({"source": null}))).await;
        let path = format!("/v1/listings/{id}");
        let before = app.get(&path).await.body;

        execute(&app, "ALTER TABLE change_log RENAME TO change_log_away");
        let created = app.post("/v1/listings", &listing_with(json!({"source": {"exchange": FIXTURE_EXCHANGE, "external_id": "DN-1"}}))).await;
        let request_id = assert_internal_error(&created);
        assert_internal_error(&app.patch(&path, &json!({"trl": 8})).await);
        assert_internal_error(&app.post(&format!("{path}/publish"), &Value::Null).await);
        assert_internal_error(&app.delete(&path).await);
        execute(&app, "ALTER TABLE change_log_away RENAME TO change_log");

        assert_eq!(app.get(&path).await.body, before, "the refused writes left the listing as it was");
        let drafts = app.get("/v1/listings?status=draft").await.body;
        let ids: Vec<&str> = drafts["items"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [id.as_str()], "the refused create stored no listing");
        assert_eq!(app.change_count(), 1);
        // The same source record can now be created: the refused create left no row behind.
        app.create_listing(&listing_with(json!({"source": {"exchange": FIXTURE_EXCHANGE, "external_id": "DN-1"}}))).await;

        let logs = techex_tests::captured_logs();
        assert!(logs.contains(&request_id), "the request id is in the log");
        assert!(logs.lines().any(|l| l.starts_with("ERROR") && l.contains("change_log")), "the cause is in the log");
    }

    /// Every connection of the pool taken by other requests (sixteen searches with facets at
    /// 1,000,000 listings hold ten connections for seconds): 503 with `Retry-After`, saying the
    /// database is busy, not that it cannot be reached, as the caller and the operator reading
    /// the log would then look for an outage.
    async fn a_database_busy_with_other_requests_is_503_and_readyz_goes_red(app: TestApp) {
        assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
        let held: Vec<_> = (0..4).map(|_| app.db.conn().unwrap()).collect();
        let ready = app.anonymous().get("/readyz").await;
        let problem = ready.problem(503, "service_unavailable");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("busy") && !detail.contains("not reachable"), "{problem:#}");
        assert!(detail.contains("X-Request-Id"), "{problem:#}");
        assert!(ready.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok()), "{:?}", ready.headers);
        assert!(ready.header("x-request-id").is_some());
        drop(held);
        let ready = app.anonymous().get("/readyz").await;
        assert_eq!((ready.status, ready.body["status"].as_str()), (StatusCode::OK, Some("ready")));
    }

    async fn a_write_racing_another_is_queued_never_lost(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let org = app.publisher.organization_id.clone();
        let client = app.client_in(&org, &["changes:read"]).await;
        let races = [
            ("organizations", org.clone(), json!({"province": "79"}), "province", "75", "79"),
            ("api_clients", client.id.clone(), json!({"name": "Cổng mới"}), "name", "test client", "Cổng mới"),
        ];
        for (table, id, change, field, before, wanted) in races {
            // Every versioned write takes the row lock first, so on both backends it waits for
            // the other writer and applies after it.
            let (reply, after) = race(&app, &admin, table, &id, &change).await;
            assert_eq!(reply.status, StatusCode::OK, "{table}: {:#}", reply.body);
            let written = (after["version"].as_i64(), after[field].as_str());
            assert_eq!(written, (Some(3), Some(wanted)), "{table}: the write applied after the other one");
            assert_ne!(before, wanted);
        }
    }

    async fn the_change_log_hands_out_changes_in_commit_order(app: TestApp) {
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(app.create_listing(&listing_with(json!({"source": null}))).await);
        }
        let seqs: Vec<i64> = ids.iter().map(|id| app.history(id)[0].seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        let mut conn = app.db.conn().unwrap();
        let DbConn::Pg(c) = &mut *conn else {
            // SQLite has one writer at a time, so `seq` is commit order.
            return;
        };
        // A slow writer takes its sequence number first and commits last.
        c.batch_execute(
            "BEGIN; INSERT INTO change_log (entity, entity_id, op, version, actor, at, data) \
             VALUES ('listing', 'slow', 'create', 1, 'test', now(), '{}')",
        )
        .unwrap();
        let quick = app.create_listing(&listing_with(json!({"source": null}))).await;
        let quick_seq = app.history(&quick)[0].seq;
        // What a feed may hand out: rows older than every transaction still in flight.
        let feed = |conn: &mut diesel::PgConnection| -> Vec<(i64, bool)> {
            diesel::sql_query(
                "SELECT seq, txid < pg_snapshot_xmin(pg_current_snapshot()) AS settled FROM change_log \
                 WHERE entity = 'listing' ORDER BY seq",
            )
            .load::<Settled>(conn)
            .unwrap()
            .into_iter()
            .map(|row| (row.seq, row.settled))
            .collect()
        };
        let mut reader = app.db.conn().unwrap();
        let DbConn::Pg(r) = &mut *reader else { unreachable!() };
        let while_slow = feed(r);
        assert_eq!(while_slow.len(), 4, "the slow writer's row is not visible yet: {while_slow:?}");
        assert_eq!(while_slow.last(), Some(&(quick_seq, false)), "a feed holds back what committed after the slow writer began");
        c.batch_execute("COMMIT").unwrap();
        // Other tests' transactions on this server hold the feed back too; they end soon.
        let mut settled = feed(r);
        for _ in 0..6000 {
            if settled.iter().all(|(_, settled)| *settled) {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
            settled = feed(r);
        }
        assert_eq!(settled.len(), 5);
        assert!(settled.iter().all(|(_, settled)| *settled), "{settled:?}");
        let slow_seq = settled.iter().map(|(seq, _)| *seq).find(|seq| !seqs.contains(seq) && *seq != quick_seq).unwrap();
        assert!(slow_seq < quick_seq, "the slow writer's row has the smaller seq but was handed out no earlier");
    }
}
