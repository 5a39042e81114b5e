//! The Relay `Node` interface: any object fetched back by its global id.
//! Ids of another tenant load like ids that do not exist: `null`.

use crate::graphql::types::CohortObject as _;
use std::collections::HashMap;

use async_graphql::{ID, Interface};
use uuid::Uuid;

use super::{
    request::RequestData,
    types::{Developer, Organization, Project, TeamSpace},
};
use crate::{
    error::AppResult,
    ids::{self, DeveloperId, NodeKind, ProjectId, TeamSpaceId},
};

#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Opaque global id; it carries the type."
))]
pub enum Node {
    Organization(Organization),
    Developer(Developer),
    TeamSpace(TeamSpace),
    Project(Project),
}

/// Loads many nodes with one batched statement per type, keeping the
/// order of `ids`. Any malformed id fails the whole field.
pub async fn load_nodes(rq: &RequestData, ids: &[ID]) -> AppResult<Vec<Option<Node>>> {
    let parsed = ids
        .iter()
        .map(|id| ids::decode(id))
        .collect::<AppResult<Vec<(NodeKind, Uuid)>>>()?;
    let of_kind = |kind: NodeKind| {
        parsed
            .iter()
            .filter(move |(k, _)| *k == kind)
            .map(|(_, uuid)| *uuid)
    };
    let developers = rq
        .loaders
        .developer
        .load_many(of_kind(NodeKind::Developer).map(DeveloperId::from_db))
        .await?;
    let spaces = rq
        .loaders
        .team_space
        .load_many(of_kind(NodeKind::TeamSpace).map(TeamSpaceId::from_db))
        .await?;
    let projects = rq
        .loaders
        .project
        .load_many(of_kind(NodeKind::Project).map(ProjectId::from_db))
        .await?;
    let org_id = rq.tenant().org_id().uuid();
    let org = if of_kind(NodeKind::Organization).any(|id| id == org_id) {
        Some(rq.organization().await?)
    } else {
        None
    };
    // Each kind's results form one cohort, so nested fields batch across them.
    let developers: HashMap<_, _> = Developer::cohort(developers.into_values().collect())
        .map(|d| (d.row.id, d))
        .collect();
    let spaces: HashMap<_, _> = TeamSpace::cohort(spaces.into_values().collect())
        .map(|s| (s.row.id, s))
        .collect();
    let projects: HashMap<_, _> = Project::cohort(projects.into_values().collect())
        .map(|p| (p.row.id, p))
        .collect();
    Ok(parsed
        .into_iter()
        .map(|(kind, uuid)| match kind {
            NodeKind::Organization => org
                .clone()
                .filter(|o| o.id == uuid)
                .map(|o| Node::Organization(Organization(o))),
            NodeKind::Developer => developers.get(&uuid).cloned().map(Node::Developer),
            NodeKind::TeamSpace => spaces.get(&uuid).cloned().map(Node::TeamSpace),
            NodeKind::Project => projects.get(&uuid).cloned().map(Node::Project),
            // Not nodes: keys and audit entries are read through their lists.
            NodeKind::ApiKey | NodeKind::AuditLogEntry => None,
            // Delivery rows are read through their parents' connections for now.
            NodeKind::Repository
            | NodeKind::PullRequest
            | NodeKind::Review
            | NodeKind::Deployment
            | NodeKind::Incident
            | NodeKind::Identity => None,
        })
        .collect())
}
