//! The permission matrix of the mutations spec, table-driven: every mutation
//! × every kind of caller. Allowed → the payload and one audit row by that
//! caller; refused → exactly one FORBIDDEN error and not one row of the
//! organization changed. Then the last-active-owner rule and the order of
//! checks (ids → existence → permission → validation → uniqueness).

use crate::support::{
    Dev, Gid, TestApp,
    gql::{self, check_ok, check_refused, mutate},
    ops::{Refusal, refusals},
    snapshot::{audit_rows, check_unchanged, snapshot},
    world::World,
};
use devgraph::ids::{DeveloperId, TeamSpaceId};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Owner,
    Admin,
    Member,
    Viewer,
    /// Org role member, LEAD of the target team space.
    Lead,
    /// Org role member, LEAD of another team space.
    LeadElsewhere,
    /// Org role viewer, LEAD of the target team space.
    ViewerLead,
    /// An API key with the READ scope.
    ApiKey,
}

use Caller::*;

const CALLERS: [Caller; 8] = [
    Owner,
    Admin,
    Member,
    Viewer,
    Lead,
    LeadElsewhere,
    ViewerLead,
    ApiKey,
];

impl Caller {
    fn dev(self, w: &World) -> Option<&Dev> {
        Some(match self {
            Owner => &w.owner,
            Admin => &w.admin,
            Member => &w.member,
            Viewer => &w.viewer,
            Lead => &w.lead,
            LeadElsewhere => &w.lead_elsewhere,
            ViewerLead => &w.viewer_lead,
            ApiKey => return None,
        })
    }

    fn token(self, app: &TestApp, w: &World) -> Result<String, String> {
        match self.dev(w) {
            Some(dev) => Ok(app.token_for(dev)),
            None => w
                .read_key
                .clone()
                .map(|k| k.secret)
                .map_err(|e| format!("no API key: {e}")),
        }
    }

    /// The caller's own developer, for "themself" rows (an API key has none:
    /// it targets `w.target`).
    fn me(self, w: &World) -> String {
        self.dev(w).unwrap_or(&w.target).gid()
    }
}

type Input = fn(&World, Caller) -> Value;

struct Row {
    mutation: &'static str,
    input: Input,
    allowed: &'static [Caller],
}

