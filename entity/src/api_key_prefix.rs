//! `api_key_prefixes`: the one global lookup from an API key's public prefix to its tenant.
//!
//! An incoming key is not yet tied to an organization, so this table is keyed by `prefix` alone
//! (on Citus it is a reference table, see `migration::citus`). It has no `find_in`: reading it
//! by prefix is the whole point. Its rows hang off the organization, not the key: a project's
//! deletion removes its keys' rows itself (`service::api_key::project_deleting`).

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

crate::belongs_to!(ApiKey => api_key(ApiKeyId));

impl ActiveModelBehavior for ActiveModel {}
