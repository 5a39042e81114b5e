//! `delivery(from, to, interval, environmentTier)` on organizations, team spaces, projects and
//! developers: the DORA keys and pull-request flow per period, from the delivery rollup
//! (definitions in `service::delivery::metrics`). Durations are in seconds.

use std::sync::Arc;

use async_graphql::{Context, Enum, Lookahead, Object, Result, SimpleObject};

use super::{CohortObject as _, Date, Developer, EnvironmentTier};
use crate::{
    error::AppResult,
    graphql::request::{RequestData, request},
    ids::DeveloperId,
    service::{
        analytics::check_range,
        delivery::{
            metrics::{
                Level, Metric,
                read::{DeliveryQuery, Figures, Interval},
            },
            sketch::{RELATIVE_ERROR, Sketch},
        },
    },
};

/// How a delivery range is cut into periods.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Interval")]
pub enum DeliveryInterval {
    Day,
    /// ISO weeks (Monday to Sunday), cut at the range's ends.
    Week,
    /// Calendar months, cut at the range's ends.
    Month,
    /// The whole range as one period.
    All,
}

impl DeliveryInterval {
    /// Days per period, for the field's weight.
    pub fn days(self) -> i64 {
        match self {
            DeliveryInterval::Day => 1,
            DeliveryInterval::Week => 7,
            DeliveryInterval::Month => 28,
            DeliveryInterval::All => i64::MAX,
        }
    }
}

/// The DORA performance level of a figure, by the 2023 Accelerate State of DevOps report's
/// thresholds (see the README).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Level")]
pub enum DoraLevel {
    Elite,
    High,
    Medium,
    Low,
}

/// Percentiles of a set of durations, in whole seconds, each within 2% of the exact value (the
/// sketches' relative error, plus the rounding); null without durations.
#[derive(SimpleObject)]
pub struct Durations {
    /// How many durations (pull requests, or incidents in shares of their causes).
    pub count: f64,
    pub p50: Option<f64>,
    pub p75: Option<f64>,
    pub p90: Option<f64>,
}

impl Durations {
    fn of(sketch: &Sketch, whole: f64) -> Durations {
        // Whole seconds: the sketch's 2% is coarser than a fraction of a second anyway.
        let q = |q: f64| sketch.quantile(q).map(f64::round);
        Durations {
            count: sketch.count() as f64 / whole,
            p50: q(0.50),
            p75: q(0.75),
            p90: q(0.90),
        }
    }
}

/// The arguments of a `delivery` field, checked, with the metrics its selection reads.
pub fn delivery_query(
    ctx: &Context<'_>,
    rq: &RequestData,
    from: Date,
    to: Date,
    interval: DeliveryInterval,
    tier: EnvironmentTier,
) -> AppResult<DeliveryQuery> {
    delivery_query_with(&ctx.look_ahead(), rq, from, to, interval, tier)
}

/// `delivery_query`, for periods selected under `look` (`deliveryChanged`'s `periods`).
pub fn delivery_query_with(
    look: &Lookahead<'_>,
    rq: &RequestData,
    from: Date,
    to: Date,
    interval: DeliveryInterval,
    tier: EnvironmentTier,
) -> AppResult<DeliveryQuery> {
    check_range(from.0, to.0, rq.limits.max_metrics_days)?;
    let (metrics, per_reviewer) = wanted(look);
    Ok(DeliveryQuery {
        from: from.0,
        to: to.0,
        interval: interval.into(),
        tier: tier.into(),
        metrics,
        per_reviewer,
    })
}

