//! The delivery metrics: what each pull request, review, deployment and incident adds to the
//! daily rollup (`delivery_rollups`), by definition (this file), kept current in every
//! transaction that changes delivery data (`refresh`), and read back merged over any days,
//! developers, team spaces or projects (`read`).
//!
//! Definitions (days are calendar days in the organization's time zone):
//!
//! - **Flow**, attributed to the pull request's author (nobody known: the nil developer):
//!   `opened` on its opened day; `coding` (first commit → opened) on its opened day; `pickup`
//!   (opened → first review by someone else) on the review's day; `merged`, `review` (first
//!   review → merged), `cycle` (first commit, else opened → merged) and its `size` class on its
//!   merge day; `closed` (closed unmerged) on its closing day.
//! - **Per environment tier**, for a merged pull request that a successful deployment of that
//!   tier shipped (the first to finish): `deploy` (merged → that deployment finished) and `lead`
//!   (first commit, else opened → that deployment finished), on the deployment's day.
//! - **Review load**: `reviews`, one per review submitted, attributed to the reviewer.
//! - **Deployments**, per tier, on the day a finished deployment finished: `deployments`, and
//!   `failed` when its status is failure or an incident names it as its cause. A deployment is
//!   the work of the authors of the pull requests it shipped: each of `k` authors counts `1/k`
//!   of it (in units of [`SHARE`]), so a team space counts the part its members did and the
//!   organization counts every deployment once.
//! - **Time to restore**: `restore` (incident opened → resolved) on its resolution day, shared
//!   like its cause (an incident without a known cause: the nil developer).
//!
//! Durations are stored as sketch buckets (`sketch.rs`), one rollup row per bucket, so that
//! any rows merge by adding counts.

pub mod read;
pub mod refresh;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{
    UNKNOWN_DEVELOPER, deployment,
    enums::{DeploymentStatus, EnvironmentTier},
    incident, pull_request, pull_request_review,
};
use sea_orm::ActiveEnum as _;
use uuid::Uuid;

use super::sketch;

pub use refresh::{Changed, refresh};

/// A whole deployment or incident, in the units its shares are counted in: divisible by every
/// author count up to 16, so shares are exact integers and sum back to one.
pub const SHARE: i64 = 720_720;

/// What a rollup row counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    Opened,
    Merged,
    Closed,
    Coding,
    Pickup,
    Review,
    Cycle,
    Size,
    Deploy,
    Lead,
    Reviews,
    Deployments,
    Failed,
    Restore,
}

impl Metric {
    pub const ALL: [Metric; 14] = [
        Metric::Opened,
        Metric::Merged,
        Metric::Closed,
        Metric::Coding,
        Metric::Pickup,
        Metric::Review,
        Metric::Cycle,
        Metric::Size,
        Metric::Deploy,
        Metric::Lead,
        Metric::Reviews,
        Metric::Deployments,
        Metric::Failed,
        Metric::Restore,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Opened => "opened",
            Metric::Merged => "merged",
            Metric::Closed => "closed",
            Metric::Coding => "coding",
            Metric::Pickup => "pickup",
            Metric::Review => "review",
            Metric::Cycle => "cycle",
            Metric::Size => "size",
            Metric::Deploy => "deploy",
            Metric::Lead => "lead",
            Metric::Reviews => "reviews",
            Metric::Deployments => "deployments",
            Metric::Failed => "failed",
            Metric::Restore => "restore",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Counted in [`SHARE`]s rather than in ones.
    pub fn shared(self) -> bool {
        matches!(self, Metric::Deployments | Metric::Failed | Metric::Restore)
    }
}

/// Pull request size classes by lines changed (additions + deletions): under 10, 50, 250 and
/// 1,000, and the rest.
pub const SIZE_LIMITS: [i64; 4] = [10, 50, 250, 1000];

pub fn size_class(lines: i64) -> i32 {
    SIZE_LIMITS
        .iter()
        .take_while(|limit| lines >= **limit)
        .count() as i32
}

/// A rollup row's key, below the organization.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub project: Uuid,
    pub developer: Uuid,
    pub day: NaiveDate,
    /// The environment tier's stored value, or `""` for metrics that have none.
    pub tier: String,
    pub metric: Metric,
    pub bucket: i32,
}

/// Rollup rows and their counts.
pub type Counts = BTreeMap<Key, i64>;

/// Builds the rows one source contributes.
pub struct Contributions<'a> {
    pub tz: Tz,
    pub out: &'a mut Counts,
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

