//! The harness of techex's black-box tests: the real application (the factory `techex serve`
//! uses) on a fresh database per test, driven through HTTP requests and read through HTTP
//! responses only; the change log is the one thing read from the side, to check that writes
//! record themselves.

use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self, TestRequest};
use diesel::{Connection, PgConnection, RunQueryDsl};
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};
use techex_api::AppState;
use techex_api::auth::rate_limit::{HourlyQuota, Quota, RateLimits};
use techex_api::auth::token_guard::{TokenGuard, TokenGuardConfig};
use techex_api::auth::{KeySet, TokenLifetime};
use techex_api::clock::Clock;
use techex_api::extract::BodyTimeout;
use techex_api::routes::organizations_dto;
use techex_api::usecases::{register_client, register_organization};
use techex_api::webhooks::{WebhookSettings, Worker};
use techex_domain::RestorePeriod;
use techex_domain::organization::OrganizationContent;
use techex_domain::webhook::TargetPolicy;
use techex_persistence::change_log::{self, Author, Change};
use techex_persistence::{Backend, Db};

pub mod proxy;

/// Writes one test body, run once per backend: `sqlite::name` always, `postgres::name` when
/// `TEST_DATABASE_URL` is set (otherwise reported as ignored). Doc comments document the test;
/// `#[options(expr)]` starts its app with those [`Options`] instead of the defaults.
#[macro_export]
macro_rules! backend_tests {
    (@options) => { $crate::Options::default() };
    (@options $options:expr) => { $options };
    ($(
        $(#[doc = $doc:literal])*
        $(#[options($options:expr)])?
        async fn $name:ident($app:ident: TestApp) $body:block
    )+) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[doc = $doc])*
                #[actix_web::test]
                async fn $name() {
                    let options = $crate::backend_tests!(@options $($options)?);
                    let $app = $crate::TestApp::start_with($crate::TestBackend::Sqlite, options).await;
                    $body
                }
            )+
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[doc = $doc])*
                #[actix_web::test]
                #[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
                async fn $name() {
                    let options = $crate::backend_tests!(@options $($options)?);
                    let $app = $crate::TestApp::start_with($crate::TestBackend::Postgres, options).await;
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
///
/// Every app starts with one organization and its publishing client (`listings:write` and
/// `listings:publish`); `get`, `post`, `patch` and `delete` send that client's token.
/// `anonymous()` and `as_client()` send as someone else.
pub struct TestApp {
    call: Call,
    pub db: Db,
    /// The app's clock: move it forward instead of waiting.
    pub clock: Clock,
    pub publisher: TestClient,
    /// The token endpoint's guard, to read how many verifications ran at once.
    pub token_guard: Arc<TokenGuard>,
    /// The webhook settings the app was started with.
    pub webhooks: WebhookSettings,
    state: AppState,
    _sqlite_dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

/// An API client made for a test, with a token for all its scopes.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub id: String,
    pub secret: String,
    pub organization_id: String,
    pub token: String,
}

/// How the app under test is set up beyond its database.
#[derive(Debug, Clone)]
pub struct Options {
    pub client_quota: Quota,
    pub anonymous_quota: Quota,
    /// Expressions of interest per hour and address of anonymous senders.
    pub interest_quota: HourlyQuota,
    pub cors_origins: Vec<String>,
    pub public_url: Option<String>,
    /// PKCS#8 PEMs of the signing keys, the first signing (default: one Ed25519 test key).
    pub signing_keys: Vec<String>,
    pub token_ttl_seconds: i64,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub token_guard: TokenGuardConfig,
    /// Connections in the app's database pool.
    pub pool_size: u32,
    pub body_timeout: BodyTimeout,
    pub restore_period: RestorePeriod,
    /// How many exports may run at once, and how many records each reads at a time.
    pub export_slots: (usize, i64),
    /// PostgreSQL only: reach the database through this `host:port` (a [`proxy::Proxy`]).
    pub postgres_via: Option<String>,
    /// Webhook targets and retries; the tests' receivers listen on 127.0.0.1, so internal
    /// targets are allowed unless a test says otherwise.
    pub webhooks: WebhookSettings,
}

impl Default for Options {
    fn default() -> Self {
        let generous = Quota { per_minute: 1_000_000, burst: 100_000 };
        Options {
            client_quota: generous,
            anonymous_quota: generous,
            interest_quota: HourlyQuota { per_hour: 3600, burst: 100_000 },
            cors_origins: vec![PORTAL_ORIGIN.to_owned()],
            public_url: None,
            signing_keys: vec![test_signing_key()],
            token_ttl_seconds: 900,
            trusted_proxies: Vec::new(),
            token_guard: TokenGuardConfig::default(),
            pool_size: 4,
            body_timeout: BodyTimeout::default(),
            restore_period: RestorePeriod::default(),
            export_slots: (2, 500),
            postgres_via: None,
            webhooks: WebhookSettings {
                targets: TargetPolicy { allow_private: true },
                connect_timeout: std::time::Duration::from_secs(2),
                timeout: std::time::Duration::from_secs(5),
                ..WebhookSettings::default()
            },
        }
    }
}

/// The browser origin the test apps allow.
pub const PORTAL_ORIGIN: &str = "https://portal.example.vn";

/// Requests sent as one caller: with a bearer token, or anonymously.
pub struct Session<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

impl Session<'_> {
    pub async fn send(&self, mut req: TestRequest) -> Reply {
        if let Some(token) = &self.token {
            req = req.insert_header(("authorization", format!("Bearer {token}")));
        }
        self.app.send(req).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(TestRequest::get().uri(path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(TestRequest::post().uri(path).set_json(body)).await
    }

    pub async fn post_empty(&self, path: &str) -> Reply {
        self.send(TestRequest::post().uri(path)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send(TestRequest::patch().uri(path).set_json(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(TestRequest::delete().uri(path)).await
    }
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
        TestApp::start_with(backend, Options::default()).await
    }

    pub async fn start_with(backend: TestBackend, options: Options) -> TestApp {
        let (db, sqlite_dir, pg_schema) = match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let path = dir.path().join("techex.db");
                let db = Db::connect(path.to_str().unwrap(), options.pool_size).expect("SQLite database");
                (db, Some(dir), None)
            }
            TestBackend::Postgres => {
                let base = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
                let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&base).expect("PostgreSQL at TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE SCHEMA {schema}")).execute(&mut admin).unwrap();
                let mut url = schema_url(&base, &schema);
                if let Some(via) = &options.postgres_via {
                    url = proxy::reroute(&url, via).1;
                }
                let db = Db::connect(&url, options.pool_size).expect("PostgreSQL database");
                (db, None, Some((base, schema)))
            }
        };
        assert_eq!(db.backend() == Backend::Postgres, backend == TestBackend::Postgres);
        // As the server does: the issuer is the public URL when there is one.
        let issuer = options.public_url.clone().unwrap_or_else(|| "techex".to_owned());
        let keys = Arc::new(KeySet::from_pems(&options.signing_keys, &issuer, "techex-api").unwrap());
        let token_guard = Arc::new(TokenGuard::new(options.token_guard));
        let clock = Clock::system();
        let state = AppState {
            db: db.clone(),
            rate_limits: RateLimits::new(
                keys.clone(),
                options.client_quota,
                options.anonymous_quota,
                options.trusted_proxies,
            )
            .with_sender_quota(options.interest_quota),
            keys,
            token_lifetime: TokenLifetime(options.token_ttl_seconds),
            cors: techex_api::app::CorsPolicy::parse(&options.cors_origins).expect("test CORS origins are valid"),
            public_url: options.public_url,
            token_guard: token_guard.clone(),
            body_timeout: options.body_timeout,
            clock: clock.clone(),
            restore_period: options.restore_period,
            export_slots: techex_api::routes::export::ExportSlots::new(options.export_slots.0, options.export_slots.1),
            webhooks: options.webhooks.clone(),
            documents: Default::default(),
        };
        let call = serve(&state).await;
        let placeholder = TestClient {
            id: String::new(),
            secret: String::new(),
            organization_id: String::new(),
            token: String::new(),
        };
        let mut app = TestApp {
            call,
            db,
            clock,
            publisher: placeholder,
            token_guard,
            webhooks: options.webhooks,
            state,
            _sqlite_dir: sqlite_dir,
            pg_schema,
        };
        app.publisher = app.new_client_holding(&["listings:write", "listings:publish"], &[FIXTURE_EXCHANGE]).await;
        app
    }

    /// A second server over this app's PostgreSQL database, as another process would run: its own
    /// pool and client cache, the same keys and publisher. The first app keeps the database.
    pub async fn another_instance(&self) -> TestApp {
        let (base, schema) = self.pg_schema.as_ref().expect("instances share a PostgreSQL database");
        let db = Db::connect(&schema_url(base, schema), 4).expect("PostgreSQL database");
        let state = AppState { db: db.clone(), ..self.state.clone() };
        TestApp {
            call: serve(&state).await,
            db,
            clock: self.clock.clone(),
            publisher: self.publisher.clone(),
            token_guard: self.token_guard.clone(),
            webhooks: self.webhooks.clone(),
            state,
            _sqlite_dir: None,
            pg_schema: None,
        }
    }

    /// Serves this app over real HTTP on a free local port, for clients outside the test's
    /// service (another hub's sync); the server stops with the test. Returns its base URL.
    pub fn serve_http(&self) -> String {
        let state = self.state.clone();
        let server = actix_web::HttpServer::new(move || techex_api::build_app(state.clone()))
            .workers(1)
            .bind("127.0.0.1:0")
            .expect("a free local port");
        let address = server.addrs()[0];
        actix_web::rt::spawn(server.run());
        format!("http://{address}")
    }

    /// The backend this app stores on.
    pub fn backend(&self) -> TestBackend {
        match self.db.backend() {
            Backend::Sqlite => TestBackend::Sqlite,
            Backend::Postgres => TestBackend::Postgres,
        }
    }

    /// `sqlite` or `postgres`, as `/readyz` names it.
    pub fn backend_name(&self) -> &'static str {
        self.db.backend().as_str()
    }

    /// A new organization with a client holding `scopes`, and a token for them.
    pub async fn new_client(&self, scopes: &[&str]) -> TestClient {
        self.new_client_holding(scopes, &[]).await
    }

    /// A new organization that holds the source exchanges `exchanges`, with a client holding
    /// `scopes`, and a token for them.
    pub async fn new_client_holding(&self, scopes: &[&str], exchanges: &[&str]) -> TestClient {
        let content = organization_content(json!({
            "kind": "exchange", "name": {"vi": format!("Sàn thử nghiệm {}", uuid::Uuid::now_v7())}, "province": "75",
            "source_exchanges": exchanges
        }));
        let org = register_organization(&mut self.db.conn().unwrap(), content, &Author::command_line()).unwrap();
        self.client_in(&org.id.to_string(), scopes).await
    }

    /// Another client of an existing organization, with a token for `scopes`.
    pub async fn client_in(&self, organization_id: &str, scopes: &[&str]) -> TestClient {
        let scopes = scopes.iter().map(|s| s.parse().unwrap()).collect();
        let (client, secret) = register_client(
            &mut self.db.conn().unwrap(),
            organization_id.parse().unwrap(),
            "test client",
            scopes,
            &Author::command_line(),
        )
        .unwrap();
        let id = client.id.to_string();
        let token = self.token_for(&id, &secret).await;
        TestClient { id, secret, organization_id: organization_id.to_owned(), token }
    }

    /// A token through `POST /v1/auth/token` with the client's credentials in the body.
    pub async fn token_for(&self, client_id: &str, secret: &str) -> String {
        let reply = self
            .request_token(&format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}"), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
        reply.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Sends a token request with this form body and, optionally, an Authorization header.
    pub async fn request_token(&self, form: &str, authorization: Option<&str>) -> Reply {
        let mut req = TestRequest::post()
            .uri("/v1/auth/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(form.to_owned());
        if let Some(value) = authorization {
            req = req.insert_header(("authorization", value.to_owned()));
        }
        self.send(req).await
    }

    pub fn anonymous(&self) -> Session<'_> {
        Session { app: self, token: None }
    }

    pub fn as_client(&self, client: &TestClient) -> Session<'_> {
        self.with_token(&client.token)
    }

    pub fn with_token(&self, token: &str) -> Session<'_> {
        Session { app: self, token: Some(token.to_owned()) }
    }

    pub async fn send(&self, req: TestRequest) -> Reply {
        self.send_request(req.to_request()).await
    }

    /// The response as the app sent it, its body unread (compressed answers, for one).
    pub async fn call_raw(&self, req: actix_http::Request) -> ServiceResponse<BoxBody> {
        (self.call)(req).await
    }

    /// Sends a request built by hand (a streamed body, for one).
    pub async fn send_request(&self, req: actix_http::Request) -> Reply {
        let response = (self.call)(req).await;
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

    fn as_publisher(&self) -> Session<'_> {
        self.as_client(&self.publisher)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.as_publisher().get(path).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.as_publisher().post(path, body).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.as_publisher().patch(path, body).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.as_publisher().delete(path).await
    }

    /// Sends as the publisher (adds its token).
    pub async fn send_as_publisher(&self, req: TestRequest) -> Reply {
        self.as_publisher().send(req).await
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

    /// Publishes listings of the given (kind, province, field codes), each without a source, and
    /// returns their ids in order.
    pub async fn publish_all(&self, specs: &[(&str, &str, &[&str])]) -> Vec<String> {
        let mut ids = Vec::new();
        for (kind, province, fields) in specs {
            let body = listing_with(json!({"kind": kind, "province": province, "field_codes": fields, "source": null}));
            ids.push(self.publish_listing(&body).await);
        }
        ids
    }

    /// A webhook worker over the app's database and clock, as a server runs one; tests run its
    /// passes by hand ([`Worker::run_once`]).
    pub fn webhook_worker(&self) -> Worker {
        Worker::new(self.db.clone(), self.clock.clone(), self.webhooks.clone())
    }

    /// How many listing changes the change log holds.
    pub fn change_count(&self) -> i64 {
        change_log::count(&mut self.db.conn().unwrap(), "listing").unwrap()
    }

    pub fn history(&self, listing_id: &str) -> Vec<Change> {
        change_log::history(&mut self.db.conn().unwrap(), "listing", listing_id).unwrap()
    }
}

