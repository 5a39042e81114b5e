//! Developers: lists, lookups, and the developers of team spaces.

use entity::{developer, enums::DeveloperRole, team_space_member};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QuerySelect,
    RelationDef, Select, sea_query::Query,
};

use crate::{
    auth::TenantCtx,
    error::AppResult,
    ids::{DeveloperId, TeamSpaceId},
    pagination::{Keyed, OrderField, Page, PageRequest, SortKey},
    service::name_contains,
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DeveloperFilter {
    pub name_contains: Option<String>,
    pub role: Option<DeveloperRole>,
    pub team_space: Option<TeamSpaceId>,
    /// `Some(true)`: only active; `Some(false)`: only deactivated.
    pub active: Option<bool>,
}

impl Keyed for developer::Model {
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

/// Filter conditions on developer columns, usable on any select that
/// includes the developers table.
fn apply_filter<S: QueryFilter>(ctx: &TenantCtx, mut select: S, filter: &DeveloperFilter) -> S {
    if let Some(text) = &filter.name_contains {
        select = select.filter(name_contains(developer::Column::Name, text));
    }
    if let Some(role) = filter.role {
        select = select.filter(developer::Column::Role.eq(role));
    }
    match filter.active {
        Some(true) => select = select.filter(developer::Column::DeactivatedAt.is_null()),
        Some(false) => select = select.filter(developer::Column::DeactivatedAt.is_not_null()),
        None => {}
    }
    if let Some(space) = filter.team_space {
        let members = Query::select()
            .column(team_space_member::Column::DeveloperId)
            .from(team_space_member::Entity)
            .and_where(team_space_member::Column::OrganizationId.eq(ctx.org_id()))
            .and_where(team_space_member::Column::TeamSpaceId.eq(space))
            .to_owned();
        select = select.filter(developer::Column::Id.in_subquery(members));
    }
    select
}

fn filtered(ctx: &TenantCtx, filter: &DeveloperFilter) -> Select<developer::Entity> {
    apply_filter(ctx, developer::Entity::find_in(ctx.org_id().uuid()), filter)
}

fn sort_column(field: OrderField) -> developer::Column {
    match field {
        OrderField::Name => developer::Column::Name,
        OrderField::CreatedAt => developer::Column::CreatedAt,
    }
}

pub async fn list(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    filter: &DeveloperFilter,
    page: &PageRequest,
) -> AppResult<Page<developer::Model>> {
    let select = page.apply_sql(
        filtered(ctx, filter),
        sort_column(page.order.field),
        developer::Column::Id,
    );
    Ok(page.finish_sql(select.all(db).await?))
}

pub async fn count(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    filter: &DeveloperFilter,
) -> AppResult<u64> {
    Ok(filtered(ctx, filter).count(db).await?)
}

pub async fn by_ids(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    ids: &[DeveloperId],
) -> AppResult<Vec<developer::Model>> {
    Ok(developer::Entity::find_in(ctx.org_id().uuid())
        .filter(developer::Column::Id.is_in(ids.iter().map(|id| id.uuid())))
        .all(db)
        .await?)
}

fn member_to_developer() -> RelationDef {
    team_space_member::Entity::belongs_to(developer::Entity)
        .from((
            team_space_member::Column::OrganizationId,
            team_space_member::Column::DeveloperId,
        ))
        .to((developer::Column::OrganizationId, developer::Column::Id))
        .into()
}

/// The developers of several team spaces in one statement, each paired
/// with the team space it was found through.
pub async fn of_team_spaces(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    spaces: &[TeamSpaceId],
    filter: &DeveloperFilter,
) -> AppResult<Vec<(TeamSpaceId, developer::Model)>> {
    let select = team_space_member::Entity::find_in(ctx.org_id().uuid())
        .filter(team_space_member::Column::TeamSpaceId.is_in(spaces.iter().map(|s| s.uuid())))
        .select_also(developer::Entity)
        .join(JoinType::InnerJoin, member_to_developer());
    let rows = apply_filter(ctx, select, filter).all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(member, dev)| dev.map(|d| (TeamSpaceId::from_db(member.team_space_id), d)))
        .collect())
}

pub async fn by_email(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    email: &str,
) -> AppResult<Option<developer::Model>> {
    Ok(developer::Entity::find_in(ctx.org_id().uuid())
        .filter(developer::Column::Email.eq(email))
        .one(db)
        .await?)
}

/// The earliest active owner: whom dev mode signs GraphiQL in as.
pub async fn first_owner(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
) -> AppResult<Option<developer::Model>> {
    use sea_orm::QueryOrder;
    Ok(developer::Entity::find_in(ctx.org_id().uuid())
        .filter(developer::Column::Role.eq(DeveloperRole::Owner))
        .filter(developer::Column::DeactivatedAt.is_null())
        .order_by_asc(developer::Column::CreatedAt)
        .one(db)
        .await?)
}
