//! The provider-neutral delivery batch (`POST /v1/delivery`): its JSON shape, read and
//! validated whole into facts about one project, before anything is stored. One bad item
//! rejects the batch with its path (`pullRequests[3].number`) and the reason.
//!
//! ```json
//! {"pullRequests": [{"repository": "acme/api", "number": 12, "title": "…", "state": "merged",
//!                    "author": {"email": "ada@acme.dev"}, "openedAt": "…", "mergedAt": "…"}],
//!  "reviews":      [{"repository": "acme/api", "pullRequest": 12, "id": "r-9",
//!                    "reviewer": {"login": "grace"}, "state": "approved", "submittedAt": "…"}],
//!  "deployments":  [{"id": "deploy-81", "environment": "production", "status": "success",
//!                    "startedAt": "…", "finishedAt": "…", "repository": "acme/api",
//!                    "sha": "…", "pullRequests": [12]}],
//!  "incidents":    [{"id": "INC-7", "title": "…", "openedAt": "…", "resolvedAt": "…",
//!                    "causedBy": "deploy-81"}],
//!  "commits":      [{"repository": "acme/api", "sha": "…", "branch": "feature/x",
//!                    "authoredAt": "…", "author": {"email": "ada@acme.dev"}}]}
//! ```
//!
//! Each item is an upsert by its key (a pull request by repository and number, a review by
//! id, a deployment or incident by id within the project), so a retried batch changes
//! nothing. `updatedAt` orders versions of the same item; without it, the item's latest time
//! stands in (a merged pull request is newer than the same one open).

use chrono::{DateTime, Utc};
use entity::{
    enums::{DeploymentStatus, EnvironmentTier, IdentityKind, PullRequestState, ReviewState},
    repository,
    scoped::InOrg as _,
};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};
use serde_json::{Map, Value};

use super::facts::{
    CommitFact, DeploymentFact, Facts, IdentityRef, IncidentFact, PullRequestFact, ReviewFact,
    Size, tier_of_environment,
};
use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    ids::{GlobalId as _, ProjectId, RepositoryId},
};

/// The longest text a field takes (titles, names, ids), in characters.
const MAX_TEXT: usize = 1000;
/// The most pull requests one deployment names.
const MAX_SHIPPED: usize = 1000;

/// Reads a batch for `project`, resolving its repository names among the project's
/// repositories. `max_items` bounds the items of all kinds together.
pub async fn parse(
    ctx: &TenantCtx,
    db: &impl ConnectionTrait,
    project: ProjectId,
    body: &Value,
    max_items: usize,
    now: DateTime<Utc>,
) -> AppResult<Facts> {
    let Some(body) = body.as_object() else {
        return Err(AppError::bad_input(
            "the body must be an object such as {\"pullRequests\": [...]}",
        ));
    };
    const KINDS: [&str; 5] = [
        "pullRequests",
        "reviews",
        "deployments",
        "incidents",
        "commits",
    ];
    if let Some(unknown) = body.keys().find(|k| !KINDS.contains(&k.as_str())) {
        return Err(AppError::bad_field(
            unknown,
            format!(
                "unknown field `{unknown}`; a batch has {}",
                KINDS.join(", ")
            ),
        ));
    }
    let lists: Vec<(&str, &[Value])> = KINDS
        .iter()
        .map(|kind| match body.get(*kind) {
            None | Some(Value::Null) => Ok((*kind, &[][..])),
            Some(Value::Array(items)) => Ok((*kind, items.as_slice())),
            Some(_) => Err(AppError::bad_field(
                kind,
                format!("`{kind}` must be a list"),
            )),
        })
        .collect::<AppResult<_>>()?;
    let total: usize = lists.iter().map(|(_, items)| items.len()).sum();
    if total == 0 {
        return Err(AppError::bad_input(
            "the batch is empty: send at least one of pullRequests, reviews, deployments, \
             incidents, commits",
        ));
    }
    if total > max_items {
        return Err(AppError::LimitExceeded(format!(
            "a batch holds at most {max_items} items; this one has {total}"
        )));
    }
    let repos = Repositories::of_project(ctx, db, project).await?;
    let mut facts = Facts::default();
    for (kind, items) in lists {
        for (index, item) in items.iter().enumerate() {
            let item = Item::new(kind, index, item)?;
            match kind {
                "pullRequests" => facts.pull_requests.push(pull_request(&item, &repos)?),
                "reviews" => facts.reviews.push(review(&item, &repos)?),
                "deployments" => facts.deployments.push(deployment(&item, &repos, project)?),
                "incidents" => facts.incidents.push(incident(&item, project)?),
                _ => facts.commits.push(commit(&item, &repos)?),
            }
        }
    }
    check_times(&facts, now)?;
    Ok(facts)
}

