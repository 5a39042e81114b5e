//! Cross-tenant isolation: organization B's rows are unreachable with a
//! token of organization A, by id, by filter, by cursor and in every list;
//! another tenant's id answers exactly like an id that does not exist.

use crate::support::{Dev, Reply, TestApp, mint};
use devgraph::ids::GlobalId as _;
use devgraph::ids::{DeveloperId, OrgId, ProjectId, TeamSpaceId};
use entity::enums::{DeveloperRole, TeamSpaceRole};
use serde_json::{Value, json};
use uuid::Uuid;

/// A fixture row: its name, database id, global id (and email, for developers).
#[derive(Clone, Debug, Default)]
struct Row {
    name: String,
    uuid: Uuid,
    id: String,
    email: String,
}

/// One organization. `devs[0]` is the owner; developer i is a member of
/// space i % spaces; project i belongs to space i, or to none past the last.
struct Tenant {
    org: OrgId,
    owner: Dev,
    token: String,
    spaces: Vec<Row>,
    devs: Vec<Row>,
    projects: Vec<Row>,
}

impl Tenant {
    fn members(&self, space: usize) -> Vec<Row> {
        let n = self.spaces.len();
        let devs = self.devs.iter().enumerate();
        devs.filter(|(i, _)| i % n == space)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// One id of every tenant-owned type: (typename, typed lookup field, id).
    fn one_of_each(&self) -> [(&'static str, &'static str, String); 4] {
        [
            ("Organization", "", self.org.to_global().0),
            ("Developer", "developer", self.devs[1].id.clone()),
            ("TeamSpace", "teamSpace", self.spaces[0].id.clone()),
            ("Project", "project", self.projects[0].id.clone()),
        ]
    }
}

/// A fresh random global id of the type named `typename`.
fn missing(typename: &str) -> String {
    let id = match typename {
        "Organization" => OrgId::new().to_global(),
        "Developer" => DeveloperId::new().to_global(),
        "TeamSpace" => TeamSpaceId::new().to_global(),
        _ => ProjectId::new().to_global(),
    };
    id.0
}

fn row(name: &str, uuid: Uuid, id: String) -> Row {
    let name = name.to_owned();
    Row {
        name,
        uuid,
        id,
        ..Row::default()
    }
}

async fn tenant(
    app: &TestApp,
    slug: &str,
    spaces: &[&str],
    devs: &[&str],
    projects: &[&str],
) -> Tenant {
    let owner = app.with_org_and_developer(slug, DeveloperRole::Owner);
    let (org, owner, token) = owner.await;
    let dev = |name: &str, d: &Dev| Row {
        email: d.email.clone(),
        ..row(name, d.id.uuid(), d.id.to_global().0)
    };
    let mut t = Tenant {
        org,
        token,
        spaces: vec![],
        devs: vec![],
        projects: vec![],
        owner,
    };
    t.devs.push(dev("Owner Person", &t.owner));
    for name in spaces {
        let id = app.team_space(org, name).await;
        t.spaces.push(row(name, id.uuid(), id.to_global().0));
    }
    for name in devs {
        let d = app.developer(org, name, DeveloperRole::Member).await;
        t.devs.push(dev(name, &d));
    }
    for (i, dev) in t.devs.iter().enumerate() {
        let space = TeamSpaceId::from_db(t.spaces[i % t.spaces.len()].uuid);
        let dev = DeveloperId::from_db(dev.uuid);
        app.member(org, space, dev, TeamSpaceRole::Member).await;
    }
    for (i, name) in projects.iter().enumerate() {
        let space = t.spaces.get(i).map(|r| TeamSpaceId::from_db(r.uuid));
        let id = app.project(org, space, name).await;
        t.projects.push(row(name, id.uuid(), id.to_global().0));
    }
    t
}

/// Organizations A and B with overlapping names ("Platform", "Casey
/// Clone", "Api", "Owner Person"), so no leak can hide behind a name.
async fn two_tenants(app: &TestApp) -> (Tenant, Tenant) {
    let (spaces, devs) = (["Platform", "Web"], ["Casey Clone", "Avery"]);
    let a = tenant(app, "org-a", &spaces, &devs, &["Api", "Site"]).await;
    let (spaces, devs) = (["Platform", "Hidden"], ["Casey Clone", "Blake"]);
    let b = tenant(app, "org-b", &spaces, &devs, &["Api", "Secret", "Loose"]).await;
    (a, b)
}

/// Global ids of `rows` in the API's default order: name, then id.
fn ordered_ids<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<String> {
    let mut rows: Vec<&Row> = rows.into_iter().collect();
    rows.sort_by_key(|r| (&r.name, r.uuid));
    rows.into_iter().map(|r| r.id.clone()).collect()
}

/// The ids of a connection's `nodes`, or of its `edges` when it has no nodes.
fn node_ids(conn: &Value) -> Vec<String> {
    let nodes: Vec<&Value> = match conn.get("nodes") {
        Some(nodes) => nodes.as_array().unwrap().iter().collect(),
        None => conn["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["node"])
            .collect(),
    };
    let id = |n: &&Value| n["id"].as_str().unwrap().to_owned();
    nodes.iter().map(id).collect()
}

/// The answer to B's id must be the answer to an id that does not exist.
fn assert_same_as_missing(foreign: &Reply, missing: &Reply, what: &str) {
    assert_eq!(foreign.status, missing.status, "{what}: status");
    assert_eq!(foreign.body, missing.body, "{what}: body");
}

#[tokio::test]
async fn foreign_ids_in_typed_lookups_answer_exactly_like_missing_ids() {
    let app = TestApp::spawn().await;
    let (a, b) = two_tenants(&app).await;
    for (typename, field, foreign) in b.one_of_each() {
        if field.is_empty() {
            continue; // no typed lookup of organizations
        }
        let q = format!("query($id: ID!) {{ {field}(id: $id) {{ id name }} }}");
        let reply = app.gql(&a.token, &q, json!({ "id": foreign })).await;
        assert_eq!(reply.codes(), ["NOT_FOUND"], "{field}");
        assert_eq!(reply.data()[field], Value::Null, "{field}");
        let twin = app
            .gql(&a.token, &q, json!({ "id": missing(typename) }))
            .await;
        assert_same_as_missing(&reply, &twin, field);
    }
}

#[tokio::test]
async fn node_of_foreign_ids_is_null_without_error() {
    let app = TestApp::spawn().await;
    let (a, b) = two_tenants(&app).await;
    let q = "query($id: ID!) { node(id: $id) { __typename id } }";
    for (typename, _, foreign) in b.one_of_each() {
        let reply = app.gql(&a.token, q, json!({ "id": foreign })).await;
        assert_eq!(reply.ok(), &json!({ "node": null }), "{typename}");
        let twin = app
            .gql(&a.token, q, json!({ "id": missing(typename) }))
            .await;
        assert_same_as_missing(&reply, &twin, typename);
    }
}

#[tokio::test]
async fn nodes_mixing_tenants_resolve_only_own_ids() {
    let app = TestApp::spawn().await;
    let (a, b) = two_tenants(&app).await;
    let (mut ids, mut expected) = (vec![], vec![]);
    for ((typename, _, own), (_, _, foreign)) in a.one_of_each().into_iter().zip(b.one_of_each()) {
        ids.extend([own.clone(), foreign]);
        expected.extend([json!({ "__typename": typename, "id": own }), Value::Null]);
    }
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
    let reply = app.gql(&a.token, q, json!({ "ids": ids })).await;
    assert_eq!(reply.ok()["nodes"], Value::Array(expected));
}

/// Every connection (an object with a `totalCount`) anywhere in `v`.
fn connections(v: &Value) -> Vec<&Value> {
    match v {
        Value::Object(map) if map.contains_key("totalCount") => vec![v],
        Value::Object(map) => map.values().flat_map(connections).collect(),
        Value::Array(items) => items.iter().flat_map(connections).collect(),
        _ => vec![],
    }
}

#[tokio::test]
async fn filters_naming_a_foreign_team_space_match_nothing() {
    let app = TestApp::spawn().await;
    let (a, b) = two_tenants(&app).await;
    let n = a.spaces.len();
    // (selection where `@` is a connection filtered by `$id`, how many of them)
    #[rustfmt::skip]
    let lists = [
        ("developers(filter: {teamSpaceId: $id}) @", 1),
        ("projects(filter: {teamSpaceId: $id}) @", 1),
        ("organization { developers(filter: {teamSpaceId: $id}) @ }", 1),
        ("organization { projects(filter: {teamSpaceId: $id}) @ }", 1),
        ("teamSpaces { nodes { developers(filter: {teamSpaceId: $id}) @ } }", n),
        ("teamSpaces { nodes { projects(filter: {teamSpaceId: $id}) @ } }", n),
    ];
    for (list, count) in lists {
        let list = list.replace('@', "{ totalCount nodes { id } }");
        let q = format!("query($id: ID!) {{ {list} }}");
        let reply = app.gql(&a.token, &q, json!({ "id": b.spaces[0].id })).await;
        let found = connections(reply.ok());
        assert_eq!(found.len(), count, "{list}");
        for conn in found {
            assert_eq!(conn, &json!({ "totalCount": 0, "nodes": [] }), "{list}");
        }
        let twin = app
            .gql(&a.token, &q, json!({ "id": missing("TeamSpace") }))
            .await;
        assert_same_as_missing(&reply, &twin, &list);
    }
}

#[tokio::test]
async fn lists_hold_exactly_the_tenants_own_rows() {
    let app = TestApp::spawn().await;
    let (a, _b) = two_tenants(&app).await;
    let lists = [
        ("teamSpaces", &a.spaces),
        ("developers", &a.devs),
        ("projects", &a.projects),
    ];
    for (field, rows) in lists {
        let conn = "(first: 100) { totalCount nodes { id } }";
        let q = format!("{{ {field}{conn} organization {{ {field}{conn} }} }}");
        let data = app.gql(&a.token, &q, json!({})).await.ok().clone();
        for conn in [&data[field], &data["organization"][field]] {
            assert_eq!(node_ids(conn), ordered_ids(rows), "{field}");
            assert_eq!(conn["totalCount"], json!(rows.len()), "{field}");
        }
    }
}

#[tokio::test]
async fn nested_lists_never_include_foreign_rows() {
    let app = TestApp::spawn().await;
    let (a, b) = two_tenants(&app).await;
    let local = |dev: &Row| dev.email.split('@').next().unwrap().to_owned();
    assert_eq!(
        a.devs[1].name, b.devs[1].name,
        "B has a namesake of A's developer"
    );
    assert_eq!(
        local(&a.devs[1]),
        local(&b.devs[1]),
        "with the same email local part"
    );
    let q = "{ teamSpaces { nodes { id
        developers(first: 10) { totalCount nodes { id teamSpaces { nodes { id } } } }
        projects(first: 10) { totalCount nodes { id teamSpace { id } } } } } }";
    let data = app.gql(&a.token, q, json!({})).await.ok().clone();
    let spaces = data["teamSpaces"]["nodes"].as_array().unwrap();
    assert_eq!(node_ids(&data["teamSpaces"]), ordered_ids(&a.spaces));
    for space in spaces {
        let s = a.spaces.iter().position(|r| r.id == space["id"]).unwrap();
        let (devs, projects) = (a.members(s), a.projects.get(s).into_iter());
        assert_eq!(node_ids(&space["developers"]), ordered_ids(&devs));
        assert_eq!(space["developers"]["totalCount"], json!(devs.len()));
        assert_eq!(node_ids(&space["projects"]), ordered_ids(projects.clone()));
        assert_eq!(space["projects"]["totalCount"], json!(projects.len()));
        for dev in space["developers"]["nodes"].as_array().unwrap() {
            assert_eq!(node_ids(&dev["teamSpaces"]), [a.spaces[s].id.clone()]);
        }
        for project in space["projects"]["nodes"].as_array().unwrap() {
            assert_eq!(project["teamSpace"]["id"], json!(a.spaces[s].id));
        }
    }
}

