//! `Deployment`: one deployment of a project to an environment, and the
//! pull requests it shipped (by number, since they may not have arrived yet,
//! and as a list of those that have).

use crate::ids::GlobalId as _;

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::deployment;

use super::{
    PullRequest, PullRequestFilterInput, Repository, child_connection, nullable, page_args,
};
use crate::{
    graphql::{connection::Conn, order::ListOrder, request::request},
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
    /// Numbers of the pull requests it shipped, ascending, including those
    /// that have not arrived yet.
    async fn pull_request_numbers(&self, ctx: &Context<'_>) -> Result<Vec<i32>> {
        let rq = request(ctx)?;
        let shipped = self.cohort.shipped(&rq.loaders).await?;
        Ok(shipped.get(&self.row.id).cloned().unwrap_or_default())
    }
    /// The pull requests it shipped that have arrived. `orderBy`: `NAME` is
    /// the title, `CREATED_AT` the time it was opened; without `orderBy`, the
    /// most recently opened first.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn pull_requests(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<PullRequestFilterInput>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<PullRequest>> {
        let rq = request(ctx)?;
        let order = order_by.unwrap_or(ListOrder::NEWEST_FIRST);
        let page = rq.page(page_args!(first, after, last, before), Some(order))?;
        let field = page.order.field;
        let filter = filter.unwrap_or_default().into_filter(&rq.limits)?;
        let children = self.cohort.pull_requests(&rq.loaders, filter, page).await?;
        Ok(child_connection(
            &children,
            &DeploymentId::from_db(self.row.id),
            field,
        ))
    }
}
