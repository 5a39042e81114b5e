//! The cohorts of the delivery data: repositories, pull requests, reviews,
//! deployments, incidents and identities, and the delivery lists of the
//! project and developer cohorts. Nested lists load as every other nested
//! list does (`Nested`: one service call per level, pages cut in SQL);
//! references (a pull request's author, a review's pull request) load for
//! the whole cohort with one DataLoader call, so a level costs one
//! statement per reference whatever its row count.

use std::{
    collections::{HashMap, HashSet},
    hash::Hash,
    sync::Arc,
};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{
    deployment, developer, identity, incident, project, pull_request, pull_request_review,
    repository,
};
use uuid::Uuid;

use super::{ChildPage, Children, DeveloperCohort, Memo, Nested, ProjectCohort, distinct};
use crate::{
    error::{AppError, AppResult},
    ids::{DeploymentId, DeveloperId, IdentityId, ProjectId, PullRequestId, RepositoryId},
    loaders::{ById, Loaders},
    pagination::PageRequest,
    service::delivery::read::{self, PullRequestFilter},
};

/// Rows that a cohort's members refer to by id, loaded for all of them at
/// once, and the cohort they form in their turn.
pub struct Refs<K, M, C> {
    by_id: HashMap<K, M>,
    pub cohort: Arc<C>,
}

impl<K: Hash + Eq, M: Clone, C> Refs<K, M, C> {
    pub fn get(&self, id: K) -> Option<M> {
        self.by_id.get(&id).cloned()
    }
}

type RefsMemo<K, M, C> = Memo<(), Arc<Refs<K, M, C>>>;

/// Loads the rows of `ids` (the whole cohort's references) once per
/// cohort, through the request's DataLoader of their table.
async fn load_refs<K, M, C>(
    memo: &RefsMemo<K, M, C>,
    loader: &DataLoader<ById<K, M>>,
    ids: &[K],
    cohort_of: impl FnOnce(&HashMap<K, M>) -> Arc<C>,
) -> AppResult<Arc<Refs<K, M, C>>>
where
    K: Copy + Hash + Eq + Send + Sync + 'static,
    ById<K, M>: Loader<K, Value = M, Error = AppError>,
{
    memo.get_or_load((), || async {
        let by_id = loader.load_many(ids.iter().copied()).await?;
        let cohort = cohort_of(&by_id);
        Ok(Arc::new(Refs { by_id, cohort }))
    })
    .await
}

/// The cohort the children of every parent form.
fn cohort_of_pages<'a, P, T, C>(
    pages: &'a HashMap<P, ChildPage<T>>,
    of: impl FnOnce(Vec<&'a T>) -> Arc<C>,
) -> Arc<C> {
    of(pages.values().flat_map(|p| p.page.items.iter()).collect())
}

type PageOf<P, T, C> = AppResult<Arc<Children<P, T, C>>>;

/// The delivery lists of a cohort of projects.
#[derive(Default)]
pub struct ProjectDelivery {
    repositories: Nested<Uuid, (), repository::Model, RepositoryCohort>,
    deployments: Nested<Uuid, (), deployment::Model, DeploymentCohort>,
    incidents: Nested<Uuid, (), incident::Model, IncidentCohort>,
}

fn project_ids(ids: Vec<Uuid>) -> Vec<ProjectId> {
    ids.into_iter().map(ProjectId::from_db).collect()
}

impl ProjectCohort {
    pub async fn repositories(
        &self,
        loaders: &Loaders,
        page: PageRequest,
    ) -> PageOf<Uuid, repository::Model, RepositoryCohort> {
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<Uuid>, _: (), page: PageRequest| async move {
            read::repositories_of_projects(ctx, db, &project_ids(ids), &page).await
        };
        let cohort = |pages: &HashMap<_, _>| cohort_of_pages(pages, RepositoryCohort::of);
        let lists = &self.delivery.repositories;
        lists.get(&self.ids, (), page, fetch, cohort).await
    }

