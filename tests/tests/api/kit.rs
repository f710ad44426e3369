//! What every resource shares: stored records that outlive changes of their fields, one public
//! representation for reads and the change log, atomic use cases, typed conflicts, HEAD and
//! If-Match.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use diesel::RunQueryDsl;
use serde_json::{Value, json};
use techex_api::usecases::{FirstClient, register_organization_with_client};
use techex_domain::access::Scope;
use techex_persistence::change_log::{self, Author, Change};
use techex_persistence::{Constraint, DbConn};
use techex_tests::{TestApp, backend_tests, listing_body, listing_with, organization_body, organization_content};

#[derive(diesel::QueryableByName)]
struct IndexName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// The unique indexes of the database, primary keys included, by the names PostgreSQL gives
/// them; SQLite names only the ones created by name, the others stand for their table's key.
fn unique_indexes(app: &TestApp) -> Vec<String> {
    let mut conn = app.db.conn().unwrap();
    let mut names: Vec<String> = match &mut *conn {
        DbConn::Pg(pg) => diesel::sql_query(
            "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND indexdef LIKE 'CREATE UNIQUE INDEX%'",
        )
        .load::<IndexName>(pg),
        DbConn::Sqlite(sqlite) => diesel::sql_query(
            "SELECT CASE WHEN name LIKE 'sqlite_autoindex_%' THEN tbl_name || '_pkey' ELSE name END AS name \
             FROM sqlite_master WHERE type = 'index' AND (sql LIKE 'CREATE UNIQUE INDEX%' OR name LIKE 'sqlite_autoindex_%')",
        )
        .load::<IndexName>(sqlite),
    }
    .unwrap()
    .into_iter()
    .map(|i| i.name)
    .collect();
    names.sort();
    names
}

fn execute(app: &TestApp, sql: &str) {
    diesel::sql_query(sql).execute(&mut *app.db.conn().unwrap()).unwrap();
}

fn history(app: &TestApp, entity: &str, id: &str) -> Vec<Change> {
    change_log::history(&mut app.db.conn().unwrap(), entity, id).unwrap()
}

async fn organization_names(app: &TestApp) -> Vec<String> {
    let page = app.anonymous().get("/v1/organizations?limit=100").await;
    assert_eq!(page.status, StatusCode::OK, "{:#}", page.body);
    page.body["items"].as_array().unwrap().iter().map(|o| o["name"]["vi"].as_str().unwrap().to_owned()).collect()
}

