//! `createProject`, `updateProject`, `deleteProject`.

use crate::graphql::types::CohortObject as _;
use crate::ids::GlobalId as _;
use async_graphql::{ID, InputObject, MaybeUndefined, SimpleObject};

use super::Mutation;
use crate::{
    error::AppResult,
    graphql::{request::RequestData, types::Project},
    ids::{ProjectId, TeamSpaceId},
    service::project::{self, NewProject, ProjectPatch},
};

#[derive(InputObject)]
pub struct CreateProjectInput {
    pub name: String,
    /// Lowercase letters, digits and hyphens; unique in the organization.
    pub slug: String,
    /// The owning team space; none when left out.
    pub team_space_id: Option<ID>,
}

#[derive(InputObject)]
pub struct UpdateProjectInput {
    pub id: ID,
    pub name: Option<String>,
    pub slug: Option<String>,
    /// Moves the project; `null` detaches it from any team space.
    pub team_space_id: MaybeUndefined<ID>,
}

#[derive(InputObject)]
pub struct DeleteProjectInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct CreateProjectPayload {
    pub project: Project,
}

#[derive(SimpleObject)]
pub struct UpdateProjectPayload {
    pub project: Project,
}

#[derive(SimpleObject)]
pub struct DeleteProjectPayload {
    pub deleted_project_id: ID,
}

mutations!(ProjectMutations {
    /// Creates a project (admins, owners, and leads of its team space).
    create_project(CreateProjectInput);
    /// Renames a project or moves it between team spaces (admins, owners,
    /// and leads of both team spaces).
    update_project(UpdateProjectInput);
    /// Deletes a project with its events, rollups and bound API keys.
    delete_project(DeleteProjectInput);
});

impl Mutation for CreateProjectInput {
    type Payload = CreateProjectPayload;

    async fn run(self, rq: &RequestData) -> AppResult<CreateProjectPayload> {
        let new = NewProject {
            name: self.name,
            slug: self.slug,
            team_space: self
                .team_space_id
                .map(|id| TeamSpaceId::from_global(&id))
                .transpose()?,
        };
        let row = project::create(rq.tenant(), &rq.db, new).await?;
        Ok(CreateProjectPayload {
            project: Project::one(row),
        })
    }
}

impl Mutation for UpdateProjectInput {
    type Payload = UpdateProjectPayload;

    async fn run(self, rq: &RequestData) -> AppResult<UpdateProjectPayload> {
        let id = ProjectId::from_global(&self.id)?;
        let patch = ProjectPatch {
            name: self.name,
            slug: self.slug,
            team_space: match self.team_space_id {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(id) => Some(Some(TeamSpaceId::from_global(&id)?)),
            },
        };
        let row = project::update(rq.tenant(), &rq.db, id, patch).await?;
        Ok(UpdateProjectPayload {
            project: Project::one(row),
        })
    }
}

impl Mutation for DeleteProjectInput {
    type Payload = DeleteProjectPayload;

    async fn run(self, rq: &RequestData) -> AppResult<DeleteProjectPayload> {
        let id = ProjectId::from_global(&self.id)?;
        project::delete(rq.tenant(), &rq.db, id).await?;
        Ok(DeleteProjectPayload {
            deleted_project_id: id.to_global(),
        })
    }
}
