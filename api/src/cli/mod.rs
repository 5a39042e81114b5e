//! The `devgraph` command line: serve (default), migrate, seed, schema, token.

mod admin;

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use crate::{
    app::{
        build_app, secret_key,
        seed::{SeedSpec, seed},
        seed_delivery::DeliveryCounts,
    },
    auth::TenantCtx,
    config::{Config, ConfigArgs},
    db,
    graphql::sdl,
    secrets::{SECRET_KEY_VAR, Sealer, SecretKey},
    service,
};

#[derive(Parser)]
#[command(
    name = "devgraph",
    version,
    about = "Multi-tenant GraphQL API for developer analytics"
)]
pub struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default): migrates first; in dev mode seeds a demo
    /// organization into an empty database.
    Serve,
    /// Apply or roll back database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Fill the database with deterministic synthetic organizations.
    Seed(SeedSpec),
    /// Print the GraphQL SDL, or check that a file holds the current one.
    Schema {
        /// Fail (exit 1) when the file differs from the current SDL.
        #[arg(long)]
        check: bool,
        #[arg(long, default_value = "schema.graphql")]
        path: PathBuf,
    },
    /// Delete raw events older than each organization's retention window
    /// (rollups are kept). `serve` also does this every hour.
    Retention {
        #[command(subcommand)]
        action: RetentionAction,
    },
    /// Rebuild daily rollups from retained raw events (after a time-zone change).
    Rollup {
        #[command(subcommand)]
        action: RollupAction,
    },
    /// Manage organizations.
    Org {
        #[command(subcommand)]
        action: admin::OrgAction,
    },
    /// Manage API keys.
    ApiKey {
        #[command(subcommand)]
        action: admin::ApiKeyAction,
    },
    /// Print a JWT for a developer (HS256 only), for GraphiQL or curl.
    Token {
        /// Organization slug.
        #[arg(long)]
        org: String,
        /// Developer email.
        #[arg(long)]
        developer: String,
        #[arg(long, default_value_t = 24 * 30)]
        ttl_hours: i64,
    },
}

#[derive(Subcommand)]
enum RetentionAction {
    /// Purge now, in batches.
    Run {
        #[arg(long, default_value_t = crate::service::retention::DEFAULT_BATCH)]
        batch: u64,
    },
}

