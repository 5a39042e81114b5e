//! `addTeamSpaceMember`, `updateTeamSpaceMember`, `removeTeamSpaceMember`.

use crate::ids::GlobalId as _;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::{
    error::AppResult,
    graphql::{
        request::{or_null, request},
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

type Membership = (
    entity::team_space::Model,
    entity::developer::Model,
    entity::enums::TeamSpaceRole,
);

fn payload((space, dev, role): Membership) -> Option<TeamSpaceMemberPayload> {
    Some(TeamSpaceMemberPayload {
        team_space: TeamSpace::one(space),
        developer: Developer::one(dev),
        role: role.into(),
    })
}

#[derive(Default)]
pub struct MemberMutations;

#[Object]
impl MemberMutations {
    /// Classifies a developer into a team space (admins, owners, and the
    /// team space's leads).
    async fn add_team_space_member(
        &self,
        ctx: &Context<'_>,
        input: AddTeamSpaceMemberInput,
    ) -> Option<TeamSpaceMemberPayload> {
        let result = async {
            let rq = request(ctx)?;
            let (space, developer) = ids(&input.team_space_id, &input.developer_id)?;
            let change = MemberChange {
                space,
                developer,
                role: input.role.into(),
            };
            Ok(payload(membership::add(rq.tenant(), &rq.db, change).await?))
        };
        or_null(ctx, result.await)
    }

    /// Makes a member a lead, or a lead a member.
    async fn update_team_space_member(
        &self,
        ctx: &Context<'_>,
        input: UpdateTeamSpaceMemberInput,
    ) -> Option<TeamSpaceMemberPayload> {
        let result = async {
            let rq = request(ctx)?;
            let (space, developer) = ids(&input.team_space_id, &input.developer_id)?;
            let change = MemberChange {
                space,
                developer,
                role: input.role.into(),
            };
            Ok(payload(
                membership::update(rq.tenant(), &rq.db, change).await?,
            ))
        };
        or_null(ctx, result.await)
    }

    /// Takes a developer out of a team space.
    async fn remove_team_space_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveTeamSpaceMemberInput,
    ) -> Option<RemoveTeamSpaceMemberPayload> {
        let result = async {
            let rq = request(ctx)?;
            let (space, developer) = ids(&input.team_space_id, &input.developer_id)?;
            let row = membership::remove(rq.tenant(), &rq.db, space, developer).await?;
            Ok(Some(RemoveTeamSpaceMemberPayload {
                team_space: TeamSpace::one(row),
                removed_developer_id: developer.to_global(),
            }))
        };
        or_null(ctx, result.await)
    }
}
