//! Checks of the repository itself: the committed contract, the migrations, the demo data.

use std::path::Path;

use serde_json::Value;
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
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {target}"));
        assert!(spec["components"]["schemas"].get(name).is_some(), "dangling $ref {target}");
    }
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

backend_tests! {
    async fn demo_data_loads_and_is_listed(app: TestApp) {
        let loaded = techex_api::demo::load(&app.db, techex_domain::now()).unwrap().listings;
        assert_eq!(loaded, 40);
        let page = app.get("/v1/listings?limit=100").await.body;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() >= 25 && items.len() < loaded, "only published demo listings are public");
        let provinces: std::collections::HashSet<&str> = items.iter().map(|l| l["province"].as_str().unwrap()).collect();
        assert!(provinces.contains("79") && provinces.contains("75"), "{provinces:?}");
        assert!(items.iter().any(|l| l["province_as_sent"] == "74" && l["province"] == "79"));
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
        app.db.migrate().unwrap();
        app.db.migrate().unwrap();
        let again = TestApp::start(TestBackend::Sqlite).await;
        again.db.migrate().unwrap();
        assert_eq!(app.get("/readyz").await.status, actix_web::http::StatusCode::OK);
    }
}
