//! One organization with a developer of every kind the permission rules tell
//! apart, team spaces with leads, projects and API keys: the fixture of the
//! mutation, permission and API key tests.

use devgraph::ids::{
    ApiKeyId, DeveloperId, IdentityId, OrgId, ProjectId, RepositoryId, TeamSpaceId,
};
use entity::scoped::InOrg as _;
use entity::{
    audit_log,
    enums::{DeveloperRole, TeamSpaceRole},
    team_space,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::support::{Dev, Gid, Key, TestApp, try_create_key};

pub struct World {
    pub org: OrgId,
    pub slug: String,
    pub owner: Dev,
    /// A second active owner, target of the admin-vs-owner rules.
    pub owner2: Dev,
    pub admin: Dev,
    /// Org role member, in no team space.
    pub member: Dev,
    pub viewer: Dev,
    /// Org role viewer, yet LEAD of `space`: leads need member or above.
    pub viewer_lead: Dev,
    /// Org role member, LEAD of `space` and of `lead_space`.
    pub lead: Dev,
    /// Org role member, LEAD of `other_space` only.
    pub lead_elsewhere: Dev,
    /// Org role member, MEMBER of `space`: the developer mutations' target.
    pub target: Dev,
    /// Org role member, in no team space.
    pub outsider: Dev,
    /// A deactivated member.
    pub inactive: Dev,
    /// A deactivated owner.
    pub inactive_owner: Dev,
    pub space: TeamSpaceId,
    pub other_space: TeamSpaceId,
    /// A second space `lead` leads (a destination they may move projects to).
    pub lead_space: TeamSpaceId,
    /// In `space`.
    pub project: ProjectId,
    /// In `other_space`.
    pub other_project: ProjectId,
    /// In no team space.
    pub loose_project: ProjectId,
    /// Connected to `project`.
    pub repository: RepositoryId,
    /// A GitHub login linked to `target`.
    pub identity: IdentityId,
    /// READ key: the API key caller.
    pub read_key: Result<Key, String>,
    /// READ key: the target of revokeApiKey.
    pub spare_key: Result<Key, String>,
}

impl World {
    pub async fn build(app: &TestApp, slug: &str) -> World {
        let (org, owner) = app.org_with_owner(slug, "Olga Owner").await;
        let dev = |name: &'static str, role| app.developer(org, name, role);
        use DeveloperRole::*;
        let owner2 = dev("Otto Owner", Owner).await;
        let admin = dev("Ada Admin", Admin).await;
        let member = dev("Mel Member", Member).await;
        let viewer = dev("Vic Viewer", Viewer).await;
        let viewer_lead = dev("Val Viewerlead", Viewer).await;
        let lead = dev("Lee Lead", Member).await;
        let lead_elsewhere = dev("Eli Elsewhere", Member).await;
        let target = dev("Tia Target", Member).await;
        let outsider = dev("Oli Outsider", Member).await;
        let inactive = dev("Ina Inactive", Member).await;
        let inactive_owner = dev("Ivo Inactive", Owner).await;
        app.deactivate(&inactive).await;
        app.deactivate(&inactive_owner).await;
        let space = app.team_space(org, "Target Space").await;
        let other_space = app.team_space(org, "Other Space").await;
        let lead_space = app.team_space(org, "Lead Space").await;
        let m = |s, d: &Dev, r| app.member(org, s, d.id, r);
        m(space, &lead, TeamSpaceRole::Lead).await;
        m(space, &viewer_lead, TeamSpaceRole::Lead).await;
        m(space, &target, TeamSpaceRole::Member).await;
        m(lead_space, &lead, TeamSpaceRole::Lead).await;
        m(other_space, &lead_elsewhere, TeamSpaceRole::Lead).await;
        let project = app.project(org, Some(space), "Target Project").await;
        let other_project = app.project(org, Some(other_space), "Other Project").await;
        let loose_project = app.project(org, None, "Loose Project").await;
        let (repository, _) =
            super::forge::connect(app, org, project, &format!("{slug}/target"), "1001").await;
        let identity = linked_login(app, org, target.id, "tia-gh").await;
        raw_clear_setup_audit(app, org).await;
        let token = app.token_for(&owner);
        let read_key = try_create_key(app, &token, "reader", &["READ"], None).await;
        let spare_key = try_create_key(app, &token, "spare", &["READ"], None).await;
        World {
            org,
            slug: slug.to_owned(),
            owner,
            owner2,
            admin,
            member,
            viewer,
            viewer_lead,
            lead,
            lead_elsewhere,
            target,
            outsider,
            inactive,
            inactive_owner,
            space,
            other_space,
            lead_space,
            project,
            other_project,
            loose_project,
            repository,
            identity,
            read_key,
            spare_key,
        }
    }

    /// The spare key's global id, or a fresh (missing) one when creating it failed.
    pub fn spare_key_id(&self) -> String {
        match &self.spare_key {
            Ok(key) => key.id.clone(),
            Err(_) => ApiKeyId::new().gid(),
        }
    }
}

/// Deletes the audit rows the fixtures' service calls wrote (as the system
/// actor): the World's tests assert that the log holds exactly what they
/// did, so a World starts with an empty log, as if it predated the log.
async fn raw_clear_setup_audit(app: &TestApp, org: OrgId) {
    audit_log::Entity::delete_many()
        .filter(audit_log::Column::OrganizationId.eq(org.uuid()))
        .filter(audit_log::Column::ActorType.eq("system"))
        .exec(app.db())
        .await
        .expect("clear the setup's audit rows");
}

/// A team space's slug, from the database.
pub async fn space_slug(app: &TestApp, org: OrgId, space: TeamSpaceId) -> String {
    team_space::Entity::find_in(org)
        .filter(team_space::Column::Id.eq(space.uuid()))
        .one(app.db())
        .await
        .expect("read team space")
        .expect("team space exists")
        .slug
}

/// A GitHub login linked to `dev`, as `linkIdentity` links one.
async fn linked_login(app: &TestApp, org: OrgId, dev: DeveloperId, login: &str) -> IdentityId {
    use devgraph::service::delivery::{facts::IdentityRef, identity};
    let ctx = devgraph::auth::TenantCtx::unsafe_system(org);
    let named = IdentityRef::new(entity::enums::IdentityKind::Github, login).expect("login");
    let row = identity::link(
        &ctx,
        app.db(),
        &devgraph::service::live::Live::off(),
        identity::IdentityKey::Named(named),
        dev,
    )
    .await
    .expect("link");
    IdentityId::from_db(row.id)
}
