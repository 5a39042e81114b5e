//! `Deployment`: one deployment of a project to an environment, and the
//! pull requests it shipped (by number: they may not have arrived yet).

use crate::ids::GlobalId as _;

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::deployment;

use super::{Repository, nullable};
use crate::{
    graphql::request::request,
    ids::{DeploymentId, RepositoryId},
    loaders::DeploymentCohort,
    service::delivery::read::Unfiltered,
};

/// What an environment is for, whatever it is called.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::EnvironmentTier")]
pub enum EnvironmentTier {
    Production,
    Staging,
    Testing,
    Development,
    Other,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DeploymentStatus")]
pub enum DeploymentStatus {
    Pending,
    Success,
    Failure,
}

super::cohort_object!(
    Deployment,
    deployment,
    DeploymentCohort,
    Unfiltered<deployment::Entity>
);

#[Object]
impl Deployment {
    pub async fn id(&self) -> ID {
        DeploymentId::from_db(self.row.id).to_global()
    }
    /// The sender's id of the deployment, unique in its project.
    async fn external_id(&self) -> &str {
        &self.row.external_id
    }
    /// The environment's name, as the sender calls it.
    async fn environment(&self) -> &str {
        &self.row.environment
    }
    async fn tier(&self) -> EnvironmentTier {
        self.row.tier.into()
    }
    async fn status(&self) -> DeploymentStatus {
        self.row.status.into()
    }
    /// The commit deployed, when known.
    async fn sha(&self) -> Option<&str> {
        self.row.sha.as_deref()
    }
    async fn started_at(&self) -> DateTime<Utc> {
        self.row.started_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.row.finished_at
    }
    /// The repository it deployed from, when the sender named one.
    async fn repository(&self, ctx: &Context<'_>) -> Option<Repository> {
        let id = self.row.repository_id.map(RepositoryId::from_db);
        nullable(ctx, id, |rq| self.cohort.repositories(&rq.loaders)).await
    }
    /// Numbers of the pull requests it shipped, ascending.
    async fn pull_request_numbers(&self, ctx: &Context<'_>) -> Result<Vec<i32>> {
        let rq = request(ctx)?;
        let shipped = self.cohort.shipped(&rq.loaders).await?;
        Ok(shipped.get(&self.row.id).cloned().unwrap_or_default())
    }
}