#[derive(Subcommand)]
enum RollupAction {
    /// Re-bucket the days raw events still cover, and recount the delivery metrics, in the
    /// organization's current time zone.
    Rebuild {
        /// Organization slug.
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply all pending migrations.
    Up,
    /// Roll back all migrations.
    Down,
    /// List migrations and whether each is applied.
    Status,
    /// Roll back every migration, then apply them all again (erases all data).
    Fresh,
    /// Distribute the tables by organization on Citus (PostgreSQL with the
    /// citus extension and its workers added); safe to run again.
    Distribute,
}

pub async fn run() -> ExitCode {
    load_dotenv();
    init_tracing();
    run_from(std::env::args_os()).await
}

/// Runs one command line in-process (what `main` does, and what tests call).
pub async fn run_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match dispatch(cli).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `.env` from the current directory only: `dotenvy::dotenv` also looks in
/// every parent directory, so a server started in a subdirectory (or in a
/// home directory's child) would take settings, secrets included, from a
/// file nobody meant for it. Variables already set win over the file.
fn load_dotenv() {
    match dotenvy::from_path(".env") {
        Ok(()) => {}
        Err(e) if e.not_found() => {}
        // Not the error's text: it quotes the line, which may hold a secret.
        Err(dotenvy::Error::LineParse(..)) => {
            eprintln!(
                "warning: .env has a line that does not parse; it and the lines after it are ignored"
            );
        }
        Err(e) => eprintln!("warning: .env was not read: {e}"),
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

async fn dispatch(cli: Cli) -> Result<ExitCode, String> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await.map(|_| ExitCode::SUCCESS),
        Command::Schema { check, path } => Ok(schema(check, &path)),
        Command::Migrate { action } => migrate(&cli.config, action)
            .await
            .map(|_| ExitCode::SUCCESS),
        Command::Seed(spec) => run_seed(&cli.config, spec).await.map(|_| ExitCode::SUCCESS),
        Command::Retention {
            action: RetentionAction::Run { batch },
        } => {
            let db = connect(&cli.config).await?;
            let deleted = service::retention::run(&db, batch)
                .await
                .map_err(|e| e.describe())?;
            println!("deleted {deleted} events past retention");
            Ok(ExitCode::SUCCESS)
        }
        Command::Rollup {
            action: RollupAction::Rebuild { org },
        } => {
            let db = connect(&cli.config).await?;
            let ctx = system_ctx(&db, &org).await?;
            let done = service::rollups::rebuild::rebuild(&ctx, &db)
                .await
                .map_err(|e| e.describe())?;
            println!(
                "re-bucketed {} events into {} rows, days from {}",
                done.events, done.rows, done.from_day
            );
            let sources = service::delivery::metrics::refresh::rebuild(&ctx, &db)
                .await
                .map_err(|e| e.describe())?;
            println!(
                "recounted the delivery metrics of {sources} pull requests, reviews, deployments and incidents"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Org { action } => admin::org(&cli.config, action)
            .await
            .map(|_| ExitCode::SUCCESS),
        Command::ApiKey { action } => admin::api_key(&cli.config, action)
            .await
            .map(|_| ExitCode::SUCCESS),
        Command::Token {
            org,
            developer,
            ttl_hours,
        } => mint_token(cli.config, &org, &developer, ttl_hours)
            .await
            .map(|t| {
                println!("{t}");
                ExitCode::SUCCESS
            }),
    }
}

pub(super) async fn connect(args: &ConfigArgs) -> Result<DatabaseConnection, String> {
    let acquire_timeout = std::time::Duration::from_millis(args.db_acquire_timeout_ms);
    let (db, _) = db::connect(&args.database_url(), 2, None, acquire_timeout)
        .await
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    Ok(db)
}

async fn serve(args: ConfigArgs) -> Result<(), String> {
    let config = Config::from_args(args).map_err(|e| e.to_string())?;
    let app = build_app(config).await.map_err(|e| e.to_string())?;
    let (listener, addr) = app.bind().await.map_err(|e| e.to_string())?;
    // Both listeners stop on the same signal.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let admin_stop = async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|s| *s).await;
    };
    let admin = app
        .spawn_admin(admin_stop)
        .await
        .map_err(|e| e.to_string())?;
    let dev_mode = app.state.config.is_dev_mode();
    print_banner(addr, dev_mode, app.state.dev_token.as_deref());
    if let Some(admin) = admin {
        println!("metrics and readiness: http://{admin}/metrics, http://{admin}/readyz");
    }
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    };
    crate::app::serve(listener, app.router(), shutdown)
        .await
        .map_err(|e| e.to_string())
}

fn print_banner(addr: std::net::SocketAddr, dev_mode: bool, token: Option<&str>) {
    println!("devgraph listening on http://{addr}");
    println!("GraphiQL: http://{addr}/graphql");
    println!("Dashboard: http://{addr}/dashboard");
    println!("Subscriptions (graphql-transport-ws): ws://{addr}/graphql/ws");
    if dev_mode {
        println!("dev mode: embedded SQLite and a generated JWT secret (never use in production)");
    }
    if let Some(token) = token {
        println!("GraphiQL already sends this header; for curl or other clients:");
        println!("Authorization: Bearer {token}");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: draining in-flight requests");
}

fn schema(check: bool, path: &PathBuf) -> ExitCode {
    let current = sdl();
    if !check {
        print!("{current}");
        return ExitCode::SUCCESS;
    }
    match std::fs::read_to_string(path) {
        Ok(existing) if existing == current => ExitCode::SUCCESS,
        Ok(_) => {
            eprintln!(
                "{} is stale: run `cargo run -- schema > {}`",
                path.display(),
                path.display()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

async fn migrate(args: &ConfigArgs, action: MigrateAction) -> Result<(), String> {
    let db = connect(args).await?;
    let result = match action {
        MigrateAction::Up => Migrator::up(&db, None).await,
        MigrateAction::Down => Migrator::down(&db, None).await,
        MigrateAction::Status => Migrator::status(&db).await,
        // Not `Migrator::fresh`: on SQLite it turns foreign keys off with a
        // pragma on one pooled connection and drops tables on another.
        MigrateAction::Fresh => match Migrator::down(&db, None).await {
            Ok(()) => Migrator::up(&db, None).await,
            Err(e) => Err(e),
        },
        MigrateAction::Distribute => {
            let done = migration::citus::distribute(&db)
                .await
                .map_err(|e| format!("cannot distribute: {}", plain(e)))?;
            report_distributed(&done);
            return Ok(());
        }
    };
    result.map_err(|e| format!("migration failed: {e}"))
}

/// A refusal's own words, without SeaORM's "Custom Error:" wrapping.
fn plain(e: sea_orm::DbErr) -> String {
    match e {
        sea_orm::DbErr::Custom(why) => why,
        other => other.to_string(),
    }
}

fn report_distributed(done: &migration::citus::Distributed) {
    let version = &done.citus_version;
    if done.was_done_already() {
        println!("already distributed (Citus {version}): nothing to do");
        return;
    }
    println!(
        "distributed on Citus {version}: {} reference table(s) ({}), {} table(s) by organization_id, \
         {} foreign key(s) re-created",
        done.reference.len(),
        done.reference.join(", "),
        done.distributed.len(),
        done.foreign_keys
    );
}

async fn run_seed(args: &ConfigArgs, spec: SeedSpec) -> Result<(), String> {
    let db = connect(args).await?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    let sealer = seed_sealer(args)?;
    if sealer.is_none() && spec.pull_requests > 0 {
        eprintln!(
            "no delivery data: repositories keep a sealed webhook secret, and no key seals \
             them; set {SECRET_KEY_VAR} (`openssl rand -base64 32`) to seed repositories, \
             pull requests, deployments and incidents too"
        );
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} steps {elapsed}") {
        bar.set_style(style);
    }
    let orgs = seed(&db, spec, sealer.as_deref(), &bar)
        .await
        .map_err(|e| e.describe())?;
    for org in orgs {
        let d = org.delivery;
        println!("seeded {} (owner {})", org.slug, org.owner_email);
        if d != DeliveryCounts::default() {
            println!(
                "  {} repositories, {} pull requests, {} reviews, {} commits, {} deployments, \
                 {} incidents",
                d.repositories, d.pull_requests, d.reviews, d.commits, d.deployments, d.incidents
            );
        }
    }
    Ok(())
}

/// The key the server would seal webhook secrets with (the configured one, or dev mode's), so
/// that the seeded repositories' secrets open when it serves the same database. Seeding needs
/// no JWT setting: when the configuration is incomplete for serving, only a configured key
/// counts.
fn seed_sealer(args: &ConfigArgs) -> Result<Option<Arc<Sealer>>, String> {
    match Config::from_args(args.clone()) {
        Ok(config) => secret_key::sealer(&config).map_err(|e| e.to_string()),
        Err(_) => match &args.secret_key {
            Some(text) => SecretKey::parse(text)
                .map(|key| Some(Arc::new(Sealer::new(&key))))
                .map_err(|e| e.to_string()),
            None => Ok(None),
        },
    }
}

/// A JWT for a developer of an organization, signed with the configured
/// HS256 secret (or the dev secret).
pub async fn mint_token(
    args: ConfigArgs,
    org_slug: &str,
    email: &str,
    ttl_hours: i64,
) -> Result<String, String> {
    let config = Config::from_args(args).map_err(|e| e.to_string())?;
    let jwt = crate::auth::JwtVerifier::from_config(&config).map_err(|e| e.to_string())?;
    let (db, _) = db::connect(&config.database_url, 2, None, config.db_acquire_timeout)
        .await
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let ctx = system_ctx(&db, org_slug).await?;
    let dev = service::developer::by_email(&ctx, &db, email)
        .await
        .map_err(|e| e.describe())?
        .ok_or_else(|| format!("no developer {email:?} in {org_slug}"))?;
    jwt.mint(
        &dev.auth_subject,
        Some(&ctx.org_id().uuid().to_string()),
        chrono::Duration::hours(ttl_hours),
    )
    .ok_or_else(|| "tokens can only be minted with an HS256 secret (JWT_SECRET or dev mode)".into())
}

/// The system's context in the organization an operator named (slug or id).
pub(crate) async fn system_ctx(
    db: &sea_orm::DatabaseConnection,
    org: &str,
) -> Result<TenantCtx, String> {
    let org_id = crate::auth::org_by_id_or_slug(db, org)
        .await
        .map_err(|e| e.describe())?
        .ok_or_else(|| format!("no organization {org:?}"))?;
    Ok(TenantCtx::unsafe_system(org_id))
}
