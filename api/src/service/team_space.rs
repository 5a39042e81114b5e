//! Team spaces: lists, lookups, and the team spaces of developers.

use entity::{project, team_space, team_space_member};
use sea_orm::{JoinType, QuerySelect, RelationTrait, Select, sea_query::Expr};

use crate::{
    ids::{DeveloperId, TeamSpaceId},
    pagination::{ChildRow, PageRequest, fetch_window},
    service::{any_of::any_of, name_contains, prelude::*},
};

listed!(team_space, "team space", name: Name, created_at: CreatedAt);

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TeamSpaceFilter {
    pub name_contains: Option<String>,
}

impl table::Filter for TeamSpaceFilter {
    type Table = team_space::Entity;

    fn narrow(
        &self,
        _: &TenantCtx,
        mut select: Select<team_space::Entity>,
    ) -> Select<team_space::Entity> {
        if let Some(text) = &self.name_contains {
            select = select.filter(name_contains(team_space::Column::Name, text));
        }
        select
    }
}

/// One page of team spaces for each of several developers, in one statement.
pub async fn of_developers(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    developers: &[DeveloperId],
    filter: &TeamSpaceFilter,
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<team_space::Model>>> {
    let org = ctx.org_id().uuid();
    let mut select = team_space::Entity::find_in(ctx.org_id())
        .join(
            JoinType::InnerJoin,
            team_space_member::Relation::TeamSpace.def().rev(),
        )
        .filter(team_space_member::Column::OrganizationId.eq(org))
        .filter(any_of(
            db.get_database_backend(),
            team_space_member::Column::DeveloperId.into_expr(),
            developers.iter().map(|d| d.uuid()),
        ));
    if let Some(text) = &filter.name_contains {
        select = select.filter(name_contains(team_space::Column::Name, text));
    }
    let statement = page.window_sql(
        select,
        (
            team_space_member::Entity,
            team_space_member::Column::DeveloperId,
        ),
        team_space::Entity::sort_column(page.order.field),
        team_space::Column::Id,
    );
    fetch_window(db, &statement).await
}

// Writes -------------------------------------------------------------------

pub struct NewTeamSpace {
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
}

/// Absent fields stay as they are; `description: Some(None)` clears it.
#[derive(Default)]
pub struct TeamSpacePatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<Option<String>>,
}

pub async fn create(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    input: NewTeamSpace,
) -> AppResult<team_space::Model> {
    authorize(ctx, db, Action::ManageTeamSpaces).await?;
    let name = validate::name("name", &input.name)?;
    let slug = validate::slug("slug", &input.slug)?;
    let description = validate::description("description", input.description.as_deref())?;
    let txn = db.begin().await?;
    let row = team_space::ActiveModel {
        slug: Set(slug),
        name: Set(name),
        description: Set(description),
        ..team_space::ActiveModel::new_in(ctx.org_id())
    }
    .insert(&txn)
    .await?;
    let details = json!({ "name": row.name, "slug": row.slug });
    audit::commit(ctx, txn, Entry::of("team_space.create", &row, details)).await?;
    Ok(row)
}

pub async fn update(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    id: TeamSpaceId,
    patch: TeamSpacePatch,
) -> AppResult<team_space::Model> {
    let row = table::get::<team_space::Entity>(ctx, db, id).await?;
    authorize(ctx, db, Action::ManageTeamSpaces).await?;
    let mut changes = Changes::default();
    let mut active: team_space::ActiveModel = row.clone().into();
    if let Some(name) = patch.name {
        let name = validate::name("name", &name)?;
        changes.note("name", &row.name, &name);
        active.name = Set(name);
    }
    if let Some(slug) = patch.slug {
        let slug = validate::slug("slug", &slug)?;
        changes.note("slug", &row.slug, &slug);
        active.slug = Set(slug);
    }
    if let Some(description) = patch.description {
        let description = validate::description("description", description.as_deref())?;
        changes.note("description", &row.description, &description);
        active.description = Set(description);
    }
    active.updated_at = Set(Utc::now());
    audit::update(ctx, db, active, |row| {
        Entry::of("team_space.update", row, changes.into_json())
    })
    .await
}

pub struct Deleted {
    pub detached_projects: u64,
    pub removed_members: u64,
}

/// Deletes a team space, its memberships, and detaches its projects, in one
/// transaction (the projects' foreign key is deferred, so the order inside
/// the transaction is free; clearing it first keeps the intent plain).
pub async fn delete(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    id: TeamSpaceId,
) -> AppResult<Deleted> {
    let row = table::get::<team_space::Entity>(ctx, db, id).await?;
    authorize(ctx, db, Action::ManageTeamSpaces).await?;
    let txn = db.begin().await?;
    let detached = project::Entity::update_in(ctx.org_id())
        .col_expr(
            project::Column::TeamSpaceId,
            Expr::value(Option::<uuid::Uuid>::None),
        )
        .col_expr(project::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(project::Column::TeamSpaceId.eq(id))
        .exec(&txn)
        .await?;
    let removed = team_space_member::Entity::delete_in(ctx.org_id())
        .filter(team_space_member::Column::TeamSpaceId.eq(id))
        .exec(&txn)
        .await?;
    team_space::Entity::delete_in(ctx.org_id())
        .filter(team_space::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let deleted = Deleted {
        detached_projects: detached.rows_affected,
        removed_members: removed.rows_affected,
    };
    let details = json!({
        "name": row.name,
        "slug": row.slug,
        "detachedProjects": deleted.detached_projects,
        "removedMembers": deleted.removed_members,
    });
    audit::commit(ctx, txn, Entry::of("team_space.delete", &row, details)).await?;
    Ok(deleted)
}
