//! `addTeamSpaceMember`, `updateTeamSpaceMember`, `removeTeamSpaceMember`.

use crate::graphql::types::CohortObject as _;
use crate::ids::GlobalId as _;
use async_graphql::{ID, InputObject, SimpleObject};

use super::Mutation;
use crate::{
    error::AppResult,
    graphql::{
        request::RequestData,
        types::{Developer, TeamSpace, TeamSpaceRole},
    },
    ids::{DeveloperId, TeamSpaceId},
    service::membership::{self, MemberChange},
};

#[derive(InputObject)]
pub struct AddTeamSpaceMemberInput {
    pub team_space_id: ID,
    pub developer_id: ID,
    #[graphql(default_with = "TeamSpaceRole::Member")]
    pub role: TeamSpaceRole,
}

#[derive(InputObject)]
pub struct UpdateTeamSpaceMemberInput {
    pub team_space_id: ID,
    pub developer_id: ID,
    pub role: TeamSpaceRole,
}

#[derive(InputObject)]
pub struct RemoveTeamSpaceMemberInput {
    pub team_space_id: ID,
    pub developer_id: ID,
}

#[derive(SimpleObject)]
pub struct TeamSpaceMemberPayload {
    pub team_space: TeamSpace,
    pub developer: Developer,
    pub role: TeamSpaceRole,
}

#[derive(SimpleObject)]
pub struct RemoveTeamSpaceMemberPayload {
    pub team_space: TeamSpace,
    pub removed_developer_id: ID,
}

fn ids(space: &ID, dev: &ID) -> AppResult<(TeamSpaceId, DeveloperId)> {
    Ok((
        TeamSpaceId::from_global(space)?,
        DeveloperId::from_global(dev)?,
    ))
}

fn change(space: &ID, dev: &ID, role: TeamSpaceRole) -> AppResult<MemberChange> {
    let (space, developer) = ids(space, dev)?;
    Ok(MemberChange {
        space,
        developer,
        role: role.into(),
    })
}

type Membership = (
    entity::team_space::Model,
    entity::developer::Model,
    entity::enums::TeamSpaceRole,
);

fn payload((space, dev, role): Membership) -> TeamSpaceMemberPayload {
    TeamSpaceMemberPayload {
        team_space: TeamSpace::one(space),
        developer: Developer::one(dev),
        role: role.into(),
    }
}

mutations!(MemberMutations {
    /// Classifies a developer into a team space (admins, owners, and the
    /// team space's leads).
    add_team_space_member(AddTeamSpaceMemberInput);
    /// Makes a member a lead, or a lead a member.
    update_team_space_member(UpdateTeamSpaceMemberInput);
    /// Takes a developer out of a team space.
    remove_team_space_member(RemoveTeamSpaceMemberInput);
});

impl Mutation for AddTeamSpaceMemberInput {
    type Payload = TeamSpaceMemberPayload;

    async fn run(self, rq: &RequestData) -> AppResult<TeamSpaceMemberPayload> {
        let change = change(&self.team_space_id, &self.developer_id, self.role)?;
        Ok(payload(membership::add(rq.tenant(), &rq.db, change).await?))
    }
}

impl Mutation for UpdateTeamSpaceMemberInput {
    type Payload = TeamSpaceMemberPayload;

    async fn run(self, rq: &RequestData) -> AppResult<TeamSpaceMemberPayload> {
        let change = change(&self.team_space_id, &self.developer_id, self.role)?;
        Ok(payload(
            membership::update(rq.tenant(), &rq.db, change).await?,
        ))
    }
}

impl Mutation for RemoveTeamSpaceMemberInput {
    type Payload = RemoveTeamSpaceMemberPayload;

    async fn run(self, rq: &RequestData) -> AppResult<RemoveTeamSpaceMemberPayload> {
        let (space, developer) = ids(&self.team_space_id, &self.developer_id)?;
        let row = membership::remove(rq.tenant(), &rq.db, space, developer).await?;
        Ok(RemoveTeamSpaceMemberPayload {
            team_space: TeamSpace::one(row),
            removed_developer_id: developer.to_global(),
        })
    }
}
