//! Creates the analytics tables: raw `events`, per-name `event_meta` and daily
//! `aggregated_events`, all owned by a project and deleted with it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261121_000004_create_projects::Projects;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    OrganizationId,
    Id,
    ProjectId,
    DeveloperId,
    Name,
    Properties,
    OccurredAt,
    ReceivedAt,
    ClientEventId,
}

#[derive(DeriveIden)]
enum EventMeta {
    Table,
    OrganizationId,
    ProjectId,
    Name,
    FirstSeen,
    LastSeen,
    TotalCount,
    PropertyKeys,
}

#[derive(DeriveIden)]
enum AggregatedEvents {
    Table,
    OrganizationId,
    ProjectId,
    DeveloperId,
    Name,
    Day,
    Count,
}

/// `(organization_id, project_id)` → `projects`, cascading: the one foreign key of all three.
fn project_fk<T: IntoIden + 'static>(
    name: &str,
    table: T,
    organization_id: T,
    project_id: T,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, (organization_id, project_id))
        .to(Projects::Table, (Projects::OrganizationId, Projects::Id))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(uuid(Events::OrganizationId))
                    .col(uuid(Events::Id))
                    .col(uuid(Events::ProjectId))
                    // No foreign key: events are raw history and outlive developers.
                    .col(uuid_null(Events::DeveloperId))
                    .col(text(Events::Name))
                    .col(json_binary(Events::Properties))
                    .col(timestamp_with_time_zone(Events::OccurredAt))
                    .col(timestamp_with_time_zone(Events::ReceivedAt))
                    .col(text(Events::ClientEventId))
                    .primary_key(
                        Index::create()
                            .name("pk_events")
                            .col(Events::OrganizationId)
                            .col(Events::Id),
                    )
                    .foreign_key(&mut project_fk(
                        "fk_events_project",
                        Events::Table,
                        Events::OrganizationId,
                        Events::ProjectId,
                    ))
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
                        Events::ClientEventId,
                    ],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_events_occurred_at",
                Events::Table,
                [Events::OrganizationId, Events::OccurredAt],
            ))
            .await?;
        // Also serves the cascade from projects.
        manager
            .create_index(index(
                "ix_events_project_occurred_at",
                Events::Table,
                [
                    Events::OrganizationId,
                    Events::ProjectId,
                    Events::OccurredAt,
                ],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EventMeta::Table)
                    .col(uuid(EventMeta::OrganizationId))
                    .col(uuid(EventMeta::ProjectId))
                    .col(text(EventMeta::Name))
                    .col(timestamp_with_time_zone(EventMeta::FirstSeen))
                    .col(timestamp_with_time_zone(EventMeta::LastSeen))
                    .col(big_integer(EventMeta::TotalCount))
                    .col(json_binary(EventMeta::PropertyKeys))
                    .primary_key(
                        Index::create()
                            .name("pk_event_meta")
                            .col(EventMeta::OrganizationId)
                            .col(EventMeta::ProjectId)
                            .col(EventMeta::Name),
                    )
                    .foreign_key(&mut project_fk(
                        "fk_event_meta_project",
                        EventMeta::Table,
                        EventMeta::OrganizationId,
                        EventMeta::ProjectId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AggregatedEvents::Table)
                    .col(uuid(AggregatedEvents::OrganizationId))
                    .col(uuid(AggregatedEvents::ProjectId))
                    // NOT NULL as part of the key; unknown developers use the nil UUID.
                    .col(uuid(AggregatedEvents::DeveloperId))
                    .col(text(AggregatedEvents::Name))
                    .col(date(AggregatedEvents::Day))
                    .col(big_integer(AggregatedEvents::Count))
                    .primary_key(
                        Index::create()
                            .name("pk_aggregated_events")
                            .col(AggregatedEvents::OrganizationId)
                            .col(AggregatedEvents::ProjectId)
                            .col(AggregatedEvents::DeveloperId)
                            .col(AggregatedEvents::Name)
                            .col(AggregatedEvents::Day),
                    )
                    .foreign_key(&mut project_fk(
                        "fk_aggregated_events_project",
                        AggregatedEvents::Table,
                        AggregatedEvents::OrganizationId,
                        AggregatedEvents::ProjectId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_aggregated_events_day",
                AggregatedEvents::Table,
                [AggregatedEvents::OrganizationId, AggregatedEvents::Day],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_aggregated_events_developer_day",
                AggregatedEvents::Table,
                [
                    AggregatedEvents::OrganizationId,
                    AggregatedEvents::DeveloperId,
                    AggregatedEvents::Day,
                ],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AggregatedEvents::Table.into_iden(),
            EventMeta::Table.into_iden(),
            Events::Table.into_iden(),
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
