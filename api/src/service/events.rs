//! Event ingestion, one code path for `POST /v1/events` and the
//! `recordEvents` mutation. A batch is validated whole before anything is
//! written; then one transaction inserts the raw events (a client id seen
//! before in the project is skipped, so retries count once), adds the new
//! ones to the daily rollup and to event_meta, and commits before the
//! caller hears "accepted".

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{aggregated_event, developer, event, event_meta};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, QueryFilter, TransactionTrait,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    ids::{DeveloperId, ProjectId},
    permissions::{Action, authorize},
    service::{organization, project},
};

/// Limits of one batch (configurable; see `Config`).
#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    pub max_events: usize,
    pub max_future_skew: Duration,
    pub max_property_bytes: usize,
    pub max_property_depth: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            max_events: 1000,
            max_future_skew: Duration::minutes(5),
            max_property_bytes: 8 * 1024,
            max_property_depth: 5,
        }
    }
}

/// One event as a client sends it.
#[derive(Debug, Clone)]
pub struct EventInput {
    pub client_id: String,
    pub name: String,
    /// An email address or a developer id (global or raw uuid).
    pub developer: Option<String>,
    pub occurred_at: String,
    pub properties: Option<Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Stored now.
    pub accepted: u64,
    /// Already stored before (same client id in the project), or repeated in the batch.
    pub duplicated: u64,
    /// Accepted, naming a developer the organization does not know.
    pub unmatched: u64,
}

/// Event names: 1 to 100 of letters, digits, `_`, `.`, `:` and `-`.
pub const NAME_ALPHABET: &str = "letters, digits, '_', '.', ':' and '-'";
const CLIENT_ID_MAX: usize = 200;

