//! `ApiKey`: a machine credential. The secret is never readable: only the
//! payload of `createApiKey` carries it.

use super::CohortObject as _;
use crate::ids::GlobalId as _;
use async_graphql::{Context, Enum, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::api_key;

use super::Project;
use crate::{
    auth::key_format::{KeyScope, scopes_of},
    graphql::request::request,
    ids::{ApiKeyId, ProjectId},
};

/// What a key may do: `READ` runs queries as a viewer of its organization;
/// `EVENTS_WRITE` sends events.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "KeyScope")]
pub enum ApiKeyScope {
    Read,
    EventsWrite,
    /// Send delivery data (pull requests, reviews, deployments, incidents) to POST /v1/delivery.
    DeliveryWrite,
}

pub struct ApiKey(pub api_key::Model);

#[Object]
impl ApiKey {
    async fn id(&self) -> ID {
        ApiKeyId::from_db(self.0.id).to_global()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The public part of the key (`dg_<prefix>_...`), to recognise it.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    async fn scopes(&self) -> Vec<ApiKeyScope> {
        scopes_of(&self.0).into_iter().map(Into::into).collect()
    }
    /// The project the key is bound to, if any.
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        let Some(id) = self.0.project_id else {
            return Ok(None);
        };
        let rq = request(ctx)?;
        let found = rq.loaders.project.load_one(ProjectId::from_db(id)).await?;
        Ok(found.map(Project::one))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Refreshed at most once a minute.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}
