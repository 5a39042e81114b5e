//! Every read field of schema.graphql, as one organization's owner sees it:
//! scalar fields, root and nested lists, Relay pagination both ways,
//! ordering, filters, page-size limits and `node`/`nodes`.

use crate::support::{Dev, TestApp};
use chrono::{DateTime, TimeZone, Utc};
use devgraph::ids::GlobalId as _;
use devgraph::ids::{DeveloperId, OrgId, ProjectId, TeamSpaceId};
use entity::scoped::InOrg as _;
use entity::{
    developer,
    enums::{DeveloperRole, TeamSpaceRole},
    organization, project, team_space,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select, sea_query::Expr};
use serde_json::{Value, json};

const CONN: &str = "totalCount edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }";
const PAGE_ARGS: &str = "$first: Int, $after: String, $last: Int, $before: String";
const PAGE_VARS: &str = "first: $first, after: $after, last: $last, before: $before";

/// A server and an organization whose owner ("Owner Person") makes the calls.
async fn setup() -> (TestApp, OrgId, Dev, String) {
    let app = TestApp::spawn().await;
    let owner = app.with_org_and_developer("acme", DeveloperRole::Owner);
    let (org, owner, token) = owner.await;
    (app, org, owner, token)
}

async fn row<E: EntityTrait>(app: &TestApp, select: Select<E>) -> E::Model {
    select.one(app.db()).await.unwrap().expect("fixture row")
}

fn nodes_of(conn: &Value) -> Vec<Value> {
    let edges = conn["edges"].as_array().expect("edges");
    edges.iter().map(|e| e["node"].clone()).collect()
}

fn pluck(nodes: &[Value], key: &str) -> Vec<String> {
    let text = |n: &Value| n[key].as_str().unwrap().to_owned();
    nodes.iter().map(text).collect()
}

fn names(conn: &Value) -> Vec<String> {
    pluck(&nodes_of(conn), "name")
}

/// The names of a connection, and its totalCount, are exactly `expected`.
fn assert_list(conn: &Value, expected: &[String], what: &str) {
    assert_eq!(names(conn), expected, "{what}");
    assert_eq!(conn["totalCount"], json!(expected.len()), "{what}");
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v = owned(names);
    v.sort();
    v
}

/// Removes `key` from an object and parses it as an RFC 3339 time.
fn take_time(v: &mut Value, key: &str) -> DateTime<Utc> {
    let text = v.as_object_mut().unwrap().remove(key).expect(key);
    let time = DateTime::parse_from_rfc3339(text.as_str().unwrap());
    time.unwrap().into()
}

/// Runs a query and returns the value at `pointer` in its data.
async fn at(app: &TestApp, token: &str, query: &str, vars: Value, pointer: &str) -> Value {
    let reply = app.gql(token, query, vars).await;
    let found = reply.ok().pointer(pointer).cloned();
    found.unwrap_or_else(|| panic!("{pointer} missing: {:?}", reply.body))
}

/// A deactivation back-dated to `at`: the service stamps the present.
async fn raw_deactivate_at(app: &TestApp, dev: DeveloperId, at: DateTime<Utc>) {
    developer::Entity::update_many()
        .col_expr(developer::Column::DeactivatedAt, Expr::value(at))
        .filter(developer::Column::Id.eq(dev.uuid()))
        .exec(app.db())
        .await
        .expect("deactivate");
}

/// Walks the connection at `pointer` of a query taking `PAGE_ARGS`,
/// checking every page's pageInfo, cursors and totalCount.
/// (server, token, query, pointer to the connection, other variables)
struct Pager<'a>(&'a TestApp, &'a str, String, &'a str, Value);

