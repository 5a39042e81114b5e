//! `TeamSpace`: a group of developers and the projects they own. Its
//! nested lists load through per-request DataLoaders.

use super::FilterInput as _;
use crate::ids::GlobalId as _;

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::team_space;

use super::{
    Date, DeliveryInterval, DeliveryPeriod, Developer, DeveloperFilterInput, EnvironmentTier, Flat,
    MetricDimension, MetricFilterInput, MetricRow, Project, ProjectFilterInput, delivery_query,
    metrics::{metric_query, scoped_rows},
    page_args, periods,
};
use crate::{
    graphql::order::ListOrder,
    graphql::{
        connection::{Conn, TotalCount, connection},
        request::request,
    },
    ids::TeamSpaceId,
    loaders::TeamSpaceCohort,
};

/// A developer's place in a team space: leads manage its members and projects.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::TeamSpaceRole")]
pub enum TeamSpaceRole {
    Lead,
    Member,
}

super::cohort_object!(
    TeamSpace,
    team_space,
    TeamSpaceCohort,
    super::TeamSpaceFilterInput
);

impl TeamSpace {
    fn typed_id(&self) -> TeamSpaceId {
        TeamSpaceId::from_db(self.row.id)
    }
}

#[Object]
impl TeamSpace {
    pub async fn id(&self) -> ID {
        self.typed_id().to_global()
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    async fn slug(&self) -> &str {
        &self.row.slug
    }
    async fn description(&self) -> Option<&str> {
        self.row.description.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }

    /// Event counts of this team space's developers (a developer in several
    /// team spaces counts in each), from the daily rollup.
    #[graphql(
        complexity = "crate::graphql::cost::metrics(from.0, to.0, MetricDimension::grouping(&group_by), child_complexity)"
    )]
    async fn metrics(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        filter: Option<MetricFilterInput>,
        #[graphql(default)] group_by: Vec<MetricDimension>,
    ) -> Result<Flat<MetricRow>> {
        let rq = request(ctx)?;
        let q = metric_query(rq, from, to, filter, group_by)?;
        let ungrouped = q.group_by.is_empty();
        let rows = self.cohort.metrics(&rq.loaders, q).await?;
        Ok(Flat(scoped_rows(rq, rows.get(&self.row.id), ungrouped)?))
    }

    /// A team space's: its current members' work, whichever project it was in. The DORA keys and pull-request flow per period from `from` to `to` (inclusive,
    /// days in the organization's time zone); deployments of `environmentTier` count.
    #[graphql(
        complexity = "crate::graphql::cost::delivery(from.0, to.0, interval.days(), child_complexity)"
    )]
    async fn delivery(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        #[graphql(default_with = "DeliveryInterval::Week")] interval: DeliveryInterval,
        #[graphql(default_with = "EnvironmentTier::Production")] environment_tier: EnvironmentTier,
    ) -> Result<Vec<DeliveryPeriod>> {
        let rq = request(ctx)?;
        let q = delivery_query(ctx, rq, from, to, interval, environment_tier)?;
        let found = self.cohort.delivery_metrics(&rq.loaders, q.clone()).await?;
        Ok(periods(found.get(&self.row.id), &q))
    }

    /// Developers classified into this team space.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn developers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<DeveloperFilterInput>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Developer>> {
        let rq = request(ctx)?;
        let page = rq.page(page_args!(first, after, last, before), order_by)?;
        let field = page.order.field;
        let filter = filter.unwrap_or_default().into_filter()?;
        let children = self.cohort.developers(&rq.loaders, filter, page).await?;
        let found = children.page_of(&self.typed_id());
        let cohort = &children.cohort;
        Ok(connection(
            found.page,
            field,
            TotalCount::known(found.total),
            |m| Developer {
                row: m,
                cohort: cohort.clone(),
            },
        ))
    }

    /// Projects owned by this team space.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ProjectFilterInput>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Project>> {
        let rq = request(ctx)?;
        let page = rq.page(page_args!(first, after, last, before), order_by)?;
        let field = page.order.field;
        let filter = filter.unwrap_or_default().into_filter()?;
        let children = self.cohort.projects(&rq.loaders, filter, page).await?;
        let found = children.page_of(&self.typed_id());
        let cohort = &children.cohort;
        Ok(connection(
            found.page,
            field,
            TotalCount::known(found.total),
            |m| Project {
                row: m,
                cohort: cohort.clone(),
            },
        ))
    }
}
