//! `createApiKey`, `revokeApiKey`.

use crate::ids::GlobalId as _;
use async_graphql::{ID, InputObject, SimpleObject};

use super::Mutation;
use crate::{
    error::AppResult,
    graphql::{
        request::RequestData,
        types::{ApiKey, ApiKeyScope},
    },
    ids::{ApiKeyId, ProjectId},
    service::api_key::{self, NewApiKey},
};

#[derive(InputObject)]
pub struct CreateApiKeyInput {
    pub name: String,
    pub scopes: Vec<ApiKeyScope>,
    /// Binds the key to one project (required to send events).
    pub project_id: Option<ID>,
}

#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    pub api_key: ApiKey,
    /// The whole key, `dg_<prefix>_<secret>`: shown here once, never again.
    pub secret: String,
}

#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    pub api_key: ApiKey,
}

mutations!(ApiKeyMutations {
    /// Creates an API key (admins and owners). Keep the returned secret:
    /// only its hash is stored.
    create_api_key(CreateApiKeyInput);
    /// Revokes a key; its next request is refused.
    revoke_api_key(RevokeApiKeyInput);
});

impl Mutation for CreateApiKeyInput {
    type Payload = CreateApiKeyPayload;

    async fn run(self, rq: &RequestData) -> AppResult<CreateApiKeyPayload> {
        let new = NewApiKey {
            name: self.name,
            scopes: self.scopes.into_iter().map(Into::into).collect(),
            project: self
                .project_id
                .map(|id| ProjectId::from_global(&id))
                .transpose()?,
        };
        let created = api_key::create(rq.tenant(), &rq.db, new).await?;
        Ok(CreateApiKeyPayload {
            api_key: ApiKey(created.row),
            secret: created.key,
        })
    }
}

impl Mutation for RevokeApiKeyInput {
    type Payload = RevokeApiKeyPayload;

    async fn run(self, rq: &RequestData) -> AppResult<RevokeApiKeyPayload> {
        let id = ApiKeyId::from_global(&self.id)?;
        let row = api_key::revoke(rq.tenant(), &rq.db, id).await?;
        Ok(RevokeApiKeyPayload {
            api_key: ApiKey(row),
        })
    }
}
