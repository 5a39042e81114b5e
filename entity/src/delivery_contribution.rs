//! `delivery_contributions`: what each pull request, review, deployment or incident (its
//! `source_id`) adds to `delivery_rollups`, row for row; a change takes these back before
//! adding the new ones.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "delivery_contributions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub source_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub developer_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub tier: String,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub metric: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub bucket: i32,
    pub count: i64,
}

crate::belongs_to!(Organization => organization);

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity);
