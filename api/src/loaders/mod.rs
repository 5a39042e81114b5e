//! Per-request DataLoaders, one per relation, each holding the request's
//! tenant context. They are built for every request and never shared: a
//! loader cached across requests would hand one caller's rows to another.
//! Each batch is one `... IN (...) AND organization_id = $1` statement, so
//! a query costs a number of statements set by its depth, not its rows.

mod by_id;
mod children;
mod cohort;

pub use by_id::ById;
pub use children::{
    ChildPage, ChildrenKey, DeveloperTeamSpaces, TeamSpaceDevelopers, TeamSpaceProjects,
};
pub use cohort::{
    Activity, Children, DeveloperCohort, ProjectCohort, ProjectTeamSpaces, ScopedRows,
    TeamSpaceCohort,
};

use async_graphql::dataloader::DataLoader;
use entity::{developer, project, team_space};
use sea_orm::DatabaseConnection;

use crate::{
    auth::TenantCtx,
    ids::{DeveloperId, ProjectId, TeamSpaceId},
};

pub struct Loaders {
    scope: Scope,
    pub team_space: DataLoader<ById<TeamSpaceId, team_space::Model>>,
    pub developer: DataLoader<ById<DeveloperId, developer::Model>>,
    pub project: DataLoader<ById<ProjectId, project::Model>>,
    pub team_space_developers: DataLoader<TeamSpaceDevelopers>,
    pub team_space_projects: DataLoader<TeamSpaceProjects>,
    pub developer_team_spaces: DataLoader<DeveloperTeamSpaces>,
}

impl Loaders {
    pub fn new(ctx: &TenantCtx, db: &DatabaseConnection) -> Self {
        let scope = Scope {
            ctx: ctx.clone(),
            db: db.clone(),
        };
        fn dl<T>(loader: T) -> DataLoader<T> {
            DataLoader::new(loader, tokio::spawn)
        }
        // Nested lists are asked for by cohorts, each with all its keys in
        // one `load_many`: waiting for more keys (1 ms by default) would
        // only add that wait to every level of a query.
        fn now<T>(loader: T) -> DataLoader<T> {
            dl(loader).delay(std::time::Duration::ZERO)
        }
        Loaders {
            scope: scope.clone(),
            team_space: dl(ById::new(scope.clone())),
            developer: dl(ById::new(scope.clone())),
            project: dl(ById::new(scope.clone())),
            team_space_developers: now(TeamSpaceDevelopers(scope.clone())),
            team_space_projects: now(TeamSpaceProjects(scope.clone())),
            developer_team_spaces: now(DeveloperTeamSpaces(scope)),
        }
    }
}

/// What every loader needs: whose data, and where it is.
#[derive(Clone)]
pub struct Scope {
    ctx: TenantCtx,
    db: DatabaseConnection,
}
