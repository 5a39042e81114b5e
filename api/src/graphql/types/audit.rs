//! `AuditLogEntry`: one successful mutation, who made it and what changed.

use crate::ids::GlobalId as _;
use async_graphql::{ID, InputObject, Json, Object};
use chrono::{DateTime, Utc};
use entity::audit_log;

use crate::{
    error::AppResult,
    ids::{self, AuditLogEntryId, NodeKind},
    service::audit::AuditFilter,
};

pub struct AuditLogEntry(pub audit_log::Model);

#[Object]
impl AuditLogEntry {
    async fn id(&self) -> ID {
        AuditLogEntryId::from_db(self.0.id).to_global()
    }
    /// `<target>.<verb>`, e.g. `team_space.create`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// `developer`, `api_key` or `system`.
    async fn actor_type(&self) -> &str {
        &self.0.actor_type
    }
    /// The global id of the developer or API key that acted.
    async fn actor_id(&self) -> Option<ID> {
        let kind = match self.0.actor_type.as_str() {
            "developer" => NodeKind::Developer,
            "api_key" => NodeKind::ApiKey,
            _ => return None,
        };
        self.0.actor_id.map(|id| ids::encode(kind, id))
    }
    /// The type of the changed object, e.g. `TeamSpace`.
    async fn target_type(&self) -> &str {
        &self.0.target_type
    }
    async fn target_id(&self) -> Option<ID> {
        let kind = ids::NodeKind::from_type_name(&self.0.target_type)?;
        self.0.target_id.map(|id| ids::encode(kind, id))
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// What changed: created values, or `{field: {from, to}}` for updates.
    async fn details(&self) -> Json<serde_json::Value> {
        Json(self.0.details.clone())
    }
}

#[derive(InputObject, Default)]
#[graphql(name = "AuditLogFilter")]
pub struct AuditLogFilterInput {
    /// Exact action, e.g. `developer.change_role`.
    pub action: Option<String>,
    /// Global id of a developer or API key.
    pub actor_id: Option<ID>,
    /// Global id of the changed object.
    pub target_id: Option<ID>,
}

impl AuditLogFilterInput {
    pub fn into_filter(self) -> AppResult<AuditFilter> {
        let uuid = |id: Option<ID>| {
            id.map(|id| ids::decode(&id).map(|(_, uuid)| uuid))
                .transpose()
        };
        Ok(AuditFilter {
            action: self.action,
            actor_id: uuid(self.actor_id)?,
            target_id: uuid(self.target_id)?,
        })
    }
}
