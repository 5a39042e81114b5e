//! `project_rollups`: daily event counts per project and event name: the sum of `aggregated_events`
//! over developers (derived data, kept equal to that sum by every write of `aggregated_events` and
//! by project deletion; see the api's `service::rollups`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "project_rollups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub name: String,
    pub count: i64,
}

crate::belongs_to!(Project => project(ProjectId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity);