    pub async fn deployments(
        &self,
        loaders: &Loaders,
        page: PageRequest,
    ) -> PageOf<Uuid, deployment::Model, DeploymentCohort> {
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<Uuid>, _: (), page: PageRequest| async move {
            read::deployments_of_projects(ctx, db, &project_ids(ids), &page).await
        };
        let cohort = |pages: &HashMap<_, _>| cohort_of_pages(pages, DeploymentCohort::of);
        let lists = &self.delivery.deployments;
        lists.get(&self.ids, (), page, fetch, cohort).await
    }

    pub async fn incidents(
        &self,
        loaders: &Loaders,
        page: PageRequest,
    ) -> PageOf<Uuid, incident::Model, IncidentCohort> {
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<Uuid>, _: (), page: PageRequest| async move {
            read::incidents_of_projects(ctx, db, &project_ids(ids), &page).await
        };
        let cohort = |pages: &HashMap<_, _>| cohort_of_pages(pages, IncidentCohort::of);
        let lists = &self.delivery.incidents;
        lists.get(&self.ids, (), page, fetch, cohort).await
    }
}

/// The delivery lists of a cohort of developers.
#[derive(Default)]
pub struct DeveloperDelivery {
    pull_requests: Nested<DeveloperId, PullRequestFilter, pull_request::Model, PullRequestCohort>,
    reviews: Nested<DeveloperId, (), pull_request_review::Model, ReviewCohort>,
    identities: Nested<DeveloperId, (), identity::Model, IdentityCohort>,
}

impl DeveloperCohort {
    pub async fn pull_requests(
        &self,
        loaders: &Loaders,
        filter: PullRequestFilter,
        page: PageRequest,
    ) -> PageOf<DeveloperId, pull_request::Model, PullRequestCohort> {
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<DeveloperId>, filter: PullRequestFilter, page: PageRequest| async move {
            read::pull_requests_of_developers(ctx, db, &ids, &filter, &page).await
        };
        let cohort = |pages: &HashMap<_, _>| cohort_of_pages(pages, PullRequestCohort::of);
        let lists = &self.delivery.pull_requests;
        lists.get(&self.ids, filter, page, fetch, cohort).await
    }

    pub async fn reviews(
        &self,
        loaders: &Loaders,
        page: PageRequest,
    ) -> PageOf<DeveloperId, pull_request_review::Model, ReviewCohort> {
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<DeveloperId>, _: (), page: PageRequest| async move {
            read::reviews_of_developers(ctx, db, &ids, &page).await
        };
        let cohort = |pages: &HashMap<_, _>| cohort_of_pages(pages, ReviewCohort::of);
        let lists = &self.delivery.reviews;
        lists.get(&self.ids, (), page, fetch, cohort).await
    }

    pub async fn identities(
        &self,
        loaders: &Loaders,
        page: PageRequest,
    ) -> PageOf<DeveloperId, identity::Model, IdentityCohort> {
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<DeveloperId>, _: (), page: PageRequest| async move {
            read::identities_of_developers(ctx, db, &ids, &page).await
        };
        let cohort = |pages: &HashMap<_, _>| cohort_of_pages(pages, IdentityCohort::of);
        let lists = &self.delivery.identities;
        lists.get(&self.ids, (), page, fetch, cohort).await
    }
}

