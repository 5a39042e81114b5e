//! Gives every event the source that sent it (`source_id`: the API key, the
//! developer who used `recordEvents`, or the nil id for the system) and makes
//! client ids unique per source rather than per project, so that one sender
//! cannot pre-claim the id another will send and have the real event counted
//! as a duplicate. Events stored before have no known source (NULL); a NULL
//! never equals another, so their ids no longer block anyone's.

use sea_orm_migration::prelude::*;

use crate::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    OrganizationId,
    ProjectId,
    SourceId,
    ClientEventId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(ColumnDef::new(Events::SourceId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_events_client_event_id")
                    .table(Events::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_events_client_event_id",
                    Events::Table,
                    [
                        Events::OrganizationId,
                        Events::ProjectId,
                        Events::SourceId,
                        Events::ClientEventId,
                    ],
                )
                .unique()
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("uq_events_client_event_id")
                    .table(Events::Table)
                    .to_owned(),
            )
            .await?;
        // Ids that became unique per source may repeat per project: keep the
        // first of each before the old key comes back.
        manager
            .get_connection()
            .execute_unprepared(
                r#"DELETE FROM "events" WHERE EXISTS (
                     SELECT 1 FROM "events" AS "first"
                     WHERE "first"."organization_id" = "events"."organization_id"
                       AND "first"."project_id" = "events"."project_id"
                       AND "first"."client_event_id" = "events"."client_event_id"
                       AND "first"."id" < "events"."id")"#,
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_events_client_event_id",
                    Events::Table,
                    [
                        Events::OrganizationId,
                        Events::ProjectId,
                        Events::ClientEventId,
                    ],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::SourceId)
                    .to_owned(),
            )
            .await
    }
}