impl Pager<'_> {
    async fn page(&self, page: Value) -> Value {
        let Pager(app, token, query, pointer, vars) = self;
        let mut vars = vars.clone();
        let page = page.as_object().unwrap().clone();
        vars.as_object_mut().unwrap().extend(page);
        at(app, token, query, vars, pointer).await
    }

    fn check(conn: &Value, len: usize, prev: bool, next: bool, total: usize) {
        let (info, edges) = (&conn["pageInfo"], conn["edges"].as_array().unwrap());
        let got = json!({ "len": edges.len(), "total": conn["totalCount"],
            "prev": info["hasPreviousPage"], "next": info["hasNextPage"],
            "start": info["startCursor"], "end": info["endCursor"] });
        let want = json!({ "len": len, "total": total, "prev": prev, "next": next,
            "start": edges[0]["cursor"], "end": edges[len - 1]["cursor"] });
        assert_eq!(got, want, "page {conn}");
    }

    /// Every node, front to back, in pages of `size`.
    async fn forward(&self, size: usize, total: usize) -> Vec<Value> {
        let (mut nodes, mut after) = (Vec::new(), Value::Null);
        for _ in 0..=total {
            let conn = self.page(json!({ "first": size, "after": after })).await;
            let left = total - nodes.len();
            Self::check(&conn, left.min(size), !nodes.is_empty(), left > size, total);
            nodes.extend(nodes_of(&conn));
            if conn["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = conn["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(nodes.len(), total, "forward walk ended early or late");
        nodes
    }

    /// Every node, back to front, in pages of `size`; returned in list order.
    async fn backward(&self, size: usize, total: usize) -> Vec<Value> {
        let (mut nodes, mut before) = (Vec::new(), Value::Null);
        for _ in 0..=total {
            let conn = self.page(json!({ "last": size, "before": before })).await;
            let left = total - nodes.len();
            Self::check(&conn, left.min(size), left > size, !nodes.is_empty(), total);
            nodes.splice(0..0, nodes_of(&conn));
            if conn["pageInfo"]["hasPreviousPage"] != json!(true) {
                break;
            }
            before = conn["pageInfo"]["startCursor"].clone();
        }
        assert_eq!(nodes.len(), total, "backward walk ended early or late");
        nodes
    }
}

#[tokio::test]
async fn viewer_and_organization_read_the_caller_and_its_tenant() {
    let (app, org, owner, token) = setup().await;
    let q = "{ viewer { id name email role developer { id } }
        organization { id name slug timeZone createdAt } }";
    let mut data = app.gql(&token, q, json!({})).await.ok().clone();
    let o = row(&app, organization::Entity::find_by_id(org.uuid())).await;
    let created = take_time(&mut data["organization"], "createdAt");
    assert_eq!(created, o.created_at);
    let me = owner.id.to_global().0;
    let expected = json!({
        "viewer": { "id": me, "name": "Owner Person", "email": owner.email, "role": "OWNER",
            "developer": { "id": me } },
        "organization": { "id": org.to_global().0, "name": o.name, "slug": "acme",
            "timeZone": o.time_zone } });
    assert_eq!(data, expected);
}

#[tokio::test]
async fn root_and_organization_lists_return_every_row_by_name() {
    let (app, org, _, token) = setup().await;
    let space = app.team_space(org, "Zeta").await;
    app.team_space(org, "Alpha").await;
    app.developer(org, "Mia", DeveloperRole::Member).await;
    app.developer(org, "Ann", DeveloperRole::Viewer).await;
    app.project(org, Some(space), "Web").await;
    app.project(org, None, "Cli").await;
    let cases = [
        ("teamSpaces", sorted(&["Zeta", "Alpha"])),
        ("developers", sorted(&["Owner Person", "Mia", "Ann"])),
        ("projects", sorted(&["Web", "Cli"])),
    ];
    for (field, expected) in cases {
        let q = format!("{{ {field} {{ {CONN} }} organization {{ {field} {{ {CONN} }} }} }}");
        let data = app.gql(&token, &q, json!({})).await.ok().clone();
        assert_list(&data[field], &expected, field);
        assert_list(&data["organization"][field], &expected, field);
    }
}

