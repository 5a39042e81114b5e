//! Per-request batching, built for every request and never shared (a
//! loader cached across requests would hand one caller's rows to another):
//! cohorts (`cohort.rs`) load nested lists and metrics for all the objects
//! of a level with one service call each; DataLoaders (`by_id.rs`) batch
//! lookups by id (`node`, `nodes`, `ApiKey.project`, `Project.teamSpace`).
//! Every batch is one `organization_id = $1 AND id = ANY($2)` statement, so
//! a query costs a number of statements set by its depth, not its rows.

mod by_id;
mod cohort;

pub use by_id::ById;
pub use cohort::{
    Activity, ChildPage, Children, DeveloperCohort, ProjectCohort, ProjectTeamSpaces, ScopedRows,
    TeamSpaceCohort,
};

use async_graphql::dataloader::DataLoader;
use entity::{developer, project, team_space};
use sea_orm::DatabaseConnection;

use crate::{
    auth::TenantCtx,
    ids::{DeveloperId, ProjectId, TeamSpaceId},
};

/// The request's batching: whose data and where it is, for the cohorts,
/// and the by-id DataLoaders.
pub struct Loaders {
    ctx: TenantCtx,
    db: DatabaseConnection,
    pub team_space: DataLoader<ById<TeamSpaceId, team_space::Model>>,
    pub developer: DataLoader<ById<DeveloperId, developer::Model>>,
    pub project: DataLoader<ById<ProjectId, project::Model>>,
}

impl Loaders {
    pub fn new(ctx: &TenantCtx, db: &DatabaseConnection) -> Self {
        fn dl<T>(loader: T) -> DataLoader<T> {
            DataLoader::new(loader, tokio::spawn)
        }
        Loaders {
            ctx: ctx.clone(),
            db: db.clone(),
            team_space: dl(ById::new(ctx, db)),
            developer: dl(ById::new(ctx, db)),
            project: dl(ById::new(ctx, db)),
        }
    }
}
