//! devgraph's database schema as SeaORM migrations, one file per step, run in order by
//! [`Migrator`]. A library only: the `devgraph migrate up|down|status|fresh|distribute` command of the api
//! crate drives it. The same migrations serve SQLite and PostgreSQL.
//!
//! Schema conventions the API relies on: tenant tables are keyed `(organization_id, id)` and
//! every tenant index and foreign key leads with `organization_id` (so the schema can be
//! distributed by it on Citus; a migration creates a tenant table through
//! [`citus::create_tenant_table`], which distributes it when the database already is);
//! constraints and indexes are named `pk_<table>`,
//! `uq_<table>_<what>`, `fk_<table>_<what>` and `ix_<table>_<what>`, because the API maps
//! database errors by that prefix (see `entity::constraint`).

pub use sea_orm_migration::prelude::*;

pub mod citus;

mod m20261121_000001_create_organizations;
mod m20261121_000002_create_developers;
mod m20261121_000003_create_team_spaces;
mod m20261121_000004_create_projects;
mod m20261121_000005_create_api_keys;
mod m20261121_000006_create_events;
mod m20261121_000007_create_audit_log;
mod m20261122_000008_create_team_space_rollups;
mod m20261130_000009_event_sources;
mod m20261130_000010_organization_budgets;
mod m20261130_000011_organization_point_budgets;
mod m20261130_000012_create_scope_rollups;
mod m20261130_000013_drop_events_occurred_at_index;
mod m20261201_000014_create_delivery_data;
mod m20261201_000015_create_delivery_rollups;
mod m20261201_000016_api_key_prefixes_follow_organizations;
mod m20261201_000017_identities_remember_unlinks;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_organizations::Migration),
            Box::new(m20261121_000002_create_developers::Migration),
            Box::new(m20261121_000003_create_team_spaces::Migration),
            Box::new(m20261121_000004_create_projects::Migration),
            Box::new(m20261121_000005_create_api_keys::Migration),
            Box::new(m20261121_000006_create_events::Migration),
            Box::new(m20261121_000007_create_audit_log::Migration),
            Box::new(m20261122_000008_create_team_space_rollups::Migration),
            Box::new(m20261130_000009_event_sources::Migration),
            Box::new(m20261130_000010_organization_budgets::Migration),
            Box::new(m20261130_000011_organization_point_budgets::Migration),
            Box::new(m20261130_000012_create_scope_rollups::Migration),
            Box::new(m20261130_000013_drop_events_occurred_at_index::Migration),
            Box::new(m20261201_000014_create_delivery_data::Migration),
            Box::new(m20261201_000015_create_delivery_rollups::Migration),
            Box::new(m20261201_000016_api_key_prefixes_follow_organizations::Migration),
            Box::new(m20261201_000017_identities_remember_unlinks::Migration),
        ]
    }
}

/// Every migration runs in a transaction, on SQLite too (where SeaORM's default is not to), so
/// that a failed step leaves no half-created tables behind; both backends have transactional DDL.
pub(crate) const ATOMIC: Option<bool> = Some(true);

/// A named plain index on `columns` of `table`; chain `.unique()` for a unique one.
pub(crate) fn index<T>(
    name: &str,
    table: T,
    columns: impl IntoIterator<Item = T>,
) -> IndexCreateStatement
where
    T: IntoIden + 'static,
{
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    index
}
