//! Creates `developers`: a person's membership of one organization.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261121_000001_create_organizations::Organizations;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Developers {
    Table,
    OrganizationId,
    Id,
    Email,
    Name,
    Role,
    AuthSubject,
    DeactivatedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Developers::Table)
                    .col(uuid(Developers::OrganizationId))
                    .col(uuid(Developers::Id))
                    .col(text(Developers::Email))
                    .col(text(Developers::Name))
                    .col(text(Developers::Role))
                    .col(text(Developers::AuthSubject))
                    .col(timestamp_with_time_zone_null(Developers::DeactivatedAt))
                    .col(timestamp_with_time_zone(Developers::CreatedAt))
                    .col(timestamp_with_time_zone(Developers::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_developers")
                            .col(Developers::OrganizationId)
                            .col(Developers::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_developers_organization")
                            .from(Developers::Table, Developers::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        let indexes = [
            (Developers::Email, "uq_developers_email", true),
            (Developers::AuthSubject, "uq_developers_auth_subject", true),
            (Developers::Name, "ix_developers_name", false),
            (Developers::CreatedAt, "ix_developers_created_at", false),
        ];
        for (column, name, unique) in indexes {
            let mut ix = index(
                name,
                Developers::Table,
                [Developers::OrganizationId, column],
            );
            if unique {
                ix.unique();
            }
            manager.create_index(ix).await?;
        }

        // Deliberately global and not unique: one person (subject) can belong to several
        // organizations, and login lists their memberships by subject.
        manager
            .create_index(index(
                "ix_developers_auth_subject",
                Developers::Table,
                [Developers::AuthSubject],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Developers::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }
}