#[tokio::test]
async fn a_foreign_cursor_pages_only_through_own_rows() {
    let app = TestApp::spawn().await;
    let (a, b) = two_tenants(&app).await;
    // (list, where SPACE is the tenant's first team space; pointer; A's rows; B's rows)
    #[rustfmt::skip]
    let cases = [
        ("teamSpaces(ARGS) @", "/teamSpaces", a.spaces.clone(), b.spaces.clone()),
        ("developers(ARGS) @", "/developers", a.devs.clone(), b.devs.clone()),
        ("projects(ARGS) @", "/projects", a.projects.clone(), b.projects.clone()),
        ("teamSpace(id: SPACE) { developers(ARGS) @ }", "/teamSpace/developers", a.members(0), b.members(0)),
    ];
    for (list, pointer, own, foreign) in cases {
        let query = |t: &Tenant, args: &str| {
            let space = format!("\"{}\"", t.spaces[0].id);
            let list = list.replace("SPACE", &space).replace("ARGS", args);
            let list = list.replace('@', "{ edges { cursor node { id } } }");
            format!("query($c: String) {{ {list} }}")
        };
        let first_page = query(&b, "first: 100, after: $c");
        let reply = app.gql(&b.token, &first_page, json!({ "c": null })).await;
        let b_conn = reply.ok().pointer(pointer).unwrap().clone();
        assert_eq!(node_ids(&b_conn), ordered_ids(&foreign), "{list} as B");
        let row_of = |id: &Value| foreign.iter().find(|r| r.id == *id).unwrap();
        for edge in b_conn["edges"].as_array().unwrap() {
            let key = row_of(&edge["node"]["id"]);
            let key = (&key.name, key.uuid);
            let after = own.iter().filter(|r| (&r.name, r.uuid) > key);
            let before = own.iter().filter(|r| (&r.name, r.uuid) < key);
            let pages: [(&str, Vec<&Row>); 2] = [
                ("first: 100, after: $c", after.collect()),
                ("last: 100, before: $c", before.collect()),
            ];
            for (args, expected) in pages {
                let vars = json!({ "c": edge["cursor"] });
                let reply = app.gql(&a.token, &query(&a, args), vars).await;
                let ids = node_ids(reply.ok().pointer(pointer).unwrap());
                assert_eq!(ids, ordered_ids(expected), "{list} {args} B's {key:?}");
            }
        }
    }
}

