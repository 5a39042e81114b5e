//! Test databases on PostgreSQL: one thread owns one connection to
//! `TEST_DATABASE_URL` and creates, clones and drops every test's database
//! through it. Opening a connection costs this server about 130 ms (fork
//! and SCRAM), which tests used to pay twice each just to create and drop
//! their database; and a test's runtime cannot own a connection that
//! outlives it, while this thread's runtime lives as long as the binary.
//!
//! The template is built on the first request for a copy (requests are
//! served one at a time, so no two tests build it), under a session lock
//! that serializes test binaries sharing the server, and renamed to its
//! final name only once migrated (see `db`).

use std::sync::{OnceLock, mpsc};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::sync::{mpsc as tokio_mpsc, oneshot};
use uuid::Uuid;

use super::citus;
use super::db::{connect_one, migrate, migrations_hash, template_name};

enum Job {
    /// A new database, a copy of the template when `copy` is set.
    Create {
        copy: bool,
        reply: oneshot::Sender<Result<String, String>>,
    },
    /// A `std` channel: `Drop` cannot await.
    Drop {
        name: String,
        done: mpsc::Sender<()>,
    },
}

static WORKER: OnceLock<tokio_mpsc::UnboundedSender<Job>> = OnceLock::new();

fn worker(admin_url: &str) -> &'static tokio_mpsc::UnboundedSender<Job> {
    WORKER.get_or_init(|| {
        let (jobs, queue) = tokio_mpsc::unbounded_channel();
        let admin_url = admin_url.to_owned();
        std::thread::Builder::new()
            .name("test-databases".into())
            .spawn(move || serve(admin_url, queue))
            .expect("start the test database thread");
        jobs
    })
}

/// A new database (a copy of the template if `copy`); its URL and name.
pub async fn create(admin_url: &str, copy: bool) -> (String, String) {
    let (reply, answer) = oneshot::channel();
    let job = Job::Create { copy, reply };
    worker(admin_url).send(job).expect("test database thread");
    let name = answer.await.expect("test database thread");
    let name = name.unwrap_or_else(|e| panic!("{e}"));
    (database_url(admin_url, &name), name)
}

/// Drops a test's database, waiting until it is gone.
pub fn drop_database(admin_url: &str, name: &str) {
    let (done, gone) = mpsc::channel();
    let name = name.to_owned();
    if worker(admin_url).send(Job::Drop { name, done }).is_ok() {
        let _ = gone.recv();
    }
}

fn serve(admin_url: String, mut queue: tokio_mpsc::UnboundedReceiver<Job>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("test database runtime");
    rt.block_on(async move {
        let admin = connect_one(&admin_url).await;
        let workers = citus::connect_workers(&admin_url).await;
        let mut template = None;
        while let Some(job) = queue.recv().await {
            match job {
                Job::Create { copy, reply } if !workers.is_empty() => {
                    let made = create_on_citus(&admin, &workers, &admin_url, copy).await;
                    let _ = reply.send(made);
                }
                Job::Create { copy, reply } => {
                    let made = create_database(&admin, &admin_url, copy, &mut template).await;
                    let _ = reply.send(made);
                }
                Job::Drop { name, done } => {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = admin.execute_unprepared(&sql).await;
                    citus::drop_everywhere(&workers, &name).await;
                    let _ = done.send(());
                }
            }
        }
    });
}

async fn create_database(
    admin: &DatabaseConnection,
    admin_url: &str,
    copy: bool,
    template: &mut Option<String>,
) -> Result<String, String> {
    let from = match (copy, template.as_ref()) {
        (false, _) => String::new(),
        (true, Some(t)) => format!(" TEMPLATE \"{t}\""),
        (true, None) => {
            let t = build_template(admin, admin_url).await?;
            format!(" TEMPLATE \"{}\"", template.insert(t))
        }
    };
    let name = format!("devgraph_test_{}", Uuid::now_v7().simple());
    // A test needs no durability: not waiting for each commit's WAL flush
    // makes fixtures that commit hundreds of times (a service call each)
    // faster.
    run(admin, format!("CREATE DATABASE \"{name}\"{from}")).await?;
    run(
        admin,
        format!("ALTER DATABASE \"{name}\" SET synchronous_commit = off"),
    )
    .await?;
    Ok(name)
}

