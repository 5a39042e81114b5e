//! The mutation root: one `input`, one payload per mutation. Resolvers only
//! decode ids and hand typed input to a service, which checks permissions,
//! validates, writes and audits in one transaction.

mod api_key;
mod developer;
mod events;
mod member;
mod organization;
mod project;
mod team_space;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    organization::OrganizationMutations,
    team_space::TeamSpaceMutations,
    member::MemberMutations,
    developer::DeveloperMutations,
    project::ProjectMutations,
    api_key::ApiKeyMutations,
    events::EventMutations,
);