#[tokio::test]
async fn viewer_lists_every_membership_but_reads_only_the_tokens_organization() {
    let app = TestApp::spawn().await;
    let (a, b) = two_tenants(&app).await;
    let person = &a.owner.subject;
    let in_b = app
        .add_membership(b.org, person, DeveloperRole::Admin)
        .await;
    let mut memberships = vec![
        json!({ "id": a.org.to_global().0, "slug": "org-a", "role": "OWNER" }),
        json!({ "id": b.org.to_global().0, "slug": "org-b", "role": "ADMIN" }),
    ];
    let by_id = |m: &Value| m["id"].as_str().unwrap().to_owned();
    memberships.sort_by_key(by_id);
    let q = "{ viewer { id organizations { id slug role } } organization { id }
        teamSpaces { nodes { id } } }";
    let b_token = app.token_for(&in_b);
    for (t, token, me) in [(&a, &a.token, a.owner.id), (&b, &b_token, in_b.id)] {
        let mut data = app.gql(token, q, json!({})).await.ok().clone();
        let orgs = data["viewer"]["organizations"].as_array_mut().unwrap();
        orgs.sort_by_key(by_id);
        assert_eq!(data["viewer"]["organizations"], json!(memberships));
        assert_eq!(data["viewer"]["id"], json!(me.to_global().0));
        assert_eq!(data["organization"]["id"], json!(t.org.to_global().0));
        assert_eq!(node_ids(&data["teamSpaces"]), ordered_ids(&t.spaces));
    }
    // With A's token, the same person's own row in B is out of reach.
    let q = "query($id: ID!) { developer(id: $id) { id } }";
    let reply = app
        .gql(&a.token, q, json!({ "id": in_b.id.to_global().0 }))
        .await;
    assert_eq!(reply.codes(), ["NOT_FOUND"]);
    let q = "query($id: ID!) { node(id: $id) { id } }";
    let reply = app
        .gql(&a.token, q, json!({ "id": in_b.id.to_global().0 }))
        .await;
    assert_eq!(reply.ok(), &json!({ "node": null }));
}

#[tokio::test]
async fn a_token_naming_an_organization_the_subject_is_not_in_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let (a, b) = two_tenants(&app).await;
    let q = "{ organization { id name } }";
    let b_org = Some(b.org.uuid().to_string());
    let token = mint(&a.owner.subject, b_org.clone(), 3600);
    let reply = app.gql(&token, q, json!({})).await;
    let body = &reply.body;
    assert_eq!(reply.status, 401, "{body}");
    assert_eq!(reply.codes(), ["UNAUTHENTICATED"]);
    assert!(body.get("data").is_none(), "{body}");
    // No membership oracle: the same answer as for a subject nobody has.
    let stranger = mint("sub|nobody-at-all", b_org, 3600);
    let twin = app.gql(&stranger, q, json!({})).await;
    assert_same_as_missing(&reply, &twin, "subject of another organization");
}