/// The URL of one test's schema in the PostgreSQL database at `base`.
fn schema_url(base: &str, schema: &str) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-csearch_path%3D{schema}")
}

/// The app of `state`, as a function the test calls with requests.
async fn serve(state: &AppState) -> Call {
    let service = Rc::new(test::init_service(techex_api::build_app(state.clone())).await);
    Rc::new(move |req| {
        let service = service.clone();
        Box::pin(async move {
            match service.call(req).await {
                Ok(response) => response.map_into_boxed_body(),
                Err(error) => panic!("the app failed instead of answering: {error}"),
            }
        })
    })
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

/// The source exchange of [`listing_body`], held by every test app's publisher.
pub const FIXTURE_EXCHANGE: &str = "cong-thu-nghiem";

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
        "source": {"exchange": "cong-thu-nghiem", "external_id": "SP-2024-117", "url": "https://example.vn/sp/117"},
        "expires_at": expiry_in_days(3 * 365)
    })
}

/// A valid organization as the operator would register it, with its tax code and the source
/// exchanges it holds.
pub fn organization_body(name: &str, tax_code: Option<&str>, exchanges: &[&str]) -> Value {
    json!({"kind": "enterprise", "name": {"vi": name}, "province": "75", "tax_code": tax_code,
           "source_exchanges": exchanges})
}

