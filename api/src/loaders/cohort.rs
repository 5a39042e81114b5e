//! Cohorts: the objects that one statement loaded (a page of a list, a
//! batch of nested rows, the result of `nodes`). A nested field asked on
//! any member of a cohort loads for every member at once, with one service
//! call (one statement), and the other members reuse the result. This is
//! the one batching mechanism for nested lists; DataLoaders serve only
//! lookups by id (`by_id.rs`).
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

use async_graphql::dataloader::{DataLoader, Loader};
use chrono::NaiveDate;
use entity::{developer, project, team_space};
use tokio::sync::OnceCell;
use uuid::Uuid;

mod delivery;

pub use delivery::{
    Causes, DeploymentCohort, IdentityCohort, IncidentCohort, PullRequestCohort, RepositoryCohort,
    ReviewCohort, Shipped,
};

use super::{ById, Loaders};
use crate::{
    error::{AppError, AppResult},
    ids::{DeveloperId, TeamSpaceId},
    pagination::{ChildRow, Page, PageRequest},
    service::{
        self,
        analytics::{self, MetricQuery, MetricRow, MetricScope},
        delivery::metrics::read::{
            self as delivery_metrics, DeliveryQuery, Figures, Scope as DeliveryScope,
        },
        developer::DeveloperFilter,
        project::ProjectFilter,
        team_space::TeamSpaceFilter,
    },
};

/// Metric rows of a whole cohort, by the team space or project they belong to.
pub type ScopedRows = Arc<HashMap<Uuid, Vec<MetricRow>>>;

/// Delivery periods of a whole cohort, by the team space, project or developer they belong to.
pub type DeliveryPeriods = Arc<HashMap<Uuid, Vec<Figures>>>;

/// The delivery of a cohort's scopes for `q`, loaded once per request.
async fn scoped_delivery(
    memo: &Memo<DeliveryQuery, DeliveryPeriods>,
    loaders: &Loaders,
    scope: DeliveryScope,
    q: DeliveryQuery,
) -> AppResult<DeliveryPeriods> {
    memo.get_or_load(q.clone(), || async move {
        let found = delivery_metrics::query(&loaders.ctx, &loaders.db, &scope, &q).await?;
        Ok(Arc::new(found))
    })
    .await
}

/// Daily counts of a cohort of developers.
pub type Activity =
    Arc<std::collections::BTreeMap<Uuid, std::collections::BTreeMap<NaiveDate, i64>>>;

