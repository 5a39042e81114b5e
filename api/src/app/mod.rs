//! `build_app(config)`: the one way to assemble the server, shared by
//! `main`, the tests and the benchmarks: connect, migrate, in dev mode seed
//! an empty embedded database and mint the demo owner's token (`dev.rs`),
//! and start the background tasks the configuration asks for.

pub mod dev;
pub mod secret_key;
pub mod seed;
pub mod seed_delivery;

use std::{net::SocketAddr, sync::Arc};

use axum::Router;
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

use crate::{
    auth::{Authenticator, JwtSetupError, JwtVerifier},
    config::{Config, ConfigError},
    db::{self, DbStats},
    graphql::build_schema,
    http::{AppState, persisted::Documents, router},
    service,
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot connect to the database: {0}")]
    Database(sea_orm::DbErr),
    #[error("cannot migrate the database: {0}")]
    Migrate(sea_orm::DbErr),
    #[error(transparent)]
    Jwt(#[from] JwtSetupError),
    #[error(transparent)]
    SecretKey(#[from] secret_key::SecretKeySetupError),
    #[error(transparent)]
    TrustedDocuments(#[from] crate::http::persisted::ManifestError),
    #[error("cannot prepare dev mode (demo data and token): {0}")]
    DevMode(String),
    #[error("cannot listen on {addr}: {cause}")]
    Bind {
        addr: SocketAddr,
        cause: std::io::Error,
    },
}

pub struct App {
    pub state: AppState,
}

impl App {
    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    pub fn stats(&self) -> Arc<DbStats> {
        self.state.stats.clone()
    }

    pub fn jwt(&self) -> &JwtVerifier {
        self.state.auth.jwt()
    }

    /// Binds `config.addr` (port 0 in tests) and serves in the background;
    /// returns the bound address.
    pub async fn spawn(&self) -> Result<SocketAddr, StartError> {
        let (addr, _) = self.spawn_until(std::future::pending()).await?;
        Ok(addr)
    }

    /// Like `spawn`, but stops when `shutdown` completes, after the requests
    /// in flight are answered (the handle ends then).
    pub async fn spawn_until(
        &self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), StartError> {
        let (listener, addr) = self.bind().await?;
        let router = self.router();
        let handle = tokio::spawn(async move {
            if let Err(err) = serve(listener, router, shutdown).await {
                tracing::error!(%err, "server stopped");
            }
        });
        Ok((addr, handle))
    }

    /// Serves /metrics and /readyz on `DEVGRAPH_ADMIN_ADDR`, when set, in
    /// the background until `shutdown` completes; returns the bound address.
    pub async fn spawn_admin(
        &self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Option<SocketAddr>, StartError> {
        let Some(addr) = self.state.config.admin_addr else {
            return Ok(None);
        };
        let (listener, bound) = bind(addr).await?;
        let router = crate::http::admin_router(self.state.clone());
        tokio::spawn(async move {
            if let Err(err) = serve(listener, router, shutdown).await {
                tracing::error!(%err, "admin listener stopped");
            }
        });
        Ok(Some(bound))
    }

    pub async fn bind(&self) -> Result<(tokio::net::TcpListener, SocketAddr), StartError> {
        bind(self.state.config.addr).await
    }
}

async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), StartError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|cause| StartError::Bind { addr, cause })?;
    let bound = listener
        .local_addr()
        .map_err(|cause| StartError::Bind { addr, cause })?;
    Ok((listener, bound))
}

/// Connects, migrates, and assembles the router's state.
pub async fn build_app(config: Config) -> Result<App, StartError> {
    // Before anything is created: a dev server that may not start must
    // leave no secret or database behind.
    config.check_listen_addr()?;
    // It reads a file and creates none: a bad manifest stops the start-up
    // before dev mode writes anything.
    let documents = Arc::new(Documents::from_config(&config)?);
    if let Some(listed) = documents.trusted_count() {
        tracing::info!(
            listed,
            "trusted documents: only the manifest's documents run"
        );
    }
    // Before connecting, so dev mode's directory is made private by the
    // secret's rules rather than by whoever creates the database file.
    let jwt = JwtVerifier::from_config(&config)?;
    let secrets = secret_key::sealer(&config)?;
    let (db, stats) = db::connect(
        &config.database_url,
        config.db_pool_size,
        config.statement_timeout,
        config.db_acquire_timeout,
    )
    .await
    .map_err(StartError::Database)?;
    Migrator::up(&db, None).await.map_err(StartError::Migrate)?;
    let dev_token = match config.dev_dir() {
        Some(dir) => dev::start(&dir, &db, &jwt, secrets.as_deref()).await?,
        None => None,
    };
    if let Some(every) = config.retention_every {
        spawn_retention(db.clone(), every);
    }
    let schema = build_schema(&config.limits);
    let probe = db::connect_probe(&config.database_url, config.db_acquire_timeout)
        .await
        .map_err(StartError::Database)?;
    let in_flight = crate::http::health::in_flight_limit(config.max_in_flight);
    let defaults = crate::budget::Budget {
        in_flight: config.tenant_in_flight,
        per_minute: config.tenant_requests_per_minute,
        points_per_minute: config.tenant_points_per_minute,
    };
    let budgets = crate::budget::Budgets::new(defaults, probe.clone());
    let backend = db.get_database_backend();
    let live =
        service::live::Live::start(&config.database_url, backend, config.live.interval).await;
    Ok(App {
        state: AppState {
            config: Arc::new(config),
            db,
            schema,
            auth: Arc::new(Authenticator::new(jwt)),
            stats,
            dev_token,
            telemetry: crate::telemetry::Telemetry::new(),
            readiness: crate::http::health::Readiness::new(probe),
            in_flight,
            budgets,
            secrets,
            live,
            documents,
        },
    })
}

/// Purges expired raw events every `every`, in the background.
fn spawn_retention(db: DatabaseConnection, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match service::retention::run(&db, service::retention::DEFAULT_BATCH).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "retention purged raw events"),
                Err(err) => tracing::warn!(error = %err.describe(), "retention run failed"),
            }
        }
    });
}

/// Serves until `shutdown` completes: then stops accepting connections and
/// returns once every request in flight has been answered, so a deploy's
/// SIGTERM loses no request (`devgraph serve` passes SIGTERM and Ctrl-C).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    // Without TCP_NODELAY, the tail of a response larger than one segment
    // waits for the client's delayed ACK (40 ms on Linux) before it leaves.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY on an accepted connection");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
