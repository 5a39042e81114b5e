//! Loads entities by id in batches (for `node`, `nodes` and `Project.teamSpace`).

use std::{collections::HashMap, hash::Hash, marker::PhantomData};

use async_graphql::dataloader::Loader;
use entity::{developer, project, team_space};

use super::Scope;
use crate::{
    error::AppError,
    ids::{DeveloperId, ProjectId, TeamSpaceId},
    service,
};

pub struct ById<K, V> {
    scope: Scope,
    _types: PhantomData<fn(K) -> V>,
}

impl<K, V> ById<K, V> {
    pub(super) fn new(scope: Scope) -> Self {
        ById {
            scope,
            _types: PhantomData,
        }
    }
}

macro_rules! by_id_loader {
    ($id:ty, $model:ty, $service:path, $wrap:expr) => {
        impl Loader<$id> for ById<$id, $model> {
            type Value = $model;
            type Error = AppError;

            async fn load(&self, keys: &[$id]) -> Result<HashMap<$id, $model>, AppError> {
                use $service as svc;
                let rows = svc::by_ids(&self.scope.ctx, &self.scope.db, keys).await?;
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
    service::team_space,
    |m: &team_space::Model| TeamSpaceId::from_db(m.id)
);
by_id_loader!(
    DeveloperId,
    developer::Model,
    service::developer,
    |m: &developer::Model| DeveloperId::from_db(m.id)
);
by_id_loader!(
    ProjectId,
    project::Model,
    service::project,
    |m: &project::Model| ProjectId::from_db(m.id)
);
