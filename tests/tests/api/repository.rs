//! Checks of the repository itself: the committed contract, the migrations, the demo data.

use std::path::Path;

use std::collections::{BTreeMap, BTreeSet};

use diesel::sql_types::{Bool, Integer, Text};
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::Value;
use techex_persistence::{Db, DbConn};
use techex_tests::{TestApp, TestBackend, backend_tests};

fn workspace_file(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

/// The committed `openapi/openapi.json` and `openapi/openapi-3.0.json` are what the code
/// generates. Run with `UPDATE_OPENAPI=1` to rewrite them after a deliberate change of the
/// contract.
#[test]
fn committed_openapi_document_is_current() {
    for (version, file) in [("3.1", "openapi/openapi.json"), ("3.0", "openapi/openapi-3.0.json")] {
        let generated = techex_api::openapi_text(version) + "\n";
        let path = workspace_file(file);
        if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{file} is stale: run `UPDATE_OPENAPI=1 cargo test -p techex-tests committed_openapi` and commit it"
        );
    }
}

/// The 3.0 rendering describes the same contract: the same operations with the same answers,
/// parameters and schemas, with every schema property kept.
#[test]
fn the_3_0_document_is_the_same_contract() {
    let full: Value = serde_json::from_str(&techex_api::openapi_text("3.1")).unwrap();
    let old: Value = serde_json::from_str(&techex_api::openapi_text("3.0")).unwrap();
    assert_eq!(old["openapi"], "3.0.3");
    assert_eq!(keys(&full["paths"]), keys(&old["paths"]));
    for (path, item) in full["paths"].as_object().unwrap() {
        assert_eq!(keys(item), keys(&old["paths"][path]), "{path}");
        for (method, operation) in item.as_object().unwrap() {
            let twin = &old["paths"][path][method];
            assert_eq!(operation["operationId"], twin["operationId"]);
            assert_eq!(keys(&operation["responses"]), keys(&twin["responses"]), "{method} {path}");
            assert_eq!(operation["parameters"].as_array().map(Vec::len), twin["parameters"].as_array().map(Vec::len));
        }
    }
    assert_eq!(keys(&full["components"]["schemas"]), keys(&old["components"]["schemas"]));
    for (name, schema) in full["components"]["schemas"].as_object().unwrap() {
        let twin = &old["components"]["schemas"][name];
        assert_eq!(keys(&schema["properties"]), keys(&twin["properties"]), "{name}");
        assert_eq!(schema["required"], twin["required"], "{name}");
    }
    assert_eq!(full["components"]["securitySchemes"], old["components"]["securitySchemes"]);
}

fn keys(value: &Value) -> Vec<String> {
    value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn openapi_document_is_3_1_with_problem_errors_everywhere() {
    let spec: Value = serde_json::from_str(&techex_api::openapi().to_json().unwrap()).unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1."));
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(operation_ids.insert(id.to_owned()), "duplicate operationId {id}");
            assert!(operation["tags"].as_array().is_some_and(|t| !t.is_empty()), "{id} has no tag");
            for (status, response) in operation["responses"].as_object().unwrap() {
                if !status.starts_with('4') && !status.starts_with('5') {
                    continue;
                }
                // The answers every operation shares are declared once, under components.
                let response = match response["$ref"].as_str() {
                    Some(target) => resolve(&spec, target),
                    None => response,
                };
                // The token endpoint answers in the error format of RFC 6749 section 5.2.
                let (media_type, schema) = if id == "issue_token" {
                    ("application/json", "#/components/schemas/OAuthError")
                } else {
                    ("application/problem+json", "#/components/schemas/Problem")
                };
                assert_eq!(response["content"][media_type]["schema"]["$ref"], schema, "{id} {status}");
            }
        }
    }
}

#[test]
fn every_schema_reference_resolves() {
    fn refs(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target.clone());
                }
                map.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let spec: Value = serde_json::from_str(&techex_api::openapi().to_json().unwrap()).unwrap();
    let mut found = Vec::new();
    refs(&spec, &mut found);
    assert!(!found.is_empty());
    for target in found {
        assert!(!resolve(&spec, &target).is_null(), "dangling $ref {target}");
    }
}

