//! `createTeamSpace`, `updateTeamSpace`, `deleteTeamSpace`.

use crate::graphql::types::CohortObject as _;
use crate::ids::GlobalId as _;
use async_graphql::{ID, InputObject, MaybeUndefined, SimpleObject};

use super::Mutation;
use crate::{
    error::AppResult,
    graphql::{request::RequestData, types::TeamSpace},
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

mutations!(TeamSpaceMutations {
    /// Creates a team space (admins and owners).
    create_team_space(CreateTeamSpaceInput);
    /// Renames a team space or changes its slug or description (admins and owners).
    update_team_space(UpdateTeamSpaceInput);
    /// Deletes a team space: its memberships go, its projects stay, owned by
    /// no team space (admins and owners).
    delete_team_space(DeleteTeamSpaceInput);
});

impl Mutation for CreateTeamSpaceInput {
    type Payload = CreateTeamSpacePayload;

    async fn run(self, rq: &RequestData) -> AppResult<CreateTeamSpacePayload> {
        let new = NewTeamSpace {
            name: self.name,
            slug: self.slug,
            description: self.description,
        };
        let row = team_space::create(rq.tenant(), &rq.db, new).await?;
        Ok(CreateTeamSpacePayload {
            team_space: TeamSpace::one(row),
        })
    }
}

impl Mutation for UpdateTeamSpaceInput {
    type Payload = UpdateTeamSpacePayload;

    async fn run(self, rq: &RequestData) -> AppResult<UpdateTeamSpacePayload> {
        let id = TeamSpaceId::from_global(&self.id)?;
        let patch = TeamSpacePatch {
            name: self.name,
            slug: self.slug,
            description: match self.description {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(text) => Some(Some(text)),
            },
        };
        let row = team_space::update(rq.tenant(), &rq.db, id, patch).await?;
        Ok(UpdateTeamSpacePayload {
            team_space: TeamSpace::one(row),
        })
    }
}

impl Mutation for DeleteTeamSpaceInput {
    type Payload = DeleteTeamSpacePayload;

    async fn run(self, rq: &RequestData) -> AppResult<DeleteTeamSpacePayload> {
        let id = TeamSpaceId::from_global(&self.id)?;
        let deleted = team_space::delete(rq.tenant(), &rq.db, id).await?;
        Ok(DeleteTeamSpacePayload {
            deleted_team_space_id: id.to_global(),
            detached_project_count: deleted.detached_projects as i64,
            removed_member_count: deleted.removed_members as i64,
        })
    }
}
