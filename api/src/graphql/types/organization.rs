//! `Organization`: the caller's tenant, and the entry to its lists.

use crate::ids::GlobalId as _;
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::organization;

use super::{
    ApiKey, AuditLogEntry, AuditLogFilterInput, CohortObject, Date, DeliveryInterval,
    DeliveryPeriod, Developer, DeveloperFilterInput, EnvironmentTier, FilterInput as _, Flat,
    Identity, MetricDimension, MetricFilterInput, MetricRow, Project, ProjectFilterInput,
    TeamSpace, TeamSpaceFilterInput, delivery_query, metrics::metric_query, page_args, periods,
};
use crate::error::AppResult;
use crate::{
    graphql::order::{ListOrder, OrderDirection, OrderField},
    graphql::{
        connection::{Conn, TotalCount, connection},
        request::{RequestData, request},
    },
    ids::OrgId,
    pagination::PageArgs,
    permissions::{self, Action},
    service::{self, analytics::MetricScope, table},
};

pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    pub async fn id(&self) -> ID {
        OrgId::from_db(self.0.id).to_global()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// IANA time zone in which days of metrics are counted. A change applies
    /// to events ingested afterwards; `devgraph rollup rebuild` re-buckets
    /// the retained raw events.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    /// Days raw events are kept; daily rollups are kept regardless.
    async fn event_retention_days(&self) -> i32 {
        self.0.event_retention_days
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn team_spaces(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<TeamSpaceFilterInput>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<TeamSpace>> {
        let rq = request(ctx)?;
        Ok(
            top_list::<TeamSpace>(rq, page_args!(first, after, last, before), filter, order_by)
                .await?,
        )
    }

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
        Ok(
            top_list::<Developer>(rq, page_args!(first, after, last, before), filter, order_by)
                .await?,
        )
    }

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
        Ok(
            top_list::<Project>(rq, page_args!(first, after, last, before), filter, order_by)
                .await?,
        )
    }

    /// The organization's: all of its delivery, every deployment counted once. The DORA keys and pull-request flow per period from `from` to `to` (inclusive,
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
        let scope = crate::service::delivery::metrics::read::Scope::Organization;
        let found =
            crate::service::delivery::metrics::read::query(&rq.caller.ctx, &rq.db, &scope, &q)
                .await?;
        Ok(periods(found.get(&self.0.id), &q))
    }

    /// Event counts from the daily rollup, grouped by `groupBy` (no
    /// grouping: one total). Days are calendar days in the organization's
    /// time zone at ingestion; `from` and `to` are inclusive.
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
        let rows =
            service::analytics::query(rq.tenant(), &rq.db, &MetricScope::Organization, &q).await?;
        rq.charge_metric_rows(rows.len())?;
        Ok(Flat(rows.into_iter().map(MetricRow).collect()))
    }

    /// API keys of the organization (admins and owners).
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<ApiKey>> {
        let rq = request(ctx)?;
        let page = rq.page(page_args!(first, after, last, before), None)?;
        let rows = service::api_key::list(rq.tenant(), &rq.db, &page).await?;
        let (tenant, db) = (rq.tenant().clone(), rq.db.clone());
        let total = TotalCount::deferred(move || {
            let (tenant, db) = (tenant.clone(), db.clone());
            async move { service::api_key::count(&tenant, &db).await }
        });
        Ok(connection(rows, page.order.field, total, ApiKey))
    }

    /// Every successful mutation, newest first (admins and owners).
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<AuditLogFilterInput>,
    ) -> Result<Conn<AuditLogEntry>> {
        let rq = request(ctx)?;
        let newest_first = ListOrder {
            field: OrderField::CreatedAt,
            direction: OrderDirection::Desc,
        };
        let page = rq.page(page_args!(first, after, last, before), Some(newest_first))?;
        let filter = filter.unwrap_or_default().into_filter()?;
        let rows = service::audit::list(rq.tenant(), &rq.db, &filter, &page).await?;
        let (tenant, db) = (rq.tenant().clone(), rq.db.clone());
        let total = TotalCount::deferred(move || {
            let (tenant, db, filter) = (tenant.clone(), db.clone(), filter.clone());
            async move { service::audit::count(&tenant, &db, &filter).await }
        });
        Ok(connection(rows, page.order.field, total, AuditLogEntry))
    }

    /// Identities that no developer is linked to yet: people the sources
    /// name whom no email or login matched (admins and owners).
    /// `orderBy`: `NAME` is the value, `CREATED_AT` when it was first seen;
    /// by value without `orderBy`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn unmatched_identities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Identity>> {
        use service::delivery::read;
        let rq = request(ctx)?;
        let page = rq.page(page_args!(first, after, last, before), order_by)?;
        let rows = read::unmatched_identities(rq.tenant(), &rq.db, &page).await?;
        let (tenant, db) = (rq.tenant().clone(), rq.db.clone());
        let total = TotalCount::deferred(move || {
            let (tenant, db) = (tenant.clone(), db.clone());
            async move { read::count_unmatched_identities(&tenant, &db).await }
        });
        let cohort = Identity::cohort_of(&rows.items);
        Ok(connection(rows, page.order.field, total, |row| {
            Identity::wrap(row, cohort.clone())
        }))
    }

    /// The organization's budget on /graphql and /v1/events, and what it
    /// uses now (admins and owners; only the operator changes it).
    async fn budget(&self, ctx: &Context<'_>) -> Result<OrganizationBudget> {
        let rq = request(ctx)?;
        permissions::authorize(rq.tenant(), &rq.db, Action::ReadBudget).await?;
        let org = self.0.id;
        let (budget, usage) = (rq.budgets.budget_of(org), rq.budgets.usage(org));
        Ok(OrganizationBudget {
            in_flight: budget.in_flight as i32,
            requests_per_minute: budget.per_minute as i32,
            in_flight_now: usage.in_flight as i32,
            requests_available: usage.requests_available as i32,
            points_per_minute: i32::try_from(budget.points_per_minute).unwrap_or(i32::MAX),
            points_available: usage
                .points_available
                .clamp(i32::MIN.into(), i32::MAX.into()) as i32,
        })
    }
}