/// Times more than a day ahead are a client's clock or unit error, not delivery data.
fn check_times(facts: &Facts, now: DateTime<Utc>) -> AppResult<()> {
    let limit = now + chrono::Duration::days(1);
    let mut times = Vec::new();
    for p in &facts.pull_requests {
        times.extend([
            Some(p.opened_at),
            Some(p.updated_at),
            p.merged_at,
            p.closed_at,
        ]);
    }
    for d in &facts.deployments {
        times.extend([Some(d.started_at), Some(d.status_at)]);
    }
    for i in &facts.incidents {
        times.extend([Some(i.opened_at), i.resolved_at]);
    }
    if times.into_iter().flatten().any(|t| t > limit) {
        return Err(AppError::bad_input(
            "a time lies more than a day in the future; send RFC 3339 times in UTC or with an offset",
        ));
    }
    Ok(())
}

/// The project's repositories, found by full name (case-insensitively), external id or
/// global id.
struct Repositories(Vec<repository::Model>);

impl Repositories {
    async fn of_project(
        ctx: &TenantCtx,
        db: &impl ConnectionTrait,
        project: ProjectId,
    ) -> AppResult<Self> {
        let rows = repository::Entity::find_in(ctx.org_id())
            .filter(repository::Column::ProjectId.eq(project))
            .all(db)
            .await?;
        Ok(Repositories(rows))
    }

    fn find(&self, name: &str) -> Option<RepositoryId> {
        let global = RepositoryId::from_global(name).ok().map(RepositoryId::uuid);
        self.0
            .iter()
            .find(|r| {
                Some(r.id) == global
                    || r.full_name.eq_ignore_ascii_case(name)
                    || r.external_id == name
            })
            .map(|r| RepositoryId::from_db(r.id))
    }
}

/// One item of the batch and where it is, for the errors.
struct Item<'a> {
    path: String,
    fields: &'a Map<String, Value>,
}

impl<'a> Item<'a> {
    fn new(kind: &str, index: usize, value: &'a Value) -> AppResult<Item<'a>> {
        let path = format!("{kind}[{index}]");
        match value.as_object() {
            Some(fields) => Ok(Item { path, fields }),
            None => Err(AppError::bad_field(
                &path,
                format!("{path}: must be an object"),
            )),
        }
    }

    fn bad(&self, field: &str, reason: impl std::fmt::Display) -> AppError {
        let path = format!("{}.{field}", self.path);
        AppError::bad_field(&path, format!("{path}: {reason}"))
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    fn text_opt(&self, field: &str) -> AppResult<Option<String>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Err(self.bad(field, "is empty")),
            Some(Value::String(s)) if s.chars().count() > MAX_TEXT => {
                Err(self.bad(field, format!("is longer than {MAX_TEXT} characters")))
            }
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(_) => Err(self.bad(field, "must be a string")),
        }
    }

    fn text(&self, field: &str) -> AppResult<String> {
        self.text_opt(field)?
            .ok_or_else(|| self.bad(field, "is required"))
    }

