//! Team-space memberships: who is in which team space, as lead or member.

use entity::{enums::TeamSpaceRole, team_space, team_space_member};

use crate::{
    ids::{DeveloperId, TeamSpaceId},
    service::prelude::*,
};

fn find(
    ctx: &TenantCtx,
    space: TeamSpaceId,
    dev: DeveloperId,
) -> sea_orm::Select<team_space_member::Entity> {
    team_space_member::Entity::find_in(ctx.org_id())
        .filter(team_space_member::Column::TeamSpaceId.eq(space))
        .filter(team_space_member::Column::DeveloperId.eq(dev))
}

/// The membership change a mutation asks for.
pub struct MemberChange {
    pub space: TeamSpaceId,
    pub developer: DeveloperId,
    pub role: TeamSpaceRole,
}

/// The team space and developer of a membership, both checked to exist in
/// the caller's organization, and the permission to manage the space.
async fn load_pair(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    space: TeamSpaceId,
    dev: DeveloperId,
) -> AppResult<(team_space::Model, entity::developer::Model)> {
    let space_row = table::get::<team_space::Entity>(ctx, db, space).await?;
    let dev_row = table::get::<entity::developer::Entity>(ctx, db, dev).await?;
    authorize(ctx, db, Action::ManageMembersOf(space)).await?;
    Ok((space_row, dev_row))
}

pub async fn add(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    change: MemberChange,
) -> AppResult<(team_space::Model, entity::developer::Model, TeamSpaceRole)> {
    let txn = begin_checked(ctx, db).await?;
    let (space, dev) = load_pair(ctx, &txn, change.space, change.developer).await?;
    // No "already a member?" read first: the primary key decides, also
    // between racing requests.
    let now = Utc::now();
    team_space_member::ActiveModel {
        organization_id: Set(ctx.org_id().uuid()),
        team_space_id: Set(space.id),
        developer_id: Set(dev.id),
        role: Set(change.role),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(member_conflict)?;
    crate::service::rollups::team::member_added(ctx, &txn, space.id, dev.id).await?;
    let details = json!({ "developerId": dev.id, "role": change.role });
    commit(ctx, txn, "team_space_member.add", &space, details).await?;
    Ok((space, dev, change.role))
}

pub async fn update(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    change: MemberChange,
) -> AppResult<(team_space::Model, entity::developer::Model, TeamSpaceRole)> {
    let txn = begin_checked(ctx, db).await?;
    let (space, dev) = load_pair(ctx, &txn, change.space, change.developer).await?;
    let row = find(ctx, change.space, change.developer)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("team space member"))?;
    let before = row.role;
    let mut active: team_space_member::ActiveModel = row.into();
    active.role = Set(change.role);
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    let details = json!({ "developerId": dev.id, "role": { "from": before, "to": change.role } });
    commit(ctx, txn, "team_space_member.update", &space, details).await?;
    Ok((space, dev, change.role))
}

pub async fn remove(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    space: TeamSpaceId,
    dev: DeveloperId,
) -> AppResult<team_space::Model> {
    let txn = begin_checked(ctx, db).await?;
    let (space_row, dev_row) = load_pair(ctx, &txn, space, dev).await?;
    let deleted = team_space_member::Entity::delete_in(ctx.org_id())
        .filter(team_space_member::Column::TeamSpaceId.eq(space))
        .filter(team_space_member::Column::DeveloperId.eq(dev))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::not_found("team space member"));
    }
    crate::service::rollups::team::member_removed(ctx, &txn, space.uuid(), dev.uuid()).await?;
    let details = json!({ "developerId": dev_row.id });
    commit(ctx, txn, "team_space_member.remove", &space_row, details).await?;
    Ok(space_row)
}

/// Audits a membership write against its team space, and commits it.
async fn commit(
    ctx: &TenantCtx,
    txn: sea_orm::DatabaseTransaction,
    action: &'static str,
    space: &team_space::Model,
    details: serde_json::Value,
) -> AppResult<()> {
    audit::commit(ctx, txn, Entry::of(action, space, details)).await
}

/// Two requests adding the same member race to the primary key.
fn member_conflict(err: sea_orm::DbErr) -> AppError {
    match entity::constraint::violation(&err) {
        Some(entity::constraint::Violation::Unique(_)) => AppError::Conflict {
            message: "the developer is already a member of this team space".into(),
            field: Some("developerId".into()),
        },
        _ => err.into(),
    }
}
