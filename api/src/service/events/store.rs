//! The writes of an accepted batch, inside its transaction: raw events
//! (deduplicated by client id), the daily rollup and event metadata.

use entity::scoped::InOrg as _;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{developer, event, event_meta};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, PaginatorTrait, QueryFilter, QueryResult,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};
use serde_json::Value;
use uuid::Uuid;

use crate::service::validate::event::{DevRef, Valid};
use crate::{
    auth::{Actor, TenantCtx},
    config::IngestLimits,
    error::{AppError, AppResult},
    ids::ProjectId,
    service::{
        any_of::any_of,
        rollups::{self, Writes},
    },
};

/// The developers the batch names, by email or id, in one statement.
pub(super) async fn resolve_developers(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    events: &[Valid],
) -> AppResult<HashMap<DevRef, Uuid>> {
    let mut emails = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for named in events.iter().filter_map(|e| e.developer.as_ref()) {
        match named {
            DevRef::Email(email) => emails.insert(email.clone()),
            DevRef::Id(id) => ids.insert(*id),
        };
    }
    if emails.is_empty() && ids.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    let rows = developer::Entity::find_in(ctx.org_id())
        .filter(
            sea_orm::Condition::any()
                .add(any_of(
                    backend,
                    developer::Column::Email.into_expr(),
                    emails,
                ))
                .add(any_of(backend, developer::Column::Id.into_expr(), ids)),
        )
        .all(db)
        .await?;
    let mut out = HashMap::with_capacity(rows.len() * 2);
    for row in rows {
        out.insert(DevRef::Email(row.email.to_lowercase()), row.id);
        out.insert(DevRef::Id(row.id), row.id);
    }
    Ok(out)
}

/// The identities of the emails no developer has: an event naming one is kept under the
/// identity, so that linking it to a developer later re-attributes the event. An identity
/// already linked counts its events for its developer (added to `developers`).
pub(super) async fn resolve_identities(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    events: &[Valid],
    developers: &mut HashMap<DevRef, Uuid>,
    now: DateTime<Utc>,
) -> AppResult<HashMap<DevRef, Uuid>> {
    use crate::service::delivery::{facts::IdentityRef, identity};
    let refs: BTreeSet<IdentityRef> = events
        .iter()
        .filter_map(|e| match &e.developer {
            Some(DevRef::Email(email))
                if !developers.contains_key(&DevRef::Email(email.clone())) =>
            {
                IdentityRef::new(entity::enums::IdentityKind::Email, email)
            }
            _ => None,
        })
        .collect();
    if refs.is_empty() {
        return Ok(HashMap::new());
    }
    let resolved = identity::resolve(ctx, txn, &refs, now, identity::Touch::No).await?;
    let mut out = HashMap::with_capacity(resolved.len());
    for (r, found) in resolved {
        let named = DevRef::Email(r.value().to_owned());
        if let Some(dev) = found.developer {
            developers.insert(named.clone(), dev.uuid());
        }
        out.insert(named, found.id.uuid());
    }
    Ok(out)
}

