//! `deployments`: keyed by the sender's id within the project. A finished status outranks
//! `pending`, and between finished ones the later wins (`status_at`), so statuses converge
//! whatever order they arrive in.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::{DeploymentStatus, EnvironmentTier};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "deployments")]
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
    pub environment: String,
    pub tier: EnvironmentTier,
    pub status: DeploymentStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub sha: Option<String>,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub status_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

crate::belongs_to!(Project => project(ProjectId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::DeploymentId);
