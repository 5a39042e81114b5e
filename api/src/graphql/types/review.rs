//! `Review`: a review of a pull request. It names its pull request by
//! number and may arrive before it, so `pullRequest` may be null.

use crate::ids::GlobalId as _;

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::pull_request_review;

use super::{Developer, Identity, PullRequest, nullable};
use crate::{
    ids::{DeveloperId, IdentityId, PullRequestId, ReviewId},
    loaders::ReviewCohort,
    service::delivery::read::Unfiltered,
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ReviewState")]
pub enum ReviewState {
    Commented,
    ChangesRequested,
    Approved,
}

super::cohort_object!(
    Review,
    pull_request_review,
    ReviewCohort,
    Unfiltered<pull_request_review::Entity>
);

#[Object]
impl Review {
    pub async fn id(&self) -> ID {
        ReviewId::from_db(self.row.id).to_global()
    }
    async fn state(&self) -> ReviewState {
        self.row.state.into()
    }
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.row.submitted_at
    }
    /// The developer who reviewed, once their identity is linked to one.
    async fn reviewer(&self, ctx: &Context<'_>) -> Option<Developer> {
        let id = self.row.reviewer_id.map(DeveloperId::from_db);
        nullable(ctx, id, |rq| self.cohort.reviewers(&rq.loaders)).await
    }
    /// How the source named the reviewer.
    async fn reviewer_identity(&self, ctx: &Context<'_>) -> Option<Identity> {
        let id = self.row.reviewer_identity_id.map(IdentityId::from_db);
        nullable(ctx, id, |rq| self.cohort.reviewer_identities(&rq.loaders)).await
    }
    /// Null until the pull request itself has arrived.
    async fn pull_request(&self, ctx: &Context<'_>) -> Option<PullRequest> {
        let id = self.row.pull_request_id.map(PullRequestId::from_db);
        nullable(ctx, id, |rq| self.cohort.pull_requests(&rq.loaders)).await
    }
}
