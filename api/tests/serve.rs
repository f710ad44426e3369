//! `techex serve` as an operator starts it: the real binary on a port of its own, spoken to over
//! HTTP, stopped with SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running `techex serve`; killed if a test fails before stopping it.
struct Server {
    child: Child,
    addr: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

/// The longest a server may take to start or stop before the test fails (a bound, never a
/// measure: the tests wait for events, not for time).
const PATIENCE: Duration = Duration::from_secs(120);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn collect(stream: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut text = sink.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    text
}

impl Server {
    /// Starts `techex serve` with its data under `dir` and these settings, and waits until it
    /// answers.
    fn start(dir: &Path, settings: &[(&str, &str)]) -> Server {
        Server::start_on(dir, &format!("127.0.0.1:{}", free_port()), settings)
    }

    /// [`Server::start`] on the address `addr`, as a restarted server comes back on its own.
    fn start_on(dir: &Path, addr: &str, settings: &[(&str, &str)]) -> Server {
        let addr = addr.to_owned();
        let mut command = Command::new(env!("CARGO_BIN_EXE_techex"));
        command.arg("serve");
        // Settings come from this test alone, whatever the environment says.
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("TECHEX_")) {
            command.env_remove(name);
        }
        command
            .env("TECHEX_DATABASE_URL", dir.join("techex.db"))
            .env("TECHEX_DATA_DIR", dir.join("data"))
            .env("TECHEX_BIND", &addr)
            .env("TECHEX_WORKERS", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in settings {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        let mut server = Server { child, addr, stdout, stderr };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("techex serve exited with {status}: {}", server.stderr());
            }
            if TcpStream::connect(&server.addr).is_ok() && server.get("/healthz", None).0 == 200 {
                return server;
            }
            assert!(started.elapsed() < PATIENCE, "techex serve did not come up: {}", server.stderr());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let auth = token.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
        self.exchange(&format!("GET {path} HTTP/1.1\r\nhost: {}\r\n{auth}connection: close\r\n\r\n", self.addr))
    }

    fn token(&self, client_id: &str, secret: &str) -> (u16, Value) {
        let form = format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
        self.exchange(&format!(
            "POST /v1/auth/token HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{form}",
            self.addr,
            form.len()
        ))
    }

    /// Sends a raw HTTP/1.1 request and reads the status and JSON body of the answer.
    fn exchange(&self, request: &str) -> (u16, Value) {
        let Ok(mut stream) = TcpStream::connect(&self.addr) else { return (0, Value::Null) };
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        if stream.write_all(request.as_bytes()).is_err() {
            return (0, Value::Null);
        }
        read_response(&mut stream)
    }

    /// Sends SIGTERM and waits for the process to end.
    fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait()
    }

    /// Sends a signal by name (`TERM`, `INT`).
    fn signal(&self, name: &str) {
        let sent = Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
    }

