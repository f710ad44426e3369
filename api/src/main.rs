use std::process::ExitCode;
use std::sync::Arc;

use actix_web::HttpServer;
use clap::Parser;
use techex_api::app::CorsPolicy;
use techex_api::auth::keys::SigningAlgorithm;
use techex_api::auth::rate_limit::{HourlyQuota, Quota, RateLimits};
use techex_api::auth::token_guard::{TokenGuard, TokenGuardConfig};
use techex_api::auth::{KeySet, TokenLifetime};
use techex_api::cli::{Cli, ClientsCommand, Command, OrgsCommand, ServeArgs, SyncArgs, redact_url};
use techex_api::clock::Clock;
use techex_api::error::ApiError;
use techex_api::extract::BodyTimeout;
use techex_api::jobs::EXPIRY_INTERVAL;
use techex_api::usecases::{
    FirstClient, register_client, register_organization, register_organization_with_client, revoke, rotate_secret,
};
use techex_api::webhooks::{WebhookSettings, Worker};
use techex_api::{AppState, demo};
use techex_domain::RestorePeriod;
use techex_domain::access::{format_scopes, parse_scopes};
use techex_domain::organization::{OrganizationContent, OrganizationKind};
use techex_domain::values::LocalizedText;
use techex_domain::webhook::TargetPolicy;
use techex_persistence::change_log::Author;
use techex_persistence::{Backend, Db, clients, listings};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Openapi { spec_version }) => {
            println!("{}", techex_api::openapi_text(&spec_version));
            Ok(())
        }
        Some(Command::Migrate) => {
            connect(&cli.database_url, cli.pool_size).map(|_| log::info!("database is up to date"))
        }
        Some(Command::Seed { .. }) => seed(&cli.database_url, cli.pool_size),
        Some(Command::Orgs(command)) => orgs(&cli.database_url, command),
        Some(Command::Clients(command)) => clients_command(&cli.database_url, command),
        Some(Command::Sync(args)) => sync(&cli.database_url, args),
        Some(Command::Serve(args)) => serve(&cli.database_url, cli.pool_size, args),
        None => serve(&cli.database_url, cli.pool_size, ServeArgs::default()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn connect(url: &str, pool_size: u32) -> Result<Db, String> {
    Db::connect(url, pool_size).map_err(|e| format!("cannot open the database {}: {e}", redact_url(url)))
}

fn describe(error: ApiError) -> String {
    // The command line speaks English, as its help does.
    let problem = error.problem(techex_domain::Lang::En);
    match problem.errors.as_slice() {
        [] => problem.detail,
        errors => errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
    }
}

/// Loads the demo data into an empty database and prints the demo client's credentials once.
fn load_demo(db: &Db) -> Result<(), String> {
    let loaded = demo::load(db, techex_domain::now())?;
    log::info!(
        "loaded {} demo listings, {} sample contracts and {} sample centers",
        loaded.listings,
        loaded.contracts,
        loaded.centers
    );
    println!(
        "Demo API client (shown once; it may write and publish listings, read and record the sample contracts it brokered, keep the sample centers, and follow the change feed):"
    );
    println!("  client_id:     {}", loaded.client.id);
    println!("  client_secret: {}", loaded.client_secret);
    Ok(())
}

fn seed(url: &str, pool_size: u32) -> Result<(), String> {
    let db = connect(url, pool_size)?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    if !listings::is_empty(&mut conn).map_err(|e| e.to_string())? {
        return Err("the database already holds listings; demo data goes only into an empty database".into());
    }
    drop(conn);
    load_demo(&db)
}

fn orgs(url: &str, command: OrgsCommand) -> Result<(), String> {
    let db = connect(url, 1)?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    match command {
        OrgsCommand::Create {
            kind,
            name_vi,
            name_en,
            province,
            tax_code,
            source_exchanges,
            client_name,
            client_scopes,
        } => {
            let kind: OrganizationKind = kind.parse().map_err(|e| format!("invalid organization kind: {e}"))?;
            let name = LocalizedText { vi: name_vi, en: name_en };
            let content =
                OrganizationContent { tax_code, source_exchanges, ..OrganizationContent::new(kind, name, &province) };
            let author = Author::command_line();
            let (Some(name), Some(scopes)) = (client_name, client_scopes) else {
                let org = register_organization(&mut conn, content, &author).map_err(describe)?;
                println!("organization_id: {}", org.id);
                return Ok(());
            };
            let scopes = parse_scopes(&scopes).map_err(|word| format!("unknown scope '{word}'"))?;
            let onboarded =
                register_organization_with_client(&mut conn, content, FirstClient { name, scopes }, &author)
                    .map_err(describe)?;
            println!("organization_id: {}", onboarded.organization.id);
            println!("client_id:       {}", onboarded.client.id);
            println!("client_secret:   {}", onboarded.client_secret);
            println!("scopes:          {}", format_scopes(&onboarded.client.scopes));
            println!("Store the secret now: it is not shown again.");
            Ok(())
        }
    }
}

fn clients_command(url: &str, command: ClientsCommand) -> Result<(), String> {
    let db = connect(url, 1)?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let author = Author::command_line();
    match command {
        ClientsCommand::Create { organization, name, scopes } => {
            let scopes = parse_scopes(&scopes).map_err(|word| format!("unknown scope '{word}'"))?;
            let (client, secret) =
                register_client(&mut conn, organization, &name, scopes, &author).map_err(describe)?;
            println!("client_id:     {}", client.id);
            println!("client_secret: {secret}");
            println!("scopes:        {}", format_scopes(&client.scopes));
            println!("Store the secret now: it is not shown again.");
        }
        ClientsCommand::List { organization } => {
            for client in clients::list(&mut conn, organization, None, i64::MAX).map_err(|e| e.to_string())? {
                let state = if client.is_active() { "active" } else { "revoked" };
                println!(
                    "{}  {}  {}  {}  {}",
                    client.id,
                    client.organization_id,
                    state,
                    format_scopes(&client.scopes),
                    client.name
                );
            }
        }
        ClientsCommand::Rotate { id } => {
            let (client, secret) = rotate_secret(&mut conn, id, &author).map_err(describe)?;
            println!("client_id:     {}", client.id);
            println!("client_secret: {secret}");
            println!("The previous secret no longer works. Store this one now: it is not shown again.");
        }
        ClientsCommand::Revoke { id } => {
            revoke(&mut conn, id, &author).map_err(describe)?;
            println!("revoked {id}: it gets no more tokens, and the ones it holds stop working");
        }
    }
    Ok(())
}

/// Mirrors the other hub until caught up, and again every interval with `--follow`.
fn sync(url: &str, args: SyncArgs) -> Result<(), String> {
    use std::io::IsTerminal;
    use techex_api::sync::{Progress, RemoteHub, sync_once};
    let db = connect(url, 2)?;
    let mut remote = RemoteHub::new(&args.from, &args.client_id, &args.client_secret);
    let hub = remote.name().to_owned();
    loop {
        let progress = Progress::new(std::io::stdout().is_terminal());
        let outcome = sync_once(&db, &mut remote, args.page_size, techex_domain::now, |done| {
            progress.show(&hub, done);
            std::ops::ControlFlow::Continue(())
        });
        progress.finish();
        match outcome {
            Ok(done) => log::info!("{}", progress.line(&hub, done)),
            Err(error) if !args.follow => return Err(format!("sync from {hub} stopped: {error}")),
            // Following, a failed round is tried again at the next poll, from the stored cursor.
            Err(error) => log::error!("sync from {hub} failed, retrying in {} s: {error}", args.interval),
        }
        if !args.follow {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_secs(args.interval));
    }
}

fn serve(url: &str, pool_size: u32, args: ServeArgs) -> Result<(), String> {
    let workers = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    limit_malloc_arenas(workers);
    let db = connect(url, pool_size)?;
    if db.backend() == Backend::Sqlite && args.demo_data == "auto" {
        let mut conn = db.conn().map_err(|e| e.to_string())?;
        if listings::is_empty(&mut conn).map_err(|e| e.to_string())? {
            drop(conn);
            log::info!("empty embedded database: loading demo data (TECHEX_DEMO_DATA=off to skip)");
            load_demo(&db)?;
        }
    }
    let algorithm: SigningAlgorithm = args.signing_algorithm.parse()?;
    let (keys, generated) =
        KeySet::load(&args.signing_keys, &args.data_dir, algorithm, &args.issuer(), &args.token_audience)?;
    if generated {
        log::warn!(
            "no signing key configured: generated {} (kid {}); set TECHEX_SIGNING_KEYS to share keys between servers",
            algorithm.generated_key_path(&args.data_dir).display(),
            keys.signing_kid()
        );
    }
    let keys = Arc::new(keys);
    let quota = |per_minute: u32| Quota { per_minute, burst: (per_minute / 4).max(1) };
    let state = AppState {
        db: db.clone(),
        rate_limits: RateLimits::new(
            keys.clone(),
            quota(args.rate_limit_client),
            quota(args.rate_limit_anonymous),
            args.trusted_proxies.clone(),
        )
        .with_sender_quota(HourlyQuota { per_hour: args.interest_rate_limit, burst: args.interest_rate_limit }),
        keys,
        token_lifetime: TokenLifetime(args.token_ttl_seconds),
        cors: CorsPolicy::parse(&args.cors_origins)?,
        public_url: args.public_url.clone(),
        token_guard: Arc::new(TokenGuard::new(TokenGuardConfig {
            concurrent_verifications: usize::from(args.token_verifications),
            failures_per_client: args.token_failures_per_client,
            failures_per_address: args.token_failures_per_address,
            ..TokenGuardConfig::default()
        })),
        body_timeout: BodyTimeout(std::time::Duration::from_secs(args.body_timeout_seconds)),
        restore_period: RestorePeriod(chrono::Duration::days(i64::from(args.restore_days))),
        export_slots: techex_api::routes::export::ExportSlots::default(),
        webhooks: WebhookSettings {
            targets: TargetPolicy { allow_private: args.webhooks_allow_private },
            ..WebhookSettings::default()
        },
        clock: Clock::system(),
        documents: Default::default(),
    };
    log::info!(
        "techex serving on http://{} with {} ({}); API docs at http://{}/docs/",
        args.bind,
        db.backend().as_str(),
        redact_url(url),
        args.bind
    );
    let (expiry_db, expiry_clock) = (db.clone(), state.clock.clone());
    let (alerts_db, alerts_clock) = (db.clone(), state.clock.clone());
    let webhooks = Arc::new(Worker::new(db.clone(), state.clock.clone(), state.webhooks.clone()));
    let retention = chrono::Duration::days(i64::from(args.tombstone_retention_days));
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let jobs = actix_web::rt::spawn(techex_api::jobs::expire_periodically(
            expiry_db,
            expiry_clock,
            EXPIRY_INTERVAL,
            retention,
        ));
        let listener =
            std::net::TcpListener::bind(&args.bind).map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
        // A second handle on the listening socket, to answer what is still queued on it at SIGTERM.
        let queued = listener.try_clone().map_err(|e| format!("cannot listen on {}: {e}", args.bind))?;
        let delivering = actix_web::rt::spawn(techex_api::webhooks::deliver_periodically(webhooks.clone()));
        actix_web::rt::spawn(techex_api::alerts::alert_periodically(
            alerts_db,
            alerts_clock,
            techex_api::alerts::INTERVAL,
        ));
        release_free_memory_every(FREE_MEMORY_INTERVAL);
        // Each worker's app holds the state, and drops it on its own thread as the worker ends.
        let apps_alive = Arc::downgrade(&state.token_guard);
        let mut server = HttpServer::new(move || {
            let app = techex_api::build_app(state.clone());
            release_free_memory();
            app
        })
        // In-flight requests get this long to finish after SIGTERM.
        .shutdown_timeout(args.shutdown_timeout_seconds)
        // `stop_on_signal` hears the signals: actix-server's own SIGTERM handling drops the
        // connections it has accepted but not yet handed to a worker.
        .disable_signals();
        // Each worker's blocking pool runs the database work. Actix allows 512 threads over all
        // workers, though no more of them than pooled connections can be querying; and each
        // thread that reads a large result keeps its own glibc arena of freed memory (16 feed
        // readers peaked at ~130 MB resident unbounded, ~105 MB bounded so).
        server = server.workers(workers).worker_max_blocking_threads(blocking_threads(pool_size, workers));
        let server = server.listen(listener).map_err(|e| format!("cannot listen on {}: {e}", args.bind))?.run();
        let stopping = Stopping {
            server: server.handle(),
            webhooks: webhooks.clone(),
            queued,
            settle: std::time::Duration::from_millis(args.shutdown_settle_milliseconds),
            grace_seconds: args.shutdown_timeout_seconds,
        };
        let signalled = actix_web::rt::spawn(stop_on_signal(stopping));
        // Holding the address, this is the only live server under this name.
        let holder = format!("{}/{}", host_name(), args.bind);
        match techex_api::idempotency::set_holder(&db, holder) {
            Ok(0) => {}
            Ok(freed) => log::warn!("freed {freed} idempotency key(s) of requests cut short by the previous run"),
            Err(error) => log::error!("cannot free the idempotency keys of the previous run: {error}"),
        }
        let served = server.await.map_err(|e| e.to_string());
        // The workers' database connections close before the process ends (on SQLite the last one
        // to close checkpoints the WAL into the database file).
        let waiting = std::time::Instant::now();
        while apps_alive.strong_count() > 0 && waiting.elapsed() < APPS_DROP_WAIT {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // Stopped by a signal, the queued connections are being answered: let that finish.
        if webhooks.is_stopping() {
            let _ = signalled.await;
        }
        // Stopped some other way than by a signal: the worker stops too. Its delivery under way
        // is finished and recorded before the process (and its database pool) goes away.
        webhooks.stop();
        let _ = delivering.await;
        // No job starts again here; the leases go back so that another server runs the jobs at
        // its next pass (a run under way finishes beside it, which every job allows).
        jobs.abort();
        match actix_web::web::block(move || techex_api::jobs::give_back(&db)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(given)) => log::info!("gave back {given} job lease(s)"),
            Ok(Err(error)) => log::error!("cannot give back the job leases: {error}"),
            Err(error) => log::error!("cannot give back the job leases: {error}"),
        }
        log::info!("stopped: requests drained, webhook worker finished");
        served
    })
}

