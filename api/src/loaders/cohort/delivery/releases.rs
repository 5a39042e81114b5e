//! The cohorts of releases: deployments, the pull requests they shipped,
//! and the incidents they caused.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use entity::{deployment, incident, pull_request, repository};
use uuid::Uuid;

use super::{
    PageOf, PullRequestCohort, Refs, RefsMemo, RepositoryCohort, cohort_of_pages, load_refs,
    refs_of,
};
use crate::{
    error::AppResult,
    ids::{DeploymentId, ProjectId, RepositoryId},
    loaders::{
        Loaders,
        cohort::{Memo, Nested, distinct},
    },
    pagination::PageRequest,
    service::delivery::read::{self, PullRequestFilter},
};

/// Shipped pull request numbers by deployment.
pub type Shipped = Arc<HashMap<Uuid, Vec<i32>>>;

#[derive(Default)]
pub struct DeploymentCohort {
    ids: Vec<DeploymentId>,
    repository_ids: Vec<RepositoryId>,
    repositories: RefsMemo<RepositoryId, repository::Model, RepositoryCohort>,
    shipped: Memo<(), Shipped>,
    pull_requests: Nested<DeploymentId, PullRequestFilter, pull_request::Model, PullRequestCohort>,
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

    /// The shipped pull requests that have arrived, a page for each
    /// deployment of the cohort, in one statement.
    pub async fn pull_requests(
        &self,
        loaders: &Loaders,
        filter: PullRequestFilter,
        page: PageRequest,
    ) -> PageOf<DeploymentId, pull_request::Model, PullRequestCohort> {
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<DeploymentId>, filter: PullRequestFilter, page: PageRequest| async move {
            read::pull_requests_of_deployments(ctx, db, &ids, &filter, &page).await
        };
        let cohort = |pages: &HashMap<_, _>| cohort_of_pages(pages, PullRequestCohort::of);
        let lists = &self.pull_requests;
        lists.get(&self.ids, filter, page, fetch, cohort).await
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