/// What a `delivery` field's selection reads: rows of the other metrics are left unsummed,
/// and reviews are counted per reviewer only for `reviewLoad`.
fn wanted(look: &Lookahead<'_>) -> (Vec<Metric>, bool) {
    let (dora, flow) = (look.field("dora"), look.field("flow"));
    let any = |of: &async_graphql::Lookahead<'_>, fields: &[&str]| {
        fields.iter().any(|f| of.field(f).exists())
    };
    let rate = any(&dora, &["changeFailureRate", "changeFailureRateLevel"]);
    let frequency = [
        "deployments",
        "deploymentsPerDay",
        "deploymentFrequencyLevel",
    ];
    let wants = [
        (Metric::Deployments, rate || any(&dora, &frequency)),
        (Metric::Failed, rate || any(&dora, &["failedDeployments"])),
        (Metric::Lead, any(&dora, &["leadTime", "leadTimeLevel"])),
        (
            Metric::Restore,
            any(&dora, &["timeToRestore", "timeToRestoreLevel"]),
        ),
        (Metric::Opened, any(&flow, &["opened"])),
        (Metric::Merged, any(&flow, &["merged"])),
        (Metric::Closed, any(&flow, &["closed"])),
        (Metric::Cycle, any(&flow, &["cycleTime"])),
        (Metric::Coding, any(&flow, &["codingTime"])),
        (Metric::Pickup, any(&flow, &["pickupTime"])),
        (Metric::Review, any(&flow, &["reviewTime"])),
        (Metric::Deploy, any(&flow, &["deployTime"])),
        (Metric::Reviews, any(&flow, &["reviews", "reviewLoad"])),
        (Metric::Size, any(&flow, &["sizes"])),
    ];
    let metrics = (wants.into_iter())
        .filter_map(|(metric, wanted)| wanted.then_some(metric))
        .collect();
    (metrics, flow.field("reviewLoad").exists())
}

/// The periods of one scope, as GraphQL objects.
pub fn periods(found: Option<&Vec<Figures>>, q: &DeliveryQuery) -> Vec<DeliveryPeriod> {
    let figures = match found {
        Some(f) => f.clone(),
        None => crate::service::delivery::metrics::read::empty(q),
    };
    figures
        .into_iter()
        .map(|f| DeliveryPeriod(Arc::new(f)))
        .collect()
}

/// One period of a delivery range.
pub struct DeliveryPeriod(Arc<Figures>);

#[Object]
impl DeliveryPeriod {
    /// Its first day.
    async fn from(&self) -> Date {
        Date(self.0.from)
    }
    /// Its last day.
    async fn to(&self) -> Date {
        Date(self.0.to)
    }
    /// The four DORA keys.
    async fn dora(&self) -> Dora {
        Dora(self.0.clone())
    }
    /// Pull-request flow.
    async fn flow(&self) -> Flow {
        Flow(self.0.clone())
    }
}

/// The DORA keys of a period, for the tier asked (production by default).
pub struct Dora(Arc<Figures>);

#[Object]
impl Dora {
    /// Finished deployments of the tier. Below an organization or project, a deployment counts
    /// for the authors of what it shipped, `1/k` for each of `k`, so it can be fractional.
    async fn deployments(&self) -> f64 {
        self.0.total(Metric::Deployments)
    }
    /// Deployments per day of the period.
    async fn deployments_per_day(&self) -> f64 {
        self.0.total(Metric::Deployments) / self.0.days() as f64
    }
    async fn deployment_frequency_level(&self) -> DoraLevel {
        let per_day = self.0.total(Metric::Deployments) / self.0.days() as f64;
        Level::of_deployment_frequency(per_day).into()
    }
    /// First commit (or opening, without a known commit) to the first successful deployment
    /// of the tier that shipped the change, on that deployment's day.
    async fn lead_time(&self) -> Durations {
        Durations::of(&self.0.sketch(Metric::Lead), 1.0)
    }
    /// By the median lead time; null without deployed changes.
    async fn lead_time_level(&self) -> Option<DoraLevel> {
        let median = self.0.sketch(Metric::Lead).quantile(0.5)?;
        Some(Level::of_lead_time(median).into())
    }
    /// Deployments that failed or caused an incident.
    async fn failed_deployments(&self) -> f64 {
        self.0.total(Metric::Failed)
    }
    /// Failed over all deployments, 0 to 1; null without deployments.
    async fn change_failure_rate(&self) -> Option<f64> {
        change_failure_rate(&self.0)
    }
    async fn change_failure_rate_level(&self) -> Option<DoraLevel> {
        change_failure_rate(&self.0).map(|r| Level::of_change_failure_rate(r).into())
    }
    /// Incident opened to resolved, on the day it was resolved (every incident, whatever the
    /// tier; below an organization or project, shared like the deployment that caused it).
    async fn time_to_restore(&self) -> Durations {
        let sketch = self.0.sketch(Metric::Restore);
        Durations::of(&sketch, crate::service::delivery::metrics::SHARE as f64)
    }
    /// By the median time to restore; null without resolved incidents.
    async fn time_to_restore_level(&self) -> Option<DoraLevel> {
        let median = self.0.sketch(Metric::Restore).quantile(0.5)?;
        Some(Level::of_time_to_restore(median).into())
    }
    /// The relative error bound of every percentile here.
    async fn percentile_relative_error(&self) -> f64 {
        RELATIVE_ERROR
    }
}