    fn wait(&mut self) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < PATIENCE, "techex serve did not stop: {}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the server's log has a line containing `text`.
    fn await_log(&self, text: &str) {
        let started = Instant::now();
        while !self.stderr().contains(text) {
            assert!(started.elapsed() < PATIENCE, "no '{text}' in the log: {}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn read_response(stream: &mut TcpStream) -> (u16, Value) {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return (0, Value::Null) };
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    let body = if chunked { dechunk(body) } else { body.to_owned() };
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The value printed after `label:` on its own line.
fn field(output: &str, label: &str) -> Option<String> {
    output.lines().find_map(|line| line.trim().strip_prefix(&format!("{label}:"))).map(|v| v.trim().to_owned())
}

/// Registers an organization and a publishing client on the command line, as the operator
/// does, and returns the client's id and secret.
fn operator_client(dir: &Path) -> (String, String) {
    let techex = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_techex"));
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("TECHEX_")) {
            command.env_remove(name);
        }
        let output = command.args(args).env("TECHEX_DATABASE_URL", dir.join("techex.db")).output().unwrap();
        assert!(output.status.success(), "techex {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let created = techex(&[
        "orgs",
        "create",
        "--kind",
        "exchange",
        "--name-vi",
        "Sàn giao dịch công nghệ TP.HCM",
        "--province",
        "79",
        "--source-exchange",
        "hcm",
    ]);
    let organization = field(&created, "organization_id").unwrap();
    let scopes = "listings:write listings:publish changes:read";
    let client =
        techex(&["clients", "create", "--organization", &organization, "--name", "Cổng thử", "--scopes", scopes]);
    (field(&client, "client_id").unwrap(), field(&client, "client_secret").unwrap())
}

fn listed(server: &Server) -> usize {
    let (status, page) = server.get("/v1/listings?limit=100", None);
    assert_eq!(status, 200, "{page:#}");
    page["items"].as_array().unwrap().len()
}

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn kid_of(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[test]
fn a_fresh_embedded_database_gets_the_demo_once_and_its_client_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Server::start(dir.path(), &[]);
    let printed = first.stdout();
    let (id, secret) =
        (field(&printed, "client_id").expect("the demo client id"), field(&printed, "client_secret").unwrap());
    let demo_listings = listed(&first);
    assert!(demo_listings > 0, "the demo listings are served");
    let (status, token) = first.token(&id, &secret);
    assert_eq!(status, 200, "the printed credentials work: {token:#}");
    assert!(!first.stderr().contains(&secret), "the secret is printed for the operator, not logged");
    assert!(first.terminate().success());

    let mut second = Server::start(dir.path(), &[]);
    assert!(!second.stdout().contains("client_secret"), "printed once only: {}", second.stdout());
    assert!(!second.stderr().contains("loading demo data"), "{}", second.stderr());
    assert_eq!(listed(&second), demo_listings, "no second demo load");
    assert_eq!(second.token(&id, &secret).0, 200, "the demo client is still there");
    assert!(second.terminate().success());
}

#[test]
fn demo_data_off_starts_empty() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[("TECHEX_DEMO_DATA", "off")]);
    assert_eq!(listed(&server), 0);
    assert!(!server.stdout().contains("client_secret"), "{}", server.stdout());
    assert!(server.terminate().success());
}

#[test]
#[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
fn postgresql_gets_no_demo_data_and_its_password_stays_out_of_the_log() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    let base = std::env::var("TEST_DATABASE_URL").unwrap();
    let schema = format!("serve_{}", uuid::Uuid::now_v7().simple());
    let mut admin = PgConnection::establish(&base).unwrap();
    diesel::sql_query(format!("CREATE SCHEMA {schema}")).execute(&mut admin).unwrap();
    // The local server trusts its callers, so the password is sent but not needed.
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}password=never-logged-7c1f&options=-csearch_path%3D{schema}");
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[("TECHEX_DATABASE_URL", &url)]);
    assert_eq!(server.get("/readyz", None).1["database"], "postgres");
    assert_eq!(listed(&server), 0, "demo data goes only into an embedded database");
    assert!(!server.stdout().contains("client_secret"));
    assert!(server.terminate().success());
    let log = server.stderr();
    assert!(log.contains("techex serving on") && log.contains("password=***"), "{log}");
    assert!(!log.contains("never-logged-7c1f"), "{log}");
    diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut admin).unwrap();
}

#[test]
fn the_token_lifetime_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = operator_client(dir.path());
    let mut server = Server::start(dir.path(), &[("TECHEX_DEMO_DATA", "off"), ("TECHEX_TOKEN_TTL_SECONDS", "120")]);
    let (status, reply) = server.token(&id, &secret);
    assert_eq!(status, 200, "{reply:#}");
    assert_eq!(reply["expires_in"], 120);
    let claims = claims_of(reply["access_token"].as_str().unwrap());
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 120);
    assert!(server.terminate().success());

    for outside in ["59", "86401"] {
        let refused = Command::new(env!("CARGO_BIN_EXE_techex"))
            .arg("serve")
            .env("TECHEX_DATABASE_URL", dir.path().join("techex.db"))
            .env("TECHEX_TOKEN_TTL_SECONDS", outside)
            .output()
            .unwrap();
        assert!(!refused.status.success(), "a lifetime of {outside} s is refused");
        assert!(String::from_utf8_lossy(&refused.stderr).contains("token-ttl-seconds"), "{refused:?}");
    }
}

