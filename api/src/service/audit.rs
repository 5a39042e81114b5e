//! The audit log: every successful mutation writes one row in its own
//! transaction, so a change and its record commit or vanish together.

use chrono::Utc;
use entity::audit_log;
use entity::scoped::InOrg as _;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, Select, TransactionTrait,
};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    auth::TenantCtx,
    error::AppResult,
    ids::{AuditLogEntryId, NodeKind},
    pagination::{Keyed, Page, PageRequest},
    permissions::{Action, authorize},
    service::table::{Audited, listed},
};

listed!(audit_log, "audit log entry", action: Action, at: At);

type ModelOf<A> = <<A as ActiveModelTrait>::Entity as EntityTrait>::Model;

/// Writes an update and its audit row in one transaction: both commit or
/// neither does. `entry` describes the updated row.
pub async fn update<A>(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    active: A,
    entry: impl FnOnce(&ModelOf<A>) -> Entry,
) -> AppResult<ModelOf<A>>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    ModelOf<A>: IntoActiveModel<A>,
{
    let txn = db.begin().await?;
    let row = active.update(&txn).await?;
    let entry = entry(&row);
    commit(ctx, txn, entry).await?;
    Ok(row)
}

/// Records a write's audit row and commits its transaction: the change and
/// its record commit together, or neither does.
pub async fn commit(ctx: &TenantCtx, txn: DatabaseTransaction, entry: Entry) -> AppResult<()> {
    record(ctx, &txn, entry).await?;
    txn.commit().await?;
    Ok(())
}

/// What a mutation changed, for its audit row.
pub struct Entry {
    /// `<target type>.<verb>`, e.g. `team_space.create`.
    pub action: &'static str,
    pub target: NodeKind,
    pub target_id: Uuid,
    pub details: Value,
}

impl Entry {
    /// The entry of a write to `row`, a row of a listed table.
    pub fn of<M: Keyed + Audited>(action: &'static str, row: &M, details: Value) -> Entry {
        Entry {
            action,
            target: M::KIND,
            target_id: row.key_id(),
            details,
        }
    }
}

pub async fn record(ctx: &TenantCtx, txn: &impl ConnectionTrait, entry: Entry) -> AppResult<()> {
    let (actor_type, actor_id) = ctx.audit_actor();
    audit_log::Entity::insert(audit_log::ActiveModel {
        organization_id: Set(ctx.org_id().uuid()),
        id: Set(AuditLogEntryId::new().uuid()),
        actor_type: Set(actor_type.to_owned()),
        actor_id: Set(actor_id),
        action: Set(entry.action.to_owned()),
        target_type: Set(entry.target.name().to_owned()),
        target_id: Set(Some(entry.target_id)),
        at: Set(Utc::now()),
        details: Set(entry.details),
    })
    .exec(txn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
}

fn filtered(ctx: &TenantCtx, filter: &AuditFilter) -> Select<audit_log::Entity> {
    let mut select = audit_log::Entity::find_in(ctx.org_id());
    if let Some(action) = &filter.action {
        select = select.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    if let Some(actor) = filter.actor_id {
        select = select.filter(audit_log::Column::ActorId.eq(actor));
    }
    if let Some(target) = filter.target_id {
        select = select.filter(audit_log::Column::TargetId.eq(target));
    }
    select
}

/// Newest first (the page request carries that order).
pub async fn list(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    page: &PageRequest,
) -> AppResult<Page<audit_log::Model>> {
    authorize(ctx, db, Action::ReadAuditLog).await?;
    let select = page.apply_sql(
        filtered(ctx, filter),
        audit_log::Column::At,
        audit_log::Column::Id,
    );
    Ok(page.finish_sql(select.all(db).await?))
}

pub async fn count(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
) -> AppResult<u64> {
    authorize(ctx, db, Action::ReadAuditLog).await?;
    Ok(filtered(ctx, filter).count(db).await?)
}
