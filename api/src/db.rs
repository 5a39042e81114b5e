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
    // sqlx's hook runs for every new connection (sea-orm's own runs once).
    options.map_sqlx_postgres_pool_opts(|pool| {
        pool.after_connect(|_, _| {
            nodelay::set_on_tcp_sockets();
            Box::pin(async { Ok(()) })
        })
    });
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

/// TCP_NODELAY on the process's TCP sockets, the new database connection
/// among them. sqlx 0.9.0 stopped setting it (transact-rs/sqlx#4335; the
/// fix, #4336, is merged but not released), and sqlx gives no access to its
/// socket. Without it, a message larger than one segment (an ingested
/// batch, a long id array) leaves its tail waiting for PostgreSQL's delayed
/// ACK, 40 ms: measured on one batch of 500 events, the transaction went
/// from about 30 ms to 110. Remove when sqlx sets it again.
mod nodelay {
    #[cfg(target_os = "linux")]
    pub fn set_on_tcp_sockets() {
        each_tcp_socket(|socket| {
            if socket.tcp_nodelay().is_ok_and(|on| !on) {
                let _ = socket.set_tcp_nodelay(true);
            }
        });
    }

    #[cfg(not(target_os = "linux"))]
    pub fn set_on_tcp_sockets() {}

    /// Calls `f` with each TCP socket the process has open.
    #[cfg(target_os = "linux")]
    pub(super) fn each_tcp_socket(mut f: impl FnMut(socket2::SockRef<'_>)) {
        use std::os::fd::BorrowedFd;
        let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
            return;
        };
        for entry in fds.flatten() {
            let is_socket = std::fs::read_link(entry.path())
                .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
            let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            if !is_socket {
                continue;
            }
            // SAFETY: `fd` was an open socket of this process a moment ago
            // and is only borrowed for socket options. Were it closed and
            // its number reused meanwhile, the calls reach that other
            // descriptor: on a TCP socket they set what every socket of
            // ours wants, on anything else they fail and are ignored.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            let socket = socket2::SockRef::from(&fd);
            // A Unix socket is a stream too, but has no TCP options.
            if socket.r#type().is_ok_and(|t| t == socket2::Type::STREAM)
                && socket.tcp_nodelay().is_ok()
            {
                f(socket);
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// Every connection of the pool to PostgreSQL has TCP_NODELAY (with
    /// `TEST_DATABASE_URL` set to a PostgreSQL URL over TCP; otherwise
    /// there is nothing to check).
    #[tokio::test]
    async fn database_connections_send_without_delay() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            return;
        };
        if !url.starts_with("postgres") {
            return;
        }
        let (db, _) = super::connect(&url, 3, None, std::time::Duration::from_secs(10))
            .await
            .unwrap();
        // Three connections at once, so the pool opens more than its first.
        let ping = || async { db.ping().await.unwrap() };
        tokio::join!(ping(), ping(), ping());
        let port = sea_orm::sqlx::postgres::PgConnectOptions::from_str(&url)
            .map(|o| o.get_port())
            .unwrap();
        let mut to_database = Vec::new();
        super::nodelay::each_tcp_socket(|socket| {
            let peer = socket.peer_addr().ok().and_then(|a| a.as_socket());
            if peer.is_some_and(|p| p.port() == port) {
                to_database.push(socket.tcp_nodelay().unwrap());
            }
        });
        assert!(to_database.len() >= 2, "{to_database:?}");
        assert!(to_database.iter().all(|on| *on), "{to_database:?}");
    }

    use std::str::FromStr as _;
}
