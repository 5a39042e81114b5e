//! `organization_rollups`, `project_rollups` and `developer_rollups`: every
//! write to them. Each row is `aggregated_events` summed over the
//! dimensions its table drops, for one day and event name, kept so by the
//! same deltas in the same transaction: an ingested batch adds its counts
//! (`add_events`, called by `daily::add`), a project deletion subtracts the
//! project's (its `project_rollups` rows cascade away with it, as its
//! `aggregated_events` do), and `devgraph rollup rebuild` recomputes them.
//! Retention deletes raw events only, so it moves no rollup.
//!
//! Lock order: every writer adds to `aggregated_events`, then
//! `team_space_rollups`, then these three in the order of this file, each
//! in key order (the BTreeMaps), so concurrent ingesters and deletions of
//! one organization wait for each other but cannot deadlock.

use entity::scoped::InOrg as _;
use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use entity::{
    aggregated_event as agg, developer_rollup as dev_rollup, organization_rollup as org_rollup,
    project_rollup,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use super::Writes;
use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    service::any_of::any_of,
};

/// (developer, name, day) → count: one project's counts, as ingestion
/// gathers them.
pub type Counts = BTreeMap<(Uuid, String, NaiveDate), i64>;

/// The counts of one project folded into each table's key, the sign applied.
#[derive(Default)]
struct Deltas {
    org: BTreeMap<(NaiveDate, String), i64>,
    project: BTreeMap<(NaiveDate, String), i64>,
    dev: BTreeMap<(Uuid, NaiveDate, String), i64>,
}

impl Deltas {
    fn of(counts: &Counts, sign: i64) -> Deltas {
        let mut d = Deltas::default();
        for ((dev, name, day), n) in counts {
            *d.org.entry((*day, name.clone())).or_default() += sign * n;
            *d.project.entry((*day, name.clone())).or_default() += sign * n;
            *d.dev.entry((*dev, *day, name.clone())).or_default() += sign * n;
        }
        d
    }
}

/// Gathers an ingested batch of `project` for the three rollups: one
/// additive upsert per table.
pub fn add_events(
    ctx: &TenantCtx,
    project: Uuid,
    counts: &Counts,
    writes: &mut Writes,
) -> AppResult<()> {
    let d = Deltas::of(counts, 1);
    add_org(ctx, &d.org, writes)?;
    let org = ctx.org_id().uuid();
    let rows: Vec<_> = d
        .project
        .iter()
        .map(|((day, name), n)| {
            let key = [
                org.into(),
                project.into(),
                (*day).into(),
                name.clone().into(),
            ];
            (key, *n)
        })
        .collect();
    use project_rollup::Column as P;
    let keys = [P::OrganizationId, P::ProjectId, P::Day, P::Name];
    writes.add_counts::<project_rollup::Entity, _>(keys, P::Count, &rows)?;
    add_dev(ctx, &d.dev, writes)
}

/// Before `project` is deleted (same transaction, after
/// `team::project_deleting`, which on PostgreSQL has locked the project
/// against new batches): subtracts its `aggregated_events` from the
/// organization and developer rollups, and drops the rows that fall to
/// zero, which a recount would not have. Its `project_rollups` rows go with
/// the project (cascade).
pub async fn project_deleting(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project: Uuid,
) -> AppResult<()> {
    // The project's rows are already one per (developer, name, day).
    let rows = agg::Entity::find_in(ctx.org_id())
        .filter(agg::Column::ProjectId.eq(project))
        .all(txn)
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let counts: Counts = rows
        .into_iter()
        .map(|r| ((r.developer_id, r.name, r.day), r.count))
        .collect();
    let d = Deltas::of(&counts, -1);
    let mut writes = Writes::new(txn);
    add_org(ctx, &d.org, &mut writes)?;
    add_dev(ctx, &d.dev, &mut writes)?;
    writes.run(txn).await?;
    org_rollup::Entity::delete_in(ctx.org_id())
        .filter(org_rollup::Column::Count.lte(0))
        .exec(txn)
        .await?;
    let devs: BTreeSet<Uuid> = d.dev.keys().map(|(dev, _, _)| *dev).collect();
    dev_rollup::Entity::delete_in(ctx.org_id())
        .filter(any_of(
            txn.get_database_backend(),
            dev_rollup::Column::DeveloperId.into_expr(),
            devs,
        ))
        .filter(dev_rollup::Column::Count.lte(0))
        .exec(txn)
        .await?;
    Ok(())
}