/// The content of an organization written as the body of `POST /v1/organizations`, read as the
/// API reads it, for use cases called without a request.
pub fn organization_content(body: Value) -> OrganizationContent {
    serde_json::from_value::<organizations_dto::OrganizationContent>(body).unwrap().into()
}

/// An expiry as a portal sends one: midnight UTC, `days` days after today. Fixtures carry no
/// fixed dates, which would one day lie in the past and be refused.
pub fn expiry_in_days(days: u64) -> String {
    let day = chrono::Utc::now().date_naive() + chrono::Days::new(days);
    day.format("%Y-%m-%dT00:00:00Z").to_string()
}

/// `listing_body` with some keys replaced.
pub fn listing_with(changes: Value) -> Value {
    let mut body = listing_body();
    for (key, value) in changes.as_object().expect("an object of changes") {
        body[key] = value.clone();
    }
    body
}

/// One signing key for the whole test run (generating one per test would only cost time).
pub fn test_signing_key() -> String {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(KeySet::generate_pem).clone()
}

/// Everything logged in this test process, so tests can check what never reaches the log.
/// Installed once as the process's logger, at the most detailed level.
pub fn captured_logs() -> String {
    CAPTURE.lines.lock().map(|lines| lines.join("\n")).unwrap_or_default()
}

/// Starts capturing log records (idempotent).
pub fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        log::set_logger(&CAPTURE).expect("no other logger in the test process");
        log::set_max_level(log::LevelFilter::Trace);
    });
}

struct Capture {
    lines: std::sync::Mutex<Vec<String>>,
}

static CAPTURE: Capture = Capture { lines: std::sync::Mutex::new(Vec::new()) };

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(format!("{} {}: {}", record.level(), record.target(), record.args()));
        }
    }

    fn flush(&self) {}
}
