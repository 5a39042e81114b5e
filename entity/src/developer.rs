//! `developers`: one person's membership of one organization.
//!
//! The same person (same `auth_subject`) has one row per organization they belong to, which is
//! why `auth_subject` is unique only per organization.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::enums::DeveloperRole;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "developers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub email: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub role: DeveloperRole,
    #[sea_orm(column_type = "Text")]
    pub auth_subject: String,
    pub deactivated_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

crate::belongs_to!(Organization => organization);

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity, crate::ids::DeveloperId);
crate::stamped!(crate::ids::DeveloperId);
