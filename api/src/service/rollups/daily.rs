//! The daily rollup, `aggregated_events`: one row per (project, developer,
//! name, day in the organization's time zone), the one every other rollup
//! is a sum of. Ingestion adds to it here, in its own transaction, and so
//! to the team-space rollup (`team.rs`) and the organization, project and
//! developer rollups (`scope.rs`); concurrent batches add rather than
//! overwrite.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::aggregated_event;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::Writes;
use crate::{auth::TenantCtx, error::AppResult, ids::ProjectId};

/// Gathers into `writes` the counts per (developer, name, day) of one
/// project, for every rollup (reading the memberships through `txn`); the
/// BTreeMap's order is every transaction's lock order, so concurrent
/// ingesters of one project cannot deadlock.
pub async fn add(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project_id: ProjectId,
    counts: &BTreeMap<(Uuid, String, NaiveDate), i64>,
    writes: &mut Writes,
) -> AppResult<()> {
    use aggregated_event::Column as C;
    let (org, project) = (ctx.org_id().uuid(), project_id.uuid());
    let rows: Vec<_> = counts
        .iter()
        .map(|((dev, name, day), count)| {
            let key = [
                org.into(),
                project.into(),
                (*dev).into(),
                name.clone().into(),
                (*day).into(),
            ];
            (key, *count)
        })
        .collect();
    let keys = [
        C::OrganizationId,
        C::ProjectId,
        C::DeveloperId,
        C::Name,
        C::Day,
    ];
    writes.add_counts::<aggregated_event::Entity, _>(keys, C::Count, &rows)?;
    super::team::add_events(ctx, txn, counts, writes).await?;
    super::scope::add_events(ctx, project, counts, writes)
}
