//! `webhook_deliveries`: the delivery ids a repository's webhook has sent, so that a redelivery
//! is acknowledged without being applied twice.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub repository_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub delivery_id: String,
    #[sea_orm(column_type = "Text")]
    pub event: String,
    pub received_at: DateTimeUtc,
}

crate::belongs_to!(Repository => repository(RepositoryId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::WebhookDeliveryId);
