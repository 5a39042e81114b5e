//! Loads entities by id in batches (for `node`, `nodes`, and references
//! such as `Project.teamSpace` or `PullRequest.author`).

use std::{collections::HashMap, hash::Hash, marker::PhantomData};

use async_graphql::dataloader::Loader;
use entity::{
    deployment, developer, identity, incident, project, pull_request, repository, team_space,
};

use sea_orm::DatabaseConnection;

use crate::{
    auth::TenantCtx,
    error::AppError,
    ids::{
        DeploymentId, DeveloperId, IdentityId, IncidentId, ProjectId, PullRequestId, RepositoryId,
        TeamSpaceId,
    },
    service::table,
};

pub struct ById<K, V> {
    ctx: TenantCtx,
    db: DatabaseConnection,
    _types: PhantomData<fn(K) -> V>,
}

impl<K, V> ById<K, V> {
    pub(super) fn new(ctx: &TenantCtx, db: &DatabaseConnection) -> Self {
        ById {
            ctx: ctx.clone(),
            db: db.clone(),
            _types: PhantomData,
        }
    }
}

macro_rules! by_id_loader {
    ($id:ty, $model:ty, $entity:ty, $wrap:expr) => {
        impl Loader<$id> for ById<$id, $model> {
            type Value = $model;
            type Error = AppError;

            async fn load(&self, keys: &[$id]) -> Result<HashMap<$id, $model>, AppError> {
                let rows = table::by_ids::<$entity>(&self.ctx, &self.db, keys).await?;
                Ok(index(rows, $wrap))
            }
        }
    };
}

fn index<K: Hash + Eq, V>(rows: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, V> {
    rows.into_iter().map(|row| (key(&row), row)).collect()
}

by_id_loader!(
    TeamSpaceId,
    team_space::Model,
    team_space::Entity,
    |m: &team_space::Model| TeamSpaceId::from_db(m.id)
);
by_id_loader!(
    DeveloperId,
    developer::Model,
    developer::Entity,
    |m: &developer::Model| DeveloperId::from_db(m.id)
);
by_id_loader!(
    ProjectId,
    project::Model,
    project::Entity,
    |m: &project::Model| ProjectId::from_db(m.id)
);
by_id_loader!(
    RepositoryId,
    repository::Model,
    repository::Entity,
    |m: &repository::Model| RepositoryId::from_db(m.id)
);
by_id_loader!(
    PullRequestId,
    pull_request::Model,
    pull_request::Entity,
    |m: &pull_request::Model| PullRequestId::from_db(m.id)
);
by_id_loader!(
    IdentityId,
    identity::Model,
    identity::Entity,
    |m: &identity::Model| IdentityId::from_db(m.id)
);
by_id_loader!(
    DeploymentId,
    deployment::Model,
    deployment::Entity,
    |m: &deployment::Model| DeploymentId::from_db(m.id)
);
by_id_loader!(
    IncidentId,
    incident::Model,
    incident::Entity,
    |m: &incident::Model| IncidentId::from_db(m.id)
);