/// A new database distributed over the Citus workers (no template: see
/// `citus`).
async fn create_on_citus(
    admin: &DatabaseConnection,
    workers: &[(String, DatabaseConnection)],
    admin_url: &str,
    migrate: bool,
) -> Result<String, String> {
    let name = format!("devgraph_test_{}", Uuid::now_v7().simple());
    run(admin, format!("CREATE DATABASE \"{name}\"")).await?;
    let sql = format!("ALTER DATABASE \"{name}\" SET synchronous_commit = off");
    run(admin, sql).await?;
    citus::make(workers, admin_url, &name, migrate).await?;
    Ok(name)
}

async fn build_template(admin: &DatabaseConnection, admin_url: &str) -> Result<String, String> {
    let name = template_name();
    // Another test binary (a second worktree, a CI job) may be building the
    // same template: a session lock keyed by the hash serializes them, and
    // makes any `_build_` database found under it a dead run's leftover.
    let key = i64::from_ne_bytes(migrations_hash().to_ne_bytes());
    run(admin, format!("SELECT pg_advisory_lock({key})")).await?;
    let built = build_template_locked(admin, admin_url, &name).await;
    run(admin, format!("SELECT pg_advisory_unlock({key})")).await?;
    built.map(|()| name)
}

async fn build_template_locked(
    admin: &DatabaseConnection,
    admin_url: &str,
    name: &str,
) -> Result<(), String> {
    if !databases_like(admin, &like_escape(name)).await?.is_empty() {
        return Ok(());
    }
    let builds = format!("{}\\_build\\_%", like_escape(name));
    for leftover in databases_like(admin, &builds).await? {
        run(admin, format!("DROP DATABASE \"{leftover}\" WITH (FORCE)")).await?;
    }
    let build = format!("{name}_build_{}", Uuid::now_v7().simple());
    run(admin, format!("CREATE DATABASE \"{build}\"")).await?;
    // `migrate` closes its connection: a template with a session open
    // cannot be copied ("being accessed by other users").
    migrate(&database_url(admin_url, &build)).await;
    run(
        admin,
        format!("ALTER DATABASE \"{build}\" RENAME TO \"{name}\""),
    )
    .await?;
    // No connections at all from now on, so no stray session can make a
    // copy fail; a template is also protected from a plain DROP.
    let sql = format!("ALTER DATABASE \"{name}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false");
    run(admin, sql).await
}

/// Runs `sql`, its text in the error.
pub(super) async fn run(db: &DatabaseConnection, sql: impl AsRef<str>) -> Result<(), String> {
    let sql = sql.as_ref();
    match db.execute_unprepared(sql).await {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("{sql}: {e}")),
    }
}

async fn databases_like(admin: &DatabaseConnection, pattern: &str) -> Result<Vec<String>, String> {
    let sql = "SELECT datname FROM pg_database WHERE datname LIKE $1";
    let stmt = Statement::from_sql_and_values(DbBackend::Postgres, sql, [pattern.into()]);
    let rows = admin.query_all_raw(stmt).await.map_err(|e| e.to_string())?;
    rows.iter()
        .map(|r| r.try_get("", "datname").map_err(|e| e.to_string()))
        .collect()
}

/// `name` matching itself only in a LIKE pattern (`_` is a wildcard there).
fn like_escape(name: &str) -> String {
    name.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// `admin_url` with its database replaced by `name`.
pub(super) fn database_url(admin_url: &str, name: &str) -> String {
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    format!("{base}/{name}")
}
