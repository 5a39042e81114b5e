//! Deployments and incidents recorded by people (`recordDeployment`, `recordIncident`), so
//! that a team without CI integration still has the DORA keys. They go through the same
//! ingestion as the sources', by an external id the caller may choose (recording the same id
//! again updates the same deployment or incident), audited in the same transaction.

use chrono::{DateTime, Utc};
use entity::{
    deployment,
    enums::{DeploymentStatus, EnvironmentTier},
    incident,
    scoped::InOrg as _,
};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter};
use serde_json::json;

use super::{
    facts::{DeploymentFact, Facts, IncidentFact, tier_of_environment},
    ingest::ingest_audited,
};
use crate::{
    auth::TenantCtx,
    error::{AppError, AppResult},
    ids::{NodeKind, ProjectId, RepositoryId},
    service::{audit::Entry, live::Live, validate},
};

/// The most pull requests one recorded deployment names (as in the delivery API).
const MAX_SHIPPED: usize = 1000;

pub struct NewDeployment {
    pub project: ProjectId,
    /// Chosen by the caller to update the same deployment later; a new one when absent.
    pub external_id: Option<String>,
    pub environment: String,
    /// Guessed from the environment's name when absent.
    pub tier: Option<EnvironmentTier>,
    pub status: DeploymentStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub repository: Option<RepositoryId>,
    pub sha: Option<String>,
    pub pull_requests: Vec<i32>,
}

pub async fn record_deployment(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    live: &Live,
    input: NewDeployment,
) -> AppResult<deployment::Model> {
    let environment = validate::name("environment", &input.environment)?;
    let external_id = external_id(input.external_id)?;
    let status_at = match (input.status, input.finished_at) {
        (DeploymentStatus::Pending, None) => input.started_at,
        (DeploymentStatus::Pending, Some(_)) => {
            return Err(AppError::bad_field(
                "finishedAt",
                "a pending deployment has not finished: leave finishedAt out",
            ));
        }
        (_, None) => {
            return Err(AppError::bad_field(
                "finishedAt",
                "a finished deployment needs finishedAt",
            ));
        }
        (_, Some(at)) if at < input.started_at => {
            return Err(AppError::bad_field(
                "finishedAt",
                "finishedAt is before startedAt",
            ));
        }
        (_, Some(at)) => at,
    };
    if input.repository.is_none() && !input.pull_requests.is_empty() {
        return Err(AppError::bad_field(
            "repositoryId",
            "name the repository of the pull requests",
        ));
    }
    if input.pull_requests.len() > MAX_SHIPPED {
        return Err(AppError::LimitExceeded(format!(
            "a deployment names at most {MAX_SHIPPED} pull requests"
        )));
    }
    if input.pull_requests.iter().any(|n| *n < 1) {
        return Err(AppError::bad_field(
            "pullRequestNumbers",
            "pull request numbers are 1 or more",
        ));
    }
    let fact = DeploymentFact {
        project: input.project,
        repository: input.repository,
        external_id: external_id.clone(),
        tier: input
            .tier
            .unwrap_or_else(|| tier_of_environment(&environment)),
        environment,
        status: input.status,
        sha: input.sha,
        started_at: input.started_at,
        status_at,
        pull_requests: input.pull_requests,
    };
    let entry = Entry {
        action: "deployment.record",
        target: NodeKind::Project,
        target_id: input.project.uuid(),
        details: json!({
            "externalId": external_id, "environment": fact.environment, "status": fact.status,
        }),
    };
    let facts = Facts {
        deployments: vec![fact],
        ..Facts::default()
    };
    ingest_audited(ctx, db, live, facts, None, Some(entry)).await?;
    deployment::Entity::find_in(ctx.org_id())
        .filter(deployment::Column::ProjectId.eq(input.project))
        .filter(deployment::Column::ExternalId.eq(external_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("deployment"))
}

pub struct NewIncident {
    pub project: ProjectId,
    pub external_id: Option<String>,
    pub title: String,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The external id of the deployment that caused it.
    pub caused_by: Option<String>,
}

pub async fn record_incident(
    ctx: &TenantCtx,
    db: &DatabaseConnection,
    live: &Live,
    input: NewIncident,
) -> AppResult<incident::Model> {
    let title = validate::name("title", &input.title)?;
    let external_id = external_id(input.external_id)?;
    if input.resolved_at.is_some_and(|at| at < input.opened_at) {
        return Err(AppError::bad_field(
            "resolvedAt",
            "resolvedAt is before openedAt",
        ));
    }
    let caused_by = input
        .caused_by
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    // The latest time stands for the version, as in the delivery API: a resolution is newer
    // than the opening it resolves.
    let updated_at = input
        .resolved_at
        .unwrap_or(input.opened_at)
        .max(input.opened_at);
    let fact = IncidentFact {
        project: input.project,
        repository: None,
        external_id: external_id.clone(),
        title,
        opened_at: input.opened_at,
        resolved_at: input.resolved_at,
        caused_by,
        updated_at,
    };
    let entry = Entry {
        action: "incident.record",
        target: NodeKind::Project,
        target_id: input.project.uuid(),
        details: json!({ "externalId": external_id, "title": fact.title, "resolved": fact.resolved_at.is_some() }),
    };
    let facts = Facts {
        incidents: vec![fact],
        ..Facts::default()
    };
    ingest_audited(ctx, db, live, facts, None, Some(entry)).await?;
    incident::Entity::find_in(ctx.org_id())
        .filter(incident::Column::ProjectId.eq(input.project))
        .filter(incident::Column::ExternalId.eq(external_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("incident"))
}

/// The caller's id, checked, or a new one.
fn external_id(given: Option<String>) -> AppResult<String> {
    match given.map(|g| g.trim().to_owned()) {
        None => Ok(format!("manual-{}", uuid::Uuid::now_v7().simple())),
        Some(id) if id.is_empty() || id.chars().count() > 200 => Err(AppError::bad_field(
            "externalId",
            "externalId takes 1 to 200 characters",
        )),
        Some(id) => Ok(id),
    }
}
