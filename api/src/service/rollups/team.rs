//! `team_space_rollups`: every write to it. Each row is the sum of
//! `aggregated_events` over the team space's current members for one day and
//! event name, kept so by additive deltas inside the transaction that changes
//! either side: an ingested batch adds to its developers' team spaces, a
//! membership change adds or subtracts the developer's totals, a project
//! deletion subtracts the project's.
//!
//! Why the locks: on PostgreSQL an ingesting transaction takes `FOR KEY
//! SHARE` on its developers' rows before it reads their memberships, and a
//! membership change takes `FOR UPDATE` on the developer before it reads the
//! developer's totals. The two therefore run one after the other for a given
//! developer, and whichever runs second reads (in a new statement, so a new
//! snapshot) what the first committed: no batch is counted twice or missed
//! for a team space. Deltas for other developers commute. On SQLite writers
//! are serialized by the database.

use entity::scoped::InOrg as _;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use entity::{UNKNOWN_DEVELOPER, team_space_rollup as rollup};
use entity::{aggregated_event as agg, developer, project, team_space_member as member};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, QueryFilter, QueryResult,
    sea_query::{Alias, Expr, ExprTrait, LockType, Query, SelectStatement},
};
use uuid::Uuid;

use super::Writes;
use crate::{auth::TenantCtx, error::AppResult, service::any_of::any_of};

/// (team space, day, event name) → count to add (negative: subtract).
type Deltas = BTreeMap<(Uuid, NaiveDate, String), i64>;

/// Gathers into `writes` an ingested batch's counts, keyed (developer,
/// name, day), for the team spaces those developers belong to.
pub async fn add_events(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    counts: &BTreeMap<(Uuid, String, NaiveDate), i64>,
    writes: &mut Writes,
) -> AppResult<()> {
    let devs: BTreeSet<Uuid> = counts
        .keys()
        .map(|(dev, _, _)| *dev)
        .filter(|dev| *dev != UNKNOWN_DEVELOPER)
        .collect();
    if devs.is_empty() {
        return Ok(());
    }
    lock_developers(ctx, txn, &devs, LockType::KeyShare).await?;
    let rows = member::Entity::find_in(ctx.org_id())
        .filter(any_of(
            txn.get_database_backend(),
            member::Column::DeveloperId.into_expr(),
            devs,
        ))
        .all(txn)
        .await?;
    let mut spaces: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in rows {
        spaces
            .entry(row.developer_id)
            .or_default()
            .push(row.team_space_id);
    }
    let mut deltas = Deltas::new();
    for ((dev, name, day), count) in counts {
        for space in spaces.get(dev).into_iter().flatten() {
            *deltas.entry((*space, *day, name.clone())).or_default() += count;
        }
    }
    gather(ctx, deltas, writes)
}

/// After `dev` joined `space` (same transaction): adds the developer's totals.
pub async fn member_added(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    space: Uuid,
    dev: Uuid,
) -> AppResult<()> {
    member_changed(ctx, txn, space, dev, 1).await
}

/// After `dev` left `space` (same transaction): subtracts the developer's totals.
pub async fn member_removed(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    space: Uuid,
    dev: Uuid,
) -> AppResult<()> {
    member_changed(ctx, txn, space, dev, -1).await
}

async fn member_changed(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    space: Uuid,
    dev: Uuid,
    sign: i64,
) -> AppResult<()> {
    lock_developers(ctx, txn, &BTreeSet::from([dev]), LockType::Update).await?;
    let select = Query::select()
        .column(agg::Column::Day)
        .column(agg::Column::Name)
        .expr_as(Expr::cust(super::SUM_COUNT), Alias::new("total"))
        .from(agg::Entity)
        .and_where(Expr::col(agg::Column::OrganizationId).eq(ctx.org_id().uuid()))
        .and_where(Expr::col(agg::Column::DeveloperId).eq(dev))
        .group_by_columns([agg::Column::Day, agg::Column::Name])
        .to_owned();
    let rows = txn.query_all(&select).await?;
    apply(ctx, txn, to_deltas(&rows, Some(space), sign)?).await
}

