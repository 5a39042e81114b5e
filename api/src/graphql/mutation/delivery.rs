//! Delivery data by people: connecting repositories (and rotating their webhook secrets),
//! linking identities to developers, and recording deployments and incidents by hand.

use crate::graphql::types::CohortObject as _;
use crate::ids::GlobalId as _;
use async_graphql::{ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use super::Mutation;
use crate::{
    error::{AppError, AppResult},
    graphql::{
        request::RequestData,
        types::{
            Deployment, DeploymentStatus, EnvironmentTier, Identity, IdentityKind, Incident,
            Repository, RepositoryProvider,
        },
    },
    ids::{DeveloperId, IdentityId, ProjectId, RepositoryId},
    service::{
        delivery::{
            facts::IdentityRef,
            identity::{self, IdentityKey},
            record::{self, NewDeployment, NewIncident},
        },
        repository::{self, NewRepository, RepositoryPatch},
    },
};

#[derive(InputObject)]
pub struct ConnectRepositoryInput {
    pub project_id: ID,
    #[graphql(default_with = "RepositoryProvider::Github")]
    pub provider: RepositoryProvider,
    /// The provider's id of the repository (GitHub's numeric `repository.id`, which survives
    /// renames); the full name when left out.
    pub external_id: Option<String>,
    /// `owner/name`.
    pub full_name: String,
    /// `main` when left out.
    pub default_branch: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateRepositoryInput {
    pub id: ID,
    pub full_name: Option<String>,
    pub default_branch: Option<String>,
}

#[derive(InputObject)]
pub struct DisconnectRepositoryInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct RotateWebhookSecretInput {
    pub repository_id: ID,
}

#[derive(InputObject)]
pub struct LinkIdentityInput {
    /// A stored identity (from `unmatchedIdentities` or `Developer.identities`); or give
    /// `kind` and `value` to link one not seen yet.
    pub identity_id: Option<ID>,
    pub kind: Option<IdentityKind>,
    pub value: Option<String>,
    pub developer_id: ID,
}

#[derive(InputObject)]
pub struct UnlinkIdentityInput {
    pub identity_id: ID,
}

#[derive(InputObject)]
pub struct RecordDeploymentInput {
    pub project_id: ID,
    /// Your id of the deployment: recording it again updates the same one. A new one when
    /// left out.
    pub external_id: Option<String>,
    /// The environment's name (`production`, `staging-eu`, ...).
    pub environment: String,
    /// Guessed from the environment's name when left out.
    pub tier: Option<EnvironmentTier>,
    pub status: DeploymentStatus,
    pub started_at: DateTime<Utc>,
    /// Required for SUCCESS and FAILURE, absent for PENDING.
    pub finished_at: Option<DateTime<Utc>>,
    pub repository_id: Option<ID>,
    /// The commit deployed.
    pub sha: Option<String>,
    /// The pull requests (of `repositoryId`) it shipped, by number; at most 1,000.
    #[graphql(default)]
    pub pull_request_numbers: Vec<i32>,
}

#[derive(InputObject)]
pub struct RecordIncidentInput {
    pub project_id: ID,
    /// Your id of the incident: recording it again (say, resolved) updates the same one.
    pub external_id: Option<String>,
    pub title: String,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The external id of the deployment that caused it.
    pub caused_by: Option<String>,
}

#[derive(SimpleObject)]
pub struct ConnectRepositoryPayload {
    pub repository: Repository,
    /// Shown this once: paste it into the webhook's settings. Stored only encrypted.
    pub webhook_secret: String,
    /// Where the provider sends the webhook, under this server's address.
    pub webhook_path: String,
}

#[derive(SimpleObject)]
pub struct UpdateRepositoryPayload {
    pub repository: Repository,
}

#[derive(SimpleObject)]
pub struct DisconnectRepositoryPayload {
    pub disconnected_repository_id: ID,
}

#[derive(SimpleObject)]
pub struct RotateWebhookSecretPayload {
    pub repository: Repository,
    /// The new secret, shown this once; the old one stops working now.
    pub webhook_secret: String,
}

#[derive(SimpleObject)]
pub struct LinkIdentityPayload {
    pub identity: Identity,
}

#[derive(SimpleObject)]
pub struct UnlinkIdentityPayload {
    pub identity: Identity,
}

#[derive(SimpleObject)]
pub struct RecordDeploymentPayload {
    pub deployment: Deployment,
}

#[derive(SimpleObject)]
pub struct RecordIncidentPayload {
    pub incident: Incident,
}

mutations!(DeliveryMutations {
    /// Connects a repository to a project and returns its webhook secret, once (admins,
    /// owners, and leads of the project's team space).
    connect_repository(ConnectRepositoryInput);
    /// Renames a repository or changes its default branch (same roles).
    update_repository(UpdateRepositoryInput);
    /// Disconnects a repository: its commits, pull requests, reviews, and the deployments and
    /// incidents its webhook reported go with it (same roles).
    disconnect_repository(DisconnectRepositoryInput);
    /// Replaces a repository's webhook secret and returns the new one, once (same roles).
    rotate_webhook_secret(RotateWebhookSecretInput);
    /// Links an identity to a developer: what it did before counts for the developer from now
    /// on, rollups included (admins and owners).
    link_identity(LinkIdentityInput);
    /// Undoes a link: the identity's history counts for nobody again (admins and owners).
    unlink_identity(UnlinkIdentityInput);
    /// Records a deployment by hand, for teams without CI integration (members and above).
    record_deployment(RecordDeploymentInput);
    /// Records an incident by hand (members and above).
    record_incident(RecordIncidentInput);
});

fn repository_path(id: RepositoryId) -> String {
    format!("/v1/webhooks/github/{}", id.to_global().as_str())
}

impl Mutation for ConnectRepositoryInput {
    type Payload = ConnectRepositoryPayload;

    async fn run(self, rq: &RequestData) -> AppResult<ConnectRepositoryPayload> {
        let new = NewRepository {
            project: ProjectId::from_global(&self.project_id)?,
            provider: self.provider.into(),
            external_id: self.external_id,
            full_name: self.full_name,
            default_branch: self.default_branch,
        };
        let made = repository::connect(rq.tenant(), &rq.db, rq.secrets.as_deref(), new).await?;
        let id = RepositoryId::from_db(made.repository.id);
        Ok(ConnectRepositoryPayload {
            repository: Repository::one(made.repository),
            webhook_secret: made.webhook_secret,
            webhook_path: repository_path(id),
        })
    }
}

impl Mutation for UpdateRepositoryInput {
    type Payload = UpdateRepositoryPayload;

    async fn run(self, rq: &RequestData) -> AppResult<UpdateRepositoryPayload> {
        let id = RepositoryId::from_global(&self.id)?;
        let patch = RepositoryPatch {
            full_name: self.full_name,
            default_branch: self.default_branch,
        };
        let row = repository::update(rq.tenant(), &rq.db, id, patch).await?;
        Ok(UpdateRepositoryPayload {
            repository: Repository::one(row),
        })
    }
}

impl Mutation for DisconnectRepositoryInput {
    type Payload = DisconnectRepositoryPayload;

    async fn run(self, rq: &RequestData) -> AppResult<DisconnectRepositoryPayload> {
        let id = RepositoryId::from_global(&self.id)?;
        repository::disconnect(rq.tenant(), &rq.db, &rq.live, id).await?;
        Ok(DisconnectRepositoryPayload {
            disconnected_repository_id: id.to_global(),
        })
    }
}

impl Mutation for RotateWebhookSecretInput {
    type Payload = RotateWebhookSecretPayload;

    async fn run(self, rq: &RequestData) -> AppResult<RotateWebhookSecretPayload> {
        let id = RepositoryId::from_global(&self.repository_id)?;
        let made =
            repository::rotate_secret(rq.tenant(), &rq.db, rq.secrets.as_deref(), id).await?;
        Ok(RotateWebhookSecretPayload {
            repository: Repository::one(made.repository),
            webhook_secret: made.webhook_secret,
        })
    }
}

impl Mutation for LinkIdentityInput {
    type Payload = LinkIdentityPayload;

    async fn run(self, rq: &RequestData) -> AppResult<LinkIdentityPayload> {
        let key = match (self.identity_id, self.kind, self.value) {
            (Some(id), None, None) => IdentityKey::Id(IdentityId::from_global(&id)?),
            (None, Some(kind), Some(value)) => {
                let named = IdentityRef::new(kind.into(), &value)
                    .ok_or_else(|| AppError::bad_field("value", "`value` is empty"))?;
                IdentityKey::Named(named)
            }
            _ => {
                return Err(AppError::bad_input(
                    "give either identityId, or kind and value",
                ));
            }
        };
        let developer = DeveloperId::from_global(&self.developer_id)?;
        let row = identity::link(rq.tenant(), &rq.db, &rq.live, key, developer).await?;
        Ok(LinkIdentityPayload {
            identity: Identity::one(row),
        })
    }
}

impl Mutation for UnlinkIdentityInput {
    type Payload = UnlinkIdentityPayload;

    async fn run(self, rq: &RequestData) -> AppResult<UnlinkIdentityPayload> {
        let id = IdentityId::from_global(&self.identity_id)?;
        let row = identity::unlink(rq.tenant(), &rq.db, &rq.live, id).await?;
        Ok(UnlinkIdentityPayload {
            identity: Identity::one(row),
        })
    }
}

impl Mutation for RecordDeploymentInput {
    type Payload = RecordDeploymentPayload;

    async fn run(self, rq: &RequestData) -> AppResult<RecordDeploymentPayload> {
        let input = NewDeployment {
            project: ProjectId::from_global(&self.project_id)?,
            external_id: self.external_id,
            environment: self.environment,
            tier: self.tier.map(Into::into),
            status: self.status.into(),
            started_at: self.started_at,
            finished_at: self.finished_at,
            repository: self
                .repository_id
                .map(|id| RepositoryId::from_global(&id))
                .transpose()?,
            sha: self.sha,
            pull_requests: self.pull_request_numbers,
        };
        let row = record::record_deployment(rq.tenant(), &rq.db, &rq.live, input).await?;
        Ok(RecordDeploymentPayload {
            deployment: Deployment::one(row),
        })
    }
}

impl Mutation for RecordIncidentInput {
    type Payload = RecordIncidentPayload;

    async fn run(self, rq: &RequestData) -> AppResult<RecordIncidentPayload> {
        let input = NewIncident {
            project: ProjectId::from_global(&self.project_id)?,
            external_id: self.external_id,
            title: self.title,
            opened_at: self.opened_at,
            resolved_at: self.resolved_at,
            caused_by: self.caused_by,
        };
        let row = record::record_incident(rq.tenant(), &rq.db, &rq.live, input).await?;
        Ok(RecordIncidentPayload {
            incident: Incident::one(row),
        })
    }
}
