//! Creates `api_keys` and the global prefix lookup `api_key_prefixes`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261121_000001_create_organizations::Organizations;
use crate::m20261121_000004_create_projects::Projects;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    OrganizationId,
    Id,
    ProjectId,
    Name,
    Prefix,
    SecretHash,
    Scopes,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ApiKeyPrefixes {
    Table,
    Prefix,
    OrganizationId,
    ApiKeyId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(uuid(ApiKeys::OrganizationId))
                    .col(uuid(ApiKeys::Id))
                    .col(uuid_null(ApiKeys::ProjectId))
                    .col(text(ApiKeys::Name))
                    .col(text(ApiKeys::Prefix))
                    .col(text(ApiKeys::SecretHash))
                    .col(json_binary(ApiKeys::Scopes))
                    // No foreign key: a key (and its audit trail) outlives its creator.
                    .col(uuid_null(ApiKeys::CreatedBy))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone(ApiKeys::UpdatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_api_keys")
                            .col(ApiKeys::OrganizationId)
                            .col(ApiKeys::Id),
                    )
                    // Organization-wide keys have no project, so only this removes them with
                    // their organization.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_organization")
                            .from(ApiKeys::Table, ApiKeys::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_project")
                            .from(
                                ApiKeys::Table,
                                (ApiKeys::OrganizationId, ApiKeys::ProjectId),
                            )
                            .to(Projects::Table, (Projects::OrganizationId, Projects::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_api_keys_prefix",
                    ApiKeys::Table,
                    [ApiKeys::OrganizationId, ApiKeys::Prefix],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        // Serves listing a project's keys and the cascade when a project is deleted.
        manager
            .create_index(index(
                "ix_api_keys_project",
                ApiKeys::Table,
                [ApiKeys::OrganizationId, ApiKeys::ProjectId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeyPrefixes::Table)
                    .col(text(ApiKeyPrefixes::Prefix))
                    .col(uuid(ApiKeyPrefixes::OrganizationId))
                    .col(uuid(ApiKeyPrefixes::ApiKeyId))
                    .col(timestamp_with_time_zone(ApiKeyPrefixes::CreatedAt))
                    // The one key that does not lead with organization_id: an incoming API key
                    // is resolved to its tenant through it.
                    .primary_key(
                        Index::create()
                            .name("pk_api_key_prefixes")
                            .col(ApiKeyPrefixes::Prefix),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_key_prefixes_api_key")
                            .from(
                                ApiKeyPrefixes::Table,
                                (ApiKeyPrefixes::OrganizationId, ApiKeyPrefixes::ApiKeyId),
                            )
                            .to(ApiKeys::Table, (ApiKeys::OrganizationId, ApiKeys::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Serves the cascade when an API key is deleted.
        manager
            .create_index(index(
                "ix_api_key_prefixes_api_key",
                ApiKeyPrefixes::Table,
                [ApiKeyPrefixes::OrganizationId, ApiKeyPrefixes::ApiKeyId],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeyPrefixes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }
}
