//! The tenant context: which organization a request acts in, who acts, and
//! with which role. Every data access function takes one; its fields are
//! private and it is built only by the authentication code beside it, or by
//! the explicit, greppable `unsafe_system` for the CLI's seed and jobs.

use entity::enums::DeveloperRole;

use super::key_format::KeyScope;
use crate::ids::{ApiKeyId, DeveloperId, OrgId, ProjectId, RepositoryId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Developer(DeveloperId),
    /// A machine: reads as a viewer, or ingests events, by its scopes.
    ApiKey(KeyGrant),
    /// The CLI (seed, jobs): no person, full rights in one organization.
    System,
    /// A repository's signed webhook: records delivery data for that repository's project,
    /// nothing else.
    Webhook(WebhookGrant),
}

/// What a verified webhook delivery may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookGrant {
    pub repository: RepositoryId,
    pub project: ProjectId,
}

/// What an API key may do, as read from its row on this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    pub id: ApiKeyId,
    pub scopes: Vec<KeyScope>,
    /// The one project the key may send events to.
    pub project: Option<ProjectId>,
}

impl KeyGrant {
    pub fn allows(&self, scope: KeyScope) -> bool {
        self.scopes.contains(&scope)
    }
}

#[derive(Debug, Clone)]
pub struct TenantCtx {
    org_id: OrgId,
    actor: Actor,
    role: DeveloperRole,
}

impl TenantCtx {
    pub(super) fn for_developer(
        org_id: OrgId,
        developer: DeveloperId,
        role: DeveloperRole,
    ) -> Self {
        TenantCtx {
            org_id,
            actor: Actor::Developer(developer),
            role,
        }
    }

    pub(super) fn for_api_key(org_id: OrgId, key: KeyGrant) -> Self {
        TenantCtx {
            org_id,
            actor: Actor::ApiKey(key),
            role: DeveloperRole::Viewer,
        }
    }

    /// A context for a webhook delivery whose signature was verified with the repository's
    /// secret: it acts in the repository's organization and may only record its data.
    pub(crate) fn for_webhook(org_id: OrgId, grant: WebhookGrant) -> Self {
        TenantCtx {
            org_id,
            actor: Actor::Webhook(grant),
            role: DeveloperRole::Viewer,
        }
    }

    /// A context for trusted code that acts in an organization without a
    /// request: the CLI's seed, token and maintenance commands. Never build
    /// one from request data.
    pub fn unsafe_system(org_id: OrgId) -> Self {
        TenantCtx {
            org_id,
            actor: Actor::System,
            role: DeveloperRole::Owner,
        }
    }

    pub fn org_id(&self) -> OrgId {
        self.org_id
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn role(&self) -> DeveloperRole {
        self.role
    }

    /// How the audit log names the actor: its kind and id.
    pub fn audit_actor(&self) -> (&'static str, Option<uuid::Uuid>) {
        match &self.actor {
            Actor::Developer(id) => ("developer", Some(id.uuid())),
            Actor::ApiKey(key) => ("api_key", Some(key.id.uuid())),
            Actor::System => ("system", None),
            Actor::Webhook(grant) => ("webhook", Some(grant.repository.uuid())),
        }
    }

    pub fn developer_id(&self) -> Option<DeveloperId> {
        match &self.actor {
            Actor::Developer(id) => Some(*id),
            Actor::ApiKey(_) | Actor::System | Actor::Webhook(_) => None,
        }
    }
}
