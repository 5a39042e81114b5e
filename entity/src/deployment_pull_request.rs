//! `deployment_pull_requests`: the pull requests a deployment shipped, by repository and
//! number (the pull request may arrive after the deployment).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "deployment_pull_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub deployment_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub repository_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub pull_request_number: i32,
}

crate::belongs_to!(Deployment => deployment(DeploymentId), Repository => repository(RepositoryId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity);
