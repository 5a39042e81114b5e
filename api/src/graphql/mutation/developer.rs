//! `createDeveloper`, `updateDeveloper`, `changeDeveloperRole`,
//! `deactivateDeveloper`, `reactivateDeveloper`.

use crate::ids::GlobalId as _;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::{
    error::AppResult,
    graphql::{
        request::{or_null, request},
        types::{Developer, DeveloperRole},
    },
    ids::DeveloperId,
    service::developer::{self, DeveloperPatch, NewDeveloper},
};

#[derive(InputObject)]
pub struct CreateDeveloperInput {
    pub email: String,
    pub name: String,
    #[graphql(default_with = "DeveloperRole::Member")]
    pub role: DeveloperRole,
    /// The `sub` your identity provider puts in this person's tokens;
    /// defaults to the email address.
    pub auth_subject: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateDeveloperInput {
    pub id: ID,
    /// Members may change their own name.
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(InputObject)]
pub struct ChangeDeveloperRoleInput {
    pub id: ID,
    pub role: DeveloperRole,
}

#[derive(InputObject)]
pub struct DeactivateDeveloperInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct ReactivateDeveloperInput {
    pub id: ID,
}

macro_rules! payload_type {
    ($name:ident) => {
        #[derive(SimpleObject)]
        pub struct $name {
            pub developer: Developer,
        }

        impl From<entity::developer::Model> for $name {
            fn from(row: entity::developer::Model) -> Self {
                $name {
                    developer: Developer::one(row),
                }
            }
        }
    };
}

payload_type!(CreateDeveloperPayload);
payload_type!(UpdateDeveloperPayload);
payload_type!(ChangeDeveloperRolePayload);
payload_type!(DeactivateDeveloperPayload);
payload_type!(ReactivateDeveloperPayload);

fn id(input: &ID) -> AppResult<DeveloperId> {
    DeveloperId::from_global(input)
}

#[derive(Default)]
pub struct DeveloperMutations;

#[Object]
impl DeveloperMutations {
    /// Invites a developer into the organization (admins and owners; only
    /// owners invite owners).
    async fn create_developer(
        &self,
        ctx: &Context<'_>,
        input: CreateDeveloperInput,
    ) -> Option<CreateDeveloperPayload> {
        let result = async {
            let rq = request(ctx)?;
            let new = NewDeveloper {
                email: input.email,
                name: input.name,
                role: input.role.into(),
                auth_subject: input.auth_subject,
            };
            Ok(Some(
                developer::create(rq.tenant(), &rq.db, new).await?.into(),
            ))
        };
        or_null(ctx, result.await)
    }

    /// Changes a developer's name (themself, admins, owners) or email
    /// (admins and owners).
    async fn update_developer(
        &self,
        ctx: &Context<'_>,
        input: UpdateDeveloperInput,
    ) -> Option<UpdateDeveloperPayload> {
        let result = async {
            let rq = request(ctx)?;
            let patch = DeveloperPatch {
                name: input.name,
                email: input.email,
            };
            let row = developer::update(rq.tenant(), &rq.db, id(&input.id)?, patch).await?;
            Ok(Some(row.into()))
        };
        or_null(ctx, result.await)
    }

    /// Changes a developer's role. The last active owner keeps theirs.
    async fn change_developer_role(
        &self,
        ctx: &Context<'_>,
        input: ChangeDeveloperRoleInput,
    ) -> Option<ChangeDeveloperRolePayload> {
        let result = async {
            let rq = request(ctx)?;
            let row =
                developer::change_role(rq.tenant(), &rq.db, id(&input.id)?, input.role.into())
                    .await?;
            Ok(Some(row.into()))
        };
        or_null(ctx, result.await)
    }

    /// Deactivates a developer: their tokens stop working at once.
    async fn deactivate_developer(
        &self,
        ctx: &Context<'_>,
        input: DeactivateDeveloperInput,
    ) -> Option<DeactivateDeveloperPayload> {
        let result = async {
            let rq = request(ctx)?;
            let row = developer::set_active(rq.tenant(), &rq.db, id(&input.id)?, false).await?;
            Ok(Some(row.into()))
        };
        or_null(ctx, result.await)
    }

    async fn reactivate_developer(
        &self,
        ctx: &Context<'_>,
        input: ReactivateDeveloperInput,
    ) -> Option<ReactivateDeveloperPayload> {
        let result = async {
            let rq = request(ctx)?;
            let row = developer::set_active(rq.tenant(), &rq.db, id(&input.id)?, true).await?;
            Ok(Some(row.into()))
        };
        or_null(ctx, result.await)
    }
}
