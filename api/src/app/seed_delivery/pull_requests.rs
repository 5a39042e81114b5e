//! A demo repository's pull requests: opened on weekdays at working hours, with commits on
//! their head branch from a coding time before, reviewed after a pickup time, approved at once
//! or after a round of changes, merged soon after the last approval; one in ten is abandoned.

use chrono::{DateTime, Duration, Utc};
use entity::enums::{PullRequestState, ReviewState};
use rand::Rng;

use super::story::{LogNormal, Story, hours, normal, poisson};
use crate::{
    ids::RepositoryId,
    service::delivery::facts::{CommitFact, Facts, IdentityRef, PullRequestFact, ReviewFact, Size},
};

/// First commit to opening the pull request.
const CODING: LogNormal = hours(16.0, 1.0);
/// Opening to the first review.
const PICKUP: LogNormal = hours(3.0, 1.2);
/// Changes requested (or questions asked) to the fix being pushed.
const REWORK: LogNormal = hours(4.0, 0.9);
/// The fix to the approval.
const REVIEW: LogNormal = hours(1.5, 1.0);
/// The last approval to the merge.
const MERGE: LogNormal = hours(0.8, 0.9);
/// Opening to closing without merging.
const ABANDON: LogNormal = hours(40.0, 0.8);

const ABANDONED: f64 = 0.10;
/// Pull requests opened by GitHub users who are no developer of the organization.
const BY_OUTSIDERS: f64 = 0.12;
const SECOND_APPROVAL: f64 = 0.25;

const KINDS: &[(&str, &str)] = &[
    ("feat", "Add"),
    ("fix", "Fix"),
    ("refactor", "Refactor"),
    ("chore", "Update"),
    ("perf", "Speed up"),
    ("test", "Cover"),
];
const AREAS: &[&str] = &[
    "rate limiting",
    "login flow",
    "retries on timeouts",
    "pagination cursors",
    "CSV export",
    "webhook signatures",
    "cache invalidation",
    "search ranking",
    "error messages",
    "feature flags",
    "audit log",
    "session expiry",
    "metrics endpoint",
    "billing emails",
    "config loading",
    "onboarding checklist",
];
const DEPENDENCIES: &[&str] = &[
    "serde", "tokio", "axum", "react", "eslint", "webpack", "pytest",
];
const FOLLOW_UPS: &[&str] = &[
    "Fix tests",
    "Handle the empty case",
    "Tidy up",
    "Update snapshots",
    "Rename for clarity",
];
const REVIEW_FIXES: &[&str] = &["Address review comments", "Apply suggestions from review"];

/// A pull request merged at `at` as `sha`: what the deployments ship.
pub(super) struct Merge {
    pub number: i32,
    pub at: DateTime<Utc>,
    pub sha: String,
}

/// A pull request being written: what its facts share.
struct Draft {
    repo: RepositoryId,
    number: i32,
    branch: String,
    author: IdentityRef,
    facts: Facts,
}

enum End {
    Merged(DateTime<Utc>),
    Closed(DateTime<Utc>),
}

impl Story {
    /// A repository's pull requests (each with its commits and reviews), oldest first, and the
    /// merges among them.
    pub(super) fn pull_requests(
        &mut self,
        repo: RepositoryId,
        rate: f64,
    ) -> (Vec<Facts>, Vec<Merge>) {
        let mut number = self.rng.random_range(1..400);
        let (mut prs, mut merges) = (Vec::new(), Vec::new());
        for opened in self.openings(rate) {
            number += 1;
            let (facts, merge) = self.pull_request(repo, number, opened);
            prs.extend(facts);
            merges.extend(merge);
        }
        merges.sort_by_key(|m| m.at);
        (prs, merges)
    }

    fn pull_request(
        &mut self,
        repo: RepositoryId,
        number: i32,
        opened: DateTime<Utc>,
    ) -> (Option<Facts>, Option<Merge>) {
        let outsider = self.chance(BY_OUTSIDERS);
        let author = if outsider {
            let i = self.rng.random_range(0..self.outsiders.len().max(1));
            self.outsiders.get(i).cloned()
        } else {
            self.developer(None)
        };
        let (Some(author), Some(reviewer)) = (author.clone(), self.developer(author.as_ref()))
        else {
            return (None, None);
        };
        let (title, branch) = self.topic(&author, number);
        let mut pr = Draft {
            repo,
            number,
            branch,
            author,
            facts: Facts::default(),
        };
        self.commits(&mut pr, &title, opened);
        let end = self.review(&mut pr, &reviewer, opened);
        self.finish(pr, title, opened, end)
    }

    /// The pull request as of now: merged or closed if that has happened, open otherwise.
    fn finish(
        &mut self,
        mut pr: Draft,
        title: String,
        opened: DateTime<Utc>,
        end: End,
    ) -> (Option<Facts>, Option<Merge>) {
        let size = self.size();
        let merge = match end {
            End::Merged(at) if at <= self.now => Some(Merge {
                number: pr.number,
                at,
                sha: self.sha(),
            }),
            _ => None,
        };
        let closed = match end {
            End::Closed(at) | End::Merged(at) if at <= self.now => Some(at),
            _ => None,
        };
        let state = match (&merge, closed) {
            (Some(_), _) => PullRequestState::Merged,
            (None, Some(_)) => PullRequestState::Closed,
            _ => PullRequestState::Open,
        };
        let last_review = pr.facts.reviews.iter().map(|r| r.submitted_at).max();
        let updated_at = closed
            .into_iter()
            .chain(last_review)
            .fold(opened, DateTime::max);
        pr.facts.pull_requests.push(PullRequestFact {
            repository: pr.repo,
            number: pr.number,
            title,
            state,
            author: Some(pr.author.clone()),
            opened_at: opened,
            first_commit_at: None,
            merged_at: merge.as_ref().map(|m| m.at),
            closed_at: closed,
            size: Some(size),
            head_ref: Some(pr.branch.clone()),
            merge_commit_sha: merge.as_ref().map(|m| m.sha.clone()),
            updated_at,
        });
        (Some(pr.facts), merge)
    }