#[tokio::test]
async fn lookups_by_id_return_every_scalar_field() {
    let (app, org, _, token) = setup().await;
    let space = app.team_space(org, "Build Infra").await;
    app.describe_team_space(org, space, "Owns it").await;
    let dev = app.developer(org, "Kim Lee", DeveloperRole::Admin).await;
    let proj = app.project(org, Some(space), "Pipeline").await;
    let s = row(&app, team_space::Entity::find_in(org)).await;
    let d = developer::Entity::find().filter(developer::Column::Id.eq(dev.id.uuid()));
    let d = row(&app, d).await;
    let p = row(&app, project::Entity::find_in(org)).await;
    let (sid, did) = (space.to_global().0, dev.id.to_global().0);
    let pid = proj.to_global().0;
    let q = "query($s: ID!, $d: ID!, $p: ID!) {
        teamSpace(id: $s) { id name slug description createdAt updatedAt }
        developer(id: $d) { id name email role active deactivatedAt createdAt }
        project(id: $p) { id name slug createdAt teamSpace { id } } }";
    let vars = json!({ "s": sid, "d": did, "p": pid });
    let mut data = app.gql(&token, q, vars).await.ok().clone();
    assert_eq!(take_time(&mut data["teamSpace"], "createdAt"), s.created_at);
    assert_eq!(take_time(&mut data["teamSpace"], "updatedAt"), s.updated_at);
    assert_eq!(take_time(&mut data["developer"], "createdAt"), d.created_at);
    assert_eq!(take_time(&mut data["project"], "createdAt"), p.created_at);
    let expected = json!({
        "teamSpace": { "id": sid, "name": "Build Infra", "slug": s.slug, "description": "Owns it" },
        "developer": { "id": did, "name": "Kim Lee", "email": dev.email, "role": "ADMIN",
            "active": true, "deactivatedAt": null },
        "project": { "id": pid, "name": "Pipeline", "slug": p.slug, "teamSpace": { "id": sid } } });
    assert_eq!(data, expected);
}

#[tokio::test]
async fn nested_lists_link_team_spaces_developers_and_projects() {
    let (app, org, _, token) = setup().await;
    let web = app.team_space(org, "Web").await;
    let ops = app.team_space(org, "Ops").await;
    let both = app.developer(org, "Both Ways", DeveloperRole::Member).await;
    let solo = app.developer(org, "Ada Solo", DeveloperRole::Member).await;
    app.member(org, web, both.id, TeamSpaceRole::Lead).await;
    app.member(org, ops, both.id, TeamSpaceRole::Member).await;
    app.member(org, web, solo.id, TeamSpaceRole::Member).await;
    app.project(org, Some(web), "Site").await;
    app.project(org, Some(web), "Blog").await;
    app.project(org, Some(ops), "Pager").await;
    let orphan = app.project(org, None, "Orphan").await;
    let q = format!(
        "query($web: ID!, $both: ID!, $orphan: ID!) {{
        teamSpace(id: $web) {{ developers {{ {CONN} }} projects {{ {CONN} }} }}
        developer(id: $both) {{ teamSpaces {{ {CONN} }} }}
        project(id: $orphan) {{ teamSpace {{ id }} }}
        projects {{ nodes {{ name teamSpace {{ id name }} }} }} }}"
    );
    let (w, o) = (web.to_global().0, ops.to_global().0);
    let vars = json!({ "web": w, "both": both.id.to_global().0, "orphan": orphan.to_global().0 });
    let data = app.gql(&token, &q, vars).await.ok().clone();
    let space = &data["teamSpace"];
    let devs = sorted(&["Both Ways", "Ada Solo"]);
    assert_list(&space["developers"], &devs, "developers");
    assert_list(&space["projects"], &sorted(&["Site", "Blog"]), "projects");
    let spaces = sorted(&["Web", "Ops"]);
    assert_list(&data["developer"]["teamSpaces"], &spaces, "teamSpaces");
    assert_eq!(data["project"]["teamSpace"], Value::Null, "no team space");
    let w = json!({ "id": w, "name": "Web" });
    let o = json!({ "id": o, "name": "Ops" });
    let all = json!([{ "name": "Blog", "teamSpace": w }, { "name": "Orphan", "teamSpace": null },
        { "name": "Pager", "teamSpace": o }, { "name": "Site", "teamSpace": w }]);
    assert_eq!(data["projects"]["nodes"], all);
}

