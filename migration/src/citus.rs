//! Citus: devgraph's tables distributed by `organization_id`, so that an
//! installation can spread its tenants over several PostgreSQL machines.
//!
//! The layout: `organizations` and `api_key_prefixes` (read before any
//! tenant is known) are reference tables, copied to every node; every other
//! table is hash-distributed by `organization_id`, all colocated, so every
//! key and join that leads with `organization_id` stays on one shard.
//! `seaql_migrations` stays on the coordinator.
//!
//! [`distribute`] converts a database migrated on plain PostgreSQL;
//! [`create_tenant_table`] is how a migration creates a tenant table, so
//! that a database already distributed gets the new table distributed too.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};
use sea_orm_migration::{MigratorTrait, SchemaManager, prelude::*};

use crate::Migrator;

/// The tables read before a tenant is known: copied to every node.
pub const REFERENCE_TABLES: [&str; 2] = ["organizations", "api_key_prefixes"];

/// The distribution column of every other table.
pub const DISTRIBUTION_COLUMN: &str = "organization_id";

/// What [`distribute`] did.
#[derive(Debug, PartialEq, Eq)]
pub struct Distributed {
    /// The Citus version of the database.
    pub citus_version: String,
    /// Tables made reference tables by this run.
    pub reference: Vec<String>,
    /// Tables distributed by this run.
    pub distributed: Vec<String>,
    /// Foreign keys dropped and added again around the conversion.
    pub foreign_keys: usize,
}

impl Distributed {
    /// Nothing was left to convert.
    pub fn was_done_already(&self) -> bool {
        self.reference.is_empty() && self.distributed.is_empty()
    }
}

/// The installed Citus version, or `None` when the extension is absent (or
/// the database is not PostgreSQL).
pub async fn version(db: &impl ConnectionTrait) -> Result<Option<String>, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT extversion FROM pg_extension WHERE extname = 'citus'",
        ))
        .await?;
    row.map(|r| r.try_get::<String>("", "extversion"))
        .transpose()
}

/// Whether this database has been distributed: `organizations` is a Citus
/// reference table.
pub async fn is_distributed(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(!placed_if_citus(db).await?.is_empty())
}

/// `placed`, or nothing where Citus is not installed (its catalog is absent).
async fn placed_if_citus(db: &impl ConnectionTrait) -> Result<Vec<(String, String)>, DbErr> {
    match version(db).await? {
        Some(_) => placed(db).await,
        None => Ok(Vec::new()),
    }
}

/// The distributed table new ones are colocated with, if there is one yet.
fn colocation_anchor(placed: &[(String, String)]) -> Option<String> {
    placed
        .iter()
        .find(|(_, method)| method == "h")
        .map(|(table, _)| table.clone())
}

/// Tables Citus already knows, with their method (`n` reference, `h` hash).
async fn placed(db: &impl ConnectionTrait) -> Result<Vec<(String, String)>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT c.relname::text AS name, p.partmethod::text AS method \
             FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "name")?, r.try_get("", "method")?)))
        .collect()
}

fn refuse(why: impl Into<String>) -> DbErr {
    DbErr::Custom(why.into())
}

