//! Moving an identity's events to another developer (or back to nobody) when an admin links or
//! unlinks it: the events' `developer_id` changes, and their counts leave the old developer's
//! rows of every rollup for the new one's, in the linking transaction.
//!
//! The days are the events' calendar days in the organization's time zone now; after a time
//! zone change `devgraph rollup rebuild` re-buckets everything, as for any other event.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{
    UNKNOWN_DEVELOPER, aggregated_event as agg, developer_rollup as dev_rollup, event,
    scoped::InOrg as _,
};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect, sea_query::Expr};
use uuid::Uuid;

use super::Writes;
use crate::{
    auth::TenantCtx,
    error::AppResult,
    ids::{DeveloperId, IdentityId, ProjectId},
    service::any_of::any_of,
};

/// The identity's events now count for `to` (nobody: the unknown developer).
pub async fn events_of_identity(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    identity: IdentityId,
    to: Option<DeveloperId>,
) -> AppResult<()> {
    // Ingesters of the organization write rollups one at a time; so does this.
    super::take_turn(ctx, txn).await?;
    let to = to.map_or(UNKNOWN_DEVELOPER, DeveloperId::uuid);
    let rows: Vec<(Uuid, Option<Uuid>, String, DateTime<Utc>)> =
        event::Entity::find_in(ctx.org_id())
            .select_only()
            .columns([
                event::Column::ProjectId,
                event::Column::DeveloperId,
                event::Column::Name,
                event::Column::OccurredAt,
            ])
            .filter(event::Column::IdentityId.eq(identity))
            .into_tuple()
            .all(txn)
            .await?;
    let moving: Vec<_> = rows
        .into_iter()
        .filter(|(_, from, _, _)| from.unwrap_or(UNKNOWN_DEVELOPER) != to)
        .collect();
    if moving.is_empty() {
        return Ok(());
    }
    let org = crate::service::table::organization(ctx, txn).await?;
    let tz: Tz = org.time_zone.parse().unwrap_or(Tz::UTC);
    type Counts = BTreeMap<(Uuid, String, NaiveDate), i64>;
    let mut by_project: BTreeMap<Uuid, Counts> = BTreeMap::new();
    let mut devs = BTreeSet::from([to]);
    for (project, from, name, at) in &moving {
        let from = from.unwrap_or(UNKNOWN_DEVELOPER);
        devs.insert(from);
        let day = at.with_timezone(&tz).date_naive();
        let counts = by_project.entry(*project).or_default();
        *counts.entry((from, name.clone(), day)).or_default() -= 1;
        *counts.entry((to, name.clone(), day)).or_default() += 1;
    }
    event::Entity::update_in(ctx.org_id())
        .col_expr(
            event::Column::DeveloperId,
            Expr::value((to != UNKNOWN_DEVELOPER).then_some(to)),
        )
        .filter(event::Column::IdentityId.eq(identity))
        .exec(txn)
        .await?;
    let mut writes = Writes::new(txn);
    for (project, counts) in &by_project {
        super::daily::add(ctx, txn, ProjectId::from_db(*project), counts, &mut writes).await?;
    }
    writes.run(txn).await?;
    // A recount has no rows of zero: drop the ones the move emptied.
    let backend = txn.get_database_backend();
    agg::Entity::delete_in(ctx.org_id())
        .filter(any_of(backend, agg::Column::DeveloperId.into_expr(), &devs))
        .filter(agg::Column::Count.lte(0))
        .exec(txn)
        .await?;
    dev_rollup::Entity::delete_in(ctx.org_id())
        .filter(any_of(
            backend,
            dev_rollup::Column::DeveloperId.into_expr(),
            &devs,
        ))
        .filter(dev_rollup::Column::Count.lte(0))
        .exec(txn)
        .await?;
    super::team::drop_empty_rows_of(ctx, txn, &devs).await
}