/// The distinct ids a cohort's rows refer to, leaving out absent ones.
fn refs_of<'a, M: 'a, K: Copy + Hash + Eq>(
    rows: &[&'a M],
    key: impl Fn(&M) -> Option<Uuid>,
    wrap: fn(Uuid) -> K,
) -> Vec<K> {
    distinct(rows.iter().filter_map(|r| key(r)).map(wrap))
}

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

/// Shipped pull request numbers by deployment.
pub type Shipped = Arc<HashMap<Uuid, Vec<i32>>>;

#[derive(Default)]
pub struct DeploymentCohort {
    ids: Vec<DeploymentId>,
    repository_ids: Vec<RepositoryId>,
    repositories: RefsMemo<RepositoryId, repository::Model, RepositoryCohort>,
    shipped: Memo<(), Shipped>,
}

impl DeploymentCohort {
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a deployment::Model>) -> Arc<Self> {
        let rows: Vec<_> = rows.into_iter().collect();
        Arc::new(DeploymentCohort {
            ids: refs_of(&rows, |r| Some(r.id), DeploymentId::from_db),
            repository_ids: refs_of(&rows, |r| r.repository_id, RepositoryId::from_db),
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

    /// The pull request numbers every deployment of the cohort shipped,
    /// ascending, in one statement.
    pub async fn shipped(&self, loaders: &Loaders) -> AppResult<Shipped> {
        self.shipped
            .get_or_load((), || async {
                let rows = read::shipped_by_deployments(&loaders.ctx, &loaders.db, &self.ids);
                let mut by_deployment: HashMap<Uuid, Vec<i32>> = HashMap::new();
                for row in rows.await? {
                    let numbers = by_deployment.entry(row.deployment_id).or_default();
                    numbers.push(row.pull_request_number);
                }
                for numbers in by_deployment.values_mut() {
                    numbers.sort_unstable();
                }
                Ok(Arc::new(by_deployment))
            })
            .await
    }
}

/// The deployments a cohort of incidents names as their causes.
pub struct Causes {
    by_key: HashMap<(Uuid, String), deployment::Model>,
    pub cohort: Arc<DeploymentCohort>,
}

impl Causes {
    /// The deployment of `project` whose external id is `external_id`.
    pub fn get(&self, project: Uuid, external_id: &str) -> Option<deployment::Model> {
        self.by_key.get(&(project, external_id.to_owned())).cloned()
    }
}

#[derive(Default)]
pub struct IncidentCohort {
    /// (project, external id of the deployment) of each incident naming one.
    causes: Vec<(Uuid, String)>,
    repository_ids: Vec<RepositoryId>,
    repositories: RefsMemo<RepositoryId, repository::Model, RepositoryCohort>,
    deployments: Memo<(), Arc<Causes>>,
}

impl IncidentCohort {
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a incident::Model>) -> Arc<Self> {
        let rows: Vec<_> = rows.into_iter().collect();
        let mut seen = HashSet::new();
        let causes = rows
            .iter()
            .filter_map(|r| Some((r.project_id, r.caused_by.clone()?)))
            .filter(|key| seen.insert(key.clone()))
            .collect();
        Arc::new(IncidentCohort {
            causes,
            repository_ids: refs_of(&rows, |r| r.repository_id, RepositoryId::from_db),
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

    /// The deployments that caused the cohort's incidents, by project and
    /// external id, in one statement.
    pub async fn causes(&self, loaders: &Loaders) -> AppResult<Arc<Causes>> {
        self.deployments
            .get_or_load((), || async {
                let projects = distinct(self.causes.iter().map(|(p, _)| ProjectId::from_db(*p)));
                let mut names: Vec<String> = self.causes.iter().map(|(_, e)| e.clone()).collect();
                names.sort_unstable();
                names.dedup();
                let (ctx, db) = (&loaders.ctx, &loaders.db);
                let rows = read::deployments_by_external_ids(ctx, db, &projects, &names).await?;
                let wanted: HashSet<&(Uuid, String)> = self.causes.iter().collect();
                let by_key: HashMap<_, _> = rows
                    .into_iter()
                    .map(|d| ((d.project_id, d.external_id.clone()), d))
                    .filter(|(key, _)| wanted.contains(key))
                    .collect();
                let cohort = DeploymentCohort::of(by_key.values());
                Ok(Arc::new(Causes { by_key, cohort }))
            })
            .await
    }
}

#[derive(Default)]
pub struct IdentityCohort {
    developer_ids: Vec<DeveloperId>,
    developers: RefsMemo<DeveloperId, developer::Model, DeveloperCohort>,
}

impl IdentityCohort {
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a identity::Model>) -> Arc<Self> {
        let rows: Vec<_> = rows.into_iter().collect();
        Arc::new(IdentityCohort {
            developer_ids: refs_of(&rows, |r| r.developer_id, DeveloperId::from_db),
            ..Default::default()
        })
    }

    pub async fn developers(
        &self,
        loaders: &Loaders,
    ) -> AppResult<Arc<Refs<DeveloperId, developer::Model, DeveloperCohort>>> {
        let of = |found: &HashMap<_, _>| DeveloperCohort::of(found.values());
        load_refs(
            &self.developers,
            &loaders.developer,
            &self.developer_ids,
            of,
        )
        .await
    }
}
