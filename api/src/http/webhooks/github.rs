//! What a GitHub webhook delivery says, as provider-neutral facts
//! (`service::delivery::facts`): pull requests, reviews, pushed commits, deployments and
//! incident issues. Only the fields used are read, under GitHub's documented names; the rest of
//! a payload is skipped, so GitHub adding fields changes nothing here.
//!
//! Call it after the signature is verified (`signature::verify`): a delivery that parses is one
//! the repository's webhook sent.

mod payload;
#[cfg(test)]
mod tests;

use entity::{
    enums::{
        DeploymentStatus, EnvironmentTier, IdentityKind, Provider, PullRequestState, ReviewState,
    },
    repository,
};
use serde::de::DeserializeOwned;

use payload::{
    Deployment, DeploymentEvent, Envelope, IssuesEvent, PayloadRepository, PullRequest,
    PullRequestEvent, PushCommit, PushEvent, ReviewEvent, User,
};

use crate::{
    error::AppError,
    ids::{ProjectId, RepositoryId},
    service::delivery::facts::{
        CommitFact, DeploymentFact, Facts, IdentityRef, IncidentFact, PullRequestFact, ReviewFact,
        Size, tier_of_environment,
    },
};

/// Longest commit message kept, in characters (its first line only).
const MAX_MESSAGE_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Facts(Facts),
    /// Nothing to store, and why (for the response and the delivery log).
    Ignored(&'static str),
}

/// A payload that cannot be read: the handler answers 400 with this message, which names the
/// field at fault and nothing of our own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON, or a field of another type than GitHub documents.
    #[error("the body is not a GitHub webhook payload of this event: {reason}")]
    Malformed { reason: String },
    #[error("the payload lacks `{field}` (missing or null)")]
    Missing { field: String },
    /// The payload names another GitHub repository than the one the webhook is for: a
    /// webhook URL copied to another repository, which must not file its data here.
    #[error(
        "this delivery is for another repository than the one this webhook URL belongs to; \
         give each repository its own webhook"
    )]
    OtherRepository,
}

impl From<PayloadError> for AppError {
    fn from(err: PayloadError) -> AppError {
        match &err {
            PayloadError::Missing { field } => AppError::bad_field(field, err.to_string()),
            _ => AppError::bad_input(err.to_string()),
        }
    }
}

/// The facts of one delivery of `event` (the `X-GitHub-Event` header) to `repo`'s webhook.
pub fn parse(event: &str, body: &[u8], repo: &repository::Model) -> Result<Parsed, PayloadError> {
    let read: Reader = match event {
        "pull_request" => pull_request,
        "pull_request_review" => pull_request_review,
        "push" => push,
        "deployment" => deployment,
        "deployment_status" => deployment_status,
        "issues" => issues,
        "ping" => {
            return Ok(Parsed::Ignored(
                "a ping: GitHub checking that the webhook works",
            ));
        }
        _ => return Ok(Parsed::Ignored("an event devgraph does not read")),
    };
    let envelope: Envelope = from_json(body)?;
    check_repository(envelope.repository.as_ref(), repo)?;
    let source = Source {
        repository: RepositoryId::from_db(repo.id),
        project: ProjectId::from_db(repo.project_id),
    };
    read(body, envelope.action.as_deref(), source)
}

/// Reads one event's payload, given its `action`.
type Reader = fn(&[u8], Option<&str>, Source) -> Result<Parsed, PayloadError>;

/// What the facts of one delivery belong to.
#[derive(Clone, Copy)]
struct Source {
    repository: RepositoryId,
    project: ProjectId,
}

/// A GitHub repository connected by its numeric id (`external_id`, which survives renames
/// and transfers) is compared by id; one connected by name only (no numeric external id) by
/// its full name, case-insensitively. Other providers' ids are not comparable.
fn check_repository(
    payload: Option<&PayloadRepository>,
    repo: &repository::Model,
) -> Result<(), PayloadError> {
    if repo.provider != Provider::Github {
        return Ok(());
    }
    let ours = repo.external_id.trim();
    let numeric = !ours.is_empty() && ours.bytes().all(|b| b.is_ascii_digit());
    let same = match payload {
        Some(sent) if numeric => sent.id.is_none_or(|id| id.to_string() == ours),
        Some(sent) => sent
            .full_name
            .as_deref()
            .is_none_or(|name| name.eq_ignore_ascii_case(&repo.full_name)),
        None => true,
    };
    if same {
        Ok(())
    } else {
        Err(PayloadError::OtherRepository)
    }
}

fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, PayloadError> {
    serde_json::from_slice(body).map_err(|err| PayloadError::Malformed {
        reason: err.to_string(),
    })
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, PayloadError> {
    value.ok_or_else(|| PayloadError::Missing {
        field: field.to_owned(),
    })
}

fn github_user(user: Option<User>) -> Option<IdentityRef> {
    IdentityRef::new(IdentityKind::Github, &user?.login?)
}

fn pull_request(
    body: &[u8],
    _action: Option<&str>,
    source: Source,
) -> Result<Parsed, PayloadError> {
    let event: PullRequestEvent = from_json(body)?;
    let pr = pull_request_fact(required(event.pull_request, "pull_request")?, source)?;
    Ok(Parsed::Facts(Facts {
        pull_requests: vec![pr],
        ..Facts::default()
    }))
}

fn pull_request_fact(pr: PullRequest, source: Source) -> Result<PullRequestFact, PayloadError> {
    let merged = pr.merged_at.is_some() || pr.merged == Some(true);
    let state = if merged {
        PullRequestState::Merged
    } else if required(pr.state, "pull_request.state")? == "closed" {
        PullRequestState::Closed
    } else {
        PullRequestState::Open
    };
    Ok(PullRequestFact {
        repository: source.repository,
        number: required(pr.number, "pull_request.number")?,
        title: required(pr.title, "pull_request.title")?,
        state,
        author: github_user(pr.user),
        opened_at: required(pr.created_at, "pull_request.created_at")?,
        first_commit_at: None,
        merged_at: pr.merged_at,
        closed_at: pr.closed_at,
        // GitHub leaves the sizes out of the pull request that review events enclose.
        // Review deliveries carry the pull request without its size: unknown, not zero.
        size: match (pr.additions, pr.deletions, pr.changed_files) {
            (Some(additions), Some(deletions), Some(changed_files)) => Some(Size {
                additions,
                deletions,
                changed_files,
            }),
            _ => None,
        },
        head_ref: pr.head.and_then(|h| h.branch),
        // Open pull requests carry the sha of a trial merge, which never lands.
        merge_commit_sha: pr.merge_commit_sha.filter(|_| merged),
        updated_at: required(pr.updated_at, "pull_request.updated_at")?,
    })
}

fn pull_request_review(
    body: &[u8],
    action: Option<&str>,
    source: Source,
) -> Result<Parsed, PayloadError> {
    if action == Some("dismissed") {
        return Ok(Parsed::Ignored("a dismissed review"));
    }
    let event: ReviewEvent = from_json(body)?;
    let review = required(event.review, "review")?;
    // Webhooks spell states in lower case, the REST API in upper case.
    let state = match required(review.state, "review.state")?
        .to_lowercase()
        .as_str()
    {
        "approved" => ReviewState::Approved,
        "changes_requested" => ReviewState::ChangesRequested,
        "commented" => ReviewState::Commented,
        _ => return Ok(Parsed::Ignored("a review that is pending or dismissed")),
    };
    // The review delivery carries the whole pull request, so a review that arrives first
    // still creates it.
    let pr = pull_request_fact(required(event.pull_request, "pull_request")?, source)?;
    let submitted_at = required(review.submitted_at, "review.submitted_at")?;
    let review = ReviewFact {
        repository: source.repository,
        pull_request_number: pr.number,
        external_id: required(review.id, "review.id")?.to_string(),
        reviewer: github_user(review.user),
        state,
        submitted_at,
        updated_at: submitted_at,
    };
    Ok(Parsed::Facts(Facts {
        pull_requests: vec![pr],
        reviews: vec![review],
        ..Facts::default()
    }))
}

fn push(body: &[u8], _action: Option<&str>, source: Source) -> Result<Parsed, PayloadError> {
    let event: PushEvent = from_json(body)?;
    let git_ref = required(event.git_ref, "ref")?;
    let Some(branch) = git_ref.strip_prefix("refs/heads/") else {
        return Ok(Parsed::Ignored(
            "a push of a tag or another ref than a branch",
        ));
    };
    if event.deleted == Some(true) {
        return Ok(Parsed::Ignored("a branch deletion"));
    }
    let commits = event.commits.unwrap_or_default();
    if commits.is_empty() {
        return Ok(Parsed::Ignored("a push without commits"));
    }
    let commits = commits
        .into_iter()
        .enumerate()
        .map(|(i, commit)| commit_fact(commit, i, branch, source))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Parsed::Facts(Facts {
        commits,
        ..Facts::default()
    }))
}