/// Splits a whole into one share per developer (sorted), the remainder to the first.
pub fn shares(developers: &BTreeSet<Uuid>) -> Vec<(Uuid, i64)> {
    if developers.is_empty() {
        return vec![(UNKNOWN_DEVELOPER, SHARE)];
    }
    let k = developers.len() as i64;
    let each = SHARE / k;
    let rest = SHARE - each * k;
    developers
        .iter()
        .enumerate()
        .map(|(i, d)| (*d, each + if i == 0 { rest } else { 0 }))
        .collect()
}

/// The developer a row counts for: the author, or nobody known.
pub fn developer_of(id: Option<Uuid>) -> Uuid {
    id.unwrap_or(UNKNOWN_DEVELOPER)
}

impl Contributions<'_> {
    fn day(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        project: Uuid,
        developer: Uuid,
        at: DateTime<Utc>,
        tier: &str,
        metric: Metric,
        bucket: i32,
        n: i64,
    ) {
        let key = Key {
            project,
            developer,
            day: self.day(at),
            tier: tier.to_owned(),
            metric,
            bucket,
        };
        *self.out.entry(key).or_default() += n;
    }

    fn duration(
        &mut self,
        (project, developer): (Uuid, Uuid),
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        tier: &str,
        metric: Metric,
        n: i64,
    ) {
        let bucket = sketch::bucket_of(seconds(from, to));
        self.add(project, developer, to, tier, metric, bucket, n);
    }

    /// A pull request of `project`; `shipped` holds, per tier, when the first successful
    /// deployment of that tier that shipped it finished.
    pub fn pull_request(
        &mut self,
        pr: &pull_request::Model,
        project: Uuid,
        shipped: &BTreeMap<EnvironmentTier, DateTime<Utc>>,
    ) {
        let who = (project, developer_of(pr.author_id));
        let started = pr.first_commit_at.unwrap_or(pr.opened_at);
        self.add(who.0, who.1, pr.opened_at, "", Metric::Opened, 0, 1);
        if let Some(first_commit) = pr.first_commit_at {
            self.duration(who, (first_commit, pr.opened_at), "", Metric::Coding, 1);
        }
        if let Some(review) = pr.first_review_at {
            self.duration(who, (pr.opened_at, review), "", Metric::Pickup, 1);
        }
        let Some(merged) = pr.merged_at else {
            if let Some(closed) = pr.closed_at {
                self.add(who.0, who.1, closed, "", Metric::Closed, 0, 1);
            }
            return;
        };
        self.add(who.0, who.1, merged, "", Metric::Merged, 0, 1);
        if let Some(review) = pr.first_review_at {
            self.duration(who, (review, merged), "", Metric::Review, 1);
        }
        self.duration(who, (started, merged), "", Metric::Cycle, 1);
        let lines = i64::from(pr.additions) + i64::from(pr.deletions);
        let class = size_class(lines);
        self.add(who.0, who.1, merged, "", Metric::Size, class, 1);
        for (tier, finished) in shipped {
            let tier = tier.to_value();
            // A deployment listed before the merge it shipped (clocks differ): deployed at once.
            let finished = (*finished).max(merged);
            self.duration(who, (merged, finished), &tier, Metric::Deploy, 1);
            self.duration(who, (started, finished), &tier, Metric::Lead, 1);
        }
    }

    /// A review of a pull request of `project`.
    pub fn review(&mut self, review: &pull_request_review::Model, project: Uuid) {
        let who = developer_of(review.reviewer_id);
        self.add(project, who, review.submitted_at, "", Metric::Reviews, 0, 1);
    }

    /// A deployment, the authors of what it shipped, and whether an incident names it.
    pub fn deployment(
        &mut self,
        d: &deployment::Model,
        authors: &BTreeSet<Uuid>,
        caused_incident: bool,
    ) {
        if d.status == DeploymentStatus::Pending {
            return;
        }
        let finished = d.finished_at.unwrap_or(d.status_at);
        let failed = d.status == DeploymentStatus::Failure || caused_incident;
        let tier = d.tier.to_value();
        for (developer, share) in shares(authors) {
            let project = d.project_id;
            self.add(
                project,
                developer,
                finished,
                &tier,
                Metric::Deployments,
                0,
                share,
            );
            if failed {
                self.add(
                    project,
                    developer,
                    finished,
                    &tier,
                    Metric::Failed,
                    0,
                    share,
                );
            }
        }
    }

    /// An incident, and the authors of the deployment that caused it when it is known.
    pub fn incident(&mut self, i: &incident::Model, cause_authors: &BTreeSet<Uuid>) {
        let Some(resolved) = i.resolved_at else {
            return;
        };
        for (developer, share) in shares(cause_authors) {
            let at = (i.opened_at, resolved.max(i.opened_at));
            self.duration((i.project_id, developer), at, "", Metric::Restore, share);
        }
    }
}

