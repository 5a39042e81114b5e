//! GraphQL object types: thin wrappers over entity models whose resolvers
//! call services (top-level lists) or loaders (nested lists).

mod api_key;
mod audit;
mod developer;
mod filters;
mod flat;
mod metrics;
pub(crate) mod organization;
mod project;
mod team_space;
mod viewer;

use std::sync::Arc;

use crate::service::table;

pub use api_key::{ApiKey, ApiKeyScope};
pub use audit::{AuditLogEntry, AuditLogFilterInput};
pub use developer::{Developer, DeveloperRole};
pub use filters::{DeveloperFilterInput, FilterInput, ProjectFilterInput, TeamSpaceFilterInput};
pub use flat::Flat;
pub use metrics::{Date, DayCount, EventMeta, MetricDimension, MetricFilterInput, MetricRow};
pub use organization::Organization;
pub use project::Project;
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
