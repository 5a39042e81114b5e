//! `developer_rollups`: daily event counts per developer and event name: the sum of
//! `aggregated_events` over projects (derived data, kept equal to that sum by every write of
//! `aggregated_events` and by project deletion; see the api's `service::rollups`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "developer_rollups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    /// A developer id, or [`crate::UNKNOWN_DEVELOPER`] as in `aggregated_events` (so no
    /// foreign key to `developers`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub developer_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub name: String,
    pub count: i64,
}

crate::belongs_to!(Organization => organization);

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity);
