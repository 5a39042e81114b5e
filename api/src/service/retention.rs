//! Retention: raw events older than their organization's window are
//! deleted in bounded batches (so no statement holds locks for long). The
//! daily rollups are never touched: metrics outlive the raw events. The
//! webhook delivery ids kept for de-duplication go by the same window (a
//! source redelivers within days, not months).

use chrono::{Duration, Utc};
use entity::scoped::InOrg as _;
use entity::{event, organization, project, webhook_delivery};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Query,
};

use crate::{auth::TenantCtx, error::AppResult, ids::OrgId};

pub const DEFAULT_BATCH: u64 = 5_000;

/// Purges every organization; returns how many events were deleted.
pub async fn run(db: &DatabaseConnection, batch: u64) -> AppResult<u64> {
    // The list of tenants is the one read that spans them all: each purge
    // below runs in its own organization.
    let orgs = organization::Entity::find().all(db).await?;
    let mut deleted = 0;
    for org in orgs {
        let ctx = TenantCtx::unsafe_system(OrgId::from_db(org.id));
        deleted += purge(&ctx, db, org.event_retention_days, batch).await?;
        purge_deliveries(&ctx, db, org.event_retention_days, batch).await?;
    }
    Ok(deleted)
}

/// Forgets the webhook delivery ids received before the organization's window (through
/// `ix_webhook_deliveries_received`); returns how many.
pub async fn purge_deliveries(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    retention_days: i32,
    batch: u64,
) -> AppResult<u64> {
    let horizon = Utc::now() - Duration::days(i64::from(retention_days.max(1)));
    let mut deleted = 0;
    loop {
        let old = Query::select()
            .column(webhook_delivery::Column::Id)
            .from(webhook_delivery::Entity)
            .and_where(webhook_delivery::Column::OrganizationId.eq(ctx.org_id().uuid()))
            .and_where(webhook_delivery::Column::ReceivedAt.lt(horizon))
            .limit(batch.max(1))
            .to_owned();
        let done = webhook_delivery::Entity::delete_in(ctx.org_id())
            .filter(webhook_delivery::Column::Id.in_subquery(old))
            .exec(db)
            .await?;
        deleted += done.rows_affected;
        if done.rows_affected < batch.max(1) {
            return Ok(deleted);
        }
    }
}

/// Purges one organization, project by project: each batch is found
/// through `ix_events_project_occurred_at` (raw events have no index by
/// time alone; ingestion would pay for it and only this reads by time).
pub async fn purge(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    retention_days: i32,
    batch: u64,
) -> AppResult<u64> {
    let horizon = Utc::now() - Duration::days(i64::from(retention_days.max(1)));
    let org = ctx.org_id().uuid();
    let projects = project::Entity::find_in(ctx.org_id()).all(db).await?;
    let mut deleted = 0;
    for project in projects {
        loop {
            let old = Query::select()
                .column(event::Column::Id)
                .from(event::Entity)
                .and_where(event::Column::OrganizationId.eq(org))
                .and_where(event::Column::ProjectId.eq(project.id))
                .and_where(event::Column::OccurredAt.lt(horizon))
                .limit(batch.max(1))
                .to_owned();
            let done = event::Entity::delete_in(ctx.org_id())
                .filter(event::Column::Id.in_subquery(old))
                .exec(db)
                .await?;
            deleted += done.rows_affected;
            if done.rows_affected < batch.max(1) {
                break;
            }
        }
    }
    Ok(deleted)
}
