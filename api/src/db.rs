//! Database connection: pool settings, SQLite file creation, and a
//! statement counter (tests assert that a query's statement count does not
//! grow with the data; benchmarks report it).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::sqlite_path;

#[derive(Debug, Default)]
pub struct DbStats {
    statements: AtomicU64,
}

impl DbStats {
    /// SQL statements executed through this connection pool so far.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}

pub async fn connect(
    url: &str,
    pool_size: u32,
    statement_timeout: Option<Duration>,
    acquire_timeout: Duration,
) -> Result<(DatabaseConnection, Arc<DbStats>), DbErr> {
    let dir = sqlite_path(url).and_then(|p| p.parent().map(std::path::Path::to_path_buf));
    if let Some(dir) = dir.filter(|d| !d.as_os_str().is_empty()) {
        // Private (0700): it holds the data, and in dev mode the generated
        // signing secret, which dev mode refuses in a directory others may use.
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(pool_size.max(1))
        .min_connections(1)
        // One deadline for both: the pool retries a refused connection
        // until it passes, so while the database is down a request fails
        // (PoolTimedOut, answered 503) after `acquire_timeout`, no later.
        .acquire_timeout(acquire_timeout)
        .connect_timeout(acquire_timeout)
        // A ping before every acquire is a round trip per statement; only a
        // connection idle for a while is checked (one broken while in use is
        // answered 503 and dropped by the pool).
        .test_before_acquire_if_idle_for(Duration::from_secs(1))
        .sqlx_logging(false);
    if let Some(limit) = statement_timeout {
        // Set per connection at start-up: no statement (a runaway metrics
        // query, a lock wait) holds a connection longer than this.
        let millis = limit.as_millis().to_string();
        options
            .map_sqlx_postgres_opts(move |pg| pg.options([("statement_timeout", millis.clone())]));
    }
    let mut db = Database::connect(options).await?;
    let stats = Arc::new(DbStats::default());
    let counter = stats.clone();
    db.set_metric_callback(move |_info| {
        counter.statements.fetch_add(1, Ordering::Relaxed);
    });
    Ok((db, stats))
}

/// A pool of one connection, opened on first use, for readiness probes: they
/// never take a connection from the requests' pool nor wait behind them.
pub async fn connect_probe(
    url: &str,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(acquire_timeout)
        .connect_timeout(acquire_timeout)
        .connect_lazy(true)
        .sqlx_logging(false);
    Database::connect(options).await
}