/// Refusals first, in one organization (they change nothing, which is
/// checked after each); then each allowed caller in a fresh organization.
async fn check(row: Row) {
    let Row {
        mutation,
        input,
        allowed,
    } = row;
    let mut failures = Vec::new();
    let app = TestApp::spawn().await;
    let w = World::build(&app, "acme").await;
    for caller in CALLERS.into_iter().filter(|c| !allowed.contains(c)) {
        let token = match caller.token(&app, &w) {
            Ok(token) => token,
            Err(e) => {
                failures.push(format!("{caller:?} (should be refused): {e}"));
                continue;
            }
        };
        let request = gql::document(mutation, &input(&w, caller));
        let before = snapshot(&app, w.org).await;
        let reply = mutate(&app, &token, mutation, input(&w, caller)).await;
        let verdict = check_refused(&reply, mutation, "FORBIDDEN");
        let unchanged = check_unchanged(&app, w.org, &before).await;
        for e in [verdict, unchanged].into_iter().filter_map(Result::err) {
            failures.push(format!("{caller:?} should be refused; {request}\n  {e}"));
        }
    }
    // A fresh organization per allowed caller, so no success disturbs the next.
    for (i, &caller) in allowed.iter().enumerate() {
        let w = World::build(&app, &format!("acme-{i}")).await;
        let token = caller
            .token(&app, &w)
            .expect("allowed callers are developers");
        let request = gql::document(mutation, &input(&w, caller));
        let audit_before = audit_rows(&app, w.org).await.len();
        let reply = mutate(&app, &token, mutation, input(&w, caller)).await;
        if let Err(e) = check_ok(&reply, mutation) {
            failures.push(format!("{caller:?} should be allowed; {request}\n  {e}"));
            continue;
        }
        let audit = audit_rows(&app, w.org).await;
        let actor = caller.dev(&w).map(|d| d.id.uuid());
        let newest = audit.last().map(|r| (r.actor_type.as_str(), r.actor_id));
        if audit.len() != audit_before + 1 || newest != Some(("developer", actor)) {
            let rows: Vec<_> = audit[audit_before..]
                .iter()
                .map(|r| (&r.action, r.actor_id))
                .collect();
            failures.push(format!(
                "{caller:?}: want one audit row by {actor:?}, got {rows:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{mutation}:\n{}", failures.join("\n"));
}

macro_rules! matrix {
    ($($test:ident: $mutation:literal, [$($allowed:ident),*], $input:expr;)*) => {$(
        #[tokio::test]
        async fn $test() {
            check(Row { mutation: $mutation, input: $input, allowed: &[$($allowed),*] }).await;
        }
    )*};
}

matrix! {
    update_organization: "updateOrganization", [Owner, Admin],
        |_, _| json!({ "name": "Renamed Org" });
    create_team_space: "createTeamSpace", [Owner, Admin],
        |_, _| json!({ "name": "New Space", "slug": "new-space" });
    update_team_space: "updateTeamSpace", [Owner, Admin],
        |w, _| json!({ "id": w.space.gid(), "name": "Renamed Space" });
    delete_team_space: "deleteTeamSpace", [Owner, Admin],
        |w, _| json!({ "id": w.space.gid() });
    add_team_space_member: "addTeamSpaceMember", [Owner, Admin, Lead],
        |w, _| json!({ "teamSpaceId": w.space.gid(), "developerId": w.outsider.gid() });
    add_team_space_member_as_lead: "addTeamSpaceMember", [Owner, Admin, Lead],
        |w, _| json!({ "teamSpaceId": w.space.gid(), "developerId": w.outsider.gid(), "role": "LEAD" });
    update_team_space_member: "updateTeamSpaceMember", [Owner, Admin, Lead],
        |w, _| json!({ "teamSpaceId": w.space.gid(), "developerId": w.target.gid(), "role": "LEAD" });
    remove_team_space_member: "removeTeamSpaceMember", [Owner, Admin, Lead],
        |w, _| json!({ "teamSpaceId": w.space.gid(), "developerId": w.target.gid() });
    create_developer: "createDeveloper", [Owner, Admin],
        |_, _| json!({ "email": "new.person@example.com", "name": "New Person" });
    create_developer_admin: "createDeveloper", [Owner, Admin],
        |_, _| json!({ "email": "new.admin@example.com", "name": "New Admin", "role": "ADMIN" });
    create_developer_owner_only_by_owner: "createDeveloper", [Owner],
        |_, _| json!({ "email": "new.owner@example.com", "name": "New Owner", "role": "OWNER" });
    update_developer_name_of_another: "updateDeveloper", [Owner, Admin],
        |w, _| json!({ "id": w.target.gid(), "name": "Renamed Target" });
    update_developer_own_name: "updateDeveloper", [Owner, Admin, Member, Lead, LeadElsewhere],
        |w, c| json!({ "id": c.me(w), "name": "Renamed Self" });
    update_developer_own_email: "updateDeveloper", [Owner, Admin],
        |w, c| json!({ "id": c.me(w), "email": "renamed.self@example.com" });
    update_developer_own_name_and_email: "updateDeveloper", [Owner, Admin],
        |w, c| json!({ "id": c.me(w), "name": "Self", "email": "self@example.com" });
    change_own_role_to_admin: "changeDeveloperRole", [Owner, Admin],
        |w, c| json!({ "id": c.me(w), "role": "ADMIN" });
    deactivate_themself: "deactivateDeveloper", [Owner, Admin],
        |w, c| json!({ "id": c.me(w) });
    update_developer_email_of_another: "updateDeveloper", [Owner, Admin],
        |w, _| json!({ "id": w.target.gid(), "email": "renamed.target@example.com" });
    update_developer_name_of_an_owner: "updateDeveloper", [Owner],
        |w, _| json!({ "id": w.owner2.gid(), "name": "Renamed Owner" });
    update_developer_email_of_an_owner: "updateDeveloper", [Owner],
        |w, _| json!({ "id": w.owner2.gid(), "email": "renamed.owner@example.com" });
    change_role_member_to_admin: "changeDeveloperRole", [Owner, Admin],
        |w, _| json!({ "id": w.target.gid(), "role": "ADMIN" });
    change_role_member_to_viewer: "changeDeveloperRole", [Owner, Admin],
        |w, _| json!({ "id": w.target.gid(), "role": "VIEWER" });
    change_role_to_owner: "changeDeveloperRole", [Owner],
        |w, _| json!({ "id": w.target.gid(), "role": "OWNER" });
    change_role_of_an_owner: "changeDeveloperRole", [Owner],
        |w, _| json!({ "id": w.owner2.gid(), "role": "MEMBER" });
    deactivate_developer: "deactivateDeveloper", [Owner, Admin],
        |w, _| json!({ "id": w.target.gid() });
    deactivate_an_owner: "deactivateDeveloper", [Owner],
        |w, _| json!({ "id": w.owner2.gid() });
    reactivate_developer: "reactivateDeveloper", [Owner, Admin],
        |w, _| json!({ "id": w.inactive.gid() });
    reactivate_an_owner: "reactivateDeveloper", [Owner],
        |w, _| json!({ "id": w.inactive_owner.gid() });
    create_project_in_team_space: "createProject", [Owner, Admin, Lead],
        |w, _| json!({ "name": "New Project", "slug": "new-project", "teamSpaceId": w.space.gid() });
    create_project_without_team_space: "createProject", [Owner, Admin],
        |_, _| json!({ "name": "New Project", "slug": "new-project" });
    update_project: "updateProject", [Owner, Admin, Lead],
        |w, _| json!({ "id": w.project.gid(), "name": "Renamed Project" });
    update_project_move_to_a_space_the_lead_leads: "updateProject", [Owner, Admin, Lead],
        |w, _| json!({ "id": w.project.gid(), "teamSpaceId": w.lead_space.gid() });
    update_project_move_to_another_leads_space: "updateProject", [Owner, Admin],
        |w, _| json!({ "id": w.project.gid(), "teamSpaceId": w.other_space.gid() });
    update_project_without_team_space: "updateProject", [Owner, Admin],
        |w, _| json!({ "id": w.loose_project.gid(), "name": "Renamed Loose" });
    delete_project: "deleteProject", [Owner, Admin, Lead],
        |w, _| json!({ "id": w.project.gid() });
    create_api_key: "createApiKey", [Owner, Admin],
        |_, _| json!({ "name": "ci", "scopes": ["READ"] });
    revoke_api_key: "revokeApiKey", [Owner, Admin],
        |w, _| json!({ "id": w.spare_key_id() });
    connect_repository: "connectRepository", [Owner, Admin, Lead],
        |w, _| json!({ "projectId": w.project.gid(), "fullName": "acme/new", "externalId": "77" });
    connect_repository_to_a_loose_project: "connectRepository", [Owner, Admin],
        |w, _| json!({ "projectId": w.loose_project.gid(), "fullName": "acme/loose" });
    update_repository: "updateRepository", [Owner, Admin, Lead],
        |w, _| json!({ "id": w.repository.gid(), "defaultBranch": "trunk" });
    disconnect_repository: "disconnectRepository", [Owner, Admin, Lead],
        |w, _| json!({ "id": w.repository.gid() });
    rotate_webhook_secret: "rotateWebhookSecret", [Owner, Admin, Lead],
        |w, _| json!({ "repositoryId": w.repository.gid() });
    link_identity: "linkIdentity", [Owner, Admin],
        |w, _| json!({ "kind": "GITHUB", "value": "new-login", "developerId": w.target.gid() });
    link_stored_identity: "linkIdentity", [Owner, Admin],
        |w, _| json!({ "identityId": w.identity.gid(), "developerId": w.outsider.gid() });
    unlink_identity: "unlinkIdentity", [Owner, Admin],
        |w, _| json!({ "identityId": w.identity.gid() });
    record_deployment: "recordDeployment", [Owner, Admin, Member, Lead, LeadElsewhere],
        |w, _| json!({ "projectId": w.project.gid(), "environment": "production", "status": "SUCCESS",
                       "startedAt": "2026-11-01T10:00:00Z", "finishedAt": "2026-11-01T10:05:00Z" });
    record_incident: "recordIncident", [Owner, Admin, Member, Lead, LeadElsewhere],
        |w, _| json!({ "projectId": w.project.gid(), "title": "Checkout down", "openedAt": "2026-11-01T11:00:00Z" });
}

// The last active owner ------------------------------------------------------

/// `who "mutation" { input } => "CODE";` rows as refusals, `who` a developer of `w`.
macro_rules! asks {
    ($app:ident, $w:ident; $($who:ident $m:literal $input:tt => $code:literal;)*) => {
        vec![$(Refusal::new(&$app.token_for(&$w.$who), $m, json!($input), $code)),*]
    };
}

async fn expect(app: &TestApp, w: &World, cases: Vec<Refusal>) {
    let failures = refusals(app, w.org, cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn allowed(app: &TestApp, who: &Dev, m: &str, input: Value) -> Value {
    gql::ok(&mutate(app, &app.token_for(who), m, input).await, m)
}

/// An organization whose only active owner is `owner` (a deactivated owner
/// does not count).
async fn sole_owner() -> (TestApp, World) {
    let app = TestApp::spawn().await;
    let w = World::build(&app, "acme").await;
    app.deactivate(&w.owner2).await;
    (app, w)
}

#[tokio::test]
async fn the_last_active_owner_cannot_demote_or_deactivate_themself() {
    let (app, w) = sole_owner().await;
    let me = w.owner.gid();
    let cases = asks!(app, w;
        owner "changeDeveloperRole" { "id": me, "role": "ADMIN" } => "FORBIDDEN";
        owner "changeDeveloperRole" { "id": me, "role": "MEMBER" } => "FORBIDDEN";
        owner "changeDeveloperRole" { "id": me, "role": "VIEWER" } => "FORBIDDEN";
        owner "deactivateDeveloper" { "id": me } => "FORBIDDEN";
    );
    expect(&app, &w, cases).await;
    let token = app.token_for(&w.owner);
    app.gql(&token, "{ viewer { id } }", json!({})).await.ok();
}

#[tokio::test]
async fn with_a_second_owner_an_owner_may_demote_themself() {
    let app = TestApp::spawn().await;
    let w = World::build(&app, "acme").await;
    let input = json!({ "id": w.owner.gid(), "role": "ADMIN" });
    let p = allowed(&app, &w.owner, "changeDeveloperRole", input).await;
    assert_eq!(p["developer"]["role"], "ADMIN");
    // owner2 is now the last active owner: the former owner (an admin now)
    // cannot demote them, nor can they demote themself.
    let o2 = w.owner2.gid();
    let cases = asks!(app, w;
        owner "changeDeveloperRole" { "id": o2, "role": "MEMBER" } => "FORBIDDEN";
        owner2 "changeDeveloperRole" { "id": o2, "role": "MEMBER" } => "FORBIDDEN";
    );
    expect(&app, &w, cases).await;
}

#[tokio::test]
async fn with_a_second_owner_an_owner_may_deactivate_themself() {
    let app = TestApp::spawn().await;
    let w = World::build(&app, "acme").await;
    let me = json!({ "id": w.owner.gid() });
    let p = allowed(&app, &w.owner, "deactivateDeveloper", me).await;
    assert_eq!(p["developer"]["active"], false);
    let token = app.token_for(&w.owner);
    let next = app.gql(&token, "{ viewer { id } }", json!({})).await;
    assert_eq!(
        (next.status, next.codes()),
        (401, vec!["UNAUTHENTICATED".into()])
    );
    let o2 = w.owner2.gid();
    let cases = asks!(app, w; owner2 "deactivateDeveloper" { "id": o2 } => "FORBIDDEN";);
    expect(&app, &w, cases).await;
}

#[tokio::test]
async fn a_reactivated_owner_counts_again() {
    let (app, w) = sole_owner().await;
    let o2 = json!({ "id": w.owner2.gid() });
    allowed(&app, &w.owner, "reactivateDeveloper", o2).await;
    let input = json!({ "id": w.owner.gid(), "role": "ADMIN" });
    allowed(&app, &w.owner, "changeDeveloperRole", input).await;
}

// Roles come from the database on every request --------------------------------

#[tokio::test]
async fn a_role_change_applies_to_the_next_request() {
    let app = TestApp::spawn().await;
    let w = World::build(&app, "acme").await;
    let role = |role: &str| json!({ "id": w.member.gid(), "role": role });
    let space = |slug: &str| json!({ "name": "Made", "slug": slug });
    let cases =
        asks!(app, w; member "createTeamSpace" { "name": "M", "slug": "m-1" } => "FORBIDDEN";);
    expect(&app, &w, cases).await;
    allowed(&app, &w.owner, "changeDeveloperRole", role("ADMIN")).await;
    allowed(&app, &w.member, "createTeamSpace", space("m-2")).await;
    allowed(&app, &w.owner, "changeDeveloperRole", role("VIEWER")).await;
    let cases =
        asks!(app, w; member "createTeamSpace" { "name": "M", "slug": "m-3" } => "FORBIDDEN";);
    expect(&app, &w, cases).await;
}

#[tokio::test]
async fn a_lead_who_is_demoted_to_viewer_loses_lead_powers() {
    let app = TestApp::spawn().await;
    let w = World::build(&app, "acme").await;
    let demote = json!({ "id": w.lead.gid(), "role": "VIEWER" });
    allowed(&app, &w.owner, "changeDeveloperRole", demote).await;
    let (space, outsider) = (w.space.gid(), w.outsider.gid());
    let cases = asks!(app, w;
        lead "addTeamSpaceMember" { "teamSpaceId": space, "developerId": outsider } => "FORBIDDEN";
    );
    expect(&app, &w, cases).await;
}

// Order of checks and the reach of a lead ------------------------------------------

#[tokio::test]
async fn existence_is_checked_before_permission_and_permission_before_input() {
    let app = TestApp::spawn().await;
    let w = World::build(&app, "acme").await;
    let (missing_space, missing_dev) = (TeamSpaceId::new().gid(), DeveloperId::new().gid());
    let (space, project, target) = (w.space.gid(), w.project.gid(), w.target.gid());
    let (long, taken) = ("x".repeat(64), w.owner.email.clone());
    let cases = asks!(app, w;
        // Anyone naming a missing target learns NOT_FOUND.
        viewer "updateTeamSpace" { "id": missing_space, "name": "X" } => "NOT_FOUND";
        viewer "deactivateDeveloper" { "id": missing_dev } => "NOT_FOUND";
        member "deleteTeamSpace" { "id": missing_space } => "NOT_FOUND";
        // A malformed id or one of the wrong type comes first of all.
        viewer "deleteTeamSpace" { "id": "nope" } => "BAD_USER_INPUT";
        viewer "deleteProject" { "id": space } => "BAD_USER_INPUT";
        // Permission before validation and uniqueness.
        viewer "createTeamSpace" { "name": "   ", "slug": "Bad Slug" } => "FORBIDDEN";
        member "createTeamSpace" { "name": "X", "slug": long } => "FORBIDDEN";
        admin "createDeveloper" { "email": "nope", "name": "X", "role": "OWNER" } => "FORBIDDEN";
        lead_elsewhere "updateProject" { "id": project, "slug": "-x" } => "FORBIDDEN";
        member "updateDeveloper" { "id": target, "email": taken } => "FORBIDDEN";
    );
    expect(&app, &w, cases).await;
}

#[tokio::test]
async fn a_lead_may_not_manage_what_they_do_not_lead() {
    let app = TestApp::spawn().await;
    let w = World::build(&app, "acme").await;
    let pair = |space: TeamSpaceId, dev: &Dev| json!({ "teamSpaceId": space.gid(), "developerId": dev.gid() });
    let (project, other) = (w.project.gid(), w.other_project.gid());
    let cases = asks!(app, w;
        lead_elsewhere "addTeamSpaceMember" (pair(w.space, &w.outsider)) => "FORBIDDEN";
        lead_elsewhere "removeTeamSpaceMember" (pair(w.space, &w.lead)) => "FORBIDDEN";
        lead "addTeamSpaceMember" (pair(w.other_space, &w.outsider)) => "FORBIDDEN";
        // A plain member of a space has no lead powers there.
        target "addTeamSpaceMember" (pair(w.space, &w.outsider)) => "FORBIDDEN";
        target "deleteProject" { "id": project } => "FORBIDDEN";
        lead "deleteProject" { "id": other } => "FORBIDDEN";
        // Leading the destination is not enough: the source must be led too.
        lead "updateProject" { "id": other, "teamSpaceId": w.space.gid() } => "FORBIDDEN";
    );
    expect(&app, &w, cases).await;
}

#[tokio::test]
async fn every_spec_mutation_exists_with_one_input_and_a_nullable_payload() {
    let app = TestApp::spawn().await;
    let w = World::build(&app, "acme").await;
    let q = "{ __schema { mutationType { fields { name args { name type { kind } } type { kind } } } } }";
    let data = app
        .gql(&app.token_for(&w.owner), q, json!({}))
        .await
        .ok()
        .clone();
    let fields = data["__schema"]["mutationType"]["fields"]
        .as_array()
        .cloned();
    let fields = fields.unwrap_or_default();
    for name in gql::MUTATIONS {
        let field = fields.iter().find(|f| f["name"] == name);
        let field = field.unwrap_or_else(|| panic!("mutation {name} missing"));
        let args = field["args"].as_array().unwrap().iter();
        let args: Vec<_> = args.map(|a| a["name"].as_str().unwrap_or("")).collect();
        assert_eq!(args, ["input"], "{name} takes one input");
        let kinds = [&field["args"][0]["type"]["kind"], &field["type"]["kind"]];
        assert_eq!(
            kinds,
            ["NON_NULL", "OBJECT"],
            "{name}: input!, nullable payload"
        );
    }
}

/// Owners demoting each other all at once: the last-owner rule is checked
/// in the transaction that writes, so exactly one owner remains (checked
/// outside it, every owner could be demoted by another in the same moment,
/// leaving none). Every owner asks to demote every other, all released
/// together; each demotion either succeeds or is refused by the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_demotions_leave_exactly_one_owner() {
    use entity::{developer, enums::DeveloperRole, scoped::InOrg as _};
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    use std::sync::Arc;
    use tokio::sync::Barrier;
    let app = TestApp::spawn().await;
    for round in 0..3 {
        let (org, first, _) = app
            .with_org_and_developer(&format!("race{round}"), DeveloperRole::Owner)
            .await;
        let mut owners = vec![first];
        for i in 1..5 {
            let name = format!("Owner {round} {i}");
            owners.push(app.developer(org, &name, DeveloperRole::Owner).await);
        }
        let pairs: Vec<_> = owners
            .iter()
            .flat_map(|a| owners.iter().filter(|t| t.id != a.id).map(move |t| (a, t)))
            .collect();
        let barrier = Arc::new(Barrier::new(pairs.len()));
        let mut tasks = Vec::new();
        for (actor, target) in pairs {
            let input = json!({ "id": target.gid(), "role": "ADMIN" });
            let query = gql::document("changeDeveloperRole", &input);
            let req = app
                .client
                .post(app.url("/graphql"))
                .bearer_auth(app.token_for(actor))
                .header("accept", "application/graphql-response+json")
                .json(&json!({ "query": query }));
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                TestApp::reply(req.send().await.expect("send")).await
            }));
        }
        for task in tasks {
            let reply = task.await.unwrap();
            let codes = reply.codes();
            assert!(
                codes.is_empty() || codes == ["FORBIDDEN"],
                "a demotion succeeds or is refused, nothing else: {:?}",
                reply.body
            );
        }
        let left = developer::Entity::find_in(org)
            .filter(developer::Column::Role.eq(DeveloperRole::Owner))
            .filter(developer::Column::DeactivatedAt.is_null())
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(left, 1, "round {round}");
    }
}

/// A lead's right is checked in the transaction that writes: projects a
/// lead creates while an admin demotes them are either written before the
/// demotion or refused, never written after it on a right already revoked.
/// Audit ids are UUIDv7s taken inside each write's transaction, so their
/// order is the order of the writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lead_demoted_mid_way_creates_nothing_after_the_demotion() {
    use entity::{audit_log, enums::DeveloperRole, enums::TeamSpaceRole, scoped::InOrg as _};
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    use std::sync::Arc;
    use tokio::sync::Barrier;
    let app = TestApp::spawn().await;
    for round in 0..3 {
        let (org, _, admin_token) = app
            .with_org_and_developer(&format!("lead{round}"), DeveloperRole::Admin)
            .await;
        let lead = app.developer(org, "Lead", DeveloperRole::Member).await;
        let space = app.team_space(org, "Web").await;
        app.member(org, space, lead.id, TeamSpaceRole::Lead).await;
        let n = 12;
        let barrier = Arc::new(Barrier::new(n + 1));
        let send = |token: String, query: String| {
            let req = app
                .client
                .post(app.url("/graphql"))
                .bearer_auth(token)
                .header("accept", "application/graphql-response+json")
                .json(&json!({ "query": query }));
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                TestApp::reply(req.send().await.expect("send")).await
            })
        };
        let mut tasks = Vec::new();
        for i in 0..n {
            let input = json!({ "name": format!("P{i}"), "slug": format!("p{i}"), "teamSpaceId": space.gid() });
            tasks.push(send(
                app.token_for(&lead),
                gql::document("createProject", &input),
            ));
        }
        let input =
            json!({ "teamSpaceId": space.gid(), "developerId": lead.gid(), "role": "MEMBER" });
        tasks.push(send(
            admin_token,
            gql::document("updateTeamSpaceMember", &input),
        ));
        for task in tasks {
            let reply = task.await.unwrap();
            let codes = reply.codes();
            assert!(
                codes.is_empty() || codes == ["FORBIDDEN"],
                "{:?}",
                reply.body
            );
        }
        let actions: Vec<String> = audit_log::Entity::find_in(org)
            .filter(audit_log::Column::Action.is_in(["project.create", "team_space_member.update"]))
            .order_by_asc(audit_log::Column::Id)
            .all(app.db())
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.action)
            .collect();
        let demoted = actions
            .iter()
            .position(|a| a == "team_space_member.update")
            .expect("the demotion is audited");
        assert_eq!(demoted, actions.len() - 1, "round {round}: {actions:?}");
    }
}
