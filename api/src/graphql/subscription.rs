//! Subscriptions, served over `/graphql/ws` (graphql-transport-ws): the
//! figures of one scope, sent again after each committed write that changed
//! them. A subscription reads its figures when it starts, waits on the bus
//! (`service::live`), re-reads through the same scoped reads as the
//! queries, and sends only what differs from what it sent before.

use std::{collections::BTreeMap, time::Duration};

use async_graphql::{
    Context, ID, Result, SimpleObject, Subscription,
    futures_util::{Stream, StreamExt as _, stream},
};
use chrono::{NaiveDate, Utc};

use super::{
    request::{RequestData, request},
    types::{
        Date, DeliveryInterval, DeliveryPeriod, EnvironmentTier, check_list_len,
        delivery_query_with, periods,
    },
};
use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    ids::{DeveloperId, NodeKind, ProjectId, TeamSpaceId},
    service::{
        analytics::{self, Dim, MetricFilter, MetricQuery, MetricScope, check_range},
        delivery::metrics::read::{self, DeliveryQuery, Figures},
        live::{Feed, Figures as Kind, Watch},
        table,
    },
};

/// How far back `metricsChanged` watches when `from` is not given.
const DEFAULT_DAYS: i64 = 30;

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The daily event counts of a scope (an organization, team space,
    /// project or developer id), by day and event name, from `from`
    /// (default: 30 days ago) to today. The first message holds every
    /// count at the start (so nothing falls between a query and the
    /// subscription); each later one, sent after a committed write changed
    /// some, holds those that changed, with their new count (0 when a count
    /// moved away, e.g. to a developer linked since). At most one message a
    /// second: changes in between are folded into the next.
    async fn metrics_changed(
        &self,
        ctx: &Context<'_>,
        scope: ID,
        from: Option<Date>,
        event_names: Option<Vec<String>>,
    ) -> Result<impl Stream<Item = MetricsChange> + use<>> {
        let rq = request(ctx)?;
        let watch = watch(rq, &scope).await?;
        let today = Utc::now().date_naive();
        let from = from.map_or(today - chrono::Duration::days(DEFAULT_DAYS - 1), |d| d.0);
        // Tomorrow: an organization east of UTC may be a day ahead.
        check_range(from, tomorrow(), rq.limits.max_metrics_days)?;
        let max = rq.limits.max_filter_values;
        check_list_len("eventNames", event_names.as_deref(), max)?;
        let reader = CountReader {
            ctx: rq.caller.ctx.clone(),
            db: rq.db.clone(),
            watch,
            from,
            max_days: rq.limits.max_metrics_days,
            event_names,
            max_rows: rq.limits.max_metric_rows,
        };
        let feed = feed(rq, Kind::Metrics, watch)?;
        let seen = reader.read().await?;
        let first = MetricsChange {
            scope: scope.clone(),
            rows: changed_rows(&Counts::new(), &seen),
        };
        Ok(changes(first, feed, reader, seen, move |before, now| {
            let rows = changed_rows(before, now);
            (!rows.is_empty()).then(|| MetricsChange {
                scope: scope.clone(),
                rows,
            })
        }))
    }

    /// The delivery analytics of a scope, as its `delivery` field answers
    /// them: the first message at the start, then again after each
    /// committed write that changed them, at most one message a second.
    async fn delivery_changed(
        &self,
        ctx: &Context<'_>,
        scope: ID,
        from: Date,
        to: Date,
        #[graphql(default_with = "DeliveryInterval::Week")] interval: DeliveryInterval,
        #[graphql(default_with = "EnvironmentTier::Production")] environment_tier: EnvironmentTier,
    ) -> Result<impl Stream<Item = DeliveryChange> + use<>> {
        let rq = request(ctx)?;
        let watch = watch(rq, &scope).await?;
        let look = ctx.look_ahead().field("periods");
        let q = delivery_query_with(&look, rq, from, to, interval, environment_tier)?;
        let reader = DeliveryReader {
            ctx: rq.caller.ctx.clone(),
            db: rq.db.clone(),
            watch,
            q,
        };
        let feed = feed(rq, Kind::Delivery, watch)?;
        let seen = reader.read().await?;
        let q = reader.q.clone();
        let first = DeliveryChange {
            scope: scope.clone(),
            periods: periods(Some(&seen), &q),
        };
        Ok(changes(first, feed, reader, seen, move |before, now| {
            (before != now).then(|| DeliveryChange {
                scope: scope.clone(),
                periods: periods(Some(now), &q),
            })
        }))
    }
}

