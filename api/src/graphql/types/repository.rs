//! `Repository`: a project's source repository. Its webhook secret is
//! never readable, sealed or not.

use crate::ids::GlobalId as _;

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::repository;

use super::{
    Project, PullRequest, PullRequestFilterInput, child_connection, page_args, referenced,
};
use crate::{
    error::AppError,
    graphql::{connection::Conn, order::ListOrder, request::request},
    ids::{ProjectId, RepositoryId},
    loaders::RepositoryCohort,
    service::delivery::read::Unfiltered,
};

/// Where a repository lives.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Provider")]
pub enum RepositoryProvider {
    Github,
    Gitlab,
    Generic,
}

super::cohort_object!(
    Repository,
    repository,
    RepositoryCohort,
    Unfiltered<repository::Entity>
);

#[Object]
impl Repository {
    pub async fn id(&self) -> ID {
        RepositoryId::from_db(self.row.id).to_global()
    }
    async fn provider(&self) -> RepositoryProvider {
        self.row.provider.into()
    }
    /// The provider's own id of the repository.
    async fn external_id(&self) -> &str {
        &self.row.external_id
    }
    /// `owner/name`.
    async fn full_name(&self) -> &str {
        &self.row.full_name
    }
    async fn default_branch(&self) -> &str {
        &self.row.default_branch
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    async fn project(&self, ctx: &Context<'_>) -> Result<Project> {
        let id = Some(ProjectId::from_db(self.row.project_id));
        let found = referenced(ctx, id, |rq| self.cohort.projects(&rq.loaders)).await?;
        Ok(found.ok_or_else(|| AppError::not_found("project"))?)
    }

    /// Pull requests of this repository. `orderBy`: `NAME` is the title,
    /// `CREATED_AT` the time it was opened; without `orderBy`, the most
    /// recently opened first.
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
            &RepositoryId::from_db(self.row.id),
            field,
        ))
    }
}
