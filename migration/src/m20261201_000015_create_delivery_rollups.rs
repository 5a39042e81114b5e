//! Creates the delivery metrics' rollups: `delivery_rollups`, additive counts per project,
//! developer, day (in the organization's time zone), environment tier, metric and bucket; and
//! `delivery_contributions`, what each pull request, review, deployment and incident added to
//! them, so that a change to one of them takes back exactly what it added before adding its new
//! share. A duration metric keeps one row per log-scale bucket of its sketch (see the api's
//! `service::delivery::sketch`), so any set of rows merges by adding counts, in SQL.
//!
//! Both cascade with their project (everything a project's rows counted goes with it); neither
//! has a foreign key to `developers`: work of nobody known counts under the nil id, as in
//! `aggregated_events`. Tables start empty: no earlier release stored delivery data.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000004_create_projects::Projects;
use crate::{citus::create_tenant_table, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum DeliveryRollups {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum DeliveryContributions {
    Table,
    SourceId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Col {
    OrganizationId,
    ProjectId,
    DeveloperId,
    Day,
    Tier,
    Metric,
    Bucket,
    Count,
}

/// The columns both tables share, after what leads their key.
fn counted(create: &mut TableCreateStatement) -> &mut TableCreateStatement {
    create
        .col(uuid(Col::ProjectId))
        .col(uuid(Col::DeveloperId))
        .col(date(Col::Day))
        .col(text(Col::Tier))
        .col(text(Col::Metric))
        .col(integer(Col::Bucket))
        .col(big_integer(Col::Count))
}

fn to_project(name: &str, table: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{name}_project"))
        .from(table, (Col::OrganizationId, Col::ProjectId))
        .to(Projects::Table, (Projects::OrganizationId, Projects::Id))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut rollups = Table::create();
        rollups
            .table(DeliveryRollups::Table)
            .col(uuid(Col::OrganizationId));
        counted(&mut rollups).primary_key(
            Index::create()
                .name("pk_delivery_rollups")
                .col(Col::OrganizationId)
                .col(Col::ProjectId)
                .col(Col::DeveloperId)
                .col(Col::Day)
                .col(Col::Tier)
                .col(Col::Metric)
                .col(Col::Bucket),
        );
        let keys = vec![to_project("delivery_rollups", DeliveryRollups::Table)];
        create_tenant_table(manager, rollups, keys).await?;
        // A developer's (and a team space's members') days, and an organization's days.
        for (name, columns) in [
            (
                "ix_delivery_rollups_developer_day",
                vec![Col::OrganizationId, Col::DeveloperId, Col::Day],
            ),
            (
                "ix_delivery_rollups_day",
                vec![Col::OrganizationId, Col::Day],
            ),
        ] {
            manager
                .create_index(index(
                    name,
                    DeliveryRollups::Table.into_iden(),
                    columns.into_iter().map(IntoIden::into_iden),
                ))
                .await?;
        }

        let mut ledger = Table::create();
        ledger
            .table(DeliveryContributions::Table)
            .col(uuid(Col::OrganizationId))
            .col(uuid(DeliveryContributions::SourceId));
        counted(&mut ledger).primary_key(
            Index::create()
                .name("pk_delivery_contributions")
                .col(Col::OrganizationId)
                .col(DeliveryContributions::SourceId)
                .col(Col::ProjectId)
                .col(Col::DeveloperId)
                .col(Col::Day)
                .col(Col::Tier)
                .col(Col::Metric)
                .col(Col::Bucket),
        );
        let keys = vec![to_project(
            "delivery_contributions",
            DeliveryContributions::Table,
        )];
        create_tenant_table(manager, ledger, keys).await?;
        // The cascade from a deleted project.
        manager
            .create_index(index(
                "ix_delivery_contributions_project",
                DeliveryContributions::Table.into_iden(),
                [Col::OrganizationId, Col::ProjectId].map(IntoIden::into_iden),
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DeliveryContributions::Table.into_iden(),
            DeliveryRollups::Table.into_iden(),
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
