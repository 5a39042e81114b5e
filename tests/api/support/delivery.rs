//! Delivery rows for the read tests: repositories, identities, pull
//! requests, reviews, deployments and incidents, written straight into
//! their tables. Ingestion (webhooks, the delivery API) is written beside
//! the reads; once it is in, these helpers are the one place to switch to
//! it, and the tests above them keep their shape. Until then they are raw
//! writes, like the `raw_*` helpers of `fixtures`, and keep the rows as
//! ingestion would: the organization on every row, lower-cased logins,
//! reviews that name their pull request by number.

use chrono::{DateTime, TimeZone, Utc};
use devgraph::ids::{
    DeploymentId, DeveloperId, IdentityId, IncidentId, OrgId, ProjectId, PullRequestId,
    RepositoryId, ReviewId,
};
use entity::{
    deployment, deployment_pull_request,
    enums::{
        DeploymentStatus, EnvironmentTier, IdentityKind, Provider, PullRequestState, ReviewState,
    },
    identity, incident, pull_request, pull_request_review, repository,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{self, Set},
};

use super::TestApp;

/// What every test repository stores as its sealed webhook secret, so a
/// test can look for it in answers.
pub const SEALED_SECRET: &str = "v1.bm9uY2U.c2VhbGVk";

/// `minutes` after the fixed start of every delivery test's history.
pub fn t(minutes: i64) -> DateTime<Utc> {
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    start + chrono::Duration::minutes(minutes)
}

/// A pull request to write; `new` fills in an open one with no author.
#[derive(Clone, Debug)]
pub struct NewPullRequest {
    pub repository: RepositoryId,
    pub number: i32,
    pub title: String,
    pub state: PullRequestState,
    pub author_identity: Option<IdentityId>,
    pub author: Option<DeveloperId>,
    pub opened_at: DateTime<Utc>,
    pub first_commit_at: Option<DateTime<Utc>>,
    pub first_review_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    pub merged_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub additions: i32,
    pub deletions: i32,
    pub changed_files: i32,
}

impl NewPullRequest {
    pub fn new(repository: RepositoryId, number: i32, title: &str, opened_at: i64) -> Self {
        NewPullRequest {
            repository,
            number,
            title: title.to_owned(),
            state: PullRequestState::Open,
            author_identity: None,
            author: None,
            opened_at: t(opened_at),
            first_commit_at: None,
            first_review_at: None,
            approved_at: None,
            merged_at: None,
            closed_at: None,
            additions: 10 * number,
            deletions: number,
            changed_files: 1 + number % 3,
        }
    }

    /// Opened by `identity`, which is `developer`'s when linked.
    pub fn by(self, identity: IdentityId, developer: Option<DeveloperId>) -> Self {
        NewPullRequest {
            author_identity: Some(identity),
            author: developer,
            ..self
        }
    }

    pub fn merged(self, at: i64) -> Self {
        NewPullRequest {
            state: PullRequestState::Merged,
            merged_at: Some(t(at)),
            closed_at: Some(t(at)),
            ..self
        }
    }

    pub fn closed(self, at: i64) -> Self {
        NewPullRequest {
            state: PullRequestState::Closed,
            closed_at: Some(t(at)),
            ..self
        }
    }
}

/// A review to write: of `number` in `repository`, which is the pull
/// request `pull_request` once that has arrived.
#[derive(Clone, Debug)]
pub struct NewReview {
    pub repository: RepositoryId,
    pub number: i32,
    pub pull_request: Option<PullRequestId>,
    pub reviewer_identity: Option<IdentityId>,
    pub reviewer: Option<DeveloperId>,
    pub state: ReviewState,
    pub submitted_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct NewDeployment {
    pub project: ProjectId,
    pub repository: Option<RepositoryId>,
    pub external_id: String,
    pub environment: String,
    pub tier: EnvironmentTier,
    pub status: DeploymentStatus,
    pub sha: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Numbers of pull requests of `repository` it shipped.
    pub shipped: Vec<i32>,
}

#[derive(Clone, Debug)]
pub struct NewIncident {
    pub project: ProjectId,
    pub repository: Option<RepositoryId>,
    pub external_id: String,
    pub title: String,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub caused_by: Option<String>,
}

/// Writes delivery rows of one organization.
pub struct Delivery<'a> {
    app: &'a TestApp,
    org: OrgId,
}

impl TestApp {
    pub fn delivery(&self, org: OrgId) -> Delivery<'_> {
        Delivery { app: self, org }
    }
}