#[test]
fn signing_keys_from_files_rotate_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.pem"), dir.path().join("new.pem"));
    std::fs::write(&old, techex_api::auth::KeySet::generate_pem()).unwrap();
    std::fs::write(&new, techex_api::auth::KeySet::generate_pem()).unwrap();
    let (old, new) = (old.to_str().unwrap().to_owned(), new.to_str().unwrap().to_owned());
    let drafts = "/v1/listings?status=draft";

    let (id, secret) = operator_client(dir.path());
    let mut before = Server::start(dir.path(), &[("TECHEX_DEMO_DATA", "off"), ("TECHEX_SIGNING_KEYS", &old)]);
    let old_token = before.token(&id, &secret).1["access_token"].as_str().unwrap().to_owned();
    let jwks = before.get("/.well-known/jwks.json", None).1;
    let old_kid = kid_of(&old_token);
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], old_kid.as_str());
    assert_eq!(before.get(drafts, Some(&old_token)).0, 200);
    assert!(before.terminate().success());
    assert!(!dir.path().join("data/jwt-signing-key.pem").exists(), "no key is generated when keys are configured");

    // The new key first: it signs, and the old one still verifies.
    let mut rotating =
        Server::start(dir.path(), &[("TECHEX_DEMO_DATA", "off"), ("TECHEX_SIGNING_KEYS", &format!("{new},{old}"))]);
    let jwks = rotating.get("/.well-known/jwks.json", None).1;
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[1], old_kid);
    let new_token = rotating.token(&id, &secret).1["access_token"].as_str().unwrap().to_owned();
    assert_eq!(kid_of(&new_token), kids[0], "the first key signs");
    assert_eq!(rotating.get(drafts, Some(&old_token)).0, 200, "a token of the old key works while it is listed");
    assert_eq!(rotating.get(drafts, Some(&new_token)).0, 200);
    assert!(rotating.terminate().success());

    // The old key dropped: its tokens stop working.
    let mut after = Server::start(dir.path(), &[("TECHEX_DEMO_DATA", "off"), ("TECHEX_SIGNING_KEYS", &new)]);
    let (status, problem) = after.get(drafts, Some(&old_token));
    assert_eq!((status, problem["code"].as_str()), (401, Some("invalid_token")), "{problem:#}");
    assert_eq!(after.get(drafts, Some(&new_token)).0, 200);
    assert_eq!(after.get("/.well-known/jwks.json", None).1["keys"].as_array().unwrap().len(), 1);
    assert!(after.terminate().success());
}

/// Starts a token request on a new connection and returns once the server has taken it and
/// waits for its body (the server's `100 Continue`): from then on the request is in flight.
fn request_in_flight(server: &Server, body_length: usize) -> TcpStream {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let head = format!(
        "POST /v1/auth/token HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
         content-length: {body_length}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
        server.addr,
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        interim.push(byte[0]);
    }
    assert!(interim.starts_with(b"HTTP/1.1 100"), "{}", String::from_utf8_lossy(&interim));
    stream
}

