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
    /// IANA time zone (e.g. `Asia/Kolkata`) in which metric days are
    /// counted. A change applies to events ingested afterwards;
    /// `devgraph rollup rebuild --org <slug>` re-buckets retained events.
    pub time_zone: Option<String>,
    /// How long raw events are kept (1 to 3650 days); rollups are kept.
    pub event_retention_days: Option<i32>,
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
                time_zone: input.time_zone,
                event_retention_days: input.event_retention_days,
            };
            let row = organization::update(rq.tenant(), &rq.db, patch).await?;
            Ok(Some(UpdateOrganizationPayload {
                organization: Organization(row),
            }))
        };
        or_null(ctx, result.await)
    }
}
