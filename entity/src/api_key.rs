//! `api_keys`: machine credentials of an organization, optionally bound to one project.
//!
//! Only a hex SHA-256 of the secret is stored; `prefix` is the public part used to find the key
//! (globally, through `api_key_prefixes`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub project_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub prefix: String,
    #[sea_orm(column_type = "Text")]
    pub secret_hash: String,
    /// A JSON array of scope strings.
    #[sea_orm(column_type = "JsonBinary")]
    pub scopes: Json,
    /// The developer who created the key; no foreign key, so the key outlives them.
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
    #[sea_orm(
        belongs_to = "super::project::Entity",
        from = "(Column::OrganizationId, Column::ProjectId)",
        to = "(super::project::Column::OrganizationId, super::project::Column::Id)",
        on_delete = "Cascade"
    )]
    Project,
    #[sea_orm(has_many = "super::api_key_prefix::Entity")]
    ApiKeyPrefix,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::project::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Project.def()
    }
}

impl Related<super::api_key_prefix::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKeyPrefix.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::ApiKeyId);
crate::stamped!(crate::ids::ApiKeyId);
