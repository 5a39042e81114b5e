//! Creates `audit_log`, the append-only record of changes within an organization.

use sea_orm_migration::{prelude::*, schema::*};

use crate::index;
use crate::m20261121_000001_create_organizations::Organizations;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    OrganizationId,
    Id,
    ActorType,
    ActorId,
    Action,
    TargetType,
    TargetId,
    At,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(uuid(AuditLog::OrganizationId))
                    .col(uuid(AuditLog::Id))
                    .col(text(AuditLog::ActorType))
                    // Actor and target carry no foreign keys: the log outlives both.
                    .col(uuid_null(AuditLog::ActorId))
                    .col(text(AuditLog::Action))
                    .col(text(AuditLog::TargetType))
                    .col(uuid_null(AuditLog::TargetId))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(json_binary(AuditLog::Details))
                    .primary_key(
                        Index::create()
                            .name("pk_audit_log")
                            .col(AuditLog::OrganizationId)
                            .col(AuditLog::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audit_log_organization")
                            .from(AuditLog::Table, AuditLog::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "ix_audit_log_at",
                AuditLog::Table,
                [AuditLog::OrganizationId, AuditLog::At],
            ))
            .await?;
        manager
            .create_index(index(
                "ix_audit_log_target",
                AuditLog::Table,
                [AuditLog::OrganizationId, AuditLog::TargetId],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        crate::ATOMIC
    }
}