/// New daily counts of a scope.
#[derive(SimpleObject)]
pub struct MetricsChange {
    /// The scope subscribed to.
    scope: ID,
    /// The (day, event name) counts that changed, by day then name.
    rows: Vec<MetricsChangeRow>,
}

#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct MetricsChangeRow {
    day: Date,
    event_name: String,
    count: i64,
}

/// New delivery analytics of a scope.
#[derive(SimpleObject)]
pub struct DeliveryChange {
    scope: ID,
    /// Every period of the range, as `delivery` answers them now.
    periods: Vec<DeliveryPeriod>,
}

/// What a scope id names, in the caller's organization; another
/// organization's id is NOT_FOUND, like one that does not exist.
async fn watch(rq: &RequestData, scope: &ID) -> AppResult<Watch> {
    let ctx = &rq.caller.ctx;
    let (kind, uuid) = crate::ids::decode(scope)?;
    let not_found = || AppError::not_found("scope");
    let watch = match kind {
        NodeKind::Organization if uuid == ctx.org_id().uuid() => Watch::Organization,
        NodeKind::TeamSpace => {
            let id = TeamSpaceId::from_db(uuid);
            table::get::<entity::team_space::Entity>(ctx, &rq.db, id).await?;
            Watch::TeamSpace(uuid)
        }
        NodeKind::Project => {
            let id = ProjectId::from_db(uuid);
            table::get::<entity::project::Entity>(ctx, &rq.db, id).await?;
            Watch::Project(uuid)
        }
        NodeKind::Developer => {
            let id = DeveloperId::from_db(uuid);
            table::get::<entity::developer::Entity>(ctx, &rq.db, id).await?;
            Watch::Developer(uuid)
        }
        _ => return Err(not_found()),
    };
    Ok(watch)
}

fn feed(rq: &RequestData, kind: Kind, watch: Watch) -> AppResult<Feed> {
    // Without a bus (only outside the server) nothing would ever arrive.
    Feed::new(&rq.live, rq.caller.ctx.org_id(), kind, watch).ok_or_else(|| {
        AppError::bad_input("subscriptions are served over WebSocket at /graphql/ws")
    })
}

fn tomorrow() -> NaiveDate {
    Utc::now().date_naive() + chrono::Duration::days(1)
}

/// Reads a scope's figures again.
trait Reader: Send + Sync + 'static {
    type Figures: Send + 'static;
    fn read(&self) -> impl Future<Output = AppResult<Self::Figures>> + Send;
}

/// The messages of one subscription: `first`, then after each wake-up of
/// `feed` the figures read again, and a message when `message(before,
/// now)` finds one. A read that fails (the database is away) is tried
/// again a second later; what it missed is in the next read.
fn changes<R: Reader, M: Send + 'static>(
    first: M,
    feed: Feed,
    reader: R,
    seen: R::Figures,
    message: impl Fn(&R::Figures, &R::Figures) -> Option<M> + Send + 'static,
) -> impl Stream<Item = M> + Send + 'static {
    let state = (feed, reader, seen, message, false);
    let later = stream::unfold(
        state,
        |(mut feed, reader, mut seen, message, mut retry)| async move {
            loop {
                if retry {
                    tokio::time::sleep(RETRY).await;
                } else if !feed.changed().await {
                    return None;
                }
                match reader.read().await {
                    Ok(now) => {
                        retry = false;
                        let sent = message(&seen, &now);
                        seen = now;
                        if let Some(sent) = sent {
                            return Some((sent, (feed, reader, seen, message, retry)));
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err.describe(), "a subscription could not re-read");
                        retry = true;
                    }
                }
            }
        },
    );
    stream::once(std::future::ready(first)).chain(later)
}

