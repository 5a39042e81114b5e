//! `audit_log`: append-only record of who changed what in an organization.
//!
//! `actor_id` and `target_id` have no foreign keys: the log must outlive what it talks about.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `developer`, `api_key` or `system`.
    #[sea_orm(column_type = "Text")]
    pub actor_type: String,
    pub actor_id: Option<Uuid>,
    /// Dotted verb such as `team_space.create`.
    #[sea_orm(column_type = "Text")]
    pub action: String,
    #[sea_orm(column_type = "Text")]
    pub target_type: String,
    pub target_id: Option<Uuid>,
    pub at: DateTimeUtc,
    #[sea_orm(column_type = "JsonBinary")]
    pub details: Json,
}

crate::belongs_to!(Organization => organization);

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::AuditLogEntryId);
