//! `Project`: something that sends events; belongs to at most one team space.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::project;

use super::TeamSpace;
use crate::{
    graphql::request::{or_null, request},
    ids::{ProjectId, TeamSpaceId},
    loaders::ProjectCohort,
};

#[derive(Clone)]
pub struct Project(pub project::Model, pub Arc<ProjectCohort>);

impl Project {
    /// Wraps rows loaded together, so their team spaces load together.
    /// Wraps a row loaded alone.
    pub fn one(row: project::Model) -> Project {
        let cohort = ProjectCohort::of([&row]);
        Project(row, cohort)
    }

    pub fn cohort(rows: Vec<project::Model>) -> impl Iterator<Item = Project> {
        let cohort = ProjectCohort::of(&rows);
        rows.into_iter()
            .map(move |row| Project(row, cohort.clone()))
    }
}

#[Object]
impl Project {
    pub async fn id(&self) -> ID {
        ProjectId::from_db(self.0.id).to_global()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The team space that owns the project, if any.
    async fn team_space(&self, ctx: &Context<'_>) -> Option<TeamSpace> {
        let space = self.0.team_space_id?;
        let found = async {
            let rq = request(ctx)?;
            let spaces = self.1.team_spaces(&rq.loaders).await?;
            let cohort = spaces.cohort.clone();
            Ok(spaces
                .get(&TeamSpaceId::from_db(space))
                .map(|s| TeamSpace(s, cohort)))
        };
        or_null(ctx, found.await)
    }
}