/// What a `#/components/<section>/<name>` reference names, or null.
fn resolve<'a>(spec: &'a Value, target: &str) -> &'a Value {
    let (section, name) = target
        .strip_prefix("#/components/")
        .and_then(|rest| rest.split_once('/'))
        .unwrap_or_else(|| panic!("unexpected $ref {target}"));
    &spec["components"][section][name]
}

#[test]
fn both_backends_have_the_same_migrations() {
    let list = |backend: &str| {
        let mut names: Vec<String> = std::fs::read_dir(workspace_file(&format!("migrations/{backend}")))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let sqlite = list("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, list("postgres"));
    for name in &sqlite {
        for backend in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                assert!(
                    workspace_file(&format!("migrations/{backend}/{name}/{file}")).exists(),
                    "{backend}/{name}/{file}"
                );
            }
        }
    }
}

/// One column as the database describes it: its type, normalized across the backends (SQLite's
/// `INTEGER` and `BIGINT` are both 64-bit, PostgreSQL's `bigint`), and whether it is `NOT NULL`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    ty: String,
    not_null: bool,
}

/// One index: its columns in order, and whether it is unique.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Index {
    table: String,
    columns: Vec<String>,
    unique: bool,
}

/// A database's schema as the database itself reports it (diesel's own bookkeeping left out).
#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    /// `table.column` -> column.
    columns: BTreeMap<String, Column>,
    /// table -> primary-key columns in order.
    primary_keys: BTreeMap<String, Vec<String>>,
    /// index name -> index (primary keys' own indexes left out).
    indexes: BTreeMap<String, Index>,
}

fn normalized_type(ty: &str) -> String {
    let ty = ty.trim().to_ascii_lowercase();
    match ty.as_str() {
        "integer" | "bigint" | "int8" | "bigserial" => "bigint".to_owned(),
        "timestamp" | "timestamp without time zone" => "timestamp".to_owned(),
        _ => ty,
    }
}

#[derive(QueryableByName)]
struct Named {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = Integer)]
    required: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    is_unique: i32,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Bool)]
    is_primary: bool,
    #[diesel(sql_type = Text)]
    columns: String,
}

fn schema_of(db: &Db) -> Schema {
    let mut conn = db.conn().unwrap();
    let mut schema = Schema::default();
    match &mut *conn {
        DbConn::Sqlite(c) => {
            let tables: Vec<Named> = diesel::sql_query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name <> '__diesel_schema_migrations' ORDER BY name",
            )
            .load(c)
            .unwrap();
            for table in tables.into_iter().map(|t| t.name) {
                let columns: Vec<SqliteColumn> = diesel::sql_query(
                    "SELECT name, type AS ty, \"notnull\" AS required, pk FROM pragma_table_info(?) ORDER BY cid",
                )
                .bind::<Text, _>(&table)
                .load(c)
                .unwrap();
                let mut key: Vec<(i32, String)> = Vec::new();
                let single_key = columns.iter().filter(|col| col.pk > 0).count() == 1;
                for col in columns {
                    // An INTEGER PRIMARY KEY is the rowid, which is never null.
                    let rowid = single_key && col.pk > 0 && col.ty.eq_ignore_ascii_case("integer");
                    let column = Column { ty: normalized_type(&col.ty), not_null: col.required == 1 || rowid };
                    if col.pk > 0 {
                        key.push((col.pk, col.name.clone()));
                    }
                    schema.columns.insert(format!("{table}.{}", col.name), column);
                }
                key.sort();
                // As PostgreSQL reports it: a table without a key (`facet_counts`) has no entry.
                if !key.is_empty() {
                    schema.primary_keys.insert(table.clone(), key.into_iter().map(|(_, name)| name).collect());
                }
                let indexes: Vec<SqliteIndex> =
                    diesel::sql_query("SELECT name, \"unique\" AS is_unique, origin FROM pragma_index_list(?)")
                        .bind::<Text, _>(&table)
                        .load(c)
                        .unwrap();
                for index in indexes.into_iter().filter(|i| i.origin != "pk") {
                    let columns: Vec<Named> = diesel::sql_query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                        .bind::<Text, _>(&index.name)
                        .load(c)
                        .unwrap();
                    let columns = columns.into_iter().map(|n| n.name).collect();
                    schema
                        .indexes
                        .insert(index.name, Index { table: table.clone(), columns, unique: index.is_unique == 1 });
                }
            }
        }
        DbConn::Pg(c) => {
            let columns: Vec<PgColumn> = diesel::sql_query(
                "SELECT table_name::text AS table_name, column_name::text AS name, data_type::text AS ty, \
                 is_nullable = 'NO' AS not_null FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations'",
            )
            .load(c)
            .unwrap();
            for col in columns {
                schema.columns.insert(
                    format!("{}.{}", col.table_name, col.name),
                    Column { ty: normalized_type(&col.ty), not_null: col.not_null },
                );
            }
            let indexes: Vec<PgIndex> = diesel::sql_query(
                "SELECT t.relname::text AS table_name, i.relname::text AS name, x.indisunique AS is_unique, \
                 x.indisprimary AS is_primary, \
                 array_to_string(ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) \
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n), ',') AS columns \
                 FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
                 JOIN pg_namespace s ON s.oid = t.relnamespace \
                 WHERE s.nspname = current_schema() AND t.relname <> '__diesel_schema_migrations'",
            )
            .load(c)
            .unwrap();
            for index in indexes {
                let columns: Vec<String> = index.columns.split(',').map(str::to_owned).collect();
                if index.is_primary {
                    schema.primary_keys.insert(index.table_name, columns);
                } else {
                    schema
                        .indexes
                        .insert(index.name, Index { table: index.table_name, columns, unique: index.is_unique });
                }
            }
        }
    }
    schema
}

