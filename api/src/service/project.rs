//! Projects: lists, lookups, and the projects of team spaces.

use entity::project;
use sea_orm::{ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter, Select};

use crate::{
    auth::TenantCtx,
    error::AppResult,
    ids::{ProjectId, TeamSpaceId},
    pagination::{Keyed, OrderField, Page, PageRequest, SortKey},
    service::name_contains,
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProjectFilter {
    pub name_contains: Option<String>,
    pub team_space: Option<TeamSpaceId>,
}

impl Keyed for project::Model {
    fn sort_key(&self, field: OrderField) -> SortKey {
        match field {
            OrderField::Name => SortKey::Text(self.name.clone()),
            OrderField::CreatedAt => SortKey::Time(self.created_at),
        }
    }
    fn key_id(&self) -> uuid::Uuid {
        self.id
    }
}

fn apply_filter(
    mut select: Select<project::Entity>,
    filter: &ProjectFilter,
) -> Select<project::Entity> {
    if let Some(text) = &filter.name_contains {
        select = select.filter(name_contains(project::Column::Name, text));
    }
    if let Some(space) = filter.team_space {
        select = select.filter(project::Column::TeamSpaceId.eq(space));
    }
    select
}

fn sort_column(field: OrderField) -> project::Column {
    match field {
        OrderField::Name => project::Column::Name,
        OrderField::CreatedAt => project::Column::CreatedAt,
    }
}

pub async fn list(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    filter: &ProjectFilter,
    page: &PageRequest,
) -> AppResult<Page<project::Model>> {
    let select = page.apply_sql(
        apply_filter(project::Entity::find_in(ctx.org_id().uuid()), filter),
        sort_column(page.order.field),
        project::Column::Id,
    );
    Ok(page.finish_sql(select.all(db).await?))
}

pub async fn count(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    filter: &ProjectFilter,
) -> AppResult<u64> {
    Ok(
        apply_filter(project::Entity::find_in(ctx.org_id().uuid()), filter)
            .count(db)
            .await?,
    )
}

pub async fn by_ids(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    ids: &[ProjectId],
) -> AppResult<Vec<project::Model>> {
    Ok(project::Entity::find_in(ctx.org_id().uuid())
        .filter(project::Column::Id.is_in(ids.iter().map(|id| id.uuid())))
        .all(db)
        .await?)
}

/// The projects of several team spaces in one statement.
pub async fn of_team_spaces(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    spaces: &[TeamSpaceId],
    filter: &ProjectFilter,
) -> AppResult<Vec<project::Model>> {
    let select = project::Entity::find_in(ctx.org_id().uuid())
        .filter(project::Column::TeamSpaceId.is_in(spaces.iter().map(|s| s.uuid())));
    Ok(apply_filter(select, filter).all(db).await?)
}
