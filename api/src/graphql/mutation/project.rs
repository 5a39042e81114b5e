//! `createProject`, `updateProject`, `deleteProject`.

use crate::ids::GlobalId as _;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};

use crate::{
    graphql::{
        request::{or_null, request},
        types::Project,
    },
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

#[derive(Default)]
pub struct ProjectMutations;

#[Object]
impl ProjectMutations {
    /// Creates a project (admins, owners, and leads of its team space).
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        input: CreateProjectInput,
    ) -> Option<CreateProjectPayload> {
        let result = async {
            let rq = request(ctx)?;
            let new = NewProject {
                name: input.name,
                slug: input.slug,
                team_space: input
                    .team_space_id
                    .map(|id| TeamSpaceId::from_global(&id))
                    .transpose()?,
            };
            let row = project::create(rq.tenant(), &rq.db, new).await?;
            Ok(Some(CreateProjectPayload {
                project: Project::one(row),
            }))
        };
        or_null(ctx, result.await)
    }

    /// Renames a project or moves it between team spaces (admins, owners,
    /// and leads of both team spaces).
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        input: UpdateProjectInput,
    ) -> Option<UpdateProjectPayload> {
        let result = async {
            let rq = request(ctx)?;
            let id = ProjectId::from_global(&input.id)?;
            let patch = ProjectPatch {
                name: input.name,
                slug: input.slug,
                team_space: match input.team_space_id {
                    MaybeUndefined::Undefined => None,
                    MaybeUndefined::Null => Some(None),
                    MaybeUndefined::Value(id) => Some(Some(TeamSpaceId::from_global(&id)?)),
                },
            };
            let row = project::update(rq.tenant(), &rq.db, id, patch).await?;
            Ok(Some(UpdateProjectPayload {
                project: Project::one(row),
            }))
        };
        or_null(ctx, result.await)
    }

    /// Deletes a project with its events, rollups and bound API keys.
    async fn delete_project(
        &self,
        ctx: &Context<'_>,
        input: DeleteProjectInput,
    ) -> Option<DeleteProjectPayload> {
        let result = async {
            let rq = request(ctx)?;
            let id = ProjectId::from_global(&input.id)?;
            project::delete(rq.tenant(), &rq.db, id).await?;
            Ok(Some(DeleteProjectPayload {
                deleted_project_id: id.to_global(),
            }))
        };
        or_null(ctx, result.await)
    }
}
