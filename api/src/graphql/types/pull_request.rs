//! `PullRequest`: one per repository and number, with the times of its
//! way to merge, and its filters.

use crate::ids::GlobalId as _;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::pull_request;

use super::{
    Developer, Identity, Repository, Review, child_connection, metrics::check_list_len, nullable,
    page_args, referenced,
};
use crate::{
    config::Limits,
    error::{AppError, AppResult},
    graphql::{connection::Conn, order::ListOrder, request::request},
    ids::{DeveloperId, IdentityId, PullRequestId, RepositoryId},
    loaders::PullRequestCohort,
    service::delivery::read::{PullRequestFilter, Unfiltered},
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PullRequestState")]
pub enum PullRequestState {
    Open,
    Closed,
    Merged,
}

super::cohort_object!(
    PullRequest,
    pull_request,
    PullRequestCohort,
    Unfiltered<pull_request::Entity>
);

#[Object]
impl PullRequest {
    pub async fn id(&self) -> ID {
        PullRequestId::from_db(self.row.id).to_global()
    }
    /// Its number in its repository.
    async fn number(&self) -> i32 {
        self.row.number
    }
    async fn title(&self) -> &str {
        &self.row.title
    }
    async fn state(&self) -> PullRequestState {
        self.row.state.into()
    }
    /// The developer who opened it, once their identity is linked to one.
    async fn author(&self, ctx: &Context<'_>) -> Option<Developer> {
        let id = self.row.author_id.map(DeveloperId::from_db);
        nullable(ctx, id, |rq| self.cohort.authors(&rq.loaders)).await
    }
    /// How the source named who opened it.
    async fn author_identity(&self, ctx: &Context<'_>) -> Option<Identity> {
        let id = self.row.author_identity_id.map(IdentityId::from_db);
        nullable(ctx, id, |rq| self.cohort.author_identities(&rq.loaders)).await
    }
    async fn opened_at(&self) -> DateTime<Utc> {
        self.row.opened_at
    }
    async fn first_commit_at(&self) -> Option<DateTime<Utc>> {
        self.row.first_commit_at
    }
    async fn first_review_at(&self) -> Option<DateTime<Utc>> {
        self.row.first_review_at
    }
    async fn approved_at(&self) -> Option<DateTime<Utc>> {
        self.row.approved_at
    }
    async fn merged_at(&self) -> Option<DateTime<Utc>> {
        self.row.merged_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.row.closed_at
    }
    async fn additions(&self) -> i32 {
        self.row.additions
    }
    async fn deletions(&self) -> i32 {
        self.row.deletions
    }
    async fn changed_files(&self) -> i32 {
        self.row.changed_files
    }

    async fn repository(&self, ctx: &Context<'_>) -> Result<Repository> {
        let id = Some(RepositoryId::from_db(self.row.repository_id));
        let found = referenced(ctx, id, |rq| self.cohort.repositories(&rq.loaders)).await?;
        Ok(found.ok_or_else(|| AppError::not_found("repository"))?)
    }

    /// Reviews of this pull request, the most recently submitted first.
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Review>> {
        let rq = request(ctx)?;
        let order = Some(ListOrder::NEWEST_FIRST);
        let page = rq.page(page_args!(first, after, last, before), order)?;
        let field = page.order.field;
        let children = self.cohort.reviews(&rq.loaders, page).await?;
        let parent = PullRequestId::from_db(self.row.id);
        Ok(child_connection(&children, &parent, field))
    }
}

#[derive(InputObject, Default)]
#[graphql(name = "PullRequestFilter")]
pub struct PullRequestFilterInput {
    /// Only pull requests in one of these states.
    pub state: Option<Vec<PullRequestState>>,
    /// Only pull requests this developer opened.
    pub author_id: Option<ID>,
    /// Only pull requests merged at or after this time.
    pub merged_from: Option<DateTime<Utc>>,
    /// Only pull requests merged before this time.
    pub merged_to: Option<DateTime<Utc>>,
}

impl PullRequestFilterInput {
    /// A malformed `authorId` (or one of another type) is BAD_USER_INPUT;
    /// one of no developer here, another organization's included, matches
    /// nothing.
    pub fn into_filter(self, limits: &Limits) -> AppResult<PullRequestFilter> {
        check_list_len(
            "filter.state",
            self.state.as_deref(),
            limits.max_filter_values,
        )?;
        Ok(PullRequestFilter {
            states: self.state.map(|s| s.into_iter().map(Into::into).collect()),
            author: self
                .author_id
                .map(|id| DeveloperId::from_global(&id))
                .transpose()?,
            merged_from: self.merged_from,
            merged_to: self.merged_to,
        })
    }
}

/// `PullRequestFilter` without the author, whom the list already names.
#[derive(InputObject, Default)]
#[graphql(name = "DeveloperPullRequestFilter")]
pub struct DeveloperPullRequestFilterInput {
    /// Only pull requests in one of these states.
    pub state: Option<Vec<PullRequestState>>,
    /// Only pull requests merged at or after this time.
    pub merged_from: Option<DateTime<Utc>>,
    /// Only pull requests merged before this time.
    pub merged_to: Option<DateTime<Utc>>,
}

impl DeveloperPullRequestFilterInput {
    pub fn into_filter(self, limits: &Limits) -> AppResult<PullRequestFilter> {
        let full = PullRequestFilterInput {
            state: self.state,
            author_id: None,
            merged_from: self.merged_from,
            merged_to: self.merged_to,
        };
        full.into_filter(limits)
    }
}
