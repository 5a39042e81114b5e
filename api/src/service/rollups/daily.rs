//! The daily rollup, `aggregated_events`: one row per (project, developer,
//! name, day in the organization's time zone), the table every metric reads.
//! Ingestion adds to it here, in its own transaction, and so to the
//! team-space rollup (`team.rs`); concurrent batches add rather than
//! overwrite.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::aggregated_event;
use sea_orm::{
    ConnectionTrait,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};
use uuid::Uuid;

use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    ids::ProjectId,
};

/// Adds counts per (developer, name, day) of one project; the BTreeMap's
/// order is every transaction's lock order, so concurrent ingesters of one
/// project cannot deadlock.
pub async fn add(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project_id: ProjectId,
    counts: &BTreeMap<(Uuid, String, NaiveDate), i64>,
) -> AppResult<()> {
    use aggregated_event::Column as C;
    if counts.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert.into_table(aggregated_event::Entity).columns([
        C::OrganizationId,
        C::ProjectId,
        C::DeveloperId,
        C::Name,
        C::Day,
        C::Count,
    ]);
    for ((dev, name, day), count) in counts {
        insert
            .values([
                ctx.org_id().uuid().into(),
                project_id.uuid().into(),
                (*dev).into(),
                name.clone().into(),
                (*day).into(),
                (*count).into(),
            ])
            .map_err(AppError::internal)?;
    }
    insert.on_conflict(
        OnConflict::columns([
            C::OrganizationId,
            C::ProjectId,
            C::DeveloperId,
            C::Name,
            C::Day,
        ])
        .value(
            C::Count,
            Expr::col((aggregated_event::Entity, C::Count))
                .add(Expr::col((Alias::new("excluded"), C::Count))),
        )
        .to_owned(),
    );
    txn.execute(&insert).await?;
    super::team::add_events(ctx, txn, counts).await
}
