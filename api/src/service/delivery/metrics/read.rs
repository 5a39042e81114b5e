//! Reading the delivery rollup for a set of scopes (the organization, projects, developers or
//! team spaces) in one statement: rows are summed in SQL by scope and day (by scope alone for
//! one period over the whole range), and folded here into periods of a day, an ISO week, a
//! calendar month or the whole range. Sketch buckets merge by addition, so a period's
//! percentiles are those of every duration in it, to the sketch's relative error.
//!
//! A team space counts the rows of its current members, whichever project they worked in.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate};
use entity::{delivery_rollup as rollup, enums::EnvironmentTier, team_space_member as member};
use sea_orm::{
    ActiveEnum as _, ConnectionTrait, DbBackend, FromQueryResult, Iden, QueryResult,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use uuid::Uuid;

use super::{Metric, SHARE};
use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    service::{any_of::any_of, delivery::sketch::Sketch},
};

/// Whose delivery is read.
#[derive(Debug, Clone)]
pub enum Scope {
    Organization,
    Projects(Vec<Uuid>),
    Developers(Vec<Uuid>),
    TeamSpaces(Vec<Uuid>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    Month,
    /// The whole range as one period.
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub interval: Interval,
    /// The tier whose deployments count (metrics without a tier always count).
    pub tier: EnvironmentTier,
    /// The metrics read (those the caller asked for); none, no statement.
    pub metrics: Vec<Metric>,
    /// Reviews are counted per reviewer too.
    pub per_reviewer: bool,
}

/// The figures of one period: its days (within the range), and the merged rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub from: NaiveDate,
    pub to: NaiveDate,
    counts: BTreeMap<Metric, i64>,
    sketches: BTreeMap<Metric, Sketch>,
    /// Merged pull requests per size class.
    pub sizes: [i64; 5],
    /// Reviews per reviewer (the nil id: reviewers nobody has linked).
    pub reviewers: BTreeMap<Uuid, i64>,
}

impl Figures {
    fn new(from: NaiveDate, to: NaiveDate) -> Figures {
        Figures {
            from,
            to,
            counts: BTreeMap::new(),
            sketches: BTreeMap::new(),
            sizes: [0; 5],
            reviewers: BTreeMap::new(),
        }
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// How many of what `metric` counts, in wholes (shared metrics are fractional below an
    /// organization or a project).
    pub fn total(&self, metric: Metric) -> f64 {
        let n = match self.sketches.get(&metric) {
            Some(sketch) => sketch.count() as i64,
            None => self.counts.get(&metric).copied().unwrap_or(0),
        };
        if metric.shared() {
            n as f64 / SHARE as f64
        } else {
            n as f64
        }
    }

    /// The whole count of a per-pull-request or per-review metric.
    pub fn count(&self, metric: Metric) -> i64 {
        self.counts.get(&metric).copied().unwrap_or(0)
    }

    /// The merged durations of a duration metric.
    pub fn sketch(&self, metric: Metric) -> Sketch {
        self.sketches.get(&metric).cloned().unwrap_or_default()
    }

    fn add(&mut self, metric: Metric, bucket: i32, reviewer: Option<Uuid>, n: i64) {
        match metric {
            Metric::Coding
            | Metric::Pickup
            | Metric::Review
            | Metric::Cycle
            | Metric::Deploy
            | Metric::Lead
            | Metric::Restore => {
                let more = Sketch::from_buckets([(bucket, Ord::max(n, 0) as u64)]);
                self.sketches.entry(metric).or_default().merge(&more);
            }
            Metric::Size => {
                if let Some(class) = self.sizes.get_mut(bucket.clamp(0, 4) as usize) {
                    *class += n;
                }
            }
            _ => {
                *self.counts.entry(metric).or_default() += n;
                if metric == Metric::Reviews
                    && let Some(reviewer) = reviewer
                {
                    *self.reviewers.entry(reviewer).or_default() += n;
                }
            }
        }
    }
}

/// The periods of a range, in order.
pub fn periods(q: &DeliveryQuery) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut start = q.from;
    while start <= q.to {
        let end: NaiveDate = match q.interval {
            Interval::Day => start,
            Interval::Week => {
                let monday =
                    start - Duration::days(i64::from(start.weekday().num_days_from_monday()));
                monday + Duration::days(6)
            }
            Interval::Month => {
                let next = if start.month() == 12 {
                    NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
                };
                next.map_or(q.to, |n| n - Duration::days(1))
            }
            Interval::All => q.to,
        };
        let end = Ord::min(end, q.to);
        out.push((start, end));
        start = end + Duration::days(1);
    }
    out
}

struct Row {
    scope: Uuid,
    day: NaiveDate,
    metric: String,
    bucket: i32,
    reviewer: Option<Uuid>,
    count: i64,
}

impl FromQueryResult for Row {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Row {
            scope: res.try_get(pre, "scope")?,
            day: res.try_get(pre, "day")?,
            metric: res.try_get(pre, "metric")?,
            bucket: res.try_get(pre, "bucket")?,
            reviewer: res.try_get(pre, "reviewer")?,
            count: res.try_get(pre, "count")?,
        })
    }
}