/// A server with an operator's client and a token request of that client in flight: the
/// server (its data in the returned folder), the request's form body still to send, and its
/// connection.
fn token_request_in_flight() -> (tempfile::TempDir, Server, String, TcpStream) {
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = operator_client(dir.path());
    let server = Server::start(dir.path(), &[("TECHEX_DEMO_DATA", "off")]);
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let stream = request_in_flight(&server, form.len());
    (dir, server, form, stream)
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_then_stops() {
    let (_dir, mut server, form, mut stream) = token_request_in_flight();

    server.signal("TERM");
    server.await_log("SIGTERM: stopping gracefully");
    assert!(server.child.try_wait().unwrap().is_none(), "the server waits for the request in flight");
    stream.write_all(form.as_bytes()).unwrap();
    let (status, reply) = read_response(&mut stream);
    assert_eq!(status, 200, "the request in flight is answered: {reply:#}\n{}", server.stderr());
    assert!(reply["access_token"].is_string());
    let exit = server.wait();
    assert!(exit.success(), "a graceful stop exits cleanly: {exit}");
}

#[test]
fn sigterm_gives_up_on_a_request_unfinished_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    // A body timeout longer than the grace period, so that the grace period is what ends it.
    let settings = [
        ("TECHEX_DEMO_DATA", "off"),
        ("TECHEX_BODY_TIMEOUT_SECONDS", "3600"),
        ("TECHEX_SHUTDOWN_TIMEOUT_SECONDS", "2"),
    ];
    let mut server = Server::start(dir.path(), &settings);
    let mut stream = request_in_flight(&server, 100);
    server.signal("TERM");
    server.await_log("requests in flight get up to 2 s");
    server.await_log("graceful worker shutdown; finishing 1 connections");
    // The body never comes: once the grace period is over the server drops the request and
    // stops on its own.
    let (status, _) = read_response(&mut stream);
    assert_eq!(status, 0, "the unfinished request gets no answer");
    let exit = server.wait();
    assert!(exit.success(), "{exit}");
}

#[test]
fn sigterm_refuses_new_connections_while_a_request_in_flight_finishes() {
    let (_dir, mut server, form, mut stream) = token_request_in_flight();

    server.signal("TERM");
    server.await_log("SIGTERM: stopping gracefully");
    // The listening socket is closed at once: a new client is refused (and tries another
    // server) rather than queued behind a server that is going away.
    let started = Instant::now();
    while TcpStream::connect(&server.addr).is_ok() {
        assert!(started.elapsed() < PATIENCE, "the server still accepts connections after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.child.try_wait().unwrap().is_none(), "the server waits for the request in flight");
    stream.write_all(form.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream).0, 200);
    assert!(server.wait().success());
}

/// Reads one answer on a kept-alive connection (its body sized by `content-length`): the status,
/// 0 when the connection closed first.
fn read_kept_alive_response(stream: &mut TcpStream) -> u16 {
    let mut reader = BufReader::new(stream);
    let (mut status, mut length, mut line) = (0, 0, String::new());
    while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("http/1.1 ") {
            status = lower.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        } else if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let mut body = vec![0; length];
    if line != "\r\n" || reader.read_exact(&mut body).is_err() {
        return 0;
    }
    status
}

/// A connection the server accepted before SIGTERM that sends its request only after the signal
/// (or that the server had not yet handed to a worker) is answered: accepting pauses, and the
/// connections accepted get the settle period to send their requests before the server stops.
#[test]
fn sigterm_answers_a_request_sent_after_it_on_a_connection_accepted_before() {
    let dir = tempfile::tempdir().unwrap();
    let settings = [("TECHEX_DEMO_DATA", "off"), ("TECHEX_SHUTDOWN_SETTLE_MILLISECONDS", "5000")];
    let mut server = Server::start(dir.path(), &settings);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let request = format!("GET /healthz HTTP/1.1\r\nhost: {}\r\n\r\n", server.addr);
    // A first request and its answer: the connection is in the server's hands, kept alive.
    stream.write_all(request.as_bytes()).unwrap();
    assert_eq!(read_kept_alive_response(&mut stream), 200);

    server.signal("TERM");
    server.await_log("SIGTERM");
    let _ = stream.write_all(request.as_bytes());
    assert_eq!(read_kept_alive_response(&mut stream), 200, "{}", server.stderr());
    assert!(server.wait().success());
}

#[test]
fn ctrl_c_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[("TECHEX_DEMO_DATA", "off")]);
    let mut stream = request_in_flight(&server, 100);
    server.signal("INT");
    server.await_log("SIGINT: stopping at once");
    let (status, _) = read_response(&mut stream);
    assert_eq!(status, 0, "a request in flight is dropped");
    let exit = server.wait();
    assert!(exit.success(), "{exit}");
}

/// Items in the batch killed mid-flight: enough that the kill lands while it runs.
const BATCH_ITEMS: usize = 1000;

