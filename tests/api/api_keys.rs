//! API keys end to end: created with `createApiKey` (the secret shown once,
//! only a hash stored), used as `Authorization: Bearer dg_<prefix>_<secret>`
//! to read the key's organization as a viewer, never to mutate; a key
//! without READ is 403, a wrong, unknown or revoked key 401.

use entity::scoped::InOrg as _;
use std::time::Duration;

use crate::support::{
    Gid, Key, Reply, TestApp,
    gql::{self, text},
    ops::{Refusal, assert_audit, refusals, run, uuid_of},
    rows,
    scene::{Scene, assert_failures, by_id, two_tenants},
    snapshot::{check_unchanged, snapshot},
    try_create_key,
    world::World,
};
use entity::{api_key, api_key_prefix};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

const KEYS: &str = "{ organization { apiKeys(first: 50) { totalCount
    nodes { id name prefix scopes project { id } createdAt lastUsedAt revokedAt } } } }";
const READ: &str = "{ organization { id slug } teamSpaces { totalCount } }";

/// The part of a full key after `dg_<prefix>_`.
fn secret_part(key: &Key) -> &str {
    let head = format!("dg_{}_", key.prefix);
    key.secret
        .strip_prefix(&head)
        .unwrap_or_else(|| panic!("{key:?} is not {head}…"))
}

async fn key_row(app: &TestApp, w: &World, key: &Key) -> api_key::Model {
    let row = api_key::Entity::find_in(w.org);
    let row = row.filter(api_key::Column::Id.eq(uuid_of(&key.id)));
    row.one(app.db()).await.unwrap().expect("api key row")
}

fn assert_status(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "status: {}", reply.body);
    assert_eq!(reply.codes(), [code], "codes: {}", reply.body);
    assert!(reply.body["data"].is_null(), "no data: {}", reply.body);
    gql::check_no_sql(reply).unwrap();
}

