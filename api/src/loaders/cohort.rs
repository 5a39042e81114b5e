//! Cohorts: the objects that one statement loaded (a page of a list, a
//! batch of nested rows, the result of `nodes`). A nested field asked on
//! any member of a cohort loads for every member at once, through the
//! request's DataLoaders, and the other members reuse the result.
//!
//! Why not rely on the DataLoader's timer alone: async-graphql resolves a
//! long list in slices of 32 items, and when building a slice takes longer
//! than the batching delay the batch splits, so the statement count would
//! depend on the row count and on the machine's load. With cohorts it
//! depends only on the depth of the query.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
};

use chrono::NaiveDate;
use entity::{developer, project, team_space};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::{ChildPage, ChildrenKey, Loaders};
use crate::{
    error::{AppError, AppResult},
    ids::{DeveloperId, TeamSpaceId},
    pagination::{Page, PageRequest},
    service::{
        developer::DeveloperFilter,
        metrics::{self, MetricQuery, MetricRow, MetricScope},
        project::ProjectFilter,
        team_space::TeamSpaceFilter,
    },
};

/// Metric rows of a whole cohort, by the team space or project they belong to.
pub type ScopedRows = Arc<HashMap<Uuid, Vec<MetricRow>>>;

/// Daily counts of a cohort of developers.
pub type Activity =
    Arc<std::collections::BTreeMap<Uuid, std::collections::BTreeMap<NaiveDate, i64>>>;

async fn scoped_metrics(
    loaders: &Loaders,
    scope: MetricScope,
    q: &MetricQuery,
) -> AppResult<ScopedRows> {
    let rows = metrics::query(&loaders.scope.ctx, &loaders.scope.db, &scope, q).await?;
    let mut by_scope: HashMap<Uuid, Vec<MetricRow>> = HashMap::new();
    for row in rows {
        if let Some(id) = row.scope {
            by_scope.entry(id).or_default().push(row);
        }
    }
    Ok(Arc::new(by_scope))
}

/// One load per key, shared by whoever asks first and everyone after.
struct Memo<K, V>(Mutex<HashMap<K, Arc<OnceCell<V>>>>);

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo(Mutex::new(HashMap::new()))
    }
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    async fn get_or_load<Fut>(&self, key: K, load: impl FnOnce() -> Fut) -> AppResult<V>
    where
        Fut: Future<Output = AppResult<V>>,
    {
        let cell = {
            let mut map = self
                .0
                .lock()
                .map_err(|_| AppError::internal("cohort memo lock poisoned"))?;
            map.entry(key).or_default().clone()
        };
        cell.get_or_try_init(load).await.cloned()
    }
}

/// The nested rows of a whole cohort: a page per parent, and the cohort
/// the child objects form in their turn.
pub struct Children<P, T, C> {
    pages: HashMap<P, ChildPage<T>>,
    pub cohort: Arc<C>,
}

impl<P: Hash + Eq, T: Clone, C> Children<P, T, C> {
    pub fn page_of(&self, parent: &P) -> ChildPage<T> {
        self.pages
            .get(parent)
            .cloned()
            .unwrap_or_else(|| ChildPage {
                page: Page {
                    items: Vec::new(),
                    has_previous: false,
                    has_next: false,
                },
                total: 0,
            })
    }
}

type Args<F> = (F, PageRequest);

/// Runs one batched load for every parent of a cohort and indexes the pages.
async fn load_pages<P, F, T, L>(
    loader: &async_graphql::dataloader::DataLoader<L>,
    parents: &[P],
    filter: &F,
    page: &PageRequest,
) -> AppResult<HashMap<P, ChildPage<T>>>
where
    P: Copy + Hash + Eq + Send + Sync + 'static,
    F: Clone + Hash + Eq + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
    L: async_graphql::dataloader::Loader<ChildrenKey<P, F>, Value = ChildPage<T>, Error = AppError>,
{
    let keys = parents.iter().map(|parent| ChildrenKey {
        parent: *parent,
        filter: filter.clone(),
        page: page.clone(),
    });
    let found = loader.load_many(keys).await?;
    Ok(found
        .into_iter()
        .map(|(key, page)| (key.parent, page))
        .collect())
}

fn distinct<I: Copy + Hash + Eq>(ids: impl IntoIterator<Item = I>) -> Vec<I> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

#[derive(Default)]
pub struct TeamSpaceCohort {
    ids: Vec<TeamSpaceId>,
    developers:
        Memo<Args<DeveloperFilter>, Arc<Children<TeamSpaceId, developer::Model, DeveloperCohort>>>,
    projects: Memo<Args<ProjectFilter>, Arc<Children<TeamSpaceId, project::Model, ProjectCohort>>>,
    metrics: Memo<MetricQuery, ScopedRows>,
}

impl TeamSpaceCohort {
    /// The metrics of every team space of the cohort, in one statement.
    pub async fn metrics(&self, loaders: &Loaders, q: MetricQuery) -> AppResult<ScopedRows> {
        let scope = MetricScope::TeamSpaces(self.ids.iter().map(|id| id.uuid()).collect());
        self.metrics
            .get_or_load(q.clone(), || scoped_metrics(loaders, scope, &q))
            .await
    }

