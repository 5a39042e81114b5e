//! The opaque global ids of the GraphQL API, which carry their type
//! (`base64url("TeamSpace:<uuid>")`), for the typed ids of `entity::ids`
//! (re-exported here).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::AppError;

pub use entity::ids::{
    ApiKeyId, AuditLogEntryId, CommitId, DeploymentId, DeveloperId, IdentityId, IncidentId, OrgId,
    ProjectId, PullRequestId, RepositoryId, ReviewId, TeamSpaceId, WebhookDeliveryId,
};

/// The opaque global id of a typed id, which carries its type.
pub trait GlobalId: Sized {
    const KIND: NodeKind;

    fn uuid_of(self) -> Uuid;

    fn with_uuid(id: Uuid) -> Self;

    fn to_global(self) -> async_graphql::ID {
        encode(Self::KIND, self.uuid_of())
    }

    /// Parses a global id that must name this type.
    fn from_global(id: &str) -> Result<Self, AppError> {
        let (kind, uuid) = decode(id)?;
        if kind != Self::KIND {
            return Err(AppError::bad_input(format!(
                "expected an id of a {}, got one of a {}",
                Self::KIND.name(),
                kind.name()
            )));
        }
        Ok(Self::with_uuid(uuid))
    }
}

macro_rules! global_id {
    ($name:ident, $kind:expr) => {
        impl GlobalId for $name {
            const KIND: NodeKind = $kind;

            fn uuid_of(self) -> Uuid {
                self.uuid()
            }

            fn with_uuid(id: Uuid) -> Self {
                $name::from_db(id)
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    Organization,
    Developer,
    TeamSpace,
    Project,
    ApiKey,
    AuditLogEntry,
    Repository,
    PullRequest,
    Review,
    Deployment,
    Incident,
    Identity,
}

impl NodeKind {
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Organization => "Organization",
            NodeKind::Developer => "Developer",
            NodeKind::TeamSpace => "TeamSpace",
            NodeKind::Project => "Project",
            NodeKind::ApiKey => "ApiKey",
            NodeKind::AuditLogEntry => "AuditLogEntry",
            NodeKind::Repository => "Repository",
            NodeKind::PullRequest => "PullRequest",
            NodeKind::Review => "Review",
            NodeKind::Deployment => "Deployment",
            NodeKind::Incident => "Incident",
            NodeKind::Identity => "Identity",
        }
    }

    pub fn from_type_name(name: &str) -> Option<NodeKind> {
        [
            NodeKind::Organization,
            NodeKind::Developer,
            NodeKind::TeamSpace,
            NodeKind::Project,
            NodeKind::ApiKey,
            NodeKind::AuditLogEntry,
            NodeKind::Repository,
            NodeKind::PullRequest,
            NodeKind::Review,
            NodeKind::Deployment,
            NodeKind::Incident,
            NodeKind::Identity,
        ]
        .into_iter()
        .find(|kind| kind.name() == name)
    }
}

global_id!(OrgId, NodeKind::Organization);
global_id!(DeveloperId, NodeKind::Developer);
global_id!(TeamSpaceId, NodeKind::TeamSpace);
global_id!(ProjectId, NodeKind::Project);
global_id!(ApiKeyId, NodeKind::ApiKey);
global_id!(AuditLogEntryId, NodeKind::AuditLogEntry);
global_id!(RepositoryId, NodeKind::Repository);
global_id!(PullRequestId, NodeKind::PullRequest);
global_id!(ReviewId, NodeKind::Review);
global_id!(DeploymentId, NodeKind::Deployment);
global_id!(IncidentId, NodeKind::Incident);
global_id!(IdentityId, NodeKind::Identity);

pub fn encode(kind: NodeKind, id: Uuid) -> async_graphql::ID {
    async_graphql::ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.name(), id)))
}

/// Parses any global id; a malformed one is BAD_USER_INPUT.
pub fn decode(id: &str) -> Result<(NodeKind, Uuid), AppError> {
    let malformed = || AppError::bad_input(format!("malformed id {:?}", truncate(id)));
    let bytes = URL_SAFE_NO_PAD.decode(id).map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (kind, uuid) = text.split_once(':').ok_or_else(malformed)?;
    let kind = NodeKind::from_type_name(kind).ok_or_else(malformed)?;
    let uuid = Uuid::parse_str(uuid).map_err(|_| malformed())?;
    Ok((kind, uuid))
}

/// Echoing a whole multi-kilobyte id back helps nobody.
fn truncate(id: &str) -> String {
    id.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_carry_their_type() {
        let id = TeamSpaceId::new();
        let global = id.to_global();
        assert_eq!(TeamSpaceId::from_global(&global).unwrap(), id);
        let err = DeveloperId::from_global(&global).unwrap_err();
        assert_eq!(err.code(), "BAD_USER_INPUT");
    }

    #[test]
    fn malformed_ids_are_bad_input() {
        for bad in [
            "",
            "!!!",
            "VGVhbVNwYWNl",
            &URL_SAFE_NO_PAD.encode("Nope:123"),
        ] {
            assert_eq!(decode(bad).unwrap_err().code(), "BAD_USER_INPUT", "{bad}");
        }
    }
}