/// The DORA performance level of a figure, by the thresholds of the 2023 Accelerate State of
/// DevOps report (see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Elite,
    High,
    Medium,
    Low,
}

const HOUR: f64 = 3600.0;
const DAY: f64 = 24.0 * HOUR;

impl Level {
    /// Production deployments per day: elite at least daily (on demand), high at least weekly,
    /// medium at least monthly.
    pub fn of_deployment_frequency(per_day: f64) -> Level {
        if per_day >= 1.0 {
            Level::Elite
        } else if per_day >= 1.0 / 7.0 {
            Level::High
        } else if per_day >= 1.0 / 30.0 {
            Level::Medium
        } else {
            Level::Low
        }
    }

    /// Median lead time for changes: elite under a day, high under a week, medium under a month.
    pub fn of_lead_time(seconds: f64) -> Level {
        Level::below(seconds, [DAY, 7.0 * DAY, 30.0 * DAY])
    }

    /// Change failure rate (0–1): elite at most 5%, high 10%, medium 15%.
    pub fn of_change_failure_rate(rate: f64) -> Level {
        if rate <= 0.05 {
            Level::Elite
        } else if rate <= 0.10 {
            Level::High
        } else if rate <= 0.15 {
            Level::Medium
        } else {
            Level::Low
        }
    }

    /// Median time to restore: elite under an hour, high under a day, medium under a week.
    pub fn of_time_to_restore(seconds: f64) -> Level {
        Level::below(seconds, [HOUR, DAY, 7.0 * DAY])
    }

    fn below(value: f64, [elite, high, medium]: [f64; 3]) -> Level {
        if value < elite {
            Level::Elite
        } else if value < high {
            Level::High
        } else if value < medium {
            Level::Medium
        } else {
            Level::Low
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_one_whole() {
        for k in 1..=20u128 {
            let devs: BTreeSet<Uuid> = (1..=k).map(Uuid::from_u128).collect();
            let split = shares(&devs);
            assert_eq!(split.len() as u128, k);
            assert_eq!(split.iter().map(|s| s.1).sum::<i64>(), SHARE);
        }
        assert_eq!(shares(&BTreeSet::new()), vec![(UNKNOWN_DEVELOPER, SHARE)]);
    }

    #[test]
    fn size_classes_split_at_their_limits() {
        let classes: Vec<i32> = [0, 9, 10, 49, 50, 249, 250, 999, 1000, 50_000]
            .into_iter()
            .map(size_class)
            .collect();
        assert_eq!(classes, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    }

    #[test]
    fn levels_follow_the_published_thresholds() {
        assert_eq!(Level::of_deployment_frequency(3.0), Level::Elite);
        assert_eq!(Level::of_deployment_frequency(0.2), Level::High);
        assert_eq!(Level::of_deployment_frequency(0.05), Level::Medium);
        assert_eq!(Level::of_deployment_frequency(0.01), Level::Low);
        assert_eq!(Level::of_lead_time(3.0 * HOUR), Level::Elite);
        assert_eq!(Level::of_lead_time(3.0 * DAY), Level::High);
        assert_eq!(Level::of_lead_time(10.0 * DAY), Level::Medium);
        assert_eq!(Level::of_lead_time(40.0 * DAY), Level::Low);
        assert_eq!(Level::of_change_failure_rate(0.05), Level::Elite);
        assert_eq!(Level::of_change_failure_rate(0.08), Level::High);
        assert_eq!(Level::of_change_failure_rate(0.15), Level::Medium);
        assert_eq!(Level::of_change_failure_rate(0.3), Level::Low);
        assert_eq!(Level::of_time_to_restore(20.0 * 60.0), Level::Elite);
        assert_eq!(Level::of_time_to_restore(5.0 * HOUR), Level::High);
        assert_eq!(Level::of_time_to_restore(2.0 * DAY), Level::Medium);
        assert_eq!(Level::of_time_to_restore(9.0 * DAY), Level::Low);
    }
}
