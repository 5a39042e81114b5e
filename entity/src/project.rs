//! `projects`: what events are reported against; optionally owned by a team space.
//!
//! The team-space foreign key is deferred in the database, so a service can delete a team space
//! and clear `team_space_id` on its projects in either order inside one transaction.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub team_space_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub slug: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
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
    #[sea_orm(
        belongs_to = "super::team_space::Entity",
        from = "(Column::OrganizationId, Column::TeamSpaceId)",
        to = "(super::team_space::Column::OrganizationId, super::team_space::Column::Id)"
    )]
    TeamSpace,
    #[sea_orm(has_many = "super::api_key::Entity")]
    ApiKey,
    #[sea_orm(has_many = "super::event::Entity")]
    Event,
    #[sea_orm(has_many = "super::event_meta::Entity")]
    EventMeta,
    #[sea_orm(has_many = "super::aggregated_event::Entity")]
    AggregatedEvent,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::team_space::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::TeamSpace.def()
    }
}

impl Related<super::api_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKey.def()
    }
}

impl Related<super::event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Event.def()
    }
}

impl Related<super::event_meta::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::EventMeta.def()
    }
}

impl Related<super::aggregated_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AggregatedEvent.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::ProjectId);
crate::stamped!(crate::ids::ProjectId);
