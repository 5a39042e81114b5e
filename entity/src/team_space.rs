//! `team_spaces`: groups of developers (and optionally projects) inside an organization.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "team_spaces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub slug: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
    #[sea_orm(has_many = "super::team_space_member::Entity")]
    TeamSpaceMember,
    #[sea_orm(has_many = "super::project::Entity")]
    Project,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::team_space_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::TeamSpaceMember.def()
    }
}

impl Related<super::project::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Project.def()
    }
}

impl Related<super::developer::Entity> for Entity {
    fn to() -> RelationDef {
        super::team_space_member::Relation::Developer.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::team_space_member::Relation::TeamSpace.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::TeamSpaceId);
crate::stamped!(crate::ids::TeamSpaceId);
