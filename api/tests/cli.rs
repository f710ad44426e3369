//! The `techex` command line as the operator uses it, on SQLite and, with `TEST_DATABASE_URL`,
//! on PostgreSQL (in a schema of its own).

use std::process::{Command, Output};

use diesel::{Connection, PgConnection, RunQueryDsl};

struct Database {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Database {
    fn sqlite() -> Database {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("techex.db").to_str().unwrap().to_owned();
        Database { url, _dir: Some(dir), pg: None }
    }

    fn postgres() -> Option<Database> {
        let base = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
        let schema = format!("cli_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::establish(&base).unwrap();
        diesel::sql_query(format!("CREATE SCHEMA {schema}")).execute(&mut admin).unwrap();
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-csearch_path%3D{schema}");
        Some(Database { url, _dir: None, pg: Some((base, schema)) })
    }

    fn techex(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_techex"))
            .args(args)
            .env("TECHEX_DATABASE_URL", &self.url)
            .env("RUST_LOG", "info")
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed and returns what it printed.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.techex(args);
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(output.status.success(), "techex {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        stdout
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg
            && let Ok(mut admin) = PgConnection::establish(base)
        {
            let _ = diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE")).execute(&mut admin);
        }
    }
}

/// The value printed after `label:` on its own line.
fn field(output: &str, label: &str) -> String {
    output
        .lines()
        .find_map(|line| line.trim().strip_prefix(&format!("{label}:")))
        .unwrap_or_else(|| panic!("no {label} in {output}"))
        .trim()
        .to_owned()
}

fn operator_gets_in_and_manages_clients(db: &Database) {
    db.ok(&["migrate"]);
    let org = field(
        &db.ok(&[
            "orgs",
            "create",
            "--kind",
            "exchange",
            "--name-vi",
            "Sàn giao dịch công nghệ TP.HCM",
            "--province",
            "79",
        ]),
        "organization_id",
    );
    let created =
        db.ok(&["clients", "create", "--organization", &org, "--name", "Operator console", "--scopes", "admin"]);
    let (id, secret) = (field(&created, "client_id"), field(&created, "client_secret"));
    assert_eq!(secret.len(), 43);
    assert_eq!(field(&created, "scopes"), "admin");

    let listed = db.ok(&["clients", "list"]);
    assert!(listed.contains(&id) && listed.contains("active") && !listed.contains(&secret), "{listed}");

    let rotated = db.ok(&["clients", "rotate", &id]);
    assert_ne!(field(&rotated, "client_secret"), secret);
    db.ok(&["clients", "revoke", &id]);
    assert!(db.ok(&["clients", "list", "--organization", &org]).contains("revoked"));

    let again = db.techex(&["clients", "revoke", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("revoked"));
}

fn bad_input_is_refused_with_a_reason(db: &Database) {
    let bad_org = db.techex(&[
        "orgs",
        "create",
        "--kind",
        "exchange",
        "--name-vi",
        "Sở",
        "--province",
        "99",
        "--tax-code",
        "123",
    ]);
    assert!(!bad_org.status.success());
    let stderr = String::from_utf8_lossy(&bad_org.stderr);
    assert!(stderr.contains("province") && stderr.contains("tax_code"), "{stderr}");
    let unknown_kind = db.techex(&["orgs", "create", "--kind", "ministry", "--name-vi", "Bộ", "--province", "79"]);
    assert!(!unknown_kind.status.success());
    let stderr = String::from_utf8_lossy(&unknown_kind.stderr);
    assert!(stderr.contains("invalid organization kind") && stderr.contains("research_institute"), "{stderr}");
    let org_with_tax_code = |tax_code: &str| {
        db.techex(&[
            "orgs",
            "create",
            "--kind",
            "enterprise",
            "--name-vi",
            "Công ty TNHH Cơ khí Tân Uyên",
            "--province",
            "74",
            "--tax-code",
            tax_code,
        ])
    };
    let wrong_check_digit = org_with_tax_code("0123456788");
    assert!(!wrong_check_digit.status.success());
    let stderr = String::from_utf8_lossy(&wrong_check_digit.stderr);
    assert!(stderr.contains("tax_code") && stderr.contains("check digit"), "{stderr}");
    let valid = org_with_tax_code("0123456787");
    assert!(valid.status.success(), "{}", String::from_utf8_lossy(&valid.stderr));
    assert!(uuid::Uuid::parse_str(&field(&String::from_utf8_lossy(&valid.stdout), "organization_id")).is_ok());
    let duplicate = org_with_tax_code("0123456787");
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("tax code"), "{duplicate:?}");
    let create_client = |scopes: &str| {
        let org = uuid::Uuid::now_v7().to_string();
        db.techex(&["clients", "create", "--organization", &org, "--name", "x", "--scopes", scopes])
    };
    let unknown_org = create_client("admin");
    assert!(String::from_utf8_lossy(&unknown_org.stderr).contains("organization_id"));
    let bad_scope = create_client("root");
    assert!(String::from_utf8_lossy(&bad_scope.stderr).contains("unknown scope 'root'"));
}

fn an_organization_is_registered_with_its_first_client_or_not_at_all(db: &Database) {
    let org_with = |name: &str, client: &str| {
        db.techex(&[
            "orgs",
            "create",
            "--kind",
            "university",
            "--name-vi",
            name,
            "--province",
            "75",
            "--tax-code",
            "0123456787",
            "--client-name",
            client,
            "--client-scopes",
            "listings:write listings:publish",
        ])
    };
    // The client's name is blank once cleaned: refused after the organization was written, which
    // goes with it, so its tax code stays free.
    let refused = org_with("Trường thiếu cổng", " \u{200B} ");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("name"), "{}", String::from_utf8_lossy(&refused.stderr));

    let done = org_with("Trường Đại học Lạc Hồng", "Cổng trường");
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let printed = String::from_utf8(done.stdout).unwrap();
    let (org, client) = (field(&printed, "organization_id"), field(&printed, "client_id"));
    assert_eq!(field(&printed, "client_secret").len(), 43);
    assert_eq!(field(&printed, "scopes"), "listings:write listings:publish");
    let listed = db.ok(&["clients", "list", "--organization", &org]);
    assert!(listed.contains(&client) && listed.contains("Cổng trường"), "{listed}");
}

fn demo_seed_goes_into_an_empty_database_once(db: &Database) {
    let seeded = db.ok(&["seed", "--demo"]);
    assert!(uuid::Uuid::parse_str(&field(&seeded, "client_id")).is_ok());
    let twice = db.techex(&["seed", "--demo"]);
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already holds listings"));
}

#[test]
fn sqlite() {
    for check in [
        operator_gets_in_and_manages_clients,
        bad_input_is_refused_with_a_reason,
        an_organization_is_registered_with_its_first_client_or_not_at_all,
        demo_seed_goes_into_an_empty_database_once,
    ] {
        check(&Database::sqlite());
    }
}

#[test]
#[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
fn postgres() {
    for check in [
        operator_gets_in_and_manages_clients,
        bad_input_is_refused_with_a_reason,
        an_organization_is_registered_with_its_first_client_or_not_at_all,
        demo_seed_goes_into_an_empty_database_once,
    ] {
        check(&Database::postgres().expect("TEST_DATABASE_URL"));
    }
}

#[test]
fn database_passwords_stay_out_of_the_log() {
    // Nothing listens on port 1: the connection fails and the error is logged.
    let url = "postgres://techex:userinfo-s3cret@127.0.0.1:1/techex?sslmode=disable&password=query-s3cret";
    let output = Command::new(env!("CARGO_BIN_EXE_techex"))
        .arg("migrate")
        .env("TECHEX_DATABASE_URL", url)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(
        log.contains("cannot open the database postgres://techex:***@127.0.0.1:1/techex?sslmode=disable&password=***"),
        "{log}"
    );
    assert!(!log.contains("s3cret"), "{log}");
}

#[test]
fn openapi_command_prints_the_committed_document() {
    let output = Command::new(env!("CARGO_BIN_EXE_techex")).arg("openapi").output().unwrap();
    let printed = String::from_utf8(output.stdout).unwrap();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json")).unwrap();
    assert!(printed == committed, "`techex openapi` differs from openapi/openapi.json");
}

/// A bad setting stops the server with a message naming the variable, not a crash.
#[test]
fn bad_settings_stop_the_server_with_a_reason() {
    let database = Database::sqlite();
    let data = tempfile::tempdir().unwrap();
    for (variable, value) in [
        ("TECHEX_CORS_ORIGINS", "*,https://portal.example.vn"),
        ("TECHEX_CORS_ORIGINS", "portal.example.vn"),
        ("TECHEX_PUBLIC_URL", "techex.example.vn"),
        ("TECHEX_SIGNING_ALGORITHM", "HS256"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_techex"))
            .env("TECHEX_DATABASE_URL", &database.url)
            .env("TECHEX_DATA_DIR", data.path())
            .env("TECHEX_DEMO_DATA", "off")
            .env("TECHEX_BIND", "127.0.0.1:0")
            .env(variable, value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{variable}={value} was accepted");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let named = stderr.contains(variable)
            || stderr.contains(&variable.to_lowercase().replace("techex_", "--").replace('_', "-"));
        assert!(named, "{variable}={value}: {stderr}");
    }
}