    /// A title and head branch: a dependency bump for bots, a change to some area otherwise.
    fn topic(&mut self, author: &IdentityRef, number: i32) -> (String, String) {
        if author.value().ends_with("[bot]") {
            let dependency = self.pick(DEPENDENCIES);
            let (major, minor) = (self.rng.random_range(0..5), self.rng.random_range(0..30));
            let title = format!("Bump {dependency} from {major}.{minor}.0 to {major}.{minor}.1");
            let branch = format!("deps/{dependency}-{major}.{minor}.1");
            return (title, branch);
        }
        let (kind, verb) = self.pick(KINDS);
        let area = self.pick(AREAS);
        let branch = format!("{kind}/{}-{number}", area.to_lowercase().replace(' ', "-"));
        (format!("{verb} {area}"), branch)
    }

    /// One to eight commits on the head branch, from the first (a coding time before opening,
    /// but inside the window) to just before opening.
    fn commits(&mut self, pr: &mut Draft, title: &str, opened: DateTime<Utc>) {
        let mut first = opened - self.duration(CODING);
        if first < self.start {
            first = self.start + (opened - self.start) / 2;
        }
        let n = 1 + poisson(&mut self.rng, 1.0).min(7);
        let last = (opened - self.minutes(1, 20)).max(first);
        let span = (last - first).num_seconds().max(1);
        let mut times: Vec<DateTime<Utc>> = (1..n)
            .map(|_| first + Duration::seconds(self.rng.random_range(0..span)))
            .collect();
        times.push(first);
        times.sort();
        for (i, at) in times.into_iter().enumerate() {
            let message = if i == 0 { title } else { self.pick(FOLLOW_UPS) };
            self.commit(pr, at, message);
        }
    }

    fn commit(&mut self, pr: &mut Draft, at: DateTime<Utc>, message: &str) {
        if at > self.now {
            return;
        }
        let sha = self.sha();
        pr.facts.commits.push(CommitFact {
            repository: pr.repo,
            sha,
            branch: pr.branch.clone(),
            authored_at: at,
            author: Some(pr.author.clone()),
            message: message.to_owned(),
        });
    }

    /// The review rounds after `opened`, and how the pull request ends: a first review after a
    /// pickup time; an approval then, or after a fix; sometimes a second approval; the merge.
    /// One in ten is closed unmerged instead, some after a first comment.
    fn review(&mut self, pr: &mut Draft, reviewer: &IdentityRef, opened: DateTime<Utc>) -> End {
        let pickup = opened + self.duration(PICKUP);
        let first = self.working(pickup);
        if self.chance(ABANDONED) {
            let abandon = opened + self.duration(ABANDON);
            let closed = self.working(abandon);
            if self.chance(0.5) && first < closed {
                self.review_fact(pr, reviewer, ReviewState::Commented, first);
            }
            return End::Closed(closed);
        }
        let roll: f64 = self.rng.random();
        let approved = if roll < 0.55 {
            self.review_fact(pr, reviewer, ReviewState::Approved, first);
            first
        } else {
            let state = if roll < 0.8 {
                ReviewState::Commented
            } else {
                ReviewState::ChangesRequested
            };
            self.review_fact(pr, reviewer, state, first);
            let rework = first + self.duration(REWORK);
            let fix = self.working(rework);
            let message = self.pick(REVIEW_FIXES);
            self.commit(pr, fix, message);
            let approval = fix + self.duration(REVIEW);
            let at = self.working(approval);
            self.review_fact(pr, reviewer, ReviewState::Approved, at);
            at
        };
        let mut last = approved;
        if self.chance(SECOND_APPROVAL)
            && let Some(second) = self.developer(Some(&pr.author)).filter(|w| w != reviewer)
        {
            let at = approved + self.minutes(5, 180);
            last = self.working(at);
            self.review_fact(pr, &second, ReviewState::Approved, last);
        }
        let merge = last + self.duration(MERGE);
        End::Merged(self.working(merge))
    }

    fn review_fact(
        &mut self,
        pr: &mut Draft,
        who: &IdentityRef,
        state: ReviewState,
        at: DateTime<Utc>,
    ) {
        let id = self.serial(2_000_000_000);
        if at > self.now {
            return;
        }
        pr.facts.reviews.push(ReviewFact {
            repository: pr.repo,
            pull_request_number: pr.number,
            external_id: id.to_string(),
            reviewer: Some(who.clone()),
            state,
            submitted_at: at,
            updated_at: at,
        });
    }

    /// Lines changed: log-normal too (most changes are small, a few are huge).
    fn size(&mut self) -> Size {
        let additions = (80f64.ln() + 1.2 * normal(&mut self.rng))
            .exp()
            .min(20_000.0) as i32;
        let deletions = (additions as f64 * self.rng.random_range(0.05..0.6)) as i32;
        Size {
            additions,
            deletions,
            changed_files: 1 + (additions + deletions) / 40,
        }
    }
}