/// Before `project` is deleted (same transaction; its aggregates cascade
/// away): subtracts what its events added to every team space.
pub async fn project_deleting(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project_id: Uuid,
) -> AppResult<()> {
    let org = ctx.org_id().uuid();
    if txn.get_database_backend() == DbBackend::Postgres {
        // Waits for batches already writing to the project, and makes later
        // ones wait (then fail on the deleted project).
        let lock = Query::select()
            .column(project::Column::Id)
            .from(project::Entity)
            .and_where(Expr::col(project::Column::OrganizationId).eq(org))
            .and_where(Expr::col(project::Column::Id).eq(project_id))
            .lock(LockType::Update)
            .to_owned();
        txn.query_all(&lock).await?;
        // And membership changes of its developers wait for this deletion.
        let devs = Query::select()
            .distinct()
            .column(agg::Column::DeveloperId)
            .from(agg::Entity)
            .and_where(Expr::col(agg::Column::OrganizationId).eq(org))
            .and_where(Expr::col(agg::Column::ProjectId).eq(project_id))
            .to_owned();
        let devs: BTreeSet<Uuid> = txn
            .query_all(&devs)
            .await?
            .iter()
            .map(|r| r.try_get("", "developer_id"))
            .collect::<Result<_, _>>()?;
        lock_developers(ctx, txn, &devs, LockType::Update).await?;
    }
    let select = per_space_totals(org)
        .and_where(Expr::col((agg::Entity, agg::Column::ProjectId)).eq(project_id))
        .to_owned();
    let rows = txn.query_all(&select).await?;
    apply(ctx, txn, to_deltas(&rows, None, -1)?).await
}

/// Recomputes the organization's rows from `aggregated_events` and the
/// memberships (after `devgraph rollup rebuild`).
pub async fn rebuild(ctx: &TenantCtx, txn: &impl ConnectionTrait) -> AppResult<()> {
    let org = ctx.org_id().uuid();
    rollup::Entity::delete_in(ctx.org_id()).exec(txn).await?;
    let member_org = Expr::col((member::Entity, member::Column::OrganizationId));
    let select = per_space_totals(org)
        .expr(member_org.clone())
        .add_group_by([member_org])
        .to_owned();
    let insert = Query::insert()
        .into_table(rollup::Entity)
        .columns([
            rollup::Column::TeamSpaceId,
            rollup::Column::Day,
            rollup::Column::Name,
            rollup::Column::Count,
            rollup::Column::OrganizationId,
        ])
        .select_from(select)
        .map_err(crate::error::AppError::internal)?
        .to_owned();
    txn.execute(&insert).await?;
    Ok(())
}

/// `team_space_id, day, name, total`: the organization's daily rows summed
/// per team space of their developers; callers narrow it further.
fn per_space_totals(org: Uuid) -> SelectStatement {
    let a = |col: agg::Column| Expr::col((agg::Entity, col));
    let m = |col: member::Column| Expr::col((member::Entity, col));
    Query::select()
        .expr(m(member::Column::TeamSpaceId))
        .expr(a(agg::Column::Day))
        .expr(a(agg::Column::Name))
        .expr_as(Expr::cust(super::SUM_COUNT), Alias::new("total"))
        .from(agg::Entity)
        .inner_join(
            member::Entity,
            m(member::Column::OrganizationId)
                .equals((agg::Entity, agg::Column::OrganizationId))
                .and(
                    m(member::Column::DeveloperId).equals((agg::Entity, agg::Column::DeveloperId)),
                ),
        )
        .and_where(a(agg::Column::OrganizationId).eq(org))
        .add_group_by([
            m(member::Column::TeamSpaceId),
            a(agg::Column::Day),
            a(agg::Column::Name),
        ])
        .to_owned()
}

