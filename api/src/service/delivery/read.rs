//! Reads of the delivery data for the GraphQL API: each nested list loads
//! for many parents in one statement (`PageRequest::window_sql`, the
//! parents' ids bound as one array), and each lookup by a natural key
//! (an incident's deployment by external id) loads a whole cohort's keys
//! at once. Writes are ingestion's (`ingest`).
//!
//! Lists order by `OrderField::Name` or `OrderField::CreatedAt`, which each
//! table maps to its own columns (`listed!` below): a pull request's title
//! and opening time, a repository's full name and creation, a deployment's
//! environment and start, an incident's title and opening, an identity's
//! value and first sighting. Reviews are read by submission time only (their
//! "name" slot is the source's review id, which no API order offers).

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use entity::{
    deployment, deployment_pull_request, enums::PullRequestState, identity, incident, pull_request,
    pull_request_review, repository,
};
use sea_orm::{
    ActiveEnum as _, DbBackend, FromQueryResult, JoinType, PaginatorTrait, QuerySelect, Select,
};
use uuid::Uuid;

use crate::{
    ids::{DeploymentId, DeveloperId, ProjectId, PullRequestId, RepositoryId},
    pagination::{ChildRow, Page, PageRequest, fetch_window},
    service::{any_of::any_of, prelude::*},
};

listed!(repository, "repository", full_name: FullName, created_at: CreatedAt);
listed!(pull_request, "pull request", title: Title, opened_at: OpenedAt);
listed!(pull_request_review, "review", external_id: ExternalId, submitted_at: SubmittedAt);
listed!(deployment, "deployment", environment: Environment, started_at: StartedAt);
listed!(incident, "incident", title: Title, opened_at: OpenedAt);
listed!(identity, "identity", value: Value, first_seen_at: FirstSeenAt);

/// Every row of a table: the filter of lists that take none.
pub struct Unfiltered<E>(PhantomData<fn() -> E>);

impl<E> Default for Unfiltered<E> {
    fn default() -> Self {
        Unfiltered(PhantomData)
    }
}

impl<E> Clone for Unfiltered<E> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<E: Listed> table::Filter for Unfiltered<E> {
    type Table = E;

    fn narrow(&self, _: &TenantCtx, select: Select<E>) -> Select<E> {
        select
    }
}

/// Which pull requests a list holds. `states: Some(vec![])` matches none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PullRequestFilter {
    pub states: Option<Vec<PullRequestState>>,
    /// An id of no developer of the organization (another's included)
    /// matches nothing.
    pub author: Option<DeveloperId>,
    /// Merged at or after this time.
    pub merged_from: Option<DateTime<Utc>>,
    /// Merged before this time.
    pub merged_to: Option<DateTime<Utc>>,
}

fn pull_request_filter(
    backend: DbBackend,
    mut select: Select<pull_request::Entity>,
    filter: &PullRequestFilter,
) -> Select<pull_request::Entity> {
    if let Some(states) = &filter.states {
        // Rows hold the state's text, so the set binds as text.
        let texts = states.iter().map(|s| s.to_value());
        let column = pull_request::Column::State.into_expr();
        select = select.filter(any_of(backend, column, texts));
    }
    if let Some(author) = filter.author {
        select = select.filter(pull_request::Column::AuthorId.eq(author));
    }
    if let Some(from) = filter.merged_from {
        select = select.filter(pull_request::Column::MergedAt.gte(from));
    }
    if let Some(to) = filter.merged_to {
        select = select.filter(pull_request::Column::MergedAt.lt(to));
    }
    select
}