#[actix_web::test]
#[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
async fn both_backends_migrate_to_the_same_schema() {
    let sqlite = schema_of(&TestApp::start(TestBackend::Sqlite).await.db);
    let mut sqlite = sqlite;
    let mut postgres = schema_of(&TestApp::start(TestBackend::Postgres).await.db);
    // The full-text indexes differ by design: an FTS5 table (and its shadow tables) on SQLite,
    // GIN expression indexes on PostgreSQL.
    let fts: Vec<String> = sqlite.columns.keys().filter(|k| k.starts_with("listings_fts")).cloned().collect();
    assert!(fts.iter().any(|k| k == "listings_fts.search_text"), "{fts:?}");
    for column in fts {
        let table = column.split('.').next().unwrap().to_owned();
        sqlite.columns.remove(&column);
        sqlite.primary_keys.remove(&table);
        sqlite.indexes.retain(|_, index| index.table != table);
    }
    for index in ["listings_search_text", "listings_search_title"] {
        assert!(postgres.indexes.remove(index).is_some(), "{index}");
    }
    // And the words of the GIN index, which a PostgreSQL search spells its prefix word out with
    // (FTS5 has a prefix index of its own).
    let words = postgres.columns.remove("search_words.word");
    assert_eq!(words, Some(Column { ty: "text".into(), not_null: true }));
    assert_eq!(postgres.primary_keys.remove("search_words"), Some(vec!["word".to_owned()]));
    // The one deliberate difference: PostgreSQL records each change's writing transaction, so a
    // feed can hand changes out in commit order (SQLite's single writer makes `seq` that order).
    let txid = postgres.columns.remove("change_log.txid");
    assert_eq!(txid, Some(Column { ty: "xid8".into(), not_null: true }));
    let feed = postgres.indexes.remove("change_log_feed");
    assert_eq!(feed.map(|index| index.columns), Some(vec!["txid".to_owned(), "seq".to_owned()]), "the feed's order");
    assert_eq!(
        sqlite.columns.keys().map(|k| k.split('.').next().unwrap()).collect::<BTreeSet<_>>(),
        BTreeSet::from([
            "api_clients",
            "center_fields",
            "center_services",
            "centers",
            "change_log",
            "contracts",
            "facet_counts",
            "idempotency_keys",
            "interests",
            "job_leases",
            "listing_fields",
            "listing_terms",
            "listings",
            "mirrored_records",
            "organizations",
            "saved_searches",
            "search_alerts",
            "search_matches",
            "source_exchanges",
            "sync_cursors",
            "webhook_attempts",
            "webhook_deliveries",
            "webhooks"
        ]),
        "the tables of the hub"
    );
    for (name, column) in &sqlite.columns {
        assert_eq!(postgres.columns.get(name), Some(column), "column {name}");
    }
    assert_eq!(sqlite.columns, postgres.columns, "the same columns");
    assert_eq!(sqlite.primary_keys, postgres.primary_keys, "the same primary keys");
    assert_eq!(sqlite.indexes, postgres.indexes, "the same indexes");
}

