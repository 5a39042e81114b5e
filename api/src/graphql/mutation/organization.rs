//! `updateOrganization`.

use async_graphql::{InputObject, SimpleObject};

use super::Mutation;
use crate::{
    error::AppResult,
    graphql::{request::RequestData, types::Organization},
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

mutations!(OrganizationMutations {
    /// Renames the organization or changes its slug (admins and owners).
    update_organization(UpdateOrganizationInput);
});

impl Mutation for UpdateOrganizationInput {
    type Payload = UpdateOrganizationPayload;

    async fn run(self, rq: &RequestData) -> AppResult<UpdateOrganizationPayload> {
        let patch = OrganizationPatch {
            name: self.name,
            slug: self.slug,
            time_zone: self.time_zone,
            event_retention_days: self.event_retention_days,
        };
        let row = organization::update(rq.tenant(), &rq.db, patch).await?;
        Ok(UpdateOrganizationPayload {
            organization: Organization(row),
        })
    }
}