/// Converts a migrated database to the distributed layout, in one
/// transaction: the foreign keys of every table not yet distributed are
/// dropped, the reference tables created, the others distributed by
/// `organization_id` colocated with each other, and the keys added again.
/// Idempotent: tables Citus already holds are left alone, and a second run
/// finds nothing to do. Refuses on SQLite, without the `citus` extension,
/// and with migrations pending.
pub async fn distribute(db: &DatabaseConnection) -> Result<Distributed, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Err(refuse(
            "distributing needs PostgreSQL with the Citus extension; this database is SQLite",
        ));
    }
    let Some(citus_version) = version(db).await? else {
        return Err(refuse(
            "the citus extension is not installed in this database: load it \
             (shared_preload_libraries = 'citus'), run CREATE EXTENSION citus, add the \
             workers with citus_add_node, then run this again",
        ));
    };
    let pending = Migrator::get_pending_migrations(db).await?;
    if !pending.is_empty() {
        return Err(refuse(format!(
            "{} migration(s) pending: run `devgraph migrate up` first",
            pending.len()
        )));
    }
    let txn = db.begin().await?;
    // Creating reference tables and distributing others in one transaction
    // needs Citus to use one connection per node throughout.
    txn.execute_unprepared("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
        .await?;
    let placed = placed(&txn).await?;
    let is_placed = |name: &str| placed.iter().any(|(t, _)| t == name);
    let tables = public_tables(&txn).await?;
    let mut reference = Vec::new();
    let mut distributed = Vec::new();
    for (name, has_org) in &tables {
        if is_placed(name) {
            continue;
        }
        if REFERENCE_TABLES.contains(&name.as_str()) {
            reference.push(name.clone());
        } else if *has_org {
            distributed.push(name.clone());
        } else {
            return Err(refuse(format!(
                "table {name} has no {DISTRIBUTION_COLUMN} column and is not a reference \
                 table: it cannot be distributed with the others"
            )));
        }
    }
    let todo: Vec<String> = reference.iter().chain(&distributed).cloned().collect();
    let keys = foreign_keys(&txn, todo).await?;
    for key in &keys {
        txn.execute_unprepared(&format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            quoted(&key.table),
            quoted(&key.name)
        ))
        .await?;
    }
    for table in &reference {
        let sql = "SELECT create_reference_table($1::regclass)";
        let stmt = Statement::from_sql_and_values(DbBackend::Postgres, sql, [quoted(table).into()]);
        txn.execute_raw(stmt).await?;
    }
    // Colocated with what is already distributed, or with the first table.
    let mut anchor = colocation_anchor(&placed);
    for table in &distributed {
        distribute_table(&txn, table, anchor.as_deref()).await?;
        anchor.get_or_insert_with(|| table.clone());
    }
    for key in &keys {
        txn.execute_unprepared(&format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            quoted(&key.table),
            quoted(&key.name),
            key.definition
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(Distributed {
        citus_version,
        reference,
        distributed,
        foreign_keys: keys.len(),
    })
}

/// Creates a tenant table, then its foreign keys. On a database already
/// distributed on Citus the table is distributed (colocated with the
/// others) before the keys go on: created on the coordinator and left
/// there, it would be a local table whose cascades from distributed parents
/// never fire. Elsewhere the keys are part of the `CREATE TABLE`, as SQLite
/// cannot add them later.
pub async fn create_tenant_table(
    manager: &SchemaManager<'_>,
    mut table: TableCreateStatement,
    foreign_keys: Vec<ForeignKeyCreateStatement>,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let placed = placed_if_citus(db).await?;
    if placed.is_empty() {
        for mut key in foreign_keys {
            table.foreign_key(&mut key);
        }
        return manager.create_table(table).await;
    }
    let name = match table.get_table_name() {
        Some(TableRef::Table(TableName(_, name), _)) => name.to_string(),
        _ => return Err(refuse("a tenant table needs a plain name")),
    };
    manager.create_table(table).await?;
    db.execute_unprepared("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
        .await?;
    distribute_table(db, &name, colocation_anchor(&placed).as_deref()).await?;
    for key in foreign_keys {
        manager.create_foreign_key(key).await?;
    }
    Ok(())
}

/// Distributes `table` by organization, colocated with `anchor` (Citus's
/// default colocation for the first one).
async fn distribute_table(
    db: &impl ConnectionTrait,
    table: &str,
    anchor: Option<&str>,
) -> Result<(), DbErr> {
    let sql = format!(
        "SELECT create_distributed_table($1::regclass, '{DISTRIBUTION_COLUMN}', \
         colocate_with => $2)"
    );
    let anchor = anchor.map_or_else(|| "default".to_owned(), quoted);
    let values = [quoted(table).into(), anchor.into()];
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}

/// The public schema's tables but `seaql_migrations`, each with whether it
/// has the distribution column.
async fn public_tables(db: &impl ConnectionTrait) -> Result<Vec<(String, bool)>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT c.relname::text AS name, EXISTS (SELECT 1 FROM pg_attribute a \
                 WHERE a.attrelid = c.oid AND a.attname = '{DISTRIBUTION_COLUMN}' \
                 AND NOT a.attisdropped) AS has_org \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
                 AND c.relname <> 'seaql_migrations' ORDER BY c.relname"
            ),
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "name")?, r.try_get("", "has_org")?)))
        .collect()
}

/// A foreign key as the catalog has it, to drop and add again.
struct KeyDef {
    table: String,
    name: String,
    definition: String,
}

/// The foreign keys from or to any of `tables`.
async fn foreign_keys(
    db: &impl ConnectionTrait,
    tables: Vec<String>,
) -> Result<Vec<KeyDef>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT t.relname::text AS tbl, c.conname::text AS name, \
             pg_get_constraintdef(c.oid) AS definition \
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             JOIN pg_class r ON r.oid = c.confrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE c.contype = 'f' AND n.nspname = 'public' \
             AND (t.relname = ANY($1) OR r.relname = ANY($1)) ORDER BY t.relname, c.conname",
            [tables.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(KeyDef {
                table: r.try_get("", "tbl")?,
                name: r.try_get("", "name")?,
                definition: r.try_get("", "definition")?,
            })
        })
        .collect()
}

/// An identifier for SQL text: the names here come from the catalog.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
