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