    fn time_opt(&self, field: &str) -> AppResult<Option<DateTime<Utc>>> {
        match self.text_opt(field)? {
            None => Ok(None),
            Some(text) => DateTime::parse_from_rfc3339(&text)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| self.bad(field, "must be an RFC 3339 time")),
        }
    }

    fn time(&self, field: &str) -> AppResult<DateTime<Utc>> {
        self.time_opt(field)?
            .ok_or_else(|| self.bad(field, "is required"))
    }

    fn count(&self, field: &str) -> AppResult<i32> {
        match self.get(field) {
            None => Ok(0),
            Some(v) => v
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .filter(|n| *n >= 0)
                .ok_or_else(|| self.bad(field, "must be a whole number ≥ 0")),
        }
    }

    fn number(&self, field: &str) -> AppResult<i32> {
        match self.get(field) {
            None => Err(self.bad(field, "is required")),
            Some(v) => number(v).ok_or_else(|| self.bad(field, "must be a whole number ≥ 1")),
        }
    }

    fn repository(&self, repos: &Repositories) -> AppResult<RepositoryId> {
        let name = self.text("repository")?;
        repos.find(&name).ok_or_else(|| {
            self.bad(
                "repository",
                format!(
                    "no repository {name:?} is connected to this API key's project; \
                     connect it first (connectRepository)"
                ),
            )
        })
    }

    /// `{"email": …}`, `{"login": …}` (on the repository's provider, GitHub by default),
    /// `{"github": …}`, `{"gitlab": …}` or `{"externalId": …}`.
    fn person(&self, field: &str) -> AppResult<Option<IdentityRef>> {
        let Some(value) = self.get(field) else {
            return Ok(None);
        };
        let shape = || {
            self.bad(
                field,
                "must be an object with one of email, github, gitlab, login or externalId",
            )
        };
        let fields = value.as_object().ok_or_else(shape)?;
        if fields.len() != 1 {
            return Err(shape());
        }
        let (key, text) = fields.iter().next().ok_or_else(shape)?;
        let text = text
            .as_str()
            .filter(|t| t.len() <= MAX_TEXT)
            .ok_or_else(shape)?;
        let kind = match key.as_str() {
            "email" => IdentityKind::Email,
            "github" | "login" => IdentityKind::Github,
            "gitlab" => IdentityKind::Gitlab,
            "externalId" => IdentityKind::External,
            _ => return Err(shape()),
        };
        if kind == IdentityKind::Email && !text.contains('@') {
            return Err(self.bad(field, "email is not an email address"));
        }
        IdentityRef::new(kind, text)
            .map(Some)
            .ok_or_else(|| self.bad(field, "is empty"))
    }

    fn choice<T: Copy>(&self, field: &str, options: &[(&str, T)]) -> AppResult<Option<T>> {
        let Some(text) = self.text_opt(field)? else {
            return Ok(None);
        };
        let lower = text.to_lowercase();
        options
            .iter()
            .find(|(name, _)| *name == lower)
            .map(|(_, v)| Some(*v))
            .ok_or_else(|| {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                self.bad(field, format!("must be one of {}", names.join(", ")))
            })
    }
}

fn number(v: &Value) -> Option<i32> {
    v.as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .filter(|n| *n >= 1)
}

fn latest(times: impl IntoIterator<Item = Option<DateTime<Utc>>>) -> Option<DateTime<Utc>> {
    times.into_iter().flatten().max()
}

fn pull_request(item: &Item, repos: &Repositories) -> AppResult<PullRequestFact> {
    let state = item
        .choice(
            "state",
            &[
                ("open", PullRequestState::Open),
                ("merged", PullRequestState::Merged),
                ("closed", PullRequestState::Closed),
            ],
        )?
        .ok_or_else(|| item.bad("state", "is required"))?;
    let opened_at = item.time("openedAt")?;
    let merged_at = item.time_opt("mergedAt")?;
    let closed_at = item.time_opt("closedAt")?;
    if state == PullRequestState::Merged && merged_at.is_none() {
        return Err(item.bad("mergedAt", "is required when the state is merged"));
    }
    if state == PullRequestState::Open && (merged_at.is_some() || closed_at.is_some()) {
        return Err(item.bad("state", "is open, but mergedAt or closedAt is set"));
    }
    let updated_at = match item.time_opt("updatedAt")? {
        Some(at) => at,
        None => latest([Some(opened_at), merged_at, closed_at]).unwrap_or(opened_at),
    };
    Ok(PullRequestFact {
        repository: item.repository(repos)?,
        number: item.number("number")?,
        title: item.text("title")?,
        state,
        author: item.person("author")?,
        opened_at,
        first_commit_at: item.time_opt("firstCommitAt")?,
        merged_at,
        // A merged pull request is closed when it merges.
        closed_at: closed_at.or(merged_at),
        size: {
            let given = ["additions", "deletions", "changedFiles"]
                .iter()
                .any(|f| item.get(f).is_some());
            match given {
                true => Some(Size {
                    additions: item.count("additions")?,
                    deletions: item.count("deletions")?,
                    changed_files: item.count("changedFiles")?,
                }),
                false => None,
            }
        },
        head_ref: item.text_opt("headRef")?,
        merge_commit_sha: item.text_opt("mergeCommitSha")?,
        updated_at,
    })
}

