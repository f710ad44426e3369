use std::process::ExitCode;

use actix_web::HttpServer;
use clap::Parser;
use techex_api::cli::{Cli, Command, ServeArgs, redact_url};
use techex_persistence::{Backend, Db, listings};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Openapi) => {
            println!("{}", techex_api::openapi().to_pretty_json().expect("the OpenAPI document serializes"));
            Ok(())
        }
        Some(Command::Migrate) => {
            connect(&cli.database_url, cli.pool_size).map(|_| log::info!("database is up to date"))
        }
        Some(Command::Seed { .. }) => seed(&cli.database_url, cli.pool_size),
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

fn seed(url: &str, pool_size: u32) -> Result<(), String> {
    let db = connect(url, pool_size)?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    if !listings::is_empty(&mut conn).map_err(|e| e.to_string())? {
        return Err("the database already holds listings; demo data goes only into an empty database".into());
    }
    drop(conn);
    let count = techex_api::demo::load(&db)?;
    log::info!("loaded {count} demo listings");
    Ok(())
}

fn serve(url: &str, pool_size: u32, args: ServeArgs) -> Result<(), String> {
    let db = connect(url, pool_size)?;
    if db.backend() == Backend::Sqlite && args.demo_data == "auto" {
        let mut conn = db.conn().map_err(|e| e.to_string())?;
        if listings::is_empty(&mut conn).map_err(|e| e.to_string())? {
            drop(conn);
            let count = techex_api::demo::load(&db)?;
            log::info!("empty embedded database: loaded {count} demo listings (TECHEX_DEMO_DATA=off to skip)");
        }
    }
    log::info!(
        "techex serving on http://{} with {} ({}); API docs at http://{}/docs/",
        args.bind,
        db.backend().as_str(),
        redact_url(url),
        args.bind
    );
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let mut server = HttpServer::new(move || techex_api::build_app(db.clone()))
            // In-flight requests get this long to finish after SIGTERM or SIGINT.
            .shutdown_timeout(30);
        if let Some(workers) = args.workers {
            server = server.workers(workers);
        }
        server
            .bind(&args.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", args.bind))?
            .run()
            .await
            .map_err(|e| e.to_string())
    })
}
