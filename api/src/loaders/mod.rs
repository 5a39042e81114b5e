//! Per-request batching, built for every request and never shared (a
//! loader cached across requests would hand one caller's rows to another):
//! cohorts (`cohort.rs`) load nested lists and metrics for all the objects
//! of a level with one service call each; DataLoaders (`by_id.rs`) batch
//! lookups by id (`node`, `nodes`, `Project.teamSpace`, `PullRequest.author`
//! ...).
//! Every batch is one `organization_id = $1 AND id = ANY($2)` statement, so
//! a query costs a number of statements set by its depth, not its rows.

mod by_id;
mod cohort;

pub use by_id::ById;
pub use cohort::{
    Activity, Causes, ChildPage, Children, DeploymentCohort, DeveloperCohort, IdentityCohort,
    IncidentCohort, ProjectCohort, PullRequestCohort, Refs, RepositoryCohort, ReviewCohort,
    ScopedRows, Shipped, TeamSpaceCohort,
};

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use async_graphql::dataloader::DataLoader;
use entity::{
    deployment, developer, identity, incident, project, pull_request, repository, team_space,
};
use prometheus_client::metrics::gauge::Gauge;
use sea_orm::DatabaseConnection;
use tokio::task::AbortHandle;

use crate::{
    auth::TenantCtx,
    ids::{
        DeploymentId, DeveloperId, IdentityId, IncidentId, ProjectId, PullRequestId, RepositoryId,
        TeamSpaceId,
    },
};

/// The request's batching: whose data and where it is, for the cohorts,
/// and the by-id DataLoaders.
pub struct Loaders {
    ctx: TenantCtx,
    db: DatabaseConnection,
    /// The DataLoaders' batch tasks, stopped when the request ends.
    spawned: Spawned,
    pub team_space: DataLoader<ById<TeamSpaceId, team_space::Model>>,
    pub developer: DataLoader<ById<DeveloperId, developer::Model>>,
    pub project: DataLoader<ById<ProjectId, project::Model>>,
    pub repository: DataLoader<ById<RepositoryId, repository::Model>>,
    pub pull_request: DataLoader<ById<PullRequestId, pull_request::Model>>,
    pub identity: DataLoader<ById<IdentityId, identity::Model>>,
    pub deployment: DataLoader<ById<DeploymentId, deployment::Model>>,
    pub incident: DataLoader<ById<IncidentId, incident::Model>>,
}

impl Loaders {
    /// `tasks` counts the batch tasks running.
    pub fn new(ctx: &TenantCtx, db: &DatabaseConnection, tasks: Gauge) -> Self {
        fn dl<T>(loader: T, spawned: &Spawned) -> DataLoader<T> {
            let spawned = spawned.clone();
            DataLoader::new(loader, move |batch| spawned.spawn(batch))
        }
        let spawned = Spawned {
            handles: Default::default(),
            running: tasks,
        };
        Loaders {
            ctx: ctx.clone(),
            db: db.clone(),
            spawned: spawned.clone(),
            team_space: dl(ById::new(ctx, db), &spawned),
            developer: dl(ById::new(ctx, db), &spawned),
            project: dl(ById::new(ctx, db), &spawned),
            repository: dl(ById::new(ctx, db), &spawned),
            pull_request: dl(ById::new(ctx, db), &spawned),
            identity: dl(ById::new(ctx, db), &spawned),
            deployment: dl(ById::new(ctx, db), &spawned),
            incident: dl(ById::new(ctx, db), &spawned),
        }
    }
}

impl Drop for Loaders {
    /// The request ended (answered, timed out, or its client went away):
    /// batches still loading for it stop, instead of holding connections
    /// for an answer nobody will read.
    fn drop(&mut self) {
        self.spawned.abort_all();
    }
}

/// Tasks spawned for one request.
#[derive(Clone, Default)]
struct Spawned {
    handles: Arc<Mutex<Vec<AbortHandle>>>,
    /// The process's count of running request tasks.
    running: Gauge,
}

/// Counts one running task until it ends, finished or aborted.
struct Running(Gauge);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Spawned {
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.running.inc();
        let running = Running(self.running.clone());
        let handle = tokio::spawn(async move {
            let _running = running;
            task.await
        })
        .abort_handle();
        if let Ok(mut handles) = self.handles.lock() {
            handles.retain(|h| !h.is_finished());
            handles.push(handle);
        }
    }

    fn abort_all(&self) {
        if let Ok(handles) = self.handles.lock() {
            for handle in handles.iter() {
                handle.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn tasks_spawned_for_a_request_stop_when_it_ends() {
        let spawned = Spawned::default();
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        spawned.spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            flag.store(true, Ordering::SeqCst);
        });
        assert_eq!(spawned.running.get(), 1);
        spawned.abort_all();
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert!(!finished.load(Ordering::SeqCst));
        assert_eq!(
            spawned.running.get(),
            0,
            "an aborted task is no longer counted"
        );
    }
}