#[tokio::test]
async fn deactivated_developer_reads_inactive_with_its_timestamp() {
    let (app, org, owner, token) = setup().await;
    let gone = app.developer(org, "Gone Dev", DeveloperRole::Member).await;
    let when = Utc.with_ymd_and_hms(2024, 3, 4, 5, 6, 7).unwrap();
    raw_deactivate_at(&app, gone.id, when).await;
    let q = "query($a: ID!, $b: ID!) { a: developer(id: $a) { active deactivatedAt }
        b: developer(id: $b) { active deactivatedAt } }";
    let vars = json!({ "a": gone.id.to_global().0, "b": owner.id.to_global().0 });
    let mut data = app.gql(&token, q, vars).await.ok().clone();
    assert_eq!(take_time(&mut data["a"], "deactivatedAt"), when);
    let expected = json!({ "a": { "active": false },
        "b": { "active": true, "deactivatedAt": null } });
    assert_eq!(data, expected);
}

/// Creation order differs from name order.
#[rustfmt::skip]
const SHUFFLED: [&str; 7] = ["Item E", "Item B", "Item G", "Item A", "Item D", "Item F", "Item C"];

/// Walks `query` forward and backward by name (pages of 3) and by creation
/// (pages of 2); `ORDER` in the query stands for the order field.
async fn walk_both_orders(app: &TestApp, token: &str, query: &str, pointer: &str, vars: Value) {
    #[rustfmt::skip]
    let orders = [("NAME", sorted(&SHUFFLED), 3), ("CREATED_AT", owned(&SHUFFLED), 2)];
    for (order, expected, size) in orders {
        let query = query.replace("ORDER", order);
        let vars = vars.clone();
        let pager = Pager(app, token, query, pointer, vars);
        let forward = pager.forward(size, 7).await;
        assert_eq!(pluck(&forward, "name"), expected, "forward by {order}");
        let backward = pager.backward(size, 7).await;
        assert_eq!(pluck(&backward, "name"), expected, "backward by {order}");
    }
}

#[tokio::test]
async fn top_level_list_pages_forward_and_backward_by_name_and_by_creation() {
    let (app, org, _, token) = setup().await;
    for name in SHUFFLED {
        app.team_space(org, name).await;
    }
    let list = format!("teamSpaces({PAGE_VARS}, orderBy: {{field: ORDER}}) {{ {CONN} }}");
    let query = format!("query({PAGE_ARGS}) {{ {list} }}");
    walk_both_orders(&app, &token, &query, "/teamSpaces", json!({})).await;
}

#[tokio::test]
async fn nested_list_pages_forward_and_backward_by_name_and_by_creation() {
    let (app, org, owner, token) = setup().await;
    let space = app.team_space(org, "Big").await;
    let other = app.team_space(org, "Other").await;
    for name in SHUFFLED {
        let dev = app.developer(org, name, DeveloperRole::Member).await;
        app.member(org, space, dev.id, TeamSpaceRole::Member).await;
    }
    app.member(org, other, owner.id, TeamSpaceRole::Lead).await;
    let list = format!("developers({PAGE_VARS}, orderBy: {{field: ORDER}}) {{ {CONN} }}");
    let query = format!("query({PAGE_ARGS}, $s: ID!) {{ teamSpace(id: $s) {{ {list} }} }}");
    let vars = json!({ "s": space.to_global().0 });
    walk_both_orders(&app, &token, &query, "/teamSpace/developers", vars).await;
}

#[tokio::test]
async fn order_by_direction_desc_reverses_name_and_creation_order() {
    let (app, org, _, token) = setup().await;
    let space = app.team_space(org, "Holder").await;
    for name in SHUFFLED {
        app.project(org, Some(space), name).await;
    }
    let mut by_name_desc = sorted(&SHUFFLED);
    by_name_desc.reverse();
    let mut by_created_desc = owned(&SHUFFLED);
    by_created_desc.reverse();
    let cases = [
        ("{field: NAME, direction: DESC}", by_name_desc),
        ("{field: CREATED_AT}", owned(&SHUFFLED)),
        ("{field: CREATED_AT, direction: DESC}", by_created_desc),
    ];
    for (order, expected) in cases {
        let list = format!("projects(orderBy: {order}) {{ {CONN} }}");
        let q = format!("query($s: ID!) {{ {list} teamSpace(id: $s) {{ {list} }} }}");
        let vars = json!({ "s": space.to_global().0 });
        let data = app.gql(&token, &q, vars).await.ok().clone();
        assert_list(&data["projects"], &expected, order);
        assert_list(&data["teamSpace"]["projects"], &expected, order);
    }
}