/// Inserts the events whose client id is new to the project; returns those ids.
pub(super) async fn insert_events(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project_id: ProjectId,
    events: &[Valid],
    developers: &HashMap<DevRef, Uuid>,
    identities: &HashMap<DevRef, Uuid>,
    now: DateTime<Utc>,
) -> AppResult<BTreeSet<String>> {
    if txn.get_database_backend() == DbBackend::Postgres {
        return insert_events_pg(ctx, txn, project_id, events, developers, identities, now).await;
    }
    use event::Column as C;
    let mut insert = Query::insert();
    insert.into_table(event::Entity).columns([
        C::OrganizationId,
        C::Id,
        C::ProjectId,
        C::DeveloperId,
        C::Name,
        C::Properties,
        C::OccurredAt,
        C::ReceivedAt,
        C::ClientEventId,
        C::SourceId,
        C::IdentityId,
    ]);
    for e in events {
        let developer = e
            .developer
            .as_ref()
            .and_then(|d| developers.get(d))
            .copied();
        let identity = e
            .developer
            .as_ref()
            .and_then(|d| identities.get(d))
            .copied();
        insert
            .values([
                ctx.org_id().uuid().into(),
                Uuid::now_v7().into(),
                project_id.uuid().into(),
                developer.into(),
                e.name.clone().into(),
                e.properties.clone().into(),
                e.occurred_at.into(),
                now.into(),
                e.client_id.clone().into(),
                source_of(ctx).into(),
                identity.into(),
            ])
            .map_err(AppError::internal)?;
    }
    insert
        .on_conflict(
            OnConflict::columns([
                C::OrganizationId,
                C::ProjectId,
                C::SourceId,
                C::ClientEventId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .returning_col(C::ClientEventId);
    returned_client_ids(txn.query_all(&insert).await?)
}

/// PostgreSQL: the batch travels as one JSON parameter unpacked by
/// `jsonb_to_recordset`, instead of nine bind parameters per event (parsing
/// and binding thousands of parameters cost more than the insert).
pub(super) async fn insert_events_pg(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project_id: ProjectId,
    events: &[Valid],
    developers: &HashMap<DevRef, Uuid>,
    identities: &HashMap<DevRef, Uuid>,
    now: DateTime<Utc>,
) -> AppResult<BTreeSet<String>> {
    let rows: Vec<Value> = events
        .iter()
        .map(|e| {
            serde_json::json!({
                "id": Uuid::now_v7(),
                "developer_id": e.developer.as_ref().and_then(|d| developers.get(d)),
                "identity_id": e.developer.as_ref().and_then(|d| identities.get(d)),
                "name": e.name,
                "properties": e.properties,
                "occurred_at": e.occurred_at,
                "client_event_id": e.client_id,
            })
        })
        .collect();
    let sql = r#"INSERT INTO "events"
          ("organization_id", "id", "project_id", "developer_id", "name", "properties",
           "occurred_at", "received_at", "client_event_id", "source_id", "identity_id")
        SELECT $2, x.id, $3, x.developer_id, x.name, x.properties, x.occurred_at, $4, x.client_event_id, $5,
               x.identity_id
        FROM jsonb_to_recordset($1) AS x(id uuid, developer_id uuid, name text, properties jsonb,
                                         occurred_at timestamptz, client_event_id text,
                                         identity_id uuid)
        ON CONFLICT ("organization_id", "project_id", "source_id", "client_event_id") DO NOTHING
        RETURNING "client_event_id""#;
    let stmt = sea_orm::Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [
            Value::Array(rows).into(),
            ctx.org_id().uuid().into(),
            project_id.uuid().into(),
            now.into(),
            source_of(ctx).into(),
        ],
    );
    returned_client_ids(txn.query_all_raw(stmt).await?)
}

/// Who sends the batch: client ids are unique per source, so no sender can
/// pre-claim an id another will send.
fn source_of(ctx: &TenantCtx) -> Uuid {
    match ctx.actor() {
        Actor::Developer(id) => id.uuid(),
        Actor::ApiKey(key) => key.id.uuid(),
        Actor::System => Uuid::nil(),
        // Webhooks never send events; were they to, their repository is their source.
        Actor::Webhook(grant) => grant.repository.uuid(),
    }
}

/// The client ids an `INSERT ... RETURNING client_event_id` stored.
fn returned_client_ids(rows: Vec<QueryResult>) -> AppResult<BTreeSet<String>> {
    rows.iter()
        .map(|row| {
            row.try_get::<String>("", "client_event_id")
                .map_err(AppError::from)
        })
        .collect()
}

/// Counts the new events per (developer, name, day in the organization's
/// time zone) and gathers them for the rollups.
pub(super) async fn add_to_rollup(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project_id: ProjectId,
    events: &[&Valid],
    developers: &HashMap<DevRef, Uuid>,
    tz: Tz,
    writes: &mut Writes,
) -> AppResult<()> {
    // A BTreeMap gives every transaction the same lock order: no deadlocks
    // between concurrent ingesters of the same project.
    let mut counts: BTreeMap<(Uuid, String, NaiveDate), i64> = BTreeMap::new();
    for e in events {
        let dev = e
            .developer
            .as_ref()
            .and_then(|d| developers.get(d))
            .copied()
            .unwrap_or(entity::UNKNOWN_DEVELOPER);
        let day = e.occurred_at.with_timezone(&tz).date_naive();
        *counts.entry((dev, e.name.clone(), day)).or_default() += 1;
    }
    rollups::daily::add(ctx, txn, project_id, &counts, writes).await
}

/// Gathers the batch's merge into `event_meta`: first/last seen, total count and the
/// union of property keys, per event name. A project keeps at most
/// `max_event_names` names and each name `max_property_keys` keys: a batch
/// that would pass either is refused whole (LIMIT_EXCEEDED naming the
/// event), so `event_meta` cannot grow without bound.
///
/// Call it after `rollups::take_turn`: it reads the stored keys and writes
/// back their union with the batch's, which is right only while no other
/// batch of the organization writes in between (on PostgreSQL the turn
/// keeps them out; on SQLite the transaction holds the write lock since
/// its events went in). Merging in the upsert itself would need a
/// subquery, which Citus refuses in an INSERT.
pub(super) async fn add_to_meta(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project_id: ProjectId,
    events: &[&Valid],
    limits: &IngestLimits,
    writes: &mut Writes,
) -> AppResult<()> {
    use event_meta::Column as C;
    struct Meta {
        first: DateTime<Utc>,
        last: DateTime<Utc>,
        count: i64,
        keys: BTreeSet<String>,
    }
    let mut metas: BTreeMap<&str, Meta> = BTreeMap::new();
    for e in events {
        let meta = metas.entry(&e.name).or_insert(Meta {
            first: e.occurred_at,
            last: e.occurred_at,
            count: 0,
            keys: BTreeSet::new(),
        });
        meta.first = Ord::min(meta.first, e.occurred_at);
        meta.last = Ord::max(meta.last, e.occurred_at);
        meta.count += 1;
        if let Value::Object(map) = &e.properties {
            meta.keys.extend(map.keys().cloned());
        }
    }
    if metas.is_empty() {
        return Ok(());
    }
    let stored = event_meta::Entity::find_in(ctx.org_id())
        .filter(C::ProjectId.eq(project_id.uuid()))
        .filter(any_of(
            txn.get_database_backend(),
            C::Name.into_expr(),
            metas.keys(),
        ))
        .all(txn)
        .await?;
    // Names already over the cap (kept under a higher limit before)
    // still take events that add no new key.
    let mut known_keys: HashMap<&str, usize> = HashMap::new();
    for row in &stored {
        if let Some(meta) = metas.get_mut(row.name.as_str())
            && let Value::Array(keys) = &row.property_keys
        {
            known_keys.insert(row.name.as_str(), keys.len());
            meta.keys
                .extend(keys.iter().filter_map(Value::as_str).map(str::to_owned));
        }
    }
    for (name, meta) in &metas {
        let known = known_keys.get(name).copied().unwrap_or(0);
        if meta.keys.len() > limits.max_property_keys && meta.keys.len() > known {
            return Err(AppError::LimitExceeded(format!(
                "event `{name}` would have {} distinct property keys; a project keeps at most {} per event name",
                meta.keys.len(),
                limits.max_property_keys
            )));
        }
    }
    let new_names: Vec<&str> = metas
        .keys()
        .copied()
        .filter(|name| !stored.iter().any(|row| row.name == *name))
        .collect();
    if let Some(first_new) = new_names.first() {
        let known = event_meta::Entity::find_in(ctx.org_id())
            .filter(C::ProjectId.eq(project_id.uuid()))
            .count(txn)
            .await?;
        if known as usize + new_names.len() > limits.max_event_names {
            return Err(AppError::LimitExceeded(format!(
                "event `{first_new}` would be one of {} distinct event names of this project; at most {} are allowed",
                known as usize + new_names.len(),
                limits.max_event_names
            )));
        }
    }
    let columns = [
        C::OrganizationId,
        C::ProjectId,
        C::Name,
        C::FirstSeen,
        C::LastSeen,
        C::TotalCount,
        C::PropertyKeys,
    ];
    let rows = metas.into_iter().map(|(name, meta)| {
        let keys: Vec<String> = meta.keys.into_iter().collect();
        vec![
            ctx.org_id().uuid().into(),
            project_id.uuid().into(),
            name.to_owned().into(),
            meta.first.into(),
            meta.last.into(),
            meta.count.into(),
            serde_json::json!(keys).into(),
        ]
    });
    let (least, greatest) = match txn.get_database_backend() {
        DbBackend::Postgres => ("LEAST", "GREATEST"),
        _ => ("MIN", "MAX"),
    };
    let merge = |func: &str, col: &str| {
        Expr::cust(format!(
            r#"{func}("event_meta"."{col}", "excluded"."{col}")"#
        ))
    };
    let on_conflict = OnConflict::columns([C::OrganizationId, C::ProjectId, C::Name])
        .value(C::FirstSeen, merge(least, "first_seen"))
        .value(C::LastSeen, merge(greatest, "last_seen"))
        .value(
            C::TotalCount,
            Expr::col((event_meta::Entity, C::TotalCount))
                .add(Expr::col((Alias::new("excluded"), C::TotalCount))),
        )
        // The rows carry the union already: the stored keys were read under
        // the organization's turn (see `add_to_meta`), so no other batch
        // changed them since. A subquery merging them here is what Citus
        // refuses in an upsert.
        .value(
            C::PropertyKeys,
            Expr::col((Alias::new("excluded"), C::PropertyKeys)),
        )
        .to_owned();
    writes.upsert::<event_meta::Entity>(columns, rows, on_conflict)
}