#[actix_web::test]
async fn the_schema_is_read_from_the_database() {
    let app = TestApp::start(TestBackend::Sqlite).await;
    let schema = schema_of(&app.db);
    assert_eq!(schema.columns["listings.id"], Column { ty: "text".into(), not_null: true });
    assert_eq!(schema.columns["listings.trl"], Column { ty: "bigint".into(), not_null: false });
    assert_eq!(schema.columns["change_log.seq"], Column { ty: "bigint".into(), not_null: true });
    assert_eq!(schema.primary_keys["listing_fields"], ["listing_id", "field_code"]);
    let source = Index {
        table: "listings".into(),
        columns: vec!["source_exchange".into(), "source_external_id".into()],
        unique: true,
    };
    assert_eq!(schema.indexes["listings_source"], source);
}

/// The demo data set as shipped: its number of listings in each starting status.
fn demo_statuses() -> BTreeMap<String, usize> {
    let items: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(workspace_file("api/demo/listings.json")).unwrap()).unwrap();
    let mut statuses = BTreeMap::new();
    for item in items {
        *statuses.entry(item["status"].as_str().unwrap().to_owned()).or_insert(0) += 1;
    }
    statuses
}

backend_tests! {
    async fn demo_data_loads_and_is_listed(app: TestApp) {
        let demo = techex_api::demo::load(&app.db, techex_domain::now()).unwrap();
        assert_eq!(demo.listings, 40, "the README promises a demo exchange with 40 listings");
        assert_eq!(demo.centers, 10, "and ten sample centers");
        let centers = app.anonymous().get("/v1/centers?limit=100&total=true").await;
        assert_eq!(centers.body["total"], 10);
        let statuses = demo_statuses();
        assert_eq!(statuses.values().sum::<usize>(), 40);

        let page = app.anonymous().get("/v1/listings?limit=100").await.body;
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), statuses["published"], "every published demo listing is public, and only those");
        assert!(page["next_cursor"].is_null());
        let provinces: std::collections::HashSet<&str> = items.iter().map(|l| l["province"].as_str().unwrap()).collect();
        assert!(provinces.contains("79") && provinces.contains("75"), "{provinces:?}");
        assert!(items.iter().any(|l| l["province_as_sent"] == "74" && l["province"] == "79"));

        // The demo client sees the rest: its drafts and its listings under review.
        let token = app.token_for(&demo.client.id.to_string(), &demo.client_secret).await;
        let mut seen = items.len();
        for status in ["draft", "pending_review"] {
            let own = app.with_token(&token).get(&format!("/v1/listings?status={status}&limit=100")).await.body;
            let count = own["items"].as_array().unwrap().len();
            assert_eq!(count, statuses.get(status).copied().unwrap_or(0), "{status}");
            seen += count;
        }
        assert_eq!(seen, 40, "all 40 demo listings are there");
    }

    async fn demo_data_loads_with_the_clock_years_ahead(app: TestApp) {
        let later = techex_domain::now() + chrono::Duration::days(365 * 12);
        let loaded = techex_api::demo::load(&app.db, later).unwrap();
        assert_eq!(loaded.listings, 40);
        let page = app.get("/v1/listings?status=published&limit=100").await.body;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() >= 25, "{page:#}");
        for listing in items {
            assert!(listing["published_at"].as_str().unwrap().starts_with(&later.format("%Y-%m-%d").to_string()), "{listing:#}");
            if let Some(expiry) = listing["expires_at"].as_str() {
                let expiry: chrono::DateTime<chrono::Utc> = expiry.parse().unwrap();
                assert!(expiry > later, "{listing:#}");
            }
        }
        assert!(items.iter().any(|l| l["expires_at"].is_string()));
    }

    async fn migrations_can_run_again_on_an_up_to_date_database(app: TestApp) {
        let before = schema_of(&app.db);
        assert!(!before.columns.is_empty());
        app.db.migrate().unwrap();
        app.db.migrate().unwrap();
        assert_eq!(schema_of(&app.db), before, "running the migrations again changes nothing");
        let again = TestApp::start(app.backend()).await;
        assert_eq!(again.backend(), app.backend());
        again.db.migrate().unwrap();
        assert_eq!(schema_of(&again.db), before, "a fresh database gets the same schema");
        assert_eq!(app.get("/readyz").await.status, actix_web::http::StatusCode::OK);
        assert_eq!(again.get("/readyz").await.body["database"], app.backend_name());
    }
}

