//! The harness of techex's black-box tests: the real application (the factory `techex serve`
//! uses) on a fresh database per test, driven through HTTP requests and read through HTTP
//! responses only; the change log is the one thing read from the side, to check that writes
//! record themselves.

use std::rc::Rc;

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self, TestRequest};
use diesel::{Connection, PgConnection, RunQueryDsl};
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};
use techex_persistence::change_log::{self, Change};
use techex_persistence::{Backend, Db};

/// Writes one test body, run once per backend: `sqlite::name` always, `postgres::name` when
/// `TEST_DATABASE_URL` is set (otherwise reported as ignored).
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)+) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[actix_web::test]
                async fn $name() {
                    let $app = $crate::TestApp::start($crate::TestBackend::Sqlite).await;
                    $body
                }
            )+
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[actix_web::test]
                #[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
                async fn $name() {
                    let $app = $crate::TestApp::start($crate::TestBackend::Postgres).await;
                    $body
                }
            )+
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

type Call = Rc<dyn Fn(actix_http::Request) -> LocalBoxFuture<'static, ServiceResponse<BoxBody>>>;

/// The app on its own database; the database goes when the value does.
pub struct TestApp {
    call: Call,
    pub db: Db,
    _sqlite_dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

/// A response, its body parsed as JSON when it has one.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with this status and code, and returns it.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{:#}", self.body);
        assert_eq!(self.body["code"], code, "{:#}", self.body);
        assert_eq!(self.body["status"], status, "{:#}", self.body);
        assert_eq!(self.body["type"], format!("urn:techex:problem:{code}"));
        assert!(self.body["title"].is_string() && self.body["detail"].is_string(), "{:#}", self.body);
        &self.body
    }

    /// The `(field, code)` pairs of a validation problem.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        (e["field"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    pub async fn start(backend: TestBackend) -> TestApp {
        let (db, sqlite_dir, pg_schema) = match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let path = dir.path().join("techex.db");
                let db = Db::connect(path.to_str().unwrap(), 4).expect("SQLite database");
                (db, Some(dir), None)
            }
            TestBackend::Postgres => {
                let base = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
                let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&base).expect("PostgreSQL at TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE SCHEMA {schema}")).execute(&mut admin).unwrap();
                let separator = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{separator}options=-csearch_path%3D{schema}");
                let db = Db::connect(&url, 4).expect("PostgreSQL database");
                (db, None, Some((base, schema)))
            }
        };
        assert_eq!(db.backend() == Backend::Postgres, backend == TestBackend::Postgres);
        let service = Rc::new(test::init_service(techex_api::build_app(db.clone())).await);
        let call: Call = Rc::new(move |req| {
            let service = service.clone();
            Box::pin(async move {
                match service.call(req).await {
                    Ok(response) => response.map_into_boxed_body(),
                    Err(error) => panic!("the app failed instead of answering: {error}"),
                }
            })
        });
        TestApp { call, db, _sqlite_dir: sqlite_dir, pg_schema }
    }

    pub async fn send(&self, req: TestRequest) -> Reply {
        let response = (self.call)(req.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(TestRequest::get().uri(path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(TestRequest::post().uri(path).set_json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send(TestRequest::patch().uri(path).set_json(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(TestRequest::delete().uri(path)).await
    }

    /// Creates a listing from `body` and returns its id.
    pub async fn create_listing(&self, body: &Value) -> String {
        let reply = self.post("/v1/listings", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// Creates a listing from `body` and publishes it.
    pub async fn publish_listing(&self, body: &Value) -> String {
        let id = self.create_listing(body).await;
        let reply = self.post(&format!("/v1/listings/{id}/publish"), &Value::Null).await;
        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
        id
    }

    pub fn change_count(&self) -> i64 {
        change_log::count(&mut self.db.conn().unwrap()).unwrap()
    }

    pub fn history(&self, listing_id: &str) -> Vec<Change> {
        change_log::history(&mut self.db.conn().unwrap(), "listing", listing_id).unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg_schema
            && let Ok(mut admin) = PgConnection::establish(base)
        {
            let _ = diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut admin);
        }
    }
}

/// A valid listing as a portal would send it.
pub fn listing_body() -> Value {
    json!({
        "kind": "offer",
        "title": {"vi": "Máy sấy nông sản dùng năng lượng mặt trời", "en": "Solar crop dryer"},
        "summary": {"vi": "Sấy 500 kg mỗi mẻ, tiết kiệm 40% điện năng."},
        "keywords": ["sấy", "nông sản"],
        "field_codes": ["211", "401"],
        "trl": 7,
        "ip_status": "utility_solution",
        "ip_refs": ["2-0002345"],
        "transfer_forms": ["independent"],
        "transfer_methods": ["documents", "training"],
        "rights": ["non_exclusive_use"],
        "price": {"amount": 450000000, "currency": "VND", "negotiable": true},
        "province": "74",
        "owner": {"organization_id": null, "name": "Viện Cơ điện Nông nghiệp"},
        "contact": {"name": "Nguyễn Văn An", "email": "an@example.vn", "phone": "+84 274 3822 111"},
        "media": [{"url": "https://example.vn/may-say.jpg", "kind": "image", "title": "Máy sấy"}],
        "source": {"exchange": "binhduong", "external_id": "SP-2024-117", "url": "https://example.vn/sp/117"},
        "expires_at": "2030-06-30T00:00:00Z"
    })
}

/// `listing_body` with some keys replaced.
pub fn listing_with(changes: Value) -> Value {
    let mut body = listing_body();
    for (key, value) in changes.as_object().expect("an object of changes") {
        body[key] = value.clone();
    }
    body
}
