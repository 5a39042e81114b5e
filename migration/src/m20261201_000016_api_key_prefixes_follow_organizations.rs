//! `api_key_prefixes` hangs off `organizations` instead of `api_keys`.
//!
//! On Citus the prefix lookup is a reference table (an incoming key names no
//! tenant yet) and `api_keys` is distributed, and a foreign key from a
//! reference table to a distributed one cannot exist. The service now deletes
//! a key's prefix row itself whenever the key goes (see
//! `service::api_key::project_deleting`); the organization's cascade still
//! removes them all with it.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::index;
use crate::m20261121_000001_create_organizations::Organizations;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    OrganizationId,
    Id,
}

#[derive(DeriveIden)]
enum ApiKeyPrefixes {
    Table,
    Prefix,
    OrganizationId,
    ApiKeyId,
    CreatedAt,
}

const TO_KEY: &str = "fk_api_key_prefixes_api_key";
const TO_ORG: &str = "fk_api_key_prefixes_organization";

fn to_organization() -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(TO_ORG)
        .from(ApiKeyPrefixes::Table, ApiKeyPrefixes::OrganizationId)
        .to(Organizations::Table, Organizations::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn to_key() -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(TO_KEY)
        .from(
            ApiKeyPrefixes::Table,
            (ApiKeyPrefixes::OrganizationId, ApiKeyPrefixes::ApiKeyId),
        )
        .to(ApiKeys::Table, (ApiKeys::OrganizationId, ApiKeys::Id))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// Swaps one foreign key of `api_key_prefixes` for another. SQLite cannot
/// alter a table's foreign keys, so there the table is rebuilt around it.
async fn swap(
    manager: &SchemaManager<'_>,
    drop: &str,
    mut add: ForeignKeyCreateStatement,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Sqlite {
        manager
            .drop_foreign_key(
                ForeignKey::drop()
                    .name(drop)
                    .table(ApiKeyPrefixes::Table)
                    .to_owned(),
            )
            .await?;
        return manager.create_foreign_key(add).await;
    }
    let next = Alias::new("api_key_prefixes_next");
    manager
        .create_table(
            Table::create()
                .table(next.clone())
                .col(text(ApiKeyPrefixes::Prefix))
                .col(uuid(ApiKeyPrefixes::OrganizationId))
                .col(uuid(ApiKeyPrefixes::ApiKeyId))
                .col(timestamp_with_time_zone(ApiKeyPrefixes::CreatedAt))
                .primary_key(
                    Index::create()
                        .name("pk_api_key_prefixes")
                        .col(ApiKeyPrefixes::Prefix),
                )
                .foreign_key(&mut add)
                .to_owned(),
        )
        .await?;
    let db = manager.get_connection();
    db.execute_unprepared(
        "INSERT INTO api_key_prefixes_next (prefix, organization_id, api_key_id, created_at) \
         SELECT prefix, organization_id, api_key_id, created_at FROM api_key_prefixes",
    )
    .await?;
    manager
        .drop_table(Table::drop().table(ApiKeyPrefixes::Table).to_owned())
        .await?;
    manager
        .rename_table(
            Table::rename()
                .table(next, ApiKeyPrefixes::Table)
                .to_owned(),
        )
        .await?;
    // The index went with the old table. It serves deleting a key's prefix.
    manager
        .create_index(index(
            "ix_api_key_prefixes_api_key",
            ApiKeyPrefixes::Table,
            [ApiKeyPrefixes::OrganizationId, ApiKeyPrefixes::ApiKeyId],
        ))
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        swap(manager, TO_KEY, to_organization()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Prefix rows of keys that are gone would break the old key.
        manager
            .get_connection()
            .execute_unprepared(
                "DELETE FROM api_key_prefixes WHERE NOT EXISTS (SELECT 1 FROM api_keys k \
                 WHERE k.organization_id = api_key_prefixes.organization_id \
                 AND k.id = api_key_prefixes.api_key_id)",
            )
            .await?;
        swap(manager, TO_ORG, to_key()).await
    }
}