/// A batch upserting records `K-0` … of exchange `hcm`, each titled with its `round`.
fn batch(round: usize) -> String {
    let items: Vec<Value> = (0..BATCH_ITEMS)
        .map(|i| {
            serde_json::json!({"op": "upsert", "listing": {
                "kind": "offer", "title": {"vi": format!("Thiết bị {i} lô {round}")}, "field_codes": ["211"],
                "province": "75", "owner": {"name": "Viện thử"},
                "source": {"exchange": "hcm", "external_id": format!("K-{i}")}}})
        })
        .collect();
    serde_json::json!({ "items": items }).to_string()
}

/// `POST /v1/listings/batch` with an `Idempotency-Key`; status 0 when the connection broke.
fn post_batch(addr: &str, token: &str, key: &str, body: &str) -> (u16, Value) {
    let Ok(mut stream) = TcpStream::connect(addr) else { return (0, Value::Null) };
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let request = format!(
        "POST /v1/listings/batch HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         idempotency-key: {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, Value::Null);
    }
    read_response(&mut stream)
}

/// The id and version each item of a batch's answer acknowledges.
fn acknowledged(answer: &Value) -> Vec<(String, i64)> {
    let items = answer["items"].as_array().unwrap();
    assert_eq!(items.len(), BATCH_ITEMS, "{answer:#}");
    items
        .iter()
        .map(|item| {
            assert_ne!(item["result"], "failed", "{item:#}");
            (item["id"].as_str().unwrap().to_owned(), item["version"].as_i64().unwrap())
        })
        .collect()
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    version: i64,
}

/// The server's SQLite file, read beside the server (WAL lets readers in while it writes).
fn open_database(dir: &Path) -> diesel::SqliteConnection {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let mut conn = diesel::SqliteConnection::establish(dir.join("techex.db").to_str().unwrap()).unwrap();
    conn.batch_execute("PRAGMA busy_timeout = 10000").unwrap();
    conn
}

/// The number a `SELECT count(*) …` answers.
fn count(conn: &mut diesel::SqliteConnection, sql: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT ({sql}) AS n")).get_result::<Count>(conn).unwrap().n
}

