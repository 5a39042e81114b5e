//! `delivery_rollups`: the delivery metrics per project, developer, day, environment tier,
//! metric and bucket. Derived data, kept equal to the sum of `delivery_contributions` by the
//! api's `service::delivery::metrics` in every transaction that changes delivery data.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "delivery_rollups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: Uuid,
    /// The developer whose work it counts, or [`crate::UNKNOWN_DEVELOPER`].
    #[sea_orm(primary_key, auto_increment = false)]
    pub developer_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// An [`crate::enums::EnvironmentTier`]'s value for deployment metrics, `""` otherwise.
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub tier: String,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub metric: String,
    /// A duration sketch's bucket, a size class, or 0 for a plain count.
    #[sea_orm(primary_key, auto_increment = false)]
    pub bucket: i32,
    pub count: i64,
}

crate::belongs_to!(Organization => organization);

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity);