backend_tests! {
    async fn a_stored_listing_with_an_unknown_field_and_without_an_optional_one_still_reads(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        // As a later version of the hub might have written it (a field this one does not know,
        // one inside a nested object too), and without `summary`, `price` and `media`, which an
        // earlier version did not write.
        let mut stored = listing_body();
        let object = stored.as_object_mut().unwrap();
        for absent in ["summary", "price", "media"] {
            object.remove(absent);
        }
        object.insert("sdg_goals".into(), json!([7, 9]));
        object.insert("title".into(), json!({"vi": "Máy sấy nông sản", "fr": "Séchoir solaire"}));
        let content = stored.to_string().replace('\'', "''");
        execute(&app, &format!("UPDATE listings SET content = '{content}' WHERE id = '{id}'"));

        let read = app.get(&format!("/v1/listings/{id}")).await;
        assert_eq!(read.status, StatusCode::OK, "{:#}", read.body);
        assert_eq!(read.body["title"], json!({"vi": "Máy sấy nông sản"}));
        assert_eq!(read.body["summary"], Value::Null);
        assert_eq!(read.body["price"], json!({"amount": null, "currency": "VND", "negotiable": true, "type": null}));
        assert_eq!(read.body["media"], json!([]));
        assert!(read.body.get("sdg_goals").is_none());
        // And it can be edited: the fields this version knows are written back.
        let edited = app.patch(&format!("/v1/listings/{id}"), &json!({"trl": 8})).await;
        assert_eq!(edited.status, StatusCode::OK, "{:#}", edited.body);
        assert_eq!(edited.body["trl"], 8);
    }

    async fn a_stored_organization_with_an_unknown_field_still_reads(app: TestApp) {
        let id = &app.publisher.organization_id;
        let stored = json!({"kind": "exchange", "name": {"vi": "Sàn cũ"}, "province": "75", "rank": 1});
        execute(&app, &format!("UPDATE organizations SET content = '{stored}' WHERE id = '{id}'"));
        let read = app.anonymous().get(&format!("/v1/organizations/{id}")).await;
        assert_eq!(read.status, StatusCode::OK, "{:#}", read.body);
        assert_eq!((read.body["name"]["vi"].as_str(), read.body["source_exchanges"].clone()), (Some("Sàn cũ"), json!([])));
    }

    async fn the_api_still_refuses_unknown_fields_at_their_path(app: TestApp) {
        let reply = app.post("/v1/listings", &listing_with(json!({"owner": {"name": "Viện", "rank": 1}}))).await;
        reply.problem(422, "validation_failed");
        assert_eq!(reply.field_errors(), [("owner.rank".to_owned(), "unknown_field".to_owned())]);
    }

    async fn the_change_log_carries_exactly_what_get_answers(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        let path = format!("/v1/listings/{id}");
        let created = app.get(&path).await.body;
        app.patch(&path, &json!({"trl": 8})).await;
        let updated = app.get(&path).await.body;
        assert_eq!(app.delete(&path).await.status, StatusCode::NO_CONTENT);
        let changes = history(&app, "listing", &id);
        assert_eq!(changes.len(), 3);
        assert_eq!(changes[0].data, created);
        assert_eq!(changes[1].data, updated);
        // The tombstone carries the last representation: the listing as deleted.
        let tombstone = &changes[2].data;
        assert_eq!((tombstone["status"].as_str(), tombstone["version"].as_i64()), (Some("withdrawn"), Some(3)));
        let mut expected = updated.clone();
        for key in ["status", "version", "updated_at", "allowed_actions", "deleted_at"] {
            expected[key] = tombstone[key].clone();
        }
        assert_eq!(tombstone["deleted_at"], tombstone["updated_at"]);
        assert_eq!(tombstone, &expected);

        let admin = app.new_client(&["admin"]).await;
        let operator = app.as_client(&admin);
        let org = operator.post("/v1/organizations", &organization_body("Công ty nhật ký", None, &[])).await;
        assert_eq!(org.status, StatusCode::CREATED, "{:#}", org.body);
        let org_id = org.body["id"].as_str().unwrap().to_owned();
        let org_path = format!("/v1/organizations/{org_id}");
        let org_created = app.anonymous().get(&org_path).await.body;
        operator.patch(&org_path, &json!({"contact": {"address": "Biên Hòa"}})).await;
        let org_updated = app.anonymous().get(&org_path).await.body;
        let org_changes: Vec<Value> = history(&app, "organization", &org_id).into_iter().map(|c| c.data).collect();
        assert_eq!(org_changes, [org_created, org_updated]);

        let client_path = format!("/v1/clients/{}", admin.id);
        let other = app.client_in(&org_id, &["listings:write"]).await;
        operator.patch(&format!("/v1/clients/{}", other.id), &json!({"name": "Cổng mới"})).await;
        let client_read = operator.get(&format!("/v1/clients/{}", other.id)).await.body;
        let client_changes = history(&app, "api_client", &other.id);
        assert_eq!(client_changes.last().unwrap().data, client_read);
        assert_eq!(history(&app, "api_client", &admin.id)[0].data, operator.get(&client_path).await.body);
    }

    async fn an_organization_and_its_first_client_are_registered_together_or_not_at_all(app: TestApp) {
        let content = |name: &str| organization_content(organization_body(name, None, &[]));
        let first = |name: &str| FirstClient { name: name.to_owned(), scopes: [Scope::ListingsWrite].into() };
        let author = Author::command_line();
        let done = register_organization_with_client(
            &mut app.db.conn().unwrap(), content("Viện đủ đôi"), first("Cổng viện"), &author,
        )
        .unwrap();
        let org = app.anonymous().get(&format!("/v1/organizations/{}", done.organization.id)).await;
        assert_eq!(org.status, StatusCode::OK);
        let token = app.token_for(&done.client.id.to_string(), &done.client_secret).await;
        assert!(!token.is_empty());

        // The client's rules fail after the organization was written: neither stays.
        let refused = register_organization_with_client(
            &mut app.db.conn().unwrap(), content("Viện thiếu cổng"), first(" \u{200B} "), &author,
        );
        assert!(refused.is_err());
        // The client's table is gone: its insert fails in the database, after the organization's.
        execute(&app, "ALTER TABLE api_clients RENAME TO api_clients_away");
        let failed = register_organization_with_client(
            &mut app.db.conn().unwrap(), content("Viện không cổng"), first("Cổng hỏng"), &author,
        );
        execute(&app, "ALTER TABLE api_clients_away RENAME TO api_clients");
        assert!(failed.is_err());
        let names = organization_names(&app).await;
        assert!(names.contains(&"Viện đủ đôi".to_owned()), "{names:?}");
        assert!(!names.iter().any(|n| n == "Viện thiếu cổng" || n == "Viện không cổng"), "{names:?}");
        assert_eq!(change_log::count(&mut app.db.conn().unwrap(), "organization").unwrap(), names.len() as i64);
    }

    async fn every_uniqueness_rule_answers_409_with_its_own_code(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let operator = app.as_client(&admin);
        for constraint in Constraint::ALL {
            let (first, second, code) = match constraint {
                Constraint::ListingSource => (
                    app.post("/v1/listings", &listing_body()).await,
                    app.post("/v1/listings", &listing_body()).await,
                    "duplicate_source",
                ),
                Constraint::OrganizationTaxCode => (
                    operator.post("/v1/organizations", &organization_body("Công ty A", Some("0123456787"), &[])).await,
                    operator.post("/v1/organizations", &organization_body("Công ty B", Some("0123456787"), &[])).await,
                    "duplicate_tax_code",
                ),
                Constraint::SourceExchange => (
                    operator.post("/v1/organizations", &organization_body("Sàn C", None, &["san-c"])).await,
                    operator.post("/v1/organizations", &organization_body("Sàn D", None, &["san-c"])).await,
                    "duplicate_source_exchange",
                ),
            };
            assert_eq!(first.status, StatusCode::CREATED, "{constraint:?}: {:#}", first.body);
            second.problem(409, code);
        }
    }

    async fn every_unique_index_is_a_named_rule_or_a_generated_key(app: TestApp) {
        // Keys the hub generates (UUIDv7 ids, sequence numbers) or rewrites whole (a listing's
        // field codes and terms, a center's field codes and services), and diesel's record of
        // migrations, the names of the hub's own background jobs, and the matches the alert job
        // keeps for each saved search, and the words of the search index (added with `ON CONFLICT
        // DO NOTHING`), cannot be hit by a client's data; every other unique index must be a
        // `Constraint`, so that hitting it answers 409 with its own code rather than 500. An
        // idempotency key is reserved by hitting its key on purpose (the idempotency store reads
        // that violation as "taken").
        let generated = ["__diesel_schema_migrations_pkey", "api_clients_pkey", "center_fields_pkey", "center_services_pkey", "centers_pkey", "change_log_pkey", "contracts_pkey", "interests_pkey", "listing_fields_pkey", "listing_terms_pkey", "listings_pkey", "organizations_pkey", "idempotency_keys_pkey", "webhooks_pkey", "webhook_deliveries_pkey", "webhook_attempts_pkey", "job_leases_pkey", "mirrored_records_pkey", "sync_cursors_pkey", "saved_searches_pkey", "search_matches_pkey", "search_alerts_pkey", "search_words_pkey"];
        let named: Vec<&str> = Constraint::ALL.iter().map(|c| c.index_name()).collect();
        let indexes = unique_indexes(&app);
        assert!(indexes.len() >= named.len(), "{indexes:?}");
        for index in &indexes {
            assert!(generated.contains(&index.as_str()) || named.contains(&index.as_str()), "unique index {index} maps to no Constraint");
        }
        for name in named {
            assert!(indexes.iter().any(|i| i == name), "Constraint index {name} is not in the database: {indexes:?}");
        }
    }

    async fn head_answers_on_every_get_route_as_get_would_without_the_body(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let listing = app.create_listing(&listing_body()).await;
        let spec: Value = serde_json::from_str(&techex_api::openapi().to_json().unwrap()).unwrap();
        let mut checked = 0;
        for (template, item) in spec["paths"].as_object().unwrap() {
            if item.get("get").is_none() {
                continue;
            }
            let id = match template.split('/').nth(2) {
                Some("listings") => listing.as_str(),
                Some("organizations") => app.publisher.organization_id.as_str(),
                _ => admin.id.as_str(),
            };
            let path = template.replace("{id}", id).replace("{_:.*}", "");
            let get = app.as_client(&admin).get(&path).await;
            let head = app.as_client(&admin).send(TestRequest::default().method(actix_web::http::Method::HEAD).uri(&path)).await;
            assert_eq!(head.status, get.status, "HEAD {path}");
            assert_ne!(head.status, StatusCode::METHOD_NOT_ALLOWED, "HEAD {path}");
            assert_eq!(head.body, Value::Null, "HEAD {path} has no body");
            assert_eq!(head.header("etag"), get.header("etag"), "HEAD {path}");
            assert_eq!(head.header("content-type"), get.header("content-type"), "HEAD {path}");
            checked += 1;
        }
        assert!(checked >= 10, "{checked} GET routes");
        let head_of_post = app.send(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/v1/auth/token")).await;
        assert_eq!((head_of_post.status, head_of_post.header("allow")), (StatusCode::METHOD_NOT_ALLOWED, Some("POST")));
        assert_eq!(head_of_post.body, Value::Null);
    }

    async fn an_if_match_longer_than_documented_is_a_bad_request(app: TestApp) {
        let spec = app.anonymous().get("/openapi.json").await.body;
        let parameters = spec["paths"]["/v1/listings/{id}"]["patch"]["parameters"].as_array().unwrap().clone();
        let if_match = parameters.iter().find(|p| p["name"] == "If-Match").unwrap();
        let max = if_match["schema"]["maxLength"].as_u64().unwrap() as usize;
        let id = app.create_listing(&listing_body()).await;
        // The current version among stale ones: one tag more than the limit allows is refused.
        let tags = |count: usize| (0..count).map(|_| "\"v0\"").chain(["\"v1\""]).collect::<Vec<_>>().join(",");
        let fits = (max - 4) / 5;
        assert!(tags(fits).len() <= max && tags(fits + 1).len() > max);
        let patch = |header: String| {
            TestRequest::patch().uri(&format!("/v1/listings/{id}")).insert_header(("if-match", header)).set_json(json!({"trl": 8}))
        };
        app.send_as_publisher(patch(tags(fits + 1))).await.problem(400, "invalid_header");
        let accepted = app.send_as_publisher(patch(tags(fits))).await;
        assert_eq!(accepted.status, StatusCode::OK, "{:#}", accepted.body);
    }

    async fn an_if_none_match_longer_than_documented_is_a_bad_request(app: TestApp) {
        let spec = app.anonymous().get("/openapi.json").await.body;
        let parameters = spec["paths"]["/v1/listings/{id}"]["get"]["parameters"].as_array().unwrap().clone();
        let if_none_match = parameters.iter().find(|p| p["name"] == "If-None-Match").unwrap();
        let max = if_none_match["schema"]["maxLength"].as_u64().unwrap() as usize;
        let id = app.create_listing(&listing_body()).await;
        let tags = |count: usize| (0..count).map(|_| "\"v0\"").chain(["\"v1\""]).collect::<Vec<_>>().join(",");
        let fits = (max - 4) / 5;
        let read = |header: String| TestRequest::get().uri(&format!("/v1/listings/{id}")).insert_header(("if-none-match", header));
        app.send_as_publisher(read(tags(fits + 1))).await.problem(400, "invalid_header");
        let unchanged = app.send_as_publisher(read(tags(fits))).await;
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    }

    async fn an_empty_or_malformed_if_match_is_a_bad_request(app: TestApp) {
        let id = app.create_listing(&listing_body()).await;
        let admin = app.new_client(&["admin"]).await;
        let org_path = format!("/v1/organizations/{}", app.publisher.organization_id);
        for bad in ["", "v1", "\"v1", "W/v1", "\"v1\" \"v2\""] {
            let listing = app
                .send_as_publisher(TestRequest::patch().uri(&format!("/v1/listings/{id}")).insert_header(("if-match", bad)).set_json(json!({"trl": 8})))
                .await;
            listing.problem(400, "invalid_header");
            let deleting = app
                .send_as_publisher(TestRequest::delete().uri(&format!("/v1/listings/{id}")).insert_header(("if-match", bad)))
                .await;
            deleting.problem(400, "invalid_header");
            let org = app
                .as_client(&admin)
                .send(TestRequest::patch().uri(&org_path).insert_header(("if-match", bad)).set_json(json!({"contact": {"phone": "0251 3822 111"}})))
                .await;
            org.problem(400, "invalid_header");
        }
        let stale = app
            .send_as_publisher(TestRequest::patch().uri(&format!("/v1/listings/{id}")).insert_header(("if-match", "\"v7\"")).set_json(json!({"trl": 8})))
            .await;
        stale.problem(412, "precondition_failed");
        let current = app
            .send_as_publisher(TestRequest::patch().uri(&format!("/v1/listings/{id}")).insert_header(("if-match", "W/\"v0\", \"v1\"")).set_json(json!({"trl": 8})))
            .await;
        assert_eq!(current.status, StatusCode::OK, "{:#}", current.body);
    }

    async fn a_scope_listed_twice_is_refused(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let operator = app.as_client(&admin);
        let created = operator
            .post("/v1/clients", &json!({"organization_id": app.publisher.organization_id, "name": "Cổng", "scopes": ["listings:write", "admin", "listings:write"]}))
            .await;
        created.problem(422, "validation_failed");
        assert_eq!(created.field_errors(), [("scopes[2]".to_owned(), "duplicate".to_owned())]);
        let updated = operator.patch(&format!("/v1/clients/{}", app.publisher.id), &json!({"scopes": ["admin", "admin"]})).await;
        updated.problem(422, "validation_failed");
        assert_eq!(updated.field_errors(), [("scopes[1]".to_owned(), "duplicate".to_owned())]);
        let client = operator.get(&format!("/v1/clients/{}", app.publisher.id)).await;
        assert_eq!((client.body["scopes"].as_array().unwrap().len(), client.body["version"].as_i64()), (2, Some(1)));
    }
}
