//! Every tenant gets its own budget: requests in flight at once and
//! requests per minute (a token bucket), on `/graphql` and `/v1/events`,
//! and the query complexity points its GraphQL requests spend per minute
//! (a second bucket: a request is weighed before it runs, refused when it
//! weighs more than is left, and charged what it weighed).
//! Defaults come from configuration; the operator may override them per
//! organization (`devgraph org set-budget`, stored on the organization's
//! row and re-read at most every `REFRESH`), never the tenant itself. Over
//! budget is 429 with `Retry-After` and code `RATE_LIMITED`, so one tenant
//! saturating its budget leaves the process's capacity to the others.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, sea_query::ExprTrait,
};
use uuid::Uuid;

use crate::error::AppError;

/// How long a request waits for one of its organization's in-flight slots
/// before it is over budget.
pub const QUEUE: Duration = Duration::from_secs(2);

/// How often the operator's overrides are re-read.
const REFRESH: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub in_flight: u32,
    pub per_minute: u32,
    pub points_per_minute: u32,
}

/// Why a request was not admitted now.
#[derive(Debug)]
enum Refusal {
    /// Its organization's requests in flight are all taken.
    Full,
    /// Out of requests for now: the bucket refills in this many seconds.
    Rate(u64),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub in_flight: u32,
    pub requests_available: u32,
    /// Negative after requests that ran at once spent more than was left.
    pub points_available: i64,
}

struct Tenant {
    in_flight: u32,
    tokens: f64,
    points: f64,
    refilled: Instant,
}

impl Tenant {
    fn new(budget: Budget, now: Instant) -> Tenant {
        Tenant {
            in_flight: 0,
            tokens: f64::from(budget.per_minute),
            points: f64::from(budget.points_per_minute),
            refilled: now,
        }
    }

    /// Both buckets as of `now`: each refills its minute's worth per minute,
    /// up to that.
    fn refill(&mut self, budget: Budget, now: Instant) {
        let minutes = now.duration_since(self.refilled).as_secs_f64() / 60.0;
        let refill = |level: f64, per_minute: u32| {
            let capacity = f64::from(per_minute);
            (level + minutes * capacity).min(capacity)
        };
        self.tokens = refill(self.tokens, budget.per_minute);
        self.points = refill(self.points, budget.points_per_minute);
        self.refilled = now;
    }
}

pub struct Budgets {
    defaults: Budget,
    overrides: Mutex<HashMap<Uuid, Budget>>,
    tenants: Mutex<HashMap<Uuid, Tenant>>,
    /// The side connection the overrides are read over, and when they were
    /// last read (`None`: never). One request reads them when they are
    /// stale; the others go on with the ones in hand.
    side: DatabaseConnection,
    loaded: tokio::sync::Mutex<Option<Instant>>,
    /// Signalled whenever a request ends, for those waiting for a slot.
    freed: tokio::sync::Notify,
}

/// A request admitted within its organization's budget; dropping it (the
/// request's end, answered or abandoned) frees its in-flight slot.
pub struct Admitted {
    budgets: Arc<Budgets>,
    org: Uuid,
}

impl Admitted {
    /// Points the organization has left now (none when overdrawn).
    pub fn points_left(&self) -> u64 {
        Ord::max(self.budgets.usage(self.org).points_available, 0) as u64
    }

    /// Whether the organization may spend `weight` points on this request
    /// now (see `Budgets::points_for`).
    pub fn may_spend(&self, weight: u64) -> Result<(), AppError> {
        self.budgets.points_for(self.org, weight)
    }

    /// Charges what the request weighed. Requests of one organization
    /// running at once may together overdraw the bucket (by at most its
    /// in-flight budget times the complexity limit); the next ones then wait.
    pub fn spend(&self, points: u64) {
        self.budgets.spend_points(self.org, points);
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Ok(mut tenants) = self.budgets.tenants.lock()
            && let Some(tenant) = tenants.get_mut(&self.org)
        {
            tenant.in_flight = tenant.in_flight.saturating_sub(1);
        }
        self.budgets.freed.notify_waiters();
    }
}

impl Budgets {
    pub fn new(defaults: Budget, side: DatabaseConnection) -> Arc<Budgets> {
        Arc::new(Budgets {
            defaults,
            overrides: Mutex::new(HashMap::new()),
            tenants: Mutex::new(HashMap::new()),
            side,
            loaded: tokio::sync::Mutex::new(None),
            freed: tokio::sync::Notify::new(),
        })
    }

    /// What the organization has left now: requests in flight, and requests
    /// it may still send before the bucket refills.
    pub fn usage(&self, org: Uuid) -> Usage {
        self.with_tenant(org, |tenant, _| Usage {
            in_flight: tenant.in_flight,
            requests_available: tenant.tokens.floor() as u32,
            points_available: tenant.points.floor() as i64,
        })
        .unwrap_or_default()
    }