    pub fn of<'a>(rows: impl IntoIterator<Item = &'a team_space::Model>) -> Arc<Self> {
        Arc::new(TeamSpaceCohort {
            ids: distinct(rows.into_iter().map(|r| TeamSpaceId::from_db(r.id))),
            ..Default::default()
        })
    }

    pub async fn developers(
        &self,
        loaders: &Loaders,
        filter: DeveloperFilter,
        page: PageRequest,
    ) -> AppResult<Arc<Children<TeamSpaceId, developer::Model, DeveloperCohort>>> {
        let key = (filter.clone(), page.clone());
        self.developers
            .get_or_load(key, || async {
                let pages =
                    load_pages(&loaders.team_space_developers, &self.ids, &filter, &page).await?;
                let cohort = DeveloperCohort::of(pages.values().flat_map(|p| p.page.items.iter()));
                Ok(Arc::new(Children { pages, cohort }))
            })
            .await
    }

    pub async fn projects(
        &self,
        loaders: &Loaders,
        filter: ProjectFilter,
        page: PageRequest,
    ) -> AppResult<Arc<Children<TeamSpaceId, project::Model, ProjectCohort>>> {
        let key = (filter.clone(), page.clone());
        self.projects
            .get_or_load(key, || async {
                let pages =
                    load_pages(&loaders.team_space_projects, &self.ids, &filter, &page).await?;
                let cohort = ProjectCohort::of(pages.values().flat_map(|p| p.page.items.iter()));
                Ok(Arc::new(Children { pages, cohort }))
            })
            .await
    }
}

#[derive(Default)]
pub struct DeveloperCohort {
    ids: Vec<DeveloperId>,
    team_spaces:
        Memo<Args<TeamSpaceFilter>, Arc<Children<DeveloperId, team_space::Model, TeamSpaceCohort>>>,
    activity: Memo<(NaiveDate, NaiveDate, Option<Vec<String>>), Activity>,
}

impl DeveloperCohort {
    /// Daily counts of every developer of the cohort, in one statement.
    pub async fn activity(
        &self,
        loaders: &Loaders,
        from: NaiveDate,
        to: NaiveDate,
        event_names: Option<Vec<String>>,
    ) -> AppResult<Activity> {
        let key = (from, to, event_names.clone());
        self.activity
            .get_or_load(key, || async {
                let ids: Vec<Uuid> = self.ids.iter().map(|id| id.uuid()).collect();
                let scope = &loaders.scope;
                let found = metrics::activity(
                    &scope.ctx,
                    &scope.db,
                    &ids,
                    from,
                    to,
                    event_names.as_deref(),
                )
                .await?;
                Ok(Arc::new(found))
            })
            .await
    }

    pub fn of<'a>(rows: impl IntoIterator<Item = &'a developer::Model>) -> Arc<Self> {
        Arc::new(DeveloperCohort {
            ids: distinct(rows.into_iter().map(|r| DeveloperId::from_db(r.id))),
            ..Default::default()
        })
    }

    pub async fn team_spaces(
        &self,
        loaders: &Loaders,
        filter: TeamSpaceFilter,
        page: PageRequest,
    ) -> AppResult<Arc<Children<DeveloperId, team_space::Model, TeamSpaceCohort>>> {
        let key = (filter.clone(), page.clone());
        self.team_spaces
            .get_or_load(key, || async {
                let pages =
                    load_pages(&loaders.developer_team_spaces, &self.ids, &filter, &page).await?;
                let cohort = TeamSpaceCohort::of(pages.values().flat_map(|p| p.page.items.iter()));
                Ok(Arc::new(Children { pages, cohort }))
            })
            .await
    }
}

/// The team spaces of a cohort of projects, with the cohort they form.
pub struct ProjectTeamSpaces {
    by_id: HashMap<TeamSpaceId, team_space::Model>,
    pub cohort: Arc<TeamSpaceCohort>,
}

impl ProjectTeamSpaces {
    pub fn get(&self, id: &TeamSpaceId) -> Option<team_space::Model> {
        self.by_id.get(id).cloned()
    }
}

#[derive(Default)]
pub struct ProjectCohort {
    ids: Vec<Uuid>,
    team_space_ids: Vec<TeamSpaceId>,
    team_spaces: Memo<(), Arc<ProjectTeamSpaces>>,
    metrics: Memo<MetricQuery, ScopedRows>,
}

impl ProjectCohort {
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a project::Model>) -> Arc<Self> {
        let rows: Vec<&project::Model> = rows.into_iter().collect();
        Arc::new(ProjectCohort {
            ids: distinct(rows.iter().map(|r| r.id)),
            team_space_ids: distinct(
                rows.iter()
                    .filter_map(|r| r.team_space_id.map(TeamSpaceId::from_db)),
            ),
            ..Default::default()
        })
    }

    /// The metrics of every project of the cohort, in one statement.
    pub async fn metrics(&self, loaders: &Loaders, q: MetricQuery) -> AppResult<ScopedRows> {
        let scope = MetricScope::Projects(self.ids.clone());
        self.metrics
            .get_or_load(q.clone(), || scoped_metrics(loaders, scope, &q))
            .await
    }

    pub async fn team_spaces(&self, loaders: &Loaders) -> AppResult<Arc<ProjectTeamSpaces>> {
        self.team_spaces
            .get_or_load((), || async {
                let by_id = loaders
                    .team_space
                    .load_many(self.team_space_ids.iter().copied())
                    .await?;
                let cohort = TeamSpaceCohort::of(by_id.values());
                Ok(Arc::new(ProjectTeamSpaces { by_id, cohort }))
            })
            .await
    }
}
