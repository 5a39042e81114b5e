//! The caller's organization.

use chrono::Utc;
use entity::organization;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    TransactionTrait,
};

use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    ids::NodeKind,
    permissions::{Action, authorize},
    service::{
        Changes,
        audit::{self, Entry},
    },
    validate,
};

pub async fn get(ctx: &TenantCtx, db: &impl ConnectionTrait) -> AppResult<organization::Model> {
    organization::Entity::find_by_id(ctx.org_id().uuid())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))
}

#[derive(Default)]
pub struct OrganizationPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
}

pub async fn update(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    patch: OrganizationPatch,
) -> AppResult<organization::Model> {
    let row = get(ctx, db).await?;
    authorize(ctx, db, Action::UpdateOrganization).await?;
    let mut changes = Changes::default();
    let mut active: organization::ActiveModel = row.clone().into();
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
    active.updated_at = Set(Utc::now());
    let txn = db.begin().await?;
    let row = active.update(&txn).await?;
    let entry = Entry {
        action: "organization.update",
        target: NodeKind::Organization,
        target_id: row.id,
        details: changes.into_json(),
    };
    audit::record(ctx, &txn, entry).await?;
    txn.commit().await?;
    Ok(row)
}
