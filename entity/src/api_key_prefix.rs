//! `api_key_prefixes`: the one global lookup from an API key's public prefix to its tenant.
//!
//! An incoming key is not yet tied to an organization, so this table is keyed by `prefix` alone
//! (on Citus it would be a reference table). It has no `find_in`: reading it by prefix is the
//! whole point.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "api_key_prefixes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub prefix: String,
    pub organization_id: Uuid,
    pub api_key_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::api_key::Entity",
        from = "(Column::OrganizationId, Column::ApiKeyId)",
        to = "(super::api_key::Column::OrganizationId, super::api_key::Column::Id)",
        on_delete = "Cascade"
    )]
    ApiKey,
}

impl Related<super::api_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKey.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
