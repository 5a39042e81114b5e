//! `Identity`: how a person appears in a source (an email, a provider
//! login, another system's id), and the developer it is linked to.

use crate::ids::GlobalId as _;

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::identity;

use super::{Developer, nullable};
use crate::{
    ids::{DeveloperId, IdentityId},
    loaders::IdentityCohort,
    service::delivery::read::Unfiltered,
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::IdentityKind")]
pub enum IdentityKind {
    /// An email address, lower-cased.
    Email,
    /// A GitHub login, lower-cased.
    Github,
    /// A GitLab username, lower-cased.
    Gitlab,
    /// Another system's user id, as sent.
    External,
}

super::cohort_object!(
    Identity,
    identity,
    IdentityCohort,
    Unfiltered<identity::Entity>
);

#[Object]
impl Identity {
    pub async fn id(&self) -> ID {
        IdentityId::from_db(self.row.id).to_global()
    }
    async fn kind(&self) -> IdentityKind {
        self.row.kind.into()
    }
    async fn value(&self) -> &str {
        &self.row.value
    }
    /// The developer it is linked to; null while nobody is.
    async fn developer(&self, ctx: &Context<'_>) -> Option<Developer> {
        let id = self.row.developer_id.map(DeveloperId::from_db);
        nullable(ctx, id, |rq| self.cohort.developers(&rq.loaders)).await
    }
    /// When an admin last unlinked it; null once linked again. An email
    /// identity an admin unlinked does not link itself to the developer
    /// with that email again: only `linkIdentity` links it.
    async fn unlinked_at(&self) -> Option<DateTime<Utc>> {
        self.row.unlinked_at
    }
    async fn first_seen_at(&self) -> DateTime<Utc> {
        self.row.first_seen_at
    }
    async fn last_seen_at(&self) -> DateTime<Utc> {
        self.row.last_seen_at
    }
}
