//! Day-based metrics, read from the daily rollups only, never from raw
//! events: each query from the smallest rollup that has its dimensions
//! (`team_space_rollups` for team-space totals, else the organization,
//! project or developer rollup, else `aggregated_events`; see `source`).
//! One statement per call, whatever the grouping; a batch of team spaces or
//! projects (a cohort) is one call.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use entity::{team_space_member as member, team_space_rollup as rollup};
use sea_orm::{
    ConnectionTrait, DbBackend, QueryResult,
    sea_query::{Alias, Cond, Expr, ExprTrait, Order, Query, SelectStatement},
};
use uuid::Uuid;

mod source;

use source::{Daily, Source};

use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    service::any_of::any_of,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    Day,
    Week,
    EventName,
    Developer,
    TeamSpace,
    Project,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MetricFilter {
    pub event_names: Option<Vec<String>>,
    pub team_spaces: Option<Vec<Uuid>>,
    pub projects: Option<Vec<Uuid>>,
    pub developers: Option<Vec<Uuid>>,
}

/// Whose metrics: the organization, or each of several team spaces or
/// projects (rows then carry the scope they belong to).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MetricScope {
    Organization,
    TeamSpaces(Vec<Uuid>),
    Projects(Vec<Uuid>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetricQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub filter: MetricFilter,
    pub group_by: Vec<Dim>,
    /// Most grouped rows the statement may return (for a scoped query: for
    /// all its scopes together); more is LIMIT_EXCEEDED, never a silent cut.
    /// `None` where the caller bounds the rows itself.
    pub max_rows: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetricRow {
    /// The team space or project of a scoped query.
    pub scope: Option<Uuid>,
    pub day: Option<NaiveDate>,
    /// The Monday of the ISO week.
    pub week: Option<NaiveDate>,
    pub event_name: Option<String>,
    pub developer: Option<Uuid>,
    pub team_space: Option<Uuid>,
    pub project: Option<Uuid>,
    pub count: i64,
}

/// Checks a date range against the configured maximum.
pub fn check_range(from: NaiveDate, to: NaiveDate, max_days: i64) -> AppResult<()> {
    if from > to {
        return Err(AppError::bad_field("from", "`from` must not be after `to`"));
    }
    let days = (to - from).num_days() + 1;
    if days > max_days {
        return Err(AppError::LimitExceeded(format!(
            "the range spans {days} days; at most {max_days} are allowed"
        )));
    }
    Ok(())
}

fn m(col: member::Column) -> Expr {
    Expr::col((member::Entity, col))
}

pub async fn query(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    scope: &MetricScope,
    q: &MetricQuery,
) -> AppResult<Vec<MetricRow>> {
    let (mut select, keys) = build(ctx, db.get_database_backend(), scope, q);
    if let Some(max) = q.max_rows {
        select.limit(max as u64 + 1);
    }
    let rows = db.query_all(&select).await?;
    if let Some(max) = q.max_rows.filter(|max| rows.len() > *max) {
        return Err(AppError::LimitExceeded(format!(
            "these metrics have more than {max} rows; group by fewer dimensions, filter, or \
             shorten the range"
        )));
    }
    let mut out = BTreeMap::<MetricRow, i64>::new();
    for row in rows {
        let mut key = read_row(&row, &keys)?;
        let count = key.count;
        key.count = 0;
        // WEEK folds days into ISO weeks here: portable, and the day rows
        // are few (at most the range times the other groups).
        if q.group_by.contains(&Dim::Week) {
            let day = key.day.take().unwrap_or(q.from);
            key.week = Some(day - Duration::days(i64::from(day.weekday().num_days_from_monday())));
            if q.group_by.contains(&Dim::Day) {
                key.day = Some(day);
            }
        }
        *out.entry(key).or_default() += count;
    }
    Ok(out
        .into_iter()
        .map(|(mut row, count)| {
            row.count = count;
            row
        })
        .collect())
}

/// What a query selects besides the total: the scope, and the grouped dimensions.
struct Keys {
    scope: bool,
    dims: Vec<Dim>,
}

fn build(
    ctx: &TenantCtx,
    backend: DbBackend,
    scope: &MetricScope,
    q: &MetricQuery,
) -> (SelectStatement, Keys) {
    let mut dims: Vec<Dim> = q.group_by.clone();
    // Weeks are folded from days.
    if dims.contains(&Dim::Week) && !dims.contains(&Dim::Day) {
        dims.push(Dim::Day);
    }
    dims.retain(|d| *d != Dim::Week);
    dims.sort();
    dims.dedup();
    if let Some(built) = from_team_rollup(ctx, backend, scope, q, &dims) {
        return built;
    }

    let src = Source::for_query(scope, q, &dims);
    let d = |col: Daily| src.col(col);

    // Joining memberships multiplies a developer's rows by their team
    // spaces: right when counting per team space, wrong otherwise, where a
    // team-space filter becomes a subquery instead.
    let needs_members =
        matches!(scope, MetricScope::TeamSpaces(_)) || dims.contains(&Dim::TeamSpace);
    let mut select = Query::select();
    select.from(src.table());
    if needs_members {
        select.inner_join(
            member::Entity,
            Cond::all()
                .add(m(member::Column::OrganizationId).eq(d(Daily::OrganizationId)))
                .add(m(member::Column::DeveloperId).eq(d(Daily::DeveloperId))),
        );
    }
    let org = ctx.org_id().uuid();
    select
        .and_where(d(Daily::OrganizationId).eq(org))
        .and_where(d(Daily::Day).gte(q.from))
        .and_where(d(Daily::Day).lte(q.to));
    if needs_members {
        select.and_where(m(member::Column::OrganizationId).eq(org));
    }
    let scope_col = match scope {
        MetricScope::Organization => None,
        MetricScope::TeamSpaces(ids) => {
            select.and_where(any_of(backend, m(member::Column::TeamSpaceId), ids));
            Some(m(member::Column::TeamSpaceId))
        }
        MetricScope::Projects(ids) => {
            select.and_where(any_of(backend, d(Daily::ProjectId), ids));
            Some(d(Daily::ProjectId))
        }
    };
    if let Some(names) = &q.filter.event_names {
        select.and_where(any_of(backend, d(Daily::Name), names));
    }
    if let Some(ids) = &q.filter.projects {
        select.and_where(any_of(backend, d(Daily::ProjectId), ids));
    }
    if let Some(ids) = &q.filter.developers {
        select.and_where(any_of(backend, d(Daily::DeveloperId), ids));
    }
    if let Some(ids) = &q.filter.team_spaces {
        if needs_members {
            select.and_where(any_of(backend, m(member::Column::TeamSpaceId), ids));
        } else {
            let members = Query::select()
                .column(member::Column::DeveloperId)
                .from(member::Entity)
                .and_where(m(member::Column::OrganizationId).eq(org))
                .and_where(any_of(backend, m(member::Column::TeamSpaceId), ids))
                .to_owned();
            select.and_where(d(Daily::DeveloperId).in_subquery(members));
        }
    }
    if let Some(col) = scope_col.clone() {
        select.expr_as(col.clone(), Alias::new("scope_id"));
        select.add_group_by([col.clone()]);
        select.order_by_expr(col, Order::Asc);
    }
    for dim in &dims {
        let col = match dim {
            Dim::Day => d(Daily::Day),
            Dim::EventName => d(Daily::Name),
            Dim::Developer => d(Daily::DeveloperId),
            Dim::TeamSpace => m(member::Column::TeamSpaceId),
            Dim::Project => d(Daily::ProjectId),
            Dim::Week => continue,
        };
        select.expr_as(col.clone(), Alias::new(alias(*dim)));
        select.add_group_by([col.clone()]);
        select.order_by_expr(col, Order::Asc);
    }
    select.expr_as(src.total(), Alias::new("total"));
    let keys = Keys {
        scope: scope_col.is_some(),
        dims,
    };
    (select.to_owned(), keys)
}

/// Team-space metrics that need neither developers nor projects read the
/// team-space rollup: a few rows per team space and day, instead of every
/// member's rows of `aggregated_events` joined with the memberships. It
/// holds the same sums (see `service::rollups::team`).
fn from_team_rollup(
    ctx: &TenantCtx,
    backend: DbBackend,
    scope: &MetricScope,
    q: &MetricQuery,
    dims: &[Dim],
) -> Option<(SelectStatement, Keys)> {
    let per_team_space =
        matches!(scope, MetricScope::TeamSpaces(_)) || dims.contains(&Dim::TeamSpace);
    let eligible = per_team_space
        && !matches!(scope, MetricScope::Projects(_))
        && q.filter.projects.is_none()
        && q.filter.developers.is_none()
        && dims
            .iter()
            .all(|d| matches!(d, Dim::Day | Dim::EventName | Dim::TeamSpace));
    if !eligible {
        return None;
    }
    let r = |col: rollup::Column| Expr::col((rollup::Entity, col));
    let mut select = Query::select();
    select
        .from(rollup::Entity)
        .and_where(r(rollup::Column::OrganizationId).eq(ctx.org_id().uuid()))
        .and_where(r(rollup::Column::Day).gte(q.from))
        .and_where(r(rollup::Column::Day).lte(q.to));
    let scoped = if let MetricScope::TeamSpaces(ids) = scope {
        select
            .and_where(any_of(backend, r(rollup::Column::TeamSpaceId), ids))
            .expr_as(r(rollup::Column::TeamSpaceId), Alias::new("scope_id"))
            .add_group_by([r(rollup::Column::TeamSpaceId)])
            .order_by_expr(r(rollup::Column::TeamSpaceId), Order::Asc);
        true
    } else {
        false
    };
    if let Some(names) = &q.filter.event_names {
        select.and_where(any_of(backend, r(rollup::Column::Name), names));
    }
    if let Some(ids) = &q.filter.team_spaces {
        select.and_where(any_of(backend, r(rollup::Column::TeamSpaceId), ids));
    }
    for dim in dims {
        let col = match dim {
            Dim::Day => r(rollup::Column::Day),
            Dim::EventName => r(rollup::Column::Name),
            Dim::TeamSpace => r(rollup::Column::TeamSpaceId),
            _ => return None,
        };
        select.expr_as(col.clone(), Alias::new(alias(*dim)));
        select.add_group_by([col.clone()]);
        select.order_by_expr(col, Order::Asc);
    }
    select.expr_as(
        Expr::cust(r#"CAST(COALESCE(SUM("team_space_rollups"."count"), 0) AS BIGINT)"#),
        Alias::new("total"),
    );
    let keys = Keys {
        scope: scoped,
        dims: dims.to_vec(),
    };
    Some((select.to_owned(), keys))
}

fn alias(dim: Dim) -> &'static str {
    match dim {
        Dim::Day => "day",
        Dim::Week => "week",
        Dim::EventName => "event_name",
        Dim::Developer => "developer_id",
        Dim::TeamSpace => "team_space_id",
        Dim::Project => "project_id",
    }
}

fn read_row(row: &QueryResult, keys: &Keys) -> AppResult<MetricRow> {
    let mut out = MetricRow {
        count: row.try_get("", "total")?,
        ..Default::default()
    };
    if keys.scope {
        out.scope = Some(row.try_get("", "scope_id")?);
    }
    for dim in &keys.dims {
        match dim {
            Dim::Day => out.day = Some(row.try_get("", "day")?),
            Dim::EventName => out.event_name = Some(row.try_get("", "event_name")?),
            Dim::Developer => out.developer = Some(row.try_get("", "developer_id")?),
            Dim::TeamSpace => out.team_space = Some(row.try_get("", "team_space_id")?),
            Dim::Project => out.project = Some(row.try_get("", "project_id")?),
            Dim::Week => {}
        }
    }
    Ok(out)
}

/// Daily counts of several developers, in one statement; days without
/// events are filled with zero by the caller.
pub async fn activity(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    developers: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
    event_names: Option<&[String]>,
) -> AppResult<BTreeMap<Uuid, BTreeMap<NaiveDate, i64>>> {
    let q = MetricQuery {
        from,
        to,
        filter: MetricFilter {
            event_names: event_names.map(<[String]>::to_vec),
            developers: Some(developers.to_vec()),
            ..Default::default()
        },
        group_by: vec![Dim::Developer, Dim::Day],
        // One row per developer and day at most: the caller's page of
        // developers times its range (weighed in the query's complexity).
        max_rows: None,
    };
    let rows = query(ctx, db, &MetricScope::Organization, &q).await?;
    let mut out: BTreeMap<Uuid, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
    for row in rows {
        if let (Some(dev), Some(day)) = (row.developer, row.day) {
            *out.entry(dev).or_default().entry(day).or_default() += row.count;
        }
    }
    Ok(out)
}
