//! Drops `ix_events_occurred_at` (organization, occurred_at): no read path
//! reads raw events, and retention now purges project by project through
//! `ix_events_project_occurred_at`. Every ingested event paid for the
//! index; nothing used it.

use sea_orm_migration::prelude::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    OrganizationId,
    OccurredAt,
}

const NAME: &str = "ix_events_occurred_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Events::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                NAME,
                Events::Table,
                [Events::OrganizationId, Events::OccurredAt],
            ))
            .await
    }
}