impl Delivery<'_> {
    fn org(&self) -> ActiveValue<uuid::Uuid> {
        Set(self.org.uuid())
    }

    /// A GitHub repository of `project` (external id `gh:<full name>`),
    /// connected at `t(connected)`.
    pub async fn repository(
        &self,
        project: ProjectId,
        full_name: &str,
        connected: i64,
    ) -> RepositoryId {
        let id = RepositoryId::new();
        repository::ActiveModel {
            organization_id: self.org(),
            id: Set(id.uuid()),
            project_id: Set(project.uuid()),
            provider: Set(Provider::Github),
            external_id: Set(format!("gh:{full_name}")),
            full_name: Set(full_name.to_owned()),
            default_branch: Set("main".to_owned()),
            webhook_secret: Set(SEALED_SECRET.to_owned()),
            created_at: Set(t(connected)),
            updated_at: Set(t(connected)),
        }
        .insert(self.app.db())
        .await
        .expect("write repository");
        id
    }

    /// An identity, first seen at `t(seen)`, linked to `developer` if any.
    pub async fn identity(
        &self,
        kind: IdentityKind,
        value: &str,
        developer: Option<DeveloperId>,
        seen: i64,
    ) -> IdentityId {
        let id = IdentityId::new();
        identity::ActiveModel {
            organization_id: self.org(),
            id: Set(id.uuid()),
            kind: Set(kind),
            value: Set(value.to_owned()),
            developer_id: Set(developer.map(DeveloperId::uuid)),
            unlinked_at: Set(None),
            first_seen_at: Set(t(seen)),
            last_seen_at: Set(t(seen + 60)),
            created_at: Set(t(seen)),
            updated_at: Set(t(seen)),
        }
        .insert(self.app.db())
        .await
        .expect("write identity");
        id
    }

    pub async fn pull_request(&self, pr: NewPullRequest) -> PullRequestId {
        let id = PullRequestId::new();
        pull_request::ActiveModel {
            organization_id: self.org(),
            id: Set(id.uuid()),
            repository_id: Set(pr.repository.uuid()),
            number: Set(pr.number),
            title: Set(pr.title),
            state: Set(pr.state),
            author_identity_id: Set(pr.author_identity.map(IdentityId::uuid)),
            author_id: Set(pr.author.map(DeveloperId::uuid)),
            opened_at: Set(pr.opened_at),
            first_commit_at: Set(pr.first_commit_at),
            first_review_at: Set(pr.first_review_at),
            approved_at: Set(pr.approved_at),
            merged_at: Set(pr.merged_at),
            closed_at: Set(pr.closed_at),
            additions: Set(pr.additions),
            deletions: Set(pr.deletions),
            changed_files: Set(pr.changed_files),
            size_updated_at: Set(Some(pr.opened_at)),
            head_ref: Set(Some(format!("feature-{}", pr.number))),
            merge_commit_sha: Set(None),
            source_updated_at: Set(pr.opened_at),
            created_at: Set(pr.opened_at),
            updated_at: Set(pr.opened_at),
        }
        .insert(self.app.db())
        .await
        .expect("write pull request");
        id
    }

    pub async fn review(&self, review: NewReview) -> ReviewId {
        let id = ReviewId::new();
        pull_request_review::ActiveModel {
            organization_id: self.org(),
            id: Set(id.uuid()),
            repository_id: Set(review.repository.uuid()),
            pull_request_number: Set(review.number),
            pull_request_id: Set(review.pull_request.map(PullRequestId::uuid)),
            external_id: Set(format!("rv-{}", id.uuid().simple())),
            reviewer_identity_id: Set(review.reviewer_identity.map(IdentityId::uuid)),
            reviewer_id: Set(review.reviewer.map(DeveloperId::uuid)),
            state: Set(review.state),
            submitted_at: Set(review.submitted_at),
            source_updated_at: Set(review.submitted_at),
            created_at: Set(review.submitted_at),
            updated_at: Set(review.submitted_at),
        }
        .insert(self.app.db())
        .await
        .expect("write review");
        id
    }

    pub async fn deployment(&self, d: NewDeployment) -> DeploymentId {
        let id = DeploymentId::new();
        deployment::ActiveModel {
            organization_id: self.org(),
            id: Set(id.uuid()),
            project_id: Set(d.project.uuid()),
            repository_id: Set(d.repository.map(RepositoryId::uuid)),
            external_id: Set(d.external_id),
            environment: Set(d.environment),
            tier: Set(d.tier),
            status: Set(d.status),
            sha: Set(d.sha),
            started_at: Set(d.started_at),
            finished_at: Set(d.finished_at),
            status_at: Set(d.finished_at.unwrap_or(d.started_at)),
            created_at: Set(d.started_at),
            updated_at: Set(d.started_at),
        }
        .insert(self.app.db())
        .await
        .expect("write deployment");
        let repository = d.repository.map(RepositoryId::uuid);
        for number in d.shipped {
            let repository = repository.expect("shipped pull requests need a repository");
            deployment_pull_request::ActiveModel {
                organization_id: self.org(),
                deployment_id: Set(id.uuid()),
                repository_id: Set(repository),
                pull_request_number: Set(number),
            }
            .insert(self.app.db())
            .await
            .expect("write shipped pull request");
        }
        id
    }

    pub async fn incident(&self, i: NewIncident) -> IncidentId {
        let id = IncidentId::new();
        incident::ActiveModel {
            organization_id: self.org(),
            id: Set(id.uuid()),
            project_id: Set(i.project.uuid()),
            repository_id: Set(i.repository.map(RepositoryId::uuid)),
            external_id: Set(i.external_id),
            title: Set(i.title),
            opened_at: Set(i.opened_at),
            resolved_at: Set(i.resolved_at),
            caused_by: Set(i.caused_by),
            source_updated_at: Set(i.opened_at),
            created_at: Set(i.opened_at),
            updated_at: Set(i.opened_at),
        }
        .insert(self.app.db())
        .await
        .expect("write incident");
        id
    }
}