/// Over budget, a request is answered 429 `RATE_LIMITED` with `Retry-After`.
#[derive(SimpleObject)]
pub struct OrganizationBudget {
    /// Requests the organization may have in flight at once.
    pub in_flight: i32,
    /// Requests it may send per minute (a token bucket).
    pub requests_per_minute: i32,
    /// Its requests in flight now, this one included.
    pub in_flight_now: i32,
    /// Requests it may still send before the bucket refills.
    pub requests_available: i32,
    /// Query complexity points its GraphQL requests may spend per minute
    /// (a token bucket): a request is weighed before it runs and refused
    /// when it weighs more than is left.
    pub points_per_minute: i32,
    /// Points left now (this request's are charged once it has run);
    /// negative when requests running at once overdrew the bucket.
    pub points_available: i32,
}

// The top-level lists, shared by `Organization` and the query root.

/// One page of a top-level list in the caller's organization, its total
/// (counted only when asked for) and the cohort its rows form.
pub async fn top_list<N: CohortObject>(
    rq: &RequestData,
    args: PageArgs,
    filter: Option<N::FilterInput>,
    order: Option<ListOrder>,
) -> AppResult<Conn<N>> {
    let filter = filter.unwrap_or_default().into_filter()?;
    let page = rq.page(args, order)?;
    let rows = table::list(rq.tenant(), &rq.db, &filter, &page).await?;
    let (ctx, db) = (rq.tenant().clone(), rq.db.clone());
    let total = TotalCount::deferred(move || {
        let (ctx, db, filter) = (ctx.clone(), db.clone(), filter.clone());
        async move { table::count(&ctx, &db, &filter).await }
    });
    let cohort = N::cohort_of(&rows.items);
    Ok(connection(rows, page.order.field, total, |row| {
        N::wrap(row, cohort.clone())
    }))
}
