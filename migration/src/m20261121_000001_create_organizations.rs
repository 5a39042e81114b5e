//! Creates `organizations`, the tenant table every other table hangs off.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Organizations {
    Table,
    Id,
    Slug,
    Name,
    TimeZone,
    EventRetentionDays,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(uuid(Organizations::Id))
                    .col(text(Organizations::Slug))
                    .col(text(Organizations::Name))
                    .col(text(Organizations::TimeZone).default("UTC"))
                    .col(integer(Organizations::EventRetentionDays).default(90))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .col(timestamp_with_time_zone(Organizations::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_organizations")
                            .col(Organizations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_organizations_slug",
                    Organizations::Table,
                    [Organizations::Slug],
                )
                .unique()
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Organizations::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }
}
