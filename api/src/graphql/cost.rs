//! What a field weighs in a query's complexity (async-graphql's
//! `complexity = "…"` on the field): a field that returns many values
//! weighs how many it returns times what each of them selects, so the
//! complexity limit bounds the size of the answer, not only its shape.
//!
//! async-graphql calls these through plain function pointers, before the
//! request's data exists, so the configured sizes they need travel in a
//! task-local that `weighed` sets around the execution of each request:
//! the configured default page size and metric row cap are the ones used,
//! whatever other servers share the process (the tests run many).
//!
//! The same task-local meters what the request weighs for its
//! organization's points per minute: every root field's weight goes
//! through `root`, so their sum is the complexity async-graphql computes
//! for the document, known before anything executes; past the points the
//! organization has left, validation fails and nothing runs.

use std::{cell::Cell, future::Future};

use chrono::NaiveDate;

use crate::config::Limits;

#[derive(Clone, Copy)]
struct Weights {
    default_page_size: usize,
    max_metric_rows: usize,
}

struct Meter {
    weights: Weights,
    /// Points the request may weigh; `None`: not metered.
    allowance: Option<u64>,
    weighed: Cell<u64>,
    over: Cell<bool>,
}

tokio::task_local! {
    static METER: Meter;
}

/// What a request weighed, known once its validation ran.
#[derive(Debug, Clone, Copy, Default)]
pub struct Weighed {
    pub points: u64,
    /// It weighed more than its allowance, so it failed validation and
    /// nothing of it ran.
    pub over_allowance: bool,
}

/// Grouped dimensions other than time multiply a metrics estimate by this
/// (a guess at the names, developers, team spaces or projects that have
/// events in a range; the row cap bounds what the guess misses).
const ROWS_PER_DIMENSION: usize = 5;

/// Runs a request's execution (validation and complexity included) with
/// `limits` as the weights of its fields, refusing it before it runs when
/// it weighs more than `allowance` points.
pub async fn weighed<F: Future>(
    limits: &Limits,
    allowance: Option<u64>,
    execution: F,
) -> (F::Output, Weighed) {
    let meter = Meter {
        weights: Weights {
            default_page_size: limits.default_page_size,
            max_metric_rows: limits.max_metric_rows,
        },
        allowance,
        weighed: Cell::new(0),
        over: Cell::new(false),
    };
    METER
        .scope(meter, async {
            let output = execution.await;
            let weighed = METER.with(|m| Weighed {
                points: m.weighed.get(),
                over_allowance: m.over.get(),
            });
            (output, weighed)
        })
        .await
}

/// A root field (every field of `Query` and `Mutation` weighs through
/// here): its weight counts toward the request's total, which may not pass
/// the allowance. The error only fails validation; the HTTP handler
/// answers with the budget's own error.
pub(crate) fn root(weight: usize) -> async_graphql::ServerResult<usize> {
    let over = METER
        .try_with(|m| {
            let total = m.weighed.get().saturating_add(weight as u64);
            m.weighed.set(total);
            let over = m.allowance.is_some_and(|allowed| total > allowed);
            if over {
                m.over.set(true);
            }
            over
        })
        .unwrap_or(false);
    match over {
        true => Err(async_graphql::ServerError::new(
            "over the organization's points per minute",
            None,
        )),
        false => Ok(weight),
    }
}

/// Outside `weighed` (schema export, tests of the schema alone) the
/// defaults apply.
fn weights() -> Weights {
    METER.try_with(|m| m.weights).unwrap_or_else(|_| {
        let limits = Limits::default();
        Weights {
            default_page_size: limits.default_page_size,
            max_metric_rows: limits.max_metric_rows,
        }
    })
}

/// A connection: its page size times its children. A list without
/// `first`/`last` weighs the configured default page size.
pub(crate) fn list(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let page = match first.or(last) {
        Some(n) => n.max(1) as usize,
        None => weights().default_page_size.max(1),
    };
    page.saturating_mul(child.max(1))
}

/// `nodes(ids:)`: one object per id asked for.
pub(crate) fn ids<T>(ids: &[T], child: usize) -> usize {
    ids.len().max(1).saturating_mul(child.max(1))
}

/// One value per day of an inclusive range (`Developer.activity`).
pub(crate) fn days(from: NaiveDate, to: NaiveDate, child: usize) -> usize {
    day_count(from, to).saturating_mul(child.max(1))
}

/// A `delivery` field: one period per `period_days` of the range (the last one cut short),
/// times what each period selects.
pub(crate) fn delivery(from: NaiveDate, to: NaiveDate, period_days: i64, child: usize) -> usize {
    let days = day_count(from, to);
    let period = usize::try_from(period_days).unwrap_or(usize::MAX).max(1);
    (days / period + 1).min(days).saturating_mul(child.max(1))
}

/// What a metrics field groups by, as its weight needs it.
pub(crate) struct Grouping {
    pub day: bool,
    pub week: bool,
    /// Grouped dimensions other than time.
    pub others: usize,
}

/// A metrics field: an estimate of its rows (the time buckets of the range
/// times `ROWS_PER_DIMENSION` for each other grouped dimension, at most the
/// row cap) times what each row selects.
pub(crate) fn metrics(from: NaiveDate, to: NaiveDate, by: Grouping, child: usize) -> usize {
    let days = day_count(from, to);
    let time = if by.day {
        days
    } else if by.week {
        days / 7 + 1
    } else {
        1
    };
    let estimate = ROWS_PER_DIMENSION
        .saturating_pow(by.others as u32)
        .saturating_mul(time);
    let cap = weights().max_metric_rows.max(1);
    estimate.min(cap).saturating_mul(child.max(1))
}

fn day_count(from: NaiveDate, to: NaiveDate) -> usize {
    let days = (to - from).num_days().saturating_add(1);
    usize::try_from(days).unwrap_or(1).max(1)
}
