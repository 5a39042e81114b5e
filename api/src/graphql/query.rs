//! The query root. Typed lookups (`teamSpace(id:)` ...) answer NOT_FOUND for
//! a missing or foreign id; `node`/`nodes` answer null, as Relay expects.

use async_graphql::{Context, ID, Object, Result};
use entity::scoped::ByIdInOrg;

use super::{
    connection::Conn,
    node::{Node, load_nodes},
    request::{or_null, request},
    types::{
        CohortObject, Developer, DeveloperFilterInput, Organization, Project, ProjectFilterInput,
        TeamSpace, TeamSpaceFilterInput, Viewer, page_args,
    },
};
use crate::{
    auth::CallerKind,
    error::{AppError, AppResult},
    graphql::order::ListOrder,
    graphql::types::organization as lists,
    ids::GlobalId,
    service::table::{self, Listed},
};

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The authenticated caller.
    #[graphql(complexity = "crate::graphql::cost::root(1 + child_complexity)?")]
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let rq = request(ctx)?;
        match &rq.caller.kind {
            CallerKind::Person {
                subject, developer, ..
            } => Ok(Viewer {
                developer: (**developer).clone(),
                subject: subject.clone(),
            }),
            CallerKind::Machine => Err(AppError::Forbidden(
                "an API key is not a developer: it has no viewer".into(),
            )
            .into()),
        }
    }

    /// The organization the request acts in.
    #[graphql(complexity = "crate::graphql::cost::root(1 + child_complexity)?")]
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        let rq = request(ctx)?;
        Ok(Organization(rq.organization().await?))
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "crate::graphql::cost::root(crate::graphql::cost::list(first, last, child_complexity))?"
    )]
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
        Ok(lists::top_list::<TeamSpace>(
            rq,
            page_args!(first, after, last, before),
            filter,
            order_by,
        )
        .await?)
    }

    #[graphql(complexity = "crate::graphql::cost::root(1 + child_complexity)?")]
    async fn team_space(&self, ctx: &Context<'_>, id: ID) -> Option<TeamSpace> {
        or_null(ctx, lookup(ctx, &id).await.map(Some))
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "crate::graphql::cost::root(crate::graphql::cost::list(first, last, child_complexity))?"
    )]
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
        Ok(lists::top_list::<Developer>(
            rq,
            page_args!(first, after, last, before),
            filter,
            order_by,
        )
        .await?)
    }

    #[graphql(complexity = "crate::graphql::cost::root(1 + child_complexity)?")]
    async fn developer(&self, ctx: &Context<'_>, id: ID) -> Option<Developer> {
        or_null(ctx, lookup(ctx, &id).await.map(Some))
    }

    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "crate::graphql::cost::root(crate::graphql::cost::list(first, last, child_complexity))?"
    )]
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
            lists::top_list::<Project>(
                rq,
                page_args!(first, after, last, before),
                filter,
                order_by,
            )
            .await?,
        )
    }

    #[graphql(complexity = "crate::graphql::cost::root(1 + child_complexity)?")]
    async fn project(&self, ctx: &Context<'_>, id: ID) -> Option<Project> {
        or_null(ctx, lookup(ctx, &id).await.map(Some))
    }

    /// Fetches any object by its global id; null when it does not exist
    /// (or belongs to another organization).
    #[graphql(complexity = "crate::graphql::cost::root(1 + child_complexity)?")]
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Option<Node> {
        let found = async {
            let rq = request(ctx)?;
            let mut found = load_nodes(rq, std::slice::from_ref(&id)).await?;
            Ok(found.pop().flatten())
        };
        or_null(ctx, found.await)
    }

    /// Fetches objects by global id, in order; null for each that does not exist.
    #[graphql(
        complexity = "crate::graphql::cost::root(crate::graphql::cost::ids(&ids, child_complexity))?"
    )]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        let rq = request(ctx)?;
        if ids.len() > rq.limits.max_page_size {
            return Err(AppError::LimitExceeded(format!(
                "at most {} ids per call",
                rq.limits.max_page_size
            ))
            .into());
        }
        Ok(load_nodes(rq, &ids).await?)
    }
}

/// A root lookup (`teamSpace(id:)` …) reads its one row directly: a
/// DataLoader would hold it for the loader's batching delay, and root fields
/// do not nest, so there is no N+1 to avoid (aliases are bounded by the query
/// limits). A missing or foreign id answers NOT_FOUND.
async fn lookup<N>(ctx: &Context<'_>, id: &ID) -> AppResult<N>
where
    N: CohortObject<Table: Listed<Id: GlobalId>>,
{
    let rq = request(ctx)?;
    let id = <N::Table as ByIdInOrg>::Id::from_global(id)?;
    Ok(N::one(
        table::get::<N::Table>(rq.tenant(), &rq.db, id).await?,
    ))
}
