//! `team_space_members`: which developers belong to which team space, and as what.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::TeamSpaceRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "team_space_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub team_space_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub developer_id: Uuid,
    pub role: TeamSpaceRole,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

crate::belongs_to!(TeamSpace => team_space(TeamSpaceId), Developer => developer(DeveloperId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity);
