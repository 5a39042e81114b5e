//! `createTeamSpace`, `updateTeamSpace`, `deleteTeamSpace`.

use crate::ids::GlobalId as _;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};

use crate::{
    graphql::{
        request::{or_null, request},
        types::TeamSpace,
    },
    ids::TeamSpaceId,
    service::team_space::{self, NewTeamSpace, TeamSpacePatch},
};

#[derive(InputObject)]
pub struct CreateTeamSpaceInput {
    pub name: String,
    /// Lowercase letters, digits and hyphens; unique in the organization.
    pub slug: String,
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateTeamSpaceInput {
    pub id: ID,
    pub name: Option<String>,
    pub slug: Option<String>,
    /// `null` clears the description; leaving it out keeps it.
    pub description: MaybeUndefined<String>,
}

#[derive(InputObject)]
pub struct DeleteTeamSpaceInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct CreateTeamSpacePayload {
    pub team_space: TeamSpace,
}

#[derive(SimpleObject)]
pub struct UpdateTeamSpacePayload {
    pub team_space: TeamSpace,
}

#[derive(SimpleObject)]
pub struct DeleteTeamSpacePayload {
    pub deleted_team_space_id: ID,
    /// Projects the team space owned, now owned by none.
    pub detached_project_count: i64,
    pub removed_member_count: i64,
}

#[derive(Default)]
pub struct TeamSpaceMutations;

#[Object]
impl TeamSpaceMutations {
    /// Creates a team space (admins and owners).
    async fn create_team_space(
        &self,
        ctx: &Context<'_>,
        input: CreateTeamSpaceInput,
    ) -> Option<CreateTeamSpacePayload> {
        let result = async {
            let rq = request(ctx)?;
            let new = NewTeamSpace {
                name: input.name,
                slug: input.slug,
                description: input.description,
            };
            let row = team_space::create(rq.tenant(), &rq.db, new).await?;
            Ok(Some(CreateTeamSpacePayload {
                team_space: TeamSpace::one(row),
            }))
        };
        or_null(ctx, result.await)
    }

    /// Renames a team space or changes its slug or description (admins and owners).
    async fn update_team_space(
        &self,
        ctx: &Context<'_>,
        input: UpdateTeamSpaceInput,
    ) -> Option<UpdateTeamSpacePayload> {
        let result = async {
            let rq = request(ctx)?;
            let id = TeamSpaceId::from_global(&input.id)?;
            let patch = TeamSpacePatch {
                name: input.name,
                slug: input.slug,
                description: match input.description {
                    MaybeUndefined::Undefined => None,
                    MaybeUndefined::Null => Some(None),
                    MaybeUndefined::Value(text) => Some(Some(text)),
                },
            };
            let row = team_space::update(rq.tenant(), &rq.db, id, patch).await?;
            Ok(Some(UpdateTeamSpacePayload {
                team_space: TeamSpace::one(row),
            }))
        };
        or_null(ctx, result.await)
    }

    /// Deletes a team space: its memberships go, its projects stay, owned by
    /// no team space (admins and owners).
    async fn delete_team_space(
        &self,
        ctx: &Context<'_>,
        input: DeleteTeamSpaceInput,
    ) -> Option<DeleteTeamSpacePayload> {
        let result = async {
            let rq = request(ctx)?;
            let id = TeamSpaceId::from_global(&input.id)?;
            let deleted = team_space::delete(rq.tenant(), &rq.db, id).await?;
            Ok(Some(DeleteTeamSpacePayload {
                deleted_team_space_id: id.to_global(),
                detached_project_count: deleted.detached_projects as i64,
                removed_member_count: deleted.removed_members as i64,
            }))
        };
        or_null(ctx, result.await)
    }
}
