//! What a source says about delivery work, in provider-neutral form: the GitHub webhook
//! (`http/webhooks`) and the delivery API (`http/delivery.rs`) both translate their payloads
//! into these, and `ingest` stores them. A fact names what it refers to by the source's keys
//! (a repository's pull request by number, a deployment by external id), never by our row ids,
//! because the thing referred to may not have arrived yet.

use chrono::{DateTime, Utc};
use entity::enums::{
    DeploymentStatus, EnvironmentTier, IdentityKind, PullRequestState, ReviewState,
};

use crate::ids::{ProjectId, RepositoryId};

/// A person as a source names them. Build it with `IdentityRef::new`, which normalizes the
/// value (emails and provider logins are case-insensitive), so equal people compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdentityRef {
    kind: IdentityKind,
    value: String,
}

impl IdentityRef {
    /// `None` for an empty value.
    pub fn new(kind: IdentityKind, value: &str) -> Option<IdentityRef> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let value = match kind {
            IdentityKind::External => value.to_owned(),
            IdentityKind::Email | IdentityKind::Github | IdentityKind::Gitlab => {
                value.to_lowercase()
            }
        };
        Some(IdentityRef { kind, value })
    }

    pub fn kind(&self) -> IdentityKind {
        self.kind
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

/// A pull request as of `updated_at` (the source's own "last changed" time): a fact older than
/// the stored row changes only the times that can only move earlier.
#[derive(Debug, Clone, PartialEq)]
pub struct PullRequestFact {
    pub repository: RepositoryId,
    pub number: i32,
    pub title: String,
    pub state: PullRequestState,
    pub author: Option<IdentityRef>,
    pub opened_at: DateTime<Utc>,
    /// When the source knows it (the delivery API); GitHub's is derived from pushed commits.
    pub first_commit_at: Option<DateTime<Utc>>,
    pub merged_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// `None` when the source does not say (GitHub's review payloads leave it out): what is
    /// stored stays.
    pub size: Option<Size>,
    /// The branch the pull request merges from: its commits are the pull request's commits.
    pub head_ref: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A pull request's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size {
    pub additions: i32,
    pub deletions: i32,
    pub changed_files: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewFact {
    pub repository: RepositoryId,
    pub pull_request_number: i32,
    /// The source's id of the review, unique within the repository.
    pub external_id: String,
    pub reviewer: Option<IdentityRef>,
    pub state: ReviewState,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A commit pushed to a branch.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitFact {
    pub repository: RepositoryId,
    pub sha: String,
    /// The branch name, without `refs/heads/`.
    pub branch: String,
    pub authored_at: DateTime<Utc>,
    pub author: Option<IdentityRef>,
    /// The first line of the message.
    pub message: String,
}

/// A deployment, or one status of it: facts about the same external id merge (the earliest
/// start, the highest-ranked status: a finished one over `pending`, the later between two
/// finished ones).
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentFact {
    pub project: ProjectId,
    pub repository: Option<RepositoryId>,
    pub external_id: String,
    pub environment: String,
    pub tier: EnvironmentTier,
    pub status: DeploymentStatus,
    pub sha: Option<String>,
    pub started_at: DateTime<Utc>,
    /// When `status` was reached; for a finished status, when the deployment finished.
    pub status_at: DateTime<Utc>,
    /// Pull requests (of `repository`) it shipped, by number; needs a repository.
    pub pull_requests: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IncidentFact {
    pub project: ProjectId,
    pub repository: Option<RepositoryId>,
    pub external_id: String,
    pub title: String,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The external id of the deployment that caused it.
    pub caused_by: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Everything one delivery (a webhook, an API batch) says, stored in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub pull_requests: Vec<PullRequestFact>,
    pub reviews: Vec<ReviewFact>,
    pub commits: Vec<CommitFact>,
    pub deployments: Vec<DeploymentFact>,
    pub incidents: Vec<IncidentFact>,
}

impl Facts {
    pub fn is_empty(&self) -> bool {
        self.pull_requests.is_empty()
            && self.reviews.is_empty()
            && self.commits.is_empty()
            && self.deployments.is_empty()
            && self.incidents.is_empty()
    }
}

/// The tier of an environment known only by name (`production`, `prod-eu`, `staging`, `qa`…),
/// as GitLab guesses it: the first of these words found in the lower-cased name.
pub fn tier_of_environment(name: &str) -> EnvironmentTier {
    let name = name.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if has(&["prod", "live"]) {
        EnvironmentTier::Production
    } else if has(&["stag", "pre", "model", "demo"]) {
        EnvironmentTier::Staging
    } else if has(&["test", "qa"]) {
        EnvironmentTier::Testing
    } else if has(&["dev", "review", "trunk"]) {
        EnvironmentTier::Development
    } else {
        EnvironmentTier::Other
    }
}