fn commit_fact(
    commit: PushCommit,
    index: usize,
    branch: &str,
    source: Source,
) -> Result<CommitFact, PayloadError> {
    let field = |name: &str| format!("commits[{index}].{name}");
    let author = commit.author.and_then(|a| {
        let email = a
            .email
            .and_then(|e| IdentityRef::new(IdentityKind::Email, &e));
        email.or_else(|| IdentityRef::new(IdentityKind::Github, &a.username?))
    });
    let message = commit.message.unwrap_or_default();
    let first_line = message.lines().next().unwrap_or_default();
    Ok(CommitFact {
        repository: source.repository,
        sha: required(commit.id, &field("id"))?,
        branch: branch.to_owned(),
        authored_at: required(commit.timestamp, &field("timestamp"))?,
        author,
        // By characters, so the cut never splits one.
        message: first_line.chars().take(MAX_MESSAGE_CHARS).collect(),
    })
}

fn deployment(body: &[u8], action: Option<&str>, source: Source) -> Result<Parsed, PayloadError> {
    if action.is_some_and(|a| a != "created") {
        return Ok(Parsed::Ignored("a deployment action other than created"));
    }
    let event: DeploymentEvent = from_json(body)?;
    let fact = deployment_fact(required(event.deployment, "deployment")?, source)?;
    Ok(Parsed::Facts(Facts {
        deployments: vec![fact],
        ..Facts::default()
    }))
}

fn deployment_status(
    body: &[u8],
    _action: Option<&str>,
    source: Source,
) -> Result<Parsed, PayloadError> {
    let event: DeploymentEvent = from_json(body)?;
    let mut fact = deployment_fact(required(event.deployment, "deployment")?, source)?;
    let status = required(event.deployment_status, "deployment_status")?;
    fact.status = match required(status.state, "deployment_status.state")?.as_str() {
        "success" => DeploymentStatus::Success,
        "failure" | "error" => DeploymentStatus::Failure,
        // pending, queued, in_progress, inactive (superseded by a later deployment).
        _ => DeploymentStatus::Pending,
    };
    fact.status_at = required(
        status.created_at.or(status.updated_at),
        "deployment_status.created_at",
    )?;
    Ok(Parsed::Facts(Facts {
        deployments: vec![fact],
        ..Facts::default()
    }))
}

/// The deployment as created: pending since its creation.
fn deployment_fact(d: Deployment, source: Source) -> Result<DeploymentFact, PayloadError> {
    let environment = required(d.environment, "deployment.environment")?;
    let tier = if d.production_environment == Some(true) {
        EnvironmentTier::Production
    } else {
        tier_of_environment(&environment)
    };
    let created_at = required(d.created_at, "deployment.created_at")?;
    Ok(DeploymentFact {
        project: source.project,
        repository: Some(source.repository),
        external_id: format!("github:{}", required(d.id, "deployment.id")?),
        environment,
        tier,
        status: DeploymentStatus::Pending,
        sha: d.sha,
        started_at: created_at,
        status_at: created_at,
        pull_requests: Vec::new(),
    })
}

/// A label whose first word is "incident", alone or after a scope as teams
/// spell them (`incident`, `Incident: sev1`, `INCIDENT-P2`, `type: incident`,
/// `kind/incident`): a word, not a prefix, so that `incidental` or `not an
/// incident` open nothing.
fn is_incident_label(name: &str) -> bool {
    let first_word = |text: &str| {
        let text = text.trim_start();
        let end = text
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(text.len());
        text[..end].eq_ignore_ascii_case("incident")
    };
    first_word(name)
        || name
            .split_once([':', '/'])
            .is_some_and(|(_, rest)| first_word(rest))
}

fn issues(body: &[u8], action: Option<&str>, source: Source) -> Result<Parsed, PayloadError> {
    // Reporting a deleted issue would bring its incident back.
    if action == Some("deleted") {
        return Ok(Parsed::Ignored("a deleted issue"));
    }
    let event: IssuesEvent = from_json(body)?;
    let issue = required(event.issue, "issue")?;
    let is_incident = issue
        .labels
        .iter()
        .flatten()
        .any(|label| is_incident_label(label.name.as_deref().unwrap_or_default()));
    if !is_incident {
        return Ok(Parsed::Ignored("an issue without an incident label"));
    }
    let closed = required(issue.state, "issue.state")? == "closed";
    let incident = IncidentFact {
        project: source.project,
        repository: Some(source.repository),
        external_id: format!("github-issue:{}", required(issue.number, "issue.number")?),
        title: required(issue.title, "issue.title")?,
        opened_at: required(issue.created_at, "issue.created_at")?,
        resolved_at: issue.closed_at.filter(|_| closed),
        caused_by: None,
        updated_at: required(issue.updated_at, "issue.updated_at")?,
    };
    Ok(Parsed::Facts(Facts {
        incidents: vec![incident],
        ..Facts::default()
    }))
}
