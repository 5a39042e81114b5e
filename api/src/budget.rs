//! Every tenant gets its own budget: requests in flight at once and
//! requests per minute (a token bucket), on `/graphql` and `/v1/events`.
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
}

struct Tenant {
    in_flight: u32,
    tokens: f64,
    refilled: Instant,
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
        let budget = self.budget_of(org);
        let Ok(tenants) = self.tenants.lock() else {
            return Usage::default();
        };
        match tenants.get(&org) {
            Some(tenant) => {
                let per_second = f64::from(budget.per_minute) / 60.0;
                let elapsed = tenant.refilled.elapsed().as_secs_f64();
                let tokens =
                    (tenant.tokens + elapsed * per_second).min(f64::from(budget.per_minute));
                Usage {
                    in_flight: tenant.in_flight,
                    requests_available: tokens.floor() as u32,
                }
            }
            None => Usage {
                in_flight: 0,
                requests_available: budget.per_minute,
            },
        }
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
        let budget = self.budget_of(org);
        let Ok(mut tenants) = self.tenants.lock() else {
            return Err(Refusal::Rate(1));
        };
        let now = Instant::now();
        let tenant = tenants.entry(org).or_insert(Tenant {
            in_flight: 0,
            tokens: f64::from(budget.per_minute),
            refilled: now,
        });
        let per_second = f64::from(budget.per_minute) / 60.0;
        let capacity = f64::from(budget.per_minute);
        let elapsed = now.duration_since(tenant.refilled).as_secs_f64();
        tenant.tokens = (tenant.tokens + elapsed * per_second).min(capacity);
        tenant.refilled = now;
        if tenant.in_flight >= budget.in_flight {
            return Err(Refusal::Full);
        }
        if tenant.tokens < 1.0 {
            let wait = if per_second > 0.0 {
                ((1.0 - tenant.tokens) / per_second).ceil() as u64
            } else {
                60
            };
            return Err(Refusal::Rate(Ord::max(wait, 1)));
        }
        tenant.tokens -= 1.0;
        tenant.in_flight += 1;
        Ok(Admitted {
            budgets: self.clone(),
            org,
        })
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

async fn read_overrides(
    db: &DatabaseConnection,
    defaults: Budget,
) -> Result<HashMap<Uuid, Budget>, sea_orm::DbErr> {
    use entity::organization::{Column, Entity};
    let rows: Vec<(Uuid, Option<i32>, Option<i32>)> = Entity::find()
        .select_only()
        .columns([
            Column::Id,
            Column::BudgetInFlight,
            Column::BudgetRequestsPerMinute,
        ])
        .filter(
            Column::BudgetInFlight
                .is_not_null()
                .or(Column::BudgetRequestsPerMinute.is_not_null()),
        )
        .into_tuple()
        .all(db)
        .await?;
    let positive = |n: Option<i32>, default: u32| n.map_or(default, |n| Ord::max(n, 0) as u32);
    Ok(rows
        .into_iter()
        .map(|(org, in_flight, per_minute)| {
            let budget = Budget {
                in_flight: positive(in_flight, defaults.in_flight),
                per_minute: positive(per_minute, defaults.per_minute),
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
            },
            side,
        );
        let org = Uuid::now_v7();
        let held = budgets.try_admit(org).unwrap();
        assert_eq!(
            budgets.usage(org),
            Usage {
                in_flight: 1,
                requests_available: 59
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
}
