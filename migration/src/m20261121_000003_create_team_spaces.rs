//! Creates `team_spaces` and their membership table `team_space_members`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261121_000001_create_organizations::Organizations;
use crate::m20261121_000002_create_developers::Developers;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum TeamSpaces {
    Table,
    OrganizationId,
    Id,
    Slug,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TeamSpaceMembers {
    Table,
    OrganizationId,
    TeamSpaceId,
    DeveloperId,
    Role,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TeamSpaces::Table)
                    .col(uuid(TeamSpaces::OrganizationId))
                    .col(uuid(TeamSpaces::Id))
                    .col(text(TeamSpaces::Slug))
                    .col(text(TeamSpaces::Name))
                    .col(text_null(TeamSpaces::Description))
                    .col(timestamp_with_time_zone(TeamSpaces::CreatedAt))
                    .col(timestamp_with_time_zone(TeamSpaces::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_team_spaces")
                            .col(TeamSpaces::OrganizationId)
                            .col(TeamSpaces::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_team_spaces_organization")
                            .from(TeamSpaces::Table, TeamSpaces::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        let indexes = [
            (TeamSpaces::Slug, "uq_team_spaces_slug", true),
            (TeamSpaces::Name, "ix_team_spaces_name", false),
            (TeamSpaces::CreatedAt, "ix_team_spaces_created_at", false),
        ];
        for (column, name, unique) in indexes {
            let mut ix = index(
                name,
                TeamSpaces::Table,
                [TeamSpaces::OrganizationId, column],
            );
            if unique {
                ix.unique();
            }
            manager.create_index(ix).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(TeamSpaceMembers::Table)
                    .col(uuid(TeamSpaceMembers::OrganizationId))
                    .col(uuid(TeamSpaceMembers::TeamSpaceId))
                    .col(uuid(TeamSpaceMembers::DeveloperId))
                    .col(text(TeamSpaceMembers::Role))
                    .col(timestamp_with_time_zone(TeamSpaceMembers::CreatedAt))
                    .col(timestamp_with_time_zone(TeamSpaceMembers::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_team_space_members")
                            .col(TeamSpaceMembers::OrganizationId)
                            .col(TeamSpaceMembers::TeamSpaceId)
                            .col(TeamSpaceMembers::DeveloperId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_team_space_members_team_space")
                            .from(
                                TeamSpaceMembers::Table,
                                (
                                    TeamSpaceMembers::OrganizationId,
                                    TeamSpaceMembers::TeamSpaceId,
                                ),
                            )
                            .to(
                                TeamSpaces::Table,
                                (TeamSpaces::OrganizationId, TeamSpaces::Id),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_team_space_members_developer")
                            .from(
                                TeamSpaceMembers::Table,
                                (
                                    TeamSpaceMembers::OrganizationId,
                                    TeamSpaceMembers::DeveloperId,
                                ),
                            )
                            .to(
                                Developers::Table,
                                (Developers::OrganizationId, Developers::Id),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // The primary key serves lookups by team space; this one serves "teams of a developer"
        // and the cascade when a developer is deleted.
        manager
            .create_index(index(
                "ix_team_space_members_developer",
                TeamSpaceMembers::Table,
                [
                    TeamSpaceMembers::OrganizationId,
                    TeamSpaceMembers::DeveloperId,
                ],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TeamSpaceMembers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TeamSpaces::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }
}
