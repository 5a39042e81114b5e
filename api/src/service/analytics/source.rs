//! Which daily table a metric reads: the smallest that has every dimension
//! the query groups, filters or is scoped by. Each is `aggregated_events`
//! summed over the dimensions it drops (see `service::rollups`), so any of
//! them that has those dimensions gives the same sums; the smaller ones
//! give them from fewer rows (an organization's day: a few rows per event
//! name instead of one per project × developer × name).
//!
//! | needs               | table                 |
//! |---------------------|-----------------------|
//! | neither below       | `organization_rollups`|
//! | project only        | `project_rollups`     |
//! | developer only      | `developer_rollups`   |
//! | project + developer | `aggregated_events`   |
//!
//! A developer is needed to group or filter by developer, and to join the
//! memberships (team-space scope, grouping or filter). Team-space metrics
//! that need neither developers nor projects never get here: they read
//! `team_space_rollups` (`from_team_rollup`).

use entity::{aggregated_event, developer_rollup, organization_rollup, project_rollup};
use sea_orm::{
    DeriveIden, EntityName,
    sea_query::{Expr, IntoIden},
};

use super::{Dim, MetricQuery, MetricScope};

/// The columns the four tables name alike (each has those it keeps).
#[derive(DeriveIden, Clone, Copy)]
pub(super) enum Daily {
    OrganizationId,
    ProjectId,
    DeveloperId,
    Day,
    Name,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Organization,
    Project,
    Developer,
    Aggregated,
}

impl Source {
    /// The smallest table with every dimension of the query; `dims` are
    /// its grouped dimensions with WEEK already read as DAY.
    pub(super) fn for_query(scope: &MetricScope, q: &MetricQuery, dims: &[Dim]) -> Source {
        let project = matches!(scope, MetricScope::Projects(_))
            || q.filter.projects.is_some()
            || dims.contains(&Dim::Project);
        let developer = matches!(scope, MetricScope::TeamSpaces(_))
            || q.filter.developers.is_some()
            || q.filter.team_spaces.is_some()
            || dims.contains(&Dim::Developer)
            || dims.contains(&Dim::TeamSpace);
        match (project, developer) {
            (false, false) => Source::Organization,
            (true, false) => Source::Project,
            (false, true) => Source::Developer,
            (true, true) => Source::Aggregated,
        }
    }

    pub(super) fn table_name(self) -> &'static str {
        match self {
            Source::Organization => organization_rollup::Entity.table_name(),
            Source::Project => project_rollup::Entity.table_name(),
            Source::Developer => developer_rollup::Entity.table_name(),
            Source::Aggregated => aggregated_event::Entity.table_name(),
        }
    }

    pub(super) fn table(self) -> sea_orm::sea_query::DynIden {
        match self {
            Source::Organization => organization_rollup::Entity.into_iden(),
            Source::Project => project_rollup::Entity.into_iden(),
            Source::Developer => developer_rollup::Entity.into_iden(),
            Source::Aggregated => aggregated_event::Entity.into_iden(),
        }
    }

    /// `column` of this table, qualified (the memberships may be joined).
    pub(super) fn col(self, column: Daily) -> Expr {
        Expr::col((self.table(), column))
    }

    /// The summed count: PostgreSQL sums bigints into numeric, and both
    /// read it back as BIGINT; an ungrouped sum over no rows is NULL, and
    /// that total is 0.
    pub(super) fn total(self) -> Expr {
        Expr::cust(format!(
            r#"CAST(COALESCE(SUM("{}"."count"), 0) AS BIGINT)"#,
            self.table_name()
        ))
    }
}