/// Rows of `day, name, total` (and `team_space_id`, unless all are for
/// `space`) as deltas of `sign` times the total.
fn to_deltas(rows: &[QueryResult], space: Option<Uuid>, sign: i64) -> AppResult<Deltas> {
    let mut deltas = Deltas::new();
    for row in rows {
        let space = match space {
            Some(space) => space,
            None => row.try_get("", "team_space_id")?,
        };
        let day: NaiveDate = row.try_get("", "day")?;
        let name: String = row.try_get("", "name")?;
        let total: i64 = row.try_get("", "total")?;
        deltas.insert((space, day, name), sign * total);
    }
    Ok(deltas)
}

/// Shared (`KeyShare`) or exclusive (`Update`) row locks on developers, in
/// id order so that concurrent lockers cannot deadlock. PostgreSQL only.
async fn lock_developers(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    devs: &BTreeSet<Uuid>,
    lock: LockType,
) -> AppResult<()> {
    if txn.get_database_backend() != DbBackend::Postgres || devs.is_empty() {
        return Ok(());
    }
    let select = Query::select()
        .column(developer::Column::Id)
        .from(developer::Entity)
        .and_where(Expr::col(developer::Column::OrganizationId).eq(ctx.org_id().uuid()))
        .and_where(any_of(
            txn.get_database_backend(),
            Expr::col(developer::Column::Id),
            devs,
        ))
        .order_by(developer::Column::Id, sea_orm::Order::Asc)
        .lock(lock)
        .to_owned();
    txn.query_all(&select).await?;
    Ok(())
}

/// Drops the zero rows of the team spaces `devs` belong to (after their counts moved).
pub async fn drop_empty_rows_of(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    devs: &BTreeSet<Uuid>,
) -> AppResult<()> {
    let spaces: BTreeSet<Uuid> = member::Entity::find_in(ctx.org_id())
        .filter(any_of(
            txn.get_database_backend(),
            member::Column::DeveloperId.into_expr(),
            devs,
        ))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| m.team_space_id)
        .collect();
    if spaces.is_empty() {
        return Ok(());
    }
    rollup::Entity::delete_in(ctx.org_id())
        .filter(any_of(
            txn.get_database_backend(),
            rollup::Column::TeamSpaceId.into_expr(),
            spaces,
        ))
        .filter(rollup::Column::Count.lte(0))
        .exec(txn)
        .await?;
    Ok(())
}

/// Adds the deltas, then drops rows that fell to zero.
async fn apply(ctx: &TenantCtx, txn: &impl ConnectionTrait, deltas: Deltas) -> AppResult<()> {
    let subtracted = deltas.values().any(|d| *d < 0);
    let spaces: BTreeSet<Uuid> = deltas.keys().map(|(s, _, _)| *s).collect();
    let mut writes = Writes::new(txn);
    gather(ctx, deltas, &mut writes)?;
    writes.run(txn).await?;
    if subtracted {
        rollup::Entity::delete_in(ctx.org_id())
            .filter(any_of(
                txn.get_database_backend(),
                rollup::Column::TeamSpaceId.into_expr(),
                spaces,
            ))
            .filter(rollup::Column::Count.lte(0))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The deltas as one additive upsert in key order (the same lock order in
/// every transaction).
fn gather(ctx: &TenantCtx, deltas: Deltas, writes: &mut Writes) -> AppResult<()> {
    use rollup::Column as C;
    let org = ctx.org_id().uuid();
    let rows: Vec<_> = deltas
        .into_iter()
        .map(|((space, day, name), count)| {
            ([org.into(), space.into(), day.into(), name.into()], count)
        })
        .collect();
    let keys = [C::OrganizationId, C::TeamSpaceId, C::Day, C::Name];
    writes.add_counts::<rollup::Entity, _>(keys, C::Count, &rows)
}