    /// Runs `f` on the organization's buckets as of now (created full on
    /// its first request) and its budget; `None` if the lock is poisoned.
    fn with_tenant<T>(&self, org: Uuid, f: impl FnOnce(&mut Tenant, Budget) -> T) -> Option<T> {
        let budget = self.budget_of(org);
        let mut tenants = self.tenants.lock().ok()?;
        let now = Instant::now();
        let tenant = tenants
            .entry(org)
            .or_insert_with(|| Tenant::new(budget, now));
        tenant.refill(budget, now);
        Some(f(tenant, budget))
    }

    pub fn budget_of(&self, org: Uuid) -> Budget {
        self.overrides
            .lock()
            .ok()
            .and_then(|o| o.get(&org).copied())
            .unwrap_or(self.defaults)
    }

    /// Admits one request of `org`. When the organization's requests in
    /// flight are all taken, it waits up to `wait` for one to end (a burst
    /// from one dashboard is queued, not refused); out of requests per
    /// minute, or still full after `wait`, it is over budget.
    pub async fn admit(self: &Arc<Self>, org: Uuid, wait: Duration) -> Result<Admitted, AppError> {
        self.refresh_if_stale().await;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before the attempt, so a request ending in between
            // is not missed.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            match self.try_admit(org) {
                Err(Refusal::Full) if tokio::time::Instant::now() < deadline => {
                    let _ = tokio::time::timeout_at(deadline, freed).await;
                }
                Err(Refusal::Full) => return Err(AppError::RateLimited { retry_after: 1 }),
                Err(Refusal::Rate(retry_after)) => {
                    return Err(AppError::RateLimited { retry_after });
                }
                Ok(admitted) => return Ok(admitted),
            }
        }
    }

    /// Admits one request of `org` now, or says why not.
    fn try_admit(self: &Arc<Self>, org: Uuid) -> Result<Admitted, Refusal> {
        self.with_tenant(org, |tenant, budget| {
            if tenant.in_flight >= budget.in_flight {
                return Err(Refusal::Full);
            }
            if tenant.tokens < 1.0 {
                let wait = seconds_to_refill(1.0 - tenant.tokens, budget.per_minute);
                return Err(Refusal::Rate(wait));
            }
            tenant.tokens -= 1.0;
            tenant.in_flight += 1;
            Ok(())
        })
        .unwrap_or(Err(Refusal::Rate(1)))?;
        Ok(Admitted {
            budgets: self.clone(),
            org,
        })
    }

    /// Points the organization may spend now: what its bucket holds, or a
    /// refusal when `weight` is more than that (RATE_LIMITED, retry once the
    /// bucket holds enough) or more than a full bucket (LIMIT_EXCEEDED: it
    /// can never run).
    fn points_for(&self, org: Uuid, weight: u64) -> Result<(), AppError> {
        self.with_tenant(org, |tenant, budget| {
            let weight = weight as f64;
            if weight > f64::from(budget.points_per_minute) {
                return Err(AppError::LimitExceeded(format!(
                    "this request weighs {weight} points, more than the {} your organization \
                     may spend per minute; ask for less in each request",
                    budget.points_per_minute
                )));
            }
            if weight > tenant.points {
                let missing = weight - tenant.points;
                let retry_after = seconds_to_refill(missing, budget.points_per_minute);
                return Err(AppError::RateLimited { retry_after });
            }
            Ok(())
        })
        .unwrap_or(Err(AppError::RateLimited { retry_after: 1 }))
    }

    fn spend_points(&self, org: Uuid, points: u64) {
        self.with_tenant(org, |tenant, _| tenant.points -= points as f64);
    }

    /// Reads the operator's overrides now.
    pub async fn refresh(&self, db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
        let fresh = read_overrides(db, self.defaults).await?;
        if let Ok(mut overrides) = self.overrides.lock() {
            *overrides = fresh;
        }
        Ok(())
    }

    /// Re-reads the overrides when the last read is older than `REFRESH`,
    /// on the request that finds them stale (no background task that would
    /// outlive the server). A failed read keeps the ones in hand.
    async fn refresh_if_stale(&self) {
        let Ok(mut loaded) = self.loaded.try_lock() else {
            return;
        };
        if loaded.is_some_and(|at| at.elapsed() < REFRESH) {
            return;
        }
        *loaded = Some(Instant::now());
        if let Err(err) = self.refresh(&self.side).await {
            tracing::warn!(%err, "budget overrides not refreshed");
        }
    }
}

/// Whole seconds (at least one) until a bucket refilling `per_minute` a
/// minute has gained `missing`.
fn seconds_to_refill(missing: f64, per_minute: u32) -> u64 {
    if per_minute == 0 {
        return 60;
    }
    let seconds = missing * 60.0 / f64::from(per_minute);
    Ord::max(seconds.ceil() as u64, 1)
}