async fn scoped_metrics(
    loaders: &Loaders,
    scope: MetricScope,
    q: &MetricQuery,
) -> AppResult<ScopedRows> {
    let rows = analytics::query(&loaders.ctx, &loaders.db, &scope, q).await?;
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

/// One parent's page of a nested list, and the list's total for it.
#[derive(Debug, Clone)]
pub struct ChildPage<T> {
    pub page: Page<T>,
    pub total: u64,
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

/// A nested list of a cohort (say the developers of its team spaces): for
/// each (filter, page) asked, one service call fetches every parent's page,
/// cut in SQL, and the children form the next cohort.
pub struct Nested<P, F, T, C>(Memo<ListArgs<F>, SharedChildren<P, T, C>>);

/// A nested list's arguments: its filter and page.
type ListArgs<F> = (F, PageRequest);
type SharedChildren<P, T, C> = Arc<Children<P, T, C>>;

impl<P, F, T, C> Default for Nested<P, F, T, C> {
    fn default() -> Self {
        Nested(Memo::default())
    }
}

impl<P, F, T, C> Nested<P, F, T, C>
where
    P: Copy + Hash + Eq + Into<Uuid>,
    F: Clone + Hash + Eq,
    T: Clone,
{
    async fn get<Fut>(
        &self,
        parents: &[P],
        filter: F,
        page: PageRequest,
        fetch: impl FnOnce(Vec<P>, F, PageRequest) -> Fut,
        cohort_of: impl FnOnce(&HashMap<P, ChildPage<T>>) -> Arc<C>,
    ) -> AppResult<Arc<Children<P, T, C>>>
    where
        Fut: Future<Output = AppResult<Vec<ChildRow<T>>>>,
    {
        let key = (filter.clone(), page.clone());
        self.0
            .get_or_load(key, || async {
                let rows = fetch(parents.to_vec(), filter, page.clone()).await?;
                let pages = pages_by_parent(parents, rows, &page);
                let cohort = cohort_of(&pages);
                Ok(Arc::new(Children { pages, cohort }))
            })
            .await
    }
}

/// Hands each parent its rows, as a page and a total.
fn pages_by_parent<P, T>(
    parents: &[P],
    rows: Vec<ChildRow<T>>,
    page: &PageRequest,
) -> HashMap<P, ChildPage<T>>
where
    P: Copy + Hash + Eq + Into<Uuid>,
{
    let mut by_parent: HashMap<Uuid, Vec<ChildRow<T>>> = HashMap::new();
    for row in rows {
        by_parent.entry(row.parent).or_default().push(row);
    }
    parents
        .iter()
        .map(|parent| {
            let rows = by_parent.remove(&(*parent).into()).unwrap_or_default();
            let total = rows.first().map_or(0, |r| r.total);
            let found = ChildPage {
                page: page.finish_window(rows),
                total,
            };
            (*parent, found)
        })
        .collect()
}

fn distinct<I: Copy + Hash + Eq>(ids: impl IntoIterator<Item = I>) -> Vec<I> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

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

#[derive(Default)]
pub struct TeamSpaceCohort {
    ids: Vec<TeamSpaceId>,
    developers: Nested<TeamSpaceId, DeveloperFilter, developer::Model, DeveloperCohort>,
    projects: Nested<TeamSpaceId, ProjectFilter, project::Model, ProjectCohort>,
    metrics: Memo<MetricQuery, ScopedRows>,
    delivery_metrics: Memo<DeliveryQuery, DeliveryPeriods>,
}

impl TeamSpaceCohort {
    /// The delivery of every team space of the cohort (its current members' work), in one
    /// statement.
    pub async fn delivery_metrics(
        &self,
        loaders: &Loaders,
        q: DeliveryQuery,
    ) -> AppResult<DeliveryPeriods> {
        let scope = DeliveryScope::TeamSpaces(self.ids.iter().map(|id| id.uuid()).collect());
        scoped_delivery(&self.delivery_metrics, loaders, scope, q).await
    }

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
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<TeamSpaceId>, filter: DeveloperFilter, page: PageRequest| async move {
            service::developer::of_team_spaces(ctx, db, &ids, &filter, &page).await
        };
        let cohort = |pages: &HashMap<_, ChildPage<_>>| {
            DeveloperCohort::of(pages.values().flat_map(|p| p.page.items.iter()))
        };
        self.developers
            .get(&self.ids, filter, page, fetch, cohort)
            .await
    }

    pub async fn projects(
        &self,
        loaders: &Loaders,
        filter: ProjectFilter,
        page: PageRequest,
    ) -> AppResult<Arc<Children<TeamSpaceId, project::Model, ProjectCohort>>> {
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<TeamSpaceId>, filter: ProjectFilter, page: PageRequest| async move {
            service::project::of_team_spaces(ctx, db, &ids, &filter, &page).await
        };
        let cohort = |pages: &HashMap<_, ChildPage<_>>| {
            ProjectCohort::of(pages.values().flat_map(|p| p.page.items.iter()))
        };
        self.projects
            .get(&self.ids, filter, page, fetch, cohort)
            .await
    }
}

#[derive(Default)]
pub struct DeveloperCohort {
    ids: Vec<DeveloperId>,
    team_spaces: Nested<DeveloperId, TeamSpaceFilter, team_space::Model, TeamSpaceCohort>,
    activity: Memo<(NaiveDate, NaiveDate, Option<Vec<String>>), Activity>,
    delivery: delivery::DeveloperDelivery,
    delivery_metrics: Memo<DeliveryQuery, DeliveryPeriods>,
}

impl DeveloperCohort {
    /// The delivery of every developer of the cohort, in one statement.
    pub async fn delivery_metrics(
        &self,
        loaders: &Loaders,
        q: DeliveryQuery,
    ) -> AppResult<DeliveryPeriods> {
        let scope = DeliveryScope::Developers(self.ids.iter().map(|id| id.uuid()).collect());
        scoped_delivery(&self.delivery_metrics, loaders, scope, q).await
    }

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
                let found = analytics::activity(
                    &loaders.ctx,
                    &loaders.db,
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
        let (ctx, db) = (&loaders.ctx, &loaders.db);
        let fetch = |ids: Vec<DeveloperId>, filter: TeamSpaceFilter, page: PageRequest| async move {
            service::team_space::of_developers(ctx, db, &ids, &filter, &page).await
        };
        let cohort = |pages: &HashMap<_, ChildPage<_>>| {
            TeamSpaceCohort::of(pages.values().flat_map(|p| p.page.items.iter()))
        };
        self.team_spaces
            .get(&self.ids, filter, page, fetch, cohort)
            .await
    }
}

#[derive(Default)]
pub struct ProjectCohort {
    ids: Vec<Uuid>,
    team_space_ids: Vec<TeamSpaceId>,
    team_spaces: RefsMemo<TeamSpaceId, team_space::Model, TeamSpaceCohort>,
    metrics: Memo<MetricQuery, ScopedRows>,
    delivery: delivery::ProjectDelivery,
    delivery_metrics: Memo<DeliveryQuery, DeliveryPeriods>,
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

    /// The delivery of every project of the cohort, in one statement.
    pub async fn delivery_metrics(
        &self,
        loaders: &Loaders,
        q: DeliveryQuery,
    ) -> AppResult<DeliveryPeriods> {
        let scope = DeliveryScope::Projects(self.ids.clone());
        scoped_delivery(&self.delivery_metrics, loaders, scope, q).await
    }

    /// The team spaces of the cohort's projects, in one statement.
    pub async fn team_spaces(
        &self,
        loaders: &Loaders,
    ) -> AppResult<Arc<Refs<TeamSpaceId, team_space::Model, TeamSpaceCohort>>> {
        let of = |found: &HashMap<_, _>| TeamSpaceCohort::of(found.values());
        let ids = &self.team_space_ids;
        load_refs(&self.team_spaces, &loaders.team_space, ids, of).await
    }
}
