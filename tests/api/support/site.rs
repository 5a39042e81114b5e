//! `Site`: the fixture of the events tests (and of the faults and some
//! metrics tests): one organization ready to ingest.

use devgraph::ids::{OrgId, ProjectId};
use entity::enums::DeveloperRole;

use crate::support::{Dev, Key, TestApp, create_key};

/// An organization (UTC) with an owner, a project and an EVENTS_WRITE key
/// bound to it.
pub struct Site {
    pub org: OrgId,
    pub owner: Dev,
    pub token: String,
    pub project: ProjectId,
    pub key: Key,
}

impl Site {
    pub async fn new(app: &TestApp, slug: &str) -> Site {
        let (org, owner, token) = app.with_org_and_developer(slug, DeveloperRole::Owner).await;
        let project = app.project(org, None, &format!("{slug} app")).await;
        let key = create_key(app, &token, "EVENTS_WRITE", Some(project)).await;
        Site {
            org,
            owner,
            token,
            project,
            key,
        }
    }
}