/// Blocking threads per worker: the worker's share of the database pool, and one more for work
/// that holds no connection all along (an export between its batches).
/// Hands the memory freed so far back to the system. glibc keeps what a thread frees in that
/// thread's arena: each worker builds the whole OpenAPI document (some 14 MB of utoipa
/// structures) before finding it already made by another (`AppState::documents`), and without
/// this kept those megabytes resident for the life of the process.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_free_memory() {
    // SAFETY: `malloc_trim` takes no pointer and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}

/// How often the memory freed meanwhile is handed back to the system.
const FREE_MEMORY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Hands freed memory back to the system every `interval`, from a thread of its own. glibc's
/// arenas keep what one kind of request freed for the next, so a server that has served
/// searches, matches, batches and feed pages holds what each needed at its busiest: 61 MB
/// resident over a whole `bench/run` on SQLite, where no scenario alone took it past 53 MB.
fn release_free_memory_every(interval: std::time::Duration) {
    let spawned = std::thread::Builder::new().name("free-memory".into()).spawn(move || {
        loop {
            std::thread::sleep(interval);
            release_free_memory();
        }
    });
    if let Err(e) = spawned {
        log::warn!("memory is not handed back periodically: {e}");
    }
}

/// Caps glibc's arenas at one per HTTP worker, before the first thread starts. By default every
/// thread that allocates while the others hold theirs gets an arena of its own, up to eight per
/// core, and each keeps the memory its requests freed: the database pool's blocking threads
/// held a peak of 69 MB at 100,000 listings (`bench/run`), 57 MB with two arenas at the same
/// requests/s.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas(arenas: usize) {
    let arenas = libc::c_int::try_from(arenas.max(1)).unwrap_or(libc::c_int::MAX);
    // SAFETY: `mallopt` takes plain integers; glibc applies M_ARENA_MAX to arenas made later.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas(_arenas: usize) {}

