//! `Project`: something that sends events; belongs to at most one team space.

use crate::ids::GlobalId as _;

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::project;

use super::{
    Date, EventMeta, Flat, MetricDimension, MetricFilterInput, MetricRow, TeamSpace,
    metrics::{metric_query, scoped_rows},
};
use crate::{
    graphql::request::{or_null, request},
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
        let space = self.row.team_space_id?;
        let found = async {
            let rq = request(ctx)?;
            let spaces = self.cohort.team_spaces(&rq.loaders).await?;
            let cohort = spaces.cohort.clone();
            Ok(spaces
                .get(&TeamSpaceId::from_db(space))
                .map(|s| TeamSpace { row: s, cohort }))
        };
        or_null(ctx, found.await)
    }
}
