//! Every write of a rollup: the daily rollup of every dimension
//! (`daily`: `aggregated_events`), the organization, project and developer
//! rollups summed from it (`scope`), the team-space rollup kept equal to its
//! members' daily rows (`team`), and the re-bucketing of retained raw
//! events after a time-zone change (`rebuild`). Each is called inside the
//! transaction of the change that moves it.

pub mod daily;
pub mod rebuild;
pub mod scope;
pub mod team;

use sea_orm::{
    ConnectionTrait, EntityTrait, Value,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};

use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
};

/// PostgreSQL sums bigints into numeric; both databases read this as BIGINT.
const SUM_COUNT: &str = r#"CAST(SUM("aggregated_events"."count") AS BIGINT)"#;

/// Before `project` is deleted (same transaction): takes its counts out of
/// every rollup that sums across projects. Its own rows (`aggregated_events`,
/// `project_rollups`) cascade away with it.
pub async fn project_deleting(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project: uuid::Uuid,
) -> AppResult<()> {
    // The team rollup first: on PostgreSQL it locks the project and its
    // developers, which this order relies on (see `scope`).
    team::project_deleting(ctx, txn, project).await?;
    scope::project_deleting(ctx, txn, project).await
}

/// Adds counts to a rollup table: each row is its key (the values of
/// `keys`, `organization_id` first) and a count; a key already stored gets
/// the count added, so concurrent writers add rather than overwrite. Rows
/// are written in the order given, which callers keep sorted: that order is
/// every transaction's lock order, so concurrent writers cannot deadlock.
/// At most 1,000 rows go in one statement, well under either database's
/// bind-parameter limit.
pub(crate) async fn add_counts<E: EntityTrait, const N: usize>(
    txn: &impl ConnectionTrait,
    keys: [E::Column; N],
    count: E::Column,
    rows: &[([Value; N], i64)],
) -> AppResult<()> {
    for chunk in rows.chunks(1000) {
        let mut insert = Query::insert();
        insert
            .into_table(E::default())
            .columns(keys.into_iter().chain([count]));
        for (key, n) in chunk {
            let values = key.iter().cloned().chain([Value::from(*n)]);
            insert
                .values(values.map(Into::into))
                .map_err(AppError::internal)?;
        }
        insert.on_conflict(
            OnConflict::columns(keys)
                .value(
                    count,
                    Expr::col((E::default(), count))
                        .add(Expr::col((Alias::new("excluded"), count))),
                )
                .to_owned(),
        );
        txn.execute(&insert).await?;
    }
    Ok(())
}
