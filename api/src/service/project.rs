//! Projects: lists, lookups, and the projects of team spaces.

use crate::ids::GlobalId as _;
use entity::project;
use sea_orm::Select;

use crate::{
    ids::{ProjectId, TeamSpaceId},
    pagination::{ChildRow, PageRequest, fetch_window},
    service::{any_of::any_of, name_contains, prelude::*},
};

listed!(project, "project", name: Name, created_at: CreatedAt);

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProjectFilter {
    pub name_contains: Option<String>,
    pub team_space: Option<TeamSpaceId>,
}

impl table::Filter for ProjectFilter {
    type Table = project::Entity;

    fn narrow(&self, _: &TenantCtx, select: Select<project::Entity>) -> Select<project::Entity> {
        apply_filter(select, self)
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

/// The projects of several team spaces in one statement.
pub async fn of_team_spaces(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    spaces: &[TeamSpaceId],
    filter: &ProjectFilter,
    page: &PageRequest,
) -> AppResult<Vec<ChildRow<project::Model>>> {
    let select = project::Entity::find_in(ctx.org_id()).filter(any_of(
        db.get_database_backend(),
        project::Column::TeamSpaceId.into_expr(),
        spaces.iter().map(|s| s.uuid()),
    ));
    let statement = page.window_sql(
        apply_filter(select, filter),
        (project::Entity, project::Column::TeamSpaceId),
        project::Entity::sort_column(page.order.field),
        project::Column::Id,
    );
    fetch_window(db, &statement).await
}

pub async fn by_slug(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<ProjectId>> {
    let row = project::Entity::find_in(ctx.org_id())
        .filter(project::Column::Slug.eq(slug))
        .one(db)
        .await?;
    Ok(row.map(|p| ProjectId::from_db(p.id)))
}

/// A project named by global id, raw uuid or slug.
pub async fn by_id_or_slug(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    key: &str,
) -> AppResult<Option<ProjectId>> {
    let id = uuid::Uuid::parse_str(key)
        .ok()
        .map(ProjectId::from_db)
        .or_else(|| ProjectId::from_global(key).ok());
    match id {
        Some(id) => Ok(table::by_ids::<project::Entity>(ctx, db, &[id])
            .await?
            .first()
            .map(|p| ProjectId::from_db(p.id))),
        None => by_slug(ctx, db, key).await,
    }
}

// Writes -------------------------------------------------------------------

pub struct NewProject {
    pub name: String,
    pub slug: String,
    pub team_space: Option<TeamSpaceId>,
}

/// Absent fields stay; `team_space: Some(None)` detaches the project.
#[derive(Default)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub team_space: Option<Option<TeamSpaceId>>,
}

pub async fn create(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    input: NewProject,
) -> AppResult<project::Model> {
    let name = validate::name("name", &input.name)?;
    let slug = validate::slug("slug", &input.slug)?;
    let txn = begin_checked(ctx, db).await?;
    if let Some(space) = input.team_space {
        table::get::<entity::team_space::Entity>(ctx, &txn, space).await?;
    }
    authorize(ctx, &txn, Action::ManageProjectsIn(input.team_space)).await?;
    let row = project::ActiveModel {
        team_space_id: Set(input.team_space.map(TeamSpaceId::uuid)),
        slug: Set(slug),
        name: Set(name),
        ..project::ActiveModel::new_in(ctx.org_id())
    }
    .insert(&txn)
    .await?;
    let details = json!({ "name": row.name, "slug": row.slug, "teamSpaceId": row.team_space_id });
    audit::commit(ctx, txn, Entry::of("project.create", &row, details)).await?;
    Ok(row)
}

pub async fn update(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    id: ProjectId,
    patch: ProjectPatch,
) -> AppResult<project::Model> {
    let txn = begin_checked(ctx, db).await?;
    let row = table::get::<project::Entity>(ctx, &txn, id).await?;
    let current = row.team_space_id.map(TeamSpaceId::from_db);
    if let Some(Some(space)) = patch.team_space {
        table::get::<entity::team_space::Entity>(ctx, &txn, space).await?;
    }
    authorize(ctx, &txn, Action::ManageProjectsIn(current)).await?;
    // Moving a project needs the right on both sides.
    if let Some(destination) = patch.team_space.filter(|d| *d != current) {
        authorize(ctx, &txn, Action::ManageProjectsIn(destination)).await?;
    }
    let mut changes = Changes::default();
    let mut active: project::ActiveModel = row.clone().into();
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
    if let Some(space) = patch.team_space {
        let space = space.map(TeamSpaceId::uuid);
        changes.note("teamSpaceId", &row.team_space_id, &space);
        active.team_space_id = Set(space);
    }
    active.updated_at = Set(Utc::now());
    let row = active.update(&txn).await?;
    let entry = Entry::of("project.update", &row, changes.into_json());
    audit::commit(ctx, txn, entry).await?;
    Ok(row)
}

/// Deletes a project; its events, rollups and bound API keys go with it
/// (cascading foreign keys; the keys' prefix rows by hand), and its counts
/// leave the rollups that sum across projects (team space, organization,
/// developer), in the same transaction.
pub async fn delete(ctx: &TenantCtx, db: &DatabaseConnection, id: ProjectId) -> AppResult<()> {
    let txn = begin_checked(ctx, db).await?;
    let row = table::get::<project::Entity>(ctx, &txn, id).await?;
    let space = row.team_space_id.map(TeamSpaceId::from_db);
    authorize(ctx, &txn, Action::ManageProjectsIn(space)).await?;
    crate::service::rollups::project_deleting(ctx, &txn, id.uuid()).await?;
    crate::service::api_key::project_deleting(ctx, &txn, id).await?;
    project::Entity::delete_in(ctx.org_id())
        .filter(project::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let details = json!({ "name": row.name, "slug": row.slug, "teamSpaceId": row.team_space_id });
    audit::commit(ctx, txn, Entry::of("project.delete", &row, details)).await?;
    Ok(())
}
