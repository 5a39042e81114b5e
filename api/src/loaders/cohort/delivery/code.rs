//! The cohorts of code review: repositories, their pull requests, and
//! the reviews of those.

use std::{collections::HashMap, sync::Arc};

use entity::{developer, identity, project, pull_request, pull_request_review, repository};

use super::{IdentityCohort, PageOf, Refs, RefsMemo, cohort_of_pages, load_refs, refs_of};
use crate::{
    error::AppResult,
    ids::{DeveloperId, IdentityId, ProjectId, PullRequestId, RepositoryId},
    loaders::{
        Loaders,
        cohort::{DeveloperCohort, Nested, ProjectCohort},
    },
    pagination::PageRequest,
    service::delivery::read::{self, PullRequestFilter},
};

#[derive(Default)]
pub struct RepositoryCohort {
    ids: Vec<RepositoryId>,
    project_ids: Vec<ProjectId>,
    projects: RefsMemo<ProjectId, project::Model, ProjectCohort>,
    pull_requests: Nested<RepositoryId, PullRequestFilter, pull_request::Model, PullRequestCohort>,
}

impl RepositoryCohort {
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a repository::Model>) -> Arc<Self> {
        let rows: Vec<_> = rows.into_iter().collect();
        Arc::new(RepositoryCohort {
            ids: refs_of(&rows, |r| Some(r.id), RepositoryId::from_db),
            project_ids: refs_of(&rows, |r| Some(r.project_id), ProjectId::from_db),
            ..Default::default()
        })
    }

    pub async fn projects(
        &self,
        loaders: &Loaders,
    ) -> AppResult<Arc<Refs<ProjectId, project::Model, ProjectCohort>>> {
        let of = |found: &HashMap<_, _>| ProjectCohort::of(found.values());
        load_refs(&self.projects, &loaders.project, &self.project_ids, of).await
    }

    pub async fn pull_requests(
        &self,
        loaders: &Loaders,
        filter: PullRequestFilter,
        page: PageRequest,
    ) -> PageOf<RepositoryId, pull_request::Model, PullRequestCohort> {
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<RepositoryId>, filter: PullRequestFilter, page: PageRequest| async move {
            read::pull_requests_of_repositories(ctx, db, &ids, &filter, &page).await
        };
        let cohort = |pages: &HashMap<_, _>| cohort_of_pages(pages, PullRequestCohort::of);
        let lists = &self.pull_requests;
        lists.get(&self.ids, filter, page, fetch, cohort).await
    }
}

#[derive(Default)]
pub struct PullRequestCohort {
    ids: Vec<PullRequestId>,
    repository_ids: Vec<RepositoryId>,
    author_ids: Vec<DeveloperId>,
    author_identity_ids: Vec<IdentityId>,
    repositories: RefsMemo<RepositoryId, repository::Model, RepositoryCohort>,
    authors: RefsMemo<DeveloperId, developer::Model, DeveloperCohort>,
    author_identities: RefsMemo<IdentityId, identity::Model, IdentityCohort>,
    reviews: Nested<PullRequestId, (), pull_request_review::Model, ReviewCohort>,
}

impl PullRequestCohort {
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a pull_request::Model>) -> Arc<Self> {
        let rows: Vec<_> = rows.into_iter().collect();
        Arc::new(PullRequestCohort {
            ids: refs_of(&rows, |r| Some(r.id), PullRequestId::from_db),
            repository_ids: refs_of(&rows, |r| Some(r.repository_id), RepositoryId::from_db),
            author_ids: refs_of(&rows, |r| r.author_id, DeveloperId::from_db),
            author_identity_ids: refs_of(&rows, |r| r.author_identity_id, IdentityId::from_db),
            ..Default::default()
        })
    }

    pub async fn repositories(
        &self,
        loaders: &Loaders,
    ) -> AppResult<Arc<Refs<RepositoryId, repository::Model, RepositoryCohort>>> {
        let of = |found: &HashMap<_, _>| RepositoryCohort::of(found.values());
        let ids = &self.repository_ids;
        load_refs(&self.repositories, &loaders.repository, ids, of).await
    }

    pub async fn authors(
        &self,
        loaders: &Loaders,
    ) -> AppResult<Arc<Refs<DeveloperId, developer::Model, DeveloperCohort>>> {
        let of = |found: &HashMap<_, _>| DeveloperCohort::of(found.values());
        load_refs(&self.authors, &loaders.developer, &self.author_ids, of).await
    }

    pub async fn author_identities(
        &self,
        loaders: &Loaders,
    ) -> AppResult<Arc<Refs<IdentityId, identity::Model, IdentityCohort>>> {
        let of = |found: &HashMap<_, _>| IdentityCohort::of(found.values());
        let ids = &self.author_identity_ids;
        load_refs(&self.author_identities, &loaders.identity, ids, of).await
    }

    pub async fn reviews(
        &self,
        loaders: &Loaders,
        page: PageRequest,
    ) -> PageOf<PullRequestId, pull_request_review::Model, ReviewCohort> {
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<PullRequestId>, _: (), page: PageRequest| async move {
            read::reviews_of_pull_requests(ctx, db, &ids, &page).await
        };
        let cohort = |pages: &HashMap<_, _>| cohort_of_pages(pages, ReviewCohort::of);
        self.reviews.get(&self.ids, (), page, fetch, cohort).await
    }
}

#[derive(Default)]
pub struct ReviewCohort {
    pull_request_ids: Vec<PullRequestId>,
    reviewer_ids: Vec<DeveloperId>,
    reviewer_identity_ids: Vec<IdentityId>,
    pull_requests: RefsMemo<PullRequestId, pull_request::Model, PullRequestCohort>,
    reviewers: RefsMemo<DeveloperId, developer::Model, DeveloperCohort>,
    reviewer_identities: RefsMemo<IdentityId, identity::Model, IdentityCohort>,
}

impl ReviewCohort {
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a pull_request_review::Model>) -> Arc<Self> {
        let rows: Vec<_> = rows.into_iter().collect();
        Arc::new(ReviewCohort {
            pull_request_ids: refs_of(&rows, |r| r.pull_request_id, PullRequestId::from_db),
            reviewer_ids: refs_of(&rows, |r| r.reviewer_id, DeveloperId::from_db),
            reviewer_identity_ids: refs_of(&rows, |r| r.reviewer_identity_id, IdentityId::from_db),
            ..Default::default()
        })
    }

    pub async fn pull_requests(
        &self,
        loaders: &Loaders,
    ) -> AppResult<Arc<Refs<PullRequestId, pull_request::Model, PullRequestCohort>>> {
        let of = |found: &HashMap<_, _>| PullRequestCohort::of(found.values());
        let ids = &self.pull_request_ids;
        load_refs(&self.pull_requests, &loaders.pull_request, ids, of).await
    }

    pub async fn reviewers(
        &self,
        loaders: &Loaders,
    ) -> AppResult<Arc<Refs<DeveloperId, developer::Model, DeveloperCohort>>> {
        let of = |found: &HashMap<_, _>| DeveloperCohort::of(found.values());
        load_refs(&self.reviewers, &loaders.developer, &self.reviewer_ids, of).await
    }

    pub async fn reviewer_identities(
        &self,
        loaders: &Loaders,
    ) -> AppResult<Arc<Refs<IdentityId, identity::Model, IdentityCohort>>> {
        let of = |found: &HashMap<_, _>| IdentityCohort::of(found.values());
        let ids = &self.reviewer_identity_ids;
        load_refs(&self.reviewer_identities, &loaders.identity, ids, of).await
    }
}
