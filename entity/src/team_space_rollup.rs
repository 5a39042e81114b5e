//! `team_space_rollups`: daily event counts per team space and event name, the sum of
//! `aggregated_events` over the team space's current members (derived data: ingestion and
//! membership changes keep it equal to that sum).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "team_space_rollups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub team_space_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub name: String,
    pub count: i64,
}

crate::belongs_to!(TeamSpace => team_space(TeamSpaceId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity);
