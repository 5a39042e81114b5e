//! The caller's organization.

use entity::organization;
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
};

pub async fn get(ctx: &TenantCtx, db: &impl ConnectionTrait) -> AppResult<organization::Model> {
    organization::Entity::find_by_id(ctx.org_id().uuid())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))
}
