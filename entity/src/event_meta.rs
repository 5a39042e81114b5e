//! `event_meta`: one row per (project, event name) summarising what has been seen, so the API
//! can list event names and their property keys without scanning `events`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "event_meta")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub name: String,
    pub first_seen: DateTimeUtc,
    pub last_seen: DateTimeUtc,
    pub total_count: i64,
    /// A JSON array of the property keys seen on this event.
    #[sea_orm(column_type = "JsonBinary")]
    pub property_keys: Json,
}

crate::belongs_to!(Project => project(ProjectId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity);
