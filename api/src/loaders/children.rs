//! Nested lists: the developers and projects of team spaces, the team spaces
//! of developers. A key carries the parent plus the list arguments; keys
//! that share arguments are fetched together in one statement that cuts
//! every parent's page in SQL (window functions) and counts its total.

use std::{collections::HashMap, hash::Hash};

use async_graphql::dataloader::Loader;
use entity::{developer, project, team_space};
use uuid::Uuid;

use super::Scope;
use crate::{
    error::AppError,
    ids::{DeveloperId, TeamSpaceId},
    pagination::{ChildRow, Page, PageRequest},
    service::{
        self, developer::DeveloperFilter, project::ProjectFilter, team_space::TeamSpaceFilter,
    },
};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChildrenKey<P, F> {
    pub parent: P,
    pub filter: F,
    pub page: PageRequest,
}

#[derive(Debug, Clone)]
pub struct ChildPage<T> {
    pub page: Page<T>,
    pub total: u64,
}

/// Groups keys by their list arguments, runs `fetch` once per group with all
/// the group's parents (it returns each parent's page, cut in SQL), and
/// hands each key its page and total.
async fn load_children<P, F, T, Fut>(
    keys: &[ChildrenKey<P, F>],
    fetch: impl Fn(Vec<P>, F, PageRequest) -> Fut,
) -> Result<HashMap<ChildrenKey<P, F>, ChildPage<T>>, AppError>
where
    P: Copy + Eq + Hash + Into<Uuid>,
    F: Clone + Eq + Hash,
    Fut: Future<Output = Result<Vec<ChildRow<T>>, AppError>>,
{
    let mut groups: HashMap<(&F, &PageRequest), Vec<P>> = HashMap::new();
    for key in keys {
        groups
            .entry((&key.filter, &key.page))
            .or_default()
            .push(key.parent);
    }
    let mut out = HashMap::with_capacity(keys.len());
    for ((filter, page), parents) in groups {
        let mut by_parent: HashMap<Uuid, Vec<ChildRow<T>>> = HashMap::new();
        for row in fetch(parents.clone(), filter.clone(), page.clone()).await? {
            by_parent.entry(row.parent).or_default().push(row);
        }
        for parent in parents {
            let rows = by_parent.remove(&parent.into()).unwrap_or_default();
            let total = rows.first().map_or(0, |r| r.total);
            let key = ChildrenKey {
                parent,
                filter: filter.clone(),
                page: page.clone(),
            };
            out.insert(
                key,
                ChildPage {
                    page: page.finish_window(rows),
                    total,
                },
            );
        }
    }
    Ok(out)
}

pub struct TeamSpaceDevelopers(pub(super) Scope);

impl Loader<ChildrenKey<TeamSpaceId, DeveloperFilter>> for TeamSpaceDevelopers {
    type Value = ChildPage<developer::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ChildrenKey<TeamSpaceId, DeveloperFilter>],
    ) -> Result<HashMap<ChildrenKey<TeamSpaceId, DeveloperFilter>, Self::Value>, AppError> {
        let Scope { ctx, db } = &self.0;
        load_children(keys, |parents, filter, page| async move {
            service::developer::of_team_spaces(ctx, db, &parents, &filter, &page).await
        })
        .await
    }
}

pub struct TeamSpaceProjects(pub(super) Scope);

impl Loader<ChildrenKey<TeamSpaceId, ProjectFilter>> for TeamSpaceProjects {
    type Value = ChildPage<project::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ChildrenKey<TeamSpaceId, ProjectFilter>],
    ) -> Result<HashMap<ChildrenKey<TeamSpaceId, ProjectFilter>, Self::Value>, AppError> {
        let Scope { ctx, db } = &self.0;
        load_children(keys, |parents, filter, page| async move {
            service::project::of_team_spaces(ctx, db, &parents, &filter, &page).await
        })
        .await
    }
}

pub struct DeveloperTeamSpaces(pub(super) Scope);

impl Loader<ChildrenKey<DeveloperId, TeamSpaceFilter>> for DeveloperTeamSpaces {
    type Value = ChildPage<team_space::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ChildrenKey<DeveloperId, TeamSpaceFilter>],
    ) -> Result<HashMap<ChildrenKey<DeveloperId, TeamSpaceFilter>, Self::Value>, AppError> {
        let Scope { ctx, db } = &self.0;
        load_children(keys, |parents, filter, page| async move {
            service::team_space::of_developers(ctx, db, &parents, &filter, &page).await
        })
        .await
    }
}