fn blocking_threads(pool_size: u32, workers: usize) -> usize {
    (pool_size as usize).div_ceil(workers) + 1
}

/// This machine's name, to tell its servers from other machines' on the same address.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

/// The longest the stopped server's workers get to drop their apps.
const APPS_DROP_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What a signal stops.
struct Stopping {
    server: actix_web::dev::ServerHandle,
    webhooks: Arc<Worker>,
    /// The listening socket (a second handle on it).
    queued: std::net::TcpListener,
    settle: std::time::Duration,
    grace_seconds: u64,
}

/// Stops the server and the webhook worker at SIGTERM (gracefully) or SIGINT (at once).
///
/// actix-server stopping gracefully drops the connections its accept thread has handed to a
/// worker that has not taken them yet, and closes those whose first request has not started: a
/// client that sent its request cannot tell whether it ran. So at SIGTERM accepting pauses first;
/// for the settle period the workers take what was accepted and read its requests, which then
/// count as in flight. Then the connections still queued on the socket are answered 503 and the
/// socket stops listening, and only then the server stops, its requests in flight given the
/// grace period.
async fn stop_on_signal(stopping: Stopping) {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    use futures_util::future::Either;
    let (Ok(mut terminate), Ok(mut interrupt)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        log::error!("cannot hear SIGTERM and SIGINT: stop the server with SIGKILL");
        return;
    };
    let terminated = matches!(
        futures_util::future::select(std::pin::pin!(terminate.recv()), std::pin::pin!(interrupt.recv())).await,
        Either::Left(_)
    );
    stopping.webhooks.stop();
    if !terminated {
        log::info!("SIGINT: stopping at once, requests in flight dropped; the webhook worker finishes its delivery");
        stopping.server.stop(false).await;
        return;
    }
    log::info!(
        "SIGTERM: stopping gracefully: no new connection; requests in flight get up to {} s; the webhook worker finishes the delivery it is sending",
        stopping.grace_seconds
    );
    stopping.server.pause().await;
    actix_web::rt::time::sleep(stopping.settle).await;
    let turned_away = stop_listening(stopping.queued);
    let answering = actix_web::web::block(move || answer_stopping_all(turned_away));
    stopping.server.stop(true).await;
    let _ = answering.await;
}

