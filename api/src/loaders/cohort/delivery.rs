//! The cohorts of the delivery data: repositories, pull requests, reviews,
//! deployments, incidents and identities, and the delivery lists of the
//! project and developer cohorts. Nested lists load as every other nested
//! list does (`Nested`: one service call per level, pages cut in SQL);
//! references (a pull request's author, a review's pull request) load for
//! the whole cohort with one DataLoader call, so a level costs one
//! statement per reference whatever its row count.

mod code;
mod releases;

pub use code::{PullRequestCohort, RepositoryCohort, ReviewCohort};
pub use releases::{Causes, DeploymentCohort, IncidentCohort, Shipped};

use std::{collections::HashMap, hash::Hash, sync::Arc};

use entity::{
    deployment, developer, identity, incident, pull_request, pull_request_review, repository,
};
use uuid::Uuid;

use super::{
    ChildPage, Children, DeveloperCohort, Nested, ProjectCohort, Refs, RefsMemo, distinct,
    load_refs,
};
use crate::{
    error::AppResult,
    ids::{DeveloperId, ProjectId},
    loaders::Loaders,
    pagination::PageRequest,
    service::delivery::read::{self, PullRequestFilter},
};

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
