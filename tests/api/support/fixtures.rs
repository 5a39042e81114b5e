//! The fixture vocabulary: organizations, developers, team spaces,
//! memberships, projects and events, each written by the `devgraph::service`
//! function a request would call, acting as the organization's system
//! actor. So the invariants the services keep (the team-space rollup above
//! all) hold in whatever order a test builds its data, and a fixture the
//! API would refuse fails here instead of writing a row no client could.
//!
//! The few raw writes left set up states the services refuse to make on
//! purpose (old history, a back-dated deactivation, demoting the only
//! owner, a World's empty audit log); they are named `raw_*` and sit
//! beside the tests that need them.

use devgraph::{
    auth::TenantCtx,
    config::IngestLimits,
    ids::{DeveloperId, OrgId, ProjectId, TeamSpaceId},
    service::{
        self,
        developer::NewDeveloper,
        events::{EventInput, Ingested},
        membership::MemberChange,
        organization::NewOrganization,
        project::NewProject,
        team_space::{NewTeamSpace, TeamSpacePatch},
    },
};
use entity::enums::{DeveloperRole, TeamSpaceRole};
use uuid::Uuid;

use super::{Dev, TestApp};

/// The context fixtures act in: no person, full rights in `org`.
fn system(org: OrgId) -> TenantCtx {
    TenantCtx::unsafe_system(org)
}

/// `name` as a slug, made unique with a random tail: fixtures name things
/// freely ("Orphan 50%"), and slugs are unique per organization.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            _ if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    out.truncate(40);
    let tail = Uuid::now_v7().simple().to_string();
    format!("{}-{}", out.trim_end_matches('-'), &tail[24..])
        .trim_start_matches('-')
        .to_owned()
}

/// A unique email whose local part comes from `name` (tests compare local
/// parts across organizations) and a subject unlike it, as an identity
/// provider would send.
fn identity(name: &str) -> (String, String) {
    let local = name.to_lowercase().replace(' ', ".");
    let domain = Uuid::now_v7().simple();
    let subject = format!("sub|{}", Uuid::now_v7().simple());
    (format!("{local}@{domain}.test"), subject)
}

fn dev_of(org: OrgId, row: entity::developer::Model) -> Dev {
    Dev {
        org,
        id: DeveloperId::from_db(row.id),
        subject: row.auth_subject,
        email: row.email,
    }
}

impl TestApp {
    /// A new organization ("Org <slug>", UTC) and its founding owner named
    /// `owner`, made as `devgraph org create` makes them.
    pub async fn org_with_owner(&self, slug: &str, owner: &str) -> (OrgId, Dev) {
        let (owner_email, subject) = identity(owner);
        let input = NewOrganization {
            slug: slug.to_owned(),
            name: format!("Org {slug}"),
            owner_email,
            owner_name: owner.to_owned(),
            owner_subject: Some(subject),
        };
        let (org, owner) = service::organization::create(self.db(), input)
            .await
            .expect("create organization");
        let org = OrgId::from_db(org.id);
        (org, dev_of(org, owner))
    }

    /// An organization whose founding owner ("Founder") the test leaves alone.
    pub async fn org(&self, slug: &str) -> OrgId {
        self.org_with_owner(slug, "Founder").await.0
    }

    /// A fresh organization with one developer of `role` ("Owner Person",
    /// its founder when `role` is owner), and their token.
    pub async fn with_org_and_developer(
        &self,
        slug: &str,
        role: DeveloperRole,
    ) -> (OrgId, Dev, String) {
        let dev = match role {
            DeveloperRole::Owner => self.org_with_owner(slug, "Owner Person").await.1,
            _ => {
                let org = self.org(slug).await;
                self.developer(org, "Owner Person", role).await
            }
        };
        let token = self.token_for(&dev);
        (dev.org, dev, token)
    }

    pub async fn developer(&self, org: OrgId, name: &str, role: DeveloperRole) -> Dev {
        let (email, subject) = identity(name);
        self.new_developer(org, name, role, email, subject).await
    }

    /// The same person (subject) joining another organization.
    pub async fn add_membership(&self, org: OrgId, subject: &str, role: DeveloperRole) -> Dev {
        let (email, _) = identity("Second Home");
        let subject = subject.to_owned();
        self.new_developer(org, "Second Home", role, email, subject)
            .await
    }

    async fn new_developer(
        &self,
        org: OrgId,
        name: &str,
        role: DeveloperRole,
        email: String,
        subject: String,
    ) -> Dev {
        let input = NewDeveloper {
            email,
            name: name.to_owned(),
            role,
            auth_subject: Some(subject),
        };
        let live = service::live::Live::off();
        let row = service::developer::create(&system(org), self.db(), &live, input)
            .await
            .expect("create developer");
        dev_of(org, row)
    }

    pub async fn deactivate(&self, dev: &Dev) {
        service::developer::change_standing(
            &system(dev.org),
            self.db(),
            dev.id,
            service::developer::Standing::Active(false),
        )
        .await
        .expect("deactivate developer");
    }

    pub async fn team_space(&self, org: OrgId, name: &str) -> TeamSpaceId {
        let input = NewTeamSpace {
            name: name.to_owned(),
            slug: slug(name),
            description: None,
        };
        let row = service::team_space::create(&system(org), self.db(), input)
            .await
            .expect("create team space");
        TeamSpaceId::from_db(row.id)
    }

    pub async fn describe_team_space(&self, org: OrgId, space: TeamSpaceId, text: &str) {
        let patch = TeamSpacePatch {
            description: Some(Some(text.to_owned())),
            ..TeamSpacePatch::default()
        };
        service::team_space::update(&system(org), self.db(), space, patch)
            .await
            .expect("describe team space");
    }

    /// Adds `dev` to `space`, moving the developer's events into the
    /// team-space rollup as `addTeamSpaceMember` does.
    pub async fn member(
        &self,
        org: OrgId,
        space: TeamSpaceId,
        dev: DeveloperId,
        role: TeamSpaceRole,
    ) {
        let change = MemberChange {
            space,
            developer: dev,
            role,
        };
        service::membership::add(&system(org), self.db(), change)
            .await
            .expect("add team space member");
    }

    pub async fn project(&self, org: OrgId, space: Option<TeamSpaceId>, name: &str) -> ProjectId {
        let input = NewProject {
            name: name.to_owned(),
            slug: slug(name),
            team_space: space,
        };
        let row = service::project::create(&system(org), self.db(), input)
            .await
            .expect("create project");
        ProjectId::from_db(row.id)
    }

    /// Ingests `events` into `project` as `POST /v1/events` does, with the
    /// default limits.
    pub async fn ingest(
        &self,
        org: OrgId,
        project: ProjectId,
        events: Vec<EventInput>,
    ) -> Ingested {
        let limits = IngestLimits::default();
        service::events::ingest(
            &system(org),
            self.db(),
            &devgraph::service::live::Live::off(),
            project,
            events,
            &limits,
        )
        .await
        .expect("ingest events")
    }
}
