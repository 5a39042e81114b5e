//! `Incident`: something that went wrong in a project, and the deployment
//! that caused it when the sender knows.

use crate::ids::GlobalId as _;

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::incident;

use super::{Deployment, Repository, nullable};
use crate::{
    graphql::request::{or_null, request},
    ids::{IncidentId, RepositoryId},
    loaders::IncidentCohort,
    service::delivery::read::Unfiltered,
};

super::cohort_object!(
    Incident,
    incident,
    IncidentCohort,
    Unfiltered<incident::Entity>
);

#[Object]
impl Incident {
    pub async fn id(&self) -> ID {
        IncidentId::from_db(self.row.id).to_global()
    }
    /// The sender's id of the incident, unique in its project.
    async fn external_id(&self) -> &str {
        &self.row.external_id
    }
    async fn title(&self) -> &str {
        &self.row.title
    }
    async fn opened_at(&self) -> DateTime<Utc> {
        self.row.opened_at
    }
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.row.resolved_at
    }
    /// The external id of the deployment that caused it, as the sender
    /// named it (that deployment may not have arrived yet).
    async fn caused_by(&self) -> Option<&str> {
        self.row.caused_by.as_deref()
    }
    /// The deployment of this project whose external id is `causedBy`, once
    /// it has arrived.
    async fn caused_by_deployment(&self, ctx: &Context<'_>) -> Option<Deployment> {
        let external_id = self.row.caused_by.as_deref()?;
        let found = async {
            let rq = request(ctx)?;
            let causes = self.cohort.causes(&rq.loaders).await?;
            let found = causes.get(self.row.project_id, external_id);
            Ok(found.map(|row| Deployment {
                row,
                cohort: causes.cohort.clone(),
            }))
        };
        or_null(ctx, found.await)
    }
    /// The repository it happened in, when the sender named one.
    async fn repository(&self, ctx: &Context<'_>) -> Option<Repository> {
        let id = self.row.repository_id.map(RepositoryId::from_db);
        nullable(ctx, id, |rq| self.cohort.repositories(&rq.loaders)).await
    }
}