/// Schemas of the contract that do not yet state their bounds: the URLs of the OAuth metadata
/// (they follow the operator's `TECHEX_PUBLIC_URL` or the request), the number of published keys
/// (the operator's), the token and a list's Link (it
/// repeats the request's query). Nothing may join this list; bound it instead. An export's
/// body is no such gap: it is every record, streamed, as long as the data set by design.
const NOT_YET_BOUNDED: &[&str] = &[
    "components.schemas.AuthorizationServerMetadata.properties.issuer",
    "components.schemas.AuthorizationServerMetadata.properties.jwks_uri",
    "components.schemas.AuthorizationServerMetadata.properties.service_documentation",
    "components.schemas.AuthorizationServerMetadata.properties.token_endpoint",
    "components.schemas.Jwks.properties.keys",
    "components.schemas.TokenResponse.properties.access_token",
    "paths./v1/organizations.get.responses.200.headers.Link.schema",
];

/// Where `value`, a part of the contract at `at`, holds a string without its longest length, a
/// list without its most items or an integer without its range (what Spectral's OWASP rules
/// ask), anywhere: schemas, parameters, headers, bodies. Examples are data, not schemas.
fn unbounded_in(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            let types: Vec<&str> = match object.get("type") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let has = |key: &str| object.contains_key(key);
            let closed = has("enum") || has("const");
            let unbounded = (types.contains(&"string") && !has("maxLength") && !closed)
                || (types.contains(&"array") && !has("maxItems"))
                || (types.contains(&"integer") && !(has("minimum") && has("maximum")) && !closed);
            if unbounded {
                found.push(at.to_owned());
            }
            for (key, inner) in object {
                if key == "example" || key == "examples" {
                    continue;
                }
                unbounded_in(inner, &format!("{at}.{key}"), found);
            }
        }
        Value::Array(items) => {
            for (n, item) in items.iter().enumerate() {
                // A parameter is named by its name, so that the list's order does not matter.
                let step =
                    item.get("in").and(item.get("name")).and_then(Value::as_str).map_or(n.to_string(), str::to_owned);
                unbounded_in(item, &format!("{at}.{step}"), found);
            }
        }
        _ => {}
    }
}

/// Every string of the contract states its longest length, every list its most items and every
/// integer its range, but for those [`NOT_YET_BOUNDED`] lists: a new schema, parameter or header
/// without its bounds fails here.
#[test]
fn every_schema_parameter_and_header_bounds_its_strings_lists_and_integers() {
    let document: Value = serde_json::from_str(&techex_api::openapi_text("3.1")).unwrap();
    let schemas = &document["components"]["schemas"];
    let mut unbounded = Vec::new();
    unbounded_in(&document["components"], "components", &mut unbounded);
    unbounded.retain(|at| at != "components.schemas.ExportBody");
    unbounded_in(&document["paths"], "paths", &mut unbounded);
    assert_eq!(unbounded, NOT_YET_BOUNDED, "unbounded");
    assert_eq!(schemas["LocalizedText"]["properties"]["vi"]["maxLength"], techex_domain::listing::TITLE_MAX);
    assert_eq!(
        schemas["ListingContent"]["properties"]["field_codes"]["maxItems"],
        techex_domain::listing::FIELD_CODES_MAX
    );
}