/// Recomputes the organization's rows of the three tables from
/// `aggregated_events` (after `devgraph rollup rebuild` re-bucketed it):
/// whatever they held before, they equal a recount afterwards.
pub async fn rebuild(ctx: &TenantCtx, txn: &impl ConnectionTrait) -> AppResult<()> {
    org_rollup::Entity::delete_in(ctx.org_id())
        .exec(txn)
        .await?;
    project_rollup::Entity::delete_in(ctx.org_id())
        .exec(txn)
        .await?;
    dev_rollup::Entity::delete_in(ctx.org_id())
        .exec(txn)
        .await?;
    use {dev_rollup::Column as D, org_rollup::Column as O, project_rollup::Column as P};
    let columns = [O::OrganizationId, O::Day, O::Name, O::Count];
    refill(ctx, txn, org_rollup::Entity, columns, &[]).await?;
    let columns = [P::OrganizationId, P::ProjectId, P::Day, P::Name, P::Count];
    refill(
        ctx,
        txn,
        project_rollup::Entity,
        columns,
        &[agg::Column::ProjectId],
    )
    .await?;
    let columns = [D::OrganizationId, D::DeveloperId, D::Day, D::Name, D::Count];
    refill(
        ctx,
        txn,
        dev_rollup::Entity,
        columns,
        &[agg::Column::DeveloperId],
    )
    .await
}

/// `INSERT INTO table (columns…)` of the organization's `aggregated_events`
/// summed per (`by`…, day, name); `columns` name the target's
/// organization, `by`, day, name and count columns, in that order.
async fn refill<E: EntityTrait, const N: usize>(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    table: E,
    columns: [E::Column; N],
    by: &[agg::Column],
) -> AppResult<()> {
    let mut group = vec![agg::Column::OrganizationId];
    group.extend(by);
    group.extend([agg::Column::Day, agg::Column::Name]);
    let select = Query::select()
        .columns(group.clone())
        .expr(Expr::cust(super::SUM_COUNT))
        .from(agg::Entity)
        .and_where(Expr::col(agg::Column::OrganizationId).eq(ctx.org_id().uuid()))
        .group_by_columns(group)
        .to_owned();
    let insert = Query::insert()
        .into_table(table)
        .columns(columns)
        .select_from(select)
        .map_err(AppError::internal)?
        .to_owned();
    txn.execute(&insert).await?;
    Ok(())
}

fn add_org(
    ctx: &TenantCtx,
    deltas: &BTreeMap<(NaiveDate, String), i64>,
    writes: &mut Writes,
) -> AppResult<()> {
    use org_rollup::Column as O;
    let org = ctx.org_id().uuid();
    let rows: Vec<_> = deltas
        .iter()
        .map(|((day, name), n)| ([org.into(), (*day).into(), name.clone().into()], *n))
        .collect();
    let keys = [O::OrganizationId, O::Day, O::Name];
    writes.add_counts::<org_rollup::Entity, _>(keys, O::Count, &rows)
}

fn add_dev(
    ctx: &TenantCtx,
    deltas: &BTreeMap<(Uuid, NaiveDate, String), i64>,
    writes: &mut Writes,
) -> AppResult<()> {
    use dev_rollup::Column as D;
    let org = ctx.org_id().uuid();
    let rows: Vec<_> = deltas
        .iter()
        .map(|((dev, day, name), n)| {
            let key = [
                org.into(),
                (*dev).into(),
                (*day).into(),
                name.clone().into(),
            ];
            (key, *n)
        })
        .collect();
    let keys = [D::OrganizationId, D::DeveloperId, D::Day, D::Name];
    writes.add_counts::<dev_rollup::Entity, _>(keys, D::Count, &rows)
}
