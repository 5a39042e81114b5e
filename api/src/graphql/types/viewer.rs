//! `Viewer`: the authenticated caller, and the organizations they belong to.

use super::CohortObject as _;
use crate::ids::GlobalId as _;
use async_graphql::{Context, ID, Object, Result, SimpleObject};

use super::{Developer, DeveloperRole};
use crate::{
    auth::memberships_of_subject, error::AppError, graphql::request::request, ids::DeveloperId,
};

pub struct Viewer {
    pub developer: entity::developer::Model,
    pub subject: String,
}

/// One organization the caller belongs to. Deliberately not an
/// `Organization`: its lists would be read with this request's tenant.
#[derive(SimpleObject)]
pub struct OrganizationMembership {
    /// The organization's global id; pass it (or the slug) as `X-Organization`.
    pub id: ID,
    pub name: String,
    pub slug: String,
    pub role: DeveloperRole,
}

#[Object]
impl Viewer {
    async fn id(&self) -> ID {
        DeveloperId::from_db(self.developer.id).to_global()
    }
    async fn name(&self) -> &str {
        &self.developer.name
    }
    async fn email(&self) -> &str {
        &self.developer.email
    }
    async fn role(&self) -> DeveloperRole {
        self.developer.role.into()
    }
    /// The caller as a developer of the current organization.
    async fn developer(&self) -> Developer {
        Developer::one(self.developer.clone())
    }
    /// Every organization in which the caller is an active developer.
    async fn organizations(&self, ctx: &Context<'_>) -> Result<Vec<OrganizationMembership>> {
        let rq = request(ctx)?;
        let memberships = memberships_of_subject(&rq.db, &self.subject)
            .await
            .map_err(AppError::into_graphql)?;
        Ok(memberships
            .into_iter()
            .map(|m| OrganizationMembership {
                id: m.org_id.to_global(),
                name: m.name,
                slug: m.slug,
                role: m.role.into(),
            })
            .collect())
    }
}
