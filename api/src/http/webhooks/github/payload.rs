//! The parts of GitHub's webhook payloads that `github` reads, under GitHub's documented names.
//! Every field is optional here, so that a missing one is reported by its full path
//! (`pull_request.number`) rather than by serde's bare field name; unknown fields are skipped.
//! Each says what it expects as "a JSON object": serde would otherwise name the Rust struct in
//! the message the sender reads.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What every event carries.
#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct Envelope {
    pub action: Option<String>,
    pub repository: Option<PayloadRepository>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct PayloadRepository {
    pub id: Option<u64>,
    pub full_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct User {
    pub login: Option<String>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct PullRequest {
    pub number: Option<i32>,
    pub title: Option<String>,
    pub state: Option<String>,
    pub user: Option<User>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub merged_at: Option<DateTime<Utc>>,
    pub merged: Option<bool>,
    pub merge_commit_sha: Option<String>,
    pub additions: Option<i32>,
    pub deletions: Option<i32>,
    pub changed_files: Option<i32>,
    pub head: Option<Head>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct Head {
    #[serde(rename = "ref")]
    pub branch: Option<String>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct PullRequestEvent {
    pub pull_request: Option<PullRequest>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct Review {
    pub id: Option<u64>,
    pub user: Option<User>,
    pub state: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct ReviewEvent {
    pub review: Option<Review>,
    pub pull_request: Option<PullRequest>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct PushEvent {
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub deleted: Option<bool>,
    pub commits: Option<Vec<PushCommit>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct PushCommit {
    pub id: Option<String>,
    pub message: Option<String>,
    pub timestamp: Option<DateTime<Utc>>,
    pub author: Option<CommitAuthor>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct CommitAuthor {
    pub email: Option<String>,
    pub username: Option<String>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct Deployment {
    pub id: Option<u64>,
    pub sha: Option<String>,
    pub environment: Option<String>,
    pub production_environment: Option<bool>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct DeploymentStatusPayload {
    pub state: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct DeploymentEvent {
    pub deployment: Option<Deployment>,
    pub deployment_status: Option<DeploymentStatusPayload>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct Issue {
    pub number: Option<u64>,
    pub title: Option<String>,
    pub state: Option<String>,
    pub labels: Option<Vec<Label>>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct Label {
    pub name: Option<String>,
}

#[derive(Deserialize)]
#[serde(expecting = "a JSON object")]
pub struct IssuesEvent {
    pub issue: Option<Issue>,
}
