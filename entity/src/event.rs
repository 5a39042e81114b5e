//! `events`: raw analytics events, append-only.
//!
//! `developer_id` deliberately has no foreign key: events are history and must survive the
//! developer's removal. `client_event_id` makes ingestion idempotent per project and source.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub project_id: Uuid,
    pub developer_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub properties: Json,
    pub occurred_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub client_event_id: String,
    /// Who sent it: the API key, the developer who used `recordEvents`, or
    /// the nil id for the system; NULL for events stored before sources
    /// were kept. Client ids are unique per source.
    pub source_id: Option<Uuid>,
    /// Whom the event named when no developer matched: linking this identity to a developer
    /// later re-attributes the event (and its counts).
    pub identity_id: Option<Uuid>,
}

crate::belongs_to!(Project => project(ProjectId));

impl ActiveModelBehavior for ActiveModel {}

crate::scoped!(Entity);
