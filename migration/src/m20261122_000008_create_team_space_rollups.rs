//! Creates `team_space_rollups`: daily event counts per team space and event name, the sum of
//! `aggregated_events` over the team space's current members. It is derived data, kept current
//! by ingestion and by membership changes, so that team-space metrics read a few rows instead of
//! aggregating every member's events on each request. Filled from existing data on the way up.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000003_create_team_spaces::TeamSpaces;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TeamSpaceRollups {
    Table,
    OrganizationId,
    TeamSpaceId,
    Day,
    Name,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TeamSpaceRollups::Table)
                    .col(uuid(TeamSpaceRollups::OrganizationId))
                    .col(uuid(TeamSpaceRollups::TeamSpaceId))
                    .col(date(TeamSpaceRollups::Day))
                    .col(text(TeamSpaceRollups::Name))
                    .col(big_integer(TeamSpaceRollups::Count))
                    // Team space first, then day: a dashboard reads a day range of
                    // a few team spaces.
                    .primary_key(
                        Index::create()
                            .name("pk_team_space_rollups")
                            .col(TeamSpaceRollups::OrganizationId)
                            .col(TeamSpaceRollups::TeamSpaceId)
                            .col(TeamSpaceRollups::Day)
                            .col(TeamSpaceRollups::Name),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_team_space_rollups_team_space")
                            .from(
                                TeamSpaceRollups::Table,
                                (
                                    TeamSpaceRollups::OrganizationId,
                                    TeamSpaceRollups::TeamSpaceId,
                                ),
                            )
                            .to(
                                TeamSpaces::Table,
                                (TeamSpaces::OrganizationId, TeamSpaces::Id),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                r#"INSERT INTO "team_space_rollups"
                     ("organization_id", "team_space_id", "day", "name", "count")
                   SELECT m."organization_id", m."team_space_id", a."day", a."name", SUM(a."count")
                   FROM "aggregated_events" a
                   JOIN "team_space_members" m
                     ON m."organization_id" = a."organization_id"
                    AND m."developer_id" = a."developer_id"
                   GROUP BY m."organization_id", m."team_space_id", a."day", a."name""#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TeamSpaceRollups::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }
}
