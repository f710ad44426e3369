//! The facet counts of the whole published set, kept at write time: whatever sequence of writes
//! came before (creates, edits, every lifecycle move, deletions, batches, expiry by the clock,
//! the expiry and purge jobs, compaction), a search without a filter counts what the live query
//! counts for the same set. The live query is reached by a filter that keeps every listing
//! (`kind=offer,demand`), which the kept counts do not answer.

use actix_web::http::StatusCode;
use serde_json::{Value, json};
use techex_tests::{FIXTURE_EXCHANGE, Options, TestApp, backend_tests, listing_with};

const FACETS: &str = "facets=kind,province,field,trl,ip_status,transfer_form";

/// A small seeded generator: the sequences are random but the same on every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound
    }
}

/// Listing content with random facet values (and an expiry a few hours ahead, or none).
fn random_content(app: &TestApp, random: &mut Seeded) -> Value {
    let kinds = ["offer", "demand"];
    let provinces = ["79", "75", "74", "01"];
    let fields = [&["206"][..], &["211", "401"], &["101", "102"], &["206", "211"], &["199", "101", "401"], &["102"]];
    let ips = ["patent", "none", "utility_solution"];
    let forms = [&["franchise"][..], &["independent"], &["independent", "franchise"], &[]];
    let ip = ips[random.next(3)];
    let expires_at = match random.next(3) {
        0 => (app.clock.now() + chrono::Duration::hours(1 + random.next(4) as i64)).to_rfc3339(),
        _ => techex_tests::expiry_in_days(365),
    };
    json!({
        "kind": kinds[random.next(2)],
        "province": provinces[random.next(4)],
        "field_codes": fields[random.next(fields.len())],
        "trl": if random.next(4) == 0 { Value::Null } else { json!(1 + random.next(9)) },
        "ip_status": ip,
        "ip_refs": if ip == "none" { json!([]) } else { json!(["2-0002345"]) },
        "transfer_forms": forms[random.next(forms.len())],
        "expires_at": expires_at,
    })
}

fn with_source(content: &Value, external_id: &str) -> Value {
    let mut body = listing_with(content.clone());
    body["source"] = json!({"exchange": FIXTURE_EXCHANGE, "external_id": external_id});
    body
}

