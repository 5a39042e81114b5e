//! Rebuilding the daily rollup of an organization from its retained raw
//! events, after a time-zone change: `devgraph rollup rebuild --org <slug>`.
//! Only days that raw events still fully cover are re-bucketed; older days
//! keep the rollup they have (their raw events are gone). The rollups
//! summed from `aggregated_events` (team space, organization, project,
//! developer) are then recomputed from it whole, in the same transaction.

use entity::scoped::InOrg as _;
use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use entity::{aggregated_event as agg, event};
use sea_orm::{
    ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use crate::{auth::TenantCtx, error::AppResult, service::table};

/// Raw events read per page while re-bucketing.
const PAGE: u64 = 10_000;

pub struct Rebuilt {
    pub from_day: NaiveDate,
    pub events: u64,
    pub rows: u64,
}

pub async fn rebuild(ctx: &TenantCtx, db: &DatabaseConnection) -> AppResult<Rebuilt> {
    let org = table::organization(ctx, db).await?;
    let tz: Tz = org.time_zone.parse().unwrap_or(Tz::UTC);
    let horizon = Utc::now() - Duration::days(i64::from(org.event_retention_days.max(1)));
    // The first whole day (in the organization's zone) after the horizon.
    let from_day = horizon.with_timezone(&tz).date_naive() + Duration::days(1);
    let start = tz
        .from_local_datetime(&from_day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(horizon);
    let org_id = ctx.org_id().uuid();

    let txn = db.begin().await?;
    // Ingestion waits while the rollups are rebuilt (and the rebuild waits
    // for batches already writing): a batch committed between this
    // transaction's read of the raw events and its delete of the old rows
    // would otherwise be lost, and the two deadlocked on the rows.
    super::take_turn(ctx, &txn).await?;
    let mut counts: BTreeMap<(Uuid, Uuid, String, NaiveDate), i64> = BTreeMap::new();
    let mut events = 0u64;
    let mut after: Option<Uuid> = None;
    loop {
        let mut page = event::Entity::find_in(ctx.org_id())
            .filter(event::Column::OccurredAt.gte(start))
            .order_by_asc(event::Column::Id)
            .limit(PAGE);
        if let Some(last) = after {
            page = page.filter(event::Column::Id.gt(last));
        }
        let rows = page.all(&txn).await?;
        for e in &rows {
            let dev = e.developer_id.unwrap_or(entity::UNKNOWN_DEVELOPER);
            let day = e.occurred_at.with_timezone(&tz).date_naive();
            *counts
                .entry((e.project_id, dev, e.name.clone(), day))
                .or_default() += 1;
        }
        events += rows.len() as u64;
        after = rows.last().map(|e| e.id);
        if (rows.len() as u64) < PAGE {
            break;
        }
    }
    agg::Entity::delete_in(ctx.org_id())
        .filter(agg::Column::Day.gte(from_day))
        .exec(&txn)
        .await?;
    let rows = counts.len() as u64;
    let all: Vec<_> = counts
        .into_iter()
        .map(|((project, dev, name, day), count)| {
            let key = [
                org_id.into(),
                project.into(),
                dev.into(),
                name.into(),
                day.into(),
            ];
            (key, count)
        })
        .collect();
    let keys = [
        agg::Column::OrganizationId,
        agg::Column::ProjectId,
        agg::Column::DeveloperId,
        agg::Column::Name,
        agg::Column::Day,
    ];
    super::add_counts::<agg::Entity, _>(&txn, keys, agg::Column::Count, &all).await?;
    super::team::rebuild(ctx, &txn).await?;
    super::scope::rebuild(ctx, &txn).await?;
    txn.commit().await?;
    Ok(Rebuilt {
        from_day,
        events,
        rows,
    })
}
