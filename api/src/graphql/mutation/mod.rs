//! The mutation root: one `input`, one payload per mutation. Each input type's
//! [`Mutation`] impl only decodes ids and hands typed input to a service, which
//! checks permissions, validates, writes and audits in one transaction; the
//! resolver around it, the same for every mutation, is written once by
//! `mutations!`.

use crate::{error::AppResult, graphql::request::RequestData};

/// What a mutation does with its input, given the request it runs in.
trait Mutation {
    type Payload: async_graphql::OutputType;

    async fn run(self, rq: &RequestData) -> AppResult<Self::Payload>;
}

/// `mutations!(Group { /// doc \n field_name(InputType); … })`: the `#[Object]`
/// of a group of mutations, each resolved by its input's [`Mutation`] impl. A
/// failed mutation answers `null` with its error at the field's path; an
/// unauthenticated caller or an API key never reaches `run`.
macro_rules! mutations {
    ($group:ident { $($(#[$doc:meta])* $field:ident($input:ty);)* }) => {
        #[derive(Default)]
        pub struct $group;

        #[async_graphql::Object]
        impl $group {
            $(
                $(#[$doc])*
                #[graphql(complexity = "crate::graphql::cost::root(1 + child_complexity)?")]
                async fn $field(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    input: $input,
                ) -> Option<<$input as $crate::graphql::mutation::Mutation>::Payload> {
                    use $crate::graphql::{mutation::Mutation as _, request};
                    let result = async {
                        let rq = request::request(ctx)?;
                        $crate::permissions::may_mutate(rq.tenant())?;
                        input.run(rq).await
                    };
                    request::or_null(ctx, result.await.map(Some))
                }
            )*
        }
    };
}

mod api_key;
mod delivery;
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
    delivery::DeliveryMutations,
);
