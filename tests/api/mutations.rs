//! Every mutation of the spec, end to end as an owner: the payload, the change
//! seen by a follow-up query, the one audit row written with it; input
//! validation, uniqueness, cascades, other tenants' ids, ids of the wrong
//! type, the audit log query, and concurrent creates racing for one slug.

use crate::support::{
    Gid,
    gql::{self, mutate, text},
    mint,
    ops::{self, add_events, one_winner, race, uuid_of},
    pairs, rows,
    scene::foreign_id_case,
    scene::{Rows, Scene as T, assert_failures, by_id, pair, pluck, rows_with, two_tenants},
    try_create_key,
    world::space_slug,
};
use devgraph::ids::GlobalId as _;
use devgraph::ids::TeamSpaceId;
use entity::scoped::InOrg as _;
use entity::{developer, project};
use sea_orm::{ColumnTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

// Happy paths ------------------------------------------------------------------

#[tokio::test]
async fn update_organization_changes_name_and_slug() {
    let t = T::new().await;
    let input = json!({ "name": "Acme Two", "slug": "acme-two" });
    let (p, audit) = t.run("updateOrganization", input).await;
    let want = json!({ "id": t.w.org.gid(), "name": "Acme Two", "slug": "acme-two" });
    assert_eq!(p["organization"], want);
    t.audited(&audit, "organization.update", t.w.org.uuid());
    let input = json!({ "name": "Acme 3" });
    let (p, _) = t.run("updateOrganization", input).await;
    assert_eq!(p["organization"]["slug"], "acme-two", "absent: unchanged");
    let read = t.read("{ organization { name slug } }", json!({})).await;
    let want = json!({ "name": "Acme 3", "slug": "acme-two" });
    assert_eq!(read["organization"], want);
}

#[tokio::test]
async fn create_and_update_team_space() {
    let t = T::new().await;
    let input = json!({ "name": "Data", "slug": "data", "description": "Numbers" });
    let (p, audit) = t.run("createTeamSpace", input).await;
    let id = text(&p, "/teamSpace/id").to_owned();
    assert!(TeamSpaceId::from_global(&id).is_ok(), "{id}");
    let want = json!({ "id": id, "name": "Data", "slug": "data", "description": "Numbers" });
    assert_eq!(p["teamSpace"], want);
    t.audited(&audit, "team_space.create", uuid_of(&id));
    let q = "query($id: ID!) { teamSpace(id: $id) { id name slug description } }";
    let vars = json!({ "id": id });
    assert_eq!(t.read(q, vars.clone()).await["teamSpace"], want);
    // Absent fields are unchanged; `description: null` clears it.
    let steps = pairs! {
        { "id": id, "name": "Data 2" } => ["Data 2", "data", "Numbers"];
        { "id": id, "slug": "data-2" } => ["Data 2", "data-2", "Numbers"];
        { "id": id, "description": null } => ["Data 2", "data-2", null];
        { "id": id, "description": "Back" } => ["Data 2", "data-2", "Back"];
    };
    let fields = |v: &Value| json!([v["name"], v["slug"], v["description"]]);
    for (input, want) in steps {
        let (p, audit) = t.run("updateTeamSpace", input.clone()).await;
        assert_eq!(fields(&p["teamSpace"]), want, "payload after {input}");
        let read = t.read(q, vars.clone()).await;
        assert_eq!(fields(&read["teamSpace"]), want, "query after {input}");
        t.audited(&audit, "team_space.update", uuid_of(&id));
    }
}

#[tokio::test]
async fn delete_team_space_removes_memberships_and_detaches_projects() {
    let t = T::new().await;
    let (app, w) = (&t.app, &t.w);
    let second = app.project(w.org, Some(w.space), "Second Project").await;
    let space = w.space.uuid();
    let members = rows_with(&t.snapshot().await, "team_space_members", space);
    assert_eq!(members, 3, "lead, viewer lead, target");
    let (p, audit) = t.run("deleteTeamSpace", by_id(w.space)).await;
    let want = json!({ "deletedTeamSpaceId": w.space.gid(),
        "detachedProjectCount": 2, "removedMemberCount": 3 });
    assert_eq!(p, want);
    t.audited(&audit, "team_space.delete", space);
    let snap = t.snapshot().await;
    assert_eq!(rows_with(&snap, "team_space_members", space), 0);
    assert_eq!(rows_with(&snap, "team_spaces", space), 0);
    assert_eq!(rows_with(&snap, "projects", space), 0, "none in the space");
    for id in [w.project, second] {
        let rows = rows_with(&snap, "projects", id.uuid());
        assert_eq!(rows, 1, "project {id:?} survives");
    }
    // Other spaces keep their members: `lead` still leads `lead_space`.
    let q = "query($id: ID!) { teamSpace(id: $id) { developers { totalCount } } }";
    let kept = t.read(q, by_id(w.lead_space)).await;
    assert_eq!(kept["teamSpace"]["developers"]["totalCount"], 1);
    let q = "query($id: ID!) { teamSpace(id: $id) { id } }";
    let gone = app.gql(&t.token, q, by_id(w.space)).await;
    assert_eq!(gone.codes(), ["NOT_FOUND"], "{}", gone.body);
    assert_eq!(gone.body["data"]["teamSpace"], Value::Null);
}

#[tokio::test]
async fn team_space_members_are_added_changed_and_removed() {
    let t = T::new().await;
    let w = &t.w;
    let input = pair(w.space, &w.outsider);
    let (p, audit) = t.run("addTeamSpaceMember", input.clone()).await;
    let (space, dev) = (by_id(w.space), by_id(&w.outsider));
    let want = json!({ "teamSpace": space, "developer": dev, "role": "MEMBER" });
    assert_eq!(p, want, "role defaults to MEMBER");
    t.audited(&audit, "team_space_member.add", w.space.uuid());
    let q = "query($id: ID!) { teamSpace(id: $id) { developers { nodes { id } } } }";
    let listed = || async {
        let data = t.read(q, by_id(w.space)).await;
        data["teamSpace"]["developers"]["nodes"].to_string()
    };
    assert!(listed().await.contains(&w.outsider.gid()), "listed");
    let mut lead = input.clone();
    lead["role"] = json!("LEAD");
    let (p, audit) = t.run("updateTeamSpaceMember", lead.clone()).await;
    assert_eq!(p["role"], "LEAD");
    t.audited(&audit, "team_space_member.update", w.space.uuid());
    let snap = t.snapshot().await;
    let row = snap["team_space_members"]
        .iter()
        .find(|r| r.contains(&w.outsider.id.uuid().to_string()));
    assert!(row.unwrap().contains(r#""role":"lead""#), "{row:?}");
    let (p, audit) = t.run("removeTeamSpaceMember", input.clone()).await;
    let want = json!({ "teamSpace": space, "removedDeveloperId": w.outsider.gid() });
    assert_eq!(p, want);
    t.audited(&audit, "team_space_member.remove", w.space.uuid());
    assert!(!listed().await.contains(&w.outsider.gid()), "gone");
    // Not a member (any more): update and remove are NOT_FOUND.
    let rows = vec![
        ("updateTeamSpaceMember", lead, None),
        ("removeTeamSpaceMember", input, None),
    ];
    t.refuse("NOT_FOUND", rows).await;
}

#[tokio::test]
async fn create_developer_defaults_role_and_auth_subject() {
    let t = T::new().await;
    let input = json!({ "email": "New.Person@Example.com", "name": "New Person" });
    let (p, audit) = t.run("createDeveloper", input).await;
    let dev = &p["developer"];
    let got = json!([dev["name"], dev["role"], dev["active"]]);
    assert_eq!(got, json!(["New Person", "MEMBER", true]));
    let email = dev["email"].as_str().map(str::to_lowercase);
    assert_eq!(email.as_deref(), Some("new.person@example.com"));
    let id = uuid_of(text(&p, "/developer/id"));
    t.audited(&audit, "developer.create", id);
    let t = &t;
    let subject = |id: Uuid| async move {
        let row = developer::Entity::find_in(t.w.org);
        let row = row.filter(developer::Column::Id.eq(id)).one(t.app.db());
        row.await.unwrap().expect("developer row").auth_subject
    };
    // authSubject defaults to the lowercased email, and the developer can sign in.
    assert_eq!(subject(id).await, "new.person@example.com");
    let org = Some(t.w.org.uuid().to_string());
    let theirs = mint("new.person@example.com", org, 600);
    let me = ops::query(&t.app, &theirs, "{ viewer { name role } }", json!({})).await;
    assert_eq!(
        me["viewer"],
        json!({ "name": "New Person", "role": "MEMBER" })
    );
    let input = json!({ "email": "ops@example.com", "name": "Ops", "role": "ADMIN",
        "authSubject": "idp|42" });
    let (p, _) = t.run("createDeveloper", input).await;
    assert_eq!(p["developer"]["role"], "ADMIN");
    assert_eq!(subject(uuid_of(text(&p, "/developer/id"))).await, "idp|42");
}

#[tokio::test]
async fn update_developer_and_change_role() {
    let t = T::new().await;
    let (id, uuid) = (t.w.target.gid(), t.w.target.id.uuid());
    let input = json!({ "id": id, "name": "Tia Renamed", "email": "tia@renamed.test" });
    let (p, audit) = t.run("updateDeveloper", input).await;
    let got = json!([p["developer"]["name"], p["developer"]["email"]]);
    assert_eq!(got, json!(["Tia Renamed", "tia@renamed.test"]));
    t.audited(&audit, "developer.update", uuid);
    let (p, _) = t
        .run("updateDeveloper", json!({ "id": id, "name": "Tia" }))
        .await;
    assert_eq!(
        p["developer"]["email"], "tia@renamed.test",
        "absent: unchanged"
    );
    let input = json!({ "id": id, "role": "ADMIN" });
    let (p, audit) = t.run("changeDeveloperRole", input).await;
    assert_eq!(p["developer"]["role"], "ADMIN");
    t.audited(&audit, "developer.change_role", uuid);
    let q = "query($id: ID!) { developer(id: $id) { name email role } }";
    let read = t.read(q, json!({ "id": id })).await;
    let want = json!({ "name": "Tia", "email": "tia@renamed.test", "role": "ADMIN" });
    assert_eq!(read["developer"], want);
}

#[tokio::test]
async fn deactivate_refuses_the_token_and_reactivate_restores_it() {
    let t = T::new().await;
    let (target, uuid) = (by_id(&t.w.target), t.w.target.id.uuid());
    let theirs = t.app.token_for(&t.w.target);
    let (p, audit) = t.run("deactivateDeveloper", target.clone()).await;
    assert_eq!(p["developer"]["active"], false);
    assert!(p["developer"]["deactivatedAt"].is_string(), "{p}");
    t.audited(&audit, "developer.deactivate", uuid);
    let refused = t.app.gql(&theirs, "{ viewer { id } }", json!({})).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.codes(), ["UNAUTHENTICATED"]);
    let (p, audit) = t.run("reactivateDeveloper", target).await;
    let got = json!([p["developer"]["active"], p["developer"]["deactivatedAt"]]);
    assert_eq!(got, json!([true, null]));
    t.audited(&audit, "developer.reactivate", uuid);
    ops::query(&t.app, &theirs, "{ viewer { id } }", json!({})).await;
}

#[tokio::test]
async fn create_project_in_a_team_space_or_none() {
    let t = T::new().await;
    let space = by_id(t.w.space);
    let input = json!({ "name": "Mobile", "slug": "mobile", "teamSpaceId": space["id"] });
    let (p, audit) = t.run("createProject", input).await;
    let id = text(&p, "/project/id").to_owned();
    let want = json!({ "id": id, "name": "Mobile", "slug": "mobile", "teamSpace": space });
    assert_eq!(p["project"], want);
    t.audited(&audit, "project.create", uuid_of(&id));
    let q = "query($id: ID!) { project(id: $id) { id name slug teamSpace { id } } }";
    assert_eq!(t.read(q, json!({ "id": id })).await["project"], want);
    let input = json!({ "name": "Tools", "slug": "tools" });
    let (p, _) = t.run("createProject", input).await;
    assert_eq!(p["project"]["teamSpace"], Value::Null);
}

#[tokio::test]
async fn update_project_moves_detaches_or_keeps_its_team_space() {
    let t = T::new().await;
    let w = &t.w;
    let id = w.project.gid();
    let steps = pairs! {
        { "id": id, "name": "Renamed" } => (by_id(w.space));
        { "id": id, "teamSpaceId": w.other_space.gid() } => (by_id(w.other_space));
        { "id": id, "slug": "renamed" } => (by_id(w.other_space));
        { "id": id, "teamSpaceId": null } => null;
        { "id": id, "name": "Loose" } => null;
    };
    let q = "query($id: ID!) { project(id: $id) { name slug teamSpace { id } } }";
    let vars = json!({ "id": id });
    for (input, want) in steps {
        let (p, audit) = t.run("updateProject", input.clone()).await;
        assert_eq!(p["project"]["teamSpace"], want, "payload after {input}");
        let read = t.read(q, vars.clone()).await;
        assert_eq!(read["project"]["teamSpace"], want, "query after {input}");
        t.audited(&audit, "project.update", w.project.uuid());
        let row = project::Entity::find_in(w.org);
        let row = row.filter(project::Column::Id.eq(w.project.uuid()));
        let row = row.one(t.app.db()).await.unwrap().unwrap();
        let space = want["id"].as_str().map(uuid_of);
        assert_eq!(row.team_space_id, space, "stored after {input}");
    }
    let read = t.read(q, vars).await;
    let got = json!([read["project"]["name"], read["project"]["slug"]]);
    assert_eq!(got, json!(["Loose", "renamed"]));
}

#[tokio::test]
async fn delete_project_takes_its_keys_and_events_with_it() {
    let t = T::new().await;
    let (app, w) = (&t.app, &t.w);
    let scopes = &["EVENTS_WRITE"];
    let keys = [w.project, w.other_project]
        .map(|p| try_create_key(app, &t.token, "deploy", scopes, Some(p.gid())));
    let [gone, kept] = keys;
    let (gone, kept) = (gone.await.unwrap(), kept.await.unwrap());
    add_events(app, w.org, w.project).await;
    add_events(app, w.org, w.other_project).await;
    let (p, audit) = t.run("deleteProject", by_id(w.project)).await;
    assert_eq!(p, json!({ "deletedProjectId": w.project.gid() }));
    t.audited(&audit, "project.delete", w.project.uuid());
    let snap = t.snapshot().await;
    let tables = ["projects", "api_keys", "events"];
    let tables = [
        tables[0],
        tables[1],
        tables[2],
        "event_meta",
        "aggregated_events",
    ];
    for (project, want) in [(w.project, 0), (w.other_project, 1)] {
        let counts = tables.map(|table| rows_with(&snap, table, project.uuid()));
        assert_eq!(counts, [want; 5], "{tables:?} of {project:?}");
    }
    for (key, want) in [(&gone, 0), (&kept, 1)] {
        let id = uuid_of(&key.id);
        assert_eq!(rows_with(&snap, "api_key_prefixes", id), want, "{key:?}");
    }
    let q = "query($id: ID!) { project(id: $id) { id } }";
    let reply = app.gql(&t.token, q, by_id(w.project)).await;
    assert_eq!(reply.codes(), ["NOT_FOUND"]);
    let q = "{ organization { id } }";
    let reply = app.gql(&gone.secret, q, json!({})).await;
    assert_eq!(reply.status, 401, "its key: {}", reply.body);
}

// Validation and uniqueness ------------------------------------------------------

#[tokio::test]
async fn invalid_input_is_bad_user_input_naming_the_field() {
    let t = T::new().await;
    let (space, project, dev) = (t.w.space.gid(), t.w.project.gid(), t.w.target.gid());
    let (long_slug, long_name) = ("x".repeat(64), "n".repeat(201));
    let mut cases = Vec::new();
    for bad in ["Bad Slug", "-x", long_slug.as_str()] {
        cases.extend(rows! {
            "createTeamSpace" { "name": "Ok", "slug": bad } => "slug";
            "updateTeamSpace" { "id": space, "slug": bad } => "slug";
            "createProject" { "name": "Ok", "slug": bad } => "slug";
            "updateProject" { "id": project, "slug": bad } => "slug";
            "updateOrganization" { "slug": bad } => "slug";
        });
    }
    for bad in ["   ", long_name.as_str()] {
        cases.extend(rows! {
            "createTeamSpace" { "name": bad, "slug": "ok" } => "name";
            "updateTeamSpace" { "id": space, "name": bad } => "name";
            "createProject" { "name": bad, "slug": "ok" } => "name";
            "updateProject" { "id": project, "name": bad } => "name";
            "updateOrganization" { "name": bad } => "name";
            "createDeveloper" { "email": "ok@example.com", "name": bad } => "name";
            "updateDeveloper" { "id": dev, "name": bad } => "name";
            "createApiKey" { "name": bad, "scopes": ["READ"] } => "name";
        });
    }
    cases.extend(rows! {
        "createDeveloper" { "email": "nope", "name": "Ok" } => "email";
        "updateDeveloper" { "id": dev, "email": "nope" } => "email";
    });
    t.refuse("BAD_USER_INPUT", cases).await;
}

#[tokio::test]
async fn duplicates_are_conflicts_naming_the_field() {
    let t = T::new().await;
    let (app, w) = (&t.app, &t.w);
    app.org("globex").await;
    let slug = space_slug(app, w.org, w.space).await;
    let row = project::Entity::find_in(w.org);
    let row = row
        .filter(project::Column::Id.eq(w.project.uuid()))
        .one(app.db());
    let pslug = row.await.unwrap().unwrap().slug;
    let (email, upper) = (w.target.email.clone(), w.target.email.to_uppercase());
    let (subject, outsider) = (w.target.subject.clone(), w.outsider.gid());
    let (other_space, other_project) = (w.other_space.gid(), w.other_project.gid());
    // Created by the API, so its authSubject is its email: both clash below.
    let twice = json!({ "email": "twice@example.com", "name": "Twice" });
    t.run("createDeveloper", twice.clone()).await;
    let cases = rows! {
        "createDeveloper" (twice) => "email";
        "createTeamSpace" { "name": "Dup", "slug": slug } => "slug";
        "updateTeamSpace" { "id": other_space, "slug": slug } => "slug";
        "createProject" { "name": "Dup", "slug": pslug } => "slug";
        "updateProject" { "id": other_project, "slug": pslug } => "slug";
        "updateOrganization" { "slug": "globex" } => "slug";
        "createDeveloper" { "email": email, "name": "Dup" } => "email";
        "createDeveloper" { "email": upper, "name": "Dup" } => "email";
        "updateDeveloper" { "id": outsider, "email": email } => "email";
        "createDeveloper" { "email": "a@b.io", "name": "D", "authSubject": subject } => "authSubject";
        "addTeamSpaceMember" (pair(w.space, &w.target)) => "developerId";
    };
    t.refuse("CONFLICT", cases).await;
}

#[tokio::test]
async fn slugs_and_emails_are_unique_per_organization_only() {
    let (app, a, b) = two_tenants().await;
    let token = app.token_for(&a.owner);
    let slug = space_slug(&app, b.org, b.space).await;
    let input = json!({ "name": "Same", "slug": slug });
    let reply = mutate(&app, &token, "createTeamSpace", input).await;
    gql::ok(&reply, "createTeamSpace");
    let input = json!({ "email": b.target.email, "name": "Same Person" });
    gql::ok(
        &mutate(&app, &token, "createDeveloper", input).await,
        "createDeveloper",
    );
}

// Other tenants' ids, ids of the wrong type -----------------------------------------

#[tokio::test]
async fn another_tenants_ids_are_not_found_like_missing_ones() {
    let (app, a, b) = two_tenants().await;
    let lead = |mut v: Value| {
        v["role"] = json!("LEAD");
        v
    };
    let (bs, bp, bt, key) = (
        b.space.gid(),
        b.project.gid(),
        b.target.gid(),
        b.spare_key_id(),
    );
    let (br, bi) = (b.repository.gid(), b.identity.gid());
    let cases: Rows = rows! {
        "updateTeamSpace" { "id": bs, "name": "X" };
        "deleteTeamSpace" { "id": bs };
        "addTeamSpaceMember" (pair(b.space, &a.outsider));
        "addTeamSpaceMember" (pair(a.space, &b.outsider));
        "updateTeamSpaceMember" (lead(pair(b.space, &a.target)));
        "updateTeamSpaceMember" (lead(pair(a.space, &b.target)));
        "removeTeamSpaceMember" (pair(b.space, &a.target));
        "removeTeamSpaceMember" (pair(a.space, &b.target));
        "updateDeveloper" { "id": bt, "name": "X" };
        "changeDeveloperRole" { "id": bt, "role": "ADMIN" };
        "deactivateDeveloper" { "id": bt };
        "reactivateDeveloper" (by_id(&b.inactive));
        "createProject" { "name": "X", "slug": "x", "teamSpaceId": bs };
        "updateProject" { "id": bp, "name": "X" };
        "updateProject" { "id": a.project.gid(), "teamSpaceId": bs };
        "deleteProject" { "id": bp };
        "createApiKey" { "name": "x", "scopes": ["READ"], "projectId": bp };
        "revokeApiKey" { "id": key };
        "connectRepository" { "projectId": bp, "fullName": "x/y" };
        "updateRepository" { "id": br, "defaultBranch": "trunk" };
        "disconnectRepository" { "id": br };
        "rotateWebhookSecret" { "repositoryId": br };
        "linkIdentity" { "identityId": bi, "developerId": a.target.gid() };
        "linkIdentity" { "identityId": a.identity.gid(), "developerId": b.outsider.gid() };
        "linkIdentity" { "kind": "GITHUB", "value": "someone", "developerId": b.outsider.gid() };
        "unlinkIdentity" { "identityId": bi };
        "recordDeployment" { "projectId": bp, "environment": "production", "status": "PENDING", "startedAt": "2026-11-01T10:00:00Z" };
        "recordDeployment" { "projectId": a.project.gid(), "environment": "production", "status": "PENDING", "startedAt": "2026-11-01T10:00:00Z", "repositoryId": br };
        "recordIncident" { "projectId": bp, "title": "X", "openedAt": "2026-11-01T10:00:00Z" };
    };
    let b_ids = [
        bs.clone(),
        bp.clone(),
        bt,
        b.outsider.gid(),
        b.inactive.gid(),
        key,
        br,
        bi,
    ];
    let mut failures = Vec::new();
    for (m, input, _) in cases {
        let text = input.to_string();
        let foreign = b_ids.iter().find(|id| text.contains(id.as_str())).unwrap();
        failures.extend(foreign_id_case(&app, (&a, &b), m, input, foreign).await);
    }
    assert_failures(failures);
}

#[tokio::test]
async fn an_id_of_the_wrong_type_is_bad_user_input() {
    let t = T::new().await;
    let (space, project, dev) = (t.w.space.gid(), t.w.project.gid(), t.w.target.gid());
    let org = t.w.org.gid();
    let cases = rows! {
        "updateTeamSpace" { "id": project, "name": "X" };
        "updateTeamSpace" { "id": "nope", "name": "X" };
        "deleteTeamSpace" { "id": dev };
        "addTeamSpaceMember" { "teamSpaceId": project, "developerId": dev };
        "addTeamSpaceMember" { "teamSpaceId": space, "developerId": space };
        "updateTeamSpaceMember" { "teamSpaceId": dev, "developerId": dev, "role": "LEAD" };
        "removeTeamSpaceMember" { "teamSpaceId": space, "developerId": project };
        "updateDeveloper" { "id": space, "name": "X" };
        "changeDeveloperRole" { "id": project, "role": "ADMIN" };
        "deactivateDeveloper" { "id": org };
        "reactivateDeveloper" { "id": space };
        "createProject" { "name": "X", "slug": "x", "teamSpaceId": project };
        "updateProject" { "id": space, "name": "X" };
        "updateProject" { "id": project, "teamSpaceId": dev };
        "deleteProject" { "id": space };
        "createApiKey" { "name": "x", "scopes": ["READ"], "projectId": space };
        "revokeApiKey" { "id": project };
    };
    t.refuse("BAD_USER_INPUT", cases).await;
}

// The audit log ---------------------------------------------------------------------

const AUDIT: &str = "query($filter: AuditLogFilter, $first: Int, $after: String) {
    organization { auditLog(first: $first, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { id action actorType actorId targetType targetId at details } } } }";

/// The log's entries with `filter`, checking totalCount on the way.
async fn audit_log(t: &T, token: &str, vars: Value) -> Vec<Value> {
    let data = ops::query(&t.app, token, AUDIT, vars.clone()).await;
    let log = &data["organization"]["auditLog"];
    let nodes = log["nodes"].as_array().cloned().unwrap_or_default();
    if vars["first"] == 50 {
        assert_eq!(log["totalCount"], json!(nodes.len()), "totalCount: {vars}");
    }
    nodes
}

#[tokio::test]
async fn audit_log_lists_newest_first_and_filters() {
    let t = T::new().await;
    let (w, admin) = (&t.w, t.app.token_for(&t.w.admin));
    let as_admin = |m, input| ops::run(&t.app, w.org, &admin, m, input);
    let (p, _) = t
        .run("createTeamSpace", json!({ "name": "Data", "slug": "data" }))
        .await;
    let space = text(&p, "/teamSpace/id").to_owned();
    as_admin("updateTeamSpace", json!({ "id": space, "name": "Data 2" })).await;
    let input = json!({ "name": "P", "slug": "p", "teamSpaceId": space });
    t.run("createProject", input).await;
    as_admin("deactivateDeveloper", by_id(&w.target)).await;
    let all = audit_log(&t, &t.token, json!({ "first": 50 })).await;
    let want = json!([
        "developer.deactivate",
        "project.create",
        "team_space.update",
        "team_space.create",
        "api_key.create",
        "api_key.create"
    ]);
    assert_eq!(json!(pluck(&all, "action")), want, "newest first");
    let at = pluck(&all, "at");
    let parse = |a: &Value| chrono::DateTime::parse_from_rfc3339(a.as_str().unwrap());
    let at: Vec<_> = at.iter().map(|a| parse(a).unwrap()).collect();
    assert!(at.windows(2).all(|p| p[0] >= p[1]), "at descending: {at:?}");
    let e = &all[2];
    let got = json!([e["actorType"], e["actorId"], e["targetType"], e["targetId"]]);
    assert_eq!(got, json!(["developer", w.admin.gid(), "TeamSpace", space]));
    assert!(e["details"].is_object(), "details is a JSON object: {e}");
    let (admin_id, owner_id) = (w.admin.gid(), w.owner.gid());
    let cases = pairs! {
        { "action": "team_space.update" } => ["team_space.update"];
        { "actorId": admin_id } => ["developer.deactivate", "team_space.update"];
        { "targetId": space } => ["team_space.update", "team_space.create"];
        { "actorId": owner_id, "action": "team_space.create" } => ["team_space.create"];
        { "action": "nothing.ever" } => [];
    };
    for (filter, want) in cases {
        let vars = json!({ "first": 50, "filter": filter });
        let got = pluck(&audit_log(&t, &t.token, vars).await, "action");
        assert_eq!(json!(got), want, "{filter}");
    }
    // Pages of 4 continue where the last one ended (read by an admin).
    let data = ops::query(&t.app, &admin, AUDIT, json!({ "first": 4 })).await;
    let after = &data["organization"]["auditLog"]["pageInfo"]["endCursor"];
    let first = data["organization"]["auditLog"]["nodes"].as_array();
    let first = first.unwrap().clone();
    let second = audit_log(&t, &admin, json!({ "first": 4, "after": after })).await;
    let walked = [pluck(&first, "id"), pluck(&second, "id")].concat();
    assert_eq!(walked, pluck(&all, "id"));
}

#[tokio::test]
async fn audit_log_is_for_admins_and_owners_only() {
    let t = T::new().await;
    let q = "{ organization { auditLog(first: 5) { totalCount } } }";
    let devs = [&t.w.member, &t.w.viewer, &t.w.lead];
    let mut callers: Vec<String> = devs.map(|d| t.app.token_for(d)).into();
    callers.extend(t.w.read_key.iter().map(|k| k.secret.clone()));
    for token in callers {
        let reply = t.app.gql(&token, q, json!({})).await;
        assert_eq!(reply.codes(), ["FORBIDDEN"], "{}", reply.body);
        gql::check_no_sql(&reply).unwrap();
    }
    let reply = t.app.gql(&t.app.token_for(&t.w.admin), q, json!({})).await;
    assert_eq!(reply.ok()["organization"]["auditLog"]["totalCount"], 2);
}

// Concurrency -----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_creates_with_one_slug_make_one_row_and_conflicts() {
    let t = T::new().await;
    let mut failures = Vec::new();
    for round in 0..3 {
        let (slug, email) = (format!("race-{round}"), format!("race{round}@example.com"));
        let pair = pair(t.w.space, &t.w.outsider);
        // A field: the losers are CONFLICT on it; none: NOT_FOUND.
        let races: Rows = rows! {
            "createTeamSpace" { "name": "Race", "slug": slug } => "slug";
            "createProject" { "name": "Race", "slug": slug } => "slug";
            "createDeveloper" { "email": email, "name": "R" } => "email";
            "addTeamSpaceMember" (pair) => "developerId";
            "removeTeamSpaceMember" (pair);
        };
        for (m, input, field) in races {
            let code = field.map_or("NOT_FOUND", |_| "CONFLICT");
            let replies = race(&t.app, &t.token, m, &input, 8).await;
            if let Err(e) = one_winner(&replies, m, code, field) {
                failures.push(format!("{m} {input}: {e}"));
            }
        }
    }
    let snap = t.snapshot().await;
    let made = |table: &str| snap[table].iter().filter(|r| r.contains("\"race-")).count();
    let made = [made("team_spaces"), made("projects")];
    assert_eq!(made, [3, 3], "one row per slug");
    let audits = snap["audit_log"].iter();
    let creates = audits.filter(|r| r.contains("team_space.create")).count();
    assert_eq!(creates, 3, "one audit row per created team space");
    assert_failures(failures);
}
