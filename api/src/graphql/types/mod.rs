//! GraphQL object types: thin wrappers over entity models whose resolvers
//! call services (top-level lists) or loaders (nested lists).

mod api_key;
mod audit;
mod developer;
mod filters;
mod metrics;
pub(crate) mod organization;
mod project;
mod team_space;
mod viewer;

pub use api_key::{ApiKey, ApiKeyScope};
pub use audit::{AuditLogEntry, AuditLogFilterInput};
pub use developer::{Developer, DeveloperRole};
pub use filters::{DeveloperFilterInput, ProjectFilterInput, TeamSpaceFilterInput};
pub use metrics::{Date, DayCount, EventMeta, MetricDimension, MetricFilterInput, MetricRow};
pub use organization::Organization;
pub use project::Project;
pub use team_space::{TeamSpace, TeamSpaceRole};
pub use viewer::Viewer;

/// `cohort_object!(TeamSpace, team_space::Model, TeamSpaceCohort)`: a
/// GraphQL object over a row and the cohort it was loaded with, whose nested
/// fields load for the whole cohort at once; `one` wraps a row loaded alone,
/// `cohort` rows loaded together.
macro_rules! cohort_object {
    ($name:ident, $model:ty, $cohort:ty) => {
        #[derive(Clone)]
        pub struct $name {
            pub row: $model,
            /// The rows loaded with this one, whose nested fields load together.
            pub cohort: std::sync::Arc<$cohort>,
        }

        impl $name {
            pub fn one(row: $model) -> $name {
                let cohort = <$cohort>::of([&row]);
                $name { row, cohort }
            }

            pub fn cohort(rows: Vec<$model>) -> impl Iterator<Item = $name> {
                let cohort = <$cohort>::of(&rows);
                rows.into_iter().map(move |row| $name {
                    row,
                    cohort: cohort.clone(),
                })
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