/// The periods of every scope asked (the organization's under its own id), in one statement.
pub async fn query(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    scope: &Scope,
    q: &DeliveryQuery,
) -> AppResult<HashMap<Uuid, Vec<Figures>>> {
    let fresh = || empty(q);
    let mut out: HashMap<Uuid, Vec<Figures>> = HashMap::new();
    if let Scope::Organization = scope {
        out.insert(ctx.org_id().uuid(), fresh());
    }
    if q.metrics.is_empty() {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let r = rollup::Entity;
    let t = r.to_string();
    let col = |c: rollup::Column| Expr::col((r, c));
    let mut select = Query::select();
    select.from(r);
    let scope_col = match scope {
        Scope::Organization => col(rollup::Column::OrganizationId),
        Scope::Projects(ids) => {
            select.and_where(any_of(backend, col(rollup::Column::ProjectId), ids));
            col(rollup::Column::ProjectId)
        }
        Scope::Developers(ids) => {
            select.and_where(any_of(backend, col(rollup::Column::DeveloperId), ids));
            col(rollup::Column::DeveloperId)
        }
        Scope::TeamSpaces(ids) => {
            let m = member::Entity;
            select.inner_join(
                m,
                Expr::col((m, member::Column::OrganizationId))
                    .equals((r, rollup::Column::OrganizationId))
                    .and(
                        Expr::col((m, member::Column::DeveloperId))
                            .equals((r, rollup::Column::DeveloperId)),
                    ),
            );
            let spaces = Expr::col((m, member::Column::TeamSpaceId));
            select.and_where(any_of(backend, spaces.clone(), ids));
            spaces
        }
    };
    let day = col(rollup::Column::Day);
    // The first day of each row's period, so that the database sums a period's days (the
    // period a range's start cuts maps to the first one below).
    let period = match (q.interval, backend) {
        (Interval::Day, _) => day.clone(),
        (Interval::All, _) => Expr::cust(format!(r#"MIN("{t}"."day")"#)),
        (Interval::Week, DbBackend::Postgres) => {
            Expr::cust(format!(r#"CAST(date_trunc('week', "{t}"."day") AS date)"#))
        }
        (Interval::Month, DbBackend::Postgres) => {
            Expr::cust(format!(r#"CAST(date_trunc('month', "{t}"."day") AS date)"#))
        }
        // SQLite: the Sunday on or after the day, back six days; the month's first day.
        (Interval::Week, _) => Expr::cust(format!(r#"date("{t}"."day", 'weekday 0', '-6 days')"#)),
        (Interval::Month, _) => Expr::cust(format!(r#"strftime('%Y-%m-01', "{t}"."day")"#)),
    };
    let reviewer = match q.per_reviewer {
        true => Expr::cust(format!(
            r#"CASE WHEN "{t}"."metric" = '{}' THEN "{t}"."developer_id" END"#,
            Metric::Reviews.as_str()
        )),
        false => Expr::cust("NULL"),
    };
    let metrics: Vec<&str> = q.metrics.iter().map(|m| m.as_str()).collect();
    select
        .expr_as(scope_col.clone(), Alias::new("scope"))
        .expr_as(period.clone(), Alias::new("day"))
        .expr_as(col(rollup::Column::Metric), Alias::new("metric"))
        .expr_as(col(rollup::Column::Bucket), Alias::new("bucket"))
        .expr_as(reviewer.clone(), Alias::new("reviewer"))
        .expr_as(
            Expr::cust(format!(r#"CAST(SUM("{t}"."count") AS BIGINT)"#)),
            Alias::new("count"),
        )
        .and_where(col(rollup::Column::OrganizationId).eq(ctx.org_id().uuid()))
        .and_where(day.clone().gte(date_literal(backend, q.from)))
        .and_where(day.lte(date_literal(backend, q.to)))
        .and_where(any_of(
            backend,
            col(rollup::Column::Tier),
            [String::new(), q.tier.to_value()],
        ))
        .and_where(any_of(backend, col(rollup::Column::Metric), metrics))
        .add_group_by([
            scope_col,
            col(rollup::Column::Metric),
            col(rollup::Column::Bucket),
        ]);
    if q.per_reviewer {
        select.add_group_by([reviewer]);
    }
    if q.interval != Interval::All {
        select.add_group_by([period]);
    }
    let statement = backend.build(&select);
    let rows = Row::find_by_statement(statement).all(db).await?;
    for row in rows {
        let Some(metric) = Metric::parse(&row.metric) else {
            return Err(AppError::internal(format!(
                "unknown delivery metric {}",
                row.metric
            )));
        };
        let figures = out.entry(row.scope).or_insert_with(fresh);
        let at = figures.partition_point(|f| f.to < row.day);
        if let Some(period) = figures.get_mut(at) {
            period.add(metric, row.bucket, row.reviewer, row.count);
        }
    }
    Ok(out)
}

/// A day written into the statement rather than bound. Bound, the range is a parameter of the
/// generic plan PostgreSQL switches to after a statement's fifth run on a connection, which
/// cannot see how much of an organization's rows the range covers: it chose the `(org, day)`
/// index and a sort that spilled to disk, 245 ms against 55 ms for the sequential scan and
/// hash it picks when it sees the dates (the delivery bench's organization, 42,080 rows).
/// `NaiveDate` prints only `YYYY-MM-DD`, so the literal cannot carry anything else.
fn date_literal(backend: DbBackend, day: NaiveDate) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust(format!("DATE '{day}'")),
        _ => Expr::cust(format!("'{day}'")),
    }
}

/// The periods of a scope that had no rows at all.
pub fn empty(q: &DeliveryQuery) -> Vec<Figures> {
    periods(q)
        .into_iter()
        .map(|(f, t)| Figures::new(f, t))
        .collect()
}