#[test]
fn kill_9_mid_batch_keeps_every_acknowledged_item_writes_no_half_batch_and_frees_its_key_on_restart() {
    use diesel::RunQueryDsl;
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = operator_client(dir.path());
    let addr = format!("127.0.0.1:{}", free_port());
    let settings = [("TECHEX_DEMO_DATA", "off")];
    let mut server = Server::start_on(dir.path(), &addr, &settings);
    let token = server.token(&id, &secret).1["access_token"].as_str().unwrap().to_owned();

    let (status, first) = post_batch(&addr, &token, "round-1", &batch(1));
    assert_eq!(status, 200, "{first:#}");
    let mut acked = acknowledged(&first);

    // Kill the server while the second batch runs: once its key is reserved and before it is
    // answered. Should the batch win the race, it is acknowledged, and the next round tries again.
    let mut db = open_database(dir.path());
    let mut round = 2;
    let killed_key = loop {
        assert!(round < 6, "no kill landed while a batch ran");
        let key = format!("round-{round}");
        let sender = {
            let (addr, token, key, body) = (addr.clone(), token.clone(), key.clone(), batch(round));
            std::thread::spawn(move || post_batch(&addr, &token, &key, &body))
        };
        let reserved = format!("SELECT count(*) FROM idempotency_keys WHERE idempotency_key = '{key}'");
        while count(&mut db, &reserved) == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
        server.child.kill().unwrap();
        server.wait();
        let (status, answer) = sender.join().unwrap();
        let unanswered = format!("{reserved} AND status IS NULL");
        if count(&mut db, &unanswered) == 1 {
            assert_eq!(status, 0, "a killed server answers nothing: {answer:#}");
            break (key, round);
        }
        assert_eq!(status, 200, "{answer:#}");
        acked = acknowledged(&answer);
        server = Server::start_on(dir.path(), &addr, &settings);
        round += 1;
    };
    let (key, round) = killed_key;

    server = Server::start_on(dir.path(), &addr, &settings);
    // All or nothing: the killed batch is one transaction.
    let written = count(&mut db, &format!("SELECT count(*) FROM listings WHERE title_vi LIKE '% lô {round}'"));
    assert!(written == 0 || written == BATCH_ITEMS as i64, "{written} items of the killed batch were written");

    // Every item acknowledged before the kill is there, at the version acknowledged or, when the
    // killed batch did commit, one later.
    let rows: Vec<Row> = diesel::sql_query("SELECT id, version FROM listings").load(&mut db).unwrap();
    let found: std::collections::HashMap<String, i64> = rows.into_iter().map(|r| (r.id, r.version)).collect();
    let bump = i64::from(written > 0);
    for (id, version) in &acked {
        assert_eq!(found.get(id), Some(&(version + bump)), "listing {id}");
    }

    // The client retries with the same key: the restarted server freed the key its previous run
    // held, so the retry runs (or replays) at once instead of hearing 409 for minutes.
    let (status, answer) = post_batch(&addr, &token, &key, &batch(round));
    assert_eq!(status, 200, "{answer:#}");
    let acked = acknowledged(&answer);
    let rows: Vec<Row> = diesel::sql_query("SELECT id, version FROM listings").load(&mut db).unwrap();
    let found: std::collections::HashMap<String, i64> = rows.into_iter().map(|r| (r.id, r.version)).collect();
    let logged: Vec<Row> =
        diesel::sql_query("SELECT entity_id AS id, version FROM change_log WHERE entity = 'listing'")
            .load(&mut db)
            .unwrap();
    let logged: std::collections::HashSet<(String, i64)> = logged.into_iter().map(|r| (r.id, r.version)).collect();
    for (id, version) in acked {
        assert_eq!(found.get(&id), Some(&version), "listing {id}");
        assert!(logged.contains(&(id.clone(), version)), "the change to version {version} of {id} is logged");
    }

    // A clean stop checkpoints the WAL into the database file, which holds together.
    drop(db);
    assert!(server.terminate().success());
    assert!(
        !dir.path().join("techex.db-wal").exists(),
        "the WAL is checkpointed and removed at a clean stop: {}",
        server.stderr()
    );
    let mut db = open_database(dir.path());
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check").load(&mut db).unwrap();
    assert_eq!(check.iter().map(|c| c.integrity_check.as_str()).collect::<Vec<_>>(), ["ok"]);
}

/// A webhook receiver on 127.0.0.1: answers 200 to each delivery and keeps its `webhook-id`,
/// but holds the first one until told to answer, and says when it has it.
struct Receiver {
    url: String,
    ids: Arc<Mutex<Vec<String>>>,
    holding: std::sync::mpsc::Receiver<()>,
    release: std::sync::mpsc::Sender<()>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let ids = Arc::new(Mutex::new(Vec::new()));
        let (held, holding) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let kept = ids.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let (mut id, mut length) = (None, 0);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    let lower = line.to_ascii_lowercase();
                    if let Some(value) = lower.strip_prefix("webhook-id:") {
                        id = Some(value.trim().to_owned());
                    } else if let Some(value) = lower.strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let first = kept.lock().unwrap().is_empty();
                if first {
                    let _ = held.send(());
                    let _ = released.recv();
                }
                kept.lock().unwrap().extend(id);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        Receiver { url, ids, holding, release }
    }

    fn received(&self) -> Vec<String> {
        self.ids.lock().unwrap().clone()
    }
}

/// A request with a JSON body and a token; the status and JSON answer.
fn send_json(server: &Server, method: &str, path: &str, token: &str, body: &str) -> (u16, Value) {
    server.exchange(&format!(
        "{method} {path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        server.addr,
        body.len()
    ))
}