/// The most of a turned-away request read before it is answered.
const TURNED_AWAY_READ_MAX: usize = 8 * 1024 * 1024;

/// Takes the connections the kernel queued on the listening socket that the server did not
/// accept (reset when the socket closed, their requests perhaps already sent), then stops
/// listening: further connections are refused, so clients go to another server.
fn stop_listening(listener: std::net::TcpListener) -> Vec<std::net::TcpStream> {
    let mut queued = Vec::new();
    if listener.set_nonblocking(true).is_ok() {
        while let Ok((stream, _)) = listener.accept() {
            queued.push(stream);
        }
    }
    // The server's paused accept thread holds the socket open until it stops: shutting it down
    // ends the listening now, whoever holds it.
    if let Err(error) = socket2::SockRef::from(&listener).shutdown(std::net::Shutdown::Read) {
        log::error!("cannot stop listening: {error}");
    }
    queued
}

/// Answers each queued connection 503 with Retry-After (the request did not run; any client may
/// send it again).
fn answer_stopping_all(queued: Vec<std::net::TcpStream>) {
    let turned_away = queued.len();
    let answering: Vec<_> =
        queued.into_iter().map(|stream| std::thread::spawn(move || answer_stopping(stream))).collect();
    for thread in answering {
        let _ = thread.join();
    }
    if turned_away > 0 {
        log::info!("answered {turned_away} queued connection(s) 503: the server is stopping");
    }
}

/// Reads a request (so that closing the connection resets nothing) and answers 503.
fn answer_stopping(mut stream: std::net::TcpStream) {
    use std::io::{Read, Write};
    use techex_domain::{Lang, Message, Text};
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    let (mut read, mut buffer) = (Vec::new(), [0u8; 8192]);
    let mut wanted = None;
    while read.len() < TURNED_AWAY_READ_MAX && wanted.is_none_or(|length| read.len() < length) {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => read.extend_from_slice(&buffer[..n]),
        }
        if wanted.is_none()
            && let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n")
        {
            let head = String::from_utf8_lossy(&read[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            wanted = Some(end + 4 + length);
        }
    }
    let body = serde_json::json!({
        "type": "urn:techex:problem:service_unavailable",
        "title": Message::new(Text::TitleServiceUnavailable).render(Lang::En),
        "status": 503,
        "detail": Message::new(Text::ServerStopping).render(Lang::En),
        "code": "service_unavailable",
    })
    .to_string();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Wait for the client to close, so that nothing it still sends turns the close into a reset.
    while matches!(stream.read(&mut buffer), Ok(n) if n > 0) {}
}