fn review(item: &Item, repos: &Repositories) -> AppResult<ReviewFact> {
    let state = item
        .choice(
            "state",
            &[
                ("approved", ReviewState::Approved),
                ("changes_requested", ReviewState::ChangesRequested),
                ("commented", ReviewState::Commented),
            ],
        )?
        .ok_or_else(|| item.bad("state", "is required"))?;
    let submitted_at = item.time("submittedAt")?;
    Ok(ReviewFact {
        repository: item.repository(repos)?,
        pull_request_number: item.number("pullRequest")?,
        external_id: item.text("id")?,
        reviewer: item.person("reviewer")?,
        state,
        submitted_at,
        updated_at: item.time_opt("updatedAt")?.unwrap_or(submitted_at),
    })
}

fn deployment(item: &Item, repos: &Repositories, project: ProjectId) -> AppResult<DeploymentFact> {
    let environment = item.text("environment")?;
    let tier = item
        .choice(
            "tier",
            &[
                ("production", EnvironmentTier::Production),
                ("staging", EnvironmentTier::Staging),
                ("testing", EnvironmentTier::Testing),
                ("development", EnvironmentTier::Development),
                ("other", EnvironmentTier::Other),
            ],
        )?
        .unwrap_or_else(|| tier_of_environment(&environment));
    let status = item
        .choice(
            "status",
            &[
                ("pending", DeploymentStatus::Pending),
                ("success", DeploymentStatus::Success),
                ("failure", DeploymentStatus::Failure),
            ],
        )?
        .ok_or_else(|| item.bad("status", "is required"))?;
    let started_at = item.time("startedAt")?;
    let finished_at = item.time_opt("finishedAt")?;
    let status_at = match (status, finished_at) {
        (DeploymentStatus::Pending, Some(_)) => {
            return Err(item.bad("finishedAt", "is set, but the status is pending"));
        }
        (DeploymentStatus::Pending, None) => started_at,
        (_, Some(at)) if at < started_at => {
            return Err(item.bad("finishedAt", "is before startedAt"));
        }
        (_, Some(at)) => at,
        (_, None) => return Err(item.bad("finishedAt", "is required for a finished status")),
    };
    let repository = match item.get("repository") {
        Some(_) => Some(item.repository(repos)?),
        None => None,
    };
    let pull_requests = match item.get("pullRequests") {
        None => Vec::new(),
        Some(Value::Array(numbers)) if numbers.len() <= MAX_SHIPPED => numbers
            .iter()
            .map(|n| number(n).ok_or_else(|| item.bad("pullRequests", "must hold numbers ≥ 1")))
            .collect::<AppResult<_>>()?,
        Some(Value::Array(_)) => {
            return Err(item.bad("pullRequests", format!("holds at most {MAX_SHIPPED}")));
        }
        Some(_) => return Err(item.bad("pullRequests", "must be a list of numbers")),
    };
    if repository.is_none() && !pull_requests.is_empty() {
        return Err(item.bad("repository", "is required to name pull requests"));
    }
    Ok(DeploymentFact {
        project,
        repository,
        external_id: item.text("id")?,
        environment,
        tier,
        status,
        sha: item.text_opt("sha")?,
        started_at,
        status_at,
        pull_requests,
    })
}

fn incident(item: &Item, project: ProjectId) -> AppResult<IncidentFact> {
    let opened_at = item.time("openedAt")?;
    let resolved_at = item.time_opt("resolvedAt")?;
    if resolved_at.is_some_and(|at| at < opened_at) {
        return Err(item.bad("resolvedAt", "is before openedAt"));
    }
    Ok(IncidentFact {
        project,
        repository: None,
        external_id: item.text("id")?,
        title: item.text("title")?,
        opened_at,
        resolved_at,
        caused_by: item.text_opt("causedBy")?,
        updated_at: match item.time_opt("updatedAt")? {
            Some(at) => at,
            None => latest([Some(opened_at), resolved_at]).unwrap_or(opened_at),
        },
    })
}

fn commit(item: &Item, repos: &Repositories) -> AppResult<CommitFact> {
    let message = item.text_opt("message")?.unwrap_or_default();
    Ok(CommitFact {
        repository: item.repository(repos)?,
        sha: item.text("sha")?,
        branch: item.text("branch")?,
        authored_at: item.time("authoredAt")?,
        author: item.person("author")?,
        message: message.lines().next().unwrap_or_default().to_owned(),
    })
}