#[test]
fn sigterm_lets_the_webhook_worker_finish_its_delivery_and_hand_back_the_rest() {
    use diesel::RunQueryDsl;
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = operator_client(dir.path());
    let settings = [("TECHEX_DEMO_DATA", "off"), ("TECHEX_WEBHOOKS_ALLOW_PRIVATE", "true")];
    let mut server = Server::start(dir.path(), &settings);
    let token = server.token(&id, &secret).1["access_token"].as_str().unwrap().to_owned();
    let receiver = Receiver::start();
    let subscription = serde_json::json!({"url": receiver.url, "event_types": ["listing.*"]}).to_string();
    let (status, webhook) = send_json(&server, "POST", "/v1/webhooks", &token, &subscription);
    assert_eq!(status, 201, "{webhook:#}");
    // Three listings published: three deliveries, leased together by the worker's next pass.
    let items: Vec<Value> = (0..3)
        .flat_map(|i| {
            let source = serde_json::json!({"exchange": "hcm", "external_id": format!("W-{i}")});
            [
                serde_json::json!({"op": "upsert", "listing": {"kind": "offer", "title": {"vi": format!("Máy {i}")},
                    "field_codes": ["211"], "province": "75", "owner": {"name": "Viện thử"}, "source": source}}),
                serde_json::json!({"op": "publish", "source": source}),
            ]
        })
        .collect();
    let body = serde_json::json!({ "items": items }).to_string();
    let (status, answer) = send_json(&server, "POST", "/v1/listings/batch", &token, &body);
    assert_eq!(status, 200, "{answer:#}");

    // The first delivery reaches the receiver, which holds it while the server is told to stop.
    receiver.holding.recv_timeout(PATIENCE).expect("a delivery is sent");
    server.signal("TERM");
    server.await_log("SIGTERM: stopping gracefully");
    receiver.release.send(()).unwrap();
    assert!(server.wait().success());
    assert!(server.stderr().contains("stopped: requests drained, webhook worker finished"), "{}", server.stderr());

    // The delivery under way was finished and its attempt recorded (delivered, or failed had the
    // receiver been too slow); the others were not tried and are leased by nobody, so that the
    // next server sends them at once.
    let mut db = open_database(dir.path());
    assert_eq!(count(&mut db, "SELECT count(*) FROM webhook_attempts"), 1);
    let untried = count(&mut db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts = 0");
    let leased = count(&mut db, "SELECT count(*) FROM webhook_deliveries WHERE leased_until IS NOT NULL");
    assert_eq!((untried, leased), (2, 0));

    // Started again, the server sends them.
    let mut server = Server::start(dir.path(), &settings);
    let started = Instant::now();
    while count(&mut db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'") < 3 {
        assert!(started.elapsed() < PATIENCE, "the pending deliveries are not sent: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    let all: Vec<Row> =
        diesel::sql_query("SELECT id, attempts AS version FROM webhook_deliveries").load(&mut db).unwrap();
    let stored: std::collections::BTreeSet<String> = all.into_iter().map(|row| row.id).collect();
    let sent: std::collections::BTreeSet<String> = receiver.received().into_iter().collect();
    assert_eq!(sent, stored, "each delivery reached the receiver under its own webhook-id");
    assert!(server.terminate().success());
}

#[test]
fn sigterm_gives_back_the_job_leases_of_this_server_only() {
    use diesel::RunQueryDsl;
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[("TECHEX_DEMO_DATA", "off")]);
    let mut db = open_database(dir.path());
    // The jobs run at start: the server holds their four leases. Another server's lease stays.
    let started = Instant::now();
    while count(&mut db, "SELECT count(*) FROM job_leases WHERE holder <> ''") < 4 {
        assert!(started.elapsed() < PATIENCE, "the jobs took no lease: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    diesel::sql_query(
        "INSERT INTO job_leases (name, holder, leased_until) VALUES ('elsewhere', 'another-server', '2999-01-01 00:00:00')",
    )
    .execute(&mut db)
    .unwrap();
    assert!(server.terminate().success());
    assert!(server.stderr().contains("gave back 4 job lease(s)"), "{}", server.stderr());
    assert_eq!(count(&mut db, "SELECT count(*) FROM job_leases WHERE holder <> ''"), 1);
    assert_eq!(count(&mut db, "SELECT count(*) FROM job_leases WHERE holder = 'another-server'"), 1);
}
