//! `organizations`: the tenants themselves.
//!
//! Not tenant-scoped (it is the tenant), so it has no `find_in`; its `slug` is globally unique.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub slug: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    /// IANA zone name; the database defaults it to `UTC`.
    #[sea_orm(column_type = "Text")]
    pub time_zone: String,
    /// The database defaults it to 90.
    pub event_retention_days: i32,
    /// Operator overrides of the tenant budgets; `None` keeps the default.
    pub budget_in_flight: Option<i32>,
    pub budget_requests_per_minute: Option<i32>,
    pub budget_points_per_minute: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

crate::belongs_to!();

impl ActiveModelBehavior for ActiveModel {}
