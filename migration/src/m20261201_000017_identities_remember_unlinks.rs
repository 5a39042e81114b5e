//! When an admin last unlinked an identity: an email identity an admin has
//! unlinked no longer links itself again to the developer with that email
//! (when it is next seen, or when a developer gets that email); only
//! `linkIdentity` links it again. NULL: never unlinked, or linked since.

use sea_orm_migration::{prelude::*, schema::timestamp_with_time_zone_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Identities {
    Table,
    UnlinkedAt,
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
                    .table(Identities::Table)
                    .add_column(timestamp_with_time_zone_null(Identities::UnlinkedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Identities::Table)
                    .drop_column(Identities::UnlinkedAt)
                    .to_owned(),
            )
            .await
    }
}