fn change_failure_rate(f: &Figures) -> Option<f64> {
    let all = f.total(Metric::Deployments);
    (all > 0.0).then(|| f.total(Metric::Failed) / all)
}

/// Pull-request flow in a period, by the pull requests' authors.
pub struct Flow(Arc<Figures>);

/// Merged pull requests by lines changed (additions plus deletions).
#[derive(SimpleObject)]
pub struct PullRequestSizes {
    /// Under 10 lines.
    pub xs: i64,
    /// 10 to 49.
    pub s: i64,
    /// 50 to 249.
    pub m: i64,
    /// 250 to 999.
    pub l: i64,
    /// 1,000 or more.
    pub xl: i64,
}

/// Reviews one reviewer submitted in the period.
pub struct ReviewLoad {
    developer: Option<DeveloperId>,
    reviews: i64,
}

#[Object]
impl ReviewLoad {
    /// Null for reviewers no developer is linked to.
    async fn developer(&self, ctx: &Context<'_>) -> Result<Option<Developer>> {
        let Some(id) = self.developer else {
            return Ok(None);
        };
        let rq = request(ctx)?;
        let found = rq.loaders.developer.load_one(id).await?;
        Ok(found.map(|row| {
            let cohort = Developer::cohort_of(std::slice::from_ref(&row));
            Developer::wrap(row, cohort)
        }))
    }
    async fn reviews(&self) -> i64 {
        self.reviews
    }
}

#[Object]
impl Flow {
    /// Opened in the period.
    async fn opened(&self) -> i64 {
        self.0.count(Metric::Opened)
    }
    async fn merged(&self) -> i64 {
        self.0.count(Metric::Merged)
    }
    /// Closed without being merged.
    async fn closed(&self) -> i64 {
        self.0.count(Metric::Closed)
    }
    /// First commit (or opening) to merge, of pull requests merged in the period.
    async fn cycle_time(&self) -> Durations {
        Durations::of(&self.0.sketch(Metric::Cycle), 1.0)
    }
    /// First commit to opening, of pull requests opened in the period.
    async fn coding_time(&self) -> Durations {
        Durations::of(&self.0.sketch(Metric::Coding), 1.0)
    }
    /// Opening to the first review by someone other than the author, on the review's day.
    async fn pickup_time(&self) -> Durations {
        Durations::of(&self.0.sketch(Metric::Pickup), 1.0)
    }
    /// First review to merge, of pull requests merged in the period.
    async fn review_time(&self) -> Durations {
        Durations::of(&self.0.sketch(Metric::Review), 1.0)
    }
    /// Merge to the first successful deployment of the tier that shipped it, on its day.
    async fn deploy_time(&self) -> Durations {
        Durations::of(&self.0.sketch(Metric::Deploy), 1.0)
    }
    /// Reviews submitted in the period.
    async fn reviews(&self) -> i64 {
        self.0.count(Metric::Reviews)
    }
    /// Reviews per reviewer, most first.
    async fn review_load(&self) -> Vec<ReviewLoad> {
        let mut load: Vec<ReviewLoad> = (self.0.reviewers.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(id, n)| ReviewLoad {
                developer: (*id != entity::UNKNOWN_DEVELOPER).then(|| DeveloperId::from_db(*id)),
                reviews: *n,
            })
            .collect();
        load.sort_by_key(|l| std::cmp::Reverse(l.reviews));
        load
    }
    /// Pull requests merged in the period, by size.
    async fn sizes(&self) -> PullRequestSizes {
        let [xs, s, m, l, xl] = self.0.sizes;
        PullRequestSizes { xs, s, m, l, xl }
    }
}
