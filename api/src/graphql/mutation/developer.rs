//! `createDeveloper`, `updateDeveloper`, `changeDeveloperRole`,
//! `deactivateDeveloper`, `reactivateDeveloper`.

use crate::graphql::types::CohortObject as _;
use crate::ids::GlobalId as _;
use async_graphql::{ID, InputObject, SimpleObject};

use super::Mutation;
use crate::{
    error::AppResult,
    graphql::{
        request::RequestData,
        types::{Developer, DeveloperRole},
    },
    ids::DeveloperId,
    service::developer::{self, DeveloperPatch, NewDeveloper, Standing},
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

mutations!(DeveloperMutations {
    /// Invites a developer into the organization (admins and owners; only
    /// owners invite owners).
    create_developer(CreateDeveloperInput);
    /// Changes a developer's name (themself, admins, owners) or email
    /// (admins and owners).
    update_developer(UpdateDeveloperInput);
    /// Changes a developer's role. The last active owner keeps theirs.
    change_developer_role(ChangeDeveloperRoleInput);
    /// Deactivates a developer: their tokens stop working at once.
    deactivate_developer(DeactivateDeveloperInput);
    reactivate_developer(ReactivateDeveloperInput);
});

impl Mutation for CreateDeveloperInput {
    type Payload = CreateDeveloperPayload;

    async fn run(self, rq: &RequestData) -> AppResult<CreateDeveloperPayload> {
        let new = NewDeveloper {
            email: self.email,
            name: self.name,
            role: self.role.into(),
            auth_subject: self.auth_subject,
        };
        Ok(developer::create(rq.tenant(), &rq.db, &rq.live, new)
            .await?
            .into())
    }
}

impl Mutation for UpdateDeveloperInput {
    type Payload = UpdateDeveloperPayload;

    async fn run(self, rq: &RequestData) -> AppResult<UpdateDeveloperPayload> {
        let patch = DeveloperPatch {
            name: self.name,
            email: self.email,
        };
        let row = developer::update(rq.tenant(), &rq.db, &rq.live, id(&self.id)?, patch).await?;
        Ok(row.into())
    }
}

impl Mutation for ChangeDeveloperRoleInput {
    type Payload = ChangeDeveloperRolePayload;

    async fn run(self, rq: &RequestData) -> AppResult<ChangeDeveloperRolePayload> {
        let row = developer::change_standing(
            rq.tenant(),
            &rq.db,
            id(&self.id)?,
            Standing::Role(self.role.into()),
        )
        .await?;
        Ok(row.into())
    }
}

impl Mutation for DeactivateDeveloperInput {
    type Payload = DeactivateDeveloperPayload;

    async fn run(self, rq: &RequestData) -> AppResult<DeactivateDeveloperPayload> {
        let row =
            developer::change_standing(rq.tenant(), &rq.db, id(&self.id)?, Standing::Active(false))
                .await?;
        Ok(row.into())
    }
}

impl Mutation for ReactivateDeveloperInput {
    type Payload = ReactivateDeveloperPayload;

    async fn run(self, rq: &RequestData) -> AppResult<ReactivateDeveloperPayload> {
        let row =
            developer::change_standing(rq.tenant(), &rq.db, id(&self.id)?, Standing::Active(true))
                .await?;
        Ok(row.into())
    }
}
