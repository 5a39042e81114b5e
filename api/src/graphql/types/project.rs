//! `Project`: something that sends events; belongs to at most one team space.

use crate::ids::GlobalId as _;

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::project;

use super::{
    Date, DeliveryInterval, DeliveryPeriod, Deployment, EnvironmentTier, EventMeta, Flat, Incident,
    MetricDimension, MetricFilterInput, MetricRow, Repository, TeamSpace, child_connection,
    delivery_query,
    metrics::{metric_query, scoped_rows},
    nullable, page_args, periods,
};
use crate::{
    graphql::{connection::Conn, order::ListOrder, request::request},
    ids::{ProjectId, TeamSpaceId},
    loaders::ProjectCohort,
    service,
};

super::cohort_object!(Project, project, ProjectCohort, super::ProjectFilterInput);

#[Object]
impl Project {
    pub async fn id(&self) -> ID {
        ProjectId::from_db(self.row.id).to_global()
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    async fn slug(&self) -> &str {
        &self.row.slug
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// A project's: its repositories' pull requests and reviews, its deployments and incidents. The DORA keys and pull-request flow per period from `from` to `to` (inclusive,
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

    /// Event counts of this project, from the daily rollup.
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

    /// The event names this project has sent.
    async fn event_names(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let rq = request(ctx)?;
        let meta =
            service::events::meta(rq.tenant(), &rq.db, ProjectId::from_db(self.row.id)).await?;
        Ok(meta.into_iter().map(|m| m.name).collect())
    }

    /// Per event name: first and last seen, total count, property keys.
    async fn event_meta(&self, ctx: &Context<'_>) -> Result<Vec<EventMeta>> {
        let rq = request(ctx)?;
        let meta =
            service::events::meta(rq.tenant(), &rq.db, ProjectId::from_db(self.row.id)).await?;
        Ok(meta
            .into_iter()
            .map(|m| EventMeta {
                name: m.name,
                first_seen: m.first_seen,
                last_seen: m.last_seen,
                total_count: m.total_count,
                property_keys: serde_json::from_value(m.property_keys).unwrap_or_default(),
            })
            .collect())
    }

    /// The team space that owns the project, if any.
    async fn team_space(&self, ctx: &Context<'_>) -> Option<TeamSpace> {
        let id = self.row.team_space_id.map(TeamSpaceId::from_db);
        nullable(ctx, id, |rq| self.cohort.team_spaces(&rq.loaders)).await
    }

    /// The project's repositories. `orderBy`: `NAME` is the full name
    /// (`owner/name`), `CREATED_AT` when it was connected; by name without
    /// `orderBy`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn repositories(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Repository>> {
        let rq = request(ctx)?;
        let page = rq.page(page_args!(first, after, last, before), order_by)?;
        let field = page.order.field;
        let children = self.cohort.repositories(&rq.loaders, page).await?;
        Ok(child_connection(&children, &self.row.id, field))
    }

    /// The project's deployments. `orderBy`: `NAME` is the environment,
    /// `CREATED_AT` the time it started; without `orderBy`, the most
    /// recently started first.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn deployments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Deployment>> {
        let rq = request(ctx)?;
        let order = order_by.unwrap_or(ListOrder::NEWEST_FIRST);
        let page = rq.page(page_args!(first, after, last, before), Some(order))?;
        let field = page.order.field;
        let children = self.cohort.deployments(&rq.loaders, page).await?;
        Ok(child_connection(&children, &self.row.id, field))
    }

    /// The project's incidents. `orderBy`: `NAME` is the title,
    /// `CREATED_AT` the time it was opened; without `orderBy`, the most
    /// recently opened first.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Incident>> {
        let rq = request(ctx)?;
        let order = order_by.unwrap_or(ListOrder::NEWEST_FIRST);
        let page = rq.page(page_args!(first, after, last, before), Some(order))?;
        let field = page.order.field;
        let children = self.cohort.incidents(&rq.loaders, page).await?;
        Ok(child_connection(&children, &self.row.id, field))
    }
}
