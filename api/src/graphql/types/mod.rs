//! GraphQL object types: thin wrappers over entity models whose resolvers
//! call services (top-level lists) or loaders (nested lists).

mod api_key;
mod audit;
mod delivery_metrics;
mod deployment;
mod developer;
mod filters;
mod flat;
mod identity;
mod incident;
mod metrics;
pub(crate) mod organization;
mod project;
mod pull_request;
mod repository;
mod review;
mod team_space;
mod viewer;

use std::{hash::Hash, sync::Arc};

use async_graphql::Context;

use crate::{
    error::AppResult,
    graphql::{
        connection::{Conn, TotalCount, connection},
        request::{RequestData, or_null, request},
    },
    loaders::{Children, Refs},
    pagination::{Keyed, OrderField},
    service::table,
};

pub use api_key::{ApiKey, ApiKeyScope};
pub use audit::{AuditLogEntry, AuditLogFilterInput};
pub use delivery_metrics::{
    DeliveryInterval, DeliveryPeriod, delivery_query, delivery_query_with, periods,
};
pub use deployment::{Deployment, DeploymentStatus, EnvironmentTier};
pub use developer::{Developer, DeveloperRole};
pub use filters::{DeveloperFilterInput, FilterInput, ProjectFilterInput, TeamSpaceFilterInput};
pub use flat::Flat;
pub use identity::{Identity, IdentityKind};
pub use incident::Incident;
pub use metrics::{
    Date, DayCount, EventMeta, MetricDimension, MetricFilterInput, MetricRow, check_list_len,
};
pub use organization::Organization;
pub use project::Project;
pub use pull_request::{DeveloperPullRequestFilterInput, PullRequest, PullRequestFilterInput};
pub use repository::{Repository, RepositoryProvider};
pub use review::Review;
pub use team_space::{TeamSpace, TeamSpaceRole};
pub use viewer::Viewer;

/// A GraphQL object over one row of a listed table and the cohort it was
/// loaded with (see `cohort_object!`): the top-level lists and the root
/// lookups are written once over it (`organization::top_list`, `query.rs`).
pub(crate) trait CohortObject: async_graphql::OutputType + Sized {
    type Table: table::Listed;
    type Cohort;
    /// The `filter` argument of its top-level list.
    type FilterInput: FilterInput<Filter: table::Filter<Table = Self::Table>>;

    fn cohort_of(rows: &[Row<Self>]) -> Arc<Self::Cohort>;

    fn wrap(row: Row<Self>, cohort: Arc<Self::Cohort>) -> Self;

    fn row(&self) -> &Row<Self>;

    /// Wraps a row loaded alone.
    fn one(row: Row<Self>) -> Self {
        let cohort = Self::cohort_of(std::slice::from_ref(&row));
        Self::wrap(row, cohort)
    }

    /// Wraps rows loaded together, so that their nested fields load together.
    fn cohort(rows: Vec<Row<Self>>) -> impl Iterator<Item = Self> {
        let cohort = Self::cohort_of(&rows);
        rows.into_iter()
            .map(move |row| Self::wrap(row, cohort.clone()))
    }
}

pub(crate) type Row<N> = <<N as CohortObject>::Table as sea_orm::EntityTrait>::Model;

/// `cohort_object!(TeamSpace, team_space, TeamSpaceCohort, TeamSpaceFilterInput)`:
/// a GraphQL object over a row of `team_space` and the cohort it was loaded
/// with, whose nested fields load for the whole cohort at once.
macro_rules! cohort_object {
    ($name:ident, $table:ident, $cohort:ty, $filter:ty) => {
        #[derive(Clone)]
        pub struct $name {
            pub row: $table::Model,
            /// The rows loaded with this one, whose nested fields load together.
            pub cohort: std::sync::Arc<$cohort>,
        }

        impl $crate::graphql::types::CohortObject for $name {
            type Table = $table::Entity;
            type Cohort = $cohort;
            type FilterInput = $filter;

            fn cohort_of(rows: &[$table::Model]) -> std::sync::Arc<$cohort> {
                <$cohort>::of(rows)
            }

            fn wrap(row: $table::Model, cohort: std::sync::Arc<$cohort>) -> $name {
                $name { row, cohort }
            }

            fn row(&self) -> &$table::Model {
                &self.row
            }
        }
    };
}
pub(crate) use cohort_object;

/// Builds `PageArgs` from a resolver's Relay arguments.
macro_rules! page_args {
    ($first:expr, $after:expr, $last:expr, $before:expr) => {
        $crate::pagination::PageArgs {
            first: $first,
            after: $after,
            last: $last,
            before: $before,
        }
    };
}
pub(crate) use page_args;

/// One parent's page of a nested list loaded for its whole cohort, as a
/// connection whose nodes form the children's cohort.
pub(crate) fn child_connection<P, N>(
    children: &Children<P, Row<N>, N::Cohort>,
    parent: &P,
    field: OrderField,
) -> Conn<N>
where
    P: Hash + Eq,
    N: CohortObject<Table: table::Listed<Model: Keyed + Clone>>,
{
    let found = children.page_of(parent);
    let total = TotalCount::known(found.total);
    connection(found.page, field, total, |row| {
        N::wrap(row, children.cohort.clone())
    })
}

/// The object a cohort member refers to by `id`, from what `load` brought
/// for the whole cohort; `None` without an id, or when the row is gone.
pub(crate) async fn referenced<'a, N, K, Fut>(
    ctx: &Context<'a>,
    id: Option<K>,
    load: impl FnOnce(&'a RequestData) -> Fut,
) -> AppResult<Option<N>>
where
    N: CohortObject,
    K: Hash + Eq,
    Row<N>: Clone,
    Fut: Future<Output = AppResult<Arc<Refs<K, Row<N>, N::Cohort>>>>,
{
    let Some(id) = id else {
        return Ok(None);
    };
    let refs = load(request(ctx)?).await?;
    Ok(refs.get(id).map(|row| N::wrap(row, refs.cohort.clone())))
}

/// A nullable reference: an error is reported at the field, which is null.
pub(crate) async fn nullable<'a, N, K, Fut>(
    ctx: &Context<'a>,
    id: Option<K>,
    load: impl FnOnce(&'a RequestData) -> Fut,
) -> Option<N>
where
    N: CohortObject,
    K: Hash + Eq,
    Row<N>: Clone,
    Fut: Future<Output = AppResult<Arc<Refs<K, Row<N>, N::Cohort>>>>,
{
    let found = referenced(ctx, id, load).await;
    or_null(ctx, found)
}
