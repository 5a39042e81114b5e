//! Test databases distributed on Citus, for running the suite against a
//! cluster: `TEST_DATABASE_URL` names the coordinator (its admin database)
//! and `TEST_CITUS_WORKERS=host:port,host:port` the workers, reached with
//! the same user and password.
//!
//! Citus keeps its metadata per database, and a copied template would share
//! its shards with the original, so each test's database is made whole on
//! every node: created on the coordinator and each worker, the extension
//! created in each, the workers added, then migrated and distributed with
//! `migration::citus::distribute`, exactly as `devgraph migrate distribute`
//! does. Four shards per table (instead of Citus's 32) keep that affordable
//! while still spreading organizations over both workers. A database the
//! test migrates itself (`TestDb::empty`) has the extension and the nodes
//! but stays undistributed.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::db::connect_one;
use super::postgres::{database_url, run};

/// The workers to spread test databases over, when the suite runs on Citus.
pub fn workers() -> Vec<String> {
    std::env::var("TEST_CITUS_WORKERS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An admin connection to each worker, on its database of the admin URL.
pub async fn connect_workers(admin_url: &str) -> Vec<(String, DatabaseConnection)> {
    let mut admins = Vec::new();
    for worker in workers() {
        let url = at(admin_url, &worker);
        admins.push((worker, connect_one(&url).await));
    }
    admins
}

/// Makes database `name`, already created on the coordinator, a Citus
/// database: created on every worker, the extension everywhere, the
/// workers added, and (if `migrate`) migrated and distributed.
pub async fn make(
    workers: &[(String, DatabaseConnection)],
    admin_url: &str,
    name: &str,
    migrate: bool,
) -> Result<(), String> {
    let coordinator = authority(admin_url).to_owned();
    for (worker, admin) in workers {
        run(admin, &format!("CREATE DATABASE \"{name}\"")).await?;
        let db = connect_one(&database_url(&at(admin_url, worker), name)).await;
        run(&db, "CREATE EXTENSION citus").await?;
        close(db).await;
    }
    let db = connect_one(&database_url(admin_url, name)).await;
    run(&db, "CREATE EXTENSION citus").await?;
    run(
        &db,
        &format!("ALTER DATABASE \"{name}\" SET citus.shard_count = 4"),
    )
    .await?;
    let (host, port) = host_port(&coordinator)?;
    let sql = format!("SELECT citus_set_coordinator_host('{host}', {port})");
    run(&db, &sql).await?;
    for (worker, _) in workers {
        let (host, port) = host_port(worker)?;
        run(&db, &format!("SELECT citus_add_node('{host}', {port})")).await?;
    }
    close(db).await;
    if migrate {
        // A new session: the shard count set above applies from the next one.
        let db = connect_one(&database_url(admin_url, name)).await;
        Migrator::up(&db, None)
            .await
            .map_err(|e| format!("migrate {name}: {e}"))?;
        migration::citus::distribute(&db)
            .await
            .map_err(|e| format!("distribute {name}: {e}"))?;
        close(db).await;
    }
    Ok(())
}

/// Drops `name` from every worker (the coordinator's copy is dropped by
/// the caller, first, so no distributed transaction is left open).
pub async fn drop_everywhere(workers: &[(String, DatabaseConnection)], name: &str) {
    for (_, admin) in workers {
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        let _ = admin.execute_unprepared(&sql).await;
    }
}

async fn close(db: DatabaseConnection) {
    let _ = db.close().await;
}

/// The `host:port` of a URL.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['/', '?']).next().unwrap_or(rest);
    rest.rsplit_once('@').map_or(rest, |(_, a)| a)
}

/// `url` pointed at another `host:port`.
fn at(url: &str, host_port: &str) -> String {
    url.replacen(authority(url), host_port, 1)
}

fn host_port(authority: &str) -> Result<(&str, u16), String> {
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "5432"));
    let port = port
        .parse()
        .map_err(|_| format!("no port in {authority}"))?;
    Ok((host, port))
}