/// The facets of a search for every published listing at each field level: `kept` without a
/// filter, otherwise through a filter that keeps every listing.
async fn facets(app: &TestApp, kept: bool) -> Vec<Value> {
    let mut all = Vec::new();
    for level in 1..=3 {
        let filter = if kept { "" } else { "&kind=offer,demand" };
        let reply = app.anonymous().get(&format!("/v1/listings?{FACETS}&field_level={level}&limit=1{filter}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
        all.push(reply.body["facets"].clone());
    }
    all
}

async fn assert_counts_agree(app: &TestApp, after: &str) {
    let live = facets(app, false).await;
    assert_eq!(facets(app, true).await, live, "after {after}");
}

backend_tests! {
    async fn the_migration_fills_the_counts_of_the_listings_already_stored(app: TestApp) {
        let mut random = Seeded(21);
        for n in 0..12 {
            let mut body = listing_with(random_content(&app, &mut random));
            body["source"] = Value::Null;
            let id = app.create_listing(&body).await;
            if n % 4 != 0 {
                app.post(&format!("/v1/listings/{id}/publish"), &Value::Null).await;
            }
            if n % 5 == 0 {
                app.delete(&format!("/v1/listings/{id}")).await;
            }
        }
        let kept = facets(&app, true).await;
        // As on a database written before the counts were kept: their table made anew.
        let (down, up) = match app.backend_name() {
            "postgres" => (
                include_str!("../../../migrations/postgres/2026-11-29-000021_facet_counts/down.sql"),
                include_str!("../../../migrations/postgres/2026-11-29-000021_facet_counts/up.sql"),
            ),
            _ => (
                include_str!("../../../migrations/sqlite/2026-11-29-000021_facet_counts/down.sql"),
                include_str!("../../../migrations/sqlite/2026-11-29-000021_facet_counts/up.sql"),
            ),
        };
        let mut conn = app.db.conn().unwrap();
        diesel::connection::SimpleConnection::batch_execute(&mut *conn, down).unwrap();
        diesel::connection::SimpleConnection::batch_execute(&mut *conn, up).unwrap();
        assert_eq!(facets(&app, true).await, kept);
        assert_counts_agree(&app, "the migration").await;
    }

    async fn kept_facet_counts_equal_the_live_counts_after_any_sequence_of_writes(app: TestApp) {
        let mut random = Seeded(0x000f_ace7_2026);
        let mut ids: Vec<String> = Vec::new();
        let mut sourced: Vec<String> = Vec::new();
        let mut checked = 0;
        for step in 0..120 {
            let pick = |random: &mut Seeded, ids: &[String]| ids[random.next(ids.len())].clone();
            let what = if ids.is_empty() { 0 } else { random.next(12) };
            let done = match what {
                0 | 1 => {
                    let mut body = listing_with(random_content(&app, &mut random));
                    body["source"] = Value::Null;
                    let id = app.create_listing(&body).await;
                    if what == 1 {
                        app.post(&format!("/v1/listings/{id}/publish"), &Value::Null).await;
                    }
                    ids.push(id);
                    "create"
                }
                2 => {
                    let id = pick(&mut random, &ids);
                    app.patch(&format!("/v1/listings/{id}"), &random_content(&app, &mut random)).await;
                    "edit"
                }
                3..=5 => {
                    let id = pick(&mut random, &ids);
                    let action = ["publish", "submit", "withdraw", "close", "restore", "publish"][random.next(6)];
                    app.post(&format!("/v1/listings/{id}/{action}"), &Value::Null).await;
                    "lifecycle move"
                }
                6 => {
                    let id = pick(&mut random, &ids);
                    app.delete(&format!("/v1/listings/{id}")).await;
                    "delete"
                }
                7 => {
                    // New and known source records, some published in the same batch.
                    let mut items = Vec::new();
                    for _ in 0..1 + random.next(4) {
                        let external = if sourced.is_empty() || random.next(2) == 0 {
                            format!("R-{step}-{}", items.len())
                        } else {
                            sourced[random.next(sourced.len())].clone()
                        };
                        items.push(json!({"op": "upsert", "listing": with_source(&random_content(&app, &mut random), &external)}));
                        if random.next(2) == 0 {
                            items.push(json!({"op": "publish", "source": {"exchange": FIXTURE_EXCHANGE, "external_id": external}}));
                        }
                        sourced.push(external);
                    }
                    let reply = app.post("/v1/listings/batch", &json!({ "items": items })).await;
                    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
                    for item in reply.body["items"].as_array().unwrap() {
                        if let Some(id) = item["id"].as_str().filter(|id| !ids.iter().any(|known| known == id)) {
                            ids.push(id.to_owned());
                        }
                    }
                    "batch"
                }
                8 => {
                    // Past some expiries: counted out by the clock before the job moves them.
                    app.clock.advance(chrono::Duration::minutes(30 + random.next(120) as i64));
                    "the clock passing expiries"
                }
                9 => {
                    techex_api::jobs::expire_listings(&app.db, app.clock.now()).unwrap();
                    "the expiry job"
                }
                10 => {
                    techex_api::jobs::purge_tombstones(&app.db, app.clock.now(), chrono::Duration::zero()).unwrap();
                    "the purge of tombstones"
                }
                _ => {
                    techex_persistence::facet_counts::compact(&mut app.db.conn().unwrap()).unwrap();
                    "compaction"
                }
            };
            if step % 3 == 2 {
                assert_counts_agree(&app, &format!("step {step}, {done}")).await;
                checked += 1;
            }
        }
        assert!(checked >= 40);
        let published = app.anonymous().get("/v1/listings?total=true&limit=1").await.body["total"].as_i64().unwrap();
        assert!(published > 5, "the sequence left a published set to count ({published})");
        techex_persistence::facet_counts::compact(&mut app.db.conn().unwrap()).unwrap();
        assert_counts_agree(&app, "the last compaction").await;
    }

    #[options(Options { pool_size: 8, ..Options::default() })]
    async fn concurrent_writers_and_compaction_keep_the_counts_exact(app: TestApp) {
        const WRITERS: usize = 8;
        let compacting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let compactor = {
            let (db, compacting) = (app.db.clone(), compacting.clone());
            std::thread::spawn(move || {
                let mut runs = 0;
                while compacting.load(std::sync::atomic::Ordering::SeqCst) || runs == 0 {
                    techex_persistence::facet_counts::compact(&mut db.conn().unwrap()).unwrap();
                    runs += 1;
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                runs
            })
        };
        let writer = |number: usize| {
            let app = &app;
            async move {
                let mut random = Seeded(number as u64 + 1);
                let mut mine = Vec::new();
                for round in 0..6 {
                    let body = with_source(&random_content(app, &mut random), &format!("C-{number}-{round}"));
                    let id = app.create_listing(&body).await;
                    assert_eq!(app.post(&format!("/v1/listings/{id}/publish"), &Value::Null).await.status, StatusCode::OK);
                    mine.push(id);
                    let target = &mine[random.next(mine.len())];
                    let reply = app.patch(&format!("/v1/listings/{target}"), &random_content(app, &mut random)).await;
                    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
                    if round % 3 == 2 {
                        let gone = mine.remove(random.next(mine.len()));
                        assert_eq!(app.delete(&format!("/v1/listings/{gone}")).await.status, StatusCode::NO_CONTENT);
                    }
                }
            }
        };
        futures_util::future::join_all((0..WRITERS).map(writer)).await;
        compacting.store(false, std::sync::atomic::Ordering::SeqCst);
        assert!(compactor.join().unwrap() > 0);
        assert_counts_agree(&app, "concurrent writes").await;
        let published = app.anonymous().get("/v1/listings?total=true&limit=1").await.body["total"].as_i64().unwrap();
        assert!(published >= (WRITERS * 4) as i64 - 1, "{published}");
    }
}
