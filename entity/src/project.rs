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

crate::belongs_to!(Organization => organization, TeamSpace => team_space(TeamSpaceId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::ProjectId);
crate::stamped!(crate::ids::ProjectId);