async fn read_overrides(
    db: &DatabaseConnection,
    defaults: Budget,
) -> Result<HashMap<Uuid, Budget>, sea_orm::DbErr> {
    use entity::organization::{Column, Entity};
    // Organization, in flight, requests and points per minute.
    type Row = (Uuid, Option<i32>, Option<i32>, Option<i32>);
    let rows: Vec<Row> = Entity::find()
        .select_only()
        .columns([
            Column::Id,
            Column::BudgetInFlight,
            Column::BudgetRequestsPerMinute,
            Column::BudgetPointsPerMinute,
        ])
        .filter(
            Column::BudgetInFlight
                .is_not_null()
                .or(Column::BudgetRequestsPerMinute.is_not_null())
                .or(Column::BudgetPointsPerMinute.is_not_null()),
        )
        .into_tuple()
        .all(db)
        .await?;
    let positive = |n: Option<i32>, default: u32| n.map_or(default, |n| Ord::max(n, 0) as u32);
    Ok(rows
        .into_iter()
        .map(|(org, in_flight, per_minute, points)| {
            let budget = Budget {
                in_flight: positive(in_flight, defaults.in_flight),
                per_minute: positive(per_minute, defaults.per_minute),
                points_per_minute: positive(points, defaults.points_per_minute),
            };
            (org, budget)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A side connection to an empty database: the overrides' read fails
    /// and the defaults stand, as on any failed read.
    async fn side() -> DatabaseConnection {
        sea_orm::Database::connect("sqlite::memory:").await.unwrap()
    }

    /// A request finding its organization's slots taken waits for one to
    /// free up, up to its wait, and only then is refused.
    #[tokio::test]
    async fn a_full_organization_queues_before_it_refuses() {
        let budgets = Budgets::new(
            Budget {
                in_flight: 1,
                per_minute: 600,
                points_per_minute: 1000,
            },
            side().await,
        );
        let org = Uuid::now_v7();
        let held = budgets.try_admit(org).unwrap();
        let refused = budgets.admit(org, Duration::from_millis(50)).await;
        assert!(matches!(
            refused,
            Err(AppError::RateLimited { retry_after: 1 })
        ));
        let waiting = {
            let budgets = budgets.clone();
            tokio::spawn(async move { budgets.admit(org, Duration::from_secs(5)).await.is_ok() })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(held);
        assert!(waiting.await.unwrap(), "admitted once the slot freed");
    }

    #[test]
    fn the_bucket_refills_at_its_rate_and_usage_reports_it() {
        let side = sea_orm::DatabaseConnection::default();
        // try_admit only: no overrides are read.
        let budgets = Budgets::new(
            Budget {
                in_flight: 2,
                per_minute: 60,
                points_per_minute: 600,
            },
            side,
        );
        let org = Uuid::now_v7();
        let held = budgets.try_admit(org).unwrap();
        assert_eq!(
            budgets.usage(org),
            Usage {
                in_flight: 1,
                requests_available: 59,
                points_available: 600,
            }
        );
        let second = budgets.try_admit(org).unwrap();
        assert!(matches!(budgets.try_admit(org), Err(Refusal::Full)));
        drop((held, second));
        assert_eq!(budgets.usage(org).in_flight, 0);
        for _ in 0..58 {
            drop(budgets.try_admit(org).unwrap());
        }
        assert!(matches!(budgets.try_admit(org), Err(Refusal::Rate(1))));
        assert_eq!(budgets.usage(org).requests_available, 0);
        // Another organization has its own.
        assert_eq!(budgets.usage(Uuid::now_v7()).requests_available, 60);
    }

    /// Points are weighed before a request runs and charged after: a request
    /// weighing more than is left waits for the refill (its Retry-After is
    /// the time the bucket needs), one weighing more than a full bucket can
    /// never run, and an overdrawn bucket refuses until it is back above.
    #[test]
    fn points_are_checked_before_and_charged_after() {
        let budgets = Budgets::new(
            Budget {
                in_flight: 2,
                per_minute: 60,
                points_per_minute: 600,
            },
            sea_orm::DatabaseConnection::default(),
        );
        let org = Uuid::now_v7();
        let admitted = budgets.try_admit(org).unwrap();
        assert!(admitted.may_spend(600).is_ok());
        assert!(matches!(
            admitted.may_spend(601),
            Err(AppError::LimitExceeded(_))
        ));
        admitted.spend(500);
        assert!(admitted.may_spend(100).is_ok());
        // 200 points missing at 10 a second: 20 seconds.
        assert!(matches!(
            admitted.may_spend(300),
            Err(AppError::RateLimited { retry_after: 20 })
        ));
        // Two requests that ran at once overdraw it.
        admitted.spend(400);
        assert_eq!(budgets.usage(org).points_available, -300);
        assert!(matches!(
            admitted.may_spend(1),
            Err(AppError::RateLimited { retry_after: 31 })
        ));
        // Another organization has its own.
        assert_eq!(budgets.usage(Uuid::now_v7()).points_available, 600);
    }
}
