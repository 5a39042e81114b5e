//! A database per test, copied from a template migrated once: on
//! PostgreSQL (`TEST_DATABASE_URL` set) `CREATE DATABASE … TEMPLATE` (see
//! `postgres`), on SQLite a file copy. Every test used to migrate a new
//! database from scratch, which costs more than copying one.
//!
//! The template is named after a hash of the migration list, so a run
//! reuses a complete template an earlier run left behind, and a new or
//! renamed migration gets a new one. It is built under a temporary name and
//! renamed when complete, so a crashed run never leaves a half-migrated
//! template under the real name. (A migration edited in place keeps its
//! name: drop `devgraph_tpl_*`, or delete `devgraph_tpl_*.db` in the
//! temporary folder's `devgraph-tests/`, by hand.)

use std::path::{Path, PathBuf};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::postgres;

/// Which database the suite runs on.
pub fn backend_name() -> &'static str {
    if postgres_admin_url().is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

fn postgres_admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A database that exists for one test, dropped (or deleted) with it.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDb { admin_url: String, name: String },
}

impl TestDb {
    /// A copy of the migrated template.
    pub async fn fresh() -> TestDb {
        Self::create(true).await
    }

    /// A database with no tables, for tests of migrating itself.
    pub async fn empty() -> TestDb {
        Self::create(false).await
    }

    async fn create(copy: bool) -> TestDb {
        super::log::init();
        if let Some(admin_url) = postgres_admin_url() {
            let (url, name) = postgres::create(&admin_url, copy).await;
            let cleanup = Cleanup::PostgresDb { admin_url, name };
            return TestDb { url, cleanup };
        }
        let name = format!("devgraph_test_{}.db", Uuid::now_v7().simple());
        let path = sqlite_dir().join(name);
        if copy {
            let template = SQLITE_TEMPLATE.get_or_init(sqlite_template).await;
            std::fs::copy(template, &path).expect("copy the template database");
        }
        TestDb {
            url: sqlite_url(&path),
            cleanup: Cleanup::SqliteFile(path),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => remove_sqlite(path),
            Cleanup::PostgresDb { admin_url, name } => postgres::drop_database(admin_url, name),
        }
    }
}

/// `devgraph_tpl_<hash of the migration list>`.
pub fn template_name() -> String {
    format!("devgraph_tpl_{:016x}", migrations_hash())
}

/// FNV-1a over the migration names: stable across runs and compilers
/// (unlike `DefaultHasher`), and no dependency for a few names.
pub fn migrations_hash() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for migration in Migrator::migrations() {
        for byte in migration.name().bytes().chain([b'\n']) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// Migrates `url` over one connection and closes it: a template must have
/// no session open while it is copied, and on SQLite every page must be in
/// the main file (journal mode DELETE checkpoints the WAL into it).
pub async fn migrate(url: &str) {
    let db = connect_one(url).await;
    Migrator::up(&db, None).await.expect("migrate the template");
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode = DELETE")
            .await
            .expect("checkpoint the template");
    }
    db.close().await.expect("close the template");
}

/// One connection: a session lock is taken and released on the same one,
/// and a template is left with none open.
pub async fn connect_one(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

/// Built by the first test that needs it while the others wait; only its
/// path is kept, since each test runs its own runtime.
static SQLITE_TEMPLATE: OnceCell<PathBuf> = OnceCell::const_new();

async fn sqlite_template() -> PathBuf {
    let path = sqlite_dir().join(format!("{}.db", template_name()));
    if !path.exists() {
        let build = format!("{}_build_{}.db", template_name(), Uuid::now_v7().simple());
        let build = sqlite_dir().join(build);
        migrate(&sqlite_url(&build)).await;
        // Atomic: a run building the same template at once replaces one
        // complete file with another.
        std::fs::rename(&build, &path).expect("rename the template database");
        remove_sqlite(&build);
    }
    path
}

fn sqlite_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("devgraph-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
