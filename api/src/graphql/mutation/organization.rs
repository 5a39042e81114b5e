//! `updateOrganization`.

use async_graphql::{Context, InputObject, Object, SimpleObject};

use crate::{
    graphql::{
        request::{or_null, request},
        types::Organization,
    },
    service::organization::{self, OrganizationPatch},
};

#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    pub name: Option<String>,
    pub slug: Option<String>,
}

#[derive(SimpleObject)]
pub struct UpdateOrganizationPayload {
    pub organization: Organization,
}

#[derive(Default)]
pub struct OrganizationMutations;

#[Object]
impl OrganizationMutations {
    /// Renames the organization or changes its slug (admins and owners).
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrganizationInput,
    ) -> Option<UpdateOrganizationPayload> {
        let result = async {
            let rq = request(ctx)?;
            let patch = OrganizationPatch {
                name: input.name,
                slug: input.slug,
            };
            let row = organization::update(rq.tenant(), &rq.db, patch).await?;
            Ok(Some(UpdateOrganizationPayload {
                organization: Organization(row),
            }))
        };
        or_null(ctx, result.await)
    }
}