/// One page of `E`'s rows for each parent whose id `parent` holds, in one
/// statement: the caller's organization, the parents bound as one array.
async fn children_of<E: Listed>(
    db: &impl ConnectionTrait,
    select: Select<E>,
    parent: E::Column,
    parents: impl IntoIterator<Item = Uuid>,
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<E::Model>>>
where
    E::Model: FromQueryResult,
{
    let backend = db.get_database_backend();
    let select = select.filter(any_of(backend, parent.into_expr(), parents));
    let statement = page.window_sql(
        select,
        (E::default(), parent),
        E::sort_column(page.order.field),
        E::id_column(),
    );
    fetch_window(db, &statement).await
}

/// The repositories of several projects.
pub async fn repositories_of_projects(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    projects: &[ProjectId],
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<repository::Model>>> {
    let select = repository::Entity::find_in(ctx.org_id());
    let parents = projects.iter().map(|p| p.uuid());
    children_of(db, select, repository::Column::ProjectId, parents, page).await
}

/// The pull requests of several repositories that pass `filter`.
pub async fn pull_requests_of_repositories(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    repositories: &[RepositoryId],
    filter: &PullRequestFilter,
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<pull_request::Model>>> {
    let select = pull_request::Entity::find_in(ctx.org_id());
    let select = pull_request_filter(db.get_database_backend(), select, filter);
    let parents = repositories.iter().map(|r| r.uuid());
    let parent = pull_request::Column::RepositoryId;
    children_of(db, select, parent, parents, page).await
}

/// The pull requests several developers authored that pass `filter` (its
/// `author` narrows further).
pub async fn pull_requests_of_developers(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    developers: &[DeveloperId],
    filter: &PullRequestFilter,
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<pull_request::Model>>> {
    let select = pull_request::Entity::find_in(ctx.org_id());
    let select = pull_request_filter(db.get_database_backend(), select, filter);
    let parents = developers.iter().map(|d| d.uuid());
    children_of(db, select, pull_request::Column::AuthorId, parents, page).await
}

/// The pull requests several deployments shipped that pass `filter`: those
/// that have arrived (a deployment may name a number before its pull request
/// comes).
pub async fn pull_requests_of_deployments(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    deployments: &[DeploymentId],
    filter: &PullRequestFilter,
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<pull_request::Model>>> {
    let backend = db.get_database_backend();
    let org = ctx.org_id().uuid();
    let shipped = deployment_pull_request::Column::DeploymentId;
    let select = pull_request::Entity::find_in(ctx.org_id())
        .join(
            JoinType::InnerJoin,
            deployment_pull_request::pull_request().rev(),
        )
        .filter(deployment_pull_request::Column::OrganizationId.eq(org))
        .filter(any_of(
            backend,
            shipped.into_expr(),
            deployments.iter().map(|d| d.uuid()),
        ));
    let select = pull_request_filter(backend, select, filter);
    let statement = page.window_sql(
        select,
        (deployment_pull_request::Entity, shipped),
        pull_request::Entity::sort_column(page.order.field),
        pull_request::Column::Id,
    );
    fetch_window(db, &statement).await
}

/// The reviews of several pull requests; a review whose pull request has
/// not arrived yet belongs to none.
pub async fn reviews_of_pull_requests(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    pull_requests: &[PullRequestId],
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<pull_request_review::Model>>> {
    let select = pull_request_review::Entity::find_in(ctx.org_id());
    let parents = pull_requests.iter().map(|p| p.uuid());
    let parent = pull_request_review::Column::PullRequestId;
    children_of(db, select, parent, parents, page).await
}

/// The reviews several developers submitted.
pub async fn reviews_of_developers(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    developers: &[DeveloperId],
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<pull_request_review::Model>>> {
    let select = pull_request_review::Entity::find_in(ctx.org_id());
    let parents = developers.iter().map(|d| d.uuid());
    let parent = pull_request_review::Column::ReviewerId;
    children_of(db, select, parent, parents, page).await
}

/// The deployments of several projects.
pub async fn deployments_of_projects(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    projects: &[ProjectId],
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<deployment::Model>>> {
    let select = deployment::Entity::find_in(ctx.org_id());
    let parents = projects.iter().map(|p| p.uuid());
    children_of(db, select, deployment::Column::ProjectId, parents, page).await
}

/// The incidents of several projects.
pub async fn incidents_of_projects(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    projects: &[ProjectId],
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<incident::Model>>> {
    let select = incident::Entity::find_in(ctx.org_id());
    let parents = projects.iter().map(|p| p.uuid());
    children_of(db, select, incident::Column::ProjectId, parents, page).await
}

/// The identities linked to several developers.
pub async fn identities_of_developers(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    developers: &[DeveloperId],
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<identity::Model>>> {
    let select = identity::Entity::find_in(ctx.org_id());
    let parents = developers.iter().map(|d| d.uuid());
    children_of(db, select, identity::Column::DeveloperId, parents, page).await
}

/// Identities no developer is linked to yet, which only admins and owners
/// read: they are the people to link or invite.
fn unmatched(ctx: &TenantCtx) -> Select<identity::Entity> {
    identity::Entity::find_in(ctx.org_id()).filter(identity::Column::DeveloperId.is_null())
}

pub async fn unmatched_identities(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    page: &PageRequest,
) -> AppResult<Page<identity::Model>> {
    authorize(ctx, db, Action::ReadIdentities).await?;
    table::page(db, unmatched(ctx), page).await
}

pub async fn count_unmatched_identities(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
) -> AppResult<u64> {
    authorize(ctx, db, Action::ReadIdentities).await?;
    Ok(unmatched(ctx).count(db).await?)
}

/// The deployments that incidents name as their cause, by project and
/// external id, in one statement for any number of incidents. Rows of a
/// project whose external id only another project's incident names come
/// back too; the caller pairs them up.
pub async fn deployments_by_external_ids(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    projects: &[ProjectId],
    external_ids: &[String],
) -> AppResult<Vec<deployment::Model>> {
    if external_ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let projects = projects.iter().map(|p| p.uuid());
    Ok(deployment::Entity::find_in(ctx.org_id())
        .filter(any_of(
            backend,
            deployment::Column::ProjectId.into_expr(),
            projects,
        ))
        .filter(any_of(
            backend,
            deployment::Column::ExternalId.into_expr(),
            external_ids,
        ))
        .all(db)
        .await?)
}

/// The pull requests several deployments shipped, by repository and number.
pub async fn shipped_by_deployments(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    deployments: &[DeploymentId],
) -> AppResult<Vec<deployment_pull_request::Model>> {
    if deployments.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let ids = deployments.iter().map(|d| d.uuid());
    let column = deployment_pull_request::Column::DeploymentId.into_expr();
    Ok(deployment_pull_request::Entity::find_in(ctx.org_id())
        .filter(any_of(backend, column, ids))
        .all(db)
        .await?)
}
