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

// Both relations are composite so that a join can never cross organizations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::team_space::Entity",
        from = "(Column::OrganizationId, Column::TeamSpaceId)",
        to = "(super::team_space::Column::OrganizationId, super::team_space::Column::Id)",
        on_delete = "Cascade"
    )]
    TeamSpace,
    #[sea_orm(
        belongs_to = "super::developer::Entity",
        from = "(Column::OrganizationId, Column::DeveloperId)",
        to = "(super::developer::Column::OrganizationId, super::developer::Column::Id)",
        on_delete = "Cascade"
    )]
    Developer,
}

impl Related<super::team_space::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::TeamSpace.def()
    }
}

impl Related<super::developer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Developer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity);
