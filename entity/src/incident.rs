//! `incidents`: keyed by the sender's id within the project; `caused_by` names the deployment
//! that caused it by that deployment's external id, which may arrive later.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "incidents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub project_id: Uuid,
    pub repository_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub external_id: String,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    pub opened_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub caused_by: Option<String>,
    pub source_updated_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

crate::belongs_to!(Project => project(ProjectId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::IncidentId);
