//! Creates the daily rollups per organization, per project and per developer: event counts per
//! day and event name, each the sum of `aggregated_events` over the dimension it drops. Derived
//! data like `team_space_rollups`, kept equal by the same writes, so that a metric grouped or
//! filtered by fewer dimensions reads fewer rows (an organization's day is a few rows here,
//! instead of one per project × developer × name). Filled from `aggregated_events` on the way up.
//!
//! The foreign keys do what keeps each table a recount of `aggregated_events`: a deleted project
//! takes its `project_rollups` rows with it (as it takes its `aggregated_events`), while
//! `organization_rollups` and `developer_rollups` are decremented by the service in the deleting
//! transaction. `developer_rollups` has no foreign key to `developers`, as `aggregated_events`
//! has none: events of unknown developers roll up under the nil id, which names no row.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_organizations::Organizations;
use crate::m20261121_000004_create_projects::Projects;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum OrganizationRollups {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectRollups {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum DeveloperRollups {
    Table,
}

/// The columns the three tables name alike.
#[derive(DeriveIden, Clone, Copy)]
enum Col {
    OrganizationId,
    ProjectId,
    DeveloperId,
    Day,
    Name,
    Count,
}

/// One rollup table: `organization_id`, then `scope` (a project or developer column) if any,
/// then day and name as the key, and the count. The key leads with the scope and then the day:
/// a metric reads a day range of a few scopes.
fn rollup_table(
    table: impl IntoIden + Copy + 'static,
    name: &str,
    scope: Option<Col>,
) -> TableCreateStatement {
    let mut create = Table::create();
    create.table(table).col(uuid(Col::OrganizationId));
    let mut key = Index::create();
    key.name(format!("pk_{name}")).col(Col::OrganizationId);
    if let Some(scope) = scope {
        create.col(uuid(scope));
        key.col(scope);
    }
    create
        .col(date(Col::Day))
        .col(text(Col::Name))
        .col(big_integer(Col::Count))
        .primary_key(key.col(Col::Day).col(Col::Name));
    create.to_owned()
}

/// `INSERT INTO <table> (organization_id, <scope>, day, name, count)` summed from
/// `aggregated_events`, for every organization.
fn backfill(table: &str, scope: Option<&str>) -> String {
    let scope = scope.map(|s| format!(r#""{s}", "#)).unwrap_or_default();
    format!(
        r#"INSERT INTO "{table}" ("organization_id", {scope}"day", "name", "count")
           SELECT "organization_id", {scope}"day", "name", SUM("count")
           FROM "aggregated_events"
           GROUP BY "organization_id", {scope}"day", "name""#
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let to_org = |table, name: &str| {
            ForeignKey::create()
                .name(format!("fk_{name}_organization"))
                .from(table, Col::OrganizationId)
                .to(Organizations::Table, Organizations::Id)
                .on_delete(ForeignKeyAction::Cascade)
                .to_owned()
        };
        let table = OrganizationRollups::Table;
        let name = "organization_rollups";
        manager
            .create_table(
                rollup_table(table, name, None)
                    .foreign_key(&mut to_org(table.into_iden(), name))
                    .to_owned(),
            )
            .await?;

        let table = ProjectRollups::Table;
        let name = "project_rollups";
        manager
            .create_table(
                rollup_table(table, name, Some(Col::ProjectId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_project_rollups_project")
                            .from(table, (Col::OrganizationId, Col::ProjectId))
                            .to(Projects::Table, (Projects::OrganizationId, Projects::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        let table = DeveloperRollups::Table;
        let name = "developer_rollups";
        manager
            .create_table(
                rollup_table(table, name, Some(Col::DeveloperId))
                    .foreign_key(&mut to_org(table.into_iden(), name))
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        db.execute_unprepared(&backfill("organization_rollups", None))
            .await?;
        db.execute_unprepared(&backfill("project_rollups", Some("project_id")))
            .await?;
        db.execute_unprepared(&backfill("developer_rollups", Some("developer_id")))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DeveloperRollups::Table.into_iden(),
            ProjectRollups::Table.into_iden(),
            OrganizationRollups::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }
}
