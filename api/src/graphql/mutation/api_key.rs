//! `createApiKey`, `revokeApiKey`.

use crate::ids::GlobalId as _;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::{
    graphql::{
        request::{or_null, request},
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

#[derive(Default)]
pub struct ApiKeyMutations;

#[Object]
impl ApiKeyMutations {
    /// Creates an API key (admins and owners). Keep the returned secret:
    /// only its hash is stored.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> Option<CreateApiKeyPayload> {
        let result = async {
            let rq = request(ctx)?;
            let new = NewApiKey {
                name: input.name,
                scopes: input.scopes.into_iter().map(Into::into).collect(),
                project: input
                    .project_id
                    .map(|id| ProjectId::from_global(&id))
                    .transpose()?,
            };
            let created = api_key::create(rq.tenant(), &rq.db, new).await?;
            Ok(Some(CreateApiKeyPayload {
                api_key: ApiKey(created.row),
                secret: created.key,
            }))
        };
        or_null(ctx, result.await)
    }

    /// Revokes a key; its next request is refused.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiKeyInput,
    ) -> Option<RevokeApiKeyPayload> {
        let result = async {
            let rq = request(ctx)?;
            let id = ApiKeyId::from_global(&input.id)?;
            let row = api_key::revoke(rq.tenant(), &rq.db, id).await?;
            Ok(Some(RevokeApiKeyPayload {
                api_key: ApiKey(row),
            }))
        };
        or_null(ctx, result.await)
    }
}