#[tokio::test]
async fn equal_names_are_ordered_by_id_and_each_appears_once_across_pages() {
    let (app, org, _, token) = setup().await;
    let mut rows = Vec::new();
    for name in ["Twin", "Alpha", "Twin", "Zulu"] {
        rows.push((name, app.team_space(org, name).await));
    }
    rows.sort_by_key(|(name, id)| (*name, id.uuid()));
    let expected: Vec<String> = rows.iter().map(|(_, id)| id.to_global().0).collect();
    let query = format!("query({PAGE_ARGS}) {{ teamSpaces({PAGE_VARS}) {{ {CONN} }} }}");
    let pager = Pager(&app, &token, query, "/teamSpaces", json!({}));
    let forward = pager.forward(1, 4).await;
    assert_eq!(pluck(&forward, "id"), expected, "forward");
    let backward = pager.backward(1, 4).await;
    assert_eq!(pluck(&backward, "id"), expected, "backward");
}

/// A developer fixture: name, role, classified into the space, active.
type Fx = (&'static str, DeveloperRole, bool, bool);

/// A filter, whether it applies to TeamSpace.developers rather than the
/// root list, and which fixtures it keeps.
type FilterCase = (&'static str, bool, fn(&Fx) -> bool);

#[tokio::test]
async fn developer_filters_narrow_the_list_and_its_total_count() {
    use DeveloperRole::*;
    let (app, org, _, token) = setup().await;
    let space = app.team_space(org, "Core").await;
    #[rustfmt::skip]
    let fx: [Fx; 7] = [
        ("Owner Person", Owner, false, true), ("Alice Smith", Admin, true, true),
        ("alicia keys", Member, true, true), ("Bob Jones", Viewer, true, false),
        ("100% Dev", Member, false, true), ("Under_score", Admin, false, true),
        ("Underscore", Member, true, true),
    ];
    for &(name, role, in_space, active) in &fx[1..] {
        let dev = app.developer(org, name, role).await;
        if in_space {
            app.member(org, space, dev.id, TeamSpaceRole::Member).await;
        }
        if !active {
            app.deactivate(&dev).await;
        }
    }
    #[rustfmt::skip]
    let cases: [FilterCase; 11] = [
        (r#"nameContains: "ALI""#, false, |f| f.0.to_lowercase().contains("ali")),
        (r#"nameContains: "%""#, false, |f| f.0.contains('%')),
        (r#"nameContains: "_""#, false, |f| f.0.contains('_')),
        ("role: ADMIN", false, |f| f.1 == Admin),
        ("teamSpaceId: SPACE", false, |f| f.2),
        ("active: false", false, |f| !f.3),
        ("active: true", false, |f| f.3),
        ("teamSpaceId: SPACE, active: true, role: MEMBER", false, |f| f.2 && f.3 && f.1 == Member),
        ("role: ADMIN", true, |f| f.1 == Admin),
        (r#"nameContains: "SCO""#, true, |f| f.0.to_lowercase().contains("sco")),
        ("active: false", true, |f| !f.3),
    ];
    let sid = format!("\"{}\"", space.to_global().0);
    for (filter, nested, keep) in cases {
        let kept = fx.iter().filter(|f| keep(f) && (!nested || f.2));
        let expected = sorted(&kept.map(|f| f.0).collect::<Vec<_>>());
        let list = format!("developers(filter: {{{filter}}}) {{ {CONN} }}");
        let (query, pointer) = match nested {
            false => (format!("{{ {list} }}"), "/developers"),
            true => (
                format!("{{ teamSpace(id: SPACE) {{ {list} }} }}"),
                "/teamSpace/developers",
            ),
        };
        let query = query.replace("SPACE", &sid);
        let conn = at(&app, &token, &query, json!({}), pointer).await;
        assert_list(&conn, &expected, &format!("{pointer} {filter}"));
    }
}

#[tokio::test]
async fn project_and_team_space_filters_narrow_the_list_and_its_total_count() {
    let (app, org, _, token) = setup().await;
    let core = app.team_space(org, "Platform Core").await;
    let edge = app.team_space(org, "platform edge").await;
    app.team_space(org, "Mobile").await;
    app.project(org, Some(core), "Api Gateway").await;
    app.project(org, Some(edge), "api docs").await;
    app.project(org, Some(core), "Mobile App").await;
    app.project(org, None, "Orphan 50%").await;
    // (list with its filter, at the root or in the "Platform Core" space, expected names)
    #[rustfmt::skip]
    let cases: [(&str, bool, &[&str]); 8] = [
        ("projects(filter: {teamSpaceId: CORE})", false, &["Api Gateway", "Mobile App"]),
        ("projects(filter: {teamSpaceId: EDGE})", false, &["api docs"]),
        (r#"projects(filter: {nameContains: "API"})"#, false, &["Api Gateway", "api docs"]),
        (r#"projects(filter: {nameContains: "%"})"#, false, &["Orphan 50%"]),
        (r#"projects(filter: {teamSpaceId: CORE, nameContains: "app"})"#, false, &["Mobile App"]),
        (r#"teamSpaces(filter: {nameContains: "PLATFORM"})"#, false, &["Platform Core", "platform edge"]),
        (r#"teamSpaces(filter: {nameContains: "_"})"#, false, &[]),
        (r#"projects(filter: {nameContains: "GATE"})"#, true, &["Api Gateway"]),
    ];
    let c = format!("\"{}\"", core.to_global().0);
    let e = format!("\"{}\"", edge.to_global().0);
    for (list, nested, expected) in cases {
        let field = list.split('(').next().unwrap();
        let (query, pointer) = match nested {
            false => (format!("{{ {list} @ }}"), format!("/{field}")),
            true => (
                format!("{{ teamSpace(id: CORE) {{ {list} @ }} }}"),
                format!("/teamSpace/{field}"),
            ),
        };
        let query = query.replace("CORE", &c).replace("EDGE", &e);
        let query = query.replace('@', &format!("{{ {CONN} }}"));
        let conn = at(&app, &token, &query, json!({}), &pointer).await;
        assert_list(&conn, &sorted(expected), list);
    }
}

/// An organization with `n` team spaces; returns the owner's token.
async fn with_spaces(n: usize) -> (TestApp, String) {
    let (app, org, _, token) = setup().await;
    for i in 0..n {
        app.team_space(org, &format!("Space {i:03}")).await;
    }
    (app, token)
}

#[tokio::test]
async fn first_defaults_to_twenty_when_omitted() {
    let (app, token) = with_spaces(22).await;
    let q = format!("{{ teamSpaces {{ {CONN} }} }}");
    let conn = at(&app, &token, &q, json!({}), "/teamSpaces").await;
    let first_20: Vec<String> = (0..20).map(|i| format!("Space {i:03}")).collect();
    assert_eq!(names(&conn), first_20);
    assert_eq!(conn["totalCount"], json!(22));
    assert_eq!(conn["pageInfo"]["hasNextPage"], json!(true));
}

#[tokio::test]
async fn first_zero_gives_no_edges_but_the_full_total_count() {
    let (app, token) = with_spaces(3).await;
    let q = format!("{{ teamSpaces(first: 0) {{ {CONN} }} }}");
    let conn = at(&app, &token, &q, json!({}), "/teamSpaces").await;
    assert_eq!(conn["edges"], json!([]));
    assert_eq!(conn["totalCount"], json!(3));
}

#[tokio::test]
async fn first_100_is_allowed_and_first_101_is_limit_exceeded() {
    let (app, token) = with_spaces(101).await;
    let q = "{ teamSpaces(first: 100) { totalCount edges { cursor } } }";
    let conn = at(&app, &token, q, json!({}), "/teamSpaces").await;
    assert_eq!(conn["edges"].as_array().unwrap().len(), 100);
    assert_eq!(conn["totalCount"], json!(101));
    let q = "{ teamSpaces(first: 101) { totalCount } }";
    let reply = app.gql(&token, q, json!({})).await;
    assert_eq!(reply.codes(), ["LIMIT_EXCEEDED"]);
    // The connection is non-null: its error nulls the whole data.
    assert_eq!(reply.data(), &Value::Null);
}

const NODE: &str = "__typename id ... on Organization { name slug } ... on Developer { name email }
    ... on TeamSpace { name slug } ... on Project { name slug }";

/// One node of each type, as `node` should answer it.
async fn one_of_each() -> (TestApp, String, Vec<Value>) {
    let (app, org, owner, token) = setup().await;
    let space = app.team_space(org, "Web").await;
    let proj = app.project(org, Some(space), "Site").await;
    let o = row(&app, organization::Entity::find_by_id(org.uuid())).await;
    let s = row(&app, team_space::Entity::find_in(org)).await;
    let p = row(&app, project::Entity::find_in(org)).await;
    let (oid, did) = (org.to_global().0, owner.id.to_global().0);
    let (sid, pid) = (space.to_global().0, proj.to_global().0);
    let nodes = vec![
        json!({ "__typename": "Organization", "id": oid, "name": o.name, "slug": o.slug }),
        json!({ "__typename": "Developer", "id": did, "name": "Owner Person", "email": owner.email }),
        json!({ "__typename": "TeamSpace", "id": sid, "name": "Web", "slug": s.slug }),
        json!({ "__typename": "Project", "id": pid, "name": "Site", "slug": p.slug }),
    ];
    (app, token, nodes)
}

#[tokio::test]
async fn node_resolves_every_type_by_its_global_id() {
    let (app, token, nodes) = one_of_each().await;
    let q = format!("query($id: ID!) {{ node(id: $id) {{ {NODE} }} }}");
    for expected in nodes {
        let got = at(&app, &token, &q, json!({ "id": expected["id"] }), "/node").await;
        assert_eq!(got, expected);
    }
}

#[tokio::test]
async fn nodes_keep_the_order_of_ids_and_give_null_for_missing_ones() {
    let (app, token, nodes) = one_of_each().await;
    let missing = [
        OrgId::new().to_global().0,
        DeveloperId::new().to_global().0,
        TeamSpaceId::new().to_global().0,
        ProjectId::new().to_global().0,
    ];
    // Reversed, each followed by a missing id (of every type in turn).
    let (mut ids, mut expected) = (Vec::new(), Vec::new());
    for (node, gone) in nodes.iter().rev().zip(missing) {
        ids.extend([node["id"].clone(), json!(gone)]);
        expected.extend([node.clone(), Value::Null]);
    }
    let q = format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE} }} }}");
    let got = at(&app, &token, &q, json!({ "ids": ids }), "/nodes").await;
    assert_eq!(got, Value::Array(expected));
}

#[tokio::test]
async fn team_space_lookup_of_a_missing_id_is_null_with_not_found() {
    let (app, _, _, token) = setup().await;
    let q = "query($id: ID!) { teamSpace(id: $id) { id } }";
    let vars = json!({ "id": TeamSpaceId::new().to_global().0 });
    let reply = app.gql(&token, q, vars).await;
    assert_eq!(reply.codes(), ["NOT_FOUND"]);
    let body = &reply.body;
    assert_eq!(reply.data(), &json!({ "teamSpace": null }), "{body}");
}

/// A cursor is client input: forged ones (a key of the wrong type for the
/// order, or garbage) are BAD_USER_INPUT before they reach SQL, and the
/// message does not echo them back.
#[tokio::test]
async fn forged_cursors_are_bad_input_and_not_echoed() {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let (app, _, _, token) = setup().await;
    let forge = |cursor: Value| URL_SAFE_NO_PAD.encode(cursor.to_string());
    let id = uuid::Uuid::now_v7();
    let cursors = [
        // Ordered by name, keyed by a time: a text column compared with a
        // timestamp (INTERNAL on PostgreSQL before).
        forge(json!({ "field": "N", "key": { "Time": "2026-01-01T00:00:00Z" }, "id": id })),
        forge(json!({ "field": "C", "key": { "Text": "zzz" }, "id": id })),
        format!("not-a-cursor-{}", "x".repeat(2000)),
    ];
    for (order, cursor) in ["NAME", "CREATED_AT", "NAME"].into_iter().zip(cursors) {
        let q = format!(
            "query($after: String) {{ developers(first: 5, after: $after, \
             orderBy: {{ field: {order} }}) {{ totalCount }} }}"
        );
        let r = app.gql(&token, &q, json!({ "after": cursor })).await;
        assert_eq!(r.code(), Some("BAD_USER_INPUT"), "{order}: {:?}", r.body);
        let message = r.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.len() < 200, "the cursor is not echoed: {message}");
    }
}