struct Valid {
    client_id: String,
    name: String,
    developer: Option<DevRef>,
    occurred_at: DateTime<Utc>,
    properties: Value,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum DevRef {
    Email(String),
    Id(Uuid),
}

fn bad(index: usize, field: &str, reason: impl std::fmt::Display) -> AppError {
    let path = format!("events[{index}].{field}");
    AppError::bad_field(&path, format!("{path}: {reason}"))
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn validate(
    index: usize,
    input: EventInput,
    now: DateTime<Utc>,
    oldest: DateTime<Utc>,
    limits: &IngestLimits,
) -> AppResult<Valid> {
    let client_id = input.client_id.trim().to_owned();
    if client_id.is_empty() || client_id.chars().count() > CLIENT_ID_MAX {
        return Err(bad(
            index,
            "id",
            format!("must be 1 to {CLIENT_ID_MAX} characters"),
        ));
    }
    let name_ok = (1..=100).contains(&input.name.len())
        && input
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
    if !name_ok {
        return Err(bad(
            index,
            "name",
            format!("must be 1 to 100 of {NAME_ALPHABET}"),
        ));
    }
    let occurred_at = DateTime::parse_from_rfc3339(input.occurred_at.trim())
        .map_err(|_| {
            bad(
                index,
                "occurredAt",
                "must be an RFC 3339 date-time with an offset",
            )
        })?
        .with_timezone(&Utc);
    if occurred_at > now + limits.max_future_skew {
        return Err(bad(index, "occurredAt", "is in the future"));
    }
    if occurred_at < oldest {
        return Err(bad(
            index,
            "occurredAt",
            "is older than the organization's retention window",
        ));
    }
    let properties = input
        .properties
        .unwrap_or_else(|| Value::Object(Default::default()));
    if !properties.is_object() {
        return Err(bad(index, "properties", "must be a JSON object"));
    }
    if depth(&properties) > limits.max_property_depth {
        return Err(bad(
            index,
            "properties",
            format!("nests deeper than {} levels", limits.max_property_depth),
        ));
    }
    if properties.to_string().len() > limits.max_property_bytes {
        return Err(bad(
            index,
            "properties",
            format!("is larger than {} bytes", limits.max_property_bytes),
        ));
    }
    let developer = match input
        .developer
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => None,
        Some(text) if text.contains('@') => Some(DevRef::Email(text.to_lowercase())),
        Some(text) => match Uuid::parse_str(text) {
            Ok(id) => Some(DevRef::Id(id)),
            Err(_) => Some(DevRef::Id(
                DeveloperId::from_global(text)
                    .map_err(|_| {
                        bad(
                            index,
                            "developer",
                            "must be an email address or a developer id",
                        )
                    })?
                    .uuid(),
            )),
        },
    };
    Ok(Valid {
        client_id,
        name: input.name,
        developer,
        occurred_at,
        properties,
    })
}

/// Ingests one batch for a project of the caller's organization.
pub async fn ingest(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
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
    let org = organization::get(ctx, db).await?;
    project::get(ctx, db, project_id).await?;
    authorize(ctx, db, Action::RecordEvents(project_id)).await?;
    let tz: Tz = org.time_zone.parse().unwrap_or(Tz::UTC);
    let now = Utc::now();
    let oldest = now - Duration::days(i64::from(Ord::max(org.event_retention_days, 1)));
    let total = events.len() as u64;
    let mut valid = Vec::with_capacity(events.len());
    for (index, input) in events.into_iter().enumerate() {
        valid.push(validate(index, input, now, oldest, limits)?);
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
    let developers = resolve_developers(ctx, db, &valid).await?;

    let txn = db.begin().await?;
    let inserted = insert_events(ctx, &txn, project_id, &valid, &developers, now).await?;
    let fresh: Vec<&Valid> = valid
        .iter()
        .filter(|e| inserted.contains(&e.client_id))
        .collect();
    add_to_rollup(ctx, &txn, project_id, &fresh, &developers, tz).await?;
    add_to_meta(ctx, &txn, project_id, &fresh).await?;
    txn.commit().await?;

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

/// The developers the batch names, by email or id, in one statement.
async fn resolve_developers(
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
    let rows = developer::Entity::find_in(ctx.org_id().uuid())
        .filter(
            sea_orm::Condition::any()
                .add(developer::Column::Email.is_in(emails))
                .add(developer::Column::Id.is_in(ids)),
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

/// Inserts the events whose client id is new to the project; returns those ids.
async fn insert_events(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project_id: ProjectId,
    events: &[Valid],
    developers: &HashMap<DevRef, Uuid>,
    now: DateTime<Utc>,
) -> AppResult<BTreeSet<String>> {
    if txn.get_database_backend() == DbBackend::Postgres {
        return insert_events_pg(ctx, txn, project_id, events, developers, now).await;
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
    ]);
    for e in events {
        let developer = e
            .developer
            .as_ref()
            .and_then(|d| developers.get(d))
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
            ])
            .map_err(AppError::internal)?;
    }
    insert
        .on_conflict(
            OnConflict::columns([C::OrganizationId, C::ProjectId, C::ClientEventId])
                .do_nothing()
                .to_owned(),
        )
        .returning_col(C::ClientEventId);
    let rows = txn.query_all(&insert).await?;
    rows.iter()
        .map(|row| {
            row.try_get::<String>("", "client_event_id")
                .map_err(AppError::from)
        })
        .collect()
}

/// PostgreSQL: the batch travels as one JSON parameter unpacked by
/// `jsonb_to_recordset`, instead of nine bind parameters per event (parsing
/// and binding thousands of parameters cost more than the insert).
async fn insert_events_pg(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project_id: ProjectId,
    events: &[Valid],
    developers: &HashMap<DevRef, Uuid>,
    now: DateTime<Utc>,
) -> AppResult<BTreeSet<String>> {
    let rows: Vec<Value> = events
        .iter()
        .map(|e| {
            serde_json::json!({
                "id": Uuid::now_v7(),
                "developer_id": e.developer.as_ref().and_then(|d| developers.get(d)),
                "name": e.name,
                "properties": e.properties,
                "occurred_at": e.occurred_at,
                "client_event_id": e.client_id,
            })
        })
        .collect();
    let sql = r#"INSERT INTO "events"
          ("organization_id", "id", "project_id", "developer_id", "name", "properties",
           "occurred_at", "received_at", "client_event_id")
        SELECT $2, x.id, $3, x.developer_id, x.name, x.properties, x.occurred_at, $4, x.client_event_id
        FROM jsonb_to_recordset($1) AS x(id uuid, developer_id uuid, name text, properties jsonb,
                                         occurred_at timestamptz, client_event_id text)
        ON CONFLICT ("organization_id", "project_id", "client_event_id") DO NOTHING
        RETURNING "client_event_id""#;
    let stmt = sea_orm::Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [
            Value::Array(rows).into(),
            ctx.org_id().uuid().into(),
            project_id.uuid().into(),
            now.into(),
        ],
    );
    let rows = txn.query_all_raw(stmt).await?;
    rows.iter()
        .map(|row| {
            row.try_get::<String>("", "client_event_id")
                .map_err(AppError::from)
        })
        .collect()
}

/// Adds the new events to `aggregated_events`, one row per (developer,
/// name, day in the organization's time zone); concurrent batches add
/// rather than overwrite.
async fn add_to_rollup(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project_id: ProjectId,
    events: &[&Valid],
    developers: &HashMap<DevRef, Uuid>,
    tz: Tz,
) -> AppResult<()> {
    use aggregated_event::Column as C;
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
                dev.into(),
                name.into(),
                day.into(),
                count.into(),
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
    Ok(())
}

/// Merges the batch into `event_meta`: first/last seen, total count and the
/// union of property keys, per event name.
async fn add_to_meta(
    ctx: &TenantCtx,
    txn: &impl ConnectionTrait,
    project_id: ProjectId,
    events: &[&Valid],
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
    let mut insert = Query::insert();
    insert.into_table(event_meta::Entity).columns([
        C::OrganizationId,
        C::ProjectId,
        C::Name,
        C::FirstSeen,
        C::LastSeen,
        C::TotalCount,
        C::PropertyKeys,
    ]);
    for (name, meta) in metas {
        let keys: Vec<String> = meta.keys.into_iter().collect();
        insert
            .values([
                ctx.org_id().uuid().into(),
                project_id.uuid().into(),
                name.to_owned().into(),
                meta.first.into(),
                meta.last.into(),
                meta.count.into(),
                serde_json::json!(keys).into(),
            ])
            .map_err(AppError::internal)?;
    }
    let (least, greatest, union_keys) = match txn.get_database_backend() {
        DbBackend::Postgres => (
            "LEAST",
            "GREATEST",
            r#"(SELECT COALESCE(jsonb_agg(DISTINCT k ORDER BY k), '[]'::jsonb) FROM jsonb_array_elements_text("event_meta"."property_keys" || "excluded"."property_keys") AS t(k))"#,
        ),
        _ => (
            "MIN",
            "MAX",
            r#"(SELECT json_group_array(value) FROM (SELECT value FROM json_each("event_meta"."property_keys") UNION SELECT value FROM json_each("excluded"."property_keys") ORDER BY value))"#,
        ),
    };
    let merge = |func: &str, col: &str| {
        Expr::cust(format!(
            r#"{func}("event_meta"."{col}", "excluded"."{col}")"#
        ))
    };
    insert.on_conflict(
        OnConflict::columns([C::OrganizationId, C::ProjectId, C::Name])
            .value(C::FirstSeen, merge(least, "first_seen"))
            .value(C::LastSeen, merge(greatest, "last_seen"))
            .value(
                C::TotalCount,
                Expr::col((event_meta::Entity, C::TotalCount))
                    .add(Expr::col((Alias::new("excluded"), C::TotalCount))),
            )
            .value(C::PropertyKeys, Expr::cust(union_keys))
            .to_owned(),
    );
    txn.execute(&insert).await?;
    Ok(())
}

/// What a project has sent, per event name, from `event_meta`.
pub async fn meta(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    project_id: ProjectId,
) -> AppResult<Vec<event_meta::Model>> {
    use sea_orm::QueryOrder;
    Ok(event_meta::Entity::find_in(ctx.org_id().uuid())
        .filter(event_meta::Column::ProjectId.eq(project_id))
        .order_by_asc(event_meta::Column::Name)
        .all(db)
        .await?)
}