/// How long a subscription waits before reading again after a failed read.
const RETRY: Duration = Duration::from_secs(1);

type Counts = BTreeMap<(NaiveDate, String), i64>;

struct CountReader {
    ctx: TenantCtx,
    db: sea_orm::DatabaseConnection,
    watch: Watch,
    from: NaiveDate,
    max_days: i64,
    event_names: Option<Vec<String>>,
    max_rows: usize,
}

impl Reader for CountReader {
    type Figures = Counts;

    async fn read(&self) -> AppResult<Counts> {
        let to = tomorrow();
        // A subscription open for months keeps to the longest range.
        let from = self
            .from
            .max(to - chrono::Duration::days(self.max_days - 1));
        let mut filter = MetricFilter {
            event_names: self.event_names.clone(),
            ..MetricFilter::default()
        };
        let scope = match self.watch {
            Watch::Organization => MetricScope::Organization,
            Watch::TeamSpace(id) => MetricScope::TeamSpaces(vec![id]),
            Watch::Project(id) => MetricScope::Projects(vec![id]),
            Watch::Developer(id) => {
                filter.developers = Some(vec![id]);
                MetricScope::Organization
            }
        };
        let q = MetricQuery {
            from,
            to,
            filter,
            group_by: vec![Dim::Day, Dim::EventName],
            max_rows: Some(self.max_rows),
        };
        let rows = analytics::query(&self.ctx, &self.db, &scope, &q).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| Some(((row.day?, row.event_name?), row.count)))
            .collect())
    }
}

/// Rows whose count differs, with the new count (0: gone).
fn changed_rows(before: &Counts, now: &Counts) -> Vec<MetricsChangeRow> {
    let mut keys: Vec<&(NaiveDate, String)> = now.keys().chain(before.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let count = now.get(key).copied().unwrap_or(0);
            (before.get(key).copied().unwrap_or(0) != count).then(|| MetricsChangeRow {
                day: Date(key.0),
                event_name: key.1.clone(),
                count,
            })
        })
        .collect()
}

struct DeliveryReader {
    ctx: TenantCtx,
    db: sea_orm::DatabaseConnection,
    watch: Watch,
    q: DeliveryQuery,
}

impl Reader for DeliveryReader {
    type Figures = Vec<Figures>;

    async fn read(&self) -> AppResult<Vec<Figures>> {
        let (scope, key) = match self.watch {
            Watch::Organization => (read::Scope::Organization, self.ctx.org_id().uuid()),
            Watch::TeamSpace(id) => (read::Scope::TeamSpaces(vec![id]), id),
            Watch::Project(id) => (read::Scope::Projects(vec![id]), id),
            Watch::Developer(id) => (read::Scope::Developers(vec![id]), id),
        };
        let mut found = read::query(&self.ctx, &self.db, &scope, &self.q).await?;
        Ok(found.remove(&key).unwrap_or_else(|| read::empty(&self.q)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_rows_are_the_new_counts_of_what_differs() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let key = |d, name: &str| (day(d), name.to_owned());
        let before = Counts::from([(key(1, "a"), 3), (key(1, "b"), 2), (key(2, "a"), 1)]);
        let now = Counts::from([(key(1, "a"), 3), (key(1, "b"), 5), (key(3, "c"), 1)]);
        let rows: Vec<_> = changed_rows(&before, &now)
            .into_iter()
            .map(|r| (r.day.0, r.event_name, r.count))
            .collect();
        assert_eq!(
            rows,
            vec![
                (day(1), "b".to_owned(), 5),
                (day(2), "a".to_owned(), 0),
                (day(3), "c".to_owned(), 1),
            ]
        );
        assert!(changed_rows(&now, &now).is_empty());
    }
}
