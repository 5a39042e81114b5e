//! A demo repository's deployments and its project's incidents: a staging deployment after
//! each merge, production trains on weekdays shipping what merged since the last successful one
//! (about one in eight fails, and its pull requests go again with the next), and incidents,
//! half of the failed releases' and a few others, each resolved after a time to restore.

use chrono::{DateTime, Days, Duration, NaiveTime, Utc};
use entity::enums::{DeploymentStatus, EnvironmentTier};
use rand::Rng;

use super::{
    pull_requests::Merge,
    story::{LogNormal, Story, hours, is_weekend, normal, poisson},
};
use crate::{
    ids::{ProjectId, RepositoryId},
    service::delivery::facts::{DeploymentFact, IncidentFact},
};

/// A merge to the staging deployment that picks it up (continuous integration).
const TO_STAGING: LogNormal = hours(0.3, 0.6);
/// A deployment's start to its end.
const DEPLOY: LogNormal = hours(0.15, 0.5);
/// A failed release to the incident being opened.
const DETECT: LogNormal = hours(0.2, 0.8);
/// An incident opened to resolved (time to restore).
const RESTORE: LogNormal = hours(1.5, 1.1);

const FAILED_RELEASE: f64 = 0.12;
const FAILED_STAGING: f64 = 0.05;
/// Failed releases that open an incident; the others are rolled back before anyone notices.
const FAILURE_INCIDENT: f64 = 0.5;
/// Incidents a project has a week that no deployment is blamed for.
const OTHER_INCIDENTS_PER_WEEK: f64 = 0.15;
/// Production trains leave at these hours of each weekday, give or take half an hour, with
/// what merged at least an hour before.
const TRAINS: &[f64] = &[10.5, 15.5];
const INCIDENTS: &[&str] = &[
    "Elevated 5xx on the API",
    "Checkout latency above SLO",
    "Login failures for SSO users",
    "Background jobs stuck",
    "Search returns stale results",
    "Webhook deliveries delayed",
];

/// Where a deployment goes: the project, from this repository.
#[derive(Clone, Copy)]
pub(super) struct Target {
    pub project: ProjectId,
    pub repository: RepositoryId,
}

/// What a deployment ships: pull requests by number, and the last one's merge commit.
struct Ship {
    numbers: Vec<i32>,
    sha: Option<String>,
}

impl Ship {
    fn of<'a>(merges: impl IntoIterator<Item = &'a Merge>) -> Ship {
        let mut ship = Ship {
            numbers: Vec::new(),
            sha: None,
        };
        for m in merges {
            ship.numbers.push(m.number);
            ship.sha = Some(m.sha.clone());
        }
        ship
    }
}

impl Story {
    /// Staging deployments (one after each merge, taking along what merged meanwhile) and
    /// production trains (weekdays, shipping what merged since the last successful one; a
    /// failed train's pull requests go again with the next).
    pub(super) fn deployments(&mut self, target: Target, merges: &[Merge]) -> Vec<DeploymentFact> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < merges.len() {
            let started = merges[i].at + self.duration(TO_STAGING);
            let shipped = merges[i..]
                .iter()
                .take_while(|m| m.at <= started)
                .count()
                .max(1);
            let ship = Ship::of(&merges[i..i + shipped]);
            out.extend(self.deployment(target, "staging", started, FAILED_STAGING, ship));
            i += shipped;
        }
        let mut waiting: Vec<&Merge> = Vec::new();
        let mut next = merges.iter().peekable();
        let first = self.start.date_naive();
        for d in 0..=(self.now - self.start).num_days().max(0) as u64 {
            let midnight = (first + Days::new(d)).and_time(NaiveTime::MIN).and_utc();
            if is_weekend(midnight) {
                continue;
            }
            for train in TRAINS {
                let hour = train + 0.5 * normal(&mut self.rng);
                let started = midnight + Duration::seconds((hour * 3600.0) as i64);
                while let Some(m) = next.next_if(|m| m.at + Duration::hours(1) <= started) {
                    waiting.push(m);
                }
                if waiting.is_empty() || started < self.start {
                    continue;
                }
                let ship = Ship::of(waiting.iter().copied());
                let Some(fact) =
                    self.deployment(target, "production", started, FAILED_RELEASE, ship)
                else {
                    continue;
                };
                if fact.status == DeploymentStatus::Success {
                    waiting.clear();
                }
                out.push(fact);
            }
        }
        out
    }

    fn deployment(
        &mut self,
        target: Target,
        environment: &str,
        started: DateTime<Utc>,
        failure: f64,
        ship: Ship,
    ) -> Option<DeploymentFact> {
        let finished = started + self.duration(DEPLOY);
        let failed = self.chance(failure);
        let id = self.serial(3_000_000_000);
        if started >= self.now {
            return None;
        }
        let (status, status_at) = match (finished <= self.now, failed) {
            (false, _) => (DeploymentStatus::Pending, started),
            (true, true) => (DeploymentStatus::Failure, finished),
            (true, false) => (DeploymentStatus::Success, finished),
        };
        Some(DeploymentFact {
            project: target.project,
            repository: Some(target.repository),
            external_id: format!("github:{id}"),
            environment: environment.to_owned(),
            tier: if environment == "production" {
                EnvironmentTier::Production
            } else {
                EnvironmentTier::Staging
            },
            status,
            sha: ship.sha,
            started_at: started,
            status_at,
            pull_requests: ship.numbers,
        })
    }

    /// Incidents of a project: half of its failed releases open one, found minutes later; a
    /// few more over the window that no deployment is blamed for. Each is resolved after a
    /// time to restore, unless that is still to come.
    pub(super) fn incidents(
        &mut self,
        project: ProjectId,
        failed: &[DeploymentFact],
        days: usize,
    ) -> Vec<IncidentFact> {
        let mut out = Vec::new();
        for release in failed {
            if !self.chance(FAILURE_INCIDENT) {
                continue;
            }
            let opened = release.status_at + self.duration(DETECT);
            let cause = (release.repository, Some(release.external_id.clone()));
            out.extend(self.incident(project, opened, cause));
        }
        let weeks = days as f64 / 7.0;
        for _ in 0..poisson(&mut self.rng, weeks * OTHER_INCIDENTS_PER_WEEK) {
            let span = (self.now - self.start).num_seconds().max(1);
            let opened = self.start + Duration::seconds(self.rng.random_range(0..span));
            out.extend(self.incident(project, opened, (None, None)));
        }
        out
    }

    fn incident(
        &mut self,
        project: ProjectId,
        opened: DateTime<Utc>,
        (repository, caused_by): (Option<RepositoryId>, Option<String>),
    ) -> Option<IncidentFact> {
        let resolved = opened + self.duration(RESTORE);
        let id = self.serial(0);
        let title = self.pick(INCIDENTS);
        if opened > self.now {
            return None;
        }
        let resolved_at = (resolved <= self.now).then_some(resolved);
        Some(IncidentFact {
            project,
            repository,
            external_id: format!("INC-{id}"),
            title: title.to_owned(),
            opened_at: opened,
            resolved_at,
            caused_by,
            updated_at: resolved_at.unwrap_or(opened),
        })
    }
}
