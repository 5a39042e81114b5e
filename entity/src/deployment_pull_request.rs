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

/// The pull request a row names, once it has arrived: not a foreign key (the
/// deployment may come first), so not a `Relation`, but joinable all the same.
pub fn pull_request() -> RelationDef {
    Entity::belongs_to(super::pull_request::Entity)
        .from((
            Column::OrganizationId,
            Column::RepositoryId,
            Column::PullRequestNumber,
        ))
        .to((
            super::pull_request::Column::OrganizationId,
            super::pull_request::Column::RepositoryId,
            super::pull_request::Column::Number,
        ))
        .into()
}

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity);
