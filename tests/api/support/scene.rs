//! The shared setup of the mutation tests: a server with a `World` and its
//! owner's token, table macros, and small JSON helpers.

use devgraph::ids;
use entity::audit_log;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{
    Dev, Gid, Reply, TestApp, gql,
    ops::{self, Refusal, refusals},
    snapshot::{Snapshot, check_unchanged, snapshot},
    world::World,
};

/// Rows of `"mutation" { json input } [=> "field"];` as
/// `Vec<(&str, Value, Option<&str>)>`; an input may also be `(expression)`.
macro_rules! rows {
    ($($m:literal $input:tt $(=> $field:literal)?;)*) => {
        vec![$(($m, ::serde_json::json!($input), None::<&'static str>$(.or(Some($field)))?)),*]
    };
}

/// Rows of `{ json } => json;` as `Vec<(Value, Value)>`.
macro_rules! pairs {
    ($($a:tt => $b:tt;)*) => {
        vec![$((::serde_json::json!($a), ::serde_json::json!($b))),*]
    };
}
pub(crate) use {pairs, rows};

pub type Rows = Vec<(&'static str, Value, Option<&'static str>)>;

/// A server, the world of `World::build` ("acme") and its owner's token.
pub struct Scene {
    pub app: TestApp,
    pub w: World,
    pub token: String,
}

impl Scene {
    pub async fn new() -> Scene {
        let app = TestApp::spawn().await;
        let w = World::build(&app, "acme").await;
        let token = app.token_for(&w.owner);
        Scene { app, w, token }
    }

    /// As the owner: must succeed and write one audit row.
    pub async fn run(&self, m: &str, input: Value) -> (Value, audit_log::Model) {
        ops::run(&self.app, self.w.org, &self.token, m, input).await
    }

    /// A query as the owner that must succeed.
    pub async fn read(&self, q: &str, vars: Value) -> Value {
        ops::query(&self.app, &self.token, q, vars).await
    }

    /// An audit row of the owner's.
    pub fn audited(&self, row: &audit_log::Model, action: &str, target: Uuid) {
        ops::assert_audit(row, action, target, &self.w.owner);
    }

    pub async fn snapshot(&self) -> Snapshot {
        snapshot(&self.app, self.w.org).await
    }

    /// Each row refused (as the owner) with `code` and its field, changing nothing.
    pub async fn refuse(&self, code: &'static str, rows: Rows) {
        let cases = rows.into_iter().map(|(mutation, input, field)| {
            let token = self.token.clone();
            Refusal {
                token,
                mutation,
                input,
                code,
                field,
            }
        });
        assert_failures(refusals(&self.app, self.w.org, cases.collect()).await);
    }
}

/// One server with organizations `org-a` and `org-b`.
pub async fn two_tenants() -> (TestApp, World, World) {
    let app = TestApp::spawn().await;
    let a = World::build(&app, "org-a").await;
    let b = World::build(&app, "org-b").await;
    (app, a, b)
}

pub fn assert_failures(failures: Vec<String>) {
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `{teamSpaceId, developerId}`.
pub fn pair(space: impl Gid, dev: &Dev) -> Value {
    json!({ "teamSpaceId": space.gid(), "developerId": dev.gid() })
}

pub fn by_id(id: impl Gid) -> Value {
    json!({ "id": id.gid() })
}

/// Rows of a snapshot table that mention `id`.
pub fn rows_with(snap: &Snapshot, table: &str, id: Uuid) -> usize {
    let id = id.to_string();
    snap[table].iter().filter(|row| row.contains(&id)).count()
}

/// `key` of every node.
pub fn pluck(nodes: &[Value], key: &str) -> Vec<Value> {
    nodes.iter().map(|n| n[key].clone()).collect()
}

/// Org A's owner sends `input`, which holds one of org B's ids (`foreign`):
/// NOT_FOUND, neither organization changes, and the answer reads exactly
/// like the one for a fresh missing id of the same type. One line per deviation.
pub async fn foreign_id_case(
    app: &TestApp,
    (a, b): (&World, &World),
    mutation: &str,
    input: Value,
    foreign: &str,
) -> Vec<String> {
    let token = app.token_for(&a.owner);
    let (kind, _) = ids::decode(foreign).expect("a global id");
    let missing = ids::encode(kind, Uuid::now_v7()).0;
    let (before_a, before_b) = (snapshot(app, a.org).await, snapshot(app, b.org).await);
    let reply = gql::mutate(app, &token, mutation, input.clone()).await;
    let mut errs = vec![gql::check_refused(&reply, mutation, "NOT_FOUND")];
    let a_same = check_unchanged(app, a.org, &before_a).await;
    errs.push(a_same.map_err(|e| format!("org A: {e}")));
    let b_same = check_unchanged(app, b.org, &before_b).await;
    errs.push(b_same.map_err(|e| format!("org B: {e}")));
    let text = input.to_string().replace(foreign, &missing);
    let other = gql::mutate(app, &token, mutation, serde_json::from_str(&text).unwrap()).await;
    let blank = |r: &Reply, id: &str| r.body.to_string().replace(id, "<id>");
    if blank(&reply, foreign) != blank(&other, &missing) {
        let (f, m) = (&reply.body, &other.body);
        errs.push(Err(format!(
            "foreign and missing ids answer differently: {f} vs {m}"
        )));
    }
    let request = gql::document(mutation, &input);
    let errs = errs.into_iter().filter_map(Result::err);
    errs.map(|e| format!("{request}\n  {e}")).collect()
}
