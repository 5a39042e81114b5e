//! Typed ids, so that a team space id cannot be passed where a developer id
//! is expected, and so that every scoped finder takes an `OrgId`, never a
//! bare uuid. Their opaque GraphQL form (global ids) is the API's business
//! (`devgraph::ids::GlobalId`).

use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id: a UUIDv7, ordered by creation time.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }

            /// Wraps a uuid read from our own database.
            pub fn from_db(id: Uuid) -> Self {
                $name(id)
            }

            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<$name> for sea_orm::Value {
            fn from(id: $name) -> Self {
                id.0.into()
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

typed_id!(
    /// An organization: the tenant.
    OrgId
);
typed_id!(DeveloperId);
typed_id!(TeamSpaceId);
typed_id!(ProjectId);
typed_id!(ApiKeyId);
typed_id!(AuditLogEntryId);
typed_id!(IdentityId);
typed_id!(RepositoryId);
typed_id!(CommitId);
typed_id!(PullRequestId);
typed_id!(ReviewId);
typed_id!(WebhookDeliveryId);
typed_id!(DeploymentId);
typed_id!(IncidentId);
