//! Event ingestion, one code path for `POST /v1/events` and the
//! `recordEvents` mutation. A batch is validated whole before anything is
//! written; then one transaction inserts the raw events (a client id seen
//! before in the project is skipped, so retries count once), adds the new
//! ones to the daily rollup and to event_meta, and commits before the
//! caller hears "accepted".

mod store;

use entity::scoped::InOrg as _;
use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use chrono_tz::Tz;
use entity::event_meta;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, TransactionTrait};

use crate::service::validate::event::{DevRef, Valid, validate};
pub use crate::service::validate::event::{EventInput, NAME_ALPHABET};

use crate::{
    auth::{Actor, TenantCtx},
    config::IngestLimits,
    error::{AppError, AppResult},
    ids::{NodeKind, ProjectId},
    permissions::{Action, authorize, records_only_for},
    service::{
        audit,
        live::{Change, Live},
        rollups::{self, Writes},
        table,
    },
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Stored now.
    pub accepted: u64,
    /// Already stored before (same client id in the project), or repeated in the batch.
    pub duplicated: u64,
    /// Accepted, naming a developer the organization does not know.
    pub unmatched: u64,
}

/// Ingests one batch for a project of the caller's organization.
pub async fn ingest(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    live: &Live,
    project_id: ProjectId,
    events: Vec<EventInput>,
    limits: &IngestLimits,
) -> AppResult<Ingested> {
    if events.len() > limits.max_events {
        return Err(AppError::LimitExceeded(format!(
            "a batch holds at most {} events, got {}",
            limits.max_events,
            events.len()
        )));
    }
    let org = table::organization(ctx, db).await?;
    table::get::<entity::project::Entity>(ctx, db, project_id).await?;
    authorize(ctx, db, Action::RecordEvents(project_id)).await?;
    let tz: Tz = org.time_zone.parse().unwrap_or(Tz::UTC);
    let now = Utc::now();
    let oldest = now - Duration::days(i64::from(Ord::max(org.event_retention_days, 1)));
    let total = events.len() as u64;
    let mut valid = Vec::with_capacity(events.len());
    for (index, input) in events.into_iter().enumerate() {
        valid.push(validate(index, input, now, oldest, limits)?);
    }
    // A member's events are theirs: one that names nobody is recorded for
    // them, one that names someone else is refused.
    let only_for = records_only_for(ctx);
    if let Some(me) = only_for {
        for e in valid.iter_mut().filter(|e| e.developer.is_none()) {
            e.developer = Some(DevRef::Id(me.uuid()));
        }
    }
    // A client id repeated inside the batch counts once, like a retry.
    let mut seen = BTreeSet::new();
    valid.retain(|e| seen.insert(e.client_id.clone()));
    if valid.is_empty() {
        return Ok(Ingested {
            duplicated: total,
            ..Default::default()
        });
    }
    let developers = store::resolve_developers(ctx, db, &valid).await?;
    if let Some(me) = only_for {
        let foreign = valid.iter().find(|e| {
            let named = e.developer.as_ref().and_then(|d| developers.get(d));
            named != Some(&me.uuid())
        });
        if let Some(e) = foreign {
            return Err(AppError::Forbidden(format!(
                "members record events only for themselves; event `{}` names another developer",
                e.client_id
            )));
        }
    }

    let batch = Batch {
        project_id,
        valid: &valid,
        tz,
        now,
        total,
        limits,
    };
    // A transaction chosen as a deadlock victim was undone whole and its
    // client ids make it idempotent, so it runs again rather than fail the
    // batch (Citus's deadlock detector picks victims that plain PostgreSQL
    // would not: see `AppError::Collided`).
    let mut attempt = 1;
    loop {
        match write(ctx, db, live, &batch, developers.clone()).await {
            Err(AppError::Collided) if attempt < ATTEMPTS => attempt += 1,
            written => return written,
        }
    }
}

/// How many times a batch is tried when its transaction collides.
const ATTEMPTS: u32 = 3;

/// A validated batch, ready to be written.
struct Batch<'a> {
    project_id: ProjectId,
    valid: &'a [Valid],
    tz: Tz,
    now: chrono::DateTime<Utc>,
    /// Events sent, repeats included.
    total: u64,
    limits: &'a IngestLimits,
}

/// One transaction: the raw events, the rollups, event_meta and (for
/// people) the audit row, committed with the live announcement.
async fn write(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    live: &Live,
    batch: &Batch<'_>,
    mut developers: std::collections::HashMap<DevRef, uuid::Uuid>,
) -> AppResult<Ingested> {
    let Batch {
        project_id,
        valid,
        tz,
        now,
        total,
        limits,
    } = *batch;
    let txn = db.begin().await?;
    let identities = store::resolve_identities(ctx, &txn, valid, &mut developers, now).await?;
    let inserted =
        store::insert_events(ctx, &txn, project_id, valid, &developers, &identities, now).await?;
    let fresh: Vec<&Valid> = valid
        .iter()
        .filter(|e| inserted.contains(&e.client_id))
        .collect();
    // Reads and checks first, then every rollup write in one go: other
    // batches of the project wait for those rows (see `rollups::Writes`).
    let mut writes = Writes::new(&txn);
    store::add_to_rollup(ctx, &txn, project_id, &fresh, &developers, tz, &mut writes).await?;
    // People's batches (recordEvents) are audited, one row a batch; keys'
    // are counted in the metrics instead (they are machine volume).
    if matches!(ctx.actor(), Actor::Developer(_)) {
        let details = serde_json::json!({
            "accepted": fresh.len(),
            "duplicated": total - fresh.len() as u64,
        });
        let entry = audit::Entry {
            action: "events.record",
            target: NodeKind::Project,
            target_id: project_id.uuid(),
            details,
        };
        audit::record(ctx, &txn, entry).await?;
    }
    rollups::take_turn(ctx, &txn).await?;
    // After the turn: it reads `event_meta` rows it then overwrites.
    store::add_to_meta(ctx, &txn, project_id, &fresh, limits, &mut writes).await?;
    writes.run(&txn).await?;
    let change = (!fresh.is_empty()).then(|| {
        let named = fresh.iter().filter_map(|e| e.developer.as_ref());
        let devs = named.filter_map(|d| developers.get(d).copied()).collect();
        Change::metrics(ctx.org_id(), project_id.uuid(), devs)
    });
    match change {
        Some(change) => live.commit(txn, change).await?,
        None => txn.commit().await?,
    }

    let unmatched = fresh
        .iter()
        .filter(|e| {
            e.developer
                .as_ref()
                .is_some_and(|d| !developers.contains_key(d))
        })
        .count() as u64;
    Ok(Ingested {
        accepted: fresh.len() as u64,
        duplicated: total - fresh.len() as u64,
        unmatched,
    })
}

/// What a project has sent, per event name, from `event_meta`.
pub async fn meta(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    project_id: ProjectId,
) -> AppResult<Vec<event_meta::Model>> {
    use sea_orm::QueryOrder;
    Ok(event_meta::Entity::find_in(ctx.org_id())
        .filter(event_meta::Column::ProjectId.eq(project_id))
        .order_by_asc(event_meta::Column::Name)
        .all(db)
        .await?)
}
