//! `Developer`: a person in the organization, with a role and team spaces.

use super::FilterInput as _;
use crate::ids::GlobalId as _;

use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::developer;

use super::{
    Date, DayCount, DeliveryInterval, DeliveryPeriod, DeveloperPullRequestFilterInput,
    EnvironmentTier, Flat, Identity, PullRequest, Review, TeamSpace, TeamSpaceFilterInput,
    child_connection, delivery_query, page_args, periods,
};
use crate::{
    graphql::order::ListOrder,
    graphql::{
        connection::{Conn, TotalCount, connection},
        request::request,
    },
    ids::DeveloperId,
    loaders::DeveloperCohort,
    service::analytics::check_range,
};

/// What a developer may do in the organization.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DeveloperRole")]
pub enum DeveloperRole {
    Owner,
    Admin,
    Member,
    Viewer,
}

super::cohort_object!(
    Developer,
    developer,
    DeveloperCohort,
    super::DeveloperFilterInput
);

#[Object]
impl Developer {
    pub async fn id(&self) -> ID {
        DeveloperId::from_db(self.row.id).to_global()
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    async fn email(&self) -> &str {
        &self.row.email
    }
    async fn role(&self) -> DeveloperRole {
        self.row.role.into()
    }
    /// False once the developer has been deactivated.
    async fn active(&self) -> bool {
        self.row.deactivated_at.is_none()
    }
    async fn deactivated_at(&self) -> Option<DateTime<Utc>> {
        self.row.deactivated_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// A developer's: pull requests they authored, reviews they gave, their share of deployments. The DORA keys and pull-request flow per period from `from` to `to` (inclusive,
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

    /// Events per day from `from` to `to` (inclusive), days without events
    /// included with count 0. Days are in the organization's time zone.
    #[graphql(complexity = "crate::graphql::cost::days(from.0, to.0, child_complexity)")]
    async fn activity(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        event_names: Option<Vec<String>>,
    ) -> Result<Flat<DayCount>> {
        let rq = request(ctx)?;
        check_range(from.0, to.0, rq.limits.max_metrics_days)?;
        let max = rq.limits.max_filter_values;
        super::metrics::check_list_len("eventNames", event_names.as_deref(), max)?;
        let all = self
            .cohort
            .activity(&rq.loaders, from.0, to.0, event_names)
            .await?;
        let mine = all.get(&self.row.id);
        Ok(Flat(
            from.0
                .iter_days()
                .take_while(|day| *day <= to.0)
                .map(|day| DayCount {
                    day: Date(day),
                    count: mine.and_then(|m| m.get(&day)).copied().unwrap_or(0),
                })
                .collect(),
        ))
    }

    /// The team spaces this developer is classified into.
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
        let page = rq.page(page_args!(first, after, last, before), order_by)?;
        let field = page.order.field;
        let filter = filter.unwrap_or_default().into_filter()?;
        let children = self.cohort.team_spaces(&rq.loaders, filter, page).await?;
        let found = children.page_of(&DeveloperId::from_db(self.row.id));
        let cohort = &children.cohort;
        Ok(connection(
            found.page,
            field,
            TotalCount::known(found.total),
            |m| TeamSpace {
                row: m,
                cohort: cohort.clone(),
            },
        ))
    }

    /// Pull requests this developer opened. `orderBy`: `NAME` is the title,
    /// `CREATED_AT` the time it was opened; without `orderBy`, the most
    /// recently opened first.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn pull_requests(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<DeveloperPullRequestFilterInput>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<PullRequest>> {
        let rq = request(ctx)?;
        let order = order_by.unwrap_or(ListOrder::NEWEST_FIRST);
        let page = rq.page(page_args!(first, after, last, before), Some(order))?;
        let field = page.order.field;
        let filter = filter.unwrap_or_default().into_filter(&rq.limits)?;
        let children = self.cohort.pull_requests(&rq.loaders, filter, page).await?;
        Ok(child_connection(
            &children,
            &DeveloperId::from_db(self.row.id),
            field,
        ))
    }

    /// Reviews this developer submitted, the most recent first.
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Review>> {
        let rq = request(ctx)?;
        let order = Some(ListOrder::NEWEST_FIRST);
        let page = rq.page(page_args!(first, after, last, before), order)?;
        let field = page.order.field;
        let children = self.cohort.reviews(&rq.loaders, page).await?;
        Ok(child_connection(
            &children,
            &DeveloperId::from_db(self.row.id),
            field,
        ))
    }

    /// How this developer appears in the sources (emails, logins).
    /// `orderBy`: `NAME` is the value, `CREATED_AT` when it was first seen;
    /// by value without `orderBy`.
    #[graphql(complexity = "crate::graphql::cost::list(first, last, child_complexity)")]
    async fn identities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Identity>> {
        let rq = request(ctx)?;
        let page = rq.page(page_args!(first, after, last, before), order_by)?;
        let field = page.order.field;
        let children = self.cohort.identities(&rq.loaders, page).await?;
        Ok(child_connection(
            &children,
            &DeveloperId::from_db(self.row.id),
            field,
        ))
    }
}
