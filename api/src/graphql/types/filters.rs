//! List filters as the API takes them; ids are decoded (and their type
//! checked) here, so services receive typed ids.

use crate::ids::GlobalId as _;
use async_graphql::{ID, InputObject};

use super::DeveloperRole;
use crate::{
    error::AppResult,
    ids::TeamSpaceId,
    service::{
        delivery::read::Unfiltered, developer::DeveloperFilter, project::ProjectFilter, table,
        team_space::TeamSpaceFilter,
    },
};

/// A list's `filter` argument, decoded into its service's filter.
pub trait FilterInput: Default {
    type Filter: table::Filter + Clone + Send + Sync + 'static;

    fn into_filter(self) -> AppResult<Self::Filter>;
}

#[derive(InputObject, Default)]
#[graphql(name = "TeamSpaceFilter")]
pub struct TeamSpaceFilterInput {
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
}

impl FilterInput for TeamSpaceFilterInput {
    type Filter = TeamSpaceFilter;

    fn into_filter(self) -> AppResult<TeamSpaceFilter> {
        Ok(TeamSpaceFilter {
            name_contains: self.name_contains,
        })
    }
}

#[derive(InputObject, Default)]
#[graphql(name = "DeveloperFilter")]
pub struct DeveloperFilterInput {
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
    pub role: Option<DeveloperRole>,
    /// Only developers classified into this team space.
    pub team_space_id: Option<ID>,
    /// `true`: only active developers; `false`: only deactivated ones.
    pub active: Option<bool>,
}

impl FilterInput for DeveloperFilterInput {
    type Filter = DeveloperFilter;

    fn into_filter(self) -> AppResult<DeveloperFilter> {
        Ok(DeveloperFilter {
            name_contains: self.name_contains,
            role: self.role.map(Into::into),
            team_space: self
                .team_space_id
                .map(|id| TeamSpaceId::from_global(&id))
                .transpose()?,
            active: self.active,
        })
    }
}

#[derive(InputObject, Default)]
#[graphql(name = "ProjectFilter")]
pub struct ProjectFilterInput {
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
    /// Only projects of this team space.
    pub team_space_id: Option<ID>,
}

impl FilterInput for ProjectFilterInput {
    type Filter = ProjectFilter;

    fn into_filter(self) -> AppResult<ProjectFilter> {
        Ok(ProjectFilter {
            name_contains: self.name_contains,
            team_space: self
                .team_space_id
                .map(|id| TeamSpaceId::from_global(&id))
                .transpose()?,
        })
    }
}

/// The objects without a top-level list of their own take no filter there.
impl<E: table::Listed + 'static> FilterInput for Unfiltered<E> {
    type Filter = Unfiltered<E>;

    fn into_filter(self) -> AppResult<Unfiltered<E>> {
        Ok(self)
    }
}
