//! The Relay `Node` interface: any object fetched back by its global id.
//! Ids of another tenant load like ids that do not exist: `null`.

use std::{collections::HashMap, hash::Hash};

use async_graphql::{
    ID, Interface,
    dataloader::{DataLoader, Loader},
};
use uuid::Uuid;

use super::{
    request::RequestData,
    types::{
        CohortObject, Deployment, Developer, Identity, Incident, Organization, Project,
        PullRequest, Repository, Row, TeamSpace,
    },
};
use crate::{
    error::{AppError, AppResult},
    ids::{self, GlobalId, NodeKind},
    loaders::ById,
    pagination::Keyed,
    service::table::Listed,
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
    Repository(Repository),
    PullRequest(PullRequest),
    Deployment(Deployment),
    Incident(Incident),
    Identity(Identity),
}

type IdOf<N> = <<N as CohortObject>::Table as entity::scoped::ByIdInOrg>::Id;

/// The objects of one type among `parsed`, loaded with one batched
/// statement; they form one cohort, so their nested fields batch too.
async fn of_kind<N>(
    loader: &DataLoader<ById<IdOf<N>, Row<N>>>,
    parsed: &[(NodeKind, Uuid)],
) -> AppResult<HashMap<Uuid, N>>
where
    N: CohortObject<Table: Listed<Id: GlobalId + Hash + Eq + Send + Sync + 'static>> + Clone,
    ById<IdOf<N>, Row<N>>: Loader<IdOf<N>, Value = Row<N>, Error = AppError>,
{
    let ids = parsed
        .iter()
        .filter(|(kind, _)| *kind == <IdOf<N> as GlobalId>::KIND)
        .map(|(_, uuid)| <IdOf<N> as GlobalId>::with_uuid(*uuid));
    let rows = loader.load_many(ids).await?;
    let found = N::cohort(rows.into_values().collect());
    Ok(found.map(|n| (n.row().key_id(), n)).collect())
}

/// Loads many nodes with one batched statement per type, keeping the
/// order of `ids`. Any malformed id fails the whole field.
pub async fn load_nodes(rq: &RequestData, ids: &[ID]) -> AppResult<Vec<Option<Node>>> {
    let parsed = ids
        .iter()
        .map(|id| ids::decode(id))
        .collect::<AppResult<Vec<(NodeKind, Uuid)>>>()?;
    let l = &rq.loaders;
    let developers = of_kind::<Developer>(&l.developer, &parsed).await?;
    let spaces = of_kind::<TeamSpace>(&l.team_space, &parsed).await?;
    let projects = of_kind::<Project>(&l.project, &parsed).await?;
    let repositories = of_kind::<Repository>(&l.repository, &parsed).await?;
    let pull_requests = of_kind::<PullRequest>(&l.pull_request, &parsed).await?;
    let deployments = of_kind::<Deployment>(&l.deployment, &parsed).await?;
    let incidents = of_kind::<Incident>(&l.incident, &parsed).await?;
    let identities = of_kind::<Identity>(&l.identity, &parsed).await?;
    let org_id = rq.tenant().org_id().uuid();
    let asks_org = parsed
        .iter()
        .any(|(kind, id)| *kind == NodeKind::Organization && *id == org_id);
    let org = if asks_org {
        Some(rq.organization().await?)
    } else {
        None
    };
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
            NodeKind::Repository => repositories.get(&uuid).cloned().map(Node::Repository),
            NodeKind::PullRequest => pull_requests.get(&uuid).cloned().map(Node::PullRequest),
            NodeKind::Deployment => deployments.get(&uuid).cloned().map(Node::Deployment),
            NodeKind::Incident => incidents.get(&uuid).cloned().map(Node::Incident),
            NodeKind::Identity => identities.get(&uuid).cloned().map(Node::Identity),
            // Not nodes: keys and audit entries are read through their
            // lists, reviews through their pull requests and reviewers.
            NodeKind::ApiKey | NodeKind::AuditLogEntry | NodeKind::Review => None,
        })
        .collect())
}
