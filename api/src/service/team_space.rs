//! Team spaces: lists, lookups, and the team spaces of developers.

use entity::{team_space, team_space_member};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QuerySelect,
    RelationDef, Select,
};

use crate::{
    auth::TenantCtx,
    error::AppResult,
    ids::{DeveloperId, TeamSpaceId},
    pagination::{Keyed, OrderField, Page, PageRequest, SortKey},
    service::name_contains,
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TeamSpaceFilter {
    pub name_contains: Option<String>,
}

impl Keyed for team_space::Model {
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

fn filtered(ctx: &TenantCtx, filter: &TeamSpaceFilter) -> Select<team_space::Entity> {
    let mut select = team_space::Entity::find_in(ctx.org_id().uuid());
    if let Some(text) = &filter.name_contains {
        select = select.filter(name_contains(team_space::Column::Name, text));
    }
    select
}

pub fn sort_column(field: OrderField) -> team_space::Column {
    match field {
        OrderField::Name => team_space::Column::Name,
        OrderField::CreatedAt => team_space::Column::CreatedAt,
    }
}

pub async fn list(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    filter: &TeamSpaceFilter,
    page: &PageRequest,
) -> AppResult<Page<team_space::Model>> {
    let select = page.apply_sql(
        filtered(ctx, filter),
        sort_column(page.order.field),
        team_space::Column::Id,
    );
    Ok(page.finish_sql(select.all(db).await?))
}

pub async fn count(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    filter: &TeamSpaceFilter,
) -> AppResult<u64> {
    Ok(filtered(ctx, filter).count(db).await?)
}

pub async fn by_ids(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    ids: &[TeamSpaceId],
) -> AppResult<Vec<team_space::Model>> {
    Ok(team_space::Entity::find_in(ctx.org_id().uuid())
        .filter(team_space::Column::Id.is_in(ids.iter().map(|id| id.uuid())))
        .all(db)
        .await?)
}

/// Memberships → team spaces, joined on the organization as well as the id.
fn member_to_team_space() -> RelationDef {
    team_space_member::Entity::belongs_to(team_space::Entity)
        .from((
            team_space_member::Column::OrganizationId,
            team_space_member::Column::TeamSpaceId,
        ))
        .to((team_space::Column::OrganizationId, team_space::Column::Id))
        .into()
}

/// The team spaces of several developers in one statement, each paired
/// with the developer it belongs to.
pub async fn of_developers(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    developers: &[DeveloperId],
    filter: &TeamSpaceFilter,
) -> AppResult<Vec<(DeveloperId, team_space::Model)>> {
    let mut select = team_space_member::Entity::find_in(ctx.org_id().uuid())
        .filter(team_space_member::Column::DeveloperId.is_in(developers.iter().map(|d| d.uuid())))
        .select_also(team_space::Entity)
        .join(JoinType::InnerJoin, member_to_team_space());
    if let Some(text) = &filter.name_contains {
        select = select.filter(name_contains(team_space::Column::Name, text));
    }
    let rows = select.all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(member, space)| space.map(|s| (DeveloperId::from_db(member.developer_id), s)))
        .collect())
}
