//! `repositories`: a project's source repository, and the secret its webhooks are signed with
//! (encrypted at rest; the API decrypts it with the server's key).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::Provider;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "repositories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub project_id: Uuid,
    pub provider: Provider,
    #[sea_orm(column_type = "Text")]
    pub external_id: String,
    #[sea_orm(column_type = "Text")]
    pub full_name: String,
    #[sea_orm(column_type = "Text")]
    pub default_branch: String,
    /// Sealed: `v1.<nonce>.<ciphertext>`, never the secret itself.
    #[sea_orm(column_type = "Text")]
    #[serde(skip_serializing)]
    pub webhook_secret: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

crate::belongs_to!(Project => project(ProjectId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::RepositoryId);
crate::stamped!(crate::ids::RepositoryId);
