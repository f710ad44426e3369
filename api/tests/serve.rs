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
        let addr = format!("127.0.0.1:{}", free_port());
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
    ]);
    let organization = field(&created, "organization_id").unwrap();
    let scopes = "listings:write listings:publish";
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

#[test]
fn sigterm_lets_a_request_in_flight_finish_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let (id, secret) = operator_client(dir.path());
    let mut server = Server::start(dir.path(), &[("TECHEX_DEMO_DATA", "off")]);
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let mut stream = request_in_flight(&server, form.len());

    server.signal("TERM");
    server.await_log("SIGTERM received; starting graceful shutdown");
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
    let mut server = Server::start(dir.path(), &[("TECHEX_DEMO_DATA", "off"), ("TECHEX_BODY_TIMEOUT_SECONDS", "3600")]);
    let mut stream = request_in_flight(&server, 100);
    server.signal("TERM");
    server.await_log("graceful worker shutdown; finishing 1 connections");
    // The body never comes: once the grace period is over the server drops the request and
    // stops on its own.
    let (status, _) = read_response(&mut stream);
    assert_eq!(status, 0, "the unfinished request gets no answer");
    let exit = server.wait();
    assert!(exit.success(), "{exit}");
}

#[test]
fn ctrl_c_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[("TECHEX_DEMO_DATA", "off")]);
    let mut stream = request_in_flight(&server, 100);
    server.signal("INT");
    server.await_log("SIGINT received; starting forced shutdown");
    let (status, _) = read_response(&mut stream);
    assert_eq!(status, 0, "a request in flight is dropped");
    let exit = server.wait();
    assert!(exit.success(), "{exit}");
}