#[tokio::test]
async fn a_created_key_shows_its_secret_once_and_stores_only_a_hash() {
    let t = Scene::new().await;
    let input = json!({ "name": "CI", "scopes": ["READ"] });
    let (p, audit) = run(&t.app, t.w.org, &t.token, "createApiKey", input).await;
    let key = Key {
        id: text(&p, "/apiKey/id").to_owned(),
        prefix: text(&p, "/apiKey/prefix").to_owned(),
        secret: text(&p, "/secret").to_owned(),
    };
    let tail = secret_part(&key);
    assert!(tail.len() >= 20, "a secret of some length: {tail:?}");
    let k = &p["apiKey"];
    let got = json!([
        k["name"],
        k["scopes"],
        k["project"],
        k["lastUsedAt"],
        k["revokedAt"]
    ]);
    assert_eq!(got, json!(["CI", ["READ"], null, null, null]));
    assert!(k["createdAt"].is_string(), "{k}");
    assert_audit(&audit, "api_key.create", uuid_of(&key.id), &t.w.owner);
    // Never again: not in the listing, the audit log or any row of the organization.
    let listing = t.read(KEYS, json!({})).await;
    let nodes = listing["organization"]["apiKeys"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let listed = nodes
        .iter()
        .find(|n| n["id"] == key.id.as_str())
        .expect("listed");
    assert_eq!(
        (&listed["prefix"], &listed["name"]),
        (&json!(key.prefix), &json!("CI"))
    );
    let q = "{ organization { auditLog(first: 50) { nodes { details } } } }";
    let log = t.read(q, json!({})).await;
    let snap = serde_json::to_string(&snapshot(&t.app, t.w.org).await).unwrap();
    for (what, text) in [
        ("listing", listing.to_string()),
        ("audit", log.to_string()),
        ("db", snap),
    ] {
        assert!(!text.contains(tail), "the secret shows in the {what}");
    }
    let q = r#"{ __type(name: "ApiKey") { fields { name } } }"#;
    let fields = t.read(q, json!({})).await.to_string().to_lowercase();
    assert!(
        !fields.contains("secret") && !fields.contains("hash"),
        "{fields}"
    );
    // The database holds a hash, the prefix lookup and the creator.
    let row = key_row(&t.app, &t.w, &key).await;
    assert!(row.secret_hash != key.secret && !row.secret_hash.contains(tail));
    assert_eq!(
        (row.prefix.as_str(), row.created_by),
        (key.prefix.as_str(), Some(t.w.owner.id.uuid()))
    );
    let lookup = api_key_prefix::Entity::find_by_id(key.prefix.clone())
        .one(t.app.db())
        .await;
    let lookup = lookup.unwrap().expect("prefix row");
    assert_eq!(
        (lookup.organization_id, lookup.api_key_id),
        (t.w.org.uuid(), row.id)
    );
}

#[tokio::test]
async fn a_read_key_reads_its_organization_as_a_viewer_and_is_stamped() {
    let t = Scene::new().await;
    let key = t.w.read_key.clone().unwrap();
    assert_eq!(
        key_row(&t.app, &t.w, &key).await.last_used_at,
        None,
        "unused yet"
    );
    let reply = t.app.gql(&key.secret, READ, json!({})).await;
    let data = reply.ok();
    assert_eq!(data["organization"]["slug"], "acme");
    assert_eq!(data["teamSpaces"]["totalCount"], 3);
    let reply = t.app.gql(&key.secret, "{ viewer { id } }", json!({})).await;
    assert_eq!(
        reply.codes(),
        ["FORBIDDEN"],
        "a key is no developer: {}",
        reply.body
    );
    let mut stamped = None;
    for _ in 0..20 {
        stamped = key_row(&t.app, &t.w, &key).await.last_used_at;
        if stamped.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stamped.is_some(), "last_used_at set after use");
    let listing = t.read(KEYS, json!({})).await;
    let nodes = listing["organization"]["apiKeys"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let listed = nodes.iter().find(|n| n["id"] == key.id.as_str()).unwrap();
    assert!(listed["lastUsedAt"].is_string(), "lastUsedAt: {listed}");
}

#[tokio::test]
async fn a_key_never_mutates_anything() {
    let t = Scene::new().await;
    let scopes = ["READ", "EVENTS_WRITE"];
    // Bound to a project: even then, events go to /v1/events, not recordEvents.
    let project = Some(t.w.project.gid());
    let both = try_create_key(&t.app, &t.token, "both", &scopes, project)
        .await
        .unwrap();
    let now = chrono::Utc::now().to_rfc3339();
    let event = json!({ "id": "k-1", "name": "commit", "occurredAt": now });
    let read = t.w.read_key.clone().unwrap();
    let cases = rows! {
        "createTeamSpace" { "name": "K", "slug": "k" };
        "updateOrganization" { "name": "Hijacked" };
        "createApiKey" { "name": "more", "scopes": ["READ", "EVENTS_WRITE"] };
        "revokeApiKey" { "id": read.id };
        "deleteProject" (by_id(t.w.project));
        "updateDeveloper" (json!({ "id": t.w.owner.gid(), "name": "Pwned" }));
        "recordEvents" (json!({ "projectId": t.w.project.gid(), "events": [event] }));
    };
    let mut asks = Vec::new();
    for key in [&read, &both] {
        for (mutation, input, _) in cases.clone() {
            asks.push(Refusal::new(&key.secret, mutation, input, "FORBIDDEN"));
        }
    }
    assert_failures(refusals(&t.app, t.w.org, asks).await);
}

#[tokio::test]
async fn a_key_without_read_is_403_on_graphql() {
    let t = Scene::new().await;
    let key = try_create_key(&t.app, &t.token, "ingest", &["EVENTS_WRITE"], None)
        .await
        .unwrap();
    assert_status(
        &t.app.gql(&key.secret, READ, json!({})).await,
        403,
        "FORBIDDEN",
    );
    let before = t.snapshot().await;
    let m = gql::document("createTeamSpace", &json!({ "name": "K", "slug": "k" }));
    assert_status(
        &t.app.gql(&key.secret, &m, json!({})).await,
        403,
        "FORBIDDEN",
    );
    check_unchanged(&t.app, t.w.org, &before).await.unwrap();
}

#[tokio::test]
async fn wrong_unknown_or_mangled_secrets_are_401() {
    let t = Scene::new().await;
    let key = t.w.read_key.clone().unwrap();
    let tail = secret_part(&key);
    let flipped: String = tail.chars().rev().collect();
    let candidates = [
        format!("dg_{}_{}", key.prefix, flipped),
        format!("dg_{}_{}x", key.prefix, tail),
        format!("dg_{}_", key.prefix),
        format!("dg_{}", key.prefix),
        format!("dg_zzzz{}_{}", key.prefix, tail),
        format!("dg_{}_{}", key.prefix.to_uppercase(), tail),
        "dg_".to_owned(),
    ];
    for secret in candidates.iter().filter(|s| **s != key.secret) {
        let reply = t.app.gql(secret, READ, json!({})).await;
        assert_status(&reply, 401, "UNAUTHENTICATED");
    }
    // The real key still works.
    t.app.gql(&key.secret, READ, json!({})).await.ok();
}

#[tokio::test]
async fn a_revoked_key_is_refused_on_the_next_request() {
    let t = Scene::new().await;
    let key = t.w.read_key.clone().unwrap();
    t.app.gql(&key.secret, READ, json!({})).await.ok();
    let (p, audit) = t.run("revokeApiKey", json!({ "id": key.id })).await;
    assert_eq!(p["apiKey"]["id"], key.id.as_str());
    assert!(p["apiKey"]["revokedAt"].is_string(), "revokedAt set: {p}");
    t.audited(&audit, "api_key.revoke", uuid_of(&key.id));
    let reply = t.app.gql(&key.secret, READ, json!({})).await;
    assert_status(&reply, 401, "UNAUTHENTICATED");
    assert!(key_row(&t.app, &t.w, &key).await.revoked_at.is_some());
    let listing = t.read(KEYS, json!({})).await;
    let nodes = listing["organization"]["apiKeys"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let listed = nodes.iter().find(|n| n["id"] == key.id.as_str()).unwrap();
    assert!(
        listed["revokedAt"].is_string(),
        "listed as revoked: {listed}"
    );
    // The other key is untouched.
    let spare = t.w.spare_key.clone().unwrap();
    t.app.gql(&spare.secret, READ, json!({})).await.ok();
}

#[tokio::test]
async fn a_key_reads_only_its_own_organization() {
    let (app, a, b) = two_tenants().await;
    let key = a.read_key.clone().unwrap();
    let q = "{ organization { id slug } teamSpaces(first: 50) { nodes { id } }
        developers(first: 50) { nodes { id } } projects(first: 50) { nodes { id } } }";
    let data = app.gql(&key.secret, q, json!({})).await.ok().clone();
    assert_eq!(
        data["organization"],
        json!({ "id": a.org.gid(), "slug": "org-a" })
    );
    let text = data.to_string();
    let b_ids = [
        b.space.gid(),
        b.owner.gid(),
        b.target.gid(),
        b.project.gid(),
        b.org.gid(),
    ];
    for id in &b_ids {
        assert!(!text.contains(id.as_str()), "org B's {id} in {text}");
    }
    let q = "query($id: ID!) { teamSpace(id: $id) { id } node(id: $id) { id } }";
    let reply = app.gql(&key.secret, q, by_id(b.space)).await;
    assert_eq!(reply.codes(), ["NOT_FOUND"], "{}", reply.body);
    assert_eq!(
        reply.body["data"],
        json!({ "teamSpace": null, "node": null })
    );
    // Naming the other organization never switches a key to it.
    for header in [b.slug.as_str(), &b.org.gid()] {
        let req = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&key.secret);
        let req = req
            .header("x-organization", header)
            .json(&json!({ "query": READ }));
        let reply = TestApp::reply(req.send().await.unwrap()).await;
        let slug = &reply.body["data"]["organization"]["slug"];
        assert!(
            slug == "org-a" || reply.body["data"].is_null(),
            "{}",
            reply.body
        );
        assert!(!reply.body.to_string().contains("org-b"), "{}", reply.body);
    }
}

#[tokio::test]
async fn keys_may_be_bound_to_a_project_and_listed_by_admins_and_owners_only() {
    let t = Scene::new().await;
    let (project, scopes) = (t.w.project.gid(), json!(["EVENTS_WRITE", "READ"]));
    let input = json!({ "name": "deploy", "scopes": scopes, "projectId": project });
    let admin = t.app.token_for(&t.w.admin);
    let (p, audit) = run(&t.app, t.w.org, &admin, "createApiKey", input).await;
    assert_eq!(p["apiKey"]["project"], json!({ "id": project }));
    let mut got: Vec<String> = serde_json::from_value(p["apiKey"]["scopes"].clone()).unwrap();
    got.sort();
    assert_eq!(got, ["EVENTS_WRITE", "READ"]);
    assert_audit(
        &audit,
        "api_key.create",
        uuid_of(text(&p, "/apiKey/id")),
        &t.w.admin,
    );
    let listing = gql::ok(&t.app.gql(&admin, KEYS, json!({})).await, "organization");
    assert_eq!(
        listing["apiKeys"]["totalCount"], 3,
        "two world keys and this one"
    );
    let mut callers: Vec<String> = [&t.w.member, &t.w.viewer, &t.w.lead]
        .map(|d| t.app.token_for(d))
        .into();
    callers.push(t.w.read_key.clone().unwrap().secret);
    for token in callers {
        let reply = t.app.gql(&token, KEYS, json!({})).await;
        assert_eq!(reply.codes(), ["FORBIDDEN"], "{}", reply.body);
    }
}
